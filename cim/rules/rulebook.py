"""Rulebooks: planning rules kept as data in TOML files, read into frozen dataclasses.

A rulebook is one TOML file. Bundled rulebooks live in ``assets/rules/`` and
are loaded by id (``load_rulebook("gbt50353-2013")``); any other file by its
path. A rulebook may ``extend`` others: a jurisdiction's book overlays the
national one, and a user's book overlays either, so that a user can write a
rulebook, or override one value, without touching code.

Format
------
Top-level keys (unknown keys are errors, to catch typos)::

    id = "my-district"                   # required; a bundled book's id is its
                                         # file name without ".toml"
    title = "..."                        # required
    jurisdiction = "CN-ZJ-Hangzhou"      # required: "CN", "CN-ZJ", ...
    version = "2025"                     # required, a string
    effective = 2025-01-01               # optional TOML date; omit when unknown
    extends = ["zhejiang-future-community"]  # optional: bundled ids, or paths
                                         # (ending in .toml) relative to this file
    source = "..."                       # optional: the document(s) encoded
    note = "..."                         # optional

Area-counting rules, one ``[[area_rules]]`` table each, decide how much of an
area element (:mod:`cim.storeys`) counts::

    [[area_rules]]
    id = "gbt50353-3.0.1-half"           # required, unique in the file; an id of
                                         # an extended book redefines that rule
    kinds = ["floor"]                    # required: element kinds (ELEMENT_KINDS)
    conditions = [["structural_height_m", "<", 2.20]]  # all must hold; default []
    factor = 0.5                         # required: share of the area counted
    basis = "gfa"                        # "gfa" (default) or "far", see below
    measure = "area_m2"                  # element column measured; default area_m2
    clause = "GB/T 50353-2013 §3.0.1"    # required: where the value comes from
    verified = true                      # required: false unless confirmed from
                                         # the primary text
    replaces = []                        # optional: ids of rules this one retires
    note = "..."                         # optional

A condition is ``[attribute, op, value]`` with an attribute of
:data:`cim.storeys.CONDITION_ATTRIBUTES`, an op of :data:`CONDITION_OPS` and a
number (or ``true``/``false`` for ``enclosed`` and ``inside_structure``). A
missing (NaN) attribute fails every condition on it.

Compliance rules, one ``[[rules]]`` table each, compare an indicator with a
threshold::

    [[rules]]
    id = "gb50180-4.0.2-far-zone-iii"
    indicator = "plot_ratio"             # name of the indicator function
    scope = "parcel"                     # site, parcel, building or dwelling
    op = "between"                       # <=, <, >=, >, ==, between
    threshold = {by = "storey_class", values = {low = [1.0, 1.2], multi_i = [1.3, 1.6]}}
    unit = "-"
    clause = "GB 50180-2018 Table 4.0.2"
    verified = false
    note = "..."

A threshold is a number, ``[lo, hi]`` (for ``between``, inclusive), or a table
keyed by parameters: ``{by = "storey_class", values = {low = 1.2, multi = 2.0}}``,
or with several parameters, nested in the order of ``by``:
``{by = ["climate_zone", "city_size"], values = {III = {large = 2.0, small = 3.0}}}``;
an optional ``default`` applies to keys not in the table.

One value of a rule from this book's chain is changed with an ``[overrides]``
table, keyed by rule id::

    [overrides."gbt50353-3.0.21-outside"]
    factor = 0.0
    note = "project brief: outside balconies excluded"

Semantics
---------
Precedence. The book's own rules come first, then each book it extends, in
the order listed, depth first; a book reached twice (a diamond) keeps its
lowest place, after every book that extends it. Area rules are tried in that
order and the first whose kinds and conditions match an element decides it.
A rule whose id is already defined by a book it extends *redefines* that rule
in its place (the base's order is kept). ``replaces`` lists rules that this
rule retires: they are no longer tried for the quantity this rule decides.
``[overrides]`` are applied last, lowest book first. A changed value that is
not itself marked ``verified`` leaves the rule unverified, with the change
recorded in its ``note`` and in :attr:`Rulebook.overrides`.

Two quantities. A ``basis = "gfa"`` rule decides gross floor area (建筑面积,
GB/T 50353) and, unless a ``"far"`` rule does, FAR-counted area (计容面积) too.
A ``basis = "far"`` rule decides FAR-counted area only: this is how a
jurisdiction excludes, say, balconies from FAR while they stay in the gross
floor area. Gross-floor-area factors must lie in [0, 1]; FAR factors may
exceed 1, as some cities count very tall storeys more than once.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cim._assets import asset_path
from cim.errors import CIMError
from cim.storeys import CONDITION_ATTRIBUTES, ELEMENT_KINDS

__all__ = [
    "AREA_BASES",
    "CONDITION_OPS",
    "OPS",
    "SCOPES",
    "AreaRule",
    "Condition",
    "Rule",
    "Rulebook",
    "RulebookError",
    "ThresholdTable",
    "available_rulebooks",
    "compare",
    "load_rulebook",
    "override",
]

#: Operators of compliance rules.
OPS = ("<=", "<", ">=", ">", "==", "between")
#: Operators of area-rule conditions.
CONDITION_OPS = ("<=", "<", ">=", ">", "==", "!=")
#: Scopes of compliance rules: what one evaluated value belongs to.
SCOPES = ("site", "parcel", "building", "dwelling")
#: What an area rule decides: gross floor area (and FAR by default), or FAR only.
AREA_BASES = ("gfa", "far")

#: A resolved threshold: one number, or inclusive ``(lo, hi)`` bounds.
ThresholdValue = float | tuple[float, float]


class RulebookError(CIMError, ValueError):
    """A rulebook is missing, malformed, or inconsistent with its chain.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        The rulebook file (or the rulebook id, for books built in code).
    key
        The offending key, e.g. ``area_rules[3].factor``, if any.
    """

    def __init__(self, message: str, *, file: str, key: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.key = key


# --------------------------------------------------------------------------
# Dataclasses


@dataclass(frozen=True)
class Condition:
    """One test on an element attribute, e.g. ``structural_height_m >= 2.2``.

    Parameters
    ----------
    attribute
        An element column of :data:`cim.storeys.CONDITION_ATTRIBUTES`.
    op
        One of :data:`CONDITION_OPS`.
    value
        A number, or a bool for boolean attributes.
    """

    attribute: str
    op: str
    value: float | bool

    def __str__(self) -> str:
        value = (
            str(self.value).lower()
            if isinstance(self.value, bool)
            else (f"{self.value:g}")
        )
        return f"{self.attribute} {self.op} {value}"


@dataclass(frozen=True)
class ThresholdTable:
    """A threshold that depends on parameters, e.g. on the storey class.

    Parameters
    ----------
    by
        Parameter names, e.g. ``("storey_class",)`` or
        ``("climate_zone", "city_size")``.
    values
        Threshold for each tuple of parameter values (as strings).
    default
        Threshold for parameter values not in the table; ``None`` makes them
        an error.
    """

    by: tuple[str, ...]
    values: Mapping[tuple[str, ...], ThresholdValue]
    default: ThresholdValue | None = None

    def __hash__(self) -> int:
        return hash((self.by, tuple(self.values.items()), self.default))

    def lookup(self, **params: object) -> ThresholdValue:
        """The threshold for the given parameter values (extra ones are ignored).

        Parameters
        ----------
        **params
            A value for each parameter in :attr:`by`, e.g.
            ``storey_class="multi"``; values are compared as strings.

        Returns
        -------
        float or tuple of float
            A number, or ``(lo, hi)`` bounds.

        Raises
        ------
        ValueError
            If a parameter is missing, or its value is not in the table and
            there is no default.
        """
        missing = [b for b in self.by if b not in params]
        if missing:
            msg = (
                f"missing parameter {missing[0]!r}; this threshold depends on "
                f"{', '.join(self.by)}"
            )
            raise ValueError(msg)
        key = tuple(str(params[b]) for b in self.by)
        if key in self.values:
            return self.values[key]
        if self.default is not None:
            return self.default
        if len(self.by) == 1:
            known = ", ".join(repr(k[0]) for k in self.values)
            msg = f"invalid {self.by[0]} {key[0]!r}; expected one of {known}"
        else:
            known = "; ".join(
                ", ".join(f"{b}={v!r}" for b, v in zip(self.by, k, strict=True))
                for k in self.values
            )
            msg = f"no threshold for {dict(zip(self.by, key, strict=True))}; " + (
                f"expected one of: {known}"
            )
        raise ValueError(msg)


#: A threshold as written in a rule.
Threshold = float | tuple[float, float] | ThresholdTable


@dataclass(frozen=True)
class Rule:
    """A compliance rule: ``indicator op threshold``, with its source.

    Parameters
    ----------
    id
        Unique id in the rulebook chain.
    indicator
        Name of the indicator it tests, e.g. ``"plot_ratio"``.
    scope
        One of :data:`SCOPES`: what one evaluated value belongs to.
    op
        One of :data:`OPS`.
    threshold
        A number, ``(lo, hi)`` for ``between``, or a :class:`ThresholdTable`.
    unit
        Unit of the indicator and threshold (``"-"`` if dimensionless).
    clause
        Source clause, e.g. ``"GB 50180-2018 §4.0.2"``.
    verified
        Whether the value was confirmed from the primary text.
    note
        Free text: interpretation, doubts.
    rulebook
        Id of the rulebook that defined the rule.
    params
        How the indicator is evaluated for this rule, as a TOML table whose
        keys the indicator defines and checks (e.g. a sunlight rule's
        ``{day = "great_cold", window_h = [8, 16], max_segments = 2,
        applies_to = ["residential"]}``); empty for most rules.
    """

    id: str
    indicator: str
    scope: str
    op: str
    threshold: Threshold
    unit: str
    clause: str
    verified: bool
    note: str = ""
    rulebook: str = ""
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def threshold_for(self, **params: object) -> ThresholdValue:
        """The threshold, looked up by parameters if it depends on them.

        Parameters
        ----------
        **params
            Parameter values such as ``storey_class="multi"``; ignored by
            plain thresholds.

        Returns
        -------
        float or tuple of float
        """
        if isinstance(self.threshold, ThresholdTable):
            try:
                return self.threshold.lookup(**params)
            except ValueError as exc:
                raise ValueError(f"rule {self.id!r}: {exc}") from None
        return self.threshold

    def check(self, values: ArrayLike, **params: object) -> NDArray[np.bool_]:
        """Whether each value passes the rule (NaN never passes).

        Parameters
        ----------
        values
            Indicator values, ``(n,)`` float [:attr:`unit`].
        **params
            Parameters of a threshold table.

        Returns
        -------
        numpy.ndarray
            ``(n,)`` bool.
        """
        return compare(values, self.op, self.threshold_for(**params))


@dataclass(frozen=True)
class AreaRule:
    """An area-counting rule: the share of an element's area that counts.

    Parameters
    ----------
    id
        Unique id in the rulebook chain.
    kinds
        Element kinds it applies to (:data:`cim.storeys.ELEMENT_KINDS`).
    factor
        Share of the measured area that counts: 0, 0.5, 1 in the national
        rules; at most 1 for ``basis="gfa"``.
    clause
        Source clause, e.g. ``"GB/T 50353-2013 §3.0.1"``.
    verified
        Whether the value was confirmed from the primary text.
    conditions
        Tests that must all hold (an empty tuple always holds).
    basis
        ``"gfa"``: decides gross floor area, and FAR-counted area unless a
        ``"far"`` rule does; ``"far"``: decides FAR-counted area only.
    measure
        Element column holding the area the factor applies to [m2].
    replaces
        Ids of rules this rule retires for the quantity it decides.
    note
        Free text: interpretation, doubts.
    rulebook
        Id of the rulebook that defined (or last overrode) the rule.
    """

    id: str
    kinds: tuple[str, ...]
    factor: float
    clause: str
    verified: bool
    conditions: tuple[Condition, ...] = ()
    basis: str = "gfa"
    measure: str = "area_m2"
    replaces: tuple[str, ...] = ()
    note: str = ""
    rulebook: str = ""


@dataclass(frozen=True)
class Rulebook:
    """A rulebook with its ``extends`` chain resolved.

    Parameters
    ----------
    id
        Id of the book (its file name, for bundled books).
    title
        Title.
    jurisdiction
        Where it applies, e.g. ``"CN"``, ``"CN-ZJ"``.
    version
        Version or edition.
    effective
        Date it took effect; ``None`` if unknown.
    extends
        Ids or paths of the books it extends, as written.
    source_file
        File it was read from; ``None`` if built in code.
    area_rules
        Area-counting rules of the whole chain, in precedence order.
    rules
        Compliance rules of the whole chain.
    chain
        Ids of the books in precedence order, this one first.
    source
        The document(s) encoded.
    note
        Free text.
    overrides
        Changes made by ``[overrides]`` tables or :func:`override`, one line
        each.
    """

    id: str
    title: str
    jurisdiction: str
    version: str
    effective: date | None = None
    extends: tuple[str, ...] = ()
    source_file: Path | None = None
    area_rules: tuple[AreaRule, ...] = ()
    rules: tuple[Rule, ...] = ()
    chain: tuple[str, ...] = ()
    source: str = ""
    note: str = ""
    overrides: tuple[str, ...] = ()

    def area_rule(self, rule_id: str) -> AreaRule:
        """The area rule with id ``rule_id`` (:class:`ValueError` if none)."""
        for r in self.area_rules:
            if r.id == rule_id:
                return r
        raise ValueError(
            _unknown_id(
                rule_id,
                [r.id for r in self.area_rules],
                f"area rule of rulebook {self.id!r}",
            )
        )

    def rule(self, rule_id: str) -> Rule:
        """The compliance rule with id ``rule_id`` (:class:`ValueError` if none)."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise ValueError(
            _unknown_id(
                rule_id,
                [r.id for r in self.rules],
                f"compliance rule of rulebook {self.id!r}",
            )
        )

    def area_rules_for(self, basis: str) -> tuple[AreaRule, ...]:
        """The area rules tried, in order, for one quantity.

        Parameters
        ----------
        basis
            ``"gfa"``: the ``"gfa"`` rules, less those retired by another
            ``"gfa"`` rule's ``replaces``. ``"far"``: all rules, less those
            retired by any rule.

        Returns
        -------
        tuple of AreaRule
        """
        if basis not in AREA_BASES:
            msg = f"invalid basis {basis!r}; expected one of {', '.join(AREA_BASES)}"
            raise ValueError(msg)
        pool = [r for r in self.area_rules if basis == "far" or r.basis == "gfa"]
        retired = {t for r in pool for t in r.replaces}
        return tuple(r for r in pool if r.id not in retired)

    def to_frame(self, *, which: str = "area_rules") -> pd.DataFrame:
        """The rules as a table, for reports.

        Parameters
        ----------
        which
            ``"area_rules"`` or ``"rules"``.

        Returns
        -------
        pandas.DataFrame
            One row per rule in precedence order, with its clause, ``verified``
            flag and the rulebook that defined it; area rules also show the
            ids of rules retiring them (``replaced_by``).
        """
        if which == "area_rules":
            retired: dict[str, list[str]] = {}
            for r in self.area_rules:
                for t in r.replaces:
                    retired.setdefault(t, []).append(r.id)
            rows: list[dict[str, Any]] = [
                {
                    "id": r.id,
                    "kinds": ", ".join(r.kinds),
                    "conditions": " and ".join(map(str, r.conditions)),
                    "factor": r.factor,
                    "basis": r.basis,
                    "measure": r.measure,
                    "clause": r.clause,
                    "verified": r.verified,
                    "rulebook": r.rulebook,
                    "replaced_by": ", ".join(retired.get(r.id, [])),
                    "note": r.note,
                }
                for r in self.area_rules
            ]
        elif which == "rules":
            rows = [
                {
                    "id": r.id,
                    "indicator": r.indicator,
                    "scope": r.scope,
                    "op": r.op,
                    "threshold": _threshold_str(r.threshold),
                    "unit": r.unit,
                    "clause": r.clause,
                    "verified": r.verified,
                    "rulebook": r.rulebook,
                    "note": r.note,
                }
                for r in self.rules
            ]
        else:
            msg = f"invalid which {which!r}; expected 'area_rules' or 'rules'"
            raise ValueError(msg)
        return pd.DataFrame(rows)


