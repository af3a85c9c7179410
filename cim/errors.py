"""Errors and warnings raised by the twin.

Every error names what is wrong (the layer, column, feature or file) and how to
fix it, so that a planner can act on the one-line message the command line
prints.
"""

from __future__ import annotations

__all__ = [
    "CIMError",
    "CIMWarning",
    "CRSError",
    "CRSWarning",
    "FontWarning",
    "InputFileError",
    "LayerSchemaError",
    "NetworkWarning",
    "RepairWarning",
]


class CIMError(Exception):
    """Base class of every error raised by cim-twin."""


class CRSError(CIMError, ValueError):
    """A layer is in a geographic or non-metre CRS, or CRSs do not match."""


class LayerSchemaError(CIMError, ValueError):
    """A layer does not follow its documented schema.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    layer
        Name of the layer (``buildings``, ``parcels`` ...).
    column
        Offending column, if any.
    feature_id
        Offending feature id(s), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        layer: str | None = None,
        column: str | None = None,
        feature_id: object = None,
    ) -> None:
        super().__init__(message)
        self.layer = layer
        self.column = column
        self.feature_id = feature_id


class InputFileError(CIMError, ValueError):
    """An input file is missing, empty, truncated or not of the expected format."""


class CIMWarning(UserWarning):
    """Base class of the warnings issued by cim-twin."""


class RepairWarning(CIMWarning):
    """Input was repaired (invalid geometry fixed, value estimated ...)."""


class CRSWarning(CIMWarning):
    """The data lie outside the area of use of their CRS (areas still accurate)."""


class FontWarning(CIMWarning):
    """No installed font can draw some text of a picture (Chinese: no CJK font)."""


class NetworkWarning(CIMWarning):
    """The street network has a property that may distort results."""
