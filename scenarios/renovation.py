"""Renovation: renovate-or-rebuild classification and renovation packages.

Old residential estates are renovated (综合改造), partly rebuilt (拆改结合) or
rebuilt (拆除重建). This module

1. classifies existing buildings for that decision (:func:`classify`): age,
   structure (precast hollow-core floor slabs, which the provincial rules
   require to be demolished or renovated so that no safety risk remains),
   storeys without a lift, energy-code era. The rules are data
   (``assets/renovation/classification.toml``);
2. turns renovation packages, edit templates with costs per m2
   (``assets/renovation/packages.toml``, every cost an unverified
   placeholder with its source stated), into scenarios
   (:func:`plan_package`): comprehensive renovation (lifts, insulation,
   greening, service space), partial demolition and infill, full rebuild
   with FAR uplift;
3. evaluates each package (:class:`RenovationConfig` ``.run(twin)``, or
   :func:`compare_packages` for several): compliance before and after,
   sunlight lost by neighbours, service coverage change (the indicator
   modules of :mod:`scenarios.indicators`), cost, added saleable floor area
   and the fund balance (revenue minus cost) a pilot must reach; and ranks
   them (:attr:`RenovationStudy.ranking`).

Fund balance
------------
``cost`` is the sum of the bill: each cost item's rate [CNY/m2] times its
quantity [m2] (see ``packages.toml`` for the bases). The added saleable floor
area is the new residential gross floor area minus what is given back to the
residents (``rehousing_ratio`` x the demolished residential floor area), at
least 0; ``revenue = added saleable area x sale_price_cny_m2``;
``balance = revenue - cost``; a package is *balanced* when
``balance >= required_balance_cny``. Land, fees, finance and parking are not
costed: the balance is a screening figure.

Ranking
-------
A package is *feasible* when no precast-slab safety risk remains (the
classification of its twin flags no mandatory rule), no neighbour loses
sunlight compliance, and no compliance check fails that did not fail before
(the last two where their engines ran). Feasible packages rank first, then by
fund balance, highest first.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pandas as pd
import shapely

from cim._assets import asset_path
from cim.errors import CIMError
from scenarios import edits as E
from scenarios._frozen import Params, thaw
from scenarios.comparison import Comparison, compare
from scenarios.scenario import Scenario

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "COST_BASES",
    "Classification",
    "ClassificationRules",
    "CostItem",
    "Package",
    "PackageBook",
    "PackagePlan",
    "RenovationConfig",
    "RenovationDataError",
    "RenovationResult",
    "RenovationStudy",
    "classify",
    "compare_packages",
    "demo",
    "load_classification_rules",
    "load_packages",
    "plan_package",
    "sample_estate",
    "whole_storeys",
]

#: Quantities a cost rate applies to.
COST_BASES = (
    "gfa",
    "demolished_gfa",
    "demolished_residential_gfa",
    "new_gfa",
    "green_area",
    "service_area",
)
#: Steps of a package.
STEP_OPS = ("retrofit", "rebuild", "roof_greening", "service_space")
#: Condition operators of classification rules.
CONDITION_OPS = ("<", "<=", ">", ">=", "==", "!=", "in")
_RESIDENTIAL = ("residential", "mixed")
#: Indicator modules a renovation study runs by default (where available).
DEFAULT_INDICATORS = ("takeoff", "compliance", "sunlight", "circles")


class RenovationDataError(CIMError, ValueError):
    """A renovation data file (classification rules, packages) is invalid."""


# -- data files ------------------------------------------------------------------------


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        msg = f"{path}: no such {what} file"
        raise RenovationDataError(msg) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML ({exc}); fix the syntax there"
        raise RenovationDataError(msg) from exc


def _need(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        msg = f"{where}: missing key {key!r}"
        raise RenovationDataError(msg)
    return table[key]


@dataclass(frozen=True)
class Era:
    """An energy-code era: buildings completed before ``until`` (exclusive)."""

    id: str
    until: int | None
    label: str = ""
    source: str = ""
    verified: bool = False


@dataclass(frozen=True)
class ClassRule:
    """One classification rule: conditions, the action flag it sets, its source."""

    id: str
    label: str
    conditions: tuple[tuple[str, str, Any], ...]
    action: str
    mandatory: bool
    recommendation: str
    source: str
    verified: bool


@dataclass(frozen=True)
class ClassificationRules:
    """The classification rules of one file (see ``classification.toml``)."""

    id: str
    title: str
    defaults: Params
    eras: tuple[Era, ...]
    rules: tuple[ClassRule, ...]
    source_file: str = ""
    flags: Params = field(default_factory=Params)

    @property
    def actions(self) -> tuple[str, ...]:
        """Action flags the rules set, in rule order."""
        return tuple(dict.fromkeys(r.action for r in self.rules))


def load_classification_rules(
    path: str | os.PathLike[str] | None = None,
) -> ClassificationRules:
    """Read classification rules (default: the bundled ``classification.toml``).

    Parameters
    ----------
    path
        A TOML file in the format of ``assets/renovation/classification.toml``.

    Returns
    -------
    ClassificationRules

    Raises
    ------
    RenovationDataError
        Naming the file and key, for missing keys and invalid operators.
    """
    p = (
        Path(path)
        if path is not None
        else asset_path("renovation", "classification.toml")
    )
    raw = _read_toml(p, "classification rules")
    eras = []
    for i, e in enumerate(raw.get("eras", [])):
        where = f"{p}: eras[{i}]"
        until = e.get("until")
        eras.append(
            Era(
                id=str(_need(e, "id", where)),
                until=None if until is None else int(until),
                label=str(e.get("label", "")),
                source=str(e.get("source", "")),
                verified=bool(e.get("verified", False)),
            )
        )
    rules = []
    for i, r in enumerate(raw.get("rules", [])):
        where = f"{p}: rules[{i}]"
        conds = []
        for j, c in enumerate(_need(r, "conditions", where)):
            if not (isinstance(c, list) and len(c) == 3):
                msg = (
                    f"{where}.conditions[{j}]: expected [attribute, op, value], "
                    f"got {c!r}"
                )
                raise RenovationDataError(msg)
            attr, op, value = c
            if op not in CONDITION_OPS:
                msg = (
                    f"{where}.conditions[{j}]: invalid op {op!r}; expected one of "
                    f"{', '.join(CONDITION_OPS)}"
                )
                raise RenovationDataError(msg)
            if op == "in" and not isinstance(value, list):
                msg = f"{where}.conditions[{j}]: op 'in' needs a list, got {value!r}"
                raise RenovationDataError(msg)
            conds.append((str(attr), str(op), tuple(value) if op == "in" else value))
        rules.append(
            ClassRule(
                id=str(_need(r, "id", where)),
                label=str(r.get("label", "")),
                conditions=tuple(conds),
                action=str(_need(r, "action", where)),
                mandatory=bool(r.get("mandatory", False)),
                recommendation=str(r.get("recommendation", r.get("action"))),
                source=str(_need(r, "source", where)),
                verified=bool(_need(r, "verified", where)),
            )
        )
    return ClassificationRules(
        id=str(raw.get("id", p.stem)),
        title=str(raw.get("title", "")),
        defaults=Params(raw.get("defaults", {})),
        flags=Params(raw.get("flags", {})),
        eras=tuple(eras),
        rules=tuple(rules),
        source_file=str(p),
    )


@dataclass(frozen=True)
class CostItem:
    """One cost of a package: a rate per m2 of a quantity, with its source."""

    item: str
    basis: str
    rate_cny_m2: float
    select: str | None
    verified: bool
    source: str


@dataclass(frozen=True)
class Step:
    """One step of a package's edit template."""

    op: str
    select: str
    fields: Params


