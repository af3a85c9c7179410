"""Layer files read with clear errors, and files written atomically."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from cim.crs import coords_look_geographic, resolve_crs
from cim.errors import CRSError, InputFileError, LayerSchemaError

__all__ = ["atomic_path", "check_input_file", "input_layer", "read_layer_file"]


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


def input_layer(data: Any, *, layer: str, what: str | None = None) -> gpd.GeoDataFrame:
    """A layer given by a caller: a GeoDataFrame, a GeoSeries or a vector file.

    The checks every entry point makes before reprojecting: a file is read
    with :func:`read_layer_file`, the CRS must be declared, and a CRS in
    metres must not hold longitude/latitude numbers.

    Parameters
    ----------
    data
        GeoDataFrame, GeoSeries or path of any file GDAL reads.
    layer
        The layer it becomes (for the error's ``layer``).
    what
        How to name it in messages; default ``"layer '<layer>'"`` (or the
        file, for a path).

    Returns
    -------
    geopandas.GeoDataFrame
        The data, not reprojected; a GeoSeries becomes a GeoDataFrame.

    Raises
    ------
    LayerSchemaError
        If ``data`` is of another type.
    CRSError
        If no CRS is declared, or metres are declared for degrees.
    InputFileError
        If the file is missing, empty or unreadable.
    """
    if isinstance(data, (str, os.PathLike)):
        what = what or f"layer {layer!r} (file {os.fspath(data)})"
        data = read_layer_file(data, layer=layer)
    what = what or f"layer {layer!r}"
    if isinstance(data, gpd.GeoSeries):
        data = gpd.GeoDataFrame(geometry=data)
    if not isinstance(data, gpd.GeoDataFrame):
        msg = (
            f"{what} must be a GeoDataFrame, a GeoSeries or a file path, got "
            f"{type(data).__name__}"
        )
        raise LayerSchemaError(msg, layer=layer)
    if data.crs is None:
        msg = (
            f"{what} has no CRS; declare it, e.g. gdf.set_crs('EPSG:4326') for "
            "longitude/latitude (for a shapefile, a .prj beside it)"
        )
        raise CRSError(msg)
    crs = resolve_crs(data.crs)
    if (
        not crs.is_geographic
        and len(data)
        and coords_look_geographic(tuple(data.total_bounds), crs)
    ):
        msg = (
            f"{what} declares {crs.to_string()} (metres) but its coordinates "
            "look like longitude/latitude degrees; declare the real CRS with "
            "gdf.set_crs('EPSG:4326', allow_override=True)"
        )
        raise CRSError(msg)
    return data


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


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    # Linux reports it in /proc; setting and restoring it instead would
    # briefly change it for every thread of the process.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    current = os.umask(0o022)
    os.umask(current)
    return current


def _file_mode(target: Path) -> int | None:
    """Permission bits for a file written to ``target``; None off POSIX."""
    if os.name != "posix":
        return None
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(
    target: Path, *, suffix: str = ".tmp", parents: bool = True
) -> Iterator[Path]:
    """A temporary path next to ``target``, moved over it if the block succeeds.

    Parameters
    ----------
    target
        The file to write.
    suffix
        Suffix of the temporary file (GDAL picks drivers by suffix).
    parents
        Create ``target``'s missing folders first; if False, a missing
        folder raises `FileNotFoundError` before anything is written.

    Yields
    ------
    pathlib.Path
        Where to write. It does not exist yet; on error it is removed and
        ``target`` is left as it was.

    Notes
    -----
    On POSIX the written file gets the permissions of the ``target`` it
    replaces, or those of any new file under the process umask
    (``0o666 & ~umask``, so 0644 under the usual umask 022), whatever mode
    the writer created it with.
    """
    if parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(target)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if mode is not None and tmp.is_file():
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
