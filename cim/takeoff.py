"""Floor-area take-off: gross floor area and FAR-counted area, element by element.

:func:`takeoff` classifies every area element of an element table
(:mod:`cim.storeys`) as counted in full, counted half or excluded, naming the
rule and clause that decided it, and sums the result per building. It computes
two quantities side by side, because Chinese practice distinguishes them:

- **gross floor area** (建筑面积), what GB/T 50353-2013 counts, half-counting
  included: decided by the chain's ``basis = "gfa"`` rules (the national
  standard), in the ``gfa_factor``, ``gfa_m2``, ``gfa_rule_id``,
  ``gfa_clause`` and ``gfa_verified`` columns;
- **FAR-counted area** (计容面积), the numerator of the plot ratio: decided by
  the whole chain, the jurisdiction's ``basis = "far"`` rules first, falling
  back to the gross-floor-area rule, in the ``factor``, ``counted_m2``,
  ``rule_id``, ``clause`` and ``verified`` columns.

An engineer checking a plot ratio reads the breakdown like this: rows where
``rule_id`` differs from ``gfa_rule_id`` are where the jurisdiction departs from
the national count (e.g. a balcony counted half in gross floor area and not at
all for FAR); rows with ``verified`` (or ``gfa_verified``) false rest on a
value not confirmed from the primary text, and ``by_building`` sums their area
in ``unverified_area_m2``. Rows whose ``floors_source`` or
``storey_height_source`` is not ``measured`` (or ``elements``) rest on
estimated storeys: a building without detail is taken as footprint x
storeys, and where its storey count or height was estimated
(:mod:`cim.estimate`), so are its area and the structural height the
2.20 m test reads. The same holds for element tables that carry these
columns, such as the part-by-part storeys the CityJSON reader estimates
from LoD2 roofs for buildings whose parts differ in storey count
(``height`` and ``estimated``). Every element must be decided by some
rule: an element no rule matches is an error, never a silent default.

The rules are evaluated as masks over all elements, one rule at a time (the
first matching rule wins), not element by element.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cim.errors import LayerSchemaError
from cim.estimate import storey_height
from cim.rules.rulebook import AreaRule, Rulebook, RulebookError, compare, load_rulebook
from cim.storeys import validate_elements

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "BREAKDOWN_COLUMNS",
    "BY_BUILDING_COLUMNS",
    "GIVEN_SOURCE",
    "SOURCE_COLUMNS",
    "TakeoffResult",
    "takeoff",
    "twin_elements",
    "twin_takeoff",
    "with_floor_areas",
]

#: Columns of :attr:`TakeoffResult.breakdown`.
BREAKDOWN_COLUMNS = (
    "building_id",
    "storey",
    "level",
    "element_id",
    "kind",
    "area_m2",
    "gfa_factor",
    "gfa_m2",
    "gfa_rule_id",
    "gfa_clause",
    "gfa_verified",
    "factor",
    "counted_m2",
    "rule_id",
    "clause",
    "verified",
    "rulebook",
    "gfa_measure",
    "measure",
    "above_ground",
    "floors_source",
    "storey_height_source",
)

#: ``floors_source`` and ``storey_height_source`` of elements listed in an
#: element table (detailed buildings), whose storeys are given, not estimated.
GIVEN_SOURCE = "elements"

#: Provenance columns an element table may carry (:func:`twin_elements` adds
#: them for buildings taken as footprint x storeys); absent, they read
#: :data:`GIVEN_SOURCE`.
SOURCE_COLUMNS = ("floors_source", "storey_height_source")

#: Columns of :attr:`TakeoffResult.by_building`.
BY_BUILDING_COLUMNS = (
    "element_area_m2",
    "gross_floor_area_m2",
    "far_area_m2",
    "far_above_ground_m2",
    "unverified_area_m2",
)

_SHOW = 5


@dataclass(frozen=True)
class TakeoffResult:
    """Result of :func:`takeoff`.

    Parameters
    ----------
    breakdown
        One row per element, in input order, with the columns of
        :data:`BREAKDOWN_COLUMNS`:

        - ``building_id``, ``storey``, ``level``, ``element_id``, ``kind``,
          ``area_m2`` [m2]: the element;
        - ``gfa_factor`` [-], ``gfa_m2`` [m2], ``gfa_rule_id``, ``gfa_clause``,
          ``gfa_verified``: its gross floor area (建筑面积) and the
          gross-floor-area rule that decided it;
        - ``factor`` [-], ``counted_m2`` [m2], ``rule_id``, ``clause``,
          ``verified``, ``rulebook``: its FAR-counted area (计容面积), the rule
          that decided it and the rulebook that rule comes from;
        - ``gfa_measure``, ``measure``: the element column each factor was
          applied to (``area_m2`` unless a rule says otherwise);
        - ``above_ground``: ``level >= 1``;
        - ``floors_source``: how the building's storey count behind the
          element was obtained: ``measured``, ``height`` (height / storey
          height) or ``default`` (default storeys by use or type) for a
          building taken as footprint x storeys (its ``floors_source``), or
          ``elements`` where the element table lists the storeys;
        - ``storey_height_source``: how the element's ``structural_height_m``
          was obtained: ``measured`` (measured height / measured storeys),
          ``estimated`` (measured height / estimated storeys), ``default``
          (the default storey height, the building's height being unknown or
          estimated) or ``elements`` (given in the element table).
    by_building
        Indexed by ``building_id`` (order of first appearance), with
        ``element_area_m2`` (sum of element areas), ``gross_floor_area_m2``,
        ``far_area_m2``, ``far_above_ground_m2`` (FAR-counted area of levels
        >= 1, for plot-ratio definitions that count above-ground area only)
        and ``unverified_area_m2`` (element area decided by an unverified
        rule, for either quantity), all [m2].
    rulebook
        Id of the rulebook used.
    chain
        Ids of the rulebooks of its chain, in precedence order.
    overrides
        Changes made to the chain's rules (see :func:`cim.rules.override`).
    """

    breakdown: pd.DataFrame
    by_building: pd.DataFrame
    rulebook: str
    chain: tuple[str, ...]
    overrides: tuple[str, ...] = ()

    @property
    def gross_floor_area_m2(self) -> float:
        """Total gross floor area (建筑面积) [m2]."""
        return float(self.breakdown["gfa_m2"].sum())

    @property
    def far_area_m2(self) -> float:
        """Total FAR-counted area (计容面积) [m2]."""
        return float(self.breakdown["counted_m2"].sum())

    def unverified(self) -> pd.DataFrame:
        """Breakdown rows decided by an unverified rule, for either quantity.

        Returns
        -------
        pandas.DataFrame
        """
        bd = self.breakdown
        return bd[~(bd["verified"] & bd["gfa_verified"])]


class _Attributes:
    """Element attributes as float arrays (bools as 0/1, unknown as NaN), cached."""

    def __init__(self, elements: pd.DataFrame) -> None:
        self._el = elements
        self._cache: dict[str, NDArray[np.float64]] = {}

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        if name not in self._cache:
            self._cache[name] = self._el[name].to_numpy(
                dtype="float64", na_value=np.nan
            )
        return self._cache[name]


def _first_match(
    kinds: NDArray[np.object_], rules: tuple[AreaRule, ...], attrs: _Attributes
) -> NDArray[np.intp]:
    """Index of the first rule matching each element, -1 where none does."""
    chosen = np.full(len(kinds), -1, dtype=np.intp)
    for i, rule in enumerate(rules):
        mask = chosen < 0
        if not mask.any():
            break
        mask &= np.isin(kinds, rule.kinds)
        for c in rule.conditions:
            if not mask.any():
                break
            mask &= compare(attrs[c.attribute], c.op, float(c.value))
        chosen[mask] = i
    return chosen


def _ids(values: Iterable[object]) -> str:
    vals = [str(v) for v in values]
    more = f" and {len(vals) - _SHOW} more" if len(vals) > _SHOW else ""
    return ", ".join(repr(v) for v in vals[:_SHOW]) + more


def _require_matched(
    el: pd.DataFrame,
    chosen: NDArray[np.intp],
    rules: tuple[AreaRule, ...],
    book: Rulebook,
    attrs: _Attributes,
    what: str,
) -> None:
    missed = np.flatnonzero(chosen < 0)
    if not len(missed):
        return
    first = el.iloc[missed[0]]
    kind = str(first["kind"])
    ids = el["element_id"].to_numpy()[missed]
    head = (
        f"no area rule of rulebook {book.id!r} decides the {what} of elements "
        f"{_ids(ids)}; the first, {first['element_id']!r}, is a {kind!r} of "
        f"building {first['building_id']!r}, storey {first['storey']!r}"
    )
    for_kind = [r for r in rules if kind in r.kinds]
    tested = list(dict.fromkeys(c.attribute for r in for_kind for c in r.conditions))
    unknown = [a for a in tested if np.isnan(attrs[a][missed[0]])]
    if unknown:
        msg = (
            f"{head}: its {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
            f"missing, and the rules for {kind!r} "
            f"({', '.join(r.id for r in for_kind)}) test it; give the value"
        )
        raise LayerSchemaError(
            msg, layer="elements", column=unknown[0], feature_id=list(ids)
        )
    file = str(book.source_file) if book.source_file else book.id
    if not for_kind:
        msg = (
            f"{head}: no rule covers kind {kind!r}; add an [[area_rules]] table "
            f"for it to the rulebook"
        )
    else:
        values = ", ".join(f"{a} = {attrs[a][missed[0]]:g}" for a in tested)
        msg = (
            f"{head}: its values ({values}) meet none of the rules for {kind!r} "
            f"({', '.join(r.id for r in for_kind)}); add a rule that covers them"
        )
    raise RulebookError(msg, file=file, key="area_rules")


def _measured(
    el: pd.DataFrame,
    chosen: NDArray[np.intp],
    rules: tuple[AreaRule, ...],
    book: Rulebook,
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """The area each element's rule measures, and the column's name."""
    names = np.array([r.measure for r in rules] or [""], dtype=object)[chosen]
    out = np.full(len(el), np.nan)
    for m in pd.unique(names):
        sel = names == m
        if m not in el.columns:
            rule = rules[int(chosen[sel][0])]
            example = el["element_id"].iloc[int(np.flatnonzero(sel)[0])]
            msg = (
                f"rule {rule.id!r} of rulebook {book.id!r} measures column {m!r}, "
                f"which the elements lack (e.g. element {example!r}); add the "
                "column or measure area_m2"
            )
            raise LayerSchemaError(msg, layer="elements", column=str(m))
        vals = pd.to_numeric(el[m], errors="coerce").to_numpy(dtype="float64")
        bad = sel & ~(np.isfinite(vals) & (vals >= 0))
        if bad.any():
            msg = (
                f"elements {_ids(el['element_id'].to_numpy()[bad])}, column {m!r}: "
                "missing or negative, but their rule measures it; give the area"
            )
            raise LayerSchemaError(
                msg,
                layer="elements",
                column=str(m),
                feature_id=list(el["element_id"][bad]),
            )
        out[sel] = vals[sel]
    return out, names


def _sources(el: pd.DataFrame, column: str) -> Any:
    """A provenance column of the elements (:data:`SOURCE_COLUMNS`) as text.

    Elements without one (a drawn or IFC element table) have their storeys
    given: :data:`GIVEN_SOURCE`.
    """
    if column not in el.columns:
        return pd.array([GIVEN_SOURCE] * len(el), dtype="str")
    return pd.array(el[column].astype(object).fillna(GIVEN_SOURCE), dtype="str")


def _spread(values: list[str], chosen: NDArray[np.intp]) -> Any:
    """One string per rule, spread to the elements each rule decided."""
    return pd.array(np.array(values, dtype=object)[chosen], dtype="str")


def takeoff(
    elements: pd.DataFrame,
    rulebook: Rulebook | str | os.PathLike[str] = "gbt50353-2013",
) -> TakeoffResult:
    """Gross floor area and FAR-counted area of each element and building.

    Parameters
    ----------
    elements
        An element table (:data:`cim.storeys.ELEMENTS`), e.g. from
        :func:`cim.storeys.storeys_from_buildings`; it is validated first.
    rulebook
        A :class:`~cim.rules.Rulebook`, or the id or path of one (see
        :func:`cim.rules.load_rulebook`); default the national rules,
        ``"gbt50353-2013"``, under which FAR-counted area equals gross floor
        area.

    Returns
    -------
    TakeoffResult
        ``breakdown`` (one row per element) and ``by_building`` totals [m2].

    Raises
    ------
    LayerSchemaError
        If the element table is invalid, or an element lacks a value its
        kind's rules test (e.g. a storey without ``structural_height_m``).
    RulebookError
        If the rulebook is invalid, or no rule covers an element's kind and
        values.

    Examples
    --------
    A storey of 2.1 m structural height and a balcony outside the main
    structure, under the Zhejiang future-community rules:

    >>> import pandas as pd
    >>> from cim.takeoff import takeoff
    >>> elements = pd.DataFrame({
    ...     "building_id": ["b1", "b1"], "storey": ["1F", "1F"], "level": [1, 1],
    ...     "element_id": ["b1-1F", "b1-1F-balcony"], "kind": ["floor", "balcony"],
    ...     "area_m2": [100.0, 10.0], "structural_height_m": [2.1, 2.1],
    ...     "inside_structure": [True, False]})
    >>> result = takeoff(elements, "zhejiang-future-community")
    >>> result.breakdown[["element_id", "gfa_m2", "counted_m2", "verified"]]
          element_id  gfa_m2  counted_m2  verified
    0          b1-1F    50.0        50.0      True
    1  b1-1F-balcony     5.0         0.0     False
    >>> result.gross_floor_area_m2, result.far_area_m2
    (55.0, 50.0)
    """
    return _takeoff_validated(validate_elements(elements), rulebook)


def _takeoff_validated(
    el: pd.DataFrame, rulebook: Rulebook | str | os.PathLike[str]
) -> TakeoffResult:
    """:func:`takeoff` of an element table already checked by validate_elements."""
    book = rulebook if isinstance(rulebook, Rulebook) else load_rulebook(rulebook)
    kinds = el["kind"].to_numpy(dtype=object)
    attrs = _Attributes(el)

    decided: dict[str, dict[str, Any]] = {}
    for basis, what in (("gfa", "gross floor area"), ("far", "FAR-counted area")):
        rules = book.area_rules_for(basis)
        chosen = _first_match(kinds, rules, attrs)
        _require_matched(el, chosen, rules, book, attrs, what)
        area, measure = _measured(el, chosen, rules, book)
        factor = np.array([r.factor for r in rules], dtype="float64")[chosen]
        decided[basis] = {
            "factor": factor,
            "m2": factor * area,
            "rule_id": _spread([r.id for r in rules], chosen),
            "clause": _spread([r.clause for r in rules], chosen),
            "verified": np.array([r.verified for r in rules], dtype=bool)[chosen],
            "rulebook": _spread([r.rulebook for r in rules], chosen),
            "measure": pd.array(measure, dtype="str"),
        }
    gfa, far = decided["gfa"], decided["far"]
    level = el["level"]
    breakdown = pd.DataFrame(
        {
            "building_id": el["building_id"],
            "storey": el["storey"],
            "level": level,
            "element_id": el["element_id"],
            "kind": el["kind"],
            "area_m2": el["area_m2"],
            "gfa_factor": gfa["factor"],
            "gfa_m2": gfa["m2"],
            "gfa_rule_id": gfa["rule_id"],
            "gfa_clause": gfa["clause"],
            "gfa_verified": gfa["verified"],
            "factor": far["factor"],
            "counted_m2": far["m2"],
            "rule_id": far["rule_id"],
            "clause": far["clause"],
            "verified": far["verified"],
            "rulebook": far["rulebook"],
            "gfa_measure": gfa["measure"],
            "measure": far["measure"],
            "above_ground": (level >= 1).to_numpy(dtype=bool),
            **{c: _sources(el, c) for c in SOURCE_COLUMNS},
        },
        index=el.index,
    )

    counted = breakdown["counted_m2"].to_numpy()
    sure = breakdown["verified"].to_numpy() & breakdown["gfa_verified"].to_numpy()
    parts = breakdown[["building_id", "area_m2", "gfa_m2", "counted_m2"]].assign(
        far_above_ground_m2=np.where(breakdown["above_ground"], counted, 0.0),
        unverified_area_m2=np.where(sure, 0.0, breakdown["area_m2"].to_numpy()),
    )
    by_building = (
        parts.groupby("building_id", sort=False)
        .sum()
        .rename(
            columns={
                "area_m2": "element_area_m2",
                "gfa_m2": "gross_floor_area_m2",
                "counted_m2": "far_area_m2",
            }
        )
    )[list(BY_BUILDING_COLUMNS)]
    return TakeoffResult(
        breakdown=breakdown,
        by_building=by_building,
        rulebook=book.id,
        chain=book.chain,
        overrides=book.overrides,
    )


def twin_elements(twin: Twin) -> pd.DataFrame:
    """The element table of every building of a twin.

    Buildings described in detail (rows in ``twin.elements``, e.g. from IFC, a
    drawn element table, or the part-by-part storeys that
    :func:`cim.io.cityjson.twin_from_cityjson` estimates for buildings whose
    parts differ in storey count) keep their elements; every other building is
    taken as footprint x floors (:func:`cim.storeys.storeys_from_buildings`),
    and its elements say how its storeys were obtained (:data:`SOURCE_COLUMNS`):
    ``floors_source`` is the building's, ``storey_height_source`` is
    ``measured`` where its height and storeys are both measured,
    ``estimated`` where the storeys were estimated from a measured height,
    and ``default`` where the height is unknown or estimated (the structural
    height is then the default storey height).

    Parameters
    ----------
    twin
        The twin.

    Returns
    -------
    pandas.DataFrame
        A validated element table, detailed buildings first; the provenance
        columns of detailed elements read ``elements`` unless they carry
        their own.
    """
    from cim.storeys import storeys_from_buildings

    detailed = twin.elements
    b = twin.buildings
    simple = b[~b["building_id"].isin(detailed["building_id"])]
    parts = [detailed]
    if len(simple):
        el = storeys_from_buildings(simple, storey_height_m=storey_height(twin))
        ids = simple["building_id"].astype("str").to_numpy()
        for column, values in _storey_sources(simple).items():
            by_id = pd.Series(values, index=ids)
            el[column] = pd.array(
                by_id.reindex(el["building_id"].to_numpy()).to_numpy(), dtype="str"
            )
        parts.append(el)
    frames = [p for p in parts if len(p)]
    if not frames:
        return detailed
    return validate_elements(pd.concat(frames, ignore_index=True))


def _storey_sources(buildings: pd.DataFrame) -> dict[str, NDArray[np.object_]]:
    """Per building, how the simple storey model gets its storeys and heights.

    Returns
    -------
    dict
        ``floors_source`` and ``storey_height_source``, ``(n,)`` text each
        (see :func:`twin_elements`); a missing source reads ``unknown``.
    """

    def source(column: str) -> NDArray[np.object_]:
        if column not in buildings.columns:
            return np.full(len(buildings), "unknown", dtype=object)
        values = buildings[column].astype(object).fillna("unknown")
        return np.asarray(values.astype("str").to_numpy(), dtype=object)

    floors, height = source("floors_source"), source("height_source")
    if "height_m" in buildings.columns:
        known = np.isfinite(buildings["height_m"].to_numpy("float64", na_value=np.nan))
    else:
        known = np.zeros(len(buildings), dtype=bool)
    sh_source = np.where(
        ~known | (height != "measured"),
        "default",
        np.where(floors != "measured", "estimated", "measured"),
    ).astype(object)
    return {"floors_source": floors, "storey_height_source": sh_source}


def twin_takeoff(
    twin: Twin, rulebook: str | os.PathLike[str] | Rulebook = "gbt50353-2013"
) -> TakeoffResult:
    """Floor-area take-off of every building of a twin.

    Parameters
    ----------
    twin
        The twin; it is not modified.
    rulebook
        Rulebook id (``"gbt50353-2013"``, ``"zhejiang-future-community"`` ...),
        path or :class:`~cim.rules.Rulebook`.

    Returns
    -------
    TakeoffResult

    Examples
    --------
    >>> import cim
    >>> from cim.takeoff import twin_takeoff
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> result = twin_takeoff(twin, "zhejiang-future-community")
    >>> result.far_area_m2 <= result.gross_floor_area_m2
    True
    """
    return _takeoff_validated(twin_elements(twin), rulebook)


def with_floor_areas(
    twin: Twin, rulebook: str | os.PathLike[str] | Rulebook = "gbt50353-2013"
) -> Twin:
    """A new twin whose buildings carry ``gross_floor_area_m2`` and ``far_area_m2``.

    Also adds ``far_rulebook`` (the rulebook used); the input twin is not
    modified.

    Parameters
    ----------
    twin
        The twin.
    rulebook
        As for :func:`twin_takeoff`.

    Returns
    -------
    Twin
    """
    result = twin_takeoff(twin, rulebook)
    b = twin.buildings.copy()
    by = result.by_building
    b["gross_floor_area_m2"] = b["building_id"].map(by["gross_floor_area_m2"])
    b["far_area_m2"] = b["building_id"].map(by["far_area_m2"])
    b["far_rulebook"] = result.rulebook
    return twin.with_layer("buildings", b, estimate=False)