@dataclass(frozen=True)
class Package:
    """A renovation package: edit template, default FAR uplift, costs."""

    id: str
    title: str
    description: str
    far_uplift: float
    steps: tuple[Step, ...]
    costs: tuple[CostItem, ...]

    @property
    def rebuilds(self) -> bool:
        """Whether the package rebuilds buildings (so FAR uplift applies)."""
        return any(s.op == "rebuild" for s in self.steps)


@dataclass(frozen=True)
class Parameter:
    """A parameter of the fund balance, with unit and source."""

    value: float
    unit: str
    verified: bool
    source: str


@dataclass(frozen=True)
class PackageBook:
    """The packages and parameters of one file (see ``packages.toml``)."""

    id: str
    currency: str
    parameters: Mapping[str, Parameter]
    packages: Mapping[str, Package]
    source_file: str = ""

    def package(self, name: str) -> Package:
        """The package ``name``; the error lists the packages there are."""
        if name not in self.packages:
            msg = (
                f"invalid package {name!r}; expected one of "
                f"{', '.join(self.packages)} ({self.source_file})"
            )
            raise RenovationDataError(msg)
        return self.packages[name]


def load_packages(path: str | os.PathLike[str] | None = None) -> PackageBook:
    """Read renovation packages (default: the bundled ``packages.toml``).

    Parameters
    ----------
    path
        A TOML file in the format of ``assets/renovation/packages.toml``.

    Returns
    -------
    PackageBook

    Raises
    ------
    RenovationDataError
        Naming the file and key, for missing keys, unknown steps and bases,
        and negative rates.
    """
    p = Path(path) if path is not None else asset_path("renovation", "packages.toml")
    raw = _read_toml(p, "renovation packages")
    params = {}
    for k, v in raw.get("parameters", {}).items():
        where = f"{p}: parameters.{k}"
        params[str(k)] = Parameter(
            value=float(_need(v, "value", where)),
            unit=str(v.get("unit", "")),
            verified=bool(_need(v, "verified", where)),
            source=str(_need(v, "source", where)),
        )
    packages = {}
    for i, pk in enumerate(raw.get("packages", [])):
        where = f"{p}: packages[{i}]"
        steps = []
        for j, s in enumerate(pk.get("steps", [])):
            op = str(_need(s, "op", f"{where}.steps[{j}]"))
            if op not in STEP_OPS:
                msg = (
                    f"{where}.steps[{j}]: invalid op {op!r}; expected one of "
                    f"{', '.join(STEP_OPS)}"
                )
                raise RenovationDataError(msg)
            rest = {k: v for k, v in s.items() if k not in ("op", "select")}
            steps.append(
                Step(op=op, select=str(s.get("select", "scope")), fields=Params(rest))
            )
        costs = []
        for j, c in enumerate(pk.get("costs", [])):
            cw = f"{where}.costs[{j}]"
            basis = str(_need(c, "basis", cw))
            if basis not in COST_BASES:
                msg = (
                    f"{cw}: invalid basis {basis!r}; expected one of "
                    f"{', '.join(COST_BASES)}"
                )
                raise RenovationDataError(msg)
            rate = float(_need(c, "rate_cny_m2", cw))
            if not rate >= 0:
                msg = f"{cw}: rate_cny_m2 must be >= 0, got {rate}"
                raise RenovationDataError(msg)
            costs.append(
                CostItem(
                    item=str(_need(c, "item", cw)),
                    basis=basis,
                    rate_cny_m2=rate,
                    select=c.get("select"),
                    verified=bool(_need(c, "verified", cw)),
                    source=str(_need(c, "source", cw)),
                )
            )
        pid = str(_need(pk, "id", where))
        packages[pid] = Package(
            id=pid,
            title=str(pk.get("title", pid)),
            description=str(pk.get("description", "")),
            far_uplift=float(pk.get("far_uplift", 0.0)),
            steps=tuple(steps),
            costs=tuple(costs),
        )
    return PackageBook(
        id=str(raw.get("id", p.stem)),
        currency=str(raw.get("currency", "CNY")),
        parameters=params,
        packages=packages,
        source_file=str(p),
    )


