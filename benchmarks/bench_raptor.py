"""Benchmark RAPTOR on Porto Alegre (EPTC buses + Trensurb metro).

Run on demand (``make bench BENCH=raptor`` or
``.venv/bin/python -m benchmarks raptor``). On Monday 2019-05-13 it times:

- reading both GTFS feeds (:func:`cim.transit.read_gtfs`);
- building the day's :class:`~cim.transit.raptor.Timetable` for the window;
- per origin, one RAPTOR query at the start of the window
  (:func:`~cim.transit.raptor.earliest_arrival`) and the whole window,
  one departure a minute (rRAPTOR, :func:`~cim.transit.raptor.range_arrivals`),
  from the stops within 800 m of ``N`` hexagon centroids of
  ``poa_hexgrid.csv`` (default 200, seeded sample);
- the door-to-door matrix from the ``N`` origins to all 1,227 hexagons,
  median over the window (:func:`cim.transit.transit_travel_times`).

Two windows are run: 07:00-09:00 (the brief's) and 14:00-16:00. The EPTC
sample shipped with r5r only has bus trips leaving between 11:00 and 17:50,
so in the morning only the metro runs and the numbers are much smaller; the
afternoon window is the representative one. Set ``BENCH_N`` for more or
fewer origins. Times are medians of ``BENCH_REPEAT`` (default 1) runs on a
shared machine; compare ratios, not absolute values.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from cim.transit import (
    Timetable,
    earliest_arrival,
    range_arrivals,
    read_gtfs,
    time_to_seconds,
    transit_travel_times,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "porto_alegre"
N = int(os.environ.get("BENCH_N", "200"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "1"))
DATE = "2019-05-13"
WINDOWS = (("07:00", "09:00"), ("14:00", "16:00"))
SPEED = 4.5 / 3.6
MAX_WALK_M = 800.0


def _timed(func: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    """Run the benchmark and print a table."""
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return
    t_read, feeds = _timed(
        lambda: [read_gtfs(DATA / "poa_eptc.zip"), read_gtfs(DATA / "poa_trensurb.zip")]
    )
    n_st = sum(len(f.stop_times) for f in feeds)
    print(f"read 2 feeds ({n_st:,} stop_times): {t_read:.2f} s")
    hx = pd.read_csv(DATA / "poa_hexgrid.csv")
    hexes = gpd.GeoDataFrame(
        hx.set_index("id"), geometry=gpd.points_from_xy(hx["lon"], hx["lat"]), crs=4326
    )
    origins = hexes.sample(min(N, len(hexes)), random_state=0)
    for w0, w1 in WINDOWS:
        _window(feeds, origins, hexes, w0, w1)


def _window(
    feeds: list[Any],
    origins: gpd.GeoDataFrame,
    hexes: gpd.GeoDataFrame,
    w0: str,
    w1: str,
) -> None:
    print(f"\n-- {DATE} {w0}-{w1}, {len(origins)} origins")
    window = (w0, time_to_seconds(w1) + 120 * 60)
    t_tt, tt = _timed(lambda: Timetable.from_feed(feeds, DATE, window=window))
    print(f"timetable: {t_tt:.2f} s  {tt!r}")
    xy = origins.to_crs(tt.crs).geometry.get_coordinates().to_numpy()
    near = cKDTree(xy).query_ball_tree(cKDTree(tt.stop_xy), MAX_WALK_M)
    access = []
    for i, stops in enumerate(near):
        idx = np.asarray(stops, dtype=np.int64)
        secs = np.hypot(*(tt.stop_xy[idx] - xy[i]).T) / SPEED
        if len(idx):
            access.append((idx, secs))
    deps = np.arange(time_to_seconds(w0), time_to_seconds(w1), 60)

    def single() -> None:
        for idx, secs in access:
            ids = tt.stop_ids[idx]
            earliest_arrival(tt, dict(zip(ids, secs, strict=True)), int(deps[0]))

    def ranged() -> int:
        reached = 0
        for a in access:
            out = range_arrivals(tt, a, deps, max_travel_s=7200)
            reached += int(np.isfinite(out[0]).sum())
        return reached

    t_single, _ = _timed(single)
    t_range, reached = _timed(ranged)
    n = max(len(access), 1)
    print(
        f"{len(access)} origins have a stop within {MAX_WALK_M:.0f} m; "
        f"mean stops reached from {w0} within 2 h: {reached / n:.0f} of {tt.n_stops}"
    )
    print(f"one RAPTOR query : {1e3 * t_single / n:8.1f} ms per origin")
    print(
        f"{len(deps)}-minute range  : {1e3 * t_range / n:8.1f} ms per origin "
        f"({1e3 * t_range / n / len(deps):.2f} ms per departure), "
        f"{t_range:.1f} s in all"
    )
    t_mat, mat = _timed(
        lambda: transit_travel_times(origins, hexes, tt, window=(w0, w1))
    )
    within = (mat <= 1800).sum(axis=1)
    print(
        f"door-to-door matrix {mat.shape[0]} x {mat.shape[1]} (median over "
        f"the window): {t_mat:.1f} s, {1e3 * t_mat / len(origins):.0f} ms per "
        f"origin; hexagons within 30 min: median {within.median():.0f}, "
        f"max {within.max()}"
    )


if __name__ == "__main__":
    main()
