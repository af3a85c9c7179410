"""Benchmark LoD1 extrusion and mesh measures against `shapely.area`.

Run on demand (not part of the tests)::

    .venv/bin/python -m benchmarks extrusion
    .venv/bin/python benchmarks/bench_extrusion.py [--n 100000] [--repeat 3]

(``BENCH_N`` and ``BENCH_REPEAT`` set the defaults of ``--n`` and
``--repeat``, as ``python -m benchmarks`` passes no options.)

It makes ``n`` random rectangular and L-shaped footprints (a quarter of them
with a rectangular courtyard), in projected coordinates and random rotations,
and times, as medians of ``--repeat`` runs in the same process:

- the anchor, `shapely.area` of all footprints;
- `geometry.mesh.extrude_arrays` (one batch of arrays);
- `geometry.mesh.extrude` (one trimesh per building);
- `geometry.measure.mesh_volume` and `surface_areas_by_orientation`, on the
  list of meshes and on the `MeshArrays`;
- extrude + volume + orientation areas together, the take-off pipeline, both
  through a list of trimeshes and through `MeshArrays`;
- on ``--baseline-n`` buildings, the per-building alternatives: GEOS
  triangulation plus `trimesh.creation.extrude_triangulation`, and
  `trimesh.creation.extrude_polygon` when a triangulation engine
  (``mapbox_earcut``) is importable.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
import trimesh

from geometry.measure import footprint_area, mesh_volume, surface_areas_by_orientation
from geometry.mesh import extrude, extrude_arrays


def make_footprints(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random rectangles and L shapes, some with a courtyard, and heights."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(8, 60, n)
    d = rng.uniform(8, 30, n)
    kind = rng.integers(0, 4, n)  # 0, 1 rectangle; 2 L-shape; 3 courtyard
    # L: cut the top-right corner off; courtyard: hole in the middle.
    cw = w * rng.uniform(0.3, 0.7, n)
    cd = d * rng.uniform(0.3, 0.7, n)
    rect = np.stack(
        [np.zeros(n), np.zeros(n), w, np.zeros(n), w, d, np.zeros(n), d], axis=1
    ).reshape(n, 4, 2)
    ell = np.stack(
        [
            np.zeros(n), np.zeros(n), w, np.zeros(n), w, d - cd,
            w - cw, d - cd, w - cw, d, np.zeros(n), d,
        ],
        axis=1,
    ).reshape(n, 6, 2)  # fmt: skip
    hx0, hy0 = w * 0.3, d * 0.3
    hole = np.stack(
        [hx0, hy0, w - hx0, hy0, w - hx0, d - hy0, hx0, d - hy0], axis=1
    ).reshape(n, 4, 2)

    geoms = np.empty(n, dtype=object)
    is_l = kind == 2
    is_court = kind == 3
    is_rect = ~is_l & ~is_court
    geoms[is_rect] = shapely.polygons(rect[is_rect])
    geoms[is_l] = shapely.polygons(ell[is_l])
    court = np.flatnonzero(is_court)
    holes = shapely.linearrings(hole[court])
    geoms[court] = shapely.polygons(
        shapely.linearrings(rect[court]), holes=holes[:, None]
    )
    # Random rotation about the origin, then spread over a 20 km square of
    # UTM-like coordinates.
    angle = rng.uniform(0, 2 * np.pi, n)
    c, s = np.cos(angle), np.sin(angle)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    x, y = coords[:, 0], coords[:, 1]
    ox = rng.uniform(430_000, 450_000, n)
    oy = rng.uniform(4_420_000, 4_440_000, n)
    rotated = np.column_stack(
        [
            x * c[index] - y * s[index] + ox[index],
            x * s[index] + y * c[index] + oy[index],
        ]
    )
    geoms = shapely.set_coordinates(geoms.copy(), rotated)
    heights = rng.uniform(3, 100, n)
    return geoms, heights


def timeit(func: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``repeat`` calls [s]."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=int(os.environ.get("BENCH_N", "100000"))
    )
    parser.add_argument("--baseline-n", type=int, default=10_000)
    parser.add_argument(
        "--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3"))
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    geoms, heights = make_footprints(args.n, seed=args.seed)
    n = args.n
    print(
        f"{n} footprints ({shapely.get_num_coordinates(geoms).sum()} coordinates); "
        f"median of {args.repeat} runs; python {platform.python_version()}, "
        f"numpy {np.__version__}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), trimesh {trimesh.__version__}"
    )

    meshes = extrude(geoms, heights)

    arrays = extrude_arrays(geoms, heights)

    def pipeline() -> None:
        m = extrude(geoms, heights)
        mesh_volume(m)
        surface_areas_by_orientation(m)

    def pipeline_arrays() -> None:
        a = extrude_arrays(geoms, heights)
        mesh_volume(a)
        surface_areas_by_orientation(a)

    cases: list[tuple[str, int, Callable[[], Any]]] = [
        ("shapely.area (anchor)", n, lambda: footprint_area(geoms)),
        ("extrude_arrays", n, lambda: extrude_arrays(geoms, heights)),
        ("extrude", n, lambda: extrude(geoms, heights)),
        ("mesh_volume", n, lambda: mesh_volume(meshes)),
        (
            "surface_areas_by_orientation",
            n,
            lambda: surface_areas_by_orientation(meshes),
        ),
        ("mesh_volume (MeshArrays)", n, lambda: mesh_volume(arrays)),
        (
            "surface_areas_by_orientation (MeshArrays)",
            n,
            lambda: surface_areas_by_orientation(arrays),
        ),
        ("extrude + volume + areas (trimesh list)", n, pipeline),
        ("extrude_arrays + volume + areas (MeshArrays)", n, pipeline_arrays),
    ]

    nb = min(args.baseline_n, n)
    sub_g, sub_h = geoms[:nb], heights[:nb]

    def per_building_triangulation() -> None:
        for g, h in zip(sub_g, sub_h, strict=True):
            g = shapely.orient_polygons(g)
            tri = shapely.get_parts(shapely.constrained_delaunay_triangles(g))
            corners = shapely.get_coordinates(tri).reshape(-1, 4, 2)[:, :3]
            v, f = np.unique(corners.reshape(-1, 2), axis=0, return_inverse=True)
            trimesh.creation.extrude_triangulation(v, f.reshape(-1, 3), h)

    cases.append(
        (
            f"per building: GEOS + extrude_triangulation (n={nb})",
            nb,
            per_building_triangulation,
        )
    )
    if importlib.util.find_spec("mapbox_earcut") is not None:
        cases.append(
            (
                f"per building: trimesh extrude_polygon (n={nb})",
                nb,
                lambda: [
                    trimesh.creation.extrude_polygon(g, h)
                    for g, h in zip(sub_g, sub_h, strict=True)
                ],
            )
        )
    else:
        print("mapbox_earcut not importable: skipping trimesh extrude_polygon")

    anchor = None
    print(f"{'case':58s} {'median s':>9s} {'bldg/s':>12s} {'x anchor':>9s}")
    for name, count, func in cases:
        t = timeit(func, args.repeat)
        rate = count / t
        if anchor is None:
            anchor = rate
        print(f"{name:58s} {t:9.4f} {rate:12,.0f} {anchor / rate:9.1f}")


if __name__ == "__main__":
    main()