# -- classification --------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    """Buildings classified for the renovate-or-rebuild decision.

    Parameters
    ----------
    table
        One row per building (the twin's order): ``building_id``, ``use``,
        ``year_built``, ``age_years`` [year], ``floors``, ``structure``,
        ``has_lift``, ``era``; one bool column per action flag
        (``renovate_or_demolish``, ``lift_retrofit`` ...); ``actions`` (the
        flags set, comma-separated), ``mandatory`` (a mandatory rule
        matched), ``recommendation``, ``rule_ids`` and ``assumed`` (the
        attributes taken from the rules' defaults).
    rules
        The rules used.
    year
        Reference year of ``age_years``.
    """

    table: pd.DataFrame
    rules: ClassificationRules
    year: int

    def ids(self, action: str) -> list[str]:
        """Ids of the buildings flagged with ``action``."""
        if action not in self.table.columns:
            msg = (
                f"invalid action {action!r}; expected one of "
                f"{', '.join(self.rules.actions)}"
            )
            raise KeyError(msg)
        t = self.table
        return [str(i) for i in t.loc[t[action].to_numpy(dtype=bool), "building_id"]]

    def summary(self) -> pd.DataFrame:
        """Buildings per action flag, with the rule and its source."""
        rows = []
        for r in self.rules.rules:
            rows.append(
                {
                    "action": r.action,
                    "rule": r.id,
                    "buildings": int(self.table[r.action].sum()),
                    "mandatory": r.mandatory,
                    "verified": r.verified,
                    "source": r.source,
                }
            )
        return pd.DataFrame(rows)


def _era_of(year: pd.Series, eras: Sequence[Era]) -> pd.Series:
    y = year.to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(y), None, dtype=object)
    done = np.isnan(y)
    for era in eras:
        sel = ~done if era.until is None else (~done & (y < era.until))
        out[sel] = era.id
        done |= sel
    return pd.Series(out, index=year.index, dtype="str")


def _condition(
    frame: pd.DataFrame, attr: str, op: str, value: Any, where: str
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    from cim.rules import compare

    if attr not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    col = frame[attr]
    known = col.notna().to_numpy()
    if op == "in":
        return np.asarray(known & col.isin(list(value)).to_numpy(), dtype=bool)
    if isinstance(value, bool):
        if op not in ("==", "!="):
            _bad_op(where, op, value)
        eq = (col.astype("boolean") == value).fillna(False).to_numpy(dtype=bool)
        return np.asarray(known & (eq if op == "==" else ~eq), dtype=bool)
    if isinstance(value, (int, float)):
        nums = pd.to_numeric(col, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        return np.asarray(compare(nums, op, float(value)), dtype=bool)
    if op not in ("==", "!="):
        _bad_op(where, op, value)
    eq = (col.astype(str) == str(value)).to_numpy()
    return np.asarray(known & (eq if op == "==" else ~eq), dtype=bool)


def _bad_op(where: str, op: str, value: Any) -> NoReturn:
    msg = f"{where}: op {op!r} does not apply to {value!r}; use == or != (or in)"
    raise RenovationDataError(msg)


def classify(
    twin: Twin,
    *,
    rules: ClassificationRules | str | os.PathLike[str] | None = None,
    year: int | None = None,
) -> Classification:
    """Classify a twin's buildings for the renovate-or-rebuild decision.

    Parameters
    ----------
    twin
        The twin; it is not modified.
    rules
        Classification rules, or the path of a rules file; default the
        bundled ``assets/renovation/classification.toml``.
    year
        Reference year for ``age_years``; default this year.

    Returns
    -------
    Classification

    Examples
    --------
    >>> from scenarios.renovation import classify, sample_estate
    >>> c = classify(sample_estate(), year=2026)
    >>> len(c.ids("renovate_or_demolish"))
    6
    """
    book = (
        rules
        if isinstance(rules, ClassificationRules)
        else load_classification_rules(rules)
    )
    ref = int(year if year is not None else _dt.date.today().year)
    b = twin.buildings
    frame = pd.DataFrame({c: b[c] for c in b.columns if c != "geometry"}).reset_index(
        drop=True
    )
    assumed = np.full(len(frame), "", dtype=object)
    fills = [(k, v, True) for k, v in book.defaults.items()]
    fills += [(k, v, False) for k, v in book.flags.items()]
    for k, v, report in fills:
        if k not in frame.columns:
            frame[k] = pd.Series([v] * len(frame), dtype=E.column_dtype(v))
            missing = np.ones(len(frame), dtype=bool)
        else:
            missing = frame[k].isna().to_numpy()
            if missing.any():
                col = frame[k].astype(object)
                col[missing] = v
                frame[k] = col.astype(E.column_dtype(v))
        if report:
            assumed[missing] = [f"{a}, {k}" if a else k for a in assumed[missing]]
    yb = (
        frame["year_built"]
        if "year_built" in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    frame["age_years"] = ref - pd.to_numeric(yb, errors="coerce").astype("float64")
    frame["era"] = _era_of(yb, book.eras)
    flags: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {
        a: np.zeros(len(frame), dtype=bool) for a in book.actions
    }
    recommendation = np.full(len(frame), "keep", dtype=object)
    decided = np.zeros(len(frame), dtype=bool)
    mandatory = np.zeros(len(frame), dtype=bool)
    rule_ids = np.full(len(frame), "", dtype=object)
    for i, r in enumerate(book.rules):
        where = f"{book.source_file}: rules[{i}] ({r.id})"
        mask = np.ones(len(frame), dtype=bool)
        for attr, op, value in r.conditions:
            mask &= _condition(frame, attr, op, value, where)
        flags[r.action] |= mask
        mandatory |= mask & r.mandatory
        recommendation[mask & ~decided] = r.recommendation
        decided |= mask
        rule_ids[mask] = [f"{x}, {r.id}" if x else r.id for x in rule_ids[mask]]
    keep = ["building_id", "use", "year_built", "age_years", "floors", "structure"]
    out = frame[[c for c in keep if c in frame.columns]].copy()
    out["has_lift"] = frame["has_lift"] if "has_lift" in frame.columns else pd.NA
    out["era"] = frame["era"]
    for a, m in flags.items():
        out[a] = m
    out["actions"] = [
        ", ".join(a for a in book.actions if flags[a][i]) for i in range(len(frame))
    ]
    out["mandatory"] = mandatory
    out["recommendation"] = pd.array(recommendation, dtype="str")
    out["rule_ids"] = pd.array(rule_ids, dtype="str")
    out["assumed"] = pd.array(assumed, dtype="str")
    return Classification(table=out, rules=book, year=ref)


# -- packages as scenarios -------------------------------------------------------------


@dataclass(frozen=True)
class PackagePlan:
    """A package made concrete for one twin: its scenario and quantities.

    Parameters
    ----------
    package
        The package.
    scenario
        Its edits on the twin.
    selections
        Building ids of each selector used (``scope``, ``kept``, actions),
        as the package's steps and costs saw them.
    rebuilt
        Ids of the buildings rebuilt.
    far_uplift
        FAR uplift aimed at [-].
    green_area_m2
        Roof greening added [m2].
    service_area_m2
        Community service space added [m2].
    """

    package: Package
    scenario: Scenario
    selections: Mapping[str, tuple[str, ...]]
    rebuilt: tuple[str, ...]
    far_uplift: float
    green_area_m2: float
    service_area_m2: float


def _selection(
    select: str,
    classification: Classification,
    scope: Sequence[str],
    rebuilt: Sequence[str],
) -> list[str]:
    in_scope = list(scope)
    if select == "scope":
        return in_scope
    if select == "kept":
        return [i for i in in_scope if i not in rebuilt]
    flagged = set(classification.ids(select))
    # Flags describe the existing buildings: a rebuilt one no longer has them.
    return [i for i in in_scope if i in flagged and i not in rebuilt]


def _new_id(prefix: str, taken: set[str]) -> str:
    candidate, n = prefix, 1
    while candidate in taken:
        n += 1
        candidate = f"{prefix}-{n}"
    taken.add(candidate)
    return candidate


def plan_package(
    twin: Twin,
    package: Package,
    classification: Classification,
    *,
    scope: Sequence[str] | None = None,
    far_uplift: float | None = None,
    parameters: Mapping[str, float] | None = None,
    year: int | None = None,
    rulebook: str = "zhejiang-future-community",
) -> PackagePlan:
    """The scenario of a package on a twin (its steps made into edits).

    Parameters
    ----------
    twin
        The twin.
    package
        The package (:func:`load_packages`).
    classification
        The twin's classification (:func:`classify`).
    scope
        Buildings in the renovation scope; default those flagged
        ``old_community``.
    far_uplift
        FAR uplift [-]; default the package's.
    parameters
        Values of the package file's parameters (``max_floors``,
        ``new_storey_height_m``).
    year
        Completion year of rebuilt buildings; default the classification's.
    rulebook
        Rulebook of the floor-area take-off behind the uplift.

    Returns
    -------
    PackagePlan
    """
    from cim.takeoff import twin_takeoff

    params = dict(parameters or {})
    ids = scope if scope is not None else classification.ids("old_community")
    if ids:
        E.require_ids(twin, "buildings", ids)
    uplift = package.far_uplift if far_uplift is None else float(far_uplift)
    if uplift < 0 or not math.isfinite(uplift):
        msg = f"far_uplift must be a finite number >= 0, got {far_uplift!r}"
        raise ValueError(msg)
    b = twin.buildings.set_index(twin.buildings["building_id"].astype(str))
    taken_g = set(twin.greens["green_id"].astype(str))
    taken_f = set(twin.facilities["facility_id"].astype(str))
    edits: list[E.Edit] = []
    selections: dict[str, tuple[str, ...]] = {"scope": tuple(ids)}
    rebuilt: list[str] = []
    green = service = 0.0
    gfa = None
    households_after = {
        str(i): float(h)
        for i, h in zip(
            twin.buildings["building_id"],
            twin.buildings["households"].to_numpy(dtype="float64", na_value=0.0),
            strict=True,
        )
    }
    for step in package.steps:
        sel = _selection(step.select, classification, ids, rebuilt)
        selections.setdefault(step.select, tuple(sel))
        if not sel:
            continue
        f = step.fields
        if step.op == "retrofit":
            edits.append(E.Retrofit(ids=tuple(sel), attributes=f["attributes"]))
        elif step.op == "rebuild":
            if gfa is None:
                gfa = twin_takeoff(twin, rulebook).by_building["gross_floor_area_m2"]
            footprint = b.loc[sel].geometry.area.to_numpy()
            added = uplift * twin.site_area_m2()
            target = gfa.reindex(sel).to_numpy() + added * footprint / footprint.sum()
            max_floors = int(f.get("max_floors", params.get("max_floors", 33)))
            floors = whole_storeys(target, footprint, max_floors=max_floors)
            sh = float(
                f.get(
                    "storey_height_m",
                    params.get("new_storey_height_m", E.storey_height(twin)),
                )
            )
            built = int(year if year is not None else classification.year)
            ratio = float(params.get("rehousing_ratio", 1.0))
            dwelling = E.dwelling_gfa(twin)
            for bid, n, fp in zip(sel, floors, footprint, strict=True):
                # Residents return (rehousing_ratio x their floor area, in as
                # many dwellings as before); the rest is sold in dwellings of
                # the twin's dwelling size.
                households = None
                old_hh = b.loc[bid, "households"]
                if b.loc[bid, "use"] in _RESIDENTIAL and not pd.isna(old_hh):
                    extra = max(0.0, n * fp - ratio * float(gfa.get(bid, 0.0)))
                    households = int(old_hh) + math.floor(extra / dwelling)
                    households_after[bid] = float(households)
                edits.append(
                    E.ReplaceBuilding(
                        id=bid,
                        floors=int(n),
                        storey_height_m=sh,
                        households=households,
                        households_source=None if households is None else "estimated",
                        year_built=built,
                        structure="reinforced_concrete",
                        attributes={"has_lift": True},
                    )
                )
            rebuilt += sel
        elif step.op == "roof_greening":
            share = float(f.get("share", 0.3))
            depth = f.get("soil_depth_m")
            for bid in sel:
                area = share * float(b.loc[bid].geometry.area)
                edits.append(
                    E.AddGreen(
                        id=_new_id(f"roof-{bid}", taken_g),
                        kind="roof",
                        building_id=bid,
                        area_m2=area,
                        soil_depth_m=depth,
                    )
                )
                green += area
        elif step.op == "service_space":
            area = float(f.get("area_m2", 0.0))
            per_100 = f.get("per_100_households_m2")
            if per_100 is not None:
                households = sum(households_after.values())
                area = max(area, math.ceil(float(per_100) * households / 100.0))
            host = max(sel, key=lambda i: float(b.loc[i].geometry.area))
            current = 0.0 if host in rebuilt else b.loc[host].get("service_space_m2")
            current = 0.0 if current is None or pd.isna(current) else float(current)
            edits.append(
                E.Retrofit(ids=(host,), attributes={"service_space_m2": current + area})
            )
            at = shapely.Point(b.loc[host].geometry.representative_point())
            for cat in f.get("categories", ()):
                edits.append(
                    E.AddFacility(
                        id=_new_id(f"reno-{cat}", taken_f),
                        category=cat,
                        location=at,
                        name=f"{package.id}: {cat}",
                    )
                )
            service += area
    for c in package.costs:
        if c.select is not None:
            selections.setdefault(
                c.select, tuple(_selection(c.select, classification, ids, rebuilt))
            )
    scenario = Scenario(package.id, edits=tuple(edits), description=package.title)
    return PackagePlan(
        package=package,
        scenario=scenario,
        selections=selections,
        rebuilt=tuple(rebuilt),
        far_uplift=uplift if package.rebuilds else 0.0,
        green_area_m2=green,
        service_area_m2=service,
    )


def whole_storeys(
    target_m2: Any, footprint_m2: Any, *, max_floors: int
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Whole storeys per building whose total floor area comes closest to a target.

    Each building gets the storeys below its own target, then buildings with
    the largest remainders get one more storey while that brings the total
    closer to the summed target (the largest-remainder method), so the FAR
    reached is the one aimed at to within half a storey of one building.

    Parameters
    ----------
    target_m2
        ``(n,)`` floor area aimed at per building [m2].
    footprint_m2
        ``(n,)`` footprint (area of one storey) [m2].
    max_floors
        Storeys at most.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` int storeys, between 1 and ``max_floors``.

    Examples
    --------
    >>> from scenarios.renovation import whole_storeys
    >>> whole_storeys([1400.0, 1400.0], [200.0, 200.0], max_floors=30).tolist()
    [7, 7]
    >>> whole_storeys([1300.0, 1300.0], [200.0, 200.0], max_floors=30).tolist()
    [7, 6]
    """
    target = np.asarray(target_m2, dtype="float64")
    fp = np.asarray(footprint_m2, dtype="float64")
    exact = target / fp
    floors = np.clip(np.floor(exact + 1e-9), 1, max_floors)
    short = float(target.sum() - (floors * fp).sum())
    for i in np.argsort(-(exact - floors), kind="stable"):
        if floors[i] >= max_floors or short < fp[i] / 2:
            continue
        floors[i] += 1
        short -= fp[i]
    return np.asarray(floors, dtype=np.int64)


# -- costs and the fund balance --------------------------------------------------------


def _bill(
    plan: PackagePlan,
    baseline: Twin,
    proposed: Twin,
    gfa_before: pd.Series,
    gfa_after: pd.Series,
) -> tuple[pd.DataFrame, dict[str, float]]:
    b0 = baseline.buildings.set_index(baseline.buildings["building_id"].astype(str))
    b1 = proposed.buildings.set_index(proposed.buildings["building_id"].astype(str))
    rebuilt = list(plan.rebuilt)
    res0 = [i for i in rebuilt if b0.loc[i, "use"] in _RESIDENTIAL]
    res1 = [i for i in rebuilt if b1.loc[i, "use"] in _RESIDENTIAL]
    q = {
        "demolished_gfa": float(gfa_before.reindex(rebuilt).sum()),
        "demolished_residential_gfa": float(gfa_before.reindex(res0).sum()),
        "new_gfa": float(gfa_after.reindex(rebuilt).sum()),
        "new_residential_gfa": float(gfa_after.reindex(res1).sum()),
        "green_area": plan.green_area_m2,
        "service_area": plan.service_area_m2,
    }
    rows = []
    for c in plan.package.costs:
        if c.basis == "gfa":
            ids = plan.selections.get(c.select or "scope", ())
            qty = float(gfa_before.reindex(list(ids)).sum())
        else:
            qty = q[c.basis]
        rows.append(
            {
                "item": c.item,
                "select": c.select or "",
                "basis": c.basis,
                "quantity_m2": qty,
                "rate_cny_m2": c.rate_cny_m2,
                "cost_cny": qty * c.rate_cny_m2,
                "verified": c.verified,
                "source": c.source,
            }
        )
    bill = pd.DataFrame(
        rows,
        columns=[
            "item",
            "select",
            "basis",
            "quantity_m2",
            "rate_cny_m2",
            "cost_cny",
            "verified",
            "source",
        ],
    )
    return bill, q


@dataclass(frozen=True)
class RenovationResult:
    """One package evaluated on a twin. Money in CNY, areas in m2.

    Parameters
    ----------
    package
        The package's id.
    title
        Its title.
    plan
        The package made concrete (scenario, selections, quantities).
    twin
        The twin after the package.
    classification
        Classification of the baseline.
    classification_after
        Classification of the twin after the package (safety risk left).
    bill
        Cost items: ``item``, ``select``, ``basis``, ``quantity_m2``,
        ``rate_cny_m2``, ``cost_cny``, ``verified``, ``source``.
    cost_cny
        Total cost [CNY].
    demolished_gfa_m2, new_gfa_m2
        Gross floor area demolished and built [m2].
    added_saleable_m2
        New residential floor area minus rehousing, at least 0 [m2].
    sale_price_cny_m2
        Sale price used [CNY/m2].
    revenue_cny
        Added saleable area x sale price [CNY].
    balance_cny
        Revenue - cost [CNY].
    required_balance_cny
        The balance the pilot must reach [CNY].
    far_before, far_after
        Site FAR (FAR-counted area / site area) [-].
    safety_risk_before, safety_risk_remaining
        Buildings flagged by a mandatory rule before and after.
    indicators
        The indicator modules' metrics for this package: ``indicator``,
        ``metric``, ``unit``, ``value``, ``baseline``, ``delta``,
        ``delta_pct`` (see :func:`scenarios.compare`).
    skipped
        Indicator modules not run, with the reason.
    """

    package: str
    title: str
    plan: PackagePlan
    twin: Twin
    classification: Classification
    classification_after: Classification
    bill: pd.DataFrame
    cost_cny: float
    demolished_gfa_m2: float
    new_gfa_m2: float
    added_saleable_m2: float
    sale_price_cny_m2: float
    revenue_cny: float
    balance_cny: float
    required_balance_cny: float
    far_before: float
    far_after: float
    safety_risk_before: int
    safety_risk_remaining: int
    indicators: pd.DataFrame
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def scenario(self) -> Scenario:
        """The package's scenario (its edits)."""
        return self.plan.scenario

    @property
    def balanced(self) -> bool:
        """Whether the fund balance reaches the required balance."""
        return self.balance_cny >= self.required_balance_cny

    def indicator(self, indicator: str, metric: str, column: str = "value") -> float:
        """One metric (``value``, ``baseline`` or ``delta``), NaN if not computed."""
        t = self.indicators
        sel = t[(t["indicator"] == indicator) & (t["metric"] == metric)]
        return float(sel[column].iloc[0]) if len(sel) else math.nan

    def metrics(self) -> dict[str, float]:
        """Numbers for sweeps: finance, FAR, safety, and every indicator metric."""
        out = {
            "far_uplift_applied": self.plan.far_uplift,
            "far_before": self.far_before,
            "far_after": self.far_after,
            "cost_cny": self.cost_cny,
            "revenue_cny": self.revenue_cny,
            "balance_cny": self.balance_cny,
            "added_saleable_m2": self.added_saleable_m2,
            "demolished_gfa_m2": self.demolished_gfa_m2,
            "new_gfa_m2": self.new_gfa_m2,
            "safety_risk_remaining": float(self.safety_risk_remaining),
        }
        for _, r in self.indicators.iterrows():
            out[f"{r['indicator']}.{r['metric']}"] = float(r["value"])
        return out


@dataclass(frozen=True)
class RenovationConfig:
    """Settings of one renovation package run (:meth:`run`).

    Parameters
    ----------
    package
        Package id in the packages file (``"comprehensive"``, ``"partial"``,
        ``"rebuild"``).
    far_uplift
        Rise of the site FAR aimed at [-]; default the package's.
    sale_price_cny_m2
        Sale price of new housing [CNY/m2]; default the file's parameter.
    parameters
        Other parameters of the packages file (``rehousing_ratio``,
        ``required_balance_cny``, ``max_floors``, ``new_storey_height_m``).
    scope
        Buildings in the renovation scope; default those classified
        ``old_community``.
    year
        Reference year (ages, completion of rebuilt buildings); default
        this year.
    rulebook
        Rulebook of the take-off and the compliance check.
    indicators
        Indicator modules run (default: takeoff, compliance, sunlight,
        circles, where available).
    options
        Options per indicator module (as :func:`scenarios.compare`); the
        take-off and compliance modules get ``rulebook`` unless given.
    packages_file, classification_file
        Other data files (default the bundled ones).
    """

    package: str = "comprehensive"
    far_uplift: float | None = None
    sale_price_cny_m2: float | None = None
    parameters: Mapping[str, float] = field(default_factory=Params)
    scope: tuple[str, ...] | None = None
    year: int | None = None
    rulebook: str = "zhejiang-future-community"
    indicators: tuple[str, ...] | None = None
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=Params)
    packages_file: str | None = None
    classification_file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", Params(self.parameters))
        object.__setattr__(self, "options", Params(self.options))
        if self.scope is not None:
            object.__setattr__(self, "scope", tuple(str(i) for i in self.scope))
        if self.indicators is not None:
            object.__setattr__(self, "indicators", tuple(self.indicators))

    def run(self, twin: Twin) -> RenovationResult:
        """Evaluate the package on ``twin`` (which is not changed).

        Parameters
        ----------
        twin
            The existing estate.

        Returns
        -------
        RenovationResult
        """
        study = _study(twin, [self])
        return study.results[self.package]