def _threshold_str(t: Threshold) -> str:
    if isinstance(t, ThresholdTable):
        body = "; ".join(
            f"{'/'.join(k)}: {_threshold_str(v)}" for k, v in t.values.items()
        )
        default = "" if t.default is None else f"; default: {_threshold_str(t.default)}"
        return f"by {', '.join(t.by)}: {body}{default}"
    if isinstance(t, tuple):
        return f"[{t[0]:g}, {t[1]:g}]"
    return f"{t:g}"


# --------------------------------------------------------------------------
# The comparator shared by area-rule conditions and compliance rules


def compare(values: ArrayLike, op: str, threshold: ThresholdValue) -> NDArray[np.bool_]:
    """Compare values with a threshold; NaN compares False under every op.

    Parameters
    ----------
    values
        ``(n,)`` float (bools count as 0/1).
    op
        One of :data:`OPS` or :data:`CONDITION_OPS`.
    threshold
        A number, or inclusive ``(lo, hi)`` bounds for ``"between"``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool.

    Raises
    ------
    ValueError
        If ``op`` is unknown or the threshold does not fit it.

    Examples
    --------
    >>> from cim.rules import compare
    >>> compare([2.1, 2.2, float("nan")], ">=", 2.2)
    array([False,  True, False])
    """
    v = np.asarray(values, dtype="float64")
    known = ~np.isnan(v)
    if op == "between":
        if not (isinstance(threshold, tuple) and len(threshold) == 2):
            msg = f"invalid threshold {threshold!r} for 'between'; expected (lo, hi)"
            raise ValueError(msg)
        lo, hi = threshold
        with np.errstate(invalid="ignore"):
            inside = (v >= lo) & (v <= hi)
        return np.asarray(known & inside, dtype=bool)
    if isinstance(threshold, tuple):
        msg = f"invalid threshold {threshold!r} for {op!r}; expected a number"
        raise ValueError(msg)
    t = float(threshold)
    with np.errstate(invalid="ignore"):
        if op == "<=":
            out = v <= t
        elif op == "<":
            out = v < t
        elif op == ">=":
            out = v >= t
        elif op == ">":
            out = v > t
        elif op == "==":
            out = v == t
        elif op == "!=":
            out = v != t
        else:
            ops = ", ".join(repr(o) for o in (*OPS, "!="))
            raise ValueError(f"invalid op {op!r}; expected one of {ops}")
    return np.asarray(known & out, dtype=bool)


