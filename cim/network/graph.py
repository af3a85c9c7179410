"""Street graph model, validation and conversion to and from GeoDataFrames.

The network follows osmnx's model without depending on osmnx: a
:class:`networkx.MultiDiGraph` with the CRS in ``G.graph["crs"]``, nodes with
``x`` and ``y`` in that CRS, and edges with ``length_m`` [m], ``highway``,
``oneway`` and, where known, ``speed_kph`` [km/h]. Every edge carries a
LineString ``geometry`` oriented from ``u`` to ``v`` (a straight line is made
for edges that lack one, as osmnx does when it converts graphs).
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from cim.crs import (
    check_distortion,
    check_metric_crs,
    coords_look_geographic,
    resolve_crs,
)
from cim.errors import CRSError, LayerSchemaError, NetworkWarning, RepairWarning

__all__ = [
    "component_sizes",
    "empty_network",
    "graph_from_gdfs",
    "graph_to_gdfs",
    "largest_component",
    "project_graph",
    "validate_network",
]

_LAYER = "network"


def empty_network(crs: CRS) -> nx.MultiDiGraph:
    """An empty street graph in ``crs``."""
    return nx.MultiDiGraph(crs=resolve_crs(crs).to_string())


def largest_component(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The largest weakly connected component of a street graph, as a new graph.

    Parameters
    ----------
    G
        A street graph.

    Returns
    -------
    networkx.MultiDiGraph
    """
    if G.number_of_nodes() == 0:
        return G.copy()
    nodes = max(nx.weakly_connected_components(G), key=len)
    return G.subgraph(nodes).copy()


def project_graph(G: nx.MultiDiGraph, crs: Any) -> nx.MultiDiGraph:
    """Reproject a street graph (node coordinates and edge geometries).

    Parameters
    ----------
    G
        Graph with ``G.graph["crs"]`` and node ``x``/``y``.
    crs
        Target CRS.

    Returns
    -------
    networkx.MultiDiGraph
        A new graph; ``G`` is not modified.
    """
    src = _graph_crs(G)
    dst = resolve_crs(crs)
    H = G.copy()
    H.graph["crs"] = dst.to_string()
    if src.equals(dst) or H.number_of_nodes() == 0:
        return H
    tr = Transformer.from_crs(src, dst, always_xy=True)
    ids = list(H.nodes)
    xy = np.array([(H.nodes[n]["x"], H.nodes[n]["y"]) for n in ids], dtype="float64")
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    for n, xi, yi in zip(ids, x, y, strict=True):
        H.nodes[n]["x"] = float(xi)
        H.nodes[n]["y"] = float(yi)
    edges = [
        (u, v, k) for u, v, k, g in H.edges(keys=True, data="geometry") if g is not None
    ]
    if edges:
        geoms = np.array([H.edges[e]["geometry"] for e in edges], dtype=object)
        moved = shapely.transform(
            geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
        )
        for e, g in zip(edges, moved, strict=True):
            H.edges[e]["geometry"] = g
    return H


def _graph_crs(G: nx.MultiDiGraph) -> CRS:
    crs = G.graph.get("crs")
    if crs is None:
        msg = (
            "layer 'network' has no CRS in G.graph['crs']; set it, e.g. "
            "G.graph['crs'] = 'EPSG:4326'"
        )
        raise CRSError(msg)
    return resolve_crs(crs)


def component_sizes(G: nx.MultiDiGraph) -> list[int]:
    """Node counts of the weakly connected components, largest first."""
    return sorted((len(c) for c in nx.weakly_connected_components(G)), reverse=True)