def _parameter(book: PackageBook, config: RenovationConfig, name: str) -> float:
    if name == "sale_price_cny_m2" and config.sale_price_cny_m2 is not None:
        return float(config.sale_price_cny_m2)
    if name in config.parameters:
        return float(config.parameters[name])
    if name not in book.parameters:
        msg = f"{book.source_file}: no parameter {name!r}; add [parameters.{name}]"
        raise RenovationDataError(msg)
    return book.parameters[name].value


def _indicator_options(
    config: RenovationConfig, names: Sequence[str]
) -> dict[str, Any]:
    opts = {k: dict(thaw(v)) for k, v in config.options.items()}
    for name in ("takeoff", "compliance"):
        if name in names:
            opts.setdefault(name, {}).setdefault("rulebook", config.rulebook)
    return {k: v for k, v in opts.items() if k in names}


@dataclass(frozen=True)
class RenovationStudy:
    """Packages compared on one estate.

    Parameters
    ----------
    results
        Each package's result, by package id.
    comparison
        The indicator comparison of the packages' scenarios with the baseline.
    classification
        Classification of the baseline.
    ranking
        One row per package, best first: ``rank``, ``package``, ``title``,
        ``feasible``, ``why`` (what makes it infeasible), ``balance_cny``,
        ``balanced``, ``cost_cny``, ``revenue_cny``, ``added_saleable_m2``,
        ``far_before``, ``far_after``, ``safety_risk_remaining``,
        ``failing_checks`` and ``newly_failing_checks`` (compliance: checks
        failing that did not fail before),
        ``neighbours_losing_sunlight``, ``coverage_mean_share`` and
        ``coverage_delta`` (travel circles); NaN where a module did not run.
    """

    results: Mapping[str, RenovationResult]
    comparison: Comparison
    classification: Classification
    ranking: pd.DataFrame

    def to_html(
        self, path: str | os.PathLike[str] | None = None, *, title: str | None = None
    ) -> str:
        """The study as a self-contained HTML report (ranking, costs, maps)."""
        from scenarios.report import html_report, write_html

        text = html_report(
            self.comparison,
            title=title
            or f"Renovation packages for {self.comparison.twins['baseline'].name}",
            sections=_sections(self),
        )
        if path is not None:
            write_html(path, text)
        return text

    def ranking_text(self) -> str:
        """The ranking as plain text, one line per package."""
        lines = []
        for _, r in self.ranking.iterrows():
            flag = "feasible" if r["feasible"] else f"not feasible ({r['why']})"
            m = {k: r[k] / 1e6 for k in ("balance_cny", "cost_cny", "revenue_cny")}
            lines.append(
                f"{int(r['rank'])}. {r['package']:<14} balance "
                f"{m['balance_cny']:>9,.1f} M CNY (cost {m['cost_cny']:,.1f} M, "
                f"revenue {m['revenue_cny']:,.1f} M), "
                f"FAR {r['far_before']:.2f} -> {r['far_after']:.2f}, {flag}"
            )
        return "\n".join(lines)


