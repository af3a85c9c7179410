"""Planning indicators of parcels and sites (FAR, density, green, people, parking).

Each function takes layers (GeoDataFrames in one metric CRS) and a layer of
*zones*, parcels or the site, and returns a :class:`pandas.Series` indexed by
the zone ids (``parcel_id`` or ``site_id``) with a ``name`` and a documented
unit. Features are assigned to zones by area-weighted overlay
(:mod:`cim.indicators.overlay`): a building crossing a parcel line adds to
each parcel the share of its footprint inside it. Pass precomputed
``shares`` (:class:`~cim.indicators.overlay.Shares`) to reuse one overlay for
several indicators. Inputs are never modified.

Definitions follow GB 50180-2018 (table notes of Table 4.0.2 [M]):

- **housing** buildings have ``use == "residential"``, or ``mixed`` or
  ``unknown`` use with households;
- **FAR** (容积率): FAR-counted floor area above ground / zone area;
- **building density** (建筑密度): footprint area inside the zone / zone area;
- **average storeys** (平均层数): housing gross floor area above ground /
  housing footprint, which gives the **storey class** (:data:`STOREY_CLASSES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cim.errors import LayerSchemaError
from cim.indicators.overlay import Shares, _pairs, check_same_crs, zone_ids
from cim.layers import BUILDING_USES, GREEN_KINDS

__all__ = [
    "DWELLING_SIZE_CLASSES",
    "GROUND_GREEN_KINDS",
    "STOREY_CLASSES",
    "average_dwelling_area",
    "average_storeys",
    "building_density",
    "concentrated_green",
    "concentrated_green_per_capita",
    "dwelling_size_class",
    "dwellings",
    "far",
    "green_factors",
    "green_rate",
    "ground_green_rate",
    "is_housing",
    "max_height",
    "parking_spaces_per_household",
    "planted_area",
    "public_green_per_capita",
    "residential_land_per_capita",
    "residents",
    "service_space_per_100_households",
    "storey_class",
    "surface_parking_per_household",
]

#: Storey classes of GB 50180-2018 Table 4.0.2 (住宅建筑平均层数类别), each with
#: the highest average storeys it takes: 低层 1-3, 多层I类 4-6, 多层II类 7-9,
#: 高层I类 10-18, 高层II类 19-26. Average storeys are continuous; a class
#: takes values above the previous class's bound up to its own (3.2 is
#: ``multi_i``): an interpretation, the table gives whole storeys. Above 26:
#: ``"over_26"``; no housing: ``"none"``.
STOREY_CLASSES: tuple[tuple[str, float], ...] = (
    ("low", 3.0),
    ("multi_i", 6.0),
    ("multi_ii", 9.0),
    ("high_i", 18.0),
    ("high_ii", 26.0),
)

#: Dwelling floor-area classes of DBJ33/T 1021-2023 Table 5.0.2 [m2]: at most
#: 60, over 60 up to 90, 90-140, 140-200, over 200.
DWELLING_SIZE_CLASSES: tuple[tuple[str, float], ...] = (
    ("le60", 60.0),
    ("60-90", 90.0),
    ("90-140", 140.0),
    ("140-200", 200.0),
    ("gt200", np.inf),
)

#: Kinds of green counted as ground-level green. Of the other
#: :data:`cim.layers.GREEN_KINDS`, roof, podium and vertical are 3D greening;
#: water and other are neither.
GROUND_GREEN_KINDS = ("ground", "park", "forest")

_HOUSING_MIXED = ("mixed", "unknown")


# --------------------------------------------------------------------------
# helpers


def _column(frame: pd.DataFrame, name: str, layer: str, fix: str) -> Any:
    if name not in frame.columns:
        msg = f"layer {layer!r} lacks column {name!r}; {fix}"
        raise LayerSchemaError(msg, layer=layer, column=name)
    return frame[name]


def _numbers(values: pd.Series) -> NDArray[np.float64]:
    """Values as floats; NaN where missing or not a number."""
    return np.asarray(
        pd.to_numeric(values, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        ),
        dtype="float64",
    )


def _floats(
    frame: pd.DataFrame, name: str, layer: str, fix: str
) -> NDArray[np.float64]:
    return _numbers(_column(frame, name, layer, fix))


def _floor_area(buildings: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """A floor-area column of the take-off [m2], which must have been run."""
    return _floats(
        buildings,
        column,
        "buildings",
        "run cim.takeoff.with_floor_areas(twin, rulebook) first",
    )


def _geoms(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> NDArray[np.object_]:
    return np.asarray(layer.geometry.array, dtype=object)


def _shares(
    features: gpd.GeoDataFrame | gpd.GeoSeries,
    zones: gpd.GeoDataFrame,
    shares: Shares | None,
) -> Shares:
    if shares is not None:
        if shares.n_features != len(features) or shares.n_zones != len(zones):
            msg = (
                f"shares are for {shares.n_features} features and {shares.n_zones} "
                f"zones, not {len(features)} and {len(zones)}; compute them for "
                "these layers"
            )
            raise ValueError(msg)
        return shares
    check_same_crs(features, zones)
    return _pairs(_geoms(features), _geoms(zones))


def _area(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> NDArray[np.float64]:
    """Polygon area of each feature [m2]."""
    return np.asarray(shapely.area(_geoms(layer)), dtype="float64")


def _covered(s: Shares) -> NDArray[np.float64]:
    """Per zone, the area of the features inside it [m2]."""
    covered = np.bincount(s.zone, weights=s.area_m2, minlength=s.n_zones)
    return np.asarray(covered, dtype="float64")


def _of_kinds(greens: pd.DataFrame, kinds: Sequence[str]) -> NDArray[np.bool_]:
    """Which greens are of one of ``kinds``."""
    return np.isin(greens["kind"].astype("str").to_numpy(), list(kinds))


#: Per zone, the numerator and denominator of a ratio, each ``(n_zones,)`` float,
#: as returned by the ``_*_parts`` helpers: the indicator's value is their
#: :func:`_ratio`, and the check's ``basis`` prints them (so each number is
#: computed once).
_Parts = tuple[NDArray[np.float64], NDArray[np.float64]]


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """``num / den`` where ``den > 0``, else NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _series(
    values: NDArray[np.float64], zones: gpd.GeoDataFrame, name: str
) -> pd.Series:
    return pd.Series(values, index=zone_ids(zones), name=name, dtype="float64")


