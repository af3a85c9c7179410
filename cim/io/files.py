"""Reading layer files with clear errors for missing, empty or unreadable files."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pyogrio

from cim.errors import InputFileError

__all__ = ["check_input_file", "read_layer_file"]


def check_input_file(path: str | os.PathLike[str], *, what: str = "file") -> Path:
    """Check that ``path`` is an existing, non-empty file.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for the message (e.g. ``"GeoPackage"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputFileError
        If the file does not exist, is a directory or is empty.
    """
    p = Path(path)
    if not p.exists():
        msg = f"{p}: no such file; check the path"
        raise InputFileError(msg)
    if not p.is_file():
        msg = f"{p}: is a directory, not a {what}"
        raise InputFileError(msg)
    if p.stat().st_size == 0:
        msg = f"{p}: the file is empty (0 bytes); re-export or re-download the {what}"
        raise InputFileError(msg)
    return p


def read_layer_file(
    path: str | os.PathLike[str], *, layer: str, source_layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read one vector layer with pyogrio, turning failures into InputFileError.

    Parameters
    ----------
    path
        Any file GDAL reads (GeoPackage, GeoJSON, Shapefile, FlatGeobuf ...).
    layer
        The twin layer it is meant for, for messages.
    source_layer
        Layer inside a multi-layer file; default: the first one.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    InputFileError
        If the file is missing, empty or cannot be read as vector data.
    """
    p = check_input_file(path, what=f"{layer} layer file")
    try:
        return gpd.read_file(p, layer=source_layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = (
            f"{p}: cannot read it as the {layer!r} layer ({first}); give a "
            "GeoPackage, GeoJSON or Shapefile"
        )
        raise InputFileError(msg) from exc
