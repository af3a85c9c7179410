"""Tests for the street graph model (:mod:`cim.network.graph`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose
from pyproj import CRS, Transformer
from shapely.geometry import LineString

import cim
import cim.network
from cim import CRSError, LayerSchemaError, NetworkWarning, RepairWarning, Twin
from cim.network import (
    empty_network,
    graph_from_gdfs,
    graph_to_gdfs,
    project_graph,
    validate_network,
)

UTM50 = CRS.from_epsg(32650)
GraphCheck = Callable[[nx.MultiDiGraph, nx.MultiDiGraph], None]


def _disconnected(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``G`` plus an island of two nodes joined both ways."""
    H = G.copy()
    x, y = H.nodes[3]["x"] + 500.0, H.nodes[3]["y"] + 500.0
    H.add_node(90, x=x, y=y, street_count=1)
    H.add_node(91, x=x + 80.0, y=y, street_count=1)
    for u, v in ((90, 91), (91, 90)):
        H.add_edge(
            u,
            v,
            length_m=80.0,
            highway="service",
            oneway=False,
            speed_kph=15.0,
            name="孤岛路",
        )
    return H


# -- a valid graph ----------------------------------------------------------------
def test_valid_network_is_accepted_as_a_copy(
    network: nx.MultiDiGraph, assert_graphs_equal: GraphCheck
) -> None:
    before = network.copy()
    H = validate_network(network, crs=UTM50)
    assert H is not network
    assert isinstance(H, nx.MultiDiGraph)
    assert CRS.from_user_input(H.graph["crs"]).equals(UTM50)
    assert H.graph["simplified"] is True
    assert H.graph["name"] == "测试路网"
    assert list(H.nodes) == list(network.nodes)
    assert sorted(H.edges(keys=True)) == sorted(network.edges(keys=True))
    # The input is unchanged (no geometry, no attributes added).
    assert_graphs_equal(network, before)


def test_two_way_and_one_way_edges_are_kept(twin: Twin) -> None:
    G = twin.network
    assert G.has_edge(1, 2) and G.has_edge(2, 1)  # two-way street
    assert G.has_edge(2, 3) and not G.has_edge(3, 2)  # one-way
    assert G.number_of_edges(1, 2) == 2  # parallel edges, keys 0 and 1
    assert G.edges[2, 3, 0]["oneway"] is True
    assert G.edges[1, 2, 0]["oneway"] is False
    assert G.edges[1, 2, 1]["highway"] == "service"


def test_edges_without_geometry_get_a_straight_line_from_u_to_v(twin: Twin) -> None:
    G = twin.network
    g = G.edges[2, 1, 0]["geometry"]
    assert isinstance(g, LineString)
    assert g.coords[0] == (G.nodes[2]["x"], G.nodes[2]["y"])
    assert g.coords[-1] == (G.nodes[1]["x"], G.nodes[1]["y"])
    for _, _, d in G.edges(data=True):
        assert isinstance(d["geometry"], LineString)


def test_missing_attributes_are_filled_uniformly(twin: Twin) -> None:
    G = twin.network
    keys = {frozenset(d) for _, _, d in G.edges(data=True)}
    assert len(keys) == 1  # every edge has the same attributes
    # A string attribute absent on some edges becomes None, not NaN.
    assert G.edges[2, 3, 0]["surface"] is None
    assert G.edges[1, 2, 1]["surface"] is None
    assert G.edges[1, 2, 0]["surface"] == "asphalt"
    # A numeric attribute keeps NaN where the speed is unknown.
    assert math.isnan(G.edges[2, 3, 0]["speed_kph"])
    assert G.edges[1, 2, 0]["speed_kph"] == 30.0


def test_missing_numeric_attribute_becomes_nan(network: nx.MultiDiGraph) -> None:
    network.edges[1, 2, 0]["lanes"] = 2
    network.edges[2, 3, 0]["lanes"] = None
    H = validate_network(network, crs=UTM50)
    assert H.edges[1, 2, 0]["lanes"] == 2
    assert math.isnan(H.edges[2, 3, 0]["lanes"])
    assert math.isnan(H.edges[4, 1, 0]["lanes"])


