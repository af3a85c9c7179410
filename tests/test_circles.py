"""Travel circles (:mod:`cim.network.circles`, :mod:`cim.network.isochrones`).

Known answers on small graphs (a line, a grid, a one-way loop, a gate closed
at night, disconnected components), and equality with networkx's Dijkstra on
the graph split at every place, on synthetic graphs and on the sample twin.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from shapely.geometry import LineString, Point

import cim
from cim.network import (
    LIFE_CIRCLE_DISTANCE_M,
    Places,
    RoutingGraph,
    accessibility,
    life_circle_coverage,
    life_circle_walk_m,
    mode_graph,
    required_categories,
    snap,
    travel_circles,
    travel_time_circles,
)
from cim.network.circles import life_circle_walk
from cim.network.isochrones import isochrone_polygons

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_428_000.0
#: Equality with networkx [s or m]; sums of the same edges in another order.
ATOL = 1e-6
#: 3.6 km/h: 1 m/s, so that seconds equal metres in the known answers.
ONE_MPS = 3.6


# -- helpers ---------------------------------------------------------------------------


def street_graph(
    coords: dict[int, tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    *,
    oneway: bool = False,
    highway: str = "residential",
    **attrs: Any,
) -> nx.MultiDiGraph:
    """A street graph in the twin's model: both directions unless ``oneway``."""
    G = nx.MultiDiGraph(crs=CRS)
    for n, (x, y) in coords.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v in edges:
        geom = LineString(
            [
                (X0 + coords[u][0], Y0 + coords[u][1]),
                (X0 + coords[v][0], Y0 + coords[v][1]),
            ]
        )
        data = {
            "length_m": float(geom.length),
            "highway": highway,
            "oneway": oneway,
            "reversed": False,
            **attrs,
        }
        G.add_edge(u, v, geometry=geom, **data)
        if not oneway:
            G.add_edge(
                v, u, **dict(data, reversed=True, geometry=shapely.reverse(geom))
            )
    return G


def twin_of(
    G: nx.MultiDiGraph,
    buildings: Sequence[tuple[str, Any]],
    facilities: Sequence[tuple[str, str, tuple[float, float]]],
    *,
    households: Sequence[int] | None = None,
) -> cim.Twin:
    b = gpd.GeoDataFrame(
        {
            "building_id": [i for i, _ in buildings],
            "use": ["residential"] * len(buildings),
            "height_m": [10.0] * len(buildings),
            "floors": pd.array([3] * len(buildings), dtype="Int64"),
            "households": pd.array(
                households if households is not None else [10] * len(buildings),
                dtype="Int64",
            ),
        },
        geometry=[g for _, g in buildings],
        crs=CRS,
    )
    f = gpd.GeoDataFrame(
        {
            "facility_id": [i for i, _, _ in facilities],
            "category": [c for _, c, _ in facilities],
        },
        geometry=[Point(X0 + x, Y0 + y) for _, _, (x, y) in facilities],
        crs=CRS,
    )
    return cim.Twin(
        crs=CRS, buildings=b, facilities=f, network=G, warn_components=False
    )


def bldg(x: float, y: float, r: float = 2.0) -> shapely.Polygon:
    """A diamond footprint: one vertex is nearest to any street, no ties."""
    x, y = X0 + x, Y0 + y
    return shapely.Polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)])


def nx_reference(
    W: nx.MultiDiGraph,
    rg: RoutingGraph,
    origins: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    access_per_m: float,
    weight: str = "travel_time_s",
) -> tuple[np.ndarray, nx.MultiDiGraph]:
    """Costs origin x target by networkx on ``W`` split at every place.

    ``origins``/``targets`` are snap results. Closed gates (``gate_open``
    False) are removed after splitting, so that a place may use the part of
    its segment up to a closed gate but never pass it.
    """
    H = nx.MultiDiGraph()
    for u, v, d in W.edges(data=True):
        H.add_edge(u, v, w=float(d[weight]))
    H.add_nodes_from(W.nodes)
    places: dict[int, list[tuple[float, Hashable]]] = {}
    for kind, frame in (("o", origins), ("t", targets)):
        for i, row in enumerate(frame.itertuples()):
            if row.segment < 0:
                continue
            node = ("p", kind, i)
            places.setdefault(int(row.segment), []).append((float(row.fraction), node))
            end = ("O", i) if kind == "o" else ("T", i)
            acc = float(row.access_m) * access_per_m
            if kind == "o":
                H.add_edge(end, node, w=acc)
            else:
                H.add_edge(node, end, w=acc)
    for s, items in places.items():
        items.sort(key=lambda t: t[0])
        u, v = rg.nodes[rg.seg_u[s]], rg.nodes[rg.seg_v[s]]
        fwd, bwd = float(rg.seg_fwd[s]), float(rg.seg_bwd[s])
        chain = [(0.0, u), *items, (1.0, v)]
        for (fa, a), (fb, b) in itertools.pairwise(chain):
            # Places at the same point (a place at a segment's end is at the
            # node) are joined both ways, even on a one-way street.
            if math.isfinite(fwd) or fb == fa:
                H.add_edge(a, b, w=(fb - fa) * fwd if fb > fa else 0.0)
            if math.isfinite(bwd) or fb == fa:
                H.add_edge(b, a, w=(fb - fa) * bwd if fb > fa else 0.0)
    H.remove_nodes_from([n for n, o in W.nodes(data="gate_open") if o is False])
    out = np.full((len(origins), len(targets)), np.inf)
    for i in range(len(origins)):
        if ("O", i) not in H:
            continue
        dist = nx.single_source_dijkstra_path_length(H, ("O", i), weight="w")
        for j in range(len(targets)):
            out[i, j] = dist.get(("T", j), np.inf)
    return out, H