def _pph(persons_per_household: float) -> float:
    pph = float(persons_per_household)
    if not (np.isfinite(pph) and pph > 0):
        msg = (
            f"invalid persons_per_household {persons_per_household!r}; expected a "
            "positive number of persons"
        )
        raise ValueError(msg)
    return pph


def is_housing(buildings: pd.DataFrame) -> NDArray[np.bool_]:
    """Which buildings are housing.

    Parameters
    ----------
    buildings
        Buildings with ``use`` and ``households``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool: ``use == "residential"``, or ``mixed`` or ``unknown``
        use with at least one household.

    Raises
    ------
    LayerSchemaError
        If ``use`` or ``households`` is missing, naming the column.
    """
    use = (
        _column(
            buildings,
            "use",
            "buildings",
            f"give each building's use (one of {', '.join(BUILDING_USES)})",
        )
        .astype("str")
        .to_numpy()
    )
    hh = _households(buildings)
    return np.asarray(
        (use == "residential") | (np.isin(use, _HOUSING_MIXED) & (hh > 0)),
        dtype=bool,
    )


def _households(buildings: pd.DataFrame) -> NDArray[np.float64]:
    return _floats(
        buildings,
        "households",
        "buildings",
        "give households (the twin estimates them for residential buildings)",
    )


# --------------------------------------------------------------------------
# built form


