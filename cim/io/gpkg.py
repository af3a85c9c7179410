"""The GeoPackage store: all layers, the network and metadata in one file.

Layout of a twin GeoPackage (QGIS opens it as it is):

- ``buildings``, ``parcels``, ``greens``, ``facilities``, ``site``: one
  feature table each, in the twin's CRS;
- ``network_nodes`` (points) and ``network_edges`` (lines, with ``u``, ``v``,
  ``key``): the street graph;
- ``cim_metadata``: an attribute table of ``key``/``value`` (JSON) rows with
  the name, CRS, sources, times, graph attributes and the dtype of every
  column, which makes the round trip lossless.

Writes are atomic: the file is written next to the target under a temporary
name and moved over it only when complete, so a crash leaves the previous file
intact.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio

from cim.errors import CIMWarning, InputFileError
from cim.io.files import atomic_path, check_input_file
from cim.layers import SCHEMAS
from cim.network.graph import graph_from_gdfs, graph_to_gdfs

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = ["FORMAT_VERSION", "read_gpkg", "write_gpkg"]

#: Version of the twin GeoPackage layout.
FORMAT_VERSION = 1
_META = "cim_metadata"
_NODES, _EDGES = "network_nodes", "network_edges"
_ELEMENTS = "elements"
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _geometry_type(gdf: gpd.GeoDataFrame, default: str) -> str:
    geoms = gdf.geometry
    types = set(geoms.geom_type.dropna())
    kind = str(types.pop()) if len(types) == 1 else ("Unknown" if types else default)
    if len(geoms) and bool(geoms.has_z.any()) and kind != "Unknown":
        kind += " Z"
    return kind


def _is_container(v: object) -> bool:
    return isinstance(v, (list, dict, tuple))


def _write_layer(
    path: Path, gdf: gpd.GeoDataFrame, layer: str, default: str
) -> list[str]:
    """Write one layer; return the columns stored as JSON text."""
    frame = gdf.copy()
    encoded = []
    for c in frame.columns:
        if c != frame.geometry.name and frame[c].dtype == object:
            # Lists and dicts (osmnx list attributes, tag dicts) are stored as
            # JSON text and decoded on read.
            if frame[c].map(_is_container).any():
                frame[c] = frame[c].map(
                    lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
                )
                encoded.append(str(c))
    pyogrio.write_dataframe(
        frame,
        path,
        layer=layer,
        driver="GPKG",
        geometry_type=_geometry_type(frame, default),
        promote_to_multi=False,
        append=path.exists(),
    )
    return encoded


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): str(t) for c, t in frame.dtypes.items() if c != "geometry"}


def write_gpkg(twin: Twin, path: str | os.PathLike[str]) -> Path:
    """Write a twin to a GeoPackage atomically.

    Parameters
    ----------
    twin
        The twin.
    path
        Target file; replaced only once the new file is complete.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    target = Path(path)
    # GDAL creates the temporary file itself; atomic_path moves it over the
    # target only once it is complete, and removes it on any error.
    with atomic_path(target, suffix=".tmp.gpkg") as tmp:
        dtypes: dict[str, dict[str, str]] = {}
        json_columns: dict[str, list[str]] = {}
        for name, gdf in twin.layers.items():
            json_columns[name] = _write_layer(
                tmp, gdf, name, default="Point" if name == "facilities" else "Polygon"
            )
            dtypes[name] = _dtypes(gdf)
        if len(twin.elements):
            pyogrio.write_dataframe(
                twin.elements, tmp, layer=_ELEMENTS, driver="GPKG", append=True
            )
            dtypes[_ELEMENTS] = _dtypes(twin.elements)
        nodes, edges = graph_to_gdfs(twin.network)
        json_columns[_NODES] = _write_layer(tmp, nodes, _NODES, default="Point")
        json_columns[_EDGES] = _write_layer(tmp, edges, _EDGES, default="LineString")
        dtypes[_NODES] = _dtypes(nodes)
        dtypes[_EDGES] = _dtypes(edges)
        meta = twin.metadata
        graph_attrs = dict(twin.network.graph)
        rows = {
            "format": "cim-twin",
            "format_version": FORMAT_VERSION,
            "name": meta["name"],
            "crs": twin.crs.to_wkt(),
            "crs_string": twin.crs.to_string(),
            "sources": meta.get("sources", []),
            "created": meta.get("created"),
            "modified": meta.get("modified"),
            "graph": graph_attrs,
            "dtypes": dtypes,
            "json_columns": {k: v for k, v in json_columns.items() if v},
            "extra": {
                k: v
                for k, v in meta.items()
                if k not in {"name", "crs", "sources", "created", "modified"}
            },
        }
        table = pd.DataFrame(
            {
                "key": list(rows),
                "value": [
                    json.dumps(v, ensure_ascii=False, default=str)
                    for v in rows.values()
                ],
            }
        )
        pyogrio.write_dataframe(table, tmp, layer=_META, driver="GPKG", append=True)
        _carry_engine_tables(target, tmp)
    return target