def engine(
    W: nx.MultiDiGraph,
    geoms_o: Any,
    geoms_t: Any,
    *,
    access_per_m: float,
    weight: str = "travel_time_s",
    component: str = "largest",
) -> tuple[RoutingGraph, Places, Places, pd.DataFrame, pd.DataFrame]:
    rg = RoutingGraph.from_graph(W, weight=weight)
    so = snap(rg, geoms_o, component=component)
    st_ = snap(rg, geoms_t, component=component)
    return (
        rg,
        Places.from_snap(rg, so, access_cost_per_m=access_per_m),
        Places.from_snap(rg, st_, access_cost_per_m=access_per_m),
        so,
        st_,
    )


def check_nearest_target(res: Any, ref: np.ndarray, groups: np.ndarray, g: int) -> None:
    """The target named nearest is of the group and as far as the nearest."""
    target = res.nearest_target[:, g]
    reach = np.isfinite(res.nearest[:, g])
    assert_array_equal(target >= 0, reach)
    rows = np.flatnonzero(reach)
    assert (groups[target[rows]] == g).all()
    assert_allclose(ref[rows, target[rows]], res.nearest[rows, g], atol=ATOL, rtol=0)


def check_against_networkx(
    W: nx.MultiDiGraph,
    geoms_o: Any,
    geoms_t: Any,
    groups: np.ndarray,
    cutoffs: Sequence[float],
    *,
    access_per_m: float = 0.8,
    weight: str = "travel_time_s",
) -> None:
    rg, o, t, so, st_ = engine(
        W, geoms_o, geoms_t, access_per_m=access_per_m, weight=weight
    )
    ref, _ = nx_reference(W, rg, so, st_, access_per_m=access_per_m, weight=weight)
    res = accessibility(rg, o, t, groups=groups, cutoffs=cutoffs, pairs=True)
    n_groups = int(groups.max()) + 1
    for g in range(n_groups):
        cols = groups == g
        expected = ref[:, cols].min(axis=1) if cols.any() else np.inf
        assert_allclose(res.nearest[:, g], expected, atol=ATOL, rtol=0)
        check_nearest_target(res, ref, groups, g)
        for j, c in enumerate(cutoffs):
            expected_n = (ref[:, cols] <= c + 1e-6).sum(axis=1)
            assert_array_equal(res.counts[g, j], expected_n)
    # Every pair within the largest cutoff, with its cost.
    lim = max(cutoffs)
    oi, ti = np.nonzero(ref <= lim + 1e-6)
    got = res.pairs.sort_values(["origin", "target"], ignore_index=True)
    assert_array_equal(got["origin"], oi)
    assert_array_equal(got["target"], ti)
    assert_allclose(got["cost"], ref[oi, ti], atol=ATOL, rtol=0)


# -- a line ----------------------------------------------------------------------------


LINE = {i: (100.0 * i, 0.0) for i in range(5)}
LINE_EDGES = [(i, i + 1) for i in range(4)]


