"""Benchmark the compliance check on a synthetic city tiled from the pilot design.

Run on demand (``make bench BENCH=check`` or
``.venv/bin/python -m benchmarks check``). The pilot design
(``assets/pilot/hangzhou_pilot.gpkg``: 6 parcels, 24 buildings, 19 greens) is
tiled on a grid into a city of ``BENCH_PARCELS`` parcels (default 100,000) and
``BENCH_BUILDINGS`` buildings (default 300,000: 18 of the 24 buildings of each
tile are kept, the three detailed towers A-T1..A-T3 with their element tables
among them), and the time of:

- the anchor, bare shapely work on the same data: the areas of all buildings,
  parcels and greens, and the overlay of buildings and greens on parcels
  (one STRtree query, then :func:`shapely.intersection` and
  :func:`shapely.area` for every candidate pair);
- the whole check, ``cim.check.check(twin, "zhejiang-future-community")``:
  floor-area take-off of every element, overlays, derived classes, every
  indicator, threshold lookups and the rows. Sunlight is skipped (ray casting
  is benchmarked in ``bench_sunlight``): its rows are *not evaluated*;

is printed with the ratio of the two, measured in the same process (absolute
times on a shared machine are not comparable across runs; the ratio is). One
run each (the check takes tens of seconds).
"""

from __future__ import annotations

import os
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cim
from cim._assets import asset_path
from cim.check import check

N_PARCELS = int(os.environ.get("BENCH_PARCELS", "100000"))
N_BUILDINGS = int(os.environ.get("BENCH_BUILDINGS", "300000"))
#: Buildings of each tile left out, so that a tile has 3 buildings per parcel.
DROPPED = ("A-T4", "A-T5", "A-T6", "C-S1", "C-S2", "C-S3")
SPACING_M = 500.0


def _tile(
    layer: gpd.GeoDataFrame, id_col: str, dx: np.ndarray, dy: np.ndarray
) -> gpd.GeoDataFrame:
    n, k = len(layer), len(dx)
    geoms = np.asarray(layer.geometry.array, dtype=object)
    xy = np.repeat(np.stack([dx, dy], axis=1), n, axis=0)
    moved = _translate(np.tile(geoms, k), xy)
    frame = pd.DataFrame(
        {c: np.tile(layer[c].to_numpy(), k) for c in layer.columns if c != "geometry"}
    )
    tile_id = np.repeat(np.arange(k), n).astype(str)
    frame[id_col] = tile_id.astype(object) + "/" + frame[id_col].astype(str)
    return gpd.GeoDataFrame(frame, geometry=moved, crs=layer.crs)


def _translate(geoms: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Translate each geometry by its own offset, vectorised over coordinates."""
    counts = shapely.get_num_coordinates(geoms)
    offsets = np.repeat(xy, counts, axis=0)
    return shapely.transform(geoms, lambda c: c + offsets)


def city(pilot: cim.Twin) -> cim.Twin:
    """The pilot tiled into N_PARCELS parcels and N_BUILDINGS buildings."""
    b = pilot.buildings[~pilot.buildings["building_id"].isin(DROPPED)]
    per_tile = max(1, len(pilot.parcels))
    k = -(-N_PARCELS // per_tile)
    side = int(np.ceil(np.sqrt(k)))
    ij = np.arange(k)
    dx, dy = (ij % side) * SPACING_M, (ij // side) * SPACING_M
    parcels = _tile(pilot.parcels, "parcel_id", dx, dy).iloc[:N_PARCELS]
    buildings = _tile(b, "building_id", dx, dy).iloc[:N_BUILDINGS]
    greens = _tile(pilot.greens, "green_id", dx, dy)
    facilities = _tile(pilot.facilities, "facility_id", dx, dy)
    el = pilot.elements[pilot.elements["building_id"].isin(b["building_id"])]
    n = len(el)
    elements = pd.concat([el] * k, ignore_index=True)
    tile_id = np.repeat(np.arange(k), n).astype(str).astype(object)
    elements["building_id"] = tile_id + "/" + elements["building_id"].astype(str)
    elements["element_id"] = tile_id + "/" + elements["element_id"].astype(str)
    elements = elements[elements["building_id"].isin(buildings["building_id"])]
    meta = {"planning": pilot.metadata["planning"]}
    return cim.Twin(
        crs=pilot.crs,
        name="tiled_city",
        buildings=buildings,
        parcels=parcels,
        greens=greens,
        facilities=facilities,
        elements=elements,
        metadata=meta,
        estimate=False,
    )


def anchor(twin: cim.Twin) -> None:
    """Bare shapely: areas, and the overlay of buildings and greens on parcels."""
    b = np.asarray(twin.buildings.geometry.array)
    p = np.asarray(twin.parcels.geometry.array)
    g = np.asarray(twin.greens.geometry.array)
    shapely.area(b)
    shapely.area(p)
    shapely.area(g)
    tree = shapely.STRtree(p)
    for feats in (b, g):
        fi, zi = tree.query(feats, predicate="intersects")
        shapely.area(shapely.intersection(feats[fi], p[zi]))


def main() -> None:
    """Build the city, run both once, and print a table."""
    pilot = cim.read(asset_path("pilot", "hangzhou_pilot.gpkg"))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin = city(pilot)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    anchor(twin)
    t_anchor = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = check(twin, "zhejiang-future-community", skip=["sunlight_hours"])
    t_check = time.perf_counter() - t0
    counts = report.counts()
    print(
        f"{len(twin.parcels):,} parcels, {len(twin.buildings):,} buildings, "
        f"{len(twin.greens):,} greens, {len(twin.elements):,} detailed elements, "
        f"{len(report.takeoff.breakdown):,} take-off elements "
        f"(city built in {build:.1f} s)"
    )
    print(
        f"{len(report.rows):,} rows: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )
    print(f"{'step':<44}{'s':>10}{'x anchor':>10}")
    print(f"{'shapely areas + overlay (anchor)':<44}{t_anchor:>10.2f}{1:>10.1f}")
    ratio = t_check / t_anchor
    print(f"{'check (zhejiang-future-community)':<44}{t_check:>10.2f}{ratio:>10.1f}")


if __name__ == "__main__":
    main()