def _study(
    twin: Twin,
    configs: Sequence[RenovationConfig],
    *,
    progress: bool = False,
) -> RenovationStudy:
    from cim.takeoff import twin_takeoff

    first = configs[0]
    names = list(dict.fromkeys(c.package for c in configs))
    if len(names) != len(configs):
        msg = "each package may appear once in a study"
        raise ValueError(msg)
    classification = classify(twin, rules=first.classification_file, year=first.year)
    books = {c.package: load_packages(c.packages_file) for c in configs}
    plans = {
        c.package: plan_package(
            twin,
            books[c.package].package(c.package),
            classification,
            scope=c.scope,
            far_uplift=c.far_uplift,
            parameters={k: float(v) for k, v in c.parameters.items()},
            year=c.year,
            rulebook=c.rulebook,
        )
        for c in configs
    }
    if first.indicators is not None:
        wanted: list[str] = list(first.indicators)
    else:
        from scenarios.indicators import available_indicators

        wanted = [i for i in DEFAULT_INDICATORS if i in available_indicators()]
    cmp = compare(
        twin,
        *(p.scenario for p in plans.values()),
        indicators=wanted,
        options=_indicator_options(first, wanted),
    )
    before = twin_takeoff(twin, first.rulebook)
    site = twin.site_area_m2()
    far_before = before.far_area_m2 / site if site else math.nan
    risk_before = int(classification.table["mandatory"].sum())
    results = {}
    for c in configs:
        plan = plans[c.package]
        proposed = cmp.twins[c.package]
        after = twin_takeoff(proposed, c.rulebook)
        bill, q = _bill(
            plan,
            twin,
            proposed,
            before.by_building["gross_floor_area_m2"],
            after.by_building["gross_floor_area_m2"],
        )
        book = books[c.package]
        price = _parameter(book, c, "sale_price_cny_m2")
        ratio = _parameter(book, c, "rehousing_ratio")
        required = _parameter(book, c, "required_balance_cny")
        saleable = max(
            0.0, q["new_residential_gfa"] - ratio * q["demolished_residential_gfa"]
        )
        cost = float(bill["cost_cny"].sum())
        revenue = saleable * price
        after_class = classify(
            proposed, rules=classification.rules, year=classification.year
        )
        t = cmp.table
        results[c.package] = RenovationResult(
            package=c.package,
            title=plan.package.title,
            plan=plan,
            twin=proposed,
            classification=classification,
            classification_after=after_class,
            bill=bill,
            cost_cny=cost,
            demolished_gfa_m2=q["demolished_gfa"],
            new_gfa_m2=q["new_gfa"],
            added_saleable_m2=saleable,
            sale_price_cny_m2=price,
            revenue_cny=revenue,
            balance_cny=revenue - cost,
            required_balance_cny=required,
            far_before=far_before,
            far_after=after.far_area_m2 / site if site else math.nan,
            safety_risk_before=risk_before,
            safety_risk_remaining=int(after_class.table["mandatory"].sum()),
            indicators=t[t["plan"] == c.package]
            .drop(columns="plan")
            .reset_index(drop=True),
            skipped=dict(cmp.skipped),
        )
    return RenovationStudy(
        results=results,
        comparison=cmp,
        classification=classification,
        ranking=_rank(results),
    )


