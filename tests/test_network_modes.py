"""Mode graphs, gates and opening hours (:mod:`cim.network.modes`), and the
gates the OSM reader records for them."""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

import cim
from cim.errors import NetworkWarning
from cim.network import (
    RoutingGraph,
    gate_overrides,
    gate_table,
    mode_graph,
    parse_opening_hours,
)
from cim.network.modes import (
    DRIVE_SPEEDS_KPH,
    OpeningHoursError,
    parse_time,
)

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_428_000.0


def graph(
    edges: list[tuple[int, int, dict[str, Any]]],
    coords: dict[int, tuple[float, float]],
    *,
    two_way: bool = True,
) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs=CRS)
    for n, (x, y) in coords.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v, attrs in edges:
        geom = LineString(
            [
                (X0 + coords[u][0], Y0 + coords[u][1]),
                (X0 + coords[v][0], Y0 + coords[v][1]),
            ]
        )
        data = {
            "length_m": geom.length,
            "highway": "residential",
            "oneway": not two_way,
        }
        data.update(attrs)
        G.add_edge(u, v, geometry=geom, **data)
        if two_way and not data["oneway"]:
            G.add_edge(
                v, u, **dict(data, geometry=shapely.reverse(geom), reversed=True)
            )
    return G


STAR = {0: (0, 0), 1: (100, 0), 2: (0, 100), 3: (-100, 0), 4: (0, -100), 5: (100, 100)}


def edge_set(G: nx.MultiDiGraph) -> set[tuple[int, int]]:
    return {(u, v) for u, v in G.edges()}


# -- which streets each mode uses ------------------------------------------------------


def test_highway_and_access_rules_by_mode() -> None:
    G = graph(
        [
            (0, 1, {"highway": "motorway"}),
            (0, 2, {"highway": "footway"}),
            (0, 3, {"highway": "cycleway", "foot": "designated"}),
            (0, 4, {"highway": "service", "access": "private"}),
            (0, 5, {"highway": "footway", "bicycle": "yes"}),
        ],
        STAR,
    )
    walk = edge_set(mode_graph(G, "walk"))
    bike = edge_set(mode_graph(G, "bike"))
    drive = edge_set(mode_graph(G, "drive"))
    assert walk == {(0, 2), (2, 0), (0, 3), (3, 0), (0, 4), (4, 0), (0, 5), (5, 0)}
    assert bike == {(0, 3), (3, 0), (0, 4), (4, 0), (0, 5), (5, 0)}
    assert drive == {(0, 1), (1, 0), (0, 4), (4, 0)}
    strict = edge_set(mode_graph(G, "walk", residents_only_ok=False))
    assert (0, 4) not in strict and (0, 2) in strict
    # nodes left without edges are dropped
    assert 1 not in mode_graph(G, "walk")


def test_foot_no_and_access_no() -> None:
    G = graph(
        [
            (0, 1, {"foot": "no"}),
            (0, 2, {"access": "no"}),
            (0, 3, {"access": "no", "foot": "yes"}),
        ],
        STAR,
    )
    assert edge_set(mode_graph(G, "walk")) == {(0, 3), (3, 0)}
    assert edge_set(mode_graph(G, "drive")) == {(0, 1), (1, 0)}


def test_walk_uses_one_way_streets_both_ways_drive_does_not() -> None:
    G = graph([(0, 1, {}), (1, 5, {})], STAR, two_way=False)
    walk = mode_graph(G, "walk")
    assert edge_set(walk) == {(0, 1), (1, 0), (1, 5), (5, 1)}
    assert not any(d["oneway"] for _, _, d in walk.edges(data=True))
    back = walk.edges[1, 0, 0]["geometry"]
    assert shapely.get_coordinates(back)[0].tolist() == [X0 + 100, Y0]
    assert edge_set(mode_graph(G, "drive")) == {(0, 1), (1, 5)}
    assert edge_set(mode_graph(G, "bike")) == {(0, 1), (1, 5)}
    assert edge_set(mode_graph(G, "bike", oneway=False)) == edge_set(walk)
    # a two-way street is not doubled
    two = mode_graph(graph([(0, 1, {})], STAR), "walk")
    assert two.number_of_edges() == 2


