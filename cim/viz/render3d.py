"""3D pictures of the twin with pyvista: buildings coloured by a column.

pyvista (and VTK) are imported inside `render`, never when this module is
imported. On a Linux machine without a display (no ``DISPLAY`` or
``WAYLAND_DISPLAY``), `render` asks VTK for an EGL render window before VTK is
first imported, unless ``VTK_DEFAULT_OPENGL_WINDOW`` is already set: VTK's
default X window cannot open there. Import `cim.viz` before anything that
imports VTK for this to take effect.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import shapely

from cim.meshes import (
    NAN_COLOR,
    Lod,
    _category_colors,
    _column_label,
    _column_values,
    local_origin,
    twin_meshes,
)
from cim.viz._furniture import OSM_ATTRIBUTION, is_osm
from cim.viz._scene import (
    CAMERAS,
    add_credit,
    add_title,
    anti_alias,
    check_camera,
    headless,
    import_pyvista,
    nice_ticks,
    place_camera,
    save_screenshot,
    screen_px,
    style_scalar_bar,
    text_width,
    title_top,
)
from geometry.mesh import combine

if TYPE_CHECKING:
    import pyvista as pv

    from cim.twin import Twin

__all__ = ["CAMERAS", "render"]

_log = logging.getLogger(__name__)

_SITE_COLOR: Final = "#ece8df"
_GREEN_COLOR: Final = "#b9d7a8"
_ROAD_COLOR: Final = "#9a9a9a"
_PLAIN_COLOR: Final = "#dcd6ca"
#: Font sizes of the scalar bar's title and labels [points].
_BAR_TITLE_PT: Final = 18
_BAR_LABEL_PT: Final = 15
#: Left edge and width of a numeric scalar bar, 0 to 1 of the picture [-].
_BAR_X: Final = 0.86
_BAR_W: Final = 0.04
#: Left edge of the colour blocks of a category legend [-].
_KEY_X: Final = 0.92


def _triangles(
    geoms: npt.NDArray[np.object_], z: float, origin: tuple[float, float, float]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Points and triangles of polygons laid flat at local height ``z`` [m]."""
    polys = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    polys = polys[np.isin(shapely.get_type_id(polys), (3, 6))]
    if polys.shape[0] == 0:
        return np.empty((0, 3)), np.empty((0, 3), dtype=np.int64)
    tri = shapely.constrained_delaunay_triangles(polys)
    xy = shapely.get_coordinates(tri).reshape(-1, 4, 2)[:, :3].reshape(-1, 2)
    points = np.column_stack(
        [xy[:, 0] - origin[0], xy[:, 1] - origin[1], np.full(len(xy), z)]
    )
    return points, np.arange(len(points), dtype=np.int64).reshape(-1, 3)


def _flat(
    pvm: Any, geoms: npt.NDArray[np.object_], z: float, origin: tuple[float, ...]
) -> Any:
    points, faces = _triangles(geoms, z, (origin[0], origin[1], origin[2]))
    if not len(faces):
        return None
    return pvm.PolyData.from_regular_faces(points, faces)


def _roads(
    pvm: Any, twin: Twin, z: float, origin: tuple[float, ...], extent: shapely.Polygon
) -> Any:
    """The street network's edges within ``extent``, as polylines at ``z`` [m]."""
    lines = np.asarray(
        [
            d["geometry"]
            for _, _, d in twin.network.edges(data=True)
            if isinstance(d.get("geometry"), shapely.LineString)
        ],
        dtype=object,
    )
    if not len(lines):
        return None
    parts = shapely.get_parts(shapely.intersection(lines, extent))
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING]
    if not len(parts):
        return None
    coords, index = shapely.get_coordinates(parts, return_index=True)
    points = np.column_stack(
        [coords[:, 0] - origin[0], coords[:, 1] - origin[1], np.full(len(coords), z)]
    )
    counts = np.bincount(index)
    starts = np.cumsum(counts) - counts
    cells = [np.r_[c, np.arange(s, s + c)] for s, c in zip(starts, counts, strict=True)]
    return pvm.PolyData(points, lines=np.concatenate(cells))


