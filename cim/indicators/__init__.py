"""Planning indicators: functions returning Series aligned to their layer.

Momepy-style functions of layers (:mod:`cim.indicators.planning`,
:mod:`cim.indicators.spacing`), the area-weighted overlay that assigns
buildings and greens to parcels and to the site
(:mod:`cim.indicators.overlay`), and the registry through which compliance
rules find the function for their indicator name
(:mod:`cim.indicators.registry`). Every function returns a new
:class:`pandas.Series` with a ``name`` and a documented unit and leaves its
inputs unchanged.

Examples
--------
>>> import cim
>>> from cim.indicators import building_density
>>> twin = cim.datasets.load("beijing_haidian_cau")
>>> density = building_density(twin.buildings, twin.parcels)
>>> density.name, density.index.name
('building_density', 'parcel_id')
"""

from __future__ import annotations

from cim.indicators import _builtin  # noqa: F401  (registers the built-ins)
from cim.indicators.context import Context, building_class
from cim.indicators.overlay import Shares, overlay_shares
from cim.indicators.planning import (
    DWELLING_SIZE_CLASSES,
    GROUND_GREEN_KINDS,
    STOREY_CLASSES,
    average_dwelling_area,
    average_storeys,
    building_density,
    concentrated_green,
    concentrated_green_per_capita,
    dwelling_size_class,
    dwellings,
    far,
    green_factors,
    green_rate,
    ground_green_rate,
    is_housing,
    max_height,
    parking_spaces_per_household,
    planted_area,
    public_green_per_capita,
    residential_land_per_capita,
    residents,
    service_space_per_100_households,
    storey_class,
    surface_parking_per_household,
)
from cim.indicators.registry import (
    Evaluation,
    Indicator,
    available_indicators,
    declare_indicator,
    get_indicator,
    register_indicator,
)
from cim.indicators.spacing import front_spacing

__all__ = [
    "DWELLING_SIZE_CLASSES",
    "GROUND_GREEN_KINDS",
    "STOREY_CLASSES",
    "Context",
    "Evaluation",
    "Indicator",
    "Shares",
    "available_indicators",
    "average_dwelling_area",
    "average_storeys",
    "building_class",
    "building_density",
    "concentrated_green",
    "concentrated_green_per_capita",
    "declare_indicator",
    "dwelling_size_class",
    "dwellings",
    "far",
    "front_spacing",
    "get_indicator",
    "green_factors",
    "green_rate",
    "ground_green_rate",
    "is_housing",
    "max_height",
    "overlay_shares",
    "parking_spaces_per_household",
    "planted_area",
    "public_green_per_capita",
    "register_indicator",
    "residential_land_per_capita",
    "residents",
    "service_space_per_100_households",
    "storey_class",
    "surface_parking_per_household",
]