def _count(n: float, one: str, many: str) -> str:
    return f"{n:.0f} {one if n == 1 else many}"


def _rank(results: Mapping[str, RenovationResult]) -> pd.DataFrame:
    rows = []
    for pid, r in results.items():
        failing = r.indicator("compliance", "failing_checks")
        newly_failing = r.indicator("compliance", "newly_failing_checks")
        lost = r.indicator("sunlight", "neighbours_losing_compliance")
        cover = r.indicator("circles", "mean_share")
        cover_delta = r.indicator("circles", "mean_share", "delta")
        why = []
        if r.safety_risk_remaining:
            why.append(
                _count(r.safety_risk_remaining, "building keeps", "buildings keep")
            )
            why[-1] += " the slab risk"
        if lost > 0:
            why.append(_count(lost, "neighbour loses", "neighbours lose"))
            why[-1] += " sunlight compliance"
        if newly_failing > 0:
            why.append(_count(newly_failing, "compliance check", "compliance checks"))
            why[-1] += " newly fail" + ("s" if newly_failing == 1 else "")
            t = r.indicators
            worse = t[
                (t["indicator"] == "compliance")
                & t["metric"].str.startswith("failing:")
                & (t["value"] > t["baseline"].fillna(0.0))
            ]
            if len(worse):
                rules = ", ".join(m.split(":", 1)[1] for m in worse["metric"])
                why[-1] += f" ({rules})"
        rows.append(
            {
                "package": pid,
                "title": r.title,
                "feasible": not why,
                "why": "; ".join(why),
                "balance_cny": r.balance_cny,
                "balanced": r.balanced,
                "cost_cny": r.cost_cny,
                "revenue_cny": r.revenue_cny,
                "added_saleable_m2": r.added_saleable_m2,
                "far_before": r.far_before,
                "far_after": r.far_after,
                "safety_risk_remaining": r.safety_risk_remaining,
                "failing_checks": failing,
                "newly_failing_checks": newly_failing,
                "neighbours_losing_sunlight": lost,
                "coverage_mean_share": cover,
                "coverage_delta": cover_delta,
            }
        )
    table = pd.DataFrame(rows)
    table = table.sort_values(
        ["feasible", "balance_cny"], ascending=[False, False], kind="stable"
    ).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def compare_packages(
    twin: Twin,
    packages: Sequence[str] = ("comprehensive", "partial", "rebuild"),
    *,
    far_uplift: float | Mapping[str, float] | None = None,
    config: RenovationConfig | None = None,
) -> RenovationStudy:
    """Evaluate and rank renovation packages on one estate.

    Parameters
    ----------
    twin
        The existing estate; it is not changed.
    packages
        Package ids.
    far_uplift
        FAR uplift [-] for every package that rebuilds, or per package;
        default ``config.far_uplift``, else each package's own.
    config
        Other settings, shared by all packages (its ``package`` is replaced).

    Returns
    -------
    RenovationStudy

    Examples
    --------
    >>> from scenarios.renovation import (
    ...     RenovationConfig, compare_packages, sample_estate)
    >>> config = RenovationConfig(indicators=("takeoff",), year=2026)
    >>> study = compare_packages(sample_estate(), config=config)
    >>> study.ranking["package"].tolist()
    ['rebuild', 'partial', 'comprehensive']
    """
    base = config or RenovationConfig()
    configs = []
    for p in packages:
        if isinstance(far_uplift, Mapping):
            up = far_uplift.get(p, base.far_uplift)
        else:
            up = base.far_uplift if far_uplift is None else far_uplift
        configs.append(dataclasses.replace(base, package=p, far_uplift=up))
    return _study(twin, configs)


