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
import sys
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
from geometry.mesh import combine

if TYPE_CHECKING:
    import pyvista as pv

    from cim.twin import Twin

__all__ = ["CAMERAS", "render", "save_screenshot"]

_log = logging.getLogger(__name__)

#: Named camera views of `render`: direction from the scene's centre to the
#: camera (east, north, up), before zooming to fit.
CAMERAS: Final[dict[str, tuple[float, float, float]]] = {
    "iso": (0.55, -1.0, 0.9),
    "top": (0.0, 0.0, 1.0),
    "south": (0.0, -1.0, 0.45),
    "north": (0.0, 1.0, 0.45),
    "east": (1.0, 0.0, 0.45),
    "west": (-1.0, 0.0, 0.45),
}

_SITE_COLOR: Final = "#ece8df"
_GREEN_COLOR: Final = "#b9d7a8"
_ROAD_COLOR: Final = "#9a9a9a"
_PLAIN_COLOR: Final = "#dcd6ca"
_VTK_FONT_FILE: Final = 4  # vtkTextProperty font family "from a file"


def _font_file() -> str | None:
    """DejaVu Sans, shipped with matplotlib, for text with real brackets.

    VTK's own sans-serif font draws ``[`` and ``]`` like parentheses and lacks
    many characters; DejaVu Sans has Latin, Greek and Cyrillic (not CJK).
    """
    import matplotlib as mpl

    path = Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return str(path) if path.is_file() else None


def _set_font(prop: Any, font: str | None) -> None:
    """Draw a VTK text property with the font file ``font``, if any."""
    if font is not None:
        prop.SetFontFamily(_VTK_FONT_FILE)
        prop.SetFontFile(font)


def _headless() -> bool:
    """Whether no display server is reachable (Linux and other X11 systems)."""
    if sys.platform in ("win32", "darwin"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _import_pyvista() -> Any:
    """Import pyvista, choosing an EGL window first where there is no display."""
    if _headless():
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista

    return pyvista


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


def _check_camera(camera: str | Sequence[Any]) -> None:
    if isinstance(camera, str) and camera not in CAMERAS:
        msg = (
            f"invalid camera {camera!r}; expected one of "
            f"{', '.join(map(repr, CAMERAS))} or a pyvista camera position"
        )
        raise ValueError(msg)


def _place_camera(
    plotter: Any,
    camera: str | Sequence[Any],
    bounds: npt.NDArray[np.float64],
    *,
    legend_shift: float,
) -> None:
    if not isinstance(camera, str):
        plotter.camera_position = camera
        return
    (x0, y0, z0), (x1, y1, z1) = bounds
    plan = camera == "top"
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, z0])
    direction = np.asarray(CAMERAS[camera], dtype=np.float64)
    direction /= np.linalg.norm(direction)
    radius = 0.5 * float(np.hypot(x1 - x0, y1 - y0))
    plotter.camera_position = [
        tuple(centre + direction * radius * 2.0),
        tuple(centre),
        (0.0, 1.0, 0.0) if plan else (0.0, 0.0, 1.0),
    ]
    if plan:
        # A plan is a map: no perspective.
        plotter.enable_parallel_projection()
    plotter.camera.view_angle = 30.0
    # Fit the view to what is drawn, then leave a small margin.
    plotter.reset_camera(bounds=(x0, x1, y0, y1, z0, z1))
    plotter.camera.zoom(1.25 if plan else 1.3)
    if legend_shift:
        # Move the picture left, clear of the legend on the right (and, in
        # perspective, up, since the near side looks larger).
        plotter.camera.SetWindowCenter(legend_shift, 0.0 if plan else -0.12)
        plotter.camera.zoom(1.0 - legend_shift)


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
        plotter.add_mesh(roads, color=_ROAD_COLOR, line_width=1.5, lighting=False)
    return lo, hi


