"""The compliance check: a twin against a rulebook, one row per feature and rule.

:func:`check` evaluates every compliance rule (``[[rules]]``) of a rulebook's
chain on the features of the rule's scope, and the planning conditions
(规划条件) carried by the parcels (``far_max``, ``density_max``,
``green_rate_min``, ``height_max_m``). For each (feature, rule) it reports
the indicator's value and what produced it (``basis``), the limit, whether it
passed and by what margin, the clause and whether the rule's value was
confirmed from the primary text, and the unverified inputs behind the value
and the limit (``unverified_inputs``).

Each row has one of four statuses:

- ``pass`` / ``fail``: the value was computed and compared;
- ``not_evaluated``: the rule applies but no value could be computed: its
  indicator has no engine yet or was skipped, a planning parameter its
  threshold needs was not given, or an input is missing (e.g. no parking
  supply given). Never counted as a pass;
- ``not_applicable``: the rule's threshold table has no entry for the
  feature (e.g. the housing-block rules on a kindergarten parcel, the
  Great Cold day rule in climate zone V), or the indicator does not apply
  to it (no building due south).

Planning parameters select thresholds. Those describing the whole twin
(:data:`PARAMETERS`: climate zone, city size, development, life circle,
persons per household) come from ``params``, else from the twin's
``metadata["planning"]``, else from their default; a rulebook may key its
tables by further parameters, which must then be given. Those derived per
feature (:data:`cim.indicators.context.DERIVED_PARAMETERS`: storey class,
land class, dwelling-size class, building class) are computed from the twin;
where such a class rests on estimated or unverified inputs (a storey class
from estimated storeys; a land class read from estimated households, on the
site or on a parcel of unknown land use), the row's ``unverified_inputs``
says so: ``limit chosen by storey_class=multi_i from storeys estimated
(floors_source=default) for 12 of 12 housing buildings``, ``limit chosen by
land_class=residential from households estimated from floor area
(households_source=estimated) for 1 of 4 buildings``
(:meth:`~cim.indicators.context.Context.class_inputs`).

Comparisons allow a relative tolerance of 1e-9, so that floating-point noise
in a sum never turns an exact limit into a failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cim._assets import asset_path
from cim.errors import CIMError
from cim.estimate import defaults
from cim.indicators import Evaluation, get_indicator
from cim.indicators.context import (
    DERIVED_PARAMETERS,
    Context,
    _joined,
    holds_facility,
)
from cim.indicators.registry import Indicator, pending_reason
from cim.report import ROW_COLUMNS, ComplianceReport
from cim.rules.rulebook import (
    Rule,
    Rulebook,
    RulebookError,
    ThresholdTable,
    load_rulebook,
)
from cim.takeoff import twin_takeoff

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "PARAMETERS",
    "PLANNING_LIMITS",
    "CheckError",
    "Parameter",
    "check",
]

_TOL = 1e-9


class CheckError(CIMError, ValueError):
    """A check cannot run: a planning parameter is unknown, invalid or missing."""


@dataclass(frozen=True)
class Parameter:
    """A planning parameter describing the whole twin.

    Parameters
    ----------
    name
        Name, as used in ``params`` and in threshold tables' ``by``.
    description
        Meaning and values.
    choices
        Allowed values (strings), or ``None`` for a number.
    default
        Value when not given; ``None`` if it must be given when a rule
        needs it.
    example
        A value to show in hints; default the first of ``choices``.
    cli_flag
        The ``cim check`` option that gives it besides ``--param
        NAME=VALUE`` (``"--climate-zone"``), if any.
    """

    name: str
    description: str
    choices: tuple[str, ...] | None = None
    default: str | float | None = None
    example: str | None = None
    cli_flag: str | None = None


#: Planning parameters of the whole twin.
PARAMETERS: Mapping[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "climate_zone",
            "building climate zone of GB 50178 (建筑气候区划), I-VII; Hangzhou is III",
            ("I", "II", "III", "IV", "V", "VI", "VII"),
            example="III",  # Hangzhou
            cli_flag="--climate-zone",
        ),
        Parameter(
            "city_size",
            "large: a city of at least 500,000 urban residents; small otherwise",
            ("large", "small"),
        ),
        Parameter(
            "development",
            "new (新区建设) or renewal (旧区改建) development",
            ("new", "renewal"),
            "new",
        ),
        Parameter(
            "life_circle",
            "the life circle the site is planned as: 5, 10 or 15 (minutes)",
            ("5", "10", "15"),
        ),
        Parameter(
            "persons_per_household",
            "persons per household, for residents = dwellings x persons",
            None,
        ),
    )
}

#: Planning conditions carried by parcels: column -> (indicator, op).
PLANNING_LIMITS: Mapping[str, tuple[str, str]] = {
    "far_max": ("far", "<="),
    "density_max": ("building_density", "<="),
    "green_rate_min": ("green_rate", ">="),
    "height_max_m": ("max_height_m", "<="),
}

_UNIT = {"far": "-", "building_density": "-", "green_rate": "-", "max_height_m": "m"}


# --------------------------------------------------------------------------
# parameters


def _rule_file(book: Rulebook, rule: Rule) -> str:
    if rule.rulebook == book.id and book.source_file is not None:
        return str(book.source_file)
    bundled = asset_path("rules", f"{rule.rulebook}.toml")
    return str(bundled) if bundled.is_file() else rule.rulebook


def _table_keys(book: Rulebook) -> dict[str, set[str]]:
    """Values each non-derived parameter takes in the book's tables."""
    out: dict[str, set[str]] = {}
    for r in book.rules:
        t = r.threshold
        if isinstance(t, ThresholdTable):
            for i, b in enumerate(t.by):
                if b not in DERIVED_PARAMETERS:
                    out.setdefault(b, set()).update(k[i] for k in t.values)
    return out


