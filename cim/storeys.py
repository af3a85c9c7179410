"""Storeys and area elements of buildings: the input of the floor-area take-off.

A building is a stack of storeys (``level``, ``elevation_m``,
``structural_height_m``), and each storey holds *area elements*: its enclosed
floor, balconies, bay windows, a stilt (overhead) floor, a refuge floor and so
on. Area-counting rules (:mod:`cim.rules`, evaluated by :func:`cim.takeoff.takeoff`)
decide, element by element, whether the area counts in full, counts half or is
excluded.

An element table is a :class:`pandas.DataFrame` with one row per element and
the columns of :data:`ELEMENTS`. Two ways to get one:

- the simple case, :func:`storeys_from_buildings`: one ``floor`` element per
  storey, of the footprint's area, from the buildings layer's ``floors`` and
  ``height_m``, plus the clear-height bands of a pitched-roof attic where the
  layer describes one (:data:`ATTIC_COLUMNS`, e.g. from CityJSON LoD2 roofs);
- the detailed case: an element table written by hand, exported from a
  drawing or read from IFC, checked by :func:`validate_elements`; the
  CityJSON reader also writes one, with estimated storeys, for a building
  whose parts stand over different storey counts (a house and its
  one-storey annex: :func:`cim.io.cityjson.read_cityjson`), so that each
  part's plan counts for its own storeys rather than the footprint for all.

Heights follow GB/T 50353-2013 §2.0.3 and §2.0.6: ``structural_height_m``
(结构层高) runs from the top of the floor slab to the top of the slab above;
``clear_height_m`` (结构净高) from the top of the floor slab to the underside of
the structure above. Neither is the finished clear height.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from cim.crs import check_metric_crs
from cim.errors import LayerSchemaError
from cim.estimate import estimate_parameter
from cim.layers import Column, LayerSchema

__all__ = [
    "ATTIC_BREAKS_M",
    "ATTIC_COLUMNS",
    "CONDITION_ATTRIBUTES",
    "ELEMENTS",
    "ELEMENT_KINDS",
    "attic_band_rows",
    "attic_elements",
    "storeys_from_buildings",
    "validate_elements",
]

#: Kinds of area element. The first ten are the ones of the storey model
#: (issue 3); ``external_corridor`` (挑廊/檐廊, GB/T 50353-2013 §3.0.14),
#: ``external_stair`` (§3.0.20) and ``terrace`` (露台, §3.0.27) are common in
#: residential take-offs and are covered by the national rulebook too.
ELEMENT_KINDS = (
    "floor",
    "balcony",
    "bay_window",
    "stilt_floor",
    "refuge_floor",
    "disaster_passage",
    "plant_floor",
    "basement",
    "attic",
    "public_open_space",
    "external_corridor",
    "external_stair",
    "terrace",
)

#: Element columns that area-rule conditions may test, with their type:
#: ``"number"`` (compared with a number) or ``"bool"`` (with ``true``/``false``).
CONDITION_ATTRIBUTES: Mapping[str, str] = {
    "level": "number",
    "elevation_m": "number",
    "structural_height_m": "number",
    "clear_height_m": "number",
    "sill_height_m": "number",
    "projection_m": "number",
    "area_m2": "number",
    "enclosed": "bool",
    "inside_structure": "bool",
}

_NAN = float("nan")

#: Structural clear heights bounding the bands of a pitched-roof space [m]:
#: GB/T 50353-2013 §3.0.3 counts 2.10 m and above in full, 1.20 m to 2.10 m
#: half, below 1.20 m not at all.
ATTIC_BREAKS_M: Final = (1.20, 2.10)

#: Optional columns of the buildings layer describing a pitched-roof attic
#: above the top storey, all [m2] of plan area: the whole attic, the part with
#: a structural clear height of at least 1.20 m, and of at least 2.10 m (the
#: :data:`ATTIC_BREAKS_M`). :func:`cim.io.cityjson.read_cityjson` writes them
#: from LoD2 roofs; :func:`storeys_from_buildings` turns them into ``attic``
#: elements.
ATTIC_COLUMNS: Final = (
    "attic_area_m2",
    "attic_area_clear120_m2",
    "attic_area_clear210_m2",
)

#: Schema of the element table (no geometry: elements are rows, not shapes).
ELEMENTS = LayerSchema(
    name="elements",
    id_column="element_id",
    geometry_types=(),
    description="Area elements of building storeys, the input of the take-off.",
    columns=(
        Column("building_id", "str", True, description="building the element is in"),
        Column(
            "storey",
            "str",
            True,
            description="storey label, e.g. '1F', '2F', 'B1', 'RF'",
        ),
        Column(
            "level",
            "Int64",
            True,
            description="storey number: 1 = ground storey, 2, 3 ... above, "
            "-1, -2 ... basements; 0 is not used",
        ),
        Column("element_id", "str", True, description="unique id of the element"),
        Column(
            "kind",
            "str",
            True,
            choices=ELEMENT_KINDS,
            description="element kind, one of ELEMENT_KINDS",
        ),
        Column(
            "area_m2",
            "float64",
            True,
            unit="m2",
            description="horizontal area as the deciding clause measures it: "
            "outer structural outline (storeys, enclosed spaces, balconies "
            "inside the main structure), floor-slab projection (balconies "
            "outside it, corridors), roof-slab projection (stilt floors), "
            "outer enclosure (bay windows)",
        ),
        Column(
            "elevation_m",
            "float64",
            default=_NAN,
            unit="m",
            description="top of the floor slab above ±0.00",
        ),
        Column(
            "structural_height_m",
            "float64",
            default=_NAN,
            unit="m",
            description="结构层高: floor-slab top to the next slab top",
        ),
        Column(
            "clear_height_m",
            "float64",
            default=_NAN,
            unit="m",
            description="结构净高: floor-slab top to the underside of the "
            "structure above (attic bands: the lowest point of the band; "
            "bay windows: inside the window)",
        ),
        Column(
            "enclosed",
            "boolean",
            default=pd.NA,
            description="has an enclosure (围护结构: walls, doors, windows)",
        ),
        Column(
            "inside_structure",
            "boolean",
            default=pd.NA,
            description="lies inside the main structure (主体结构内), e.g. "
            "a recessed balcony",
        ),
        Column(
            "sill_height_m",
            "float64",
            default=_NAN,
            unit="m",
            description="bay windows: sill above the room's floor",
        ),
        Column(
            "projection_m",
            "float64",
            default=_NAN,
            unit="m",
            description="depth beyond the outer wall's structural line",
        ),
    ),
)

_SHOW = 5


def _ids(values: Any) -> str:
    vals = [str(v) for v in list(values)]
    more = f" and {len(vals) - _SHOW} more" if len(vals) > _SHOW else ""
    return ", ".join(repr(v) for v in vals[:_SHOW]) + more


def _refuse(ids: pd.Series, mask: Any, column: str, why: str) -> None:
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        bad = list(ids[mask])
        msg = f"elements {_ids(bad)}, column {column!r}: {why}"
        raise LayerSchemaError(msg, layer="elements", column=column, feature_id=bad)


def _coerce(series: pd.Series, col: Column, ids: pd.Series) -> pd.Series:
    try:
        if col.dtype == "str":
            return series.astype("str").where(series.notna(), np.nan).astype("str")
        if col.dtype == "Int64":
            num = pd.to_numeric(series, errors="raise")
            vals = np.asarray(num, dtype="float64")
            _refuse(
                ids,
                np.isfinite(vals) & (vals % 1 != 0),
                col.name,
                "not whole numbers; give integer storey numbers",
            )
            return num.astype("Float64").round().astype("Int64")
        if col.dtype == "boolean":
            return series.astype("boolean")
        return pd.to_numeric(series, errors="raise").astype("float64")
    except LayerSchemaError:
        raise
    except (ValueError, TypeError) as exc:
        expected = {
            "boolean": "true/false (or empty where unknown)",
            "Int64": "whole numbers",
            "float64": "numbers",
        }.get(col.dtype, col.dtype)
        msg = (
            f"elements, column {col.name!r} cannot be read as {expected} ({exc}); "
            "fix the values"
        )
        raise LayerSchemaError(msg, layer="elements", column=col.name) from exc


def validate_elements(elements: pd.DataFrame) -> pd.DataFrame:
    """Check an element table against :data:`ELEMENTS` and return a clean copy.

    Parameters
    ----------
    elements
        One row per area element, with at least the required columns of
        :data:`ELEMENTS` (``building_id``, ``storey``, ``level``,
        ``element_id``, ``kind``, ``area_m2``).

    Returns
    -------
    pandas.DataFrame
        A new frame with a fresh RangeIndex: schema columns first, in schema
        order and dtypes (optional ones filled with NaN or ``<NA>``: unknown),
        other columns after, unchanged.

    Raises
    ------
    LayerSchemaError
        Naming the element ids, the column and the fix, if a required column is
        missing, ids are missing or duplicated, a kind is unknown, an area is
        missing or negative, a height is negative, a level is 0, a basement is
        above ground, or one storey label has two levels in a building.

    Examples
    --------
    >>> import pandas as pd
    >>> from cim.storeys import validate_elements
    >>> table = pd.DataFrame({
    ...     "building_id": ["b1", "b1"], "storey": ["1F", "1F"], "level": [1, 1],
    ...     "element_id": ["b1-1F", "b1-1F-balcony"], "kind": ["floor", "balcony"],
    ...     "area_m2": [500.0, 12.0], "structural_height_m": [3.0, 3.0],
    ...     "inside_structure": [True, False]})
    >>> validate_elements(table)["enclosed"].isna().all()
    np.True_
    """
    if not isinstance(elements, pd.DataFrame):
        msg = (
            f"elements must be a pandas DataFrame, got {type(elements).__name__}; "
            "build one with pandas.DataFrame({...}) or storeys_from_buildings()"
        )
        raise LayerSchemaError(msg, layer="elements")
    missing = [c for c in ELEMENTS.required if c not in elements.columns]
    if missing:
        have = ", ".join(map(str, elements.columns))
        msg = (
            f"elements lack required column {missing[0]!r} (they have: {have}); "
            "add it or rename the matching column"
        )
        raise LayerSchemaError(msg, layer="elements", column=missing[0])
    table = elements.reset_index(drop=True)
    raw_ids = table["element_id"]
    null = raw_ids.isna().to_numpy()
    if null.any():
        msg = (
            f"elements: rows {_ids(np.flatnonzero(null))} have no 'element_id'; "
            "give every element a unique id"
        )
        raise LayerSchemaError(msg, layer="elements", column="element_id")
    ids = raw_ids.astype("str")
    dup = ids.duplicated(keep=False).to_numpy()
    _refuse(ids, dup, "element_id", "duplicate ids; element ids must be unique")

    out: dict[str, pd.Series] = {}
    for col in ELEMENTS.columns:
        if col.name in table.columns:
            series = _coerce(table[col.name], col, ids)
        else:
            series = pd.Series(col.default, index=table.index, dtype=col.dtype)
        if col.required:
            _refuse(
                ids,
                series.isna().to_numpy(),
                col.name,
                "missing; every element needs it",
            )
        if col.choices is not None:
            bad = ~series.isin(col.choices).to_numpy()
            vals = sorted(set(series[bad]))
            _refuse(
                ids,
                bad,
                col.name,
                f"{_ids(vals)} not allowed; use one of {', '.join(col.choices)}",
            )
        out[col.name] = series
    frame = pd.DataFrame(out)

    area = frame["area_m2"].to_numpy(dtype="float64")
    _refuse(ids, ~np.isfinite(area), "area_m2", "not a finite number; give the area")
    _refuse(ids, area < 0, "area_m2", "negative; give the area in m2")
    for c in ("structural_height_m", "clear_height_m", "sill_height_m", "projection_m"):
        v = frame[c].to_numpy(dtype="float64")
        _refuse(ids, v < 0, c, "negative; give it in metres (empty if unknown)")
        _refuse(ids, np.isinf(v), c, "infinite; give it in metres")
    level = frame["level"].to_numpy(dtype="float64", na_value=np.nan)
    _refuse(
        ids,
        level == 0,
        "level",
        "0 is not a level; use 1 for the ground storey and -1 for the first basement",
    )
    _refuse(
        ids,
        (frame["kind"].to_numpy() == "basement") & (level > 0),
        "level",
        "a basement must have a negative level (-1 for the first basement)",
    )
    levels = frame.groupby(["building_id", "storey"], sort=False)["level"]
    clash = (levels.transform("nunique") > 1).to_numpy()
    _refuse(
        ids,
        clash,
        "level",
        "one storey label has several levels in the same building; give each "
        "storey one level",
    )

    extras = [c for c in table.columns if c not in out]
    for c in extras:
        frame[c] = table[c]
    return frame


def storeys_from_buildings(
    buildings: pd.DataFrame, *, storey_height_m: float | None = None
) -> pd.DataFrame:
    """The simple storey model: one ``floor`` element per storey of each building.

    Each building of ``floors`` storeys gets storeys ``1F`` ... ``nF`` (levels
    1 ... n), each one enclosed ``floor`` element inside the main structure
    whose area is the footprint's area (courtyards excluded) and whose
    structural height is the building's ``storey_height_m`` column where the
    layer has one, else ``height_m / floors``, else the ``storey_height_m``
    argument.

    A building whose ``attic_area_m2`` (see :data:`ATTIC_COLUMNS`) is above 0
    also gets its pitched-roof attic as the storey above, ``(n+1)F``: up to
    three ``attic`` elements (:func:`attic_band_rows`), ids
    ``"<building_id>/<storey>#<band>"``, with the area below 1.20 m, from 1.20 m
    to 2.10 m and from 2.10 m of structural clear height, and
    ``clear_height_m`` the band's lowest (0, 1.20 and 2.10 m), so that the
    take-off counts them by GB/T 50353-2013 §3.0.3 rather than as a storey.
    Basements, balconies and the rest need a detailed element table.

    Parameters
    ----------
    buildings
        A buildings layer (GeoDataFrame in a metric CRS) with ``building_id``,
        ``floors`` and ``height_m`` (see :data:`cim.layers.SCHEMAS`), and
        optionally ``storey_height_m`` [m] and the :data:`ATTIC_COLUMNS` [m2].
    storey_height_m
        Structural storey height used where neither the building's
        ``storey_height_m`` nor ``height_m`` is known [m]; default from
        ``assets/defaults.toml`` (3.0 m).

    Returns
    -------
    pandas.DataFrame
        An element table following :data:`ELEMENTS`, with element ids
        ``"<building_id>/<storey>"``.

    Raises
    ------
    LayerSchemaError
        If a building has no ``floors`` (fill estimates first with
        :func:`cim.estimate.fill_building_estimates`) or fewer than one, or
        its attic areas are missing, negative or not nested (whole attic >=
        part from 1.20 m >= part from 2.10 m).
    CRSError
        If the layer is not in a metric CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cim.storeys import storeys_from_buildings
    >>> b = gpd.GeoDataFrame({"building_id": ["b1"], "floors": [3],
    ...                       "height_m": [9.0]}, geometry=[box(0, 0, 20, 10)],
    ...                      crs=32650)
    >>> storeys_from_buildings(b)[["storey", "area_m2", "structural_height_m"]]
      storey  area_m2  structural_height_m
    0     1F    200.0                  3.0
    1     2F    200.0                  3.0
    2     3F    200.0                  3.0
    """
    check_metric_crs(getattr(buildings, "crs", None), layer="buildings")
    for col in ("building_id", "floors"):
        if col not in buildings.columns:
            msg = f"layer 'buildings' lacks column {col!r}; add it"
            raise LayerSchemaError(msg, layer="buildings", column=col)
    sh = estimate_parameter("storey_height_m", storey_height_m)
    if not (np.isfinite(sh) and sh > 0):
        msg = f"invalid storey_height_m {sh!r}; expected a positive number of metres"
        raise ValueError(msg)
    ids = buildings["building_id"].astype("str").reset_index(drop=True)
    floors = buildings["floors"].to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(floors).any():
        bad = ids[np.isnan(floors)]
        msg = (
            f"layer 'buildings': buildings {_ids(bad)} have no 'floors'; give them, "
            "or fill estimates with cim.estimate.fill_building_estimates"
        )
        raise LayerSchemaError(
            msg, layer="buildings", column="floors", feature_id=list(bad)
        )
    bad_f = (floors < 1) | (floors % 1 != 0)
    if bad_f.any():
        bad = ids[bad_f]
        msg = (
            f"layer 'buildings': buildings {_ids(bad)} have 'floors' below 1 or not "
            "whole; give the number of storeys above ground"
        )
        raise LayerSchemaError(
            msg, layer="buildings", column="floors", feature_id=list(bad)
        )
    if "height_m" in buildings.columns:
        height = buildings["height_m"].to_numpy(dtype="float64", na_value=np.nan)
    else:
        height = np.full(len(buildings), np.nan)
    n = floors.astype(np.intp)
    per_storey = np.where(np.isfinite(height), height / floors, sh)
    if "storey_height_m" in buildings.columns:
        own = buildings["storey_height_m"].to_numpy(dtype="float64", na_value=np.nan)
        per_storey = np.where(np.isfinite(own) & (own > 0), own, per_storey)
    footprint = np.asarray(buildings.geometry.area, dtype="float64")

    row = np.repeat(np.arange(len(n)), n)
    starts = np.repeat(np.cumsum(n) - n, n)
    level = np.arange(int(n.sum())) - starts + 1
    bid = ids.to_numpy(dtype=object)[row]
    storey = pd.Series(level).astype("str") + "F"
    out = pd.DataFrame(
        {
            "building_id": pd.array(bid, dtype="str"),
            "storey": storey.astype("str"),
            "level": pd.array(level, dtype="Int64"),
            "element_id": pd.array(
                bid + "/" + storey.to_numpy(dtype=object), dtype="str"
            ),
            "kind": pd.array(["floor"] * len(row), dtype="str"),
            "area_m2": footprint[row],
            "elevation_m": (level - 1) * per_storey[row],
            "structural_height_m": per_storey[row],
            "clear_height_m": np.nan,
            "enclosed": pd.array(np.ones(len(row), dtype=bool), dtype="boolean"),
            "inside_structure": pd.array(
                np.ones(len(row), dtype=bool), dtype="boolean"
            ),
            "sill_height_m": np.nan,
            "projection_m": np.nan,
        }
    )
    attics = _attic_rows(buildings, ids, n, per_storey)
    if attics is None:
        return out
    # Each building's attic right after its storeys.
    attic_row = attics.pop("_row").to_numpy()
    both = pd.concat([out, attics], ignore_index=True)
    order = np.argsort(np.concatenate([row, attic_row]), kind="stable")
    return both.iloc[order].reset_index(drop=True)


def _attic_rows(
    buildings: pd.DataFrame,
    ids: pd.Series,
    n: npt.NDArray[np.intp],
    per_storey: npt.NDArray[np.float64],
) -> pd.DataFrame | None:
    """Attic band elements from the :data:`ATTIC_COLUMNS`, or None if none."""
    if ATTIC_COLUMNS[0] not in buildings.columns:
        return None
    total = buildings[ATTIC_COLUMNS[0]].to_numpy(dtype="float64", na_value=np.nan)
    has = np.isfinite(total) & (total > 0)
    if not has.any():
        return None
    above = [total]
    for col in ATTIC_COLUMNS[1:]:
        if col not in buildings.columns:
            msg = (
                f"layer 'buildings' has {ATTIC_COLUMNS[0]!r} but lacks {col!r}; "
                "give the attic's area by clear height, or drop the attic columns"
            )
            raise LayerSchemaError(msg, layer="buildings", column=col)
        above.append(buildings[col].to_numpy(dtype="float64", na_value=np.nan))
    plan = np.column_stack(above)
    bands, tol = _attic_bands(plan)
    bad = has & ~(np.isfinite(bands) & (bands >= -tol[:, None])).all(axis=1)
    if bad.any():
        msg = (
            f"layer 'buildings': buildings {_ids(ids[bad])} have attic areas "
            f"({', '.join(ATTIC_COLUMNS)}) that are missing, negative or not "
            "nested; each must be at most the one before it"
        )
        raise LayerSchemaError(
            msg, layer="buildings", column=ATTIC_COLUMNS[0], feature_id=list(ids[bad])
        )
    rows = np.flatnonzero(has)
    attics = attic_band_rows(
        ids.to_numpy(dtype=object)[rows],
        level=n[rows] + 1,
        plan_m2=plan[rows],
        elevation_m=n[rows] * per_storey[rows],
    )
    attics["_row"] = rows[attics.index.to_numpy()]
    return attics.reset_index(drop=True)


def _attic_bands(
    plan_m2: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The area of each clear-height band of attics, and its rounding tolerance.

    ``plan_m2`` is ``(n, 3)``: the whole plan, the part with a clear height of
    at least 1.20 m and of at least 2.10 m; the bands ``(n, 3)`` are below
    1.20 m, 1.20 to 2.10 m, and from 2.10 m, the tolerance ``(n,)`` [m2].
    """
    bands = np.column_stack(
        [plan_m2[:, 0] - plan_m2[:, 1], plan_m2[:, 1] - plan_m2[:, 2], plan_m2[:, 2]]
    )
    return bands, 1e-6 * np.maximum(1.0, plan_m2[:, 0])