def test_highway_and_oneway_default(network: nx.MultiDiGraph) -> None:
    del network.edges[4, 1, 0]["highway"]
    del network.edges[4, 1, 0]["oneway"]
    H = validate_network(network, crs=UTM50)
    assert H.edges[4, 1, 0]["highway"] == ""
    assert H.edges[4, 1, 0]["oneway"] is False


def test_empty_network(crs: str) -> None:
    G = empty_network(CRS.from_user_input(crs))
    assert isinstance(G, nx.MultiDiGraph)
    assert G.number_of_nodes() == 0
    H = validate_network(G, crs=UTM50)
    assert H.number_of_edges() == 0


# -- lengths ------------------------------------------------------------------------
def test_osmnx_length_is_copied_to_length_m(network: nx.MultiDiGraph) -> None:
    for _, _, d in network.edges(data=True):
        d["length"] = d.pop("length_m") + 0.5  # osmnx's great-circle length
    H = validate_network(network, crs=UTM50)  # no warning: nothing estimated
    for u, v, k, d in network.edges(keys=True, data=True):
        assert H.edges[u, v, k]["length_m"] == d["length"]
        assert H.edges[u, v, k]["length"] == d["length"]


def test_length_m_is_kept_over_length(network: nx.MultiDiGraph) -> None:
    network.edges[1, 2, 0]["length"] = 999.0
    H = validate_network(network, crs=UTM50)
    assert H.edges[1, 2, 0]["length_m"] == 180.0


def test_edges_without_any_length_get_geometry_length(
    network: nx.MultiDiGraph,
) -> None:
    del network.edges[1, 2, 1]["length_m"]  # curved service road
    del network.edges[2, 1, 0]["length_m"]  # no geometry: straight line
    with pytest.warns(RepairWarning) as record:
        H = validate_network(network, crs=UTM50)
    (w,) = record
    assert str(w.message).startswith("layer 'network': 2 edges had no length_m; ")
    assert "geometry length" in str(w.message)
    bend = network.edges[1, 2, 1]["geometry"]
    assert H.edges[1, 2, 1]["length_m"] == pytest.approx(bend.length)
    assert H.edges[1, 2, 1]["length_m"] == pytest.approx(2 * math.hypot(90, 5))
    n1, n2 = network.nodes[1], network.nodes[2]
    straight = math.hypot(n1["x"] - n2["x"], n1["y"] - n2["y"])
    assert H.edges[2, 1, 0]["length_m"] == pytest.approx(straight) == 180.0


# -- refusals ---------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nx.DiGraph, nx.Graph, nx.MultiGraph])
def test_network_that_is_not_a_multidigraph_is_refused(
    network: nx.MultiDiGraph, cls: type
) -> None:
    G = cls(network)
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, network=G)
    msg = str(info.value)
    assert "layer 'network' must be a networkx.MultiDiGraph" in msg
    assert f"got {cls.__name__}" in msg
    assert "nx.MultiDiGraph(G)" in msg
    assert info.value.layer == "network"


def test_a_frame_as_network_is_refused(twin: Twin) -> None:
    with pytest.raises(LayerSchemaError, match="got GeoDataFrame"):
        twin.with_layer("network", twin.buildings)


def test_nodes_without_coordinates_are_refused(network: nx.MultiDiGraph) -> None:
    del network.nodes[4]["x"]
    network.nodes[5]["y"] = float("nan")
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, network=network)
    msg = str(info.value)
    assert "layer 'network'" in msg
    assert "nodes [4, 5]" in msg
    assert "lack numeric 'x'/'y' coordinates" in msg
    assert "every node needs x and y" in msg
    assert info.value.feature_id == [4, 5]


def test_node_coordinates_as_text_are_refused(network: nx.MultiDiGraph) -> None:
    network.nodes[2]["x"] = "east"
    with pytest.raises(LayerSchemaError, match=r"nodes \[2\] lack numeric"):
        validate_network(network, crs=UTM50)