def test_speeds_travel_times_penalties_and_closures() -> None:
    G = graph(
        [
            (0, 1, {"highway": "primary", "speed_kph": 60.0}),
            (0, 2, {"highway": "tertiary", "speed_kph": math.nan, "penalty_s": 30.0}),
            (0, 3, {"highway": "residential", "closed": "drive"}),
            (0, 4, {"highway": "residential", "closed": True}),
        ],
        STAR,
    )
    walk = mode_graph(G, "walk")
    assert walk.graph["speed_kph"] == 4.5
    e = walk.edges[0, 1, 0]
    assert e["speed_kph"] == 4.5
    assert e["travel_time_s"] == pytest.approx(100 / 1.25)
    assert walk.edges[0, 2, 0]["travel_time_s"] == pytest.approx(80 + 30)
    assert (0, 3) in edge_set(walk) and (0, 4) not in edge_set(walk)
    drive = mode_graph(G, "drive")
    assert drive.edges[0, 1, 0]["travel_time_s"] == pytest.approx(100 / (60 / 3.6))
    assert drive.edges[0, 2, 0]["speed_kph"] == DRIVE_SPEEDS_KPH["tertiary"]
    assert (0, 3) not in edge_set(drive)
    bike = mode_graph(G, "bike", speed_kph=12.0)
    assert bike.edges[0, 1, 0]["travel_time_s"] == pytest.approx(30.0)
    assert (
        mode_graph(G, "drive", speed_kph=36.0).edges[0, 1, 0]["travel_time_s"] == 10.0
    )
    with pytest.raises(ValueError, match="invalid mode"):
        mode_graph(G, "boat")


def test_input_graph_is_not_modified() -> None:
    G = graph([(0, 1, {})], STAR)
    G.nodes[1].update(barrier="gate", access="no", opening_hours="")
    before = nx.to_dict_of_dicts(G)
    attrs = dict(G.nodes[1])
    mode_graph(G, "walk", keep_closed=True)
    assert nx.to_dict_of_dicts(G) == before
    assert dict(G.nodes[1]) == attrs


# -- gates -----------------------------------------------------------------------------


def gated(**gate: str) -> nx.MultiDiGraph:
    G = graph([(0, 1, {}), (1, 5, {})], STAR)
    G.nodes[1].update({"barrier": "gate", "access": "", "opening_hours": "", **gate})
    return G


def test_gate_kinds_and_access() -> None:
    assert mode_graph(gated(), "walk").nodes[1]["gate_open"] is True
    bollard = gated(barrier="bollard")
    assert 1 in mode_graph(bollard, "walk")
    assert 1 not in mode_graph(bollard, "drive")
    assert mode_graph(bollard, "drive").graph["closed_gates"] == [1]
    assert 1 not in mode_graph(gated(access="no"), "walk")
    private = gated(access="private")
    assert 1 in mode_graph(private, "walk")
    assert 1 not in mode_graph(private, "walk", residents_only_ok=False)
    kept = mode_graph(gated(access="no"), "walk", keep_closed=True)
    assert kept.nodes[1]["gate_open"] is False
    assert kept.nodes[1]["gate_state"] == "access=no"
    assert kept.has_edge(0, 1)


def test_gate_opening_hours_and_overrides() -> None:
    G = gated(opening_hours="06:00-22:00")
    assert 1 in mode_graph(G, "walk")  # no time: hours ignored
    assert 1 in mode_graph(G, "walk", time="21:59")
    assert 1 not in mode_graph(G, "walk", time="22:00")
    assert 1 not in mode_graph(G, "walk", time=dt.time(5, 30))
    assert 1 in mode_graph(G, "walk", time=dt.datetime(2024, 5, 4, 12, 0))
    assert 1 in mode_graph(G, "walk", time="23:00", gates={1: True})
    assert 1 not in mode_graph(G, "walk", time="12:00", gates={1: False})
    # any node can be closed, e.g. to try a closure
    assert 5 not in mode_graph(G, "walk", gates={5: False})
    with pytest.raises(ValueError, match="not nodes of the street graph"):
        mode_graph(G, "walk", gates={99: True})


def test_weekday_hours_need_a_weekday() -> None:
    G = gated(opening_hours="Mo-Fr 07:00-19:00; Sa,Su 08:00-18:00")
    assert 1 in mode_graph(G, "walk", time="Mo 07:30")
    assert 1 not in mode_graph(G, "walk", time="Sat 07:30")
    assert 1 in mode_graph(G, "walk", time="Sunday 17:00")
    with pytest.raises(ValueError, match="time='Sa 22:30'"):
        mode_graph(G, "walk", time="07:30")