def validate_network(
    G: Any,
    *,
    crs: CRS,
    warn_components: bool = True,
    previous: nx.MultiDiGraph | None = None,
) -> nx.MultiDiGraph:
    """Check a street graph and return a conforming copy in the twin's CRS.

    Accepts graphs made by osmnx: ``length`` [m] is copied to ``length_m``
    where ``length_m`` is missing. Edges without ``length_m`` get the length of
    their geometry (or of the straight line between their nodes), with a
    :class:`~cim.errors.RepairWarning`. A graph in several weakly connected
    components is kept, with a :class:`~cim.errors.NetworkWarning` giving the
    component sizes, unless it has the very components of ``previous``.

    Parameters
    ----------
    G
        A :class:`networkx.MultiDiGraph`.
    crs
        The twin's metric CRS; ``G.graph["crs"]`` must equal it.
    warn_components
        Warn when the graph has several components (off when reading a twin
        that was checked on import; :meth:`cim.Twin.summary` reports them).
    previous
        The checked graph that ``G`` replaces (a twin's network, in
        :meth:`cim.Twin.with_layer`). When ``G`` splits into the same
        components (the same nodes, grouped alike), whatever its attributes,
        the component warning is not given again: it was given, or turned
        off, when ``previous`` was checked.

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    LayerSchemaError
        If ``G`` is not a MultiDiGraph or nodes lack coordinates.
    CRSError
        If the graph's CRS is missing, not metric or not the twin's.
    """
    if not isinstance(G, nx.MultiDiGraph):
        msg = (
            f"layer 'network' must be a networkx.MultiDiGraph, got {type(G).__name__}; "
            "convert it with nx.MultiDiGraph(G)"
        )
        raise LayerSchemaError(msg, layer=_LAYER)
    gcrs = check_metric_crs(_graph_crs(G), layer=_LAYER)
    if not gcrs.equals(crs):
        msg = (
            f"layer 'network' is in {gcrs.to_string()} but the twin is in "
            f"{crs.to_string()}; reproject it with "
            "cim.network.project_graph(G, twin.crs)"
        )
        raise CRSError(msg)
    H = G.copy()
    H.graph["crs"] = crs.to_string()
    bad = [
        n
        for n, d in H.nodes(data=True)
        if not (_finite(d.get("x")) and _finite(d.get("y")))
    ]
    if bad:
        msg = (
            f"layer 'network': nodes {bad[:5]} lack numeric 'x'/'y' coordinates; "
            "every node needs x and y in the graph's CRS"
        )
        raise LayerSchemaError(msg, layer=_LAYER, column="x", feature_id=bad[:5])
    for _, d in H.nodes(data=True):
        d["x"], d["y"] = float(d["x"]), float(d["y"])
    if H.number_of_nodes():
        xy = np.array([(d["x"], d["y"]) for _, d in H.nodes(data=True)])
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        if coords_look_geographic((float(x0), float(y0), float(x1), float(y1)), crs):
            msg = (
                f"layer 'network' declares {crs.to_string()} (metres) but its node "
                "coordinates look like longitude/latitude degrees; set "
                "G.graph['crs'] = 'EPSG:4326' and build the twin with "
                "Twin.from_layers, which projects it"
            )
            raise CRSError(msg)
        # Refuses only; the twin warns once for all its layers about the CRS's
        # area of use.
        check_distortion(
            (float(x0), float(y0), float(x1), float(y1)), crs, layer=_LAYER, warn=False
        )
    repaired = 0
    for u, v, data in H.edges(data=True):
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString(
                [(H.nodes[u]["x"], H.nodes[u]["y"]), (H.nodes[v]["x"], H.nodes[v]["y"])]
            )
            data["geometry"] = geom
        if "length_m" not in data:
            if "length" in data:
                data["length_m"] = float(data["length"])
            else:
                data["length_m"] = float(geom.length)
                repaired += 1
        for key, default in (("highway", ""), ("oneway", False)):
            data.setdefault(key, default)
    # Uniform attributes, so that the graph survives a round trip through
    # node and edge tables: an attribute absent on some edges becomes None.
    _uniform([d for _, _, d in H.edges(data=True)])
    _uniform([d for _, d in H.nodes(data=True)])
    if repaired:
        warnings.warn(
            f"layer 'network': {repaired} edges had no length_m; used their "
            "geometry length in the graph's CRS",
            RepairWarning,
            stacklevel=3,
        )
    if H.number_of_nodes() and warn_components:
        parts = list(nx.weakly_connected_components(H))
        _COMPONENTS[H] = parts
        if len(parts) > 1 and not _same_components(parts, previous):
            sizes = sorted(map(len, parts), reverse=True)
            shown = ", ".join(map(str, sizes[:8])) + (" ..." if len(sizes) > 8 else "")
            warnings.warn(
                f"layer 'network' has {len(sizes)} disconnected components "
                f"(node counts {shown}); places in the small components cannot "
                "reach the rest. Keep the largest with "
                "cim.network.largest_component or join the gaps",
                NetworkWarning,
                stacklevel=3,
            )
    return H


#: Weakly connected components of each graph `validate_network` returned, so
#: that the next `Twin.with_layer("network", ...)` compares against them
#: without recomputing (the twin's graphs are read-only).
_COMPONENTS: weakref.WeakKeyDictionary[nx.MultiDiGraph, list[set[Any]]] = (
    weakref.WeakKeyDictionary()
)


def _same_components(parts: list[set[Any]], previous: nx.MultiDiGraph | None) -> bool:
    """Whether ``previous`` has exactly the weakly connected components ``parts``."""
    if previous is None or previous.number_of_nodes() != sum(map(len, parts)):
        return False
    known = _COMPONENTS.get(previous)
    if known is None:
        known = list(nx.weakly_connected_components(previous))
    if len(known) != len(parts):
        return False
    label = {n: i for i, part in enumerate(known) for n in part}
    # As many components and nodes: equal if each part lies in one of them.
    for part in parts:
        first = next(iter(part))
        if first not in label or any(label.get(n) != label[first] for n in part):
            return False
    return True