def test_numeric_string_coordinates_become_floats(network: nx.MultiDiGraph) -> None:
    # Coordinates read from CSV may be text; the validator accepts numeric
    # text, so the graph it returns must hold them as numbers (otherwise one
    # text value turns the whole x column into text in the GeoPackage).
    network.nodes[2]["x"] = "440140.0"
    H = validate_network(network, crs=UTM50)
    assert type(H.nodes[2]["x"]) is float
    assert H.nodes[2]["x"] == 440_140.0
    assert all(type(d["x"]) is float for _, d in H.nodes(data=True))


def test_network_in_another_crs_is_refused(network: nx.MultiDiGraph) -> None:
    network.graph["crs"] = "EPSG:4547"
    with pytest.raises(CRSError) as info:
        Twin(crs=32650, network=network)
    msg = str(info.value)
    assert "layer 'network' is in EPSG:4547" in msg
    assert "the twin is in EPSG:32650" in msg
    assert "cim.network.project_graph(G, twin.crs)" in msg
    assert callable(cim.network.project_graph)


def test_network_without_crs_is_refused(network: nx.MultiDiGraph) -> None:
    del network.graph["crs"]
    with pytest.raises(
        CRSError,
        match=r"layer 'network' has no CRS in "
        r"G.graph\['crs'\]; set it",
    ):
        Twin(crs=32650, network=network)


def test_geographic_network_is_refused_by_the_constructor(
    network: nx.MultiDiGraph,
) -> None:
    G = project_graph(network, 4326)
    with pytest.raises(
        CRSError,
        match=r"layer 'network' is in geographic CRS "
        r"EPSG:4326.*Twin.from_layers",
    ):
        Twin(crs=32650, network=G)


def test_network_in_feet_is_refused(network: nx.MultiDiGraph) -> None:
    network.graph["crs"] = "EPSG:2263"
    with pytest.raises(CRSError, match="US survey foot"):
        validate_network(network, crs=UTM50)


# -- components -------------------------------------------------------------------
def test_several_components_warn_with_their_sizes(network: nx.MultiDiGraph) -> None:
    G = _disconnected(network)
    with pytest.warns(NetworkWarning) as record:
        H = validate_network(G, crs=UTM50)
    (w,) = record
    msg = str(w.message)
    assert "layer 'network' has 2 disconnected components" in msg
    assert "(node counts 5, 2)" in msg
    assert "cannot reach the rest" in msg
    # Nothing is dropped.
    assert H.number_of_nodes() == 7
    assert H.number_of_edges() == 10


def test_many_components_list_the_largest_eight(network: nx.MultiDiGraph) -> None:
    G = network.copy()
    for i in range(10):
        G.add_node(100 + i, x=441_000.0 + 10 * i, y=4_429_000.0)
    with pytest.warns(
        NetworkWarning,
        match=r"has 11 disconnected components "
        r"\(node counts 5, 1, 1, 1, 1, 1, 1, 1 "
        r"\.\.\.\)",
    ):
        validate_network(G, crs=UTM50)


def test_component_warning_names_a_function_that_exists(
    network: nx.MultiDiGraph,
) -> None:
    with pytest.warns(NetworkWarning) as record:
        validate_network(_disconnected(network), crs=UTM50)
    msg = str(record[0].message)
    assert "cim.network.largest_component" in msg
    # The fix the message recommends must be callable.
    assert hasattr(cim.network, "largest_component"), msg