def far(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    floor_area: str = "far_area_m2",
    shares: Shares | None = None,
) -> pd.Series:
    """Plot ratio (容积率): FAR-counted floor area over zone area.

    Parameters
    ----------
    buildings
        Buildings with a column of FAR-counted floor area, e.g. from
        :func:`cim.takeoff.with_floor_areas`.
    zones
        Parcels or the site.
    floor_area
        Column of FAR-counted floor area [m2]; above-ground area for GB 50180.
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``far`` [-] per zone id.

    Examples
    --------
    >>> import cim
    >>> from cim.indicators import far
    >>> from cim.takeoff import with_floor_areas
    >>> twin = with_floor_areas(cim.datasets.load("beijing_haidian_cau"))
    >>> ratio = far(twin.buildings, twin.parcels)
    >>> ratio.name, bool((ratio >= 0).all())
    ('far', True)
    """
    parts = _far_parts(buildings, zones, floor_area=floor_area, shares=shares)
    return _series(_ratio(*parts), zones, "far")


def _far_parts(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    floor_area: str,
    shares: Shares | None,
) -> _Parts:
    """Per zone, FAR-counted floor area by footprint share [m2] and land area [m2]."""
    s = _shares(buildings, zones, shares)
    fa = _floor_area(buildings, floor_area)
    return s.sum(fa), _area(zones)


def building_density(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    shares: Shares | None = None,
) -> pd.Series:
    """Building density (建筑密度): footprint area in the zone over its area.

    Parameters
    ----------
    buildings
        Building footprints.
    zones
        Parcels or the site.
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``building_density`` [-] (a fraction, 0.30 for 30%) per zone id.
    """
    parts = _density_parts(buildings, zones, shares=shares)
    return _series(_ratio(*parts), zones, "building_density")


def _density_parts(
    buildings: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, shares: Shares | None
) -> _Parts:
    """Per zone, the footprint area inside it [m2] and its land area [m2]."""
    return _covered(_shares(buildings, zones, shares)), _area(zones)


def max_height(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    min_share: float = 0.01,
    shares: Shares | None = None,
) -> pd.Series:
    """Height of the tallest building in each zone.

    Parameters
    ----------
    buildings
        Buildings with ``height_m``.
    zones
        Parcels or the site.
    min_share
        Share of a footprint that must lie in the zone for its height to count
        there, so that slivers from digitising do not carry a tower into the
        next parcel [-].
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``max_height_m`` [m] per zone id; 0 where no building is.
    """
    s = _shares(buildings, zones, shares)
    h = _floats(buildings, "height_m", "buildings", "give heights in metres")
    out = np.zeros(s.n_zones)
    sel = s.share >= min_share
    np.fmax.at(out, s.zone[sel], h[s.feature[sel]])
    return _series(out, zones, "max_height_m")


def average_storeys(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    floor_area: str = "gross_floor_area_m2",
    shares: Shares | None = None,
) -> pd.Series:
    """Average storeys of housing (住宅建筑平均层数): floor area over footprint.

    Parameters
    ----------
    buildings
        Buildings with ``use``, ``households`` and a floor-area column.
    zones
        Parcels or the site.
    floor_area
        Column of housing gross floor area above ground [m2].
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``average_storeys`` [-] per zone id; NaN where there is no housing.
    """
    floor, footprint, _ = _housing_sums(
        buildings, zones, floor_area=floor_area, shares=shares
    )
    return _series(_ratio(floor, footprint), zones, "average_storeys")


