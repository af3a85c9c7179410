"""Benchmark extrusion plus floor-area take-off for many buildings.

Run on demand (``make bench BENCH=takeoff`` or
``.venv/bin/python -m benchmarks takeoff``). For ``N`` random footprints
(rectangles, L shapes and courtyards, 1-33 storeys) it times, as medians of
three runs in the same process:

- the anchor, :func:`shapely.area` of all footprints;
- LoD1 extrusion with volumes and wall/roof areas by orientation
  (:func:`geometry.mesh.extrude_arrays` and :mod:`geometry.measure`);
- the floor-area take-off: storeys from footprints x floors and every storey
  classified under the Zhejiang future-community rulebook
  (:func:`cim.storeys.storeys_from_buildings`, :func:`cim.takeoff.takeoff`);
- both together,

and prints buildings per second and the ratio to the anchor measured in the
same run (absolute times on a shared 2-core machine are not comparable across
runs; the ratios are).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from benchmarks.bench_extrusion import make_footprints
from cim.rules import load_rulebook
from cim.storeys import storeys_from_buildings
from cim.takeoff import takeoff
from geometry.measure import mesh_volume, surface_areas_by_orientation
from geometry.mesh import extrude_arrays

N = int(os.environ.get("BENCH_N", "100000"))


def _median(func: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print a table."""
    footprints, heights = make_footprints(N)
    rng = np.random.default_rng(1)
    floors = rng.integers(1, 34, N)
    heights = floors * 3.0
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"b{i}" for i in range(N)],
            "floors": floors,
            "height_m": heights,
        },
        geometry=footprints,
        crs=32650,
    )
    book = load_rulebook("zhejiang-future-community")

    def anchor() -> None:
        shapely.area(footprints)

    def mesh() -> None:
        arrays = extrude_arrays(footprints, heights)
        mesh_volume(arrays)
        surface_areas_by_orientation(arrays)

    def take() -> None:
        takeoff(storeys_from_buildings(buildings), book)

    def both() -> None:
        mesh()
        take()

    rows = [
        ("shapely.area (anchor)", _median(anchor)),
        ("extrude + volume + orientation areas", _median(mesh)),
        ("storeys + take-off (zhejiang)", _median(take)),
        ("extrusion + take-off", _median(both)),
    ]
    base = rows[0][1]
    n_storeys = int(floors.sum())
    print(f"{N:,} buildings, {n_storeys:,} storey elements")
    print(f"{'step':<40}{'median s':>10}{'bldg/s':>14}{'x anchor':>11}")
    for name, t in rows:
        print(f"{name:<40}{t:>10.3f}{N / t:>14,.0f}{t / base:>11,.0f}")


if __name__ == "__main__":
    main()