# --------------------------------------------------------------------------
# Parsing, with errors that name the file and key

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class _At:
    """Where a value is: file, key path and, inside a rule, the rule id."""

    file: str
    key: str = ""
    rule: str | None = None

    def __truediv__(self, part: str | int) -> _At:
        if isinstance(part, int):
            return dataclasses.replace(self, key=f"{self.key}[{part}]")
        name = part if _BARE.match(part) else json.dumps(part, ensure_ascii=False)
        key = f"{self.key}.{name}" if self.key else name
        return dataclasses.replace(self, key=key)

    def with_rule(self, rule: str) -> _At:
        return dataclasses.replace(self, rule=rule)

    def fail(self, expected: str, got: object = ..., *, problem: str = "") -> NoReturn:
        where = self.key or "(top level)"
        if self.rule is not None:
            where += f" (rule {self.rule!r})"
        what = problem or f"expected {expected}"
        if got is not ...:
            what += f", got {got!r} ({type(got).__name__})"
        raise RulebookError(
            f"rulebook {self.file}: {where}: {what}",
            file=self.file,
            key=self.key or None,
        )


def _string(v: object, at: _At) -> str:
    if not isinstance(v, str) or not v.strip():
        at.fail("a non-empty string", v)
    return v


def _text(v: object, at: _At) -> str:
    if not isinstance(v, str):
        at.fail("a string", v)
    return v


