"""cim-twin: a community information model (CIM) digital twin engine.

The twin holds a community's buildings, parcels, greens, facilities and street
network in one projected metric CRS, checks designs against planning
rulebooks, measures travel circles and runs scenarios.

Examples
--------
>>> import cim
>>> twin = cim.datasets.load("beijing_haidian_cau")
>>> twin.summary()["layers"]["buildings"] > 0
True
"""

from __future__ import annotations

from cim import datasets
from cim.check import check
from cim.errors import (
    CIMError,
    CIMWarning,
    CRSError,
    CRSWarning,
    InputFileError,
    LayerSchemaError,
    NetworkWarning,
    RepairWarning,
)
from cim.io.gpkg import read_gpkg as read
from cim.network.circles import travel_circles
from cim.twin import Twin

__version__ = "0.1.0"

__all__ = [
    "CIMError",
    "CIMWarning",
    "CRSError",
    "CRSWarning",
    "InputFileError",
    "LayerSchemaError",
    "NetworkWarning",
    "RepairWarning",
    "Twin",
    "__version__",
    "check",
    "datasets",
    "read",
    "travel_circles",
]
