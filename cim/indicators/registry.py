"""The indicator registry: indicator name -> the function that computes it.

A compliance rule names an indicator (``indicator = "far"``); the check
(:func:`cim.check.check`) finds it here. A module adds an indicator by
decorating a function::

    from cim.indicators import Evaluation, register_indicator

    @register_indicator("sunlight_hours", unit="h", scopes=("dwelling", "building"),
                        params=None)
    def _sunlight_hours(ctx, rule):
        hours = sunlight_indicator(ctx.twin, rule)  # by building_id
        return hours.reindex(ctx.ids(rule.scope))

The function gets the :class:`~cim.indicators.context.Context` (twin, floor
areas, overlays, planning parameters) and the :class:`~cim.rules.Rule` being
evaluated (its ``scope``: ``site``, ``parcel``, ``building`` or
``dwelling``; its ``params`` table), and returns a :class:`pandas.Series`
indexed by ``ctx.ids(rule.scope)``, or an
:class:`Evaluation` that also says where the indicator does not apply, why a
value is missing, what produced each value (its ``basis``, e.g. the areas of
a ratio) and which inputs behind it are unverified. NaN means "not
computed": the check reports such rows as *not evaluated*, never as passed.

An indicator whose engine is not written yet is *declared* with the module
expected to provide it (``provider``). The check imports that module when a
rule needs the indicator; if it is missing, or registers nothing, the rule's
rows are *not evaluated*. So a new engine plugs in by registering its
indicator in its own module, without editing the check.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

if TYPE_CHECKING:
    from cim.indicators.context import Context
    from cim.rules.rulebook import Rule

__all__ = [
    "Evaluation",
    "Indicator",
    "available_indicators",
    "declare_indicator",
    "get_indicator",
    "pending_reason",
    "register_indicator",
]

#: Scopes an indicator may be computed for (as :data:`cim.rules.SCOPES`).
SCOPES = ("site", "parcel", "building", "dwelling")


@dataclass(frozen=True)
class Evaluation:
    """Values of an indicator for the features of one scope, with provenance.

    Parameters
    ----------
    values
        One value per feature, indexed by the scope's feature ids; NaN where
        not computed.
    applies
        Per feature, whether the indicator applies at all (e.g. no building
        lies south of the one measured); default everywhere.
    reason
        Per feature, why the value is missing or does not apply.
    unverified
        Per feature, the unverified inputs behind the value (rules not
        confirmed from the primary text, defaults, estimates); ``""`` if
        none. Labels are ``"; "``-joined, so a label contains no ``"; "``.
    basis
        Per feature, what produced the value, for a reader to retrace it:
        e.g. ``"counted 24,000.0 m2 / parcel 10,000.0 m2"`` for a ratio, or
        ``"set by toilet (nearest facility F9)"``; ``""`` where the indicator
        does not say. The check shows it on evaluated rows only (``reason``
        says why the others have no value).
    """

    values: pd.Series
    applies: pd.Series | None = None
    reason: pd.Series | None = None
    unverified: pd.Series | None = None
    basis: pd.Series | None = None


#: Signature of an indicator function: (context, rule) -> values.
IndicatorFunc = Callable[["Context", "Rule"], "Evaluation | pd.Series"]
_F = TypeVar("_F", bound=IndicatorFunc)


@dataclass(frozen=True)
class Indicator:
    """A registered indicator.

    Parameters
    ----------
    name
        Name used by rules, e.g. ``"far"``.
    unit
        Unit of its values, ``"-"`` if dimensionless.
    scopes
        Scopes it can be computed for.
    description
        What it measures.
    func
        The function computing it; ``None`` while its engine is pending.
    params
        Keys of a rule's ``params`` table it accepts; ``None`` accepts any.
    provider
        Module expected to register the function, for pending indicators.
    """

    name: str
    unit: str
    scopes: tuple[str, ...]
    description: str = ""
    func: IndicatorFunc | None = None
    params: tuple[str, ...] | None = ()
    provider: str | None = None

    @property
    def pending(self) -> bool:
        """Whether no function computes it yet."""
        return self.func is None


_REGISTRY: dict[str, Indicator] = {}
_IMPORT_ERRORS: dict[str, str] = {}


def _check_scopes(name: str, scopes: tuple[str, ...]) -> None:
    bad = [s for s in scopes if s not in SCOPES]
    if not scopes or bad:
        msg = (
            f"indicator {name!r}: invalid scopes {scopes!r}; expected some of "
            f"{', '.join(SCOPES)}"
        )
        raise ValueError(msg)


def register_indicator(
    name: str,
    *,
    unit: str,
    scopes: tuple[str, ...],
    description: str = "",
    params: tuple[str, ...] | None = (),
    replace_existing: bool = False,
) -> Callable[[_F], _F]:
    """Decorator registering an indicator function under ``name``.

    Parameters
    ----------
    name
        Indicator name used by rules.
    unit
        Unit of the values.
    scopes
        Scopes it can be computed for.
    description
        What it measures (defaults to the function's first docstring line).
    params
        Rule ``params`` keys it accepts (``None``: any).
    replace_existing
        Replace an indicator that already has a function. A *declared*
        (pending) indicator is always replaced.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.

    Raises
    ------
    ValueError
        If the name is taken by a computed indicator and ``replace_existing``
        is false, or a scope is unknown.
    """
    _check_scopes(name, scopes)

    def deco(func: _F) -> _F:
        old = _REGISTRY.get(name)
        if old is not None and not old.pending and not replace_existing:
            msg = (
                f"indicator {name!r} is already registered (by "
                f"{getattr(old.func, '__module__', '?')}); pass "
                "replace_existing=True to replace it"
            )
            raise ValueError(msg)
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Indicator(
            name=name,
            unit=unit,
            scopes=tuple(scopes),
            description=description or (doc[0] if doc else ""),
            func=func,
            params=None if params is None else tuple(params),
            provider=getattr(func, "__module__", None),
        )
        return func

    return deco


def declare_indicator(
    name: str,
    *,
    unit: str,
    scopes: tuple[str, ...],
    provider: str,
    description: str = "",
) -> None:
    """Declare an indicator whose engine another module will register.

    Rules on it are reported as *not evaluated* until ``provider`` registers
    a function with :func:`register_indicator`.

    Parameters
    ----------
    name
        Indicator name used by rules.
    unit
        Unit of the values.
    scopes
        Scopes it will be computed for.
    provider
        Dotted name of the module expected to register it; imported when a
        rule needs the indicator.
    description
        What it will measure.
    """
    _check_scopes(name, scopes)
    old = _REGISTRY.get(name)
    if old is not None and not old.pending:
        return
    _REGISTRY[name] = Indicator(
        name=name,
        unit=unit,
        scopes=tuple(scopes),
        description=description,
        func=None,
        params=None,
        provider=provider,
    )


def get_indicator(name: str, *, load: bool = True) -> Indicator:
    """The indicator called ``name``, importing its provider if pending.

    Parameters
    ----------
    name
        Indicator name.
    load
        Import the provider of a pending indicator (which may register it).

    Returns
    -------
    Indicator

    Raises
    ------
    KeyError
        If no indicator has that name; the message lists close names.
    """
    ind = _REGISTRY.get(name)
    if ind is None:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        msg = f"no indicator {name!r}{hint} Known: {', '.join(sorted(_REGISTRY))}"
        raise KeyError(msg)
    if load and ind.pending and ind.provider and ind.provider not in _IMPORT_ERRORS:
        try:
            importlib.import_module(ind.provider)
        except ModuleNotFoundError as exc:
            # The provider itself not written yet is the normal pending case.
            missing = exc.name is not None and ind.provider.startswith(exc.name)
            _IMPORT_ERRORS[ind.provider] = "" if missing else str(exc)
        except ImportError as exc:
            _IMPORT_ERRORS[ind.provider] = str(exc)
        else:
            _IMPORT_ERRORS[ind.provider] = ""
        ind = _REGISTRY[name]
    return ind


def pending_reason(ind: Indicator) -> str:
    """Why a pending indicator has no values (for reports).

    Parameters
    ----------
    ind
        A pending indicator.

    Returns
    -------
    str
    """
    err = _IMPORT_ERRORS.get(ind.provider or "", "")
    where = f" (expected from module {ind.provider})" if ind.provider else ""
    why = f": {err}" if err else ""
    return f"no engine computes indicator {ind.name!r} yet{where}{why}"


def available_indicators() -> pd.DataFrame:
    """The registered indicators, as a table.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``name``, ``unit``, ``scopes``, ``status``
        (``computed`` or ``pending``), ``params``, ``provider``,
        ``description``.

    Examples
    --------
    >>> from cim.indicators import available_indicators
    >>> table = available_indicators().set_index("name")
    >>> table.loc["far", "status"], table.loc["sunlight_hours", "unit"]
    ('computed', 'h')
    """
    rows = [
        {
            "name": i.name,
            "unit": i.unit,
            "scopes": ", ".join(i.scopes),
            "status": "pending" if i.pending else "computed",
            "params": "any" if i.params is None else ", ".join(i.params),
            "provider": i.provider or "",
            "description": i.description,
        }
        for i in sorted(_REGISTRY.values(), key=lambda i: i.name)
    ]
    return pd.DataFrame(rows)


def _restore(snapshot: Mapping[str, Indicator]) -> None:
    """Put the registry back as it was (for tests)."""
    _REGISTRY.clear()
    _REGISTRY.update(snapshot)
    _IMPORT_ERRORS.clear()


def _snapshot() -> dict[str, Indicator]:
    return {k: replace(v) for k, v in _REGISTRY.items()}
