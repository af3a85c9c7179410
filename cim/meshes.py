"""Building meshes of a twin: LoD1 prisms, LoD2 where the twin has surfaces.

`twin_meshes` turns the ``buildings`` layer into one `trimesh.Trimesh` per
building, in the layer's order, and `twin_scene` gathers them into a
`trimesh.Scene` with one node per building, which `cim.io.mesh.write_mesh`
exports and `cim.viz.render` draws. Coordinates stay in the twin's CRS [m],
with z up.

Every face carries a semantic code (`geometry.mesh.GROUND`, ``WALL``,
``ROOF`` or ``UNKNOWN``) in ``mesh.face_attributes["semantic"]``, and every
mesh records where it came from in ``mesh.metadata``: ``building_id`` and
``lod`` (``"1"`` for an extruded footprint, ``"2"`` for a mesh built from the
``surfaces`` layer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import trimesh

from geometry.mesh import GROUND, ROOF, UNKNOWN, WALL, extrude

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "LODS",
    "NAN_COLOR",
    "SEMANTIC_CODES",
    "SEMANTIC_COLORS",
    "building_colors",
    "local_origin",
    "twin_meshes",
    "twin_scene",
]

_log = logging.getLogger(__name__)

#: Accepted values of ``lod``.
LODS: Final = ("best", "1", "2")

#: RGBA colour [0-255] of each semantic code, used when no colour is asked for;
#: other codes (closure surfaces) take the colour of `geometry.mesh.UNKNOWN`.
SEMANTIC_COLORS: Final[dict[int, tuple[int, int, int, int]]] = {
    GROUND: (110, 110, 110, 255),
    WALL: (228, 224, 214, 255),
    ROOF: (196, 94, 72, 255),
    UNKNOWN: (180, 180, 180, 255),
}

#: RGBA colour [0-255] of buildings whose value is missing.
NAN_COLOR: Final = (160, 160, 160, 255)

#: Semantic codes by name, as `geometry.mesh` and `geometry.polygons3d` use
#: them (``closure``: a virtual surface closing a volume).
SEMANTIC_CODES: Final = {
    "ground": GROUND,
    "wall": WALL,
    "roof": ROOF,
    "closure": 3,
    "other": UNKNOWN,
}

#: Display units of column name suffixes, longest suffix first.
_SUFFIX_UNITS: Final = (
    ("_kwh", "kWh"),
    ("_kph", "km/h"),
    ("_min", "min"),
    ("_m2", "m²"),
    ("_m3", "m³"),
    ("_m", "m"),
    ("_s", "s"),
)

Lod: TypeAlias = Literal["best", "1", "2"]
Color: TypeAlias = str | Sequence[float] | None
_SurfaceMesher: TypeAlias = Callable[..., "list[trimesh.Trimesh | None]"]


def _surface_mesher() -> _SurfaceMesher | None:
    """`geometry.polygons3d.mesh_from_surfaces`, or None where it is absent."""
    try:
        from geometry.polygons3d import mesh_from_surfaces
    except ImportError:
        return None
    mesher: _SurfaceMesher = mesh_from_surfaces
    return mesher


def _check_lod(lod: object) -> str:
    key = str(lod)
    if key not in LODS:
        msg = f"invalid lod {lod!r}; expected one of {', '.join(map(repr, LODS))}"
        raise ValueError(msg)
    return key


def local_origin(twin: Twin) -> tuple[float, float, float]:
    """The minimum corner of the twin's bounds, a local origin for exports.

    Parameters
    ----------
    twin
        The twin.

    Returns
    -------
    tuple of float
        ``(x, y, z)`` [m] in the twin's CRS: the smallest x and y of all its
        layers, and z = 0. ``(0, 0, 0)`` for an empty twin.

    Examples
    --------
    >>> import cim
    >>> from cim.meshes import local_origin
    >>> x0, y0, z0 = local_origin(cim.datasets.load("beijing_haidian_cau"))
    >>> round(x0), round(y0), z0
    (443481, 4427416, 0.0)
    """
    mins = [layer.total_bounds[:2] for layer in twin.layers.values() if len(layer)]
    if not mins:
        return 0.0, 0.0, 0.0
    x0, y0 = np.min(np.asarray(mins, dtype=np.float64), axis=0)
    return float(x0), float(y0), 0.0


def twin_meshes(twin: Twin, *, lod: Lod = "best") -> list[trimesh.Trimesh | None]:
    """One mesh per building of the twin, in the order of ``twin.buildings``.

    Every building is extruded from its footprint to ``height_m`` (LoD1,
    `geometry.mesh.extrude`), standing on ``base_z_m`` where the buildings
    layer has that column and the value is known, else on z = 0. With
    ``lod="best"`` or ``"2"``, a building that has rows in ``twin.surfaces``
    gets instead the mesh that `geometry.polygons3d.mesh_from_surfaces` builds
    from them (LoD2), with open shells closed where its ``repair`` can (caps
    get the code ``SEMANTIC_CODES["closure"]``); a shell it cannot close is
    kept open, so check `geometry.measure.is_closed` before taking volumes.

    The LoD1 prism is kept, and the fact logged, where LoD2 is not possible:
    when ``geometry.polygons3d`` cannot be imported (logged as a warning with
    ``lod="2"``, at debug level otherwise), when a building's surfaces give
    no faces (likewise), or when ``mesh_from_surfaces`` rejects the layer
    with a `ValueError` (a warning).

    Parameters
    ----------
    twin
        The twin.
    lod
        ``"best"``: LoD2 where the twin has surfaces, LoD1 elsewhere; ``"2"``:
        the same, with a warning when LoD2 cannot be built; ``"1"``: LoD1
        prisms only.

    Returns
    -------
    list of trimesh.Trimesh or None
        ``len(twin.buildings)`` meshes in the twin's CRS [m], z up; None for a
        building without a mesh (missing footprint, or height NaN or
        ``<= 0``, with no surfaces). ``mesh.metadata`` holds ``building_id``
        and ``lod`` (``"1"`` or ``"2"``); ``mesh.face_attributes["semantic"]``
        the face codes of `geometry.mesh`.

    Raises
    ------
    ValueError
        If ``lod`` is not one of `LODS`.

    Examples
    --------
    >>> import cim
    >>> from cim.meshes import twin_meshes
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> meshes = twin_meshes(twin)
    >>> len(meshes) == len(twin.buildings), meshes[0].metadata["lod"]
    (True, '1')
    """
    key = _check_lod(lod)
    b = twin.buildings
    heights = b["height_m"].to_numpy(dtype=np.float64, na_value=np.nan)
    base_z: npt.NDArray[np.float64] | None = None
    if "base_z_m" in b.columns:
        base = pd.to_numeric(b["base_z_m"], errors="coerce")
        base_z = base.to_numpy(dtype=np.float64, na_value=np.nan)
        base_z = np.where(np.isfinite(base_z), base_z, 0.0)
    meshes = extrude(np.asarray(b.geometry.array), heights, base_z=base_z)
    ids = b["building_id"].astype(str).tolist()
    for bid, mesh in zip(ids, meshes, strict=True):
        if mesh is not None:
            mesh.metadata.update(building_id=bid, lod="1")
    if key != "1" and len(twin.surfaces):
        _use_surfaces(twin, meshes, ids, warn=key == "2")
    return meshes


def _use_surfaces(
    twin: Twin,
    meshes: list[trimesh.Trimesh | None],
    ids: list[str],
    *,
    warn: bool,
) -> None:
    """Replace the meshes of buildings that have surfaces by LoD2 meshes."""
    mesher = _surface_mesher()
    level = logging.WARNING if warn else logging.DEBUG
    surfaces = twin.surfaces
    if mesher is None:
        _log.log(
            level,
            "geometry.polygons3d is not available: %d buildings with surfaces "
            "are drawn as LoD1 prisms",
            surfaces["building_id"].nunique(),
        )
        return
    group = pd.Index(ids).get_indexer(surfaces["building_id"].astype(str))
    try:
        lod2 = mesher(
            np.asarray(surfaces.geometry.array),
            group=group,
            n=len(ids),
            semantic=surfaces["semantic"].astype(str).to_numpy(),
            repair=True,
        )
    except ValueError as exc:
        _log.warning("surfaces refused, LoD1 prisms kept for all buildings: %s", exc)
        return
    for i in np.unique(group):
        mesh = lod2[i]
        if mesh is None or len(mesh.faces) == 0:
            _log.log(level, "building %r: no LoD2 faces; LoD1 prism kept", ids[i])
            continue
        semantic = mesh.face_attributes.get("semantic")
        if semantic is None or len(semantic) != len(mesh.faces):
            mesh.face_attributes["semantic"] = np.full(
                len(mesh.faces), UNKNOWN, dtype=np.int8
            )
        mesh.metadata.update(building_id=ids[i], lod="2")
        meshes[i] = mesh


def _column_values(
    buildings: pd.DataFrame, column: str
) -> tuple[npt.NDArray[np.float64], list[str] | None]:
    """Values of a buildings column as floats, or as category codes.

    Returns ``(values, None)`` for a numeric column (NaN where missing) and
    ``(codes, categories)`` for any other (codes index ``categories``, NaN
    where missing). An unknown column raises `KeyError` naming the choices.
    """
    if column not in buildings.columns or column == buildings.geometry.name:
        numeric = [
            str(c)
            for c in buildings.columns
            if c != buildings.geometry.name and _is_numeric(buildings[c])
        ]
        other = [
            str(c)
            for c in buildings.columns
            if c != buildings.geometry.name and str(c) not in numeric
        ]
        msg = (
            f"no buildings column {column!r}; numeric columns: "
            f"{', '.join(numeric) or 'none'}; categorical columns: "
            f"{', '.join(other) or 'none'}"
        )
        raise KeyError(msg)
    series = buildings[column]
    if _is_numeric(series):
        values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        return values, None
    present = series.notna() & (series.astype(str) != "")
    labels = series[present].astype(str)
    categories = sorted(labels.unique().tolist())
    codes = np.full(len(series), np.nan)
    codes[present.to_numpy()] = pd.Categorical(labels, categories=categories).codes
    return codes, categories


def _is_numeric(series: pd.Series) -> bool:
    return bool(
        pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    )


def _column_label(column: str) -> str:
    """Column name with its unit, e.g. ``"height_m [m]"``."""
    from cim.layers import SCHEMAS

    unit = ""
    try:
        unit = SCHEMAS["buildings"].column(column).unit
    except KeyError:
        pass
    if unit in ("", "-"):
        unit = next((u for s, u in _SUFFIX_UNITS if column.endswith(s)), "")
    unit = {"m2": "m²", "m3": "m³", "[-]": "-"}.get(unit, unit)
    return f"{column} [{unit}]" if unit else column


def _category_colors(categories: Sequence[str]) -> npt.NDArray[np.uint8]:
    """``(k, 4)`` distinct RGBA colours [0-255], one per category.

    The schema's ``"unknown"`` (a value no source gave) is grey like missing
    values; the others take matplotlib's ``tab10`` colours in order, or
    ``tab20``'s beyond nine, leaving out their greys, kept for ``"unknown"``.
    """
    import matplotlib as mpl

    unknown = np.asarray([c == "unknown" for c in categories], dtype=bool)
    n = int((~unknown).sum())
    name, size, greys = ("tab10", 10, [7]) if n <= 9 else ("tab20", 20, [14, 15])
    colors = np.asarray(mpl.colormaps[name](np.arange(size)), dtype=np.float64)
    colors = np.delete(colors[:, :3], greys, axis=0)
    rgb = colors[np.arange(n) % colors.shape[0]]
    out = np.tile(np.asarray(NAN_COLOR, dtype=np.uint8), (len(categories), 1))
    out[~unknown, :3] = np.round(rgb * 255).astype(np.uint8)
    return out


def building_colors(
    twin: Twin, column: str, *, cmap: str = "viridis"
) -> npt.NDArray[np.uint8]:
    """RGBA colour of each building by the values of one buildings column.

    Numeric columns are mapped linearly from their minimum to their maximum
    through ``cmap``; other columns get one qualitative colour per value
    (matplotlib's ``tab10``, or ``tab20`` beyond ten values, in sorted order
    of the values). Missing values get `NAN_COLOR`, and so does the value
    ``"unknown"``, the schema's default for what no source gave.

    Parameters
    ----------
    twin
        The twin.
    column
        A column of ``twin.buildings``, e.g. ``"height_m"`` or ``"use"``.
    cmap
        Name of a matplotlib colormap, for numeric columns.

    Returns
    -------
    (n, 4) uint8
        RGBA [0-255] of each building, in the order of ``twin.buildings``.

    Raises
    ------
    KeyError
        If ``column`` is not a buildings column; the message lists them.

    Examples
    --------
    >>> import cim
    >>> from cim.meshes import building_colors
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> building_colors(twin, "height_m").shape
    (257, 4)
    """
    import matplotlib as mpl

    values, categories = _column_values(twin.buildings, column)
    out = np.tile(np.asarray(NAN_COLOR, dtype=np.uint8), (len(values), 1))
    known = np.isfinite(values)
    if categories is not None:
        palette = _category_colors(categories)
        out[known] = palette[values[known].astype(np.intp)]
        return out
    if known.any():
        lo, hi = float(values[known].min()), float(values[known].max())
        scaled = (values[known] - lo) / (hi - lo) if hi > lo else 0.5
        rgba = np.asarray(mpl.colormaps[cmap](scaled), dtype=np.float64)
        out[known] = np.round(rgba * 255).astype(np.uint8)
    return out


def _rgba(color: Sequence[float]) -> npt.NDArray[np.uint8]:
    """One RGB(A) colour: in [0, 1] if no value exceeds 1, else in [0, 255]."""
    c = np.asarray(color, dtype=np.float64).reshape(-1)
    if c.shape[0] not in (3, 4) or not np.isfinite(c).all():
        msg = f"invalid color {color!r}; expected 3 or 4 numbers (RGB or RGBA)"
        raise ValueError(msg)
    if c.max() <= 1.0:
        c = c * 255.0
    if c.shape[0] == 3:
        c = np.append(c, 255.0)
    return np.clip(np.round(c), 0, 255).astype(np.uint8)


def twin_scene(
    twin: Twin, *, color: Color = None, lod: Lod = "best", cmap: str = "viridis"
) -> trimesh.Scene:
    """The twin's buildings as a `trimesh.Scene`, one node per building.

    Parameters
    ----------
    twin
        The twin.
    color
        None to colour faces by their semantic code (`SEMANTIC_COLORS`:
        roofs red, walls light, grounds dark); the name of a buildings column
        to colour each building by its value (see `building_colors`); or one
        RGB(A) colour for all (in [0, 1] if no value exceeds 1, else in
        [0, 255]).
    lod
        Level of detail, see `twin_meshes`.
    cmap
        Matplotlib colormap for a numeric ``color`` column.

    Returns
    -------
    trimesh.Scene
        In the twin's CRS [m], z up. Each building with a mesh is a node and a
        geometry both named by its ``building_id``; the node's metadata and
        the mesh's ``metadata`` hold ``building_id`` and ``lod``, and the mesh
        keeps ``face_attributes["semantic"]``. Colours are face colours.
        ``scene.metadata`` holds the twin's ``name``, ``crs`` (a string),
        ``crs_wkt``, ``semantic_codes`` (name to code) and ``sources``.

    Raises
    ------
    KeyError
        If ``color`` names no buildings column.
    ValueError
        If ``lod`` or an RGB(A) ``color`` is invalid.

    Examples
    --------
    >>> import cim
    >>> from cim.meshes import twin_scene
    >>> scene = twin_scene(cim.datasets.load("beijing_haidian_cau"))
    >>> len(scene.geometry)
    257
    """
    per_building: npt.NDArray[np.uint8] | None = None
    uniform: npt.NDArray[np.uint8] | None = None
    if isinstance(color, str):
        per_building = building_colors(twin, color, cmap=cmap)
    elif color is not None:
        uniform = _rgba(color)
    meshes = twin_meshes(twin, lod=lod)
    semantic_palette = np.asarray(
        [SEMANTIC_COLORS[k] for k in (GROUND, WALL, ROOF, UNKNOWN)], dtype=np.uint8
    )
    scene = trimesh.Scene()
    for i, mesh in enumerate(meshes):
        if mesh is None:
            continue
        bid = str(mesh.metadata["building_id"])
        if per_building is not None:
            faces = np.broadcast_to(per_building[i], (len(mesh.faces), 4))
        elif uniform is not None:
            faces = np.broadcast_to(uniform, (len(mesh.faces), 4))
        else:
            sem = np.asarray(mesh.face_attributes["semantic"], dtype=np.intp)
            # GROUND, WALL, ROOF are rows 0, 1, 2; any other code is UNKNOWN.
            faces = semantic_palette[np.where((sem >= GROUND) & (sem <= ROOF), sem, 3)]
        mesh.visual = trimesh.visual.ColorVisuals(mesh, face_colors=faces)
        scene.add_geometry(
            mesh,
            node_name=bid,
            geom_name=bid,
            metadata={"building_id": bid, "lod": mesh.metadata["lod"]},
        )
    meta: dict[str, Any] = {
        "name": twin.name,
        "crs": twin.crs.to_string(),
        "crs_wkt": twin.crs.to_wkt(),
        "semantic_codes": dict(SEMANTIC_CODES),
        "sources": twin.metadata.get("sources", []),
    }
    scene.metadata.update(meta)
    return scene