def _ident(v: object, at: _At) -> str:
    s = _string(v, at)
    if any(c.isspace() for c in s):
        at.fail("an id without spaces", v)
    return s


def _boolean(v: object, at: _At) -> bool:
    if not isinstance(v, bool):
        at.fail("true or false", v)
    return v


def _number(v: object, at: _At) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        at.fail("a number", v)
    return float(v)


def _factor(v: object, at: _At) -> float:
    f = _number(v, at)
    if f < 0:
        at.fail("a number >= 0 (0 excluded, 0.5 half, 1 in full)", v)
    return f


def _choice(choices: Sequence[str]) -> Callable[[object, _At], str]:
    def parse(v: object, at: _At) -> str:
        if not isinstance(v, str) or v not in choices:
            at.fail("one of " + ", ".join(repr(c) for c in choices), v)
        return v

    return parse


def _date(v: object, at: _At) -> date:
    if isinstance(v, datetime):
        at.fail("a date without a time, e.g. 2014-07-01", v)
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    at.fail("a date, e.g. effective = 2014-07-01", v)


def _list(v: object, at: _At) -> Sequence[object]:
    if not isinstance(v, list | tuple):
        at.fail("a list, e.g. [...]", v)
    return v


def _strings(v: object, at: _At) -> tuple[str, ...]:
    return tuple(_ident(x, at / i) for i, x in enumerate(_list(v, at)))


