"""Validation of layers as they enter the twin.

Validation happens once, at the boundary; kernels and indicators then trust
their input. Every refusal raises :class:`~cim.errors.LayerSchemaError` or
:class:`~cim.errors.CRSError` naming the layer, column, feature ids and the
fix. Repairs (invalid polygons fixed with :func:`shapely.make_valid`) warn with
:class:`~cim.errors.RepairWarning` and a count; nothing is dropped silently.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cim.crs import check_distortion, check_metric_crs, coords_look_geographic
from cim.errors import CRSError, LayerSchemaError, RepairWarning
from cim.layers import SCHEMAS, Column, LayerSchema, facility_categories

__all__ = ["validate_layer"]

_SHOW = 5

#: Largest building height accepted [m]: the tallest building, the Burj
#: Khalifa, is 828 m; a larger value is usually centimetres or millimetres.
MAX_HEIGHT_M = 1000.0

#: Most storeys above ground accepted [-]: the Burj Khalifa has 163.
MAX_FLOORS = 200


def _ids(values: Any) -> str:
    vals = [str(v) for v in list(values)]
    more = f" and {len(vals) - _SHOW} more" if len(vals) > _SHOW else ""
    return ", ".join(repr(v) for v in vals[:_SHOW]) + more


def _nums(values: Any) -> str:
    vals = [f"{float(v):g}" for v in list(values)]
    more = f" and {len(vals) - _SHOW} more" if len(vals) > _SHOW else ""
    return ", ".join(vals[:_SHOW]) + more


def _coerce(series: pd.Series, col: Column, layer: str, ids: pd.Series) -> pd.Series:
    try:
        if col.dtype == "str":
            out = series.astype("str")
            out = out.where(series.notna(), np.nan)
            return out.astype("str")
        if col.dtype == "Int64":
            num = pd.to_numeric(series, errors="raise")
            frac = num.notna() & (np.asarray(num, dtype="float64") % 1 != 0)
            if frac.any():
                bad = ids[frac.to_numpy()]
                msg = (
                    f"layer {layer!r}, column {col.name!r}: non-integer values at "
                    f"features {_ids(bad)}; give whole numbers"
                )
                raise LayerSchemaError(
                    msg, layer=layer, column=col.name, feature_id=list(bad)
                )
            return num.astype("Float64").round().astype("Int64")
        if col.dtype == "float64":
            return pd.to_numeric(series, errors="raise").astype("float64")
        return series.astype(col.dtype)
    except LayerSchemaError:
        raise
    except (ValueError, TypeError) as exc:
        msg = (
            f"layer {layer!r}, column {col.name!r} cannot be read as {col.dtype} "
            f"({exc}); fix the values or drop the column"
        )
        raise LayerSchemaError(msg, layer=layer, column=col.name) from exc


def _check_geometry(
    gdf: gpd.GeoDataFrame, schema: LayerSchema, ids: pd.Series
) -> gpd.GeoDataFrame:
    layer = schema.name
    geom = gdf.geometry.array
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    if missing.any():
        msg = (
            f"layer {layer!r}: features {_ids(ids[missing])} have empty or missing "
            "geometry; draw them or remove them from the input"
        )
        raise LayerSchemaError(
            msg, layer=layer, column="geometry", feature_id=list(ids[missing])
        )
    invalid = (
        ~shapely.is_valid(geom) if schema.check_validity else np.zeros(len(geom), bool)
    )
    if not schema.check_validity:
        flat = shapely.get_num_coordinates(geom) < 4
        if flat.any():
            msg = (
                f"layer {layer!r}: features {_ids(ids[flat])} have fewer than 3 "
                "distinct corners; remove or redraw them"
            )
            raise LayerSchemaError(
                msg, layer=layer, column="geometry", feature_id=list(ids[flat])
            )
    if invalid.any():
        reasons = shapely.is_valid_reason(geom[invalid])
        fixed = shapely.make_valid(geom[invalid])
        if set(schema.geometry_types) <= {"Polygon", "MultiPolygon"}:
            # make_valid may return collections with slivers of lower
            # dimension; keep the polygonal part.
            parts = shapely.get_parts(fixed, return_index=True)
            polys = shapely.get_type_id(parts[0]) == 3
            kept = shapely.multipolygons(parts[0][polys], indices=parts[1][polys])
            collapsed = np.setdiff1d(np.arange(len(fixed)), parts[1][polys])
            if len(collapsed):
                bad = ids[invalid].to_numpy()[collapsed]
                msg = (
                    f"layer {layer!r}: features {_ids(bad)} are invalid polygons "
                    "with no area left after repair; redraw them"
                )
                raise LayerSchemaError(
                    msg, layer=layer, column="geometry", feature_id=list(bad)
                )
            single = shapely.get_num_geometries(kept) == 1
            kept[single] = shapely.get_geometry(kept[single], 0)
            fixed = kept
        gdf = gdf.copy()
        new = np.asarray(gdf.geometry.array, dtype=object).copy()
        new[invalid] = fixed
        gdf[gdf.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
        warnings.warn(
            f"layer {layer!r}: repaired {int(invalid.sum())} invalid geometries "
            f"with shapely.make_valid (features {_ids(ids[invalid])}; "
            f"first problem: {reasons[0]})",
            RepairWarning,
            stacklevel=4,
        )
    types = gdf.geometry.geom_type.to_numpy()
    wrong = ~np.isin(types, schema.geometry_types)
    if wrong.any():
        found = sorted(set(types[wrong]))
        msg = (
            f"layer {layer!r}: features {_ids(ids[wrong])} are {', '.join(found)}; "
            f"expected {' or '.join(schema.geometry_types)}"
        )
        raise LayerSchemaError(
            msg, layer=layer, column="geometry", feature_id=list(ids[wrong])
        )
    return gdf


def validate_layer(name: str, data: Any, *, crs: CRS) -> gpd.GeoDataFrame:
    """Check a layer against its schema and return a conforming copy.

    Parameters
    ----------
    name
        Layer name, a key of :data:`cim.layers.SCHEMAS`.
    data
        A GeoDataFrame in ``crs``.
    crs
        The twin's metric CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame: schema columns first (optional ones filled with their
        default), other columns after, geometry last, with a fresh RangeIndex.

    Raises
    ------
    LayerSchemaError
        If a required column is missing, ids are missing or duplicated,
        geometries are empty or of the wrong type, or values are not allowed.
    CRSError
        If the layer's CRS is missing, not metric, differs from ``crs``, its
        coordinates are really longitude/latitude, or the CRS distorts areas
        at the data by more than 1 % (:func:`cim.crs.check_distortion`).
    """
    schema = SCHEMAS[name]
    if not isinstance(data, gpd.GeoDataFrame):
        msg = (
            f"layer {name!r} must be a GeoDataFrame with geometry, got "
            f"{type(data).__name__}; build one with geopandas.GeoDataFrame(..., "
            "geometry=..., crs=...)"
        )
        raise LayerSchemaError(msg, layer=name)
    try:
        data.geometry  # noqa: B018 - raises if there is no active geometry
    except AttributeError as exc:
        msg = f"layer {name!r} has no active geometry column; call set_geometry"
        raise LayerSchemaError(msg, layer=name, column="geometry") from exc
    layer_crs = check_metric_crs(data.crs, layer=name)
    bounds = tuple(data.total_bounds) if len(data) else None
    if bounds is not None and coords_look_geographic(bounds, layer_crs):
        msg = (
            f"layer {name!r} declares {layer_crs.to_string()} (metres) but its "
            "coordinates look like longitude/latitude degrees; declare the real "
            "CRS with gdf.set_crs('EPSG:4326', allow_override=True)"
        )
        raise CRSError(msg)
    if not layer_crs.equals(crs):
        msg = (
            f"layer {name!r} is in {layer_crs.to_string()} but the twin is in "
            f"{crs.to_string()}; reproject it with gdf.to_crs(twin.crs)"
        )
        raise CRSError(msg)
    if bounds is not None:
        # Refuses only; the twin warns once for all its layers about the CRS's
        # area of use.
        check_distortion(bounds, crs, layer=name, warn=False)

    gdf = data.rename_geometry("geometry") if data.geometry.name != "geometry" else data
    gdf = gdf.reset_index(drop=True)
    missing = [c for c in schema.required if c not in gdf.columns]
    if missing:
        have = ", ".join(map(str, gdf.columns.drop("geometry")))
        msg = (
            f"layer {name!r} lacks required column {missing[0]!r} (it has: {have}); "
            f"add it or rename the matching column"
        )
        raise LayerSchemaError(msg, layer=name, column=missing[0])

    id_col = schema.id_column
    raw_ids = gdf[id_col]
    null_ids = raw_ids.isna().to_numpy()
    if null_ids.any():
        rows = np.flatnonzero(null_ids)
        msg = (
            f"layer {name!r}: rows {_ids(rows)} have no {id_col!r}; give every "
            "feature a unique id"
        )
        raise LayerSchemaError(msg, layer=name, column=id_col)
    ids = raw_ids.astype("str")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        msg = (
            f"layer {name!r}: duplicate {id_col} {_ids(pd.unique(ids[dup]))}; ids "
            "must be unique (renumber them, or dissolve pieces of one feature "
            "with gdf.dissolve(by=...))"
        )
        raise LayerSchemaError(
            msg, layer=name, column=id_col, feature_id=list(pd.unique(ids[dup]))
        )

    gdf = _check_geometry(gdf, schema, ids)

    out: dict[str, Any] = {}
    for col in schema.columns:
        if col.name in gdf.columns:
            series = _coerce(gdf[col.name], col, name, ids)
            if col.default is not None and col.dtype == "str":
                series = series.fillna(col.default)
        elif col.dtype == "Int64":
            series = pd.Series(pd.NA, index=gdf.index, dtype="Int64")
        else:
            series = pd.Series(col.default, index=gdf.index, dtype=col.dtype)
        if col.choices is not None:
            bad = ~series.isin(col.choices).to_numpy() & series.notna().to_numpy()
            if bad.any():
                vals = sorted(set(series[bad]))
                msg = (
                    f"layer {name!r}, column {col.name!r}: {_ids(vals)} not allowed "
                    f"(features {_ids(ids[bad])}); use one of: "
                    f"{', '.join(col.choices)}"
                )
                raise LayerSchemaError(
                    msg, layer=name, column=col.name, feature_id=list(ids[bad])
                )
        out[col.name] = series
    frame = pd.DataFrame(out)
    _check_values(name, frame, ids)
    extras = [c for c in gdf.columns if c not in out and c != "geometry"]
    for c in extras:
        frame[c] = gdf[c]
    return gpd.GeoDataFrame(frame, geometry=gdf.geometry.values, crs=crs)


def _check_values(name: str, frame: pd.DataFrame, ids: pd.Series) -> None:
    def refuse(mask: np.ndarray, column: str, why: str) -> None:
        if mask.any():
            msg = f"layer {name!r}, column {column!r}: features {_ids(ids[mask])} {why}"
            raise LayerSchemaError(
                msg, layer=name, column=column, feature_id=list(ids[mask])
            )

    if name == "buildings":
        h = frame["height_m"].to_numpy(dtype="float64")
        refuse(
            h <= 0,
            "height_m",
            "have a height <= 0 m; give the height in metres "
            "or leave it empty to estimate it",
        )
        refuse(~np.isfinite(h) & ~np.isnan(h), "height_m", "have an infinite height")
        # Estimated values derive from checked ones (a stored twin's estimates
        # are read back as they were), so only given values are bounded.
        given_h = (frame["height_source"] == "measured").to_numpy()
        tall = given_h & (h > MAX_HEIGHT_M)
        refuse(
            tall,
            "height_m",
            f"have heights {_nums(np.unique(h[tall]))} m, above {MAX_HEIGHT_M:.0f} m "
            "(the tallest building, the Burj Khalifa, is 828 m); give the height "
            "in metres, not centimetres or millimetres, or leave it empty to "
            "estimate it",
        )
        for c in ("floors", "households"):
            v = frame[c].to_numpy(dtype="float64", na_value=np.nan)
            refuse(v < 0, c, "are negative")
        refuse(
            frame["floors"].to_numpy(dtype="float64", na_value=np.nan) == 0,
            "floors",
            "have 0 floors; buildings have at least one storey",
        )
        f = frame["floors"].to_numpy(dtype="float64", na_value=np.nan)
        many = (frame["floors_source"] == "measured").to_numpy() & (f > MAX_FLOORS)
        refuse(
            many,
            "floors",
            f"have {_nums(np.unique(f[many]))} floors, more than "
            f"{MAX_FLOORS} (the Burj Khalifa has 163); give the storeys above "
            "ground, or leave it empty to estimate it from the height",
        )
    if name == "facilities":
        known = facility_categories().index
        bad = ~frame["category"].isin(known).to_numpy()
        refuse(
            bad,
            "category",
            f"have categories {_ids(sorted(set(frame['category'][bad])))} that are "
            f"not in the life-circle table; use one of: {', '.join(known)}",
        )
    if name == "greens":
        for c in ("soil_depth_m", "area_m2"):
            v = frame[c].to_numpy(dtype="float64")
            refuse(v < 0, c, "are negative")
    if name == "parcels":
        for c in ("far_max", "density_max", "green_rate_min", "height_max_m"):
            v = frame[c].to_numpy(dtype="float64")
            refuse(v < 0, c, "are negative")
        for c in ("density_max", "green_rate_min"):
            v = frame[c].to_numpy(dtype="float64")
            refuse(v > 1, c, "exceed 1; give rates as fractions (0.35, not 35)")