def _resolve_planning(
    twin: Twin, book: Rulebook, params: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str], str]:
    """Planning parameters, their sources and the persons-per-household note."""
    table_keys = _table_keys(book)
    known = [*PARAMETERS, *(k for k in table_keys if k not in PARAMETERS)]
    given: dict[str, Any] = {}
    source: dict[str, str] = {}
    meta = twin.metadata.get("planning", {})
    if isinstance(meta, Mapping):
        for k, v in meta.items():
            if k in known and v is not None:
                given[k], source[k] = v, "twin metadata"
    for k, v in (params or {}).items():
        if k in DERIVED_PARAMETERS:
            msg = (
                f"parameter {k!r} is derived from the twin for each feature and "
                "cannot be given; change the twin instead"
            )
            raise CheckError(msg)
        if k not in known:
            msg = f"invalid parameter {k!r}; expected one of {', '.join(known)}"
            raise CheckError(msg)
        if v is not None:
            given[k], source[k] = v, "params"
    for name, p in PARAMETERS.items():
        if name not in given and p.default is not None:
            given[name], source[name] = p.default, "default"
    note = ""
    if "persons_per_household" not in given:
        d = defaults()["persons_per_household"]
        given["persons_per_household"] = float(d["value"])
        source["persons_per_household"] = "default (assets/defaults.toml)"
        if not d.get("verified", False):
            note = f"persons per household {float(d['value']):g} (default, unverified)"
    planning: dict[str, Any] = {}
    for k, v in given.items():
        spec = PARAMETERS.get(k)
        if k == "persons_per_household":
            try:
                pph = float(v)
            except (TypeError, ValueError):
                pph = float("nan")
            if not (np.isfinite(pph) and pph > 0):
                msg = (
                    f"invalid persons_per_household {v!r} ({source[k]}); expected "
                    "a positive number of persons"
                )
                raise CheckError(msg)
            planning[k] = pph
            continue
        value = str(v)
        if spec is not None and spec.choices is not None and value not in spec.choices:
            msg = (
                f"invalid {k} {value!r} ({source[k]}); expected one of "
                f"{', '.join(spec.choices)}"
            )
            raise CheckError(msg)
        if spec is None and value not in table_keys.get(k, set()):
            rule = next(
                r
                for r in book.rules
                if isinstance(r.threshold, ThresholdTable) and k in r.threshold.by
            )
            expected = ", ".join(sorted(table_keys[k]))
            file = _rule_file(book, rule)
            raise RulebookError(
                f"rulebook {file}: rules (rule {rule.id!r}).threshold: "
                f"invalid {k} {value!r}; expected one of {expected}",
                file=file,
                key="threshold",
            )
        planning[k] = value
    return planning, source, note


# --------------------------------------------------------------------------
# thresholds and comparison


