"""Snapping buildings and facilities to the network (:mod:`cim.network.snap`)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import cim
from cim.network import RoutingGraph, mode_graph, snap

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_428_000.0


def network() -> nx.MultiDiGraph:
    """A street 0-1-2 along y=0, a side street 1-3 north, an island 10-11."""
    coords = {
        0: (0, 0),
        1: (100, 0),
        2: (200, 0),
        3: (100, 80),
        10: (0, 300),
        11: (60, 300),
    }
    G = nx.MultiDiGraph(crs=CRS)
    for n, (x, y) in coords.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v in ((0, 1), (1, 2), (1, 3), (10, 11)):
        g = LineString(
            [
                (X0 + coords[u][0], Y0 + coords[u][1]),
                (X0 + coords[v][0], Y0 + coords[v][1]),
            ]
        )
        G.add_edge(u, v, geometry=g, length_m=g.length, highway="residential")
        G.add_edge(
            v, u, geometry=shapely.reverse(g), length_m=g.length, highway="residential"
        )
    return G


@pytest.fixture
def rg() -> RoutingGraph:
    return RoutingGraph.from_graph(mode_graph(network(), "walk"))


def P(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def test_points_snap_to_the_nearest_segment(rg: RoutingGraph) -> None:
    s = snap(rg, [P(30, 12), P(150, -7), P(90, 60)])
    assert s.columns.tolist() == [
        "segment",
        "u",
        "v",
        "fraction",
        "access_m",
        "snap_x",
        "snap_y",
        "component",
        "flagged",
    ]
    assert s["access_m"].tolist() == pytest.approx([12.0, 7.0, 10.0])
    assert s["snap_x"].tolist() == pytest.approx([X0 + 30, X0 + 150, X0 + 100])
    ends = [frozenset((u, v)) for u, v in zip(s["u"], s["v"], strict=True)]
    assert ends == [frozenset({0, 1}), frozenset({1, 2}), frozenset({1, 3})]
    # the fraction is measured from u
    for row in s.itertuples():
        line = rg.seg_geometry[row.segment]
        pt = shapely.line_interpolate_point(line, row.fraction, normalized=True)
        assert pt.x == pytest.approx(row.snap_x) and pt.y == pytest.approx(row.snap_y)
    assert not s["flagged"].any()


def test_footprints_snap_from_their_outline(rg: RoutingGraph) -> None:
    # a slab 20-60 m north of the street, its corner nearest to the side street
    slab = shapely.Polygon(
        [(X0 + 20, Y0 + 20), (X0 + 85, Y0 + 25), (X0 + 85, Y0 + 60), (X0 + 20, Y0 + 60)]
    )
    across = box(X0 + 140, Y0 - 5, X0 + 160, Y0 + 5)  # straddles the street
    s = snap(rg, [slab, across])
    assert s["access_m"].iloc[0] == pytest.approx(15.0)  # to the side street x=100
    assert s["snap_x"].iloc[0] == pytest.approx(X0 + 100)
    assert s["access_m"].iloc[1] == 0.0


def test_components_flags_and_limits(rg: RoutingGraph) -> None:
    pts = [P(30, 305), P(30, 240)]
    largest = snap(rg, pts)
    assert largest["component"].tolist() == [0, 0]
    assert largest["access_m"].tolist() == pytest.approx(
        [np.hypot(70, 225), np.hypot(70, 160)]
    )
    assert largest["flagged"].tolist() == [True, True]
    anywhere = snap(rg, pts, component="all")
    assert anywhere["component"].tolist() == [1, 1]
    assert anywhere["access_m"].tolist() == pytest.approx([5.0, 60.0])
    assert snap(rg, pts, component="all", flag_m=200)["flagged"].tolist() == [
        False,
        False,
    ]
    refused = snap(rg, pts, component="all", max_access_m=50.0)
    assert refused["segment"].tolist()[1] == -1
    assert refused["u"].iloc[1] is None and np.isnan(refused["access_m"].iloc[1])
    assert refused["flagged"].iloc[1]
    with pytest.raises(ValueError, match="invalid component"):
        snap(rg, pts, component="nearest")


def test_missing_geometries_are_not_snapped(rg: RoutingGraph) -> None:
    s = snap(rg, [None, Point(), P(10, 1)])
    assert s["segment"].tolist()[:2] == [-1, -1]
    assert s["segment"].iloc[2] >= 0
    assert s["flagged"].tolist() == [True, True, False]


def test_snap_takes_a_networkx_graph_and_a_geoseries() -> None:
    W = mode_graph(network(), "walk")
    import geopandas as gpd

    s = snap(W, gpd.GeoSeries([P(50, 3)], crs=CRS))
    assert s["access_m"].iloc[0] == pytest.approx(3.0)


def test_snapping_ignores_closed_gates() -> None:
    G = network()
    G.nodes[3].update(barrier="gate", access="", opening_hours="off")
    W = mode_graph(G, "walk", time="12:00", keep_closed=True)
    assert W.nodes[3]["gate_open"] is False
    s = snap(RoutingGraph.from_graph(W), [P(95, 70)])
    # still on the side street that ends at the closed gate
    assert frozenset((s["u"].iloc[0], s["v"].iloc[0])) == frozenset({1, 3})


def test_drive_snaps_to_drivable_streets() -> None:
    G = network()
    for u, v in ((1, 3), (3, 1)):
        G.edges[u, v, 0]["highway"] = "footway"
    s_walk = snap(mode_graph(G, "walk"), [P(95, 60)])
    s_drive = snap(mode_graph(G, "drive"), [P(95, 60)])
    assert s_walk["access_m"].iloc[0] == pytest.approx(5.0)
    assert s_drive["access_m"].iloc[0] == pytest.approx(60.0)


def test_sample_snaps() -> None:
    twin = cim.datasets.load("beijing_haidian_cau")
    rg = RoutingGraph.from_graph(mode_graph(twin.network, "walk"))
    sb = snap(rg, twin.buildings.geometry)
    sf = snap(rg, twin.facilities.geometry)
    assert (sb["segment"] >= 0).all() and (sf["segment"] >= 0).all()
    assert (sb["component"] == 0).all()
    # footprints that straddle a path join it with no access walk
    assert (sb["access_m"] >= 0).all()
    assert sb["access_m"].median() < 20
    assert sb["flagged"].sum() == (sb["access_m"] > 50).sum()