def test_unsupported_hours_warn_and_leave_the_gate_open() -> None:
    G = gated(opening_hours="sunrise-sunset")
    with pytest.warns(NetworkWarning, match="taken as open"):
        W = mode_graph(G, "walk", time="23:00")
    assert 1 in W
    assert "not understood" in W.nodes[1]["gate_state"]


def test_mid_edge_barriers_become_nodes() -> None:
    G = graph([(0, 1, {}), (1, 5, {})], STAR)
    gate = {"barrier": "lift_gate", "access": "", "opening_hours": "off"}
    G.edges[0, 1, 0]["barriers"] = json.dumps([{"node": 77, "offset_m": 40.0, **gate}])
    G.edges[1, 0, 0]["barriers"] = json.dumps([{"node": 77, "offset_m": 60.0, **gate}])
    W = mode_graph(G, "walk", keep_closed=True)
    assert W.nodes[77]["x"] == pytest.approx(X0 + 40)
    assert W.nodes[77]["gate_open"] is True  # no time given
    assert edge_set(W) >= {(0, 77), (77, 0), (77, 1), (1, 77)}
    assert not W.has_edge(0, 1)
    assert W.edges[0, 77, 0]["length_m"] == pytest.approx(40.0)
    assert W.edges[1, 77, 0]["length_m"] == pytest.approx(60.0)
    # both directions end exactly at the gate, so they pair into one segment
    rg = RoutingGraph.from_graph(W)
    assert len(rg.seg_u) == 3
    assert np.isfinite(rg.seg_bwd).all()
    closed = mode_graph(G, "walk", time="12:00")
    assert 77 not in closed and closed.graph["closed_gates"] == [77]
    table = gate_table(G)
    assert table["node"].tolist() == [77]
    assert table["on_edge"].tolist() == [True]
    assert table.geometry.iloc[0].x == pytest.approx(X0 + 40)
    G.edges[0, 1, 0]["barriers"] = "not json"
    with pytest.raises(ValueError, match="cannot read its 'barriers'"):
        mode_graph(G, "walk")


# -- gate_closed: the plan's setting on the street graph -------------------------------

#: A ring: from 0 to 2 through the gate at 1 is 200 m; round by 3 and 4, 400 m.
RING = {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (0, 100), 4: (200, 100)}
THROUGH_M, ROUND_M = 200.0, 400.0


def ring(**gate: Any) -> nx.MultiDiGraph:
    G = graph([(0, 1, {}), (1, 2, {}), (0, 3, {}), (3, 4, {}), (4, 2, {})], RING)
    G.nodes[1].update({"barrier": "gate", "access": "", "opening_hours": "", **gate})
    return G


def walk_m(G: nx.MultiDiGraph, **kwargs: Any) -> float:
    """Shortest walk from 0 to 2 [m] (closed gates are removed)."""
    W = mode_graph(G, "walk", **kwargs)
    return float(nx.shortest_path_length(W, 0, 2, weight="length_m"))


def test_gate_closed_false_opens_a_gate_its_hours_close() -> None:
    G = ring(opening_hours="06:00-22:00")
    assert walk_m(G, time="23:00") == pytest.approx(ROUND_M)
    for untouched in (None, math.nan, "no"):  # not True or False: hours decide
        G.nodes[1]["gate_closed"] = untouched
        assert walk_m(G, time="23:00") == pytest.approx(ROUND_M)
        assert walk_m(G, time="12:00") == pytest.approx(THROUGH_M)
    G.nodes[1]["gate_closed"] = False
    assert walk_m(G, time="23:00") == pytest.approx(THROUGH_M)
    W = mode_graph(G, "walk", time="23:00", keep_closed=True)
    assert W.nodes[1]["gate_open"] is True
    assert W.nodes[1]["gate_state"] == "opened by gate_closed=False"
    assert W.graph["closed_gates"] == []
    # gates= given by the caller still wins.
    assert walk_m(G, time="12:00", gates={1: False}) == pytest.approx(ROUND_M)