# -- report sections -------------------------------------------------------------------


def _sections(study: RenovationStudy) -> list[tuple[str, str]]:
    from scenarios.report import _esc, table_html

    r = study.ranking
    shown = r[
        [
            "rank",
            "package",
            "feasible",
            "why",
            "balance_cny",
            "cost_cny",
            "revenue_cny",
            "added_saleable_m2",
            "far_before",
            "far_after",
            "safety_risk_remaining",
            "newly_failing_checks",
            "neighbours_losing_sunlight",
            "coverage_delta",
        ]
    ]
    any_result = next(iter(study.results.values()))
    price = any_result.sale_price_cny_m2
    ranking = (
        '<p class="note">Feasible packages (no slab risk left, no neighbour losing '
        "sunlight compliance, no compliance check newly failing) first, then by fund "
        f"balance = revenue - cost [CNY], at a sale price of {_esc(f'{price:,.0f}')} "
        "CNY/m2. Every cost rate is an unverified placeholder (see the bills).</p>"
        + table_html(
            shown,
            text_columns=("package", "why"),
            row_class=["rank1" if i == 0 else "" for i in range(len(shown))],
        )
    )
    c = study.classification
    counts = c.summary()[
        ["action", "rule", "buildings", "mandatory", "verified", "source"]
    ]
    table = c.table[
        [
            "building_id",
            "year_built",
            "age_years",
            "floors",
            "structure",
            "era",
            "recommendation",
        ]
    ]
    classification = (
        f'<p class="note">Rules: {_esc(Path(c.rules.source_file).name)} '
        f"(reference year {c.year}).</p>"
        + table_html(counts, text_columns=("action", "rule", "source"))
        + "<details><summary>buildings</summary>"
        + table_html(
            table, text_columns=("building_id", "structure", "era", "recommendation")
        )
        + "</details>"
    )
    bills = []
    for pid, res in study.results.items():
        bills.append(f"<h3>{_esc(pid)}: {_esc(res.title)}</h3>")
        bills.append(
            table_html(
                res.bill[
                    [
                        "item",
                        "basis",
                        "quantity_m2",
                        "rate_cny_m2",
                        "cost_cny",
                        "verified",
                        "source",
                    ]
                ],
                text_columns=("item", "basis", "source"),
            )
        )
        bills.append(
            f'<p class="note">cost {_esc(f"{res.cost_cny:,.0f}")} CNY; added saleable '
            f"area {_esc(f'{res.added_saleable_m2:,.0f}')} m2; revenue "
            f"{_esc(f'{res.revenue_cny:,.0f}')} CNY; balance "
            f"{_esc(f'{res.balance_cny:,.0f}')} CNY.</p>"
        )
    return [
        ("Ranked renovation packages", ranking),
        ("Classification of the existing buildings", classification),
        ("Bills of costs (placeholders, verified = false)", "".join(bills)),
    ]