def _uniform(records: list[dict[str, Any]]) -> None:
    keys: set[str] = set().union(*(r.keys() for r in records)) if records else set()
    for key in keys:
        present = [r[key] for r in records if key in r]
        numeric = all(
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))
            for v in present
            if v is not None
        )
        fill = float("nan") if numeric else None
        for r in records:
            r.setdefault(key, fill)
            if r[key] is None and numeric:
                r[key] = fill


def _finite(v: object) -> bool:
    try:
        return bool(np.isfinite(float(v)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def graph_to_gdfs(G: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges of a street graph as GeoDataFrames.

    Parameters
    ----------
    G
        A validated street graph.

    Returns
    -------
    nodes : geopandas.GeoDataFrame
        Column ``node_id`` plus node attributes, Point geometry.
    edges : geopandas.GeoDataFrame
        Columns ``u``, ``v``, ``key`` plus edge attributes, LineString geometry.
    """
    crs = G.graph.get("crs")
    ids = list(G.nodes)
    ndata = [dict(d) for _, d in G.nodes(data=True)]
    nodes = pd.DataFrame(ndata, index=range(len(ids)))
    nodes.insert(0, "node_id", pd.Series(ids, dtype=_id_dtype(ids)))
    xs = nodes["x"].to_numpy("float64") if len(ids) else np.empty(0)
    ys = nodes["y"].to_numpy("float64") if len(ids) else np.empty(0)
    nodes_gdf = gpd.GeoDataFrame(nodes, geometry=shapely.points(xs, ys), crs=crs)

    rows = []
    for u, v, k, d in G.edges(keys=True, data=True):
        row = {"u": u, "v": v, "key": k}
        row.update(d)
        rows.append(row)
    edges = pd.DataFrame(rows, columns=None if rows else ["u", "v", "key", "geometry"])
    geom = edges.pop("geometry") if len(rows) else pd.Series([], dtype=object)
    edges_gdf = gpd.GeoDataFrame(
        edges, geometry=np.asarray(geom, dtype=object), crs=crs
    )
    if len(rows):
        for c in ("u", "v"):
            edges_gdf[c] = edges_gdf[c].astype(nodes_gdf["node_id"].dtype)
        edges_gdf["key"] = edges_gdf["key"].astype("int64")
    return nodes_gdf, edges_gdf


def _id_dtype(ids: list[Any]) -> str:
    if ids and all(isinstance(i, (int, np.integer)) for i in ids):
        return "int64"
    return "object" if ids else "int64"


def graph_from_gdfs(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    graph_attrs: dict[str, Any] | None = None,
) -> nx.MultiDiGraph:
    """Rebuild a street graph from its node and edge GeoDataFrames.

    Parameters
    ----------
    nodes
        As returned by :func:`graph_to_gdfs`.
    edges
        As returned by :func:`graph_to_gdfs`.
    graph_attrs
        Graph attributes; ``crs`` defaults to the frames' CRS.

    Returns
    -------
    networkx.MultiDiGraph
    """
    attrs = dict(graph_attrs or {})
    if "crs" not in attrs and nodes.crs is not None:
        attrs["crs"] = nodes.crs.to_string()
    G = nx.MultiDiGraph(**attrs)
    ncols = [c for c in nodes.columns if c not in ("node_id", nodes.geometry.name)]
    nfloat = {c for c in ncols if pd.api.types.is_float_dtype(nodes[c].dtype)}
    for nid, rec in zip(
        nodes["node_id"].tolist(), nodes[ncols].to_dict("records"), strict=True
    ):
        G.add_node(nid, **{k: _value(v, k in nfloat) for k, v in rec.items()})
    ecols = [
        c for c in edges.columns if c not in ("u", "v", "key", edges.geometry.name)
    ]
    efloat = {c for c in ecols if pd.api.types.is_float_dtype(edges[c].dtype)}
    geoms = edges.geometry.to_numpy()
    for u, v, k, rec, g in zip(
        edges["u"].tolist(),
        edges["v"].tolist(),
        edges["key"].tolist(),
        edges[ecols].to_dict("records"),
        geoms,
        strict=True,
    ):
        data = {c: _value(val, c in efloat) for c, val in rec.items()}
        data["geometry"] = g
        G.add_edge(u, v, key=int(k), **data)
    return G


def _value(v: Any, is_float: bool) -> Any:
    # Missing values are NaN in numeric attributes and None in the others.
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return float("nan") if is_float else None
    return v