def test_with_layer_warns_once_per_new_disconnected_graph(
    twin: Twin, network: nx.MultiDiGraph
) -> None:
    G = _disconnected(network)
    with pytest.warns(NetworkWarning) as record:
        split = twin.with_layer("network", G)
    (w,) = record
    assert "has 2 disconnected components (node counts 5, 2)" in str(w.message)
    assert w.filename == __file__  # points at the with_layer call
    # The same graph again, the twin's own graph back, or a copy with only
    # attributes edited: the components are those already warned about.
    edited = split.network.copy()
    edited.nodes[90]["gate_closed"] = True
    edited.edges[90, 91, 0]["length_m"] = 85.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = split.with_layer("network", G)
        own = split.with_layer("network", split.network)
        later = split.with_layer("network", edited)
    assert own.network is not split.network  # still validated into a copy
    assert later.network.nodes[90]["gate_closed"] is True
    assert again.network.number_of_nodes() == 7
    # A genuinely new disconnected graph still warns, naming its sizes.
    third = edited.copy()
    third.add_node(92, x=441_000.0, y=4_429_000.0)
    with pytest.warns(NetworkWarning, match=r"3 disconnected components "):
        later.with_layer("network", third)
    with pytest.warns(NetworkWarning, match=r"\(node counts 5, 1, 1\)"):
        later.with_layer(
            "network", nx.MultiDiGraph(third.subgraph([1, 2, 3, 4, 5, 90, 92]))
        )


def test_with_layer_warns_for_the_same_sizes_grouped_otherwise(
    twin: Twin, network: nx.MultiDiGraph
) -> None:
    # 5 joins the island's 91 and 90 joins the main streets: the sizes are
    # still 5 and 2, but other places are cut off, so the warning is repeated.
    with pytest.warns(NetworkWarning):
        split = twin.with_layer("network", _disconnected(network))
    G = split.network.copy()
    G.remove_edges_from(list(G.edges(90, keys=True)) + list(G.in_edges(90, keys=True)))
    G.remove_edges_from(list(G.edges(5, keys=True)) + list(G.in_edges(5, keys=True)))
    for u, v in ((90, 3), (3, 90), (5, 91), (91, 5)):
        G.add_edge(u, v, length_m=10.0, highway="service", oneway=False)
    with pytest.warns(
        NetworkWarning, match=r"2 disconnected components \(node counts 5, 2\)"
    ):
        moved = split.with_layer("network", G)
    assert sorted(map(sorted, nx.weakly_connected_components(moved.network))) == [
        [1, 2, 3, 4, 90],
        [5, 91],
    ]


def test_connected_graph_after_a_split_one_does_not_warn(
    twin: Twin, network: nx.MultiDiGraph
) -> None:
    with pytest.warns(NetworkWarning):
        split = twin.with_layer("network", _disconnected(network))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joined = split.with_layer("network", network)
    assert nx.number_weakly_connected_components(joined.network) == 1


def test_weakly_connected_one_way_loop_does_not_warn(twin: Twin) -> None:
    # 5->4->1 is one-way but the graph is weakly connected: no warning.
    assert nx.number_weakly_connected_components(twin.network) == 1


# -- projection ---------------------------------------------------------------------
def test_project_graph_moves_nodes_and_geometries(network: nx.MultiDiGraph) -> None:
    before = network.copy()
    G = project_graph(network, 4326)
    assert G is not network
    assert G.graph["crs"] == "EPSG:4326"
    tr = Transformer.from_crs(32650, 4326, always_xy=True)
    for n, d in network.nodes(data=True):
        lon, lat = tr.transform(d["x"], d["y"])
        assert G.nodes[n]["x"] == pytest.approx(lon, abs=1e-12)
        assert G.nodes[n]["y"] == pytest.approx(lat, abs=1e-12)
        assert 115.0 < lon < 118.0 and 39.0 < lat < 41.0
    bend = network.edges[1, 2, 1]["geometry"]
    moved = np.column_stack(tr.transform(*np.asarray(bend.coords).T))
    assert_allclose(np.asarray(G.edges[1, 2, 1]["geometry"].coords), moved, atol=1e-12)
    # Attributes other than coordinates are kept; the input is unchanged.
    assert G.edges[1, 2, 1]["length_m"] == bend.length
    assert network.graph["crs"] == before.graph["crs"]
    assert network.nodes[1] == before.nodes[1]
    assert network.edges[1, 2, 1]["geometry"].equals(bend)


def test_project_graph_round_trip(network: nx.MultiDiGraph) -> None:
    back = project_graph(project_graph(network, 4326), 32650)
    for n, d in network.nodes(data=True):
        assert back.nodes[n]["x"] == pytest.approx(d["x"], abs=1e-6)
        assert back.nodes[n]["y"] == pytest.approx(d["y"], abs=1e-6)