@dataclass
class _Limits:
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    applies: NDArray[np.bool_]
    keys: NDArray[np.object_]
    reason: NDArray[np.object_]
    unknown: bool = False  # a parameter the threshold depends on is not given
    # Per derived class that chose the threshold, per feature: the class and
    # the unverified inputs it was derived from ("storey_class=multi_i from
    # storeys estimated (...) for 12 of 12 housing buildings"), "" where none.
    chosen: tuple[NDArray[np.object_], ...] = ()


def _bounds(op: str, value: Any) -> tuple[float, float]:
    if op == "between":
        lo, hi = value
        return float(lo), float(hi)
    v = float(value)
    if op in (">=", ">"):
        return v, np.nan
    if op in ("<=", "<"):
        return np.nan, v
    return v, v


def _missing_parameter_hint(name: str) -> str:
    """Why a rule is not evaluated, and how to give ``name`` in Python or the CLI.

    Parameters
    ----------
    name
        A planning parameter of :data:`PARAMETERS`, or a key of a rulebook's
        threshold tables.

    Returns
    -------
    str
        ``"needs planning parameter 'life_circle' (one of 5, 10, 15): pass
        params={'life_circle': ...} or set it in twin.metadata['planning']
        (command line: --param life_circle=5)"``; the command line names the
        parameter's own option too, if it has one (:attr:`Parameter.cli_flag`).
    """
    # A key of the rulebook's own tables has no choices, example or option.
    p = PARAMETERS.get(name) or Parameter(name, "a key of the rulebook's tables")
    hint = f" (one of {', '.join(p.choices)})" if p.choices else ""
    example = p.example or (p.choices[0] if p.choices else "VALUE")
    cli = f"--param {name}={example}"
    if p.cli_flag:
        cli = f"{p.cli_flag} {example} or {cli}"
    return (
        f"needs planning parameter {name!r}{hint}: pass params={{{name!r}: ...}} "
        f"or set it in twin.metadata['planning'] (command line: {cli})"
    )


def _limits(
    rule: Rule,
    classes: pd.DataFrame,
    planning: Mapping[str, Any],
    class_inputs: pd.DataFrame | None = None,
) -> _Limits:
    n = len(classes)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    applies = np.ones(n, dtype=bool)
    keys = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    t = rule.threshold
    if not isinstance(t, ThresholdTable):
        lo[:], hi[:] = _bounds(rule.op, t)
        return _Limits(lo, hi, applies, keys, reason)
    cols: dict[str, NDArray[np.object_]] = {}
    for b in t.by:
        if b in classes.columns:
            cols[b] = classes[b].to_numpy(dtype=object)
        elif b in planning:
            cols[b] = np.full(n, str(planning[b]), dtype=object)
        else:
            reason[:] = _missing_parameter_hint(b)
            return _Limits(lo, hi, applies, keys, reason, unknown=True)
    if not n:
        return _Limits(lo, hi, applies, keys, reason)
    frame = pd.DataFrame(cols)
    codes = frame.groupby(list(t.by), sort=False).ngroup().to_numpy()
    first = pd.Series(np.arange(n)).groupby(codes).first().to_numpy()
    for code, row in enumerate(first):
        combo = {b: str(cols[b][row]) for b in t.by}
        sel = codes == code
        keys[sel] = ", ".join(f"{b}={v}" for b, v in combo.items())
        try:
            value = t.lookup(**combo)
        except ValueError:
            applies[sel] = False
            reason[sel] = "no threshold for " + ", ".join(
                f"{b}={v}" for b, v in combo.items()
            )
            continue
        lo[sel], hi[sel] = _bounds(rule.op, value)
    # A threshold chosen by a class derived from unverified inputs (estimated
    # storeys behind a storey class) is no surer than they are.
    chosen = []
    for b in t.by:
        if class_inputs is None or b not in class_inputs.columns:
            continue
        text = class_inputs[b].to_numpy(dtype=object)
        flag = applies & (text != "")
        if flag.any():
            what = np.asarray([x.replace("; ", ", ") for x in text[flag]], dtype=object)
            label = np.full(n, "", dtype=object)
            label[flag] = f"{b}=" + cols[b][flag] + " from " + what
            chosen.append(label)
    return _Limits(lo, hi, applies, keys, reason, chosen=tuple(chosen))