def test_gate_closed_true_closes_an_open_gate() -> None:
    G = ring(opening_hours="06:00-22:00")
    assert walk_m(G, time="12:00") == pytest.approx(THROUGH_M)
    G.nodes[1]["gate_closed"] = np.True_  # as read back from a table
    assert walk_m(G, time="12:00") == pytest.approx(ROUND_M)
    assert walk_m(G) == pytest.approx(ROUND_M)  # without a time too
    W = mode_graph(G, "walk", time="12:00", keep_closed=True)
    assert W.nodes[1]["gate_open"] is False
    assert W.nodes[1]["gate_state"] == "closed by gate_closed=True"
    assert W.graph["closed_gates"] == [1]
    # Passage is blocked, but the physical graph (and its components, which
    # snapping uses) keeps the gate.
    rg = RoutingGraph.from_graph(W, weight="length_m")
    assert rg.blocked.tolist() == [i == 1 for i in rg.nodes.tolist()]
    assert set(rg.seg_component.tolist()) == {0}
    # gates= given by the caller still wins.
    assert walk_m(G, time="12:00", gates={1: True}) == pytest.approx(THROUGH_M)


def test_gate_closed_on_any_node() -> None:
    # open_gates on a plain node marks it open; closing one blocks it.
    G = ring()
    G.nodes[2]["gate_closed"] = False
    G.nodes[3]["gate_closed"] = True
    W = mode_graph(G, "walk", keep_closed=True)
    assert W.nodes[2]["gate_open"] is True and W.nodes[3]["gate_open"] is False
    assert W.graph["closed_gates"] == [3]
    assert "gate_open" not in W.nodes[4]


@pytest.mark.parametrize("mode", ["walk", "bike", "drive"])
@pytest.mark.parametrize(
    "tags",
    [
        {},
        {"opening_hours": "06:00-22:00"},
        {"barrier": "bollard"},
        {"access": "no"},
        {"access": "private"},
    ],
)
@pytest.mark.parametrize("closed", [True, False])
def test_gate_closed_decides_as_gates_did(
    mode: str, tags: dict[str, str], closed: bool
) -> None:
    # gate_closed decides like the gates= overrides the scenarios used to
    # derive from it, whatever the gate's kind, access and hours.
    G = ring(**tags)
    G.nodes[1]["gate_closed"] = closed
    kw: dict[str, Any] = {"time": "23:00", "residents_only_ok": False}
    own = mode_graph(G, mode, keep_closed=True, **kw)
    del G.nodes[1]["gate_closed"]
    given = mode_graph(G, mode, keep_closed=True, gates={1: not closed}, **kw)
    assert own.nodes[1]["gate_open"] is given.nodes[1]["gate_open"] is (not closed)
    assert own.graph["closed_gates"] == given.graph["closed_gates"]
    assert edge_set(own) == edge_set(given)


def test_gate_overrides() -> None:
    G = ring()
    G.nodes[0]["gate_closed"] = True
    G.nodes[1]["gate_closed"] = np.False_
    G.nodes[2]["gate_closed"] = None
    G.nodes[3]["gate_closed"] = math.nan
    overrides = gate_overrides(G)
    assert overrides == {0: False, 1: True}
    assert all(type(v) is bool for v in overrides.values())
    assert gate_overrides(ring()) == {}


# -- opening hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weekday", "hhmm", "expected"),
    [
        ("24/7", 3, "03:00", True),
        ("off", 3, "12:00", False),
        ("closed", 3, "12:00", False),
        ("06:00-22:00", 0, "06:00", True),
        ("06:00-22:00", 0, "22:00", False),
        ("06:00-22:00", 6, "05:59", False),
        ("07:00-09:00,17:00-19:00", 1, "12:00", False),
        ("07:00-09:00,17:00-19:00", 1, "18:00", True),
        ("Mo-Fr 07:00-19:00; Sa,Su 08:00-18:00", 4, "07:30", True),
        ("Mo-Fr 07:00-19:00; Sa,Su 08:00-18:00", 5, "07:30", False),
        ("Mo-Fr 07:00-19:00; Sa,Su 08:00-18:00", 6, "17:59", True),
        ("Mo-Fr", 2, "03:00", True),
        ("Mo-Fr", 5, "03:00", False),
        ("06:00-22:00; Su off", 6, "12:00", False),
        ("06:00-22:00; Su off", 5, "12:00", True),
        ("Mo,We-Fr 08:00-10:00", 1, "09:00", False),
        ("Mo,We-Fr 08:00-10:00", 3, "09:00", True),
        ("Fr-Mo 10:00-12:00", 6, "11:00", True),
        ("Fr-Mo 10:00-12:00", 2, "11:00", False),
        ("22:00-06:00", 2, "23:00", True),
        ("22:00-06:00", 2, "05:00", True),
        ("22:00-06:00", 2, "12:00", False),
        ("Fr 22:00-02:00", 5, "01:00", True),
        ("Fr 22:00-02:00", 4, "01:00", False),
        ("00:00-24:00", 2, "23:59", True),
    ],
)
def test_opening_hours(text: str, weekday: int, hhmm: str, expected: bool) -> None:
    h, m = (int(x) for x in hhmm.split(":"))
    assert parse_opening_hours(text).is_open(weekday, h * 60 + m) is expected