def attic_band_rows(
    building_ids: npt.ArrayLike,
    *,
    level: npt.ArrayLike,
    plan_m2: npt.ArrayLike,
    elevation_m: npt.ArrayLike,
) -> pd.DataFrame:
    """The clear-height bands of pitched-roof attics, one ``attic`` element each.

    Each attic's plan is cut at the :data:`ATTIC_BREAKS_M` into the part with
    a structural clear height below 1.20 m, from 1.20 m to 2.10 m and from
    2.10 m (bands 0, 1 and 2), so that the take-off counts them by GB/T
    50353-2013 §3.0.3 rather than as a storey. A band gets an element, id
    ``"<building_id>/<level>F#<band>"``, of storey ``"<level>F"``, with
    ``clear_height_m`` the band's lowest (0, 1.20 and 2.10 m), enclosed and
    inside the main structure, without a structural height; bands no larger
    than rounding (1e-6 of the attic's plan, at least 1e-6 m2) get none.
    :func:`storeys_from_buildings` and :func:`cim.io.cityjson.read_cityjson`
    make their attics with it.

    Parameters
    ----------
    building_ids
        Building of each attic, ``(n,)`` text.
    level
        Storey number of each attic, ``(n,)`` int: the storey above the
        storeys it stands on.
    plan_m2
        Plan area of each attic, ``(n, 3)`` float: the whole attic, the part
        with a structural clear height of at least 1.20 m, and of at least
        2.10 m [m2]; each at most the one before it (not checked).
    elevation_m
        Top of each attic's floor slab above ±0.00, ``(n,)`` float [m].

    Returns
    -------
    pandas.DataFrame
        Element rows with the columns of :data:`ELEMENTS`, attic by attic and
        band by band, indexed by the position of their attic in the input.

    Examples
    --------
    >>> from cim.storeys import attic_band_rows
    >>> bands = attic_band_rows(["b1"], level=[4], plan_m2=[[200.0, 120.0, 60.0]],
    ...                         elevation_m=[9.0])
    >>> bands[["element_id", "area_m2", "elevation_m", "clear_height_m"]]
      element_id  area_m2  elevation_m  clear_height_m
    0    b1/4F#0     80.0          9.0             0.0
    0    b1/4F#1     60.0          9.0             1.2
    0    b1/4F#2     60.0          9.0             2.1
    """
    plan = np.asarray(plan_m2, dtype="float64").reshape(-1, 3)
    bands, tol = _attic_bands(plan)
    attic, band = np.nonzero(bands > tol[:, None])
    lv = np.asarray(level, dtype=np.intp)[attic]
    bid = np.asarray(building_ids, dtype=object)[attic]
    storey = pd.Series(lv).astype("str") + "F"
    eid = bid + "/" + storey.to_numpy(dtype=object) + "#" + band.astype(str)
    clear = np.array([0.0, *ATTIC_BREAKS_M])
    true = pd.array(np.ones(len(attic), dtype=bool), dtype="boolean")
    return pd.DataFrame(
        {
            "building_id": pd.array(bid, dtype="str"),
            "storey": pd.array(storey.to_numpy(dtype=object), dtype="str"),
            "level": pd.array(lv, dtype="Int64"),
            "element_id": pd.array(eid, dtype="str"),
            "kind": pd.array(["attic"] * len(attic), dtype="str"),
            "area_m2": np.maximum(bands[attic, band], 0.0),
            "elevation_m": np.asarray(elevation_m, dtype="float64")[attic],
            "structural_height_m": np.nan,
            "clear_height_m": clear[band],
            "enclosed": true,
            "inside_structure": true.copy(),
            "sill_height_m": np.nan,
            "projection_m": np.nan,
        },
        index=pd.Index(attic, dtype=np.intp),
    )