def _compare(
    op: str, v: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Pass/fail and margin (positive: slack, negative: shortfall)."""
    with np.errstate(invalid="ignore"):
        tl = _TOL * np.maximum(1.0, np.abs(lo))
        th = _TOL * np.maximum(1.0, np.abs(hi))
        if op == ">=":
            margin = v - lo
            ok = margin >= -tl
        elif op == ">":
            margin = v - lo
            ok = margin > tl
        elif op == "<=":
            margin = hi - v
            ok = margin >= -th
        elif op == "<":
            margin = hi - v
            ok = margin > th
        elif op == "==":
            margin = -np.abs(v - lo)
            ok = margin >= -tl
        elif op == "between":
            margin = np.minimum(v - lo, hi - v)
            ok = (v - lo >= -tl) & (hi - v >= -th)
        else:  # pragma: no cover - rulebooks refuse other ops
            raise ValueError(f"invalid op {op!r}")
    # +-inf is a value (no facility reachable: infinitely far) and compares
    # as one; NaN is not.
    known = ~np.isnan(v)
    return ok & known, np.where(known, margin, np.nan)


# --------------------------------------------------------------------------
# evaluation


def _indicator(book: Rulebook, rule: Rule, *, load: bool = True) -> Indicator:
    file = _rule_file(book, rule)
    try:
        ind = get_indicator(rule.indicator, load=load)
    except KeyError as exc:
        raise RulebookError(
            f"rulebook {file}: rules (rule {rule.id!r}).indicator: {exc.args[0]}",
            file=file,
            key="indicator",
        ) from None
    if rule.scope not in ind.scopes:
        raise RulebookError(
            f"rulebook {file}: rules (rule {rule.id!r}).scope: indicator "
            f"{ind.name!r} is not computed for scope {rule.scope!r}; expected one "
            f"of {', '.join(ind.scopes)}",
            file=file,
            key="scope",
        )
    if ind.params is not None:
        bad = [k for k in rule.params if k not in ind.params]
        if bad:
            expected = ", ".join(ind.params) or "none"
            raise RulebookError(
                f"rulebook {file}: rules (rule {rule.id!r}).params.{bad[0]}: unknown "
                f"parameter of indicator {ind.name!r}; expected {expected}",
                file=file,
                key=f"params.{bad[0]}",
            )
    return ind


def _restrict(ctx: Context, rule: Rule, limits: _Limits) -> _Limits:
    """Apply a building rule's ``applies_to`` (uses) and ``facilities`` params."""
    p = rule.params
    if rule.scope not in ("building", "dwelling") or not (
        "applies_to" in p or "facilities" in p
    ):
        return limits
    feats = ctx.features(rule.scope)
    uses = [str(u) for u in p.get("applies_to", ["residential"])]
    cats = [str(c) for c in p.get("facilities", [])]
    mask = np.array(feats["use"].astype("str").isin(uses).to_numpy(), dtype=bool)
    if cats:
        mask |= holds_facility(feats, ctx.twin.facilities, cats)
    what = " or ".join(
        x
        for x in (
            f"use {', '.join(uses)}" if uses else "",
            f"holding a {', '.join(cats)} facility" if cats else "",
        )
        if x
    )
    off = limits.applies & ~mask
    reason = limits.reason.copy()
    reason[off] = f"the rule applies to buildings of {what}"
    return replace(limits, applies=limits.applies & mask, reason=reason)


class _Evaluator:
    """Computes (and caches) indicator values for rules.

    The cache is keyed by indicator, scope and the rule's ``params``: two
    rules on the same indicator (a rulebook's FAR range and a parcel's
    ``far_max``) share one :class:`~cim.indicators.Evaluation`. Whatever
    depends on a rule's threshold (the classes that chose it) therefore
    lives in :class:`_Limits`, never in the cached evaluation.
    """

    def __init__(self, book: Rulebook, ctx: Context) -> None:
        self.book = book
        self.ctx = ctx
        self.cache: dict[tuple[str, str, str], Evaluation] = {}

    def __call__(self, ind: Indicator, rule: Rule) -> Evaluation:
        key = (
            ind.name,
            rule.scope,
            json.dumps(dict(rule.params), sort_keys=True, default=str),
        )
        if key in self.cache:
            return self.cache[key]
        assert ind.func is not None
        ids = self.ctx.ids(rule.scope)
        try:
            out = ind.func(self.ctx, rule)
        except ValueError as exc:
            if isinstance(exc, CIMError):
                raise
            file = _rule_file(self.book, rule)
            raise RulebookError(
                f"rulebook {file}: rules (rule {rule.id!r}): indicator "
                f"{ind.name!r}: {exc}",
                file=file,
                key="params",
            ) from exc
        ev = out if isinstance(out, Evaluation) else Evaluation(out)
        if len(ev.values) != len(ids):
            msg = (
                f"indicator {ind.name!r} returned {len(ev.values)} values for "
                f"{len(ids)} features of scope {rule.scope!r}"
            )
            raise RuntimeError(msg)
        self.cache[key] = ev
        return ev


def _column(series: pd.Series | None, n: int, fill: Any, dtype: Any) -> NDArray[Any]:
    if series is None:
        return np.full(n, fill, dtype=dtype)
    return np.asarray(series.to_numpy(), dtype=dtype)


def _text(series: pd.Series | None, n: int) -> NDArray[np.object_]:
    """A text column of an evaluation, ``""`` where missing."""
    out = _column(series, n, "", object)
    if series is not None and series.hasnans:
        out = np.where(pd.isna(out), "", out)
    return out


def _rows(
    *,
    ids: pd.Index,
    scope: str,
    rule_id: str,
    indicator: str,
    op: str,
    unit: str,
    clause: str,
    verified: bool,
    rulebook: str,
    limits: _Limits,
    ev: Evaluation | None,
    pending: str = "",
) -> pd.DataFrame:
    n = len(ids)
    applies = limits.applies.copy()
    reason = limits.reason.copy()
    if ev is None:
        values = np.full(n, np.nan)
        unverified = np.full(n, "", dtype=object)
        basis = np.full(n, "", dtype=object)
    else:
        values = _column(ev.values, n, np.nan, "float64")
        unverified = _text(ev.unverified, n)
        basis = _text(ev.basis, n)
        if ev.applies is not None:
            ind_applies = _column(ev.applies, n, True, bool)
            ind_reason = _column(ev.reason, n, "", object)
            off = applies & ~ind_applies
            reason[off] = ind_reason[off]
            applies &= ind_applies
    passed, margin = _compare(op, values, limits.lo, limits.hi)
    # +-inf is a value (e.g. no facility reachable: infinitely far), NaN is not.
    known = ~np.isnan(values)
    if limits.unknown:
        known = np.zeros(n, dtype=bool)
    status = np.where(passed, "pass", "fail").astype(object)
    status[~known] = "not_evaluated"
    status[~applies] = "not_applicable"
    missing = applies & ~known
    if ev is None:
        reason[missing & (reason == "")] = pending
    elif ev.reason is not None:
        ind_reason = _column(ev.reason, n, "", object)
        fill = missing & (reason == "")
        reason[fill] = ind_reason[fill]
    reason[missing & (reason == "")] = "no value: an input is missing"
    evaluated = applies & known
    for chosen in limits.chosen:
        flag = applies & (chosen != "")
        unverified = _joined(
            unverified, np.where(flag, "limit chosen by " + chosen, "").astype(object)
        )
    return pd.DataFrame(
        {
            "feature_id": pd.array(np.asarray(ids, dtype=object), dtype="str"),
            "scope": scope,
            "rule_id": rule_id,
            "indicator": indicator,
            "value": np.where(applies, values, np.nan),
            "op": op,
            "limit_min": limits.lo,
            "limit_max": limits.hi,
            "unit": unit,
            "status": pd.array(status, dtype="str"),
            "passed": pd.arrays.BooleanArray(
                np.asarray(passed, dtype=bool), ~np.asarray(evaluated, dtype=bool)
            ),
            "margin": np.where(evaluated, margin, np.nan),
            "basis": pd.array(np.where(evaluated, basis, ""), dtype="str"),
            "clause": clause,
            "verified": verified,
            "inputs_verified": pd.array(unverified == "", dtype=bool),
            "unverified_inputs": pd.array(unverified, dtype="str"),
            "rulebook": rulebook,
            "threshold_keys": pd.array(limits.keys, dtype="str"),
            "reason": pd.array(np.where(evaluated, "", reason), dtype="str"),
        }
    )


def check(
    twin: Twin,
    rulebook: Rulebook | str | os.PathLike[str] = "zhejiang-future-community",
    *,
    params: Mapping[str, Any] | None = None,
    planning_limits: bool = True,
    skip: Sequence[str] = (),
) -> ComplianceReport:
    """Check a twin against a rulebook: one row per (feature, rule).

    Parameters
    ----------
    twin
        The twin; it is not modified.
    rulebook
        A :class:`~cim.rules.Rulebook`, or the id or path of one
        (:func:`cim.rules.load_rulebook`). Its area rules drive the
        floor-area take-off behind FAR (GB/T 50353-2013 if it has none).
    params
        Planning parameters of the whole twin (:data:`PARAMETERS`), e.g.
        ``{"climate_zone": "III", "life_circle": "5"}``; they override
        ``twin.metadata["planning"]``.
    planning_limits
        Also check the parcels' planning conditions (:data:`PLANNING_LIMITS`).
    skip
        Indicators not to compute (their rows are *not evaluated*), e.g.
        ``("sunlight_hours",)`` for a quick screening without ray casting.

    Returns
    -------
    ComplianceReport
        Rows with the columns of :data:`cim.report.ROW_COLUMNS`, the
        take-off, and ``to_frame()``, ``to_json()``, ``to_html()``.

    Raises
    ------
    RulebookError
        If the rulebook is invalid, a rule names an unknown indicator, a
        scope the indicator is not computed for, or parameters it does not
        take, or a parameter value is not in a table keyed by it.
    CheckError
        If a planning parameter is unknown or invalid. (A parameter a
        threshold depends on but not given leaves that rule's rows *not
        evaluated*, with the reason.)

    Examples
    --------
    >>> import cim
    >>> from cim._assets import asset_path
    >>> from cim.check import check
    >>> pilot = cim.read(asset_path("pilot", "hangzhou_pilot.gpkg"))
    >>> report = check(pilot, "zhejiang-future-community")
    >>> report.counts()["fail"] > 0
    True
    >>> far_rows = report.to_frame().query("indicator == 'far' and scope == 'parcel'")
    >>> sorted(far_rows["status"].unique())
    ['fail', 'not_applicable', 'pass']
    """
    book = rulebook if isinstance(rulebook, Rulebook) else load_rulebook(rulebook)
    planning, sources, pph_note = _resolve_planning(twin, book, params)
    skipped = set(skip)
    indicators = {
        r.id: _indicator(book, r, load=r.indicator not in skipped) for r in book.rules
    }

    takeoff = twin_takeoff(twin, book if book.area_rules else "gbt50353-2013")
    limit_cache: dict[tuple[str, str], _Limits] = {}

    def limits_of(rule: Rule) -> _Limits:
        # Keyed by rule, not by indicator: a rule's limits (and the classes
        # that chose them) are its own.
        key = (rule.id, rule.scope)
        if key not in limit_cache:
            t = rule.threshold
            by_class = isinstance(t, ThresholdTable) and any(
                b in DERIVED_PARAMETERS for b in t.by
            )
            limit_cache[key] = _limits(
                rule,
                ctx.classes(rule.scope),
                planning,
                ctx.class_inputs(rule.scope) if by_class else None,
            )
        return limit_cache[key]

    def target(indicator: str, scope: str) -> pd.DataFrame:
        # The strictest lower bound of the book's rules on the indicator, or
        # the parcel's planning condition where given; NaN where no rule
        # applies, and -inf where a rule applies but its threshold needs a
        # parameter that was not given. With the rule (or parcels column)
        # that set it and what is unverified about it.
        n = len(ctx.ids(scope))
        best = np.full(n, np.nan)
        source = np.full(n, "", dtype=object)
        unverified = np.full(n, "", dtype=object)
        unknown = np.zeros(n, dtype=bool)
        for r in book.rules:
            if r.indicator == indicator and r.scope == scope and r.op in (">=", ">"):
                lim = limits_of(r)
                unknown |= lim.unknown & lim.applies
                cand = np.where(lim.applies, lim.lo, np.nan)
                with np.errstate(invalid="ignore"):
                    better = ~np.isnan(cand) & ~(cand <= best)
                best = np.where(better, cand, best)
                source[better] = r.id
                why = np.full(n, "", dtype=object)
                if not r.verified:
                    why[:] = f"{indicator} target from rule {r.id}, not verified"
                for chosen in lim.chosen:
                    by = np.where(
                        chosen != "", f"{indicator} target chosen by " + chosen, ""
                    )
                    why = _joined(why, by)
                unverified[better] = why[better]
        best = np.where(unknown & np.isnan(best), -np.inf, best)
        column = next(
            (
                c
                for c, (i, op) in PLANNING_LIMITS.items()
                if i == indicator and op == ">="
            ),
            None,
        )
        if scope == "parcel" and column and column in twin.parcels.columns:
            given = pd.to_numeric(twin.parcels[column], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            has = np.isfinite(given)
            best = np.where(has, given, best)
            source[has] = f"parcels.{column}"
            unverified[has] = ""
        return pd.DataFrame(
            {"target": best, "source": source, "unverified": unverified},
            index=ctx.ids(scope),
        ).astype({"source": "str", "unverified": "str"})

    ctx = Context(
        twin,
        takeoff=takeoff,
        planning=planning,
        persons_per_household=float(planning["persons_per_household"]),
        persons_per_household_note=pph_note,
        target=target,
    )
    evaluate = _Evaluator(book, ctx)
    frames = []
    for rule in book.rules:
        ind = indicators[rule.id]
        lim = _restrict(ctx, rule, limits_of(rule))
        off = ind.pending or rule.indicator in skipped
        ev = None if off else evaluate(ind, rule)
        why = (
            f"indicator {rule.indicator!r} skipped (skip=...)"
            if rule.indicator in skipped
            else pending_reason(ind)
        )
        frames.append(
            _rows(
                ids=ctx.ids(rule.scope),
                scope=rule.scope,
                rule_id=rule.id,
                indicator=rule.indicator,
                op=rule.op,
                unit=rule.unit,
                clause=rule.clause,
                verified=rule.verified,
                rulebook=rule.rulebook,
                limits=lim,
                ev=ev,
                pending=why if off else "",
            )
        )
    if planning_limits:
        frames += _planning_rows(twin, book, ctx, evaluate, indicators)
    rows = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: [] for c in ROW_COLUMNS})
    )
    return ComplianceReport(
        rows=rows[list(ROW_COLUMNS)],
        takeoff=takeoff,
        rulebook=book,
        planning=planning,
        planning_sources=sources,
        twin=twin,
        context=ctx,
    )