@pytest.mark.parametrize(
    "text",
    [
        "PH off",
        "Mo-Fr 08:00-18:00; PH off",
        "sunrise-sunset",
        "10:00+",
        "Jan-Mar 08:00-18:00",
        "Mo-Fr 08:00-12:00 || closed",
        "week 1-53/2 Fr 09:00-12:00",
        "25:00-26:00",
        "",
    ],
)
def test_unsupported_opening_hours_raise(text: str) -> None:
    with pytest.raises(OpeningHoursError, match="opening_hours"):
        parse_opening_hours(text)


def test_opening_hours_error_is_a_value_error() -> None:
    assert issubclass(OpeningHoursError, ValueError)
    assert issubclass(OpeningHoursError, cim.CIMError)


def test_parse_time() -> None:
    assert parse_time("22:30") == (None, 22 * 60 + 30)
    assert parse_time("Sa 07:05") == (5, 425)
    assert parse_time("monday 00:00") == (0, 0)
    assert parse_time(dt.datetime(2024, 5, 6, 8, 30)) == (0, 510)  # a Monday
    for bad in ("7pm", "Xy 10:00", "25:00"):
        with pytest.raises(ValueError, match="invalid"):
            parse_time(bad)


# -- compiled graphs -------------------------------------------------------------------


def test_routing_graph_segments_and_csr() -> None:
    G = graph([(0, 1, {}), (1, 5, {})], STAR, two_way=False)
    G.add_edge(
        0,
        1,
        geometry=G.edges[0, 1, 0]["geometry"],
        length_m=100.0,
        highway="residential",
        penalty_s=50.0,
    )
    D = mode_graph(G, "drive", speed_kph=3.6)
    rg = RoutingGraph.from_graph(D)
    assert rg.csr[rg.index_of([0])[0], rg.index_of([1])[0]] == pytest.approx(100.0)
    assert rg.csr.nnz == 2  # the slower parallel edge is dropped from the matrix
    assert np.isinf(rg.seg_bwd).all()
    assert rg.seg_length_m.tolist() == pytest.approx([100.0, 100.0, 100.0])
    W = mode_graph(G, "walk", speed_kph=3.6)
    rw = RoutingGraph.from_graph(W)
    assert len(rw.seg_u) == 3 and np.isfinite(rw.seg_bwd).all()
    with pytest.raises(KeyError):
        rw.index_of([42])
    bad = D.copy()
    bad.edges[0, 1, 0]["travel_time_s"] = -1.0
    with pytest.raises(ValueError, match="non-negative travel_time_s"):
        RoutingGraph.from_graph(bad)


def test_blocked_nodes_are_left_out_of_the_matrix() -> None:
    G = gated(access="no")
    rg = RoutingGraph.from_graph(mode_graph(G, "walk", keep_closed=True))
    i = rg.index_of([1])[0]
    assert rg.blocked[i]
    assert rg.csr[i].nnz == 0 and rg.csr[:, i].nnz == 0
    assert len(rg.seg_u) == 2  # the segments stay, for snapping


def test_sample_mode_graphs() -> None:
    twin = cim.datasets.load("beijing_haidian_cau")
    sizes = {}
    for mode in ("walk", "bike", "drive"):
        W = mode_graph(twin.network, mode)
        sizes[mode] = W.number_of_edges()
        tt = np.array([d["travel_time_s"] for _, _, d in W.edges(data=True)])
        assert np.isfinite(tt).all() and (tt >= 0).all()
    assert sizes["walk"] > sizes["bike"] > sizes["drive"]
    W = mode_graph(twin.network, "walk")
    rg = RoutingGraph.from_graph(W)
    assert np.isfinite(rg.seg_bwd).all()  # every walk segment goes both ways