def test_line_known_answers() -> None:
    G = street_graph(LINE, LINE_EDGES)
    # A home 10 m north of the middle of the second street; facilities at
    # the far end and 30 m along the first street.
    twin = twin_of(
        G,
        [("h", bldg(150, 12))],
        [("far", "kindergarten", (400, 0)), ("near", "shop", (30, -5))],
    )
    tc = travel_circles(
        twin, minutes=(1, 2, 5), speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    row = tc.buildings.iloc[0]
    assert row["access_m"] == pytest.approx(10.0)
    # 10 s access + 250 s along the street
    assert row["nearest_kindergarten_s"] == pytest.approx(260.0, abs=ATOL)
    # 10 + 120 + 5 (the shop's own access)
    assert row["nearest_shop_s"] == pytest.approx(135.0, abs=ATOL)
    assert math.isnan(row["nearest_pharmacy_s"])
    assert row["count_kindergarten_1min"] == 0
    assert row["count_kindergarten_5min"] == 1
    assert row["count_shop_2min"] == 0  # 135 s > 120 s
    assert row["count_shop_5min"] == 1
    assert row["count_pharmacy_5min"] == 0
    assert tc.coverage.loc["shop", "share_5min"] == 1.0
    assert tc.coverage.loc["shop", "share_2min"] == 0.0
    r = tc.reachable
    assert r["facility_id"].tolist() == ["near", "far"]
    assert_allclose(r["time_s"], [135.0, 260.0], atol=ATOL)


def test_line_cutoff_is_inclusive_and_tolerant() -> None:
    G = street_graph(LINE, LINE_EDGES)
    W = mode_graph(G, "walk", speed_kph=ONE_MPS)
    rg = RoutingGraph.from_graph(W)
    o = Places.at_nodes(rg, [0])
    t = Places.at_nodes(rg, [3])
    res = accessibility(rg, o, t, groups=np.array([0]), cutoffs=[300.0, 299.0])
    assert res.counts[0, :, 0].tolist() == [1, 0]


def test_same_segment_places_reach_each_other_directly() -> None:
    G = street_graph(LINE, LINE_EDGES)
    twin = twin_of(G, [("h", bldg(120, 5, 1))], [("f", "shop", (180, -4))])
    tc = travel_circles(
        twin, minutes=(1, 2), speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    # 4 m access (the footprint's corner) + 60 m + 4 m, not via a node
    assert tc.buildings["nearest_shop_s"].iloc[0] == pytest.approx(68.0, abs=ATOL)
    assert tc.buildings["count_shop_1min"].iloc[0] == 0
    assert tc.buildings["count_shop_2min"].iloc[0] == 1
    assert tc.reachable["time_s"].tolist() == pytest.approx([68.0])


# -- a grid ----------------------------------------------------------------------------


def grid(n: int = 5, step: float = 100.0) -> nx.MultiDiGraph:
    coords = {i * n + j: (step * j, step * i) for i in range(n) for j in range(n)}
    edges = [(i * n + j, i * n + j + 1) for i in range(n) for j in range(n - 1)]
    edges += [(i * n + j, (i + 1) * n + j) for i in range(n - 1) for j in range(n)]
    return street_graph(coords, edges)


def test_grid_manhattan_distances() -> None:
    W = mode_graph(grid(), "walk", speed_kph=ONE_MPS)
    rg = RoutingGraph.from_graph(W)
    nodes = list(range(25))
    o = Places.at_nodes(rg, nodes)
    t = Places.at_nodes(rg, [0, 24])
    res = accessibility(rg, o, t, groups=np.array([0, 1]), cutoffs=[200.0, 400.0])
    xy = np.array([(n % 5, n // 5) for n in nodes]) * 100.0
    d0 = xy.sum(axis=1)
    d24 = (400 - xy).sum(axis=1)
    assert_allclose(res.nearest[:, 0], d0, atol=ATOL)
    assert_allclose(res.nearest[:, 1], d24, atol=ATOL)
    assert_array_equal(res.counts[0, 0], d0 <= 200)
    assert_array_equal(res.counts[1, 1], d24 <= 400)


def test_grid_equals_networkx_with_places_on_edges() -> None:
    rng = np.random.default_rng(1)
    W = mode_graph(grid(), "walk")
    origins = shapely.points(
        X0 + rng.uniform(-20, 420, 40), Y0 + rng.uniform(-20, 420, 40)
    )
    targets = shapely.points(
        X0 + rng.uniform(-20, 420, 30), Y0 + rng.uniform(-20, 420, 30)
    )
    groups = rng.integers(0, 3, 30)
    # a few targets twice (two shops in one building), counted twice
    targets = np.concatenate([targets, targets[:4]])
    groups = np.concatenate([groups, groups[:4]])
    check_against_networkx(W, origins, targets, groups, [120.0, 300.0, 600.0])


def test_node_places_with_duplicates_equal_networkx() -> None:
    W = mode_graph(grid(), "walk")
    rg = RoutingGraph.from_graph(W)
    t_nodes = [0, 7, 7, 7, 24, 13]
    groups = np.array([0, 0, 0, 1, 1, 0])
    o = Places.at_nodes(rg, list(W.nodes))
    t = Places.at_nodes(rg, t_nodes)
    res = accessibility(rg, o, t, groups=groups, cutoffs=[200.0, 100.0], pairs=True)
    R = W.reverse()
    for g in (0, 1):
        src = [n for n, gg in zip(t_nodes, groups, strict=True) if gg == g]
        d = nx.multi_source_dijkstra_path_length(R, set(src), weight="travel_time_s")
        assert_allclose(res.nearest[:, g], [d[n] for n in W.nodes], atol=ATOL)
        # The nearest target is at a node at that distance; of the three
        # targets at node 7, the first of its group (1 in group 0, 3 in 1).
        target = res.nearest_target[:, g]
        assert (groups[target] == g).all()
        at = np.array(t_nodes)[target]
        dist = [
            nx.shortest_path_length(R, a, n, weight="travel_time_s")
            for a, n in zip(at, W.nodes, strict=True)
        ]
        assert_allclose(dist, res.nearest[:, g], atol=ATOL)
        assert set(target[at == 7]) <= {1, 3}
    for j, cut in enumerate([200.0, 100.0]):
        expected = np.zeros(len(W), dtype=int)
        for n in t_nodes:
            reach = nx.single_source_dijkstra_path_length(
                R, n, cutoff=cut, weight="travel_time_s"
            )
            expected[[list(W.nodes).index(m) for m in reach]] += 1
        assert_array_equal(res.counts[:, j].sum(axis=0), expected)
    # every duplicate appears in the pairs
    assert (res.pairs["target"].value_counts().sort_index().index == np.arange(6)).all()
    assert len(res.pairs) == int(res.counts[:, 0].sum())


# -- a one-way loop --------------------------------------------------------------------


SQUARE = {0: (0.0, 0.0), 1: (100.0, 0.0), 2: (100.0, 100.0), 3: (0.0, 100.0)}


def test_one_way_loop_drive_goes_around_walk_does_not() -> None:
    G = street_graph(SQUARE, [(0, 1), (1, 2), (2, 3), (3, 0)], oneway=True)
    # home beside the middle of 0->1, a shop beside the middle of 3->0
    twin = twin_of(G, [("h", bldg(50, -6, 1))], [("s", "shop", (-5, 50))])
    drive = travel_circles(
        twin, minutes=(1,), mode="drive", speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    walk = travel_circles(
        twin, minutes=(1,), mode="walk", speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    # access 5 + 50 to node 1, 100 + 100 to node 3, 50 to the shop + 5
    assert drive.buildings["nearest_shop_s"].iloc[0] == pytest.approx(310.0, abs=ATOL)
    # walking against the one-way: 5 + 50 + 50 + 5
    assert walk.buildings["nearest_shop_s"].iloc[0] == pytest.approx(110.0, abs=ATOL)
    W = mode_graph(G, "drive", speed_kph=ONE_MPS)
    origins = shapely.points(
        X0 + np.array([50.0, 99, 3]), Y0 + np.array([-6.0, 50, 97])
    )
    check_against_networkx(
        W, origins, origins[::-1], np.array([0, 1, 0]), [100.0, 250.0]
    )


# -- a gate closed at night ------------------------------------------------------------


def compound(hours: str = "06:00-22:00") -> nx.MultiDiGraph:
    """A street 0-1-2 and a compound road 1-3-4 behind a gate at node 3."""
    coords = {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (100, 50), 4: (100, 150)}
    G = street_graph(coords, [(0, 1), (1, 2), (1, 3), (3, 4)])
    G.nodes[3].update(barrier="gate", access="", opening_hours=hours)
    return G


def test_gate_closed_at_night() -> None:
    G = compound()
    twin = twin_of(
        G,
        [("inside", bldg(105, 140, 2)), ("outside", bldg(20, 5, 2))],
        [("k", "kindergarten", (150, -5))],
    )
    day = travel_circles(
        twin, minutes=(5,), time="12:00", speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    night = travel_circles(
        twin, minutes=(5,), time="22:30", speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    opened = travel_circles(
        twin,
        minutes=(5,),
        time="22:30",
        gates={3: True},
        speed_kph=ONE_MPS,
        access_speed_kph=ONE_MPS,
    )
    near = "nearest_kindergarten_s"
    # inside: 3 m to the road at y=140, 140 m to node 1, 50 m, 5 m access
    assert day.buildings[near].tolist() == pytest.approx([198.0, 138.0])
    assert math.isnan(night.buildings[near].iloc[0])
    assert night.buildings[near].iloc[1] == pytest.approx(138.0)
    assert night.closed_gates == (3,)
    assert opened.buildings[near].tolist() == pytest.approx([198.0, 138.0])
    # The home inside still snaps to its own road, not to the street.
    assert night.buildings["access_m"].iloc[0] == pytest.approx(3.0)
    assert night.coverage.loc["kindergarten", "share_5min"] == pytest.approx(0.5)


def test_gate_closed_attribute_of_the_network() -> None:
    # gate_closed (a plan's setting) opens the gate its hours close at night,
    # and closes it at noon; the home inside keeps snapping to its own road.
    homes = [("inside", bldg(105, 140, 2)), ("outside", bldg(20, 5, 2))]
    shops = [("k", "kindergarten", (150, -5))]
    kw: dict[str, Any] = {
        "minutes": (5,),
        "speed_kph": ONE_MPS,
        "access_speed_kph": ONE_MPS,
    }
    near = "nearest_kindergarten_s"
    G = compound()
    night = travel_circles(twin_of(G, homes, shops), time="22:30", **kw)
    assert math.isnan(night.buildings[near].iloc[0])
    G.nodes[3]["gate_closed"] = False
    opened = travel_circles(twin_of(G, homes, shops), time="22:30", **kw)
    assert opened.buildings[near].tolist() == pytest.approx([198.0, 138.0])
    assert opened.closed_gates == ()
    G.nodes[3]["gate_closed"] = True
    noon = travel_circles(twin_of(G, homes, shops), time="12:00", **kw)
    assert math.isnan(noon.buildings[near].iloc[0])
    assert noon.buildings[near].iloc[1] == pytest.approx(138.0)
    assert noon.closed_gates == (3,)
    # Closing the gate cuts no component: snapping is as with the gate open.
    cols = ["access_m", "snap_component", "snap_flagged"]
    pd.testing.assert_frame_equal(noon.buildings[cols], opened.buildings[cols])
    assert noon.buildings["access_m"].iloc[0] == pytest.approx(3.0)
    # gates= given by the caller wins over gate_closed.
    forced = travel_circles(
        twin_of(G, homes, shops), time="12:00", gates={3: True}, **kw
    )
    assert forced.buildings[near].tolist() == pytest.approx([198.0, 138.0])


def test_closed_gate_equals_networkx_without_the_gate() -> None:
    G = compound()
    W = mode_graph(G, "walk", time="23:00", keep_closed=True)
    assert W.nodes[3]["gate_open"] is False
    pts = shapely.points(
        X0 + np.array([105.0, 95, 20, 150]), Y0 + np.array([140.0, 60, 5, -3])
    )
    check_against_networkx(W, pts, pts, np.array([0, 0, 1, 1]), [60.0, 300.0])


def test_places_up_to_a_closed_gate_reach_their_side_only() -> None:
    G = compound()
    # Home on the gate's street side (between 1 and the gate), shop beyond it.
    twin = twin_of(
        G,
        [("h", bldg(104, 20, 1))],
        [("s", "shop", (96, 100)), ("k", "kindergarten", (0, 4))],
    )
    night = travel_circles(
        twin, minutes=(5,), time="23:00", speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    row = night.buildings.iloc[0]
    assert math.isnan(row["nearest_shop_s"])
    assert row["nearest_kindergarten_s"] == pytest.approx(3 + 20 + 100 + 4)


def test_mid_edge_gate_from_osm_barriers_attribute() -> None:
    import json

    coords = {0: (0, 0), 1: (100, 0), 2: (100, 200)}
    G = street_graph(coords, [(0, 1), (1, 2)])
    gate = {"barrier": "gate", "access": "", "opening_hours": "Mo-Fr 07:00-19:00"}
    G.edges[1, 2, 0]["barriers"] = json.dumps([{"node": 99, "offset_m": 50.0, **gate}])
    G.edges[2, 1, 0]["barriers"] = json.dumps([{"node": 99, "offset_m": 150.0, **gate}])
    twin = twin_of(G, [("h", bldg(104, 190, 1))], [("s", "shop", (0, -3))])
    kw: dict[str, Any] = {
        "minutes": (10,),
        "speed_kph": ONE_MPS,
        "access_speed_kph": ONE_MPS,
    }
    weekday = travel_circles(twin, time="We 08:00", **kw)
    weekend = travel_circles(twin, time="Sa 08:00", **kw)
    assert weekday.buildings["nearest_shop_s"].iloc[0] == pytest.approx(
        3 + 190 + 100 + 3
    )
    assert math.isnan(weekend.buildings["nearest_shop_s"].iloc[0])
    assert weekend.closed_gates == (99,)
    with pytest.raises(ValueError, match="depend on the weekday"):
        travel_circles(twin, time="08:00", **kw)


# -- disconnected components -----------------------------------------------------------


def islands() -> nx.MultiDiGraph:
    coords = {0: (0, 0), 1: (100, 0), 2: (200, 0), 10: (0, 300), 11: (60, 300)}
    return street_graph(coords, [(0, 1), (1, 2), (10, 11)])


def test_disconnected_components() -> None:
    G = islands()
    twin = twin_of(
        G,
        [("main", bldg(50, 5, 1)), ("island", bldg(30, 296, 1))],
        [("a", "shop", (150, 3)), ("b", "park", (10, 303))],
    )
    tc = travel_circles(
        twin, minutes=(30,), speed_kph=ONE_MPS, access_speed_kph=ONE_MPS
    )
    b = tc.buildings
    # "largest": the island home snaps to the main street, 296 m away.
    assert b["snap_component"].tolist() == [0, 0]
    assert b["access_m"].iloc[1] == pytest.approx(295.0)
    assert bool(b["snap_flagged"].iloc[1])
    # ... and so does the island's park: 4 + 40 along the street + 303
    assert b["nearest_park_s"].iloc[0] == pytest.approx(347.0)
    assert tc.facilities["snap_flagged"].tolist() == [False, True]
    anywhere = travel_circles(
        twin,
        minutes=(30,),
        component="all",
        speed_kph=ONE_MPS,
        access_speed_kph=ONE_MPS,
    )
    b2 = anywhere.buildings
    assert b2["snap_component"].tolist() == [0, 1]
    assert b2["access_m"].iloc[1] == pytest.approx(3.0)
    assert math.isnan(b2["nearest_shop_s"].iloc[1])
    assert b2["nearest_park_s"].iloc[1] == pytest.approx(3 + 20 + 3)
    assert b2["count_shop_30min"].tolist() == [1, 0]


def test_islands_equal_networkx() -> None:
    W = mode_graph(islands(), "walk")
    rg, o, t, so, st_ = engine(
        W,
        shapely.points(X0 + np.array([50.0, 30, 190]), Y0 + np.array([5.0, 296, -2])),
        shapely.points(X0 + np.array([150.0, 10]), Y0 + np.array([3.0, 303])),
        access_per_m=0.8,
        component="all",
    )
    ref, _ = nx_reference(W, rg, so, st_, access_per_m=0.8)
    res = accessibility(rg, o, t, groups=np.array([0, 1]), cutoffs=[500.0])
    assert_allclose(res.nearest, ref, atol=ATOL)
    assert np.isinf(res.nearest[1, 0]) and np.isinf(res.nearest[0, 1])


# -- random graphs and the sample twin -------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 12),
    p_oneway=st.floats(0, 1),
    mode=st.sampled_from(["walk", "drive"]),
)
def test_random_graphs_equal_networkx(
    seed: int, n: int, p_oneway: float, mode: str
) -> None:
    rng = np.random.default_rng(seed)
    coords = {i: tuple(rng.uniform(0, 500, 2)) for i in range(n)}
    G = nx.MultiDiGraph(crs=CRS)
    for i, (x, y) in coords.items():
        G.add_node(i, x=X0 + x, y=Y0 + y)
    for _ in range(int(rng.integers(1, 3 * n))):
        u, v = (int(a) for a in rng.integers(0, n, 2))
        if u == v:
            continue
        geom = LineString(
            [
                (X0 + coords[u][0], Y0 + coords[u][1]),
                (X0 + coords[v][0], Y0 + coords[v][1]),
            ]
        )
        data = {
            "length_m": geom.length,
            "highway": "residential",
            "penalty_s": float(rng.uniform(0, 20)),
        }
        G.add_edge(u, v, geometry=geom, **data)
        if rng.uniform() > p_oneway:
            G.add_edge(v, u, geometry=shapely.reverse(geom), **data)
    if G.number_of_edges() == 0:
        return
    W = mode_graph(G, mode)
    pts = shapely.points(X0 + rng.uniform(0, 500, 12), Y0 + rng.uniform(0, 500, 12))
    rg, o, t, so, st_ = engine(W, pts[:7], pts[7:], access_per_m=0.8, component="all")
    ref, _ = nx_reference(W, rg, so, st_, access_per_m=0.8)
    groups = rng.integers(0, 2, 5)
    cut = [100.0, 400.0]
    res = accessibility(rg, o, t, groups=groups, cutoffs=cut)
    for g in range(int(groups.max()) + 1):
        cols = groups == g
        assert_allclose(
            res.nearest[:, g],
            ref[:, cols].min(axis=1, initial=np.inf),
            atol=ATOL,
            rtol=0,
        )
        for j, c in enumerate(cut):
            assert_array_equal(res.counts[g, j], (ref[:, cols] <= c + 1e-6).sum(axis=1))
    # More minutes never reach less.
    assert (np.diff(res.counts, axis=1) >= 0).all()


@pytest.fixture(scope="module")
def sample() -> cim.Twin:
    return cim.datasets.load("beijing_haidian_cau")


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_sample_twin_equals_networkx(sample: cim.Twin, mode: str) -> None:
    W = mode_graph(sample.network, mode)
    b = sample.buildings.geometry.array[::3]
    f = sample.facilities.geometry.array[::2]
    groups = np.arange(len(f)) % 4
    check_against_networkx(W, b, f, groups, [300.0, 600.0, 1800.0], access_per_m=0.8)


def test_sample_twin_distance_basis_equals_networkx(sample: cim.Twin) -> None:
    W = mode_graph(sample.network, "walk")
    b = sample.buildings.geometry.array[::5]
    f = sample.facilities.geometry.array[::3]
    check_against_networkx(
        W,
        b,
        f,
        np.zeros(len(f), dtype=np.intp),
        [300.0, 500.0, 1000.0],
        access_per_m=1.0,
        weight="length_m",
    )


def test_sample_travel_circles_columns(sample: cim.Twin) -> None:
    tc = travel_circles(sample, minutes=(5, 10, 30))
    b = tc.buildings
    assert len(b) == len(sample.buildings)
    assert b["building_id"].tolist() == sample.buildings["building_id"].tolist()
    cats = list(cim.layers.facility_categories().index)
    for c in cats:
        assert f"nearest_{c}_s" in b.columns
        for m in ("5min", "10min", "30min"):
            assert f"count_{c}_{m}" in b.columns
    # counts grow with the circle; nothing is nearer than its circle says
    for c in cats:
        assert (b[f"count_{c}_5min"] <= b[f"count_{c}_10min"]).all()
        assert (b[f"count_{c}_10min"] <= b[f"count_{c}_30min"]).all()
        has = b[f"count_{c}_5min"] > 0
        assert (b.loc[has, f"nearest_{c}_s"] <= 300 + 1e-6).all()
    assert tc.weight == "households"
    assert set(tc.coverage.columns) == {
        "share_5min",
        "share_10min",
        "share_30min",
        "facilities",
    }
    assert (
        (
            (tc.coverage.drop(columns="facilities") >= 0)
            & (tc.coverage.drop(columns="facilities") <= 1)
        )
        .all()
        .all()
    )
    # the reachable list agrees with the counts
    r = tc.reachable[tc.reachable["time_s"] <= 600 + 1e-6]
    n = r.groupby(["building_id", "category"]).size()
    for (bid, cat), k in n.items():
        assert b.loc[b["building_id"] == bid, f"count_{cat}_10min"].iloc[0] == k
    assert tc.facilities["access_m"].notna().all()


def test_adding_a_kindergarten_only_helps(sample: cim.Twin) -> None:
    before = travel_circles(sample, minutes=(5, 10))
    homes = sample.buildings[sample.buildings["use"] == "residential"]
    spot = homes.geometry.iloc[0].centroid
    new = gpd.GeoDataFrame(
        {"facility_id": ["new_k"], "category": ["kindergarten"]},
        geometry=[spot],
        crs=sample.crs,
    )
    fac = pd.concat([sample.facilities, new], ignore_index=True)
    after = travel_circles(sample.with_layer("facilities", fac), minutes=(5, 10))
    col = "nearest_kindergarten_s"
    assert (after.buildings[col] <= before.buildings[col] + 1e-9).all()
    assert (after.buildings[col] < before.buildings[col]).any()
    assert (
        after.coverage.loc["kindergarten", "share_5min"]
        > before.coverage.loc["kindergarten", "share_5min"]
    )


def test_entrances_replace_footprints() -> None:
    G = street_graph(LINE, LINE_EDGES)
    # A long slab north of the street, its entrance on the far side.
    slab = shapely.Polygon(
        [
            (X0 + 100, Y0 + 10),
            (X0 + 300, Y0 + 20),
            (X0 + 300, Y0 + 30),
            (X0 + 100, Y0 + 30),
        ]
    )
    twin = twin_of(G, [("slab", slab)], [("s", "shop", (0, 0))])
    kw: dict[str, Any] = {
        "minutes": (5,),
        "speed_kph": ONE_MPS,
        "access_speed_kph": ONE_MPS,
    }
    plain = travel_circles(twin, **kw)
    door = gpd.GeoDataFrame(
        {"building_id": ["slab"]}, geometry=[Point(X0 + 300, Y0 + 30)], crs=CRS
    )
    entered = travel_circles(twin, entrances=door, **kw)
    assert plain.buildings["nearest_shop_s"].iloc[0] == pytest.approx(10 + 100)
    assert entered.buildings["nearest_shop_s"].iloc[0] == pytest.approx(30 + 300)
    with pytest.raises(ValueError, match="building_id"):
        travel_circles(twin, entrances=door.rename(columns={"building_id": "b"}), **kw)


def test_bad_arguments(sample: cim.Twin) -> None:
    with pytest.raises(ValueError, match="invalid mode"):
        travel_circles(sample, mode="fly")
    with pytest.raises(ValueError, match="invalid minutes"):
        travel_circles(sample, minutes=())
    with pytest.raises(ValueError, match="invalid time"):
        travel_circles(sample, time="late")
    empty = cim.Twin(crs=CRS)
    with pytest.raises(ValueError, match="no street network"):
        travel_circles(empty)


# -- isochrones ------------------------------------------------------------------------


def test_isochrone_of_a_line_is_a_band_ending_mid_edge() -> None:
    W = mode_graph(street_graph(LINE, LINE_EDGES), "walk", speed_kph=ONE_MPS)
    out = travel_time_circles(W, [0], cutoffs_min=[2.5], buffer_m=10.0)
    assert out.columns.tolist() == ["source", "cutoff_min", "nodes", "geometry"]
    poly = out.geometry.iloc[0]
    # 150 m of street reached: a 20 m wide band with round-ish ends
    assert poly.contains(Point(X0 + 145, Y0))
    assert not poly.intersects(Point(X0 + 165, Y0))
    assert poly.area == pytest.approx(150 * 20 + math.pi * 100, rel=0.05)
    assert out["nodes"].iloc[0] == 2


def test_isochrones_grow_and_respect_gates() -> None:
    G = compound()
    twin = twin_of(
        G, [("inside", bldg(105, 140, 2))], [("k", "kindergarten", (150, -5))]
    )
    day = travel_circles(
        twin, minutes=(1, 5), time="12:00", isochrones=True, speed_kph=ONE_MPS
    )
    night = travel_circles(
        twin, minutes=(1, 5), time="23:00", isochrones=True, speed_kph=ONE_MPS
    )
    iso = day.isochrones
    assert iso.columns.tolist() == ["building_id", "cutoff_min", "geometry"]
    a1, a5 = iso.geometry.area.tolist()
    assert 0 < a1 < a5
    street = Point(X0 + 150, Y0)
    assert iso.geometry.iloc[1].contains(street)
    assert not night.isochrones.geometry.iloc[1].contains(street)
    # at night the circle ends at the gate (node 3, y = 50), plus the band
    assert night.isochrones.geometry.iloc[1].bounds[1] == pytest.approx(
        Y0 + 50 - 25, abs=1.0
    )


def test_isochrone_unreachable_access_is_empty() -> None:
    W = mode_graph(street_graph(LINE, LINE_EDGES), "walk", speed_kph=ONE_MPS)
    rg = RoutingGraph.from_graph(W)
    s = snap(rg, [Point(X0 + 50, Y0 + 100)])
    places = Places.from_snap(rg, s, access_cost_per_m=1.0)
    out = isochrone_polygons(rg, places, [60.0, 120.0])
    assert out.geometry.iloc[0].is_empty
    assert out.geometry.iloc[1].contains(Point(X0 + 50, Y0))


# -- life circles ----------------------------------------------------------------------


def test_required_categories_come_from_the_category_table() -> None:
    table = cim.layers.facility_categories()
    five = required_categories(5)
    assert "kindergarten" in five and "primary_school" not in five
    assert set(required_categories(10)) == set(
        table.index[table["life_circle"] == "10"]
    )
    assert set(required_categories(15, cumulative=True)) >= set(five)
    with pytest.raises(ValueError, match="invalid level"):
        required_categories(30)


def test_life_circle_coverage_known_answers() -> None:
    G = street_graph(LINE, LINE_EDGES)
    # two homes: one 250 m from the kindergarten, one 450 m; a clinic 900 m away
    twin = twin_of(
        G,
        [("a", bldg(250, 2, 1)), ("b", bldg(50, 2, 1))],
        [("k", "kindergarten", (400, 0)), ("c", "clinic", (400, 0))],
        households=[30, 10],
    )
    lc = life_circle_coverage(twin, levels=(5, 15))
    assert lc.basis == "distance"
    b = lc.buildings.set_index("building_id")
    assert "kindergarten" not in b.loc["a", "lacks_5min"].split("; ")
    assert "kindergarten" in b.loc["b", "lacks_5min"].split("; ")
    cov = lc.coverage.set_index(["level", "category"])
    assert cov.loc[(5, "kindergarten"), "share_residents"] == pytest.approx(0.75)
    assert cov.loc[(5, "kindergarten"), "threshold"] == LIFE_CIRCLE_DISTANCE_M[5]
    assert cov.loc[(15, "clinic"), "share_residents"] == pytest.approx(1.0)
    comp = lc.compliance
    assert {"feature_id", "rule_id", "value", "threshold", "passed"} <= set(
        comp.columns
    )
    k = comp[comp["rule_id"] == "gb50180-life-circle-5min-kindergarten"].set_index(
        "feature_id"
    )
    assert k.loc["a", "passed"] and not k.loc["b", "passed"]
    assert k.loc["b", "value"] == pytest.approx(351.0)  # 1 m access + 350 m
    by_time = life_circle_coverage(twin, levels=(5,), basis="time", speed_kph=ONE_MPS)
    kt = by_time.compliance.set_index(["feature_id", "rule_id"])
    walk = life_circle_walk_m(twin, 5)
    assert walk.index.tolist() == ["a", "b"]
    # the farthest required 5-min category: none mapped here, so unreachable
    assert np.isinf(walk).all()
    only_k = life_circle_coverage(twin, levels=(15,))
    clinic = only_k.compliance[only_k.compliance["indicator"] == "nearest_clinic_m"]
    assert clinic["value"].tolist() == pytest.approx([151.0, 351.0])
    assert kt.loc[("a", "gb50180-life-circle-5min-kindergarten"), "passed"]
    assert not kt.loc[("b", "gb50180-life-circle-5min-kindergarten"), "passed"]
    assert kt.loc[("b", "gb50180-life-circle-5min-kindergarten"), "unit"] == "s"


def test_life_circle_walk_names_the_category_and_facility() -> None:
    G = street_graph(LINE, LINE_EDGES)
    five = required_categories(5)
    assert {"toilet", "waste", "culture"} <= set(five)
    # Every 5-minute category at node 3 (x = 300), except: waste at node 4
    # (x = 400) and two toilets, "wc1" at node 0 and "wc2" 4 m off the first
    # street's middle (x = 50). Homes: "a" 1 m off x = 250, "b" 1 m off x = 50.
    others = [c for c in five if c not in ("toilet", "waste")]
    facilities = [(f"f-{c}", c, (300.0, 0.0)) for c in others]
    facilities += [
        ("w", "waste", (400.0, 0.0)),
        ("wc1", "toilet", (0.0, 0.0)),
        ("wc2", "toilet", (50.0, -4.0)),
    ]
    homes = [("a", bldg(250, 2, 1)), ("b", bldg(50, 2, 1))]
    twin = twin_of(G, homes, facilities)
    walk = life_circle_walk(twin, 5)
    # a: toilets 1 + 200 + 4 = 205 (wc2) and 1 + 250 = 251 (wc1); waste
    # 1 + 150; the rest 1 + 50. The toilet sets 205 m.
    # b: wc2 along its own street, 1 + 0 + 4 = 5; waste 1 + 350 = 351 sets it.
    assert walk.index.tolist() == ["a", "b"]
    assert_allclose(walk["life_circle_walk_m"], [205.0, 351.0], atol=ATOL)
    assert walk["category"].tolist() == ["toilet", "waste"]
    assert walk["facility_id"].tolist() == ["wc2", "w"]
    assert (walk[["absent", "unreachable"]] == "").all().all()
    assert_allclose(life_circle_walk_m(twin, 5), walk["life_circle_walk_m"])
    lc = life_circle_coverage(twin, levels=(5,))
    toilet = lc.compliance[lc.compliance["category"] == "toilet"]
    assert toilet["facility_id"].tolist() == ["wc2", "wc2"]
    assert_allclose(toilet["value"], [205.0, 5.0], atol=ATOL)
    assert (toilet["in_twin"] == 2).all()
    # No culture facility at all, and node 2 closed: from a (east of it) the
    # toilets (west of it) are out of reach on foot; so is b's waste.
    short = twin.with_layer(
        "facilities", twin.facilities[twin.facilities["category"] != "culture"]
    )
    cut = life_circle_walk(short, 5, gates={2: False})
    assert np.isinf(cut["life_circle_walk_m"]).all()
    assert cut["absent"].tolist() == ["culture", "culture"]
    unreachable = cut["unreachable"].str.split("; ").map(set).tolist()
    assert unreachable[0] == {"toilet"}
    assert unreachable[1] == set(five) - {"toilet", "culture"}
    # The first required category with none reachable, in the table's order.
    first_a = next(c for c in five if c in {"culture", "toilet"})
    first_b = next(c for c in five if c != "toilet")
    assert cut["category"].tolist() == [first_a, first_b]
    assert cut["facility_id"].tolist() == ["", ""]


def test_walk_rows_say_what_sets_them_and_rest_on_the_recalled_list(
    sample: cim.Twin, tmp_path: Any
) -> None:
    from cim.check import check

    # The 15-minute circle requires a middle school and a clinic; the OSM
    # extract maps neither, so every home is infinitely far: why, and on
    # which unverified list, is on its row.
    assert set(required_categories(15)) == {"middle_school", "clinic"}
    assert not {"middle_school", "clinic"} & set(sample.facilities["category"])
    book = tmp_path / "walk.toml"
    book.write_text(
        'id = "walk"\ntitle = "t"\njurisdiction = "CN"\nversion = "1"\n'
        '[[rules]]\nid = "walk"\nindicator = "life_circle_walk_m"\n'
        'scope = "dwelling"\nop = "<="\nthreshold = 1000\nunit = "m"\n'
        'clause = "c"\nverified = true\n',
        encoding="utf-8",
    )
    rows = check(sample, book, params={"life_circle": "15"}).rows
    assert len(rows) and (rows["status"] == "fail").all()
    assert np.isinf(rows["value"]).all()
    listed = (
        "required categories of the 15-min life circle recalled from "
        "GB 50180-2018 Appendix B, not verified: " + ", ".join(required_categories(15))
    )
    why = "inf: no facility of " + ", ".join(required_categories(15))
    assert (rows["basis"] == f"{why} in the twin").all()
    assert (rows["unverified_inputs"] == listed).all()
    assert not rows["inputs_verified"].any()


# -- command line -------------------------------------------------------------------


def test_cli_circles(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import pyogrio

    from cim.cli import main

    site = cim.datasets.get_path("beijing_haidian_cau")
    out = tmp_path / "circles.gpkg"
    code = main(["-q", "circles", str(site), "--minutes", "5", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "kindergarten" in text and "share 5 min" in text
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"buildings", "facilities", "isochrones"}
    b = gpd.read_file(out, layer="buildings")
    assert len(b) == len(cim.datasets.load().buildings)
    assert {"nearest_kindergarten_s", "count_kindergarten_5min"} <= set(b.columns)
    assert b["nearest_nursery_s"].isna().all()  # none mapped: empty, not 0
    iso = gpd.read_file(out, layer="isochrones")
    assert set(iso["cutoff_min"]) == {5.0}
    assert (tmp_path / "circles.png").stat().st_size > 10_000
    code = main(
        [
            "-q",
            "circles",
            str(site),
            "--minutes",
            "5",
            "10",
            "--mode",
            "drive",
            "--no-isochrones",
            "--out",
            str(tmp_path / "drive.gpkg"),
            "--map",
            str(tmp_path / "drive_map.png"),
        ]
    )
    assert code == 0
    assert {n for n, _ in pyogrio.list_layers(tmp_path / "drive.gpkg")} == {
        "buildings",
        "facilities",
    }
    assert (tmp_path / "drive_map.png").exists()


def test_cli_circles_bad_input(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from cim.cli import main

    site = cim.datasets.get_path("beijing_haidian_cau")
    out = tmp_path / "c.gpkg"
    assert main(["circles", str(site), "--time", "late", "--out", str(out)]) == 2
    assert "invalid time" in capsys.readouterr().err
    assert main(["circles", str(site), "--close-gate", "42", "--out", str(out)]) == 2
    assert "not nodes of the street graph" in capsys.readouterr().err
    assert not out.exists()