def _carry_engine_tables(old: Path, new: Path) -> None:
    """Copy the engine's other tables (``cim_*``: scenario branches ...) over.

    Saving a twin rewrites the file; tables that other parts of the engine keep
    in the same GeoPackage (e.g. ``cim_scenarios``) must survive it.
    """
    if not old.exists():
        return
    try:
        names = [str(n) for n in pyogrio.list_layers(old)[:, 0]]
    except pyogrio.errors.DataSourceError:
        return  # not a GeoPackage we can read: nothing of ours to keep
    for name in names:
        if name.startswith("cim_") and name != _META:
            table = pyogrio.read_dataframe(old, layer=name, read_geometry=False)
            pyogrio.write_dataframe(table, new, layer=name, driver="GPKG", append=True)


def _check_gpkg(path: str | os.PathLike[str]) -> Path:
    p = check_input_file(path, what="GeoPackage")
    with open(p, "rb") as f:
        head = f.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        msg = (
            f"{p}: not a GeoPackage (no SQLite header); give a .gpkg file, or "
            "import other formats with cim import / Twin.from_layers"
        )
        raise InputFileError(msg)
    return p


def _restore(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    for col, dt in dtypes.items():
        if col not in frame.columns:
            continue
        current = str(frame[col].dtype)
        if current == dt:
            continue
        try:
            if dt in ("object",):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
            else:
                frame[col] = frame[col].astype(dt)
        except (TypeError, ValueError):
            warnings.warn(
                f"column {col!r} could not be restored to {dt} (read as {current})",
                CIMWarning,
                stacklevel=3,
            )
    return frame


def read_gpkg(path: str | os.PathLike[str], **kwargs: Any) -> Twin:
    """Read a twin from a GeoPackage.

    A GeoPackage written by :meth:`Twin.save` is restored exactly. A GeoPackage
    drawn elsewhere (QGIS, a CAD export) is read too if its layers are named
    after the twin's (``buildings``, ``parcels``, ``greens``, ``facilities``,
    ``site``, ``network_nodes``/``network_edges``): absent layers are empty,
    absent optional columns take their documented defaults, geographic layers
    are projected to local UTM, and other layers are listed in a warning.

    Parameters
    ----------
    path
        The GeoPackage; it is only read.
    **kwargs
        Passed to :meth:`Twin.from_layers` for foreign files (``crs`` ...).

    Returns
    -------
    Twin

    Raises
    ------
    InputFileError
        If the file is missing, empty, not a GeoPackage or unreadable.
    """
    from cim.twin import Twin

    p = _check_gpkg(path)
    try:
        listed = pyogrio.list_layers(p)
    except pyogrio.errors.DataSourceError as exc:
        msg = f"{p}: cannot open the GeoPackage ({exc}); the file may be truncated"
        raise InputFileError(msg) from exc
    names = [str(n) for n in listed[:, 0]]
    meta: dict[str, Any] = {}
    if _META in names:
        table = pyogrio.read_dataframe(p, layer=_META, read_geometry=False)
        meta = {
            k: json.loads(v) for k, v in zip(table["key"], table["value"], strict=True)
        }
    known = {*SCHEMAS, _NODES, _EDGES, _META, _ELEMENTS}
    # Attribute tables named cim_* belong to the engine (cim_metadata, the
    # scenario branches in cim_scenarios written by scenarios.store ...).
    other = [n for n in names if n not in known and not n.startswith("cim_")]
    if other and not any(n in names for n in (*SCHEMAS, _NODES, _EDGES)):
        msg = (
            f"{p}: no layer is named after a twin layer (found {', '.join(other)}; "
            f"the twin's layers are {', '.join(SCHEMAS)}, {_NODES} + {_EDGES}); "
            "rename the file's layers to these names (QGIS: Rename Layer; ogr2ogr: "
            "-nln buildings), or in Python pass them by name, e.g. "
            f"Twin.from_layers(buildings=gpd.read_file(path, layer={other[0]!r}))"
        )
        raise InputFileError(msg)
    if other:
        warnings.warn(
            f"{p.name}: layers {', '.join(other)} are not twin layers and were not "
            f"read; name layers {', '.join(SCHEMAS)} to use them",
            CIMWarning,
            stacklevel=2,
        )
    dtypes = meta.get("dtypes", {})

    def layer(name: str) -> gpd.GeoDataFrame | None:
        if name not in names:
            return None
        try:
            gdf = pyogrio.read_dataframe(p, layer=name)
        except pyogrio.errors.DataLayerError as exc:
            msg = f"{p}: cannot read layer {name!r} ({exc})"
            raise InputFileError(msg) from exc
        if name in dtypes:
            gdf = _restore(gdf, dtypes[name])
        for col in meta.get("json_columns", {}).get(name, []):
            gdf[col] = (
                gdf[col]
                .astype(object)
                .map(lambda v: json.loads(v) if isinstance(v, str) else None)
            )
        return gdf

    frames = {name: layer(name) for name in SCHEMAS}
    elements = None
    if _ELEMENTS in names:
        elements = pd.DataFrame(
            pyogrio.read_dataframe(p, layer=_ELEMENTS, read_geometry=False)
        )
        elements = _restore(elements, dtypes.get(_ELEMENTS, {}))
    nodes, edges = layer(_NODES), layer(_EDGES)
    network = None
    if nodes is not None and edges is not None:
        for col in ("u", "v", "key"):
            if col not in edges.columns:
                msg = f"{p}: layer {_EDGES!r} lacks column {col!r}"
                raise InputFileError(msg)
        if "node_id" not in nodes.columns:
            msg = f"{p}: layer {_NODES!r} lacks column 'node_id'"
            raise InputFileError(msg)
        if "x" not in nodes.columns:
            nodes["x"] = nodes.geometry.x
            nodes["y"] = nodes.geometry.y
        graph_attrs = dict(meta.get("graph", {}))
        if "crs" not in graph_attrs and nodes.crs is not None:
            graph_attrs["crs"] = nodes.crs.to_string()
        network = graph_from_gdfs(nodes, edges, graph_attrs=graph_attrs)
    elif (nodes is None) != (edges is None):
        msg = f"{p}: has only one of {_NODES!r} and {_EDGES!r}; give both or neither"
        raise InputFileError(msg)

    if meta.get("format") == "cim-twin":
        from pyproj import CRS

        metadata = {
            "sources": meta.get("sources", []),
            "created": meta.get("created"),
            "modified": meta.get("modified"),
            **meta.get("extra", {}),
        }
        # Stored estimates are already flagged; nothing is re-estimated.
        return Twin(
            elements=elements,
            crs=CRS.from_wkt(meta["crs"]),
            name=meta.get("name", p.stem),
            network=network,
            metadata=metadata,
            estimate=False,
            warn_components=False,
            **{k: v for k, v in frames.items() if v is not None},
        )
    twin = Twin.from_layers(
        name=p.stem,
        network=network,
        metadata={"sources": [{"name": p.name}]},
        **{k: v for k, v in frames.items() if v is not None},
        **kwargs,
    )
    return twin if elements is None else twin.with_layer("elements", elements)