# -- gates from OpenStreetMap ----------------------------------------------------------


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <bounds minlat="0" minlon="0" maxlat="0.01" maxlon="0.01"/>
  <node id="1" version="1" timestamp="2021-01-01T00:00:00Z" lat="0.000" lon="0.000"/>
  <node id="2" version="1" timestamp="2021-01-01T00:00:00Z" lat="0.000" lon="0.002">
    <tag k="barrier" v="gate"/><tag k="opening_hours" v="06:00-22:00"/>
  </node>
  <node id="3" version="1" timestamp="2021-01-01T00:00:00Z" lat="0.000" lon="0.004"/>
  <node id="4" version="1" timestamp="2021-01-01T00:00:00Z" lat="0.002" lon="0.004">
    <tag k="barrier" v="entrance"/><tag k="access" v="private"/>
  </node>
  <node id="5" version="1" timestamp="2021-01-01T00:00:00Z" lat="0.001" lon="0.001"/>
  <node id="6" version="1" timestamp="2021-01-01T00:00:00Z" lat="0.001" lon="0.003"/>
  <node id="7" version="1" timestamp="2021-01-01T00:00:00Z" lat="0.004" lon="0.004"/>
  <way id="10" version="1" timestamp="2021-01-01T00:00:00Z">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="service"/>
  </way>
  <way id="11" version="1" timestamp="2021-01-01T00:00:00Z">
    <nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="footway"/>
  </way>
  <way id="12" version="1" timestamp="2021-01-01T00:00:00Z">
    <nd ref="4"/><nd ref="7"/>
    <tag k="highway" v="footway"/>
  </way>
  <way id="13" version="1" timestamp="2021-01-01T00:00:00Z">
    <nd ref="5"/><nd ref="6"/>
    <tag k="barrier" v="wall"/>
  </way>
</osm>
"""


def test_osm_reader_records_gates(tmp_path: Path) -> None:
    pytest.importorskip("osmium")
    from cim.io.osm import read_osm

    path = tmp_path / "gates.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    G = read_osm(path).network
    # the gate inside way 10 is listed on its edges, the entrance is a node
    assert set(G.nodes) == {1, 3, 4, 7}
    assert G.nodes[4]["barrier"] == "entrance"
    assert G.nodes[4]["access"] == "private"
    assert G.nodes[1]["barrier"] == ""
    fwd = json.loads(G.edges[1, 3, 0]["barriers"])
    back = json.loads(G.edges[3, 1, 0]["barriers"])
    assert [b["node"] for b in fwd] == [2] == [b["node"] for b in back]
    assert fwd[0]["opening_hours"] == "06:00-22:00"
    length = G.edges[1, 3, 0]["length_m"]
    assert fwd[0]["offset_m"] + back[0]["offset_m"] == pytest.approx(length)
    assert fwd[0]["offset_m"] == pytest.approx(length / 2, rel=1e-6)
    assert G.edges[3, 4, 0]["barriers"] == ""
    # the wall is not a street
    assert not any(d["osmid"] == 13 for _, _, d in G.edges(data=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cim.CIMWarning)
        twin = cim.Twin.from_layers(network=G, crs=32631)
    day = mode_graph(twin.network, "walk", time="12:00")
    night = mode_graph(twin.network, "walk", time="23:00")
    assert 2 in day and 2 not in night
    assert 4 not in mode_graph(twin.network, "walk", residents_only_ok=False)
    # gates survive the GeoPackage
    twin.save(tmp_path / "t.gpkg")
    back_twin = cim.read(tmp_path / "t.gpkg")
    assert back_twin.network.edges[1, 3, 0]["barriers"] == G.edges[1, 3, 0]["barriers"]
    assert back_twin.network.nodes[4]["barrier"] == "entrance"
    assert 2 not in mode_graph(back_twin.network, "walk", time="23:00")


def test_sample_gates_from_the_osm_extract() -> None:
    pytest.importorskip("osmium")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cim.CIMWarning)
        twin = cim.Twin.from_osm(
            cim.datasets.get_path("beijing_haidian_cau", kind="osm")
        )
    table = gate_table(twin.network)
    assert (table["barrier"] == "gate").sum() == 8
    assert (table["barrier"] == "lift_gate").sum() == 6
    drive = mode_graph(twin.network, "drive", keep_closed=True)
    walk = mode_graph(twin.network, "walk", keep_closed=True)
    assert all(walk.nodes[n]["gate_open"] for n in table["node"] if n in walk)
    assert set(table["node"]) & set(walk.nodes)
    assert drive.graph["closed_gates"] == []  # the only bollard is on a footway