# -- the sample estate and the demo ----------------------------------------------------


def sample_estate() -> Twin:
    """The synthetic old estate of ``assets/renovation/old_estate.toml``.

    Seventeen buildings near Hangzhou (EPSG:4549): twelve 6-7-storey walk-up
    slabs of 1975-1999 (six with precast hollow-core slabs), three 2006
    high-rises to their north, a shop and a kindergarten; greens, facilities
    around the estate, and lanes with four gates. Not a real place.

    Returns
    -------
    Twin
    """
    import geopandas as gpd
    import networkx as nx

    from cim.twin import Twin

    path = asset_path("renovation", "old_estate.toml")
    raw = _read_toml(path, "sample estate")
    x0, y0 = (float(v) for v in raw["origin"])
    crs = raw["crs"]

    def rect(r: Sequence[float]) -> Any:
        x, y, w, d = (float(v) for v in r)
        return shapely.box(x0 + x, y0 + y, x0 + x + w, y0 + y + d)

    def poly(coords: Iterable[Sequence[float]]) -> Any:
        return shapely.Polygon([(x0 + x, y0 + y) for x, y in coords])

    def frame(rows: list[dict[str, Any]], id_col: str, geom: Any) -> gpd.GeoDataFrame:
        data = [
            {
                (id_col if k == "id" else k): v
                for k, v in r.items()
                if k not in ("rect", "xy", "polygon")
            }
            for r in rows
        ]
        return gpd.GeoDataFrame(data, geometry=[geom(r) for r in rows], crs=crs)

    buildings = frame(raw["buildings"], "building_id", lambda r: rect(r["rect"]))
    buildings["has_lift"] = buildings["has_lift"].astype("boolean")
    greens = frame(raw["greens"], "green_id", lambda r: rect(r["rect"]))
    facilities = frame(
        raw["facilities"],
        "facility_id",
        lambda r: shapely.Point(x0 + r["xy"][0], y0 + r["xy"][1]),
    )
    site = frame([raw["site"]], "site_id", lambda r: poly(r["polygon"]))
    parcels = frame(raw["parcels"], "parcel_id", lambda r: poly(r["polygon"]))

    G = nx.MultiDiGraph(crs=crs)
    attrs = ("barrier", "access", "opening_hours", "name")
    for n in raw["nodes"]:
        extra = {a: n.get(a) for a in attrs}
        G.add_node(int(n["id"]), x=x0 + n["xy"][0], y=y0 + n["xy"][1], **extra)
    ys, xs = raw["lanes_y"], raw["lanes_x"]

    def lane(row: int, col: int) -> int:
        return 200 + 10 * row + col

    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            G.add_node(lane(i, j), x=x0 + x, y=y0 + y, **dict.fromkeys(attrs))
    links = [[u, v, h] for u, v, h in raw["streets"]]
    for i in range(len(ys)):
        links += [[lane(i, j), lane(i, j + 1), "service"] for j in range(len(xs) - 1)]
    for j in range(len(xs)):
        links += [[lane(i, j), lane(i + 1, j), "service"] for i in range(len(ys) - 1)]
    links += [[g, lane(i, j), "service"] for g, i, j in raw["gate_links"]]
    for u, v, highway in links:
        a, b = G.nodes[u], G.nodes[v]
        for s, t, p, q in ((u, v, a, b), (v, u, b, a)):
            line = shapely.LineString([(p["x"], p["y"]), (q["x"], q["y"])])
            G.add_edge(
                s,
                t,
                geometry=line,
                length_m=float(line.length),
                highway=highway,
                oneway=False,
                speed_kph=40.0 if highway == "tertiary" else 15.0,
                name="",
            )
    meta = {
        "sources": [
            {
                "name": "cim-twin synthetic old estate",
                "licence": "CC0-1.0",
                "attribution": "synthetic data, cim-twin developers",
            }
        ],
        "description": raw.get("description", ""),
        "planning": dict(raw.get("planning", {})),
    }
    return Twin(
        crs=crs,
        name=str(raw["name"]),
        buildings=buildings,
        parcels=parcels,
        greens=greens,
        facilities=facilities,
        site=site,
        network=G,
        metadata=meta,
    )


def demo(out: str | os.PathLike[str], *, year: int | None = None) -> str:
    """Compare the three packages on the sample estate; write ``renovation.html``.

    Used by ``cim demo``.

    Parameters
    ----------
    out
        Output folder.
    year
        Reference year (default this year).

    Returns
    -------
    str
        The ranking as text.
    """
    estate = sample_estate()
    study = compare_packages(estate, config=RenovationConfig(year=year))
    target = Path(out) / "renovation.html"
    study.to_html(target)
    skipped = "".join(
        f"\n  (indicator {k} not run: {v})" for k, v in study.comparison.skipped.items()
    )
    return study.ranking_text() + skipped