def _kinds(v: object, at: _At) -> tuple[str, ...]:
    items = _list(v, at)
    if not items:
        at.fail('a non-empty list of element kinds, e.g. ["floor"]', v)
    out = []
    for i, k in enumerate(items):
        if not isinstance(k, str) or k not in ELEMENT_KINDS:
            (at / i).fail("an element kind: " + ", ".join(ELEMENT_KINDS), k)
        out.append(k)
    return tuple(out)


def _measure(v: object, at: _At) -> str:
    s = _ident(v, at)
    if not s.endswith("_m2"):
        at.fail("an element column of areas, ending in _m2 (e.g. area_m2)", v)
    return s


def _conditions(v: object, at: _At) -> tuple[Condition, ...]:
    out = []
    for i, item in enumerate(_list(v, at)):
        here = at / i
        if isinstance(item, Condition):
            item = [item.attribute, item.op, item.value]
        if not isinstance(item, list | tuple) or len(item) != 3:
            here.fail(
                '[attribute, op, value], e.g. ["structural_height_m", ">=", 2.2]', item
            )
        attr, op, value = item
        if not isinstance(attr, str) or attr not in CONDITION_ATTRIBUTES:
            (here / 0).fail(
                "an element attribute: " + ", ".join(CONDITION_ATTRIBUTES), attr
            )
        if not isinstance(op, str) or op not in CONDITION_OPS:
            (here / 1).fail("an op: " + ", ".join(CONDITION_OPS), op)
        if CONDITION_ATTRIBUTES[attr] == "bool":
            if not isinstance(value, bool):
                (here / 2).fail(f"true or false ({attr} is boolean)", value)
            if op not in ("==", "!="):
                (here / 1).fail(f"'==' or '!=' ({attr} is boolean)", op)
            out.append(Condition(attr, op, value))
        else:
            out.append(Condition(attr, op, _number(value, here / 2)))
    return tuple(out)


def _threshold_value(v: object, at: _At) -> ThresholdValue:
    if isinstance(v, list | tuple):
        if len(v) != 2:
            at.fail("a number or [lo, hi]", v)
        lo, hi = _number(v[0], at / 0), _number(v[1], at / 1)
        if lo > hi:
            at.fail("[lo, hi] with lo <= hi", v)
        return (lo, hi)
    return _number(v, at)


def _threshold(v: object, at: _At) -> Threshold:
    if isinstance(v, ThresholdTable):
        return v
    if not isinstance(v, dict):
        return _threshold_value(v, at)
    _check_keys(v, {"by", "values", "default"}, {"by", "values"}, at)
    by_raw = v["by"]
    by = (
        (_ident(by_raw, at / "by"),)
        if isinstance(by_raw, str)
        else (_strings(by_raw, at / "by"))
    )
    if not by or len(set(by)) != len(by):
        (at / "by").fail("a parameter name or a list of distinct names", by_raw)
    values: dict[tuple[str, ...], ThresholdValue] = {}

    def walk(node: object, keys: tuple[str, ...], here: _At) -> None:
        if len(keys) == len(by):
            values[keys] = _threshold_value(node, here)
            return
        if not isinstance(node, dict) or not node:
            here.fail(f"a table keyed by {by[len(keys)]}", node)
        for k, sub in node.items():
            walk(sub, (*keys, str(k)), here / str(k))

    walk(v["values"], (), at / "values")
    default = None
    if "default" in v:
        default = _threshold_value(v["default"], at / "default")
    return ThresholdTable(by=by, values=MappingProxyType(values), default=default)


_Parser = Callable[[object, _At], Any]


@dataclass(frozen=True)
class _Field:
    parse: _Parser
    required: bool = False


_BOOK_FIELDS: dict[str, _Field] = {
    "id": _Field(_ident, True),
    "title": _Field(_string, True),
    "jurisdiction": _Field(_string, True),
    "version": _Field(_string, True),
    "effective": _Field(_date),
    "extends": _Field(
        lambda v, at: (_ident(v, at),) if isinstance(v, str) else _strings(v, at)
    ),
    "source": _Field(_text),
    "note": _Field(_text),
    "area_rules": _Field(_list),
    "rules": _Field(_list),
    "overrides": _Field(
        lambda v, at: (
            v
            if isinstance(v, dict)
            else at.fail('a table of tables: [overrides."rule-id"]', v)
        )
    ),
}

_AREA_FIELDS: dict[str, _Field] = {
    "id": _Field(_ident, True),
    "kinds": _Field(_kinds, True),
    "factor": _Field(_factor, True),
    "clause": _Field(_string, True),
    "verified": _Field(_boolean, True),
    "conditions": _Field(_conditions),
    "basis": _Field(_choice(AREA_BASES)),
    "measure": _Field(_measure),
    "replaces": _Field(_strings),
    "note": _Field(_text),
}

