"""Benchmark direct-sunlight hours on a synthetic district (issue 5).

Run on demand (not part of the tests)::

    BENCH_N=1000 .venv/bin/python benchmarks/bench_sunlight.py [--step-min 1]

(``BENCH_REPEAT`` sets the default of ``--repeat``.)

It lays ``BENCH_N`` buildings (default 1,000) on a grid of lots between
streets: random rectangles of 20-50 m by 10-18 m, 6 to 33 storeys of 3 m,
in UTM-like coordinates. Facade points are laid every 1 m at the ground-floor
window sill (0.9 m) with `geometry.facade.facade_points`, and their sunlit
minutes computed for the Great Cold day at Hangzhou (30.25 N, 120.17 E),
8-16 h true solar time, at a 1-minute step, with
`geometry.sunlight.sunlight_hours` (Embree through trimesh).

Beside it, in the same run, the bare ray cast: exactly the same candidate
rays (recomputed with the same culling, in the same batches), cast with
trimesh's Embree ``RayMeshIntersector.intersects_any`` on a fresh scene,
BVH build included. The ratio of the two totals is our overhead: culling,
gathering the rays and finding the segments. For information it also casts
the same rays with embreex's ``OCCLUDED`` query directly (any hit, no
nearest-hit search, no trimesh conversions), a lower bound of what Embree
can do single-threaded; and it checks that the bare cast's hits give the
same sunlit minutes as `sunlight_hours`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import shapely
import trimesh

from geometry.facade import facade_points
from geometry.mesh import extrude_arrays
from geometry.solar import great_cold_day
from geometry.sunlight import (
    GREAT_COLD_WINDOW_H,
    _candidates,
    ray_scene,
    sun_vectors,
    sunlight_hours,
)

LAT, LON = 30.25, 120.17  # Hangzhou
SILL_M = 0.9
STOREY_M = 3.0


def make_district(n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rectangular buildings on a grid of 70 x 60 m lots with streets."""
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(n)))
    lot_x, lot_y, street = 70.0, 60.0, 15.0
    i = np.arange(n)
    x0 = 440_000.0 + (i % cols) * lot_x
    y0 = 3_350_000.0 + (i // cols) * lot_y
    w = rng.uniform(20.0, 50.0, n)  # east-west
    d = rng.uniform(10.0, 18.0, n)  # north-south
    # Anywhere in the lot, less the street along its south and west sides.
    x = x0 + street + rng.uniform(0.0, 1.0, n) * (lot_x - street - w)
    y = y0 + street + rng.uniform(0.0, 1.0, n) * (lot_y - street - d)
    footprints = shapely.box(x, y, x + w, y + d)
    heights = rng.integers(6, 34, n) * STOREY_M
    return footprints, heights.astype(np.float64)


def bare_rays(
    points: np.ndarray,
    normals: np.ndarray,
    vectors: np.ndarray,
    origin: np.ndarray,
    batch_rays: int,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The candidate rays of `sunlight_hours`, batch by batch, ready to cast.

    The same culling and the same batches; origins relative to the scene's
    centre and in float32, as `sunlight_hours` hands them to trimesh.
    """
    unit = normals / np.linalg.norm(normals, axis=1)[:, None]
    local = (points - origin).astype(np.float32)
    vec32 = vectors.astype(np.float32)
    n_up = max(1, int(np.count_nonzero(vectors[:, 2] > 0)))
    chunk = max(1, batch_rays // n_up)
    out = []
    for lo in range(0, points.shape[0], chunk):
        cand = _candidates(
            unit[lo : lo + chunk], vectors, min_incidence_deg=0.0, incidence="plan"
        )
        pi, ti = np.nonzero(cand)
        out.append((pi + lo, ti, local[lo:][pi], vec32[ti]))
    return out


def bare_embree(mesh: trimesh.Trimesh, batches: list) -> tuple[float, float, list]:
    """trimesh's Embree intersector on a fresh scene: build and cast times."""
    from trimesh.ray import ray_pyembree

    t0 = time.perf_counter()
    fresh = trimesh.Trimesh(mesh.vertices.copy(), mesh.faces, process=False)
    intersector = ray_pyembree.RayMeshIntersector(fresh)
    intersector.intersects_any(batches[0][2][:1], batches[0][3][:1])  # build BVH
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    hits = [intersector.intersects_any(o, d) for _, _, o, d in batches]
    return t_build, time.perf_counter() - t0, hits


def embreex_occluded(mesh: trimesh.Trimesh, batches: list) -> tuple[float, int]:
    """Cast the rays with embreex's OCCLUDED query; seconds and hits."""
    from embreex import rtcore_scene
    from embreex.mesh_construction import TriangleMesh

    t0 = time.perf_counter()
    scene = rtcore_scene.EmbreeScene()
    TriangleMesh(
        scene=scene,
        vertices=mesh.vertices.astype(np.float32),
        indices=mesh.faces.astype(np.int32),
    )
    hits = 0
    for _, _, o, d in batches:
        res = scene.run(o, d, query="OCCLUDED")
        hits += int(np.count_nonzero(res == 0))  # 0: occluded, -1: free
    return time.perf_counter() - t0, hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step-min", type=float, default=1.0)
    parser.add_argument("--spacing-m", type=float, default=1.0)
    parser.add_argument("--batch-rays", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3"))
    )
    args = parser.parse_args()
    n = int(os.environ.get("BENCH_N", "1000"))

    import embreex

    version = getattr(embreex, "__version__", "?")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"trimesh {trimesh.__version__}, embreex {version}, {os.cpu_count()} CPUs"
    )
    t0 = time.perf_counter()
    footprints, heights = make_district(n, seed=args.seed)
    arrays = extrude_arrays(footprints, heights)
    pts = facade_points(footprints, heights, z_offsets=SILL_M, spacing_m=args.spacing_m)
    start, end = GREAT_COLD_WINDOW_H
    day = great_cold_day(2025)
    sun = sun_vectors(
        day, lat=LAT, lon=LON, start_h=start, end_h=end, step_min=args.step_min
    )
    t_setup = time.perf_counter() - t0
    m, t = len(pts), len(sun)
    print(
        f"{n} buildings, {len(arrays.faces):,} triangles, {m:,} facade points "
        f"(every {args.spacing_m} m at {SILL_M} m), Great Cold day {day} at "
        f"Hangzhou, {start:g}-{end:g} h, {t} samples every {sun.step_min:g} min; "
        f"set-up {t_setup:.2f} s"
    )

    # The same rays, prepared outside the clock, relative to the same origin.
    local_mesh = ray_scene(arrays).intersector.mesh
    origin = ray_scene(arrays).origin
    batches = bare_rays(pts.xyz, pts.normal, sun.vectors, origin, args.batch_rays)

    # Ours (scene build, culling, casting, segments, all in) and the bare
    # casts, alternately, `repeat` times; medians.
    times: dict[str, list[float]] = {
        "ours": [], "build": [], "cast": [], "occluded": []
    }  # fmt: skip
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = sunlight_hours(
            pts.xyz, pts.normal, arrays, sun, batch_rays=args.batch_rays
        )
        times["ours"].append(time.perf_counter() - t0)
        t_build, t_cast, hits = bare_embree(local_mesh, batches)
        times["build"].append(t_build)
        times["cast"].append(t_cast)
        t_occ, occ_hits = embreex_occluded(local_mesh, batches)
        times["occluded"].append(t_occ)
    med = {k: statistics.median(v) for k, v in times.items()}
    t_ours, t_build, t_cast, t_occ = (
        med["ours"], med["build"], med["cast"], med["occluded"]
    )  # fmt: skip
    t_bare = t_build + t_cast
    n_rays = result.n_rays
    assert sum(b[0].shape[0] for b in batches) == n_rays

    # Same answer: sunlit minutes from the bare hits.
    weights = sun.weights_min
    minutes = np.zeros(m)
    for (pi, ti, _, _), hit in zip(batches, hits, strict=True):
        minutes += np.bincount(pi[~hit], weights=weights[ti[~hit]], minlength=m)
    same = np.allclose(minutes, result.sunlit_min, atol=1e-9)
    n_hits = int(sum(h.sum() for h in hits))

    print(
        f"candidate rays {n_rays:,} of {m * t:,} point-samples "
        f"({n_rays / (m * t):.1%}; the rest culled: sun behind the facade or "
        f"below the horizon); {n_hits / n_rays:.1%} of them blocked "
        f"(OCCLUDED query: {occ_hits - n_hits:+,} hits, grazing rays in float32)"
    )
    print(f"median of {args.repeat} runs")
    print(f"{'case':52s} {'s':>8s} {'rays/s':>12s} {'x bare':>7s}")
    rows = [
        ("sunlight_hours (all in)", t_ours),
        ("bare trimesh/Embree intersects_any + BVH build", t_bare),
        ("  of which BVH build", t_build),
        ("  of which intersects_any", t_cast),
        ("embreex OCCLUDED query + build (information)", t_occ),
    ]
    for name, sec in rows:
        print(f"{name:52s} {sec:8.2f} {n_rays / sec:12,.0f} {sec / t_bare:7.2f}")
    print(
        f"overhead ratio (ours / bare) {t_ours / t_bare:.2f}; "
        f"same sunlit minutes as the bare cast: {same}"
    )
    mean = np.nanmean(result.sunlit_min)
    share = np.mean(result.sunlit_min >= 120.0)
    print(
        f"mean sunlit {mean:.0f} min; points with >= 2 h: {share:.1%}; "
        f"{t_ours / n * 1000:.1f} ms per building"
    )


if __name__ == "__main__":
    main()