def _planning_rows(
    twin: Twin,
    book: Rulebook,
    ctx: Context,
    evaluate: Callable[[Indicator, Rule], Evaluation],
    indicators: Mapping[str, Indicator],
) -> list[pd.DataFrame]:
    parcels = twin.parcels
    ids = ctx.ids("parcel")
    out = []
    for column, (name, op) in PLANNING_LIMITS.items():
        if column not in parcels.columns:
            continue
        given = pd.to_numeric(parcels[column], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        sel = np.isfinite(given)
        if not sel.any():
            continue
        # The same indicator parameters as the book's own rule on it, if any.
        like = next(
            (r for r in book.rules if r.indicator == name and r.scope == "parcel"),
            None,
        )
        rule = Rule(
            id=f"planning-{column}",
            indicator=name,
            scope="parcel",
            op=op,
            threshold=0.0,
            unit=_UNIT[name],
            clause=f"planning conditions (规划条件) of the parcel: parcels.{column}",
            verified=True,
            rulebook="parcels",
            params=dict(like.params) if like is not None else {},
        )
        ind = indicators[like.id] if like is not None else get_indicator(name)
        ev = evaluate(ind, rule)
        lo = np.where(op == ">=", given, np.nan)
        hi = np.where(op == "<=", given, np.nan)
        n = len(ids)
        lim = _Limits(
            lo=np.asarray(lo, dtype="float64"),
            hi=np.asarray(hi, dtype="float64"),
            applies=np.ones(n, dtype=bool),
            keys=np.full(n, "", dtype=object),
            reason=np.full(n, "", dtype=object),
        )
        frame = _rows(
            ids=ids,
            scope="parcel",
            rule_id=rule.id,
            indicator=name,
            op=op,
            unit=rule.unit,
            clause=rule.clause,
            verified=True,
            rulebook="parcels",
            limits=lim,
            ev=ev,
        )
        out.append(frame[sel].reset_index(drop=True))
    return out