def _add_coloured(
    plotter: Any,
    buildings: Any,
    label: str,
    categories: list[str] | None,
    cmap: str,
    style: dict[str, Any],
) -> None:
    """Draw buildings coloured by their cell data ``label``, with its bar."""
    import matplotlib.colors as mcolors

    values = np.asarray(buildings.cell_data[label], dtype=np.float64)
    missing = bool(np.isnan(values).any())
    nan_rgb = tuple(c / 255 for c in NAN_COLOR[:3])
    bar: dict[str, Any] = {
        "title": label,
        "title_font_size": 18,
        "label_font_size": 15,
        "color": "black",
        "nan_annotation": missing,
    }
    if categories is not None:
        # Values top-down in sorted order: VTK draws the first at the bottom.
        k = max(len(categories), 1)
        palette = _category_colors(categories)[::-1] / 255.0
        buildings.cell_data[label] = k - 1 - values
        height = min(0.045 * (k + missing) + 0.05, 0.7)
        bar.update(
            vertical=True,
            n_labels=0,
            position_x=0.8,
            position_y=0.75 - height,  # top-aligned with a numeric bar
            width=0.04,
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
    else:
        known = values[np.isfinite(values)]
        spread = float(np.ptp(known)) if known.size else 0.0
        bar.update(
            vertical=True,
            position_x=0.86,
            position_y=0.25,
            width=0.04,
            height=0.5,
            n_labels=5 if spread > 0 else 2,
            fmt="%.0f" if spread >= 20 else "%.3g",
        )
        plotter.add_mesh(
            buildings,
            scalars=label,
            cmap=cmap,
            nan_color=nan_rgb,
            scalar_bar_args=bar,
            **style,
        )
    actor = plotter.scalar_bar
    if missing:
        actor.SetNanAnnotation("no data")
    font = _font_file()
    for prop in (
        actor.GetTitleTextProperty(),
        actor.GetLabelTextProperty(),
        actor.GetAnnotationTextProperty(),
    ):
        _set_font(prop, font)
    actor.SetVerticalTitleSeparation(12)
    if categories is not None:
        actor.SetTextPositionToSucceedScalarBar()


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
    through ``cmap`` with a scalar bar titled with the column and its unit;
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
    show_edges
        Draw the edges of the mesh faces.
    title
        Text at the top left; None for the twin's name and the column, ``""``
        for no text.
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
    _check_camera(camera)
    pvm = _import_pyvista()

    origin = local_origin(twin)
    mesh, owner = combine(twin_meshes(twin, lod=lod))
    owner = np.asarray(owner, dtype=np.intp)
    points = np.asarray(mesh.vertices, dtype=np.float64) - np.asarray(origin)
    faces = np.asarray(mesh.faces, dtype=np.int64)

    off_screen = path is not None or _headless()
    plotter = pvm.Plotter(off_screen=off_screen, window_size=list(window_size))
    plotter.set_background("white")
    # The ground lies under the lowest building (z = 0 for LoD1 on the ground).
    ground_z = float(points[:, 2].min()) if len(points) else 0.0
    extent = _add_ground(pvm, plotter, twin, origin, points, ground_z)
    label = None if color is None else _column_label(color)
    if len(faces):
        buildings = pvm.PolyData.from_regular_faces(points, faces)
        style: dict[str, Any] = {
            "show_edges": show_edges,
            "edge_color": "#404040",
            "line_width": 0.5,
            "ambient": 0.25,
            "diffuse": 0.8,
        }
        if values is None or label is None:
            plotter.add_mesh(buildings, color=_PLAIN_COLOR, **style)
        else:
            buildings.cell_data[label] = values[owner]
            _add_coloured(plotter, buildings, label, categories, cmap, style)

    text = title
    if text is None:
        text = twin.name if label is None else f"{twin.name}: {label}"
    if text:
        actor = plotter.add_text(
            text, position="upper_left", font_size=12, color="black"
        )
        _set_font(actor.GetTextProperty(), _font_file())

    # Fit the site and the buildings, not streets running far beyond them.
    lo, hi = extent
    top = float(points[:, 2].max()) if len(points) else ground_z
    bounds = np.array(
        [[lo[0], lo[1], ground_z], [hi[0], hi[1], max(top, ground_z + 1)]]
    )
    shift = 0.0 if label is None else 0.12 if categories is None else 0.22
    _place_camera(plotter, camera, bounds, legend_shift=shift)
    plotter.enable_anti_aliasing("ssaa")

    if path is None:
        shown: pv.Plotter = plotter
        return shown
    target = save_screenshot(plotter, path)
    _log.info("rendered %s to %s", twin.name, target)
    return target


def save_screenshot(plotter: Any, path: str | os.PathLike[str]) -> Path:
    """Write a plotter's picture to ``path`` atomically, then close the plotter.

    Parameters
    ----------
    plotter
        An off-screen :class:`pyvista.Plotter`.
    path
        Target image (``.png``).

    Returns
    -------
    pathlib.Path
    """
    from cim.io.files import atomic_path

    target = Path(path)
    try:
        with atomic_path(target, suffix=target.suffix or ".png") as tmp:
            plotter.screenshot(str(tmp))
    finally:
        plotter.close()
    return target
