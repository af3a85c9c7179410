"""Benchmark travel circles on a real city network (issue 6).

Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_circles.py [--cutoff-min 10] [--repeat 3]

(``BENCH_REPEAT`` sets the default of ``--repeat``.) Without the extract it
prints that it skipped; without pandana (``make bench`` installs it) it says
so and compares with the scipy baseline and networkx only.

The network is Porto Alegre's OSM extract (``shared/data/porto_alegre/
poa_osm.pbf``, r5r's test city), read with `cim.io.osm.read_osm`, projected
to UTM 22S and turned into the walk graph (4.5 km/h) by
`cim.network.mode_graph`. The facilities are the extract's bus stops
(about 1,000), each placed at its nearest graph node, so that every engine
answers the same question: for every node, the walking time to the nearest
facility, and the number of facilities within the cutoff (10 min).

Engines, same graph, same run:

- ours: `RoutingGraph.from_graph` (arrays, CSR, segments), then
  `accessibility` (one multi-source Dijkstra for the nearest, batched bounded
  reverse Dijkstras for the counts), all of scipy.sparse.csgraph;
- scipy baseline: a CSR matrix from the edge arrays and one bounded
  ``dijkstra`` per facility (dense output), and ``min_only`` for the nearest;
- pandana (contraction hierarchies, C++; benchmark-only dependency):
  ``Network`` from the edge arrays, ``precompute(cutoff)``, ``aggregate``
  (count) and ``nearest_pois``;
- networkx: one multi-source Dijkstra for the nearest, one bounded Dijkstra
  per facility for the counts (the per-source reference).

"End to end" is graph build + any precompute + both queries, starting from
the walk graph (``mode_graph``, shared by all and timed on its own); for
pandana the extraction of the edge arrays from the networkx graph is counted
as part of its build, as it is part of ours. Results are checked against
networkx: nearest times to 1e-6 s, counts exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from cim.io.osm import read_osm
from cim.network import Places, RoutingGraph, accessibility, mode_graph, project_graph
from cim.network.modes import _csr_min

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "porto_alegre"
CRS = "EPSG:32722"  # UTM 22S


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and median wall time of ``repeat`` runs, and the last result."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def arrays(W: nx.MultiDiGraph) -> dict[str, Any]:
    nodes = list(W.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    x = np.array([W.nodes[n]["x"] for n in nodes])
    y = np.array([W.nodes[n]["y"] for n in nodes])
    u, v, w = [], [], []
    for a, b, t in W.edges(data="travel_time_s"):
        u.append(index[a])
        v.append(index[b])
        w.append(t)
    return {
        "nodes": nodes,
        "x": x,
        "y": y,
        "u": np.asarray(u, dtype=np.intp),
        "v": np.asarray(v, dtype=np.intp),
        "w": np.asarray(w, dtype="float64"),
    }


def ours(W: nx.MultiDiGraph, fac_nodes: list[Any], cutoff_s: float) -> Any:
    rg = RoutingGraph.from_graph(W)
    origins = Places.at_nodes(rg, list(rg.nodes))
    targets = Places.at_nodes(rg, fac_nodes)
    res = accessibility(
        rg,
        origins,
        targets,
        groups=np.zeros(len(fac_nodes), np.intp),
        cutoffs=[cutoff_s],
    )
    return res.nearest[:, 0], res.counts[0, 0]


def scipy_baseline(A: dict[str, Any], fac_idx: np.ndarray, cutoff_s: float) -> Any:
    n = len(A["nodes"])
    rev = _csr_min(A["v"], A["u"], A["w"], n)
    near = dijkstra(rev, indices=fac_idx, min_only=True)
    counts = np.zeros(n, dtype=np.int64)
    for start in range(0, len(fac_idx), 100):
        D = dijkstra(rev, indices=fac_idx[start : start + 100], limit=cutoff_s + 1e-6)
        counts += np.count_nonzero(D <= cutoff_s + 1e-6, axis=0)
    return near, counts


def networkx_reference(
    W: nx.MultiDiGraph, fac_nodes: list[Any], cutoff_s: float
) -> tuple[np.ndarray, np.ndarray]:
    R = nx.DiGraph()
    R.add_nodes_from(W.nodes)
    for a, b, t in W.edges(data="travel_time_s"):
        if not R.has_edge(b, a) or R.edges[b, a]["w"] > t:
            R.add_edge(b, a, w=t)
    nodes = list(W.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    near_d = nx.multi_source_dijkstra_path_length(R, set(fac_nodes), weight="w")
    near = np.full(len(nodes), np.inf)
    for n, d in near_d.items():
        near[index[n]] = d
    counts = np.zeros(len(nodes), dtype=np.int64)
    for f in fac_nodes:
        reach = nx.single_source_dijkstra_path_length(
            R, f, cutoff=cutoff_s + 1e-6, weight="w"
        )
        counts[[index[n] for n in reach]] += 1
    return near, counts


def pandana_run(
    A: dict[str, Any], fac_idx: np.ndarray, cutoff_s: float, near_max_s: float
) -> dict[str, Any]:
    import pandana

    out: dict[str, Any] = {}
    quiet = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(quiet):
        net = pandana.Network(
            pd.Series(A["x"]),
            pd.Series(A["y"]),
            pd.Series(A["u"]),
            pd.Series(A["v"]),
            pd.DataFrame({"tt": A["w"]}),
            twoway=False,
        )
    out["build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(quiet):
        net.precompute(cutoff_s + 1e-6)
    out["precompute"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.set(pd.Series(fac_idx), name="fac")
    counts = net.aggregate(cutoff_s + 1e-6, type="count", decay="flat", name="fac")
    out["count"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(quiet), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.set_pois(
            category="fac",
            maxdist=near_max_s,
            maxitems=1,
            x_col=pd.Series(A["x"][fac_idx]),
            y_col=pd.Series(A["y"][fac_idx]),
        )
        near = net.nearest_pois(near_max_s, "fac", num_pois=1)
    out["nearest"] = time.perf_counter() - t0
    out["counts"] = counts.to_numpy()
    out["near"] = near[1].to_numpy(dtype="float64")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pbf", default=str(DATA / "poa_osm.pbf"))
    ap.add_argument("--cutoff-min", type=float, default=10.0)
    ap.add_argument(
        "--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3"))
    )
    ap.add_argument("--skip-networkx", action="store_true")
    args = ap.parse_args()
    cutoff_s = args.cutoff_min * 60.0
    if not Path(args.pbf).exists():
        print(f"skipped: {args.pbf} not found")
        return

    print(
        f"python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read_osm(args.pbf)
    G = project_graph(data.network, CRS)
    print(
        f"read {Path(args.pbf).name}: {G.number_of_nodes():,} graph nodes, "
        f"{G.number_of_edges():,} edges ({data.source['counts']['nodes']:,} OSM "
        f"nodes) in {time.perf_counter() - t0:.2f} s"
    )
    t_mode, _, W = best(lambda: mode_graph(G, "walk"), 1)
    print(
        f"walk graph (mode_graph, networkx): {W.number_of_nodes():,} nodes, "
        f"{W.number_of_edges():,} edges in {t_mode:.2f} s (shared by all engines)"
    )
    stops = data.facilities[data.facilities["category"] == "bus_stop"].to_crs(CRS)
    nodes = list(W.nodes)
    tree = cKDTree(
        np.column_stack(
            [[W.nodes[n]["x"] for n in nodes], [W.nodes[n]["y"] for n in nodes]]
        )
    )
    _, nearest_node = tree.query(np.column_stack([stops.geometry.x, stops.geometry.y]))
    fac_idx = np.asarray(nearest_node, dtype=np.intp)
    fac_nodes = [nodes[i] for i in fac_idx]
    print(
        f"facilities: {len(fac_idx):,} bus stops at {len(set(fac_idx.tolist())):,} "
        f"distinct nodes; cutoff {args.cutoff_min:g} min = {cutoff_s:g} s at 4.5 km/h"
    )

    # ours, in parts and end to end
    rg_t, _, rg = best(lambda: RoutingGraph.from_graph(W), args.repeat)
    origins = Places.at_nodes(rg, list(rg.nodes))
    targets = Places.at_nodes(rg, fac_nodes)
    g0 = np.zeros(len(fac_nodes), np.intp)
    near_t, _, _ = best(
        lambda: accessibility(rg, origins, targets, groups=g0, cutoffs=[]), args.repeat
    )
    cnt_t, _, _ = best(
        lambda: accessibility(
            rg, origins, targets, groups=g0, cutoffs=[cutoff_s], nearest=False
        ),
        args.repeat,
    )
    e2e_t, e2e_med, (our_near, our_counts) = best(
        lambda: ours(W, fac_nodes, cutoff_s), args.repeat
    )
    ex_t, _, A = best(lambda: arrays(W), args.repeat)
    base_t, base_med, (base_near, base_counts) = best(
        lambda: scipy_baseline(A, fac_idx, cutoff_s), args.repeat
    )

    pd_res: dict[str, Any] | None = None
    try:
        import pandana  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the machine
        print(f"pandana: not importable here ({exc}); compared with networkx only")
    else:
        runs = [pandana_run(A, fac_idx, cutoff_s, 1800.0) for _ in range(args.repeat)]
        pd_res = {
            k: min(r[k] for r in runs)
            for k in ("build", "precompute", "count", "nearest")
        }
        pd_res["near"], pd_res["counts"] = runs[-1]["near"], runs[-1]["counts"]

    nx_t = None
    if not args.skip_networkx:
        nx_t, _, (nx_near, nx_counts) = best(
            lambda: networkx_reference(W, fac_nodes, cutoff_s), 1
        )

    print()
    print(f"{'engine':<44}{'time [s]':>10}")
    print(f"{'ours: RoutingGraph.from_graph (build)':<44}{rg_t:>10.3f}")
    print(f"{'ours: nearest, every node':<44}{near_t:>10.3f}")
    print(f"{'ours: count within cutoff, every node':<44}{cnt_t:>10.3f}")
    print(
        f"{'ours: end to end (build + both queries)':<44}{e2e_t:>10.3f}"
        f"   (median {e2e_med:.3f})"
    )
    print(f"{'scipy baseline: arrays from networkx':<44}{ex_t:>10.3f}")
    print(
        f"{'scipy baseline: CSR + both queries':<44}{base_t:>10.3f}"
        f"   (median {base_med:.3f})"
    )
    if pd_res is not None:
        pd_e2e = (
            ex_t
            + pd_res["build"]
            + pd_res["precompute"]
            + pd_res["count"]
            + pd_res["nearest"]
        )
        print(f"{'pandana: arrays from networkx':<44}{ex_t:>10.3f}")
        print(f"{'pandana: Network (build)':<44}{pd_res['build']:>10.3f}")
        print(f"{'pandana: precompute(cutoff)':<44}{pd_res['precompute']:>10.3f}")
        print(f"{'pandana: aggregate count, every node':<44}{pd_res['count']:>10.3f}")
        print(
            f"{'pandana: set_pois + nearest_pois (30 min)':<44}"
            f"{pd_res['nearest']:>10.3f}"
        )
        print(f"{'pandana: end to end':<44}{pd_e2e:>10.3f}")
    if nx_t is not None:
        print(f"{'networkx: multi-source + per-facility':<44}{nx_t:>10.3f}")
    print()
    if pd_res is not None:
        print(f"ratio pandana / ours, end to end:     {pd_e2e / e2e_t:8.1f}x")
        print(f"ratio pandana / ours, without arrays: {(pd_e2e - ex_t) / e2e_t:8.1f}x")
    print(f"ratio scipy baseline / ours:          {(ex_t + base_t) / e2e_t:8.1f}x")
    if nx_t is not None:
        print(f"ratio networkx / ours:                {nx_t / e2e_t:8.1f}x")
    print()
    if nx_t is not None:
        both = np.isfinite(nx_near)
        same_inf = np.array_equal(np.isfinite(our_near), both)
        diff = (
            float(np.max(np.abs(our_near[both] - nx_near[both]))) if both.any() else 0.0
        )
        print(
            f"ours vs networkx: nearest max |diff| {diff:.2e} s (unreachable alike: "
            f"{same_inf}); counts differ at {int((our_counts != nx_counts).sum())} "
            f"of {len(nx_counts):,} nodes"
        )
        bdiff = float(np.max(np.abs(base_near[both] - nx_near[both])))
        print(
            f"scipy baseline vs networkx: nearest max |diff| {bdiff:.2e} s; counts "
            f"differ at {int((base_counts != nx_counts).sum())} nodes"
        )
        if pd_res is not None:
            ok = both & (nx_near < 1800.0)
            pdiff = np.abs(pd_res["near"][ok] - nx_near[ok])
            print(
                f"pandana vs networkx: nearest max |diff| {float(pdiff.max()):.2e} s "
                f"(within 30 min); counts differ at "
                f"{int((pd_res['counts'] != nx_counts).sum())} nodes"
            )
        assert diff <= 1e-6 and same_inf, "nearest times differ from networkx"
        assert (our_counts == nx_counts).all(), "counts differ from networkx"


if __name__ == "__main__":
    main()