def _housing_sums(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    floor_area: str,
    shares: Shares | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per zone, housing floor area [m2], footprint [m2] and dwellings, by share.

    The sums behind average storeys (floor area / footprint) and the average
    dwelling area (floor area / dwellings); buildings that are not housing
    count in none of them. Each ``(n_zones,)`` float.
    """
    s = _shares(buildings, zones, shares)
    housing = is_housing(buildings)
    fa = _floor_area(buildings, floor_area)
    floor = s.sum(np.where(housing, fa, 0.0))
    footprint = s.sum(np.where(housing, _area(buildings), 0.0))
    homes = s.sum(np.where(housing, _households(buildings), 0.0))
    return floor, footprint, homes


def _classify(
    values: pd.Series, classes: Sequence[tuple[str, float]], above: str, name: str
) -> pd.Series:
    v = values.to_numpy(dtype="float64", na_value=np.nan)
    bounds = np.array([b for _, b in classes])
    labels = np.array([c for c, _ in classes] + [above], dtype=object)
    idx = np.searchsorted(bounds, v, side="left")
    out = labels[np.minimum(idx, len(labels) - 1)]
    out = np.where(np.isfinite(v) & (v > 0), out, "none")
    return pd.Series(out, index=values.index, name=name, dtype="str")


def storey_class(average: pd.Series) -> pd.Series:
    """The GB 50180 storey class of average storeys (:data:`STOREY_CLASSES`).

    Parameters
    ----------
    average
        Average storeys [-], e.g. from :func:`average_storeys`.

    Returns
    -------
    pandas.Series
        ``storey_class``: ``low``, ``multi_i``, ``multi_ii``, ``high_i``,
        ``high_ii``, ``over_26``, or ``none`` where there is no housing.

    Examples
    --------
    >>> import pandas as pd
    >>> from cim.indicators import storey_class
    >>> storey_class(pd.Series([2.0, 3.2, 6.0, 17.4, 30.0, float("nan")])).tolist()
    ['low', 'multi_i', 'multi_i', 'high_i', 'over_26', 'none']
    """
    return _classify(average, STOREY_CLASSES, "over_26", "storey_class")


def average_dwelling_area(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    floor_area: str = "gross_floor_area_m2",
    shares: Shares | None = None,
) -> pd.Series:
    """Average dwelling floor area: housing gross floor area over dwellings.

    Parameters
    ----------
    buildings
        Buildings with ``use``, ``households`` and a floor-area column.
    zones
        Parcels or the site.
    floor_area
        Column of gross floor area [m2].
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``average_dwelling_area_m2`` [m2] per zone id; NaN without dwellings.
    """
    floor, _, homes = _housing_sums(
        buildings, zones, floor_area=floor_area, shares=shares
    )
    return _series(_ratio(floor, homes), zones, "average_dwelling_area_m2")


def dwelling_size_class(area: pd.Series) -> pd.Series:
    """The parking standard's dwelling-size class (:data:`DWELLING_SIZE_CLASSES`).

    Parameters
    ----------
    area
        Dwelling floor area [m2].

    Returns
    -------
    pandas.Series
        ``dwelling_size_class``: ``le60``, ``60-90``, ``90-140``, ``140-200``,
        ``gt200``, or ``none`` where unknown.
    """
    return _classify(area, DWELLING_SIZE_CLASSES, "gt200", "dwelling_size_class")


# --------------------------------------------------------------------------
# green


def planted_area(greens: gpd.GeoDataFrame) -> NDArray[np.float64]:
    """Planted area of each green: ``area_m2`` where given, else the polygon's.

    Parameters
    ----------
    greens
        Greens layer.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float [m2].
    """
    geo = _area(greens)
    if "area_m2" not in greens.columns:
        return geo
    given = _numbers(greens["area_m2"])
    return np.where(np.isfinite(given), given, geo)


def _parse_factors(
    factors: Mapping[str, Any],
) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    out: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    if not isinstance(factors, Mapping):
        msg = f"invalid factors {factors!r}; expected a table of factors by green kind"
        raise ValueError(msg)
    for kind, spec in factors.items():
        if kind not in GREEN_KINDS:
            msg = (
                f"invalid green kind {kind!r} in factors; expected one of "
                f"{', '.join(GREEN_KINDS)}"
            )
            raise ValueError(msg)
        if isinstance(spec, Mapping):
            try:
                depth = np.array([float(k) for k in spec], dtype="float64")
            except ValueError:
                msg = (
                    f"factors.{kind}: invalid soil depth key in {dict(spec)!r}; "
                    'expected numbers of metres as keys, e.g. {"0" = 0.0, "1.5" = 1.0}'
                )
                raise ValueError(msg) from None
            vals = list(spec.values())
        else:
            depth = np.zeros(1)
            vals = [spec]
        if not vals or any(
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or not np.isfinite(v)
            or v < 0
            for v in vals
        ):
            msg = (
                f"factors.{kind}: invalid factor in {spec!r}; expected numbers "
                ">= 0 (1.0 counts the area in full)"
            )
            raise ValueError(msg)
        if not np.all(np.isfinite(depth)) or np.any(depth < 0):
            raise ValueError(f"factors.{kind}: soil depths must be >= 0 m")
        order = np.argsort(depth)
        out[kind] = (depth[order], np.asarray(vals, dtype="float64")[order])
    return out


#: Counting factors without a rulebook: ground-level green in full, 3D
#: greening, water and other not at all.
DEFAULT_GREEN_FACTORS: Mapping[str, Any] = dict.fromkeys(GROUND_GREEN_KINDS, 1.0)


def green_factors(
    greens: gpd.GeoDataFrame, factors: Mapping[str, Any] | None = None
) -> NDArray[np.float64]:
    """Share of each green's planted area that counts toward the green rate.

    Parameters
    ----------
    greens
        Greens with ``kind`` and ``soil_depth_m``.
    factors
        By green kind: a number, or a table ``{soil depth from [m]: factor}``
        whose deepest step reached by the green's soil depth applies (a green
        of unknown soil depth gets 0, unless the table has a single step at
        0 m). Kinds not listed count 0. Default: ground, park and forest in
        full (:data:`DEFAULT_GREEN_FACTORS`).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float [-].

    Raises
    ------
    ValueError
        If a kind is unknown, a depth is not a number or a factor is negative.

    Examples
    --------
    Hangzhou's conversion of roof greening by soil depth:

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cim.indicators import green_factors
    >>> g = gpd.GeoDataFrame({"kind": ["ground", "roof", "roof", "vertical"],
    ...     "soil_depth_m": [None, 0.6, 1.5, None]},
    ...     geometry=[box(0, 0, 1, 1)] * 4, crs=4549)
    >>> green_factors(g, {"ground": 1.0, "vertical": 0.2,
    ...     "roof": {"0": 0.0, "0.5": 0.5, "1.0": 0.8, "1.5": 1.0}})
    array([1. , 0.5, 1. , 0.2])
    """
    table = _parse_factors(DEFAULT_GREEN_FACTORS if factors is None else factors)
    kinds = greens["kind"].astype("str").to_numpy()
    depth = (
        _numbers(greens["soil_depth_m"])
        if "soil_depth_m" in greens.columns
        else np.full(len(greens), np.nan)
    )
    out = np.zeros(len(greens))
    for kind, (steps, vals) in table.items():
        sel = kinds == kind
        if not sel.any():
            continue
        if len(steps) == 1 and steps[0] == 0:
            out[sel] = vals[0]
            continue
        d = depth[sel]
        idx = np.searchsorted(steps, np.nan_to_num(d, nan=-1.0), side="right") - 1
        out[sel] = np.where((idx >= 0) & np.isfinite(d), vals[np.maximum(idx, 0)], 0)
    return out


def green_rate(
    greens: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    factors: Mapping[str, Any] | None = None,
    shares: Shares | None = None,
) -> pd.Series:
    """Green rate (绿地率): counted green area over zone area.

    Counted area = planted area x its factor (:func:`green_factors`): ground
    green in full, 3D greening (roof, podium, vertical) as the rulebook says.

    Parameters
    ----------
    greens
        Greens with ``kind``, ``soil_depth_m`` and ``area_m2``.
    zones
        Parcels or the site.
    factors
        Counting factors by kind, see :func:`green_factors`.
    shares
        Overlay of ``greens`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``green_rate`` [-] per zone id.
    """
    parts = _green_rate_parts(greens, zones, factors=factors, shares=shares)
    return _series(_ratio(*parts), zones, "green_rate")


def _green_rate_parts(
    greens: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    factors: Mapping[str, Any] | None,
    shares: Shares | None,
) -> _Parts:
    """Per zone, the counted green area by share [m2] and its land area [m2]."""
    s = _shares(greens, zones, shares)
    counted = planted_area(greens) * green_factors(greens, factors)
    return s.sum(counted), _area(zones)


def ground_green_rate(
    greens: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    kinds: Sequence[str] = GROUND_GREEN_KINDS,
    shares: Shares | None = None,
) -> pd.Series:
    """Green rate of ground-level green only (no 3D greening).

    Parameters
    ----------
    greens
        Greens with ``kind``.
    zones
        Parcels or the site.
    kinds
        Green kinds counted (in full).
    shares
        Overlay of ``greens`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``ground_green_rate`` [-] per zone id.
    """
    parts = _ground_green_parts(greens, zones, kinds=kinds, shares=shares)
    return _series(_ratio(*parts), zones, "ground_green_rate")


def _ground_green_parts(
    greens: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    kinds: Sequence[str],
    shares: Shares | None,
) -> _Parts:
    """Per zone, the planted area of greens of ``kinds`` [m2] and its land area."""
    s = _shares(greens, zones, shares)
    counted = np.where(_of_kinds(greens, kinds), planted_area(greens), 0.0)
    return s.sum(counted), _area(zones)


def concentrated_green(
    greens: gpd.GeoDataFrame,
    *,
    min_width_m: float = 8.0,
    kinds: Sequence[str] = ("ground", "park"),
) -> gpd.GeoSeries:
    """The part of each green at least ``min_width_m`` wide (集中绿地).

    A morphological opening: the polygon shrunk by half the width and grown
    back (mitred joins, so rectangles come back whole), clipped to itself.
    Strips narrower than the width vanish.

    Parameters
    ----------
    greens
        Greens with ``kind``.
    min_width_m
        Minimum width [m] (GB 50180-2018: 8 m).
    kinds
        Green kinds that may be concentrated green.

    Returns
    -------
    geopandas.GeoSeries
        Aligned to ``greens``; empty polygons for other kinds.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cim.indicators import concentrated_green
    >>> g = gpd.GeoDataFrame({"kind": ["ground", "ground"]},
    ...     geometry=[box(0, 0, 30, 20), box(0, 0, 30, 6)], crs=4549)
    >>> concentrated_green(g).area.round(6).tolist()
    [600.0, 0.0]
    """
    if not (np.isfinite(min_width_m) and min_width_m > 0):
        msg = f"invalid min_width_m {min_width_m!r}; expected a positive width"
        raise ValueError(msg)
    geoms = _geoms(greens)
    sel = _of_kinds(greens, kinds)
    out = np.array([shapely.Polygon()] * len(geoms), dtype=object)
    if sel.any():
        r = min_width_m / 2.0
        core = shapely.buffer(geoms[sel], -r, join_style="mitre")
        opened = shapely.buffer(core, r, join_style="mitre")
        out[sel] = shapely.intersection(opened, geoms[sel])
    return gpd.GeoSeries(out, index=greens.index, crs=greens.crs)


# --------------------------------------------------------------------------
# people


def dwellings(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    shares: Shares | None = None,
) -> pd.Series:
    """Dwellings (households) in each zone, split by footprint share.

    Parameters
    ----------
    buildings
        Buildings with ``households``.
    zones
        Parcels or the site.
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``dwellings`` [-] per zone id (fractional where buildings are split).
    """
    s = _shares(buildings, zones, shares)
    return _series(s.sum(_households(buildings)), zones, "dwellings")


def residents(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    shares: Shares | None = None,
) -> pd.Series:
    """Residents: dwellings x persons per household.

    Parameters
    ----------
    buildings
        Buildings with ``households``.
    zones
        Parcels or the site.
    persons_per_household
        Persons per household [persons] (``assets/defaults.toml``: 2.8 [M]).
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``residents`` [persons] per zone id.
    """
    _, people = _people(
        buildings, zones, persons_per_household=persons_per_household, shares=shares
    )
    return _series(people, zones, "residents")


def _people(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    shares: Shares | None,
) -> _Parts:
    """Per zone, dwellings (split by footprint share) and residents [persons]."""
    pph = _pph(persons_per_household)
    homes = dwellings(buildings, zones, shares=shares).to_numpy()
    return homes, homes * pph


def residential_land_per_capita(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    shares: Shares | None = None,
) -> pd.Series:
    """Residential land per person (人均住宅用地面积): zone area over residents.

    Parameters
    ----------
    buildings
        Buildings with ``households``.
    zones
        Residential parcels (or the site).
    persons_per_household
        Persons per household [persons].
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``residential_land_per_capita_m2`` [m2/person]; NaN without residents.
    """
    parts = _land_per_capita_parts(
        buildings, zones, persons_per_household=persons_per_household, shares=shares
    )
    return _series(_ratio(*parts), zones, "residential_land_per_capita_m2")


def _land_per_capita_parts(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    shares: Shares | None,
) -> _Parts:
    """Per zone, its land area [m2] and its residents [persons]."""
    _, people = _people(
        buildings, zones, persons_per_household=persons_per_household, shares=shares
    )
    return _area(zones), people


def public_green_per_capita(
    greens: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    kinds: Sequence[str] = ("park",),
    green_shares: Shares | None = None,
    building_shares: Shares | None = None,
) -> pd.Series:
    """Public green per person (人均公共绿地面积).

    Parameters
    ----------
    greens
        Greens with ``kind``.
    buildings
        Buildings with ``households``.
    zones
        The site (or parcels).
    persons_per_household
        Persons per household [persons].
    kinds
        Green kinds that are public green.
    green_shares, building_shares
        Overlays of ``greens`` and ``buildings`` on ``zones``, if computed.

    Returns
    -------
    pandas.Series
        ``public_green_per_capita_m2`` [m2/person]; NaN without residents.
    """
    parts = _public_green_parts(
        greens,
        buildings,
        zones,
        persons_per_household=persons_per_household,
        kinds=kinds,
        green_shares=green_shares,
        building_shares=building_shares,
    )
    return _series(_ratio(*parts), zones, "public_green_per_capita_m2")


def _public_green_parts(
    greens: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    kinds: Sequence[str],
    green_shares: Shares | None,
    building_shares: Shares | None,
) -> _Parts:
    """Per zone, the planted area of greens of ``kinds`` [m2] and residents."""
    gs = _shares(greens, zones, green_shares)
    area = gs.sum(np.where(_of_kinds(greens, kinds), planted_area(greens), 0.0))
    _, people = _people(
        buildings,
        zones,
        persons_per_household=persons_per_household,
        shares=building_shares,
    )
    return area, people


def concentrated_green_per_capita(
    greens: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    min_width_m: float = 8.0,
    kinds: Sequence[str] = ("ground", "park"),
    building_shares: Shares | None = None,
) -> pd.Series:
    """Concentrated green per person (集中绿地, GB 50180-2018 §4.0.7).

    Parameters
    ----------
    greens
        Greens with ``kind``.
    buildings
        Buildings with ``households``.
    zones
        Residential parcels (blocks).
    persons_per_household
        Persons per household [persons].
    min_width_m
        Minimum width of concentrated green [m].
    kinds
        Green kinds that may be concentrated green.
    building_shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``concentrated_green_per_capita_m2`` [m2/person]; NaN without
        residents.
    """
    parts = _concentrated_green_parts(
        greens,
        buildings,
        zones,
        persons_per_household=persons_per_household,
        min_width_m=min_width_m,
        kinds=kinds,
        building_shares=building_shares,
    )
    return _series(_ratio(*parts), zones, "concentrated_green_per_capita_m2")


def _concentrated_green_parts(
    greens: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    persons_per_household: float,
    min_width_m: float,
    kinds: Sequence[str],
    building_shares: Shares | None,
) -> _Parts:
    """Per zone, the concentrated green inside it [m2] and its residents."""
    core = concentrated_green(greens, min_width_m=min_width_m, kinds=kinds)
    check_same_crs(core, zones)
    area = _covered(_pairs(_geoms(core), _geoms(zones)))
    _, people = _people(
        buildings,
        zones,
        persons_per_household=persons_per_household,
        shares=building_shares,
    )
    return area, people


# --------------------------------------------------------------------------
# services and parking


def service_space_per_100_households(
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    shares: Shares | None = None,
) -> pd.Series:
    """Community service space per 100 households.

    Parameters
    ----------
    buildings
        Buildings with ``service_space_m2`` and ``households``.
    zones
        The site (or parcels).
    shares
        Overlay of ``buildings`` on ``zones``, if already computed.

    Returns
    -------
    pandas.Series
        ``service_space_per_100_households_m2`` [m2 per 100 dwellings]; NaN
        without dwellings, or if no building gives ``service_space_m2``.
    """
    space, homes = _service_space_parts(buildings, zones, shares=shares)
    return _series(
        _ratio(space, homes) * 100.0, zones, "service_space_per_100_households_m2"
    )


def _service_space_parts(
    buildings: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, shares: Shares | None
) -> _Parts:
    """Per zone, community service space [m2] and dwellings, by footprint share.

    Both NaN everywhere if no building gives ``service_space_m2``.
    """
    s = _shares(buildings, zones, shares)
    space = _floats(
        buildings,
        "service_space_m2",
        "buildings",
        "give the community service floor area of each building (0 if none)",
    )
    if not np.isfinite(space).any():
        none = np.full(s.n_zones, np.nan)
        return none, none
    return s.sum(space), s.sum(_households(buildings))


def _per_household(
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None,
    column: str,
    name: str,
    building_shares: Shares | None,
    parcel_shares: Shares | None,
) -> pd.Series:
    parts = _per_household_parts(
        parcels, buildings, zones, column, building_shares, parcel_shares
    )
    return _series(_ratio(*parts), parcels if zones is None else zones, name)


def _per_household_parts(
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None,
    column: str,
    building_shares: Shares | None,
    parcel_shares: Shares | None,
) -> _Parts:
    """Per zone (or parcel), the spaces of ``parcels[column]`` and dwellings.

    A parcel's spaces are split among zones by area share; NaN spaces where
    no parcel in the zone gives them.
    """
    supply = _floats(
        parcels,
        column,
        "parcels",
        "give the number of car spaces of each parcel",
    )
    target = parcels if zones is None else zones
    bs = _shares(buildings, target, building_shares)
    if zones is None:
        total = supply
    else:
        ps = _shares(parcels, zones, parcel_shares)
        total = ps.sum(supply)
        total = np.where(ps.any(np.isfinite(supply)), total, np.nan)
    return total, bs.sum(_households(buildings))


def parking_spaces_per_household(
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
    *,
    building_shares: Shares | None = None,
    parcel_shares: Shares | None = None,
) -> pd.Series:
    """Car parking spaces per household.

    Parameters
    ----------
    parcels
        Parcels with ``parking_spaces``.
    buildings
        Buildings with ``households``.
    zones
        Zones to report on (e.g. the site); default the parcels themselves.
        A parcel's spaces are split among zones by area share.
    building_shares, parcel_shares
        Overlays of ``buildings`` and ``parcels`` on the zones, if computed.

    Returns
    -------
    pandas.Series
        ``parking_spaces_per_household`` [spaces/dwelling]; NaN without
        dwellings or spaces given.
    """
    return _per_household(
        parcels,
        buildings,
        zones,
        "parking_spaces",
        "parking_spaces_per_household",
        building_shares,
        parcel_shares,
    )


def surface_parking_per_household(
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
    *,
    building_shares: Shares | None = None,
    parcel_shares: Shares | None = None,
) -> pd.Series:
    """Ground-level car spaces per household.

    Parameters
    ----------
    parcels
        Parcels with ``surface_parking_spaces``.
    buildings
        Buildings with ``households``.
    zones
        Zones to report on; default the parcels themselves.
    building_shares, parcel_shares
        Overlays of ``buildings`` and ``parcels`` on the zones, if computed.

    Returns
    -------
    pandas.Series
        ``surface_parking_per_household`` [spaces/dwelling].
    """
    return _per_household(
        parcels,
        buildings,
        zones,
        "surface_parking_spaces",
        "surface_parking_per_household",
        building_shares,
        parcel_shares,
    )
