"""The street network: an osmnx-style :class:`networkx.MultiDiGraph`.

:mod:`cim.network.graph` holds the graph model; :mod:`cim.network.modes`
makes walk, bike and drive graphs with gates; :mod:`cim.network.snap` joins
buildings and facilities to them; :mod:`cim.network.circles` and
:mod:`cim.network.isochrones` measure travel circles.
"""

from cim.network.circles import (
    LIFE_CIRCLE_DISTANCE_M,
    LifeCircleCoverage,
    Places,
    TravelCircles,
    accessibility,
    life_circle_coverage,
    life_circle_walk_m,
    required_categories,
    travel_circles,
)
from cim.network.graph import (
    empty_network,
    graph_from_gdfs,
    graph_to_gdfs,
    largest_component,
    project_graph,
    validate_network,
)
from cim.network.isochrones import isochrone_polygons, travel_time_circles
from cim.network.modes import (
    BIKE_SPEED_KPH,
    MODES,
    WALK_SPEED_KPH,
    OpeningHours,
    OpeningHoursError,
    RoutingGraph,
    edit_gates,
    gate_overrides,
    gate_table,
    mode_graph,
    parse_opening_hours,
)
from cim.network.snap import snap

__all__ = [
    "BIKE_SPEED_KPH",
    "LIFE_CIRCLE_DISTANCE_M",
    "MODES",
    "WALK_SPEED_KPH",
    "LifeCircleCoverage",
    "OpeningHours",
    "OpeningHoursError",
    "Places",
    "RoutingGraph",
    "TravelCircles",
    "accessibility",
    "edit_gates",
    "empty_network",
    "gate_overrides",
    "gate_table",
    "graph_from_gdfs",
    "graph_to_gdfs",
    "isochrone_polygons",
    "largest_component",
    "life_circle_coverage",
    "life_circle_walk_m",
    "mode_graph",
    "parse_opening_hours",
    "project_graph",
    "required_categories",
    "snap",
    "travel_circles",
    "travel_time_circles",
    "validate_network",
]