def attic_elements(
    attic: Mapping[str, Any],
    *,
    length_m: float,
    profile_x_m: Sequence[float],
    profile_clear_height_m: Sequence[float],
    breaks_m: Sequence[float] = ATTIC_BREAKS_M,
) -> pd.DataFrame:
    """Split a sloped attic into clear-height bands, one ``attic`` element each.

    GB/T 50353-2013 §3.0.3 counts the parts of a pitched-roof space by their
    structural clear height (2.10 m and above in full, 1.20 m to 2.10 m half,
    below 1.20 m not at all). This takes the attic's cross-section as a
    piecewise-linear clear-height profile, cuts it where it crosses each break,
    and returns one element per band with the band's floor area (summed over
    both slopes) and its lowest clear height, which is what the area rules
    test. Attics of other plans can be split by the caller the same way: one
    element per band, ``clear_height_m`` the band's lowest point.

    Parameters
    ----------
    attic
        The attic's element row (dict or Series): ``building_id``, ``storey``,
        ``level``, ``element_id`` and any other element columns to copy.
    length_m
        Length of the attic along the ridge [m].
    profile_x_m
        Increasing positions across the ridge, ``(n,)`` float [m].
    profile_clear_height_m
        Structural clear height at each position, ``(n,)`` float [m].
    breaks_m
        Band limits [m]; they must be the rulebook's (GB/T 50353: 1.20, 2.10).

    Returns
    -------
    pandas.DataFrame
        Element rows of kind ``attic``, ids ``"<element_id>#<band>"`` (band 0
        is the lowest), bands without area dropped.

    Raises
    ------
    ValueError
        If the profile has fewer than two points, positions do not increase,
        heights are negative or not finite, or ``length_m`` is not positive.

    Examples
    --------
    A 10 m wide gable attic, 0 m clear at the eaves and 3 m at the ridge:

    >>> from cim.storeys import attic_elements
    >>> bands = attic_elements(
    ...     {"building_id": "b1", "storey": "4F", "level": 4, "element_id": "b1-A"},
    ...     length_m=20.0, profile_x_m=[0, 5, 10],
    ...     profile_clear_height_m=[0.0, 3.0, 0.0])
    >>> bands[["element_id", "area_m2", "clear_height_m"]]
      element_id  area_m2  clear_height_m
    0     b1-A#0     80.0             0.0
    1     b1-A#1     60.0             1.2
    2     b1-A#2     60.0             2.1
    """
    x = np.asarray(profile_x_m, dtype="float64")
    h = np.asarray(profile_clear_height_m, dtype="float64")
    br = np.sort(np.asarray(breaks_m, dtype="float64"))
    if x.ndim != 1 or x.shape != h.shape or len(x) < 2:
        msg = (
            "invalid attic profile; expected profile_x_m and "
            "profile_clear_height_m of the same length, at least 2 points"
        )
        raise ValueError(msg)
    if not (np.all(np.isfinite(x)) and np.all(np.diff(x) > 0)):
        raise ValueError("invalid profile_x_m; expected finite increasing positions")
    if not (np.all(np.isfinite(h)) and np.all(h >= 0)):
        raise ValueError("invalid profile_clear_height_m; expected heights >= 0 m")
    if not (np.isfinite(length_m) and length_m > 0):
        raise ValueError(f"invalid length_m {length_m!r}; expected a positive length")
    if not np.all(np.isfinite(br)):
        raise ValueError(f"invalid breaks_m {breaks_m!r}; expected finite heights")

    # Where each segment crosses each break: add a point whose height is the
    # break exactly, so that the band test at the break is not at the mercy of
    # rounding.
    h0, h1 = h[:-1, None], h[1:, None]
    cross = (h0 - br) * (h1 - br) < 0
    seg, which = np.nonzero(cross)
    t = (br[which] - h[seg]) / (h[seg + 1] - h[seg])
    xs = np.concatenate([x, x[seg] + t * (x[seg + 1] - x[seg])])
    hs = np.concatenate([h, br[which]])
    order = np.argsort(xs, kind="stable")
    xs, hs = xs[order], hs[order]
    width = np.diff(xs)
    low = np.minimum(hs[:-1], hs[1:])
    band = np.searchsorted(br, low, side="right")

    rows = []
    for b in np.unique(band[width > 0]):
        sel = (band == b) & (width > 0)
        row = dict(attic)
        row.update(
            element_id=f"{attic['element_id']}#{int(b)}",
            kind="attic",
            area_m2=float(width[sel].sum() * length_m),
            clear_height_m=float(low[sel].min()),
        )
        rows.append(row)
    return pd.DataFrame(rows)
