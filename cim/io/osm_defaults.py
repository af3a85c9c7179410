"""Defaults by OSM building type (``assets/building_types.csv``)."""

from __future__ import annotations

from functools import cache

import pandas as pd

from cim._assets import asset_path

__all__ = ["building_types", "default_floors_for"]


@cache
def building_types() -> pd.DataFrame:
    """The OSM building-type table, indexed by the ``building=*`` value."""
    return pd.read_csv(asset_path("building_types.csv")).set_index("building")


def default_floors_for(osm_building: pd.Series) -> pd.Series:
    """Default storeys for OSM ``building=*`` values (NaN where the type is unknown).

    Parameters
    ----------
    osm_building
        Raw ``building`` tag values.

    Returns
    -------
    pandas.Series
        Float storeys aligned to ``osm_building``.
    """
    table = building_types()["default_floors"].astype("float64")
    return osm_building.map(table).astype("float64")