_RULE_FIELDS: dict[str, _Field] = {
    "id": _Field(_ident, True),
    "indicator": _Field(_ident, True),
    "scope": _Field(_choice(SCOPES), True),
    "op": _Field(_choice(OPS), True),
    "threshold": _Field(_threshold, True),
    "unit": _Field(_string, True),
    "clause": _Field(_string, True),
    "verified": _Field(_boolean, True),
    "note": _Field(_text),
    "params": _Field(
        lambda v, at: (
            dict(v) if isinstance(v, dict) else at.fail("a table of parameters", v)
        )
    ),
}

#: Fields that carry no value: changing them does not unverify a rule.
_DOC_FIELDS = frozenset({"clause", "verified", "note"})


def _check_keys(
    raw: Mapping[str, object], allowed: Iterable[str], required: Iterable[str], at: _At
) -> None:
    allowed = list(allowed)
    for k in raw:
        if k not in allowed:
            close = difflib.get_close_matches(str(k), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            (at / str(k)).fail(
                "",
                problem="unknown key"
                + hint
                + "; expected one of "
                + ", ".join(allowed),
            )
    for k in required:
        if k not in raw:
            (at / k).fail("", problem="missing; this key is required")


def _parse_fields(
    raw: object, fields: Mapping[str, _Field], at: _At, what: str
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        at.fail(what, raw)
    rule_id = raw.get("id")
    if isinstance(rule_id, str) and "id" in fields and at.key:
        at = at.with_rule(rule_id)
    _check_keys(raw, fields, [k for k, f in fields.items() if f.required], at)
    return {k: fields[k].parse(v, at / k) for k, v in raw.items()}


def _check_area_rule(rule: AreaRule, at: _At) -> None:
    if rule.basis == "gfa" and rule.factor > 1:
        (at / "factor").fail(
            "",
            problem=f"factor {rule.factor:g} > 1 on a gross-floor-area rule; "
            'expected a number in [0, 1] (use basis = "far" for FAR multiples)',
        )
    if rule.id in rule.replaces:
        (at / "replaces").fail("ids of other rules", list(rule.replaces))


def _check_rule(rule: Rule, at: _At) -> None:
    t = rule.threshold
    leaves = (
        [*t.values.values(), *([] if t.default is None else [t.default])]
        if (isinstance(t, ThresholdTable))
        else [t]
    )
    for leaf in leaves:
        if rule.op == "between" and not isinstance(leaf, tuple):
            (at / "threshold").fail("[lo, hi] for op 'between'", leaf)
        if rule.op != "between" and isinstance(leaf, tuple):
            (at / "threshold").fail(f"a number for op {rule.op!r}", list(leaf))


def _area_rule(raw: object, at: _At, book: str) -> AreaRule:
    d = _parse_fields(raw, _AREA_FIELDS, at, "a table ([[area_rules]])")
    rule = AreaRule(**d, rulebook=book)
    _check_area_rule(rule, at.with_rule(rule.id))
    return rule


def _rule(raw: object, at: _At, book: str) -> Rule:
    d = _parse_fields(raw, _RULE_FIELDS, at, "a table ([[rules]])")
    rule = Rule(**d, rulebook=book)
    _check_rule(rule, at.with_rule(rule.id))
    return rule


def _unknown_id(rule_id: str, known: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(rule_id, known, n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return f"no {what} has id {rule_id!r}{hint}"


# --------------------------------------------------------------------------
# Overrides (from [overrides] tables and from override())

_R = TypeVar("_R", AreaRule, Rule)


def _fmt(v: object) -> str:
    if isinstance(v, ThresholdTable):
        return _threshold_str(v)
    if isinstance(v, tuple) and v and isinstance(v[0], Condition):
        return "[" + " and ".join(map(str, v)) + "]"
    return repr(v)


def _override_one(
    rule: _R, values: Mapping[str, object], at: _At, by: str
) -> tuple[_R, str]:
    fields = _AREA_FIELDS if isinstance(rule, AreaRule) else _RULE_FIELDS
    allowed = [k for k in fields if k != "id"]
    _check_keys(values, allowed, (), at)
    parsed = {k: fields[k].parse(v, at / k) for k, v in values.items()}
    changed = {k: v for k, v in parsed.items() if getattr(rule, k) != v}
    desc = (
        ", ".join(
            f"{k} {_fmt(getattr(rule, k))} -> {_fmt(v)}" for k, v in changed.items()
        )
        or "no change"
    )
    new = dataclasses.replace(rule, **parsed)
    valued = [k for k in changed if k not in _DOC_FIELDS]
    if valued and "verified" not in values:
        was = " (was verified)" if rule.verified else ""
        note = f"overridden by {by}: {desc}{was}"
        new = dataclasses.replace(
            new, verified=False, note=f"{new.note} [{note}]" if new.note else note
        )
    if isinstance(new, AreaRule):
        _check_area_rule(new, at)
    else:
        _check_rule(new, at)
    return new, f"{rule.id}: {desc} (by {by})"


def _apply_override(
    area: list[AreaRule],
    rules: list[Rule],
    rule_id: str,
    values: Mapping[str, object],
    at: _At,
    by: str,
) -> str:
    at = at.with_rule(rule_id)
    for i, a in enumerate(area):
        if a.id == rule_id:
            area[i], desc = _override_one(a, values, at, by)
            return desc
    for i, r in enumerate(rules):
        if r.id == rule_id:
            rules[i], desc = _override_one(r, values, at, by)
            return desc
    known = [r.id for r in area] + [r.id for r in rules]
    at.fail("", problem=_unknown_id(rule_id, known, "rule in this rulebook's chain"))


def override(rulebook: Rulebook, rule_id: str, **values: Any) -> Rulebook:
    """A copy of ``rulebook`` with values of one rule changed.

    Values are checked as in a rulebook file. Unless ``verified`` is given
    too, changing a value (anything but ``clause``, ``note``) marks the rule
    unverified and records the change in its ``note``; every change is also
    listed in :attr:`Rulebook.overrides`. The rule keeps its place in the
    precedence order.

    Parameters
    ----------
    rulebook
        The rulebook to change.
    rule_id
        Id of an area rule or compliance rule of the rulebook.
    **values
        New field values, e.g. ``factor=0.0`` or ``threshold=(1.0, 1.2)``.

    Returns
    -------
    Rulebook

    Raises
    ------
    RulebookError
        If the rule does not exist, a field is unknown, or a value is invalid.

    Examples
    --------
    >>> from cim.rules import load_rulebook, override
    >>> gb = load_rulebook("gbt50353-2013")
    >>> mine = override(gb, "gbt50353-3.0.21-outside", factor=0.0)
    >>> r = mine.area_rule("gbt50353-3.0.21-outside")
    >>> r.factor, r.verified
    (0.0, False)
    """
    label = str(rulebook.source_file) if rulebook.source_file else rulebook.id
    area, rules = list(rulebook.area_rules), list(rulebook.rules)
    at = _At(label, "overrides") / rule_id
    desc = _apply_override(area, rules, rule_id, values, at, "override()")
    if "replaces" in values:
        _check_replaces(area, {rule_id: at}, label)
    return dataclasses.replace(
        rulebook,
        area_rules=tuple(area),
        rules=tuple(rules),
        overrides=(*rulebook.overrides, desc),
    )


def _check_replaces(
    area: Sequence[AreaRule], where: Mapping[str, _At], label: str
) -> None:
    ids = [r.id for r in area]
    for r in area:
        for j, t in enumerate(r.replaces):
            if t not in ids:
                at = where.get(r.id, _At(label, "area_rules").with_rule(r.id))
                (at / "replaces" / j).fail(
                    "", problem=_unknown_id(t, ids, "area rule in the chain")
                )


# --------------------------------------------------------------------------
# Loading


@dataclass
class _Book:
    """One file, parsed but not resolved."""

    path: Path
    head: dict[str, Any]
    area_rules: list[AreaRule]
    rules: list[Rule]
    where: dict[str, _At]
    overrides: list[tuple[str, dict[str, object], _At]] = field(default_factory=list)
    extends_at: list[_At] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.head["id"])

    @property
    def extends(self) -> tuple[str, ...]:
        ext: tuple[str, ...] = self.head.get("extends", ())
        return ext


def _rules_dir() -> Path:
    return asset_path("rules")


def available_rulebooks() -> list[str]:
    """Ids of the bundled rulebooks (``assets/rules/*.toml``).

    Returns
    -------
    list of str
    """
    return sorted(p.stem for p in _rules_dir().glob("*.toml"))


def _is_path(ref: str | os.PathLike[str]) -> bool:
    if isinstance(ref, os.PathLike):
        return True
    return ref.endswith(".toml") or "/" in ref or "\\" in ref


def _locate(
    ref: str | os.PathLike[str], *, relative_to: Path | None, at: _At | None
) -> Path:
    if _is_path(ref):
        path = Path(ref)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if path.is_file():
            return path.resolve()
        problem = f"no rulebook file {str(path)!r}"
        expected = "an existing .toml file" + (
            f" (relative paths are read from {relative_to})" if relative_to else ""
        )
    else:
        path = _rules_dir() / f"{ref}.toml"
        if path.is_file():
            return path.resolve()
        problem = f"no bundled rulebook {ref!r}"
        expected = (
            "a bundled id (" + ", ".join(available_rulebooks()) + ") or a path to a "
            ".toml file"
        )
    if at is None:
        raise RulebookError(f"{problem}; expected {expected}", file=str(path))
    at.fail("", problem=f"{problem}; expected {expected}")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        msg = f"rulebook {path}: not valid TOML ({exc}); fix the syntax there"
        raise RulebookError(msg, file=str(path)) from exc
    except OSError as exc:
        msg = f"rulebook {path}: cannot be read ({exc})"
        raise RulebookError(msg, file=str(path)) from exc


def _parse_book(path: Path) -> _Book:
    raw = _read(path)
    at = _At(str(path))
    head = _parse_fields(raw, _BOOK_FIELDS, at, "a table")
    book_id = head["id"]
    if path.parent == _rules_dir().resolve() and book_id != path.stem:
        (at / "id").fail(f"{path.stem!r}, the file's name (bundled rulebook)", book_id)
    seen: dict[str, str] = {}
    where: dict[str, _At] = {}

    def unique(rule_id: str, key: str, here: _At) -> None:
        if rule_id in seen:
            (here / "id").fail(
                "",
                problem=f"duplicate id {rule_id!r}, also at "
                f"{seen[rule_id]}; expected ids unique in a rulebook",
            )
        seen[rule_id] = key
        where[rule_id] = here.with_rule(rule_id)

    area_rules = []
    for i, r in enumerate(head.pop("area_rules", [])):
        here = at / "area_rules" / i
        rule = _area_rule(r, here, book_id)
        unique(rule.id, here.key, here)
        area_rules.append(rule)
    rules = []
    for i, r in enumerate(head.pop("rules", [])):
        here = at / "rules" / i
        crule = _rule(r, here, book_id)
        unique(crule.id, here.key, here)
        rules.append(crule)
    overrides = []
    for rule_id, values in head.pop("overrides", {}).items():
        here = at / "overrides" / rule_id
        if not isinstance(values, dict):
            here.fail("a table of new values, e.g. factor = 0.0", values)
        overrides.append((str(rule_id), values, here))
    ext = at / "extends"
    extends_at = (
        [ext]
        if isinstance(raw.get("extends"), str)
        else [ext / i for i in range(len(head.get("extends", ())))]
    )
    return _Book(path, head, area_rules, rules, where, overrides, extends_at)


_S = TypeVar("_S", AreaRule, Rule)


def _merge(below: list[_S], own: Sequence[_S]) -> list[_S]:
    """Put a book's rules over those of the books below it (see module doc)."""
    merged = list(below)
    index = {r.id: i for i, r in enumerate(merged)}
    block = []
    for r in own:
        if r.id in index:
            merged[index[r.id]] = r
        else:
            block.append(r)
    return block + merged


def load_rulebook(name_or_path: str | os.PathLike[str]) -> Rulebook:
    """Read a rulebook and resolve its ``extends`` chain.

    Parameters
    ----------
    name_or_path
        A bundled rulebook id (see :func:`available_rulebooks`), e.g.
        ``"gbt50353-2013"``, or the path of a TOML file (a string ending in
        ``.toml`` or containing a ``/``, or a :class:`os.PathLike`).

    Returns
    -------
    Rulebook
        With the area and compliance rules of the whole chain in precedence
        order (format and semantics in the module documentation).

    Raises
    ------
    RulebookError
        Naming the file and key, if a file is missing or not TOML, a key is
        unknown or missing, a value is of the wrong type or out of range, ids
        repeat, ``extends`` forms a cycle, or ``replaces`` or ``[overrides]``
        name a rule that is not in the chain.

    Examples
    --------
    >>> from cim.rules import load_rulebook
    >>> zj = load_rulebook("zhejiang-future-community")
    >>> zj.chain
    ('zhejiang-future-community', 'gb50180-2018', 'gbt50353-2013')
    >>> zj.area_rules[0].id, zj.area_rules[0].verified
    ('zj-fc-balcony-far', False)
    """
    top = _locate(name_or_path, relative_to=None, at=None)
    books: dict[Path, _Book] = {}
    parents: dict[Path, list[Path]] = {}

    def visit(path: Path, stack: tuple[Path, ...]) -> None:
        if path in books:
            return
        book = _parse_book(path)
        books[path] = book
        parents[path] = []
        for ref, here in zip(book.extends, book.extends_at, strict=True):
            parent = _locate(ref, relative_to=path.parent, at=here)
            if parent in (*stack, path):
                names = [p.name for p in (*stack, path)]
                start = names.index(parent.name)
                cycle = " -> ".join([*names[start:], parent.name])
                here.fail(
                    "",
                    problem=f"extends cycle {cycle}; expected a chain that "
                    "ends in a rulebook without extends",
                )
            if parent in parents[path]:
                here.fail("", problem=f"{ref!r} is listed twice")
            parents[path].append(parent)
            visit(parent, (*stack, path))

    visit(top, ())

    def linear(path: Path) -> list[Path]:
        out = [path]
        for p in parents[path]:
            out += linear(p)
        return out

    order: list[Path] = []
    for p in reversed(linear(top)):  # keep each book's last place
        if p not in order:
            order.insert(0, p)
    ids: dict[str, Path] = {}
    for p in order:
        other = ids.setdefault(books[p].id, p)
        if other != p:
            (_At(str(p)) / "id").fail(
                "",
                problem=f"id {books[p].id!r} is also the id of {other}; expected "
                "distinct ids in one chain",
            )

    # Lowest book first: each book's rules go over those below it, then its
    # overrides apply to what it sees (a higher book's redefinition wins).
    area: list[AreaRule] = []
    rules: list[Rule] = []
    where: dict[str, _At] = {}
    done: list[str] = []
    for b in (books[p] for p in reversed(order)):
        area = _merge(area, b.area_rules)
        rules = _merge(rules, b.rules)
        where.update(b.where)
        for rule_id, values, here in b.overrides:
            done.append(_apply_override(area, rules, rule_id, values, here, b.id))
            if "replaces" in values:
                where[rule_id] = here.with_rule(rule_id)
    _check_replaces(area, where, str(top))

    book = books[top]
    head = book.head
    return Rulebook(
        id=head["id"],
        title=head["title"],
        jurisdiction=head["jurisdiction"],
        version=head["version"],
        effective=head.get("effective"),
        extends=book.extends,
        source_file=top,
        area_rules=tuple(area),
        rules=tuple(rules),
        chain=tuple(books[p].id for p in order),
        source=head.get("source", ""),
        note=head.get("note", ""),
        overrides=tuple(done),
    )