def test_project_graph_to_same_crs_is_a_copy(network: nx.MultiDiGraph) -> None:
    G = project_graph(network, "EPSG:32650")
    assert G is not network
    assert G.nodes[1] == network.nodes[1]


def test_project_graph_needs_a_crs(network: nx.MultiDiGraph) -> None:
    del network.graph["crs"]
    with pytest.raises(CRSError, match="has no CRS"):
        project_graph(network, 4326)


def test_with_layer_network_needs_the_twin_crs(
    twin: Twin, network: nx.MultiDiGraph
) -> None:
    G = project_graph(network, 4549)
    with pytest.raises(CRSError, match="project_graph"):
        twin.with_layer("network", G)
    derived = twin.with_layer("network", project_graph(G, twin.crs))
    assert derived.network.nodes[1]["x"] == pytest.approx(439_960.0, abs=1e-6)


# -- node and edge tables -----------------------------------------------------------
def test_graph_to_gdfs(twin: Twin) -> None:
    nodes, edges = graph_to_gdfs(twin.network)
    assert list(nodes["node_id"]) == [1, 2, 3, 4, 5]
    assert str(nodes["node_id"].dtype) == "int64"
    assert nodes.crs.equals(twin.crs)
    assert_allclose(nodes.geometry.x, nodes["x"])
    assert_allclose(nodes.geometry.y, nodes["y"])
    assert len(edges) == 8
    assert {
        "u",
        "v",
        "key",
        "length_m",
        "highway",
        "oneway",
        "speed_kph",
        "name",
        "surface",
    } <= set(edges.columns)
    assert str(edges["key"].dtype) == "int64"
    assert str(edges["u"].dtype) == "int64"
    assert edges.crs.equals(twin.crs)
    assert (edges.geom_type == "LineString").all()
    assert_allclose(edges["length_m"], shapely.length(edges.geometry.array))


def test_graph_tables_round_trip_in_memory(
    twin: Twin, assert_graphs_equal: GraphCheck
) -> None:
    nodes, edges = graph_to_gdfs(twin.network)
    G = graph_from_gdfs(nodes, edges, graph_attrs=dict(twin.network.graph))
    assert_graphs_equal(twin.network, G)
    assert G.graph == twin.network.graph


def test_graph_from_gdfs_takes_crs_from_frames(twin: Twin) -> None:
    nodes, edges = graph_to_gdfs(twin.network)
    G = graph_from_gdfs(nodes, edges)
    assert CRS.from_user_input(G.graph["crs"]).equals(twin.crs)


def test_graph_tables_of_empty_network() -> None:
    nodes, edges = graph_to_gdfs(empty_network(UTM50))
    assert len(nodes) == 0
    assert len(edges) == 0
    G = graph_from_gdfs(nodes, edges)
    assert G.number_of_nodes() == 0


def test_string_node_ids(
    network: nx.MultiDiGraph, assert_graphs_equal: GraphCheck
) -> None:
    G = nx.relabel_nodes(network, {n: f"n{n}" for n in network.nodes})
    H = validate_network(G, crs=UTM50)
    nodes, edges = graph_to_gdfs(H)
    assert nodes["node_id"].tolist() == ["n1", "n2", "n3", "n4", "n5"]
    assert_graphs_equal(H, graph_from_gdfs(nodes, edges, graph_attrs=dict(H.graph)))


def test_lonlat_nodes_declared_as_metres_are_refused(
    network: nx.MultiDiGraph, crs: str
) -> None:
    G = network.copy()
    for i, (_, d) in enumerate(G.nodes(data=True)):
        d["x"], d["y"] = 116.35 + i * 1e-4, 40.0 + i * 1e-4
    for _, _, d in G.edges(data=True):
        d.pop("geometry", None)
    with pytest.raises(CRSError, match=r"network.*longitude/latitude.*EPSG:4326"):
        validate_network(G, crs=CRS.from_user_input(crs))
