"""The street network: an osmnx-style :class:`networkx.MultiDiGraph`."""

from cim.network.graph import (
    empty_network,
    graph_from_gdfs,
    graph_to_gdfs,
    largest_component,
    project_graph,
    validate_network,
)

__all__ = [
    "empty_network",
    "graph_from_gdfs",
    "graph_to_gdfs",
    "largest_component",
    "project_graph",
    "validate_network",
]