def _add_ground(
    pvm: Any,
    plotter: Any,
    twin: Twin,
    origin: tuple[float, float, float],
    points: npt.NDArray[np.float64],
    z: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Draw the site, greens and streets at ``z``; return the extent to frame."""
    o = np.asarray(origin[:2])
    site = np.asarray(twin.site.geometry.array)
    lo = np.full(2, np.inf)
    hi = np.full(2, -np.inf)
    if len(points):
        lo, hi = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    if len(site):
        b = shapely.total_bounds(site)
        lo, hi = np.minimum(lo, b[:2] - o), np.maximum(hi, b[2:] - o)
    if not np.isfinite([*lo, *hi]).all():
        return np.zeros(2), np.ones(2)
    if not len(site):
        pad = 0.05 * float(np.max(hi - lo))
        site = np.array([shapely.box(*(lo - pad + o), *(hi + pad + o))])
    ground = _flat(pvm, site, z - 0.05, origin)
    if ground is not None:
        plotter.add_mesh(ground, color=_SITE_COLOR, lighting=False)
    greens = _flat(pvm, np.asarray(twin.greens.geometry.array), z + 0.03, origin)
    if greens is not None:
        plotter.add_mesh(greens, color=_GREEN_COLOR, lighting=False)
    pad = 0.04 * float(np.max(hi - lo))
    window = shapely.box(*(lo - pad + o), *(hi + pad + o))
    roads = _roads(pvm, twin, z + 0.06, origin, window)
    if roads is not None:
        plotter.add_mesh(
            roads, color=_ROAD_COLOR, line_width=screen_px(1.0), lighting=False
        )
    return lo, hi


def _add_coloured(
    plotter: Any,
    buildings: Any,
    label: str,
    categories: list[str] | None,
    cmap: str,
    style: dict[str, Any],
) -> float:
    """Draw buildings coloured by their cell data ``label``, with its bar.

    Returns the left edge of the bar and its text, 0 to 1 of the picture.
    """
    import matplotlib.colors as mcolors

    width = plotter.window_size[0]
    values = np.asarray(buildings.cell_data[label], dtype=np.float64)
    missing = bool(np.isnan(values).any())
    nan_rgb = tuple(c / 255 for c in NAN_COLOR[:3])
    bar: dict[str, Any] = {
        "title": label,
        "title_font_size": _BAR_TITLE_PT,
        "label_font_size": _BAR_LABEL_PT,
        "color": "black",
        "nan_annotation": missing,
    }
    ticks: npt.NDArray[np.float64] | None = None
    fmt: str | None = None
    if categories is not None:
        # Values top-down in sorted order: VTK draws the first at the bottom.
        k = max(len(categories), 1)
        palette = _category_colors(categories)[::-1] / 255.0
        buildings.cell_data[label] = k - 1 - values
        height = min(0.045 * (k + missing) + 0.05, 0.7)
        bar.update(
            vertical=True,
            n_labels=0,
            position_x=_KEY_X,
            position_y=0.75 - height,  # top-aligned with a numeric bar
            width=_BAR_W,
            height=height,
        )
        plotter.add_mesh(
            buildings,
            scalars=label,
            cmap=mcolors.ListedColormap(palette),
            clim=(-0.5, k - 0.5),
            n_colors=k,
            annotations={float(k - 1 - i): c for i, c in enumerate(categories)},
            nan_color=nan_rgb,
            scalar_bar_args=bar,
            **style,
        )
        # The names stand left of the colour blocks.
        names = [*categories, "no data"] if missing else categories
        longest = max((text_width(c, _BAR_LABEL_PT, width) for c in names), default=0)
        left = _KEY_X - longest - 0.02
        left = min(
            left, _KEY_X + _BAR_W / 2 - text_width(label, _BAR_TITLE_PT, width) / 2
        )
    else:
        known = values[np.isfinite(values)]
        lo = float(known.min()) if known.size else 0.0
        hi = float(known.max()) if known.size else 1.0
        integral = bool(known.size) and bool(np.all(known == np.round(known)))
        # Round labels (floors as whole numbers), not the range split in four.
        ticks, fmt = nice_ticks(lo, hi, integer=integral)
        bar.update(
            vertical=True,
            position_x=_BAR_X,
            position_y=0.25,
            width=_BAR_W,
            height=0.5,
            n_labels=len(ticks),
            fmt=fmt,
        )
        plotter.add_mesh(
            buildings,
            scalars=label,
            cmap=cmap,
            clim=(lo, hi) if hi > lo else (lo - 0.5, lo + 0.5),
            nan_color=nan_rgb,
            scalar_bar_args=bar,
            **style,
        )
        left = _BAR_X + _BAR_W / 2 - text_width(label, _BAR_TITLE_PT, width) / 2
    actor = plotter.scalar_bar
    if missing:
        actor.SetNanAnnotation("no data")
    style_scalar_bar(actor, ticks=ticks, fmt=fmt)
    if categories is not None:
        actor.SetTextPositionToSucceedScalarBar()
    return max(min(left, _BAR_X) - 0.01, 0.5)


def render(
    twin: Twin,
    *,
    color: str | None = "height_m",
    path: str | os.PathLike[str] | None = None,
    window_size: tuple[int, int] = (1200, 900),
    cmap: str = "viridis",
    camera: str | Sequence[Any] = "iso",
    show_edges: bool = False,
    title: str | None = None,
    lod: Lod = "best",
) -> pv.Plotter | Path:
    """Draw the twin in 3D, buildings coloured by a column of their layer.

    Buildings (`cim.meshes.twin_meshes`) stand on the site, drawn as a flat
    ground, with green spaces and streets on it. A numeric column is mapped
    through ``cmap`` with a scalar bar titled with the column and its unit,
    labelled at round values (whole numbers for a column of whole numbers);
    any other column (``use``, ``height_source`` ...) gets one colour per
    value and a legend of the values. Buildings with no value are grey (and
    labelled "no data" in the bar).

    Parameters
    ----------
    twin
        The twin.
    color
        Column of ``twin.buildings`` to colour by; None draws every building
        in one neutral colour, without a scalar bar.
    path
        Where to save the picture (``.png``, ``.jpg`` ...). If None the
        plotter is returned instead, e.g. to call ``plotter.show()`` in a
        Jupyter notebook, where it is shown inline.
    window_size
        Width and height of the picture [pixels].
    cmap
        Matplotlib colormap name for a numeric column.
    camera
        A view of `CAMERAS`: ``"iso"`` (oblique, from the south-south-east),
        ``"top"`` (plan, north up), ``"south"``, ``"north"``, ``"east"``,
        ``"west"``; or a pyvista camera position ``[position, focal point,
        view up]`` in the local frame (metres from `cim.meshes.local_origin`).
        A named view frames the site and the buildings as large as they fit
        beside the legend and under the title.
    show_edges
        Draw the edges of the mesh faces.
    title
        Text at the top left; None for the twin's name and the column, ``""``
        for no text. Text with Chinese characters is drawn in an installed
        CJK font (see `cim.viz._fonts`).
    lod
        Level of detail, see `cim.meshes.twin_meshes`.

    Returns
    -------
    pyvista.Plotter or pathlib.Path
        The plotter if ``path`` is None (off-screen where there is no
        display), else the written file, once the plotter is closed.

    Raises
    ------
    KeyError
        If ``color`` is not a buildings column; the message names the
        numeric and categorical columns there are.
    ValueError
        If ``camera`` or ``lod`` is not known.

    Warns
    -----
    cim.errors.FontWarning
        Once per process, if a text has Chinese characters and no CJK font
        is installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import cim
    >>> from cim.viz import render
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     png = render(twin, color="use", path=pathlib.Path(tmp) / "cau.png")
    ...     png.stat().st_size > 0
    True
    """
    categories: list[str] | None = None
    values: npt.NDArray[np.float64] | None = None
    if color is not None:
        values, categories = _column_values(twin.buildings, color)
    check_camera(camera)
    pvm = import_pyvista()

    origin = local_origin(twin)
    mesh, owner = combine(twin_meshes(twin, lod=lod))
    owner = np.asarray(owner, dtype=np.intp)
    points = np.asarray(mesh.vertices, dtype=np.float64) - np.asarray(origin)
    faces = np.asarray(mesh.faces, dtype=np.int64)

    off_screen = path is not None or headless()
    plotter = pvm.Plotter(off_screen=off_screen, window_size=list(window_size))
    plotter.set_background("white")
    # The ground lies under the lowest building (z = 0 for LoD1 on the ground).
    ground_z = float(points[:, 2].min()) if len(points) else 0.0
    extent = _add_ground(pvm, plotter, twin, origin, points, ground_z)
    label = None if color is None else _column_label(color)
    right = 1.0  # free part of the picture, left of any legend
    if len(faces):
        buildings = pvm.PolyData.from_regular_faces(points, faces)
        style: dict[str, Any] = {
            "show_edges": show_edges,
            "edge_color": "#404040",
            "line_width": screen_px(0.5),
            "ambient": 0.25,
            "diffuse": 0.8,
        }
        if values is None or label is None:
            plotter.add_mesh(buildings, color=_PLAIN_COLOR, **style)
        else:
            buildings.cell_data[label] = values[owner]
            right = _add_coloured(plotter, buildings, label, categories, cmap, style)

    text = title
    if text is None:
        text = twin.name if label is None else f"{twin.name}: {label}"
    if text:
        add_title(plotter, text)
    if is_osm(twin.metadata.get("sources", [])):
        add_credit(plotter, OSM_ATTRIBUTION)

    # Fit the site and the buildings, not streets running far beyond them.
    lo, hi = extent
    top = float(points[:, 2].max()) if len(points) else ground_z
    bounds = np.array(
        [[lo[0], lo[1], ground_z], [hi[0], hi[1], max(top, ground_z + 1)]]
    )
    place_camera(
        plotter, camera, bounds, right=right, top=title_top(text, window_size[1])
    )
    anti_alias(plotter)

    if path is None:
        shown: pv.Plotter = plotter
        return shown
    target = save_screenshot(plotter, path)
    _log.info("rendered %s to %s", twin.name, target)
    return target
