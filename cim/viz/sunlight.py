"""Pictures of a sunlight check: facades coloured by hours, maps of failures.

`render_sunlight` draws the sample points of a `cim.sunlight.SunlightCheck`
(or the existing windows of a `cim.sunlight.SunlightImpact`) in 3D with
pyvista, coloured by the hours of sun the rule counts, over translucent
buildings; `plot_sunlight` maps the points that fail (or lose compliance to a
proposal) in plan with matplotlib, and `save_sunlight_map` writes that map
to a file without a display. pyvista and matplotlib are imported inside the
functions.

The hours are coloured on a diverging scale from 0 to twice the rule's
threshold, in half-hour bands: red below the threshold, blue above it, so
that failing windows stand out whatever the threshold.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from cim.io.files import atomic_path
from cim.meshes import Lod, twin_meshes
from cim.sunlight import SunlightCheck, SunlightImpact
from cim.viz.render import (
    _check_camera,
    _font_file,
    _headless,
    _import_pyvista,
    _place_camera,
    _set_font,
    save_screenshot,
)
from geometry.mesh import combine

if TYPE_CHECKING:
    import pyvista as pv
    from matplotlib.axes import Axes

    from cim.twin import Twin

__all__ = ["plot_sunlight", "render_sunlight", "save_sunlight_map"]

_log = logging.getLogger(__name__)

_Bounds = tuple[float, float, float, float]

_GROUND: Final = "#ece8df"
_BUILDING: Final = "#cfc8bb"
_PROPOSED: Final = "#e08a2c"
_FAIL: Final = "#d7301f"
_WORSE: Final = "#fdae61"
_OTHER: Final = "#b0b0b0"
_PASS: Final = "#4575b4"
_BAND_H: Final = 0.5  # width of a colour band [h]


@dataclass(frozen=True)
class _Shown:
    """What to draw of a result: one rule's points and their hours."""

    points: gpd.GeoDataFrame
    hours: npt.NDArray[np.float64]
    passed: npt.NDArray[np.bool_]
    status: npt.NDArray[np.str_] | None
    threshold_h: float
    rule_id: str
    date: str
    proposed: tuple[str, ...]


def _shown(result: SunlightCheck | SunlightImpact, rule_id: str | None) -> _Shown:
    if not isinstance(result, SunlightCheck | SunlightImpact):
        msg = (
            "expected a SunlightCheck or SunlightImpact (cim.sunlight), got "
            f"{type(result).__name__}"
        )
        raise TypeError(msg)
    rules = result.rules
    known = rules["rule_id"].tolist()
    rid = known[0] if rule_id is None else rule_id
    if rid not in known:
        msg = f"invalid rule_id {rule_id!r}; expected one of {', '.join(known)}"
        raise ValueError(msg)
    info = rules.set_index("rule_id").loc[rid]
    pts = result.points[result.points["rule_id"] == rid]
    if isinstance(result, SunlightImpact):
        hours = pts["after_min"].to_numpy(dtype=np.float64) / 60.0
        passed = pts["passed_after"].to_numpy(dtype=bool)
        status = pts["status"].to_numpy(dtype=str)
        proposed = result.proposed
    else:
        hours = pts["counted_min"].to_numpy(dtype=np.float64) / 60.0
        passed = pts["passed"].to_numpy(dtype=bool)
        status = None
        proposed = ()
    return _Shown(
        points=pts,
        hours=hours,
        passed=passed,
        status=status,
        threshold_h=float(info["threshold_h"]),
        rule_id=str(rid),
        date=str(info["date"]),
        proposed=tuple(proposed),
    )


def _default_bounds(
    twin: Twin, shown: _Shown, margin_m: float
) -> npt.NDArray[np.float64]:
    """What to frame: the points (or the impact) and a margin [m]."""
    geoms: list[shapely.Geometry] = []
    pts = shown.points
    if shown.status is not None:
        hit = np.isin(shown.status, ("lost", "worse"))
        geoms.extend(np.asarray(pts.geometry.array)[hit])
        b = twin.buildings
        mine = b["building_id"].astype(str).isin(shown.proposed).to_numpy()
        geoms.extend(np.asarray(b.geometry.array)[mine])
    if not geoms:
        geoms.extend(np.asarray(pts.geometry.array))
    if not geoms:
        geoms.extend(np.asarray(twin.buildings.geometry.array))
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return np.array([x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m])


def _cmap(threshold_h: float, cmap: str) -> tuple[Any, tuple[float, float], int]:
    """Banded colormap from 0 to twice the threshold, centred on it."""
    top = max(2.0 * threshold_h, 2 * _BAND_H)
    n = max(2, round(top / _BAND_H))
    return cmap, (0.0, top), n


def render_sunlight(
    twin: Twin,
    result: SunlightCheck | SunlightImpact,
    *,
    rule_id: str | None = None,
    path: str | os.PathLike[str] | None = None,
    window_size: tuple[int, int] = (1200, 900),
    camera: str | Sequence[Any] = "iso",
    bounds: _Bounds | None = None,
    cmap: str = "RdYlBu",
    point_size: float | None = None,
    opacity: float = 0.35,
    main_only: bool = True,
    title: str | None = None,
    lod: Lod = "best",
) -> pv.Plotter | Path:
    """Draw the windows of a sunlight check in 3D, coloured by hours of sun.

    The sample points of one rule are drawn as dots coloured by the hours the
    rule counts (after the proposal, for an impact, with the windows that
    lose compliance drawn larger), over the buildings drawn translucent (the
    proposed ones in orange) on a flat ground.

    Parameters
    ----------
    twin
        The twin checked (for an impact: the twin with the proposal).
    result
        A `cim.sunlight.SunlightCheck` or `cim.sunlight.SunlightImpact`.
    rule_id
        The rule whose points to draw; the first by default.
    path
        Where to save the picture (``.png`` ...); None returns the plotter.
    window_size
        Width and height of the picture [pixels].
    camera
        A view of `cim.viz.render.CAMERAS` or a pyvista camera position in the
        local frame (metres from the lower left corner of ``bounds``).
    bounds
        ``(xmin, ymin, xmax, ymax)`` to frame, in the twin's CRS [m]; by
        default the points (for an impact: the proposal and the windows it
        darkens) and 15 m around.
    cmap
        Diverging matplotlib colormap; low values take its first colour.
    point_size
        Size of the dots [pixels]; by default about 1.5 m on the picture,
        4 to 16 pixels.
    opacity
        Opacity of the buildings, 0 (invisible) to 1 [-].
    main_only
        Colour only the points of main facades, those the building is judged
        on (see `cim.sunlight`), and the windows that lose compliance to a
        proposal; draw the others small and grey. False colours all.
    title
        Text at the top left; None for the rule and the date, ``""`` for none.
    lod
        Level of detail of the buildings, see `cim.meshes.twin_meshes`.

    Returns
    -------
    pyvista.Plotter or pathlib.Path
        The plotter if ``path`` is None, else the written file.

    Raises
    ------
    ValueError
        If ``rule_id`` or ``camera`` is unknown.
    TypeError
        If ``result`` is not a sunlight result.
    """
    shown = _shown(result, rule_id)
    _check_camera(camera)
    frame = (
        _default_bounds(twin, shown, 15.0)
        if bounds is None
        else np.asarray(bounds, dtype=np.float64)
    )
    pvm = _import_pyvista()
    origin = np.array([frame[0], frame[1], 0.0])
    window = shapely.box(*frame)

    b = twin.buildings
    near = np.asarray(
        shapely.intersects(np.asarray(b.geometry.array), shapely.buffer(window, 40.0)),
        dtype=bool,
    )
    meshes = twin_meshes(twin, lod=lod)
    ids = b["building_id"].astype(str).to_numpy()
    proposed = np.isin(ids, shown.proposed)
    off_screen = path is not None or _headless()
    plotter = pvm.Plotter(off_screen=off_screen, window_size=list(window_size))
    plotter.set_background("white")

    # The ground under the frame and every building drawn, a little wider.
    drawn = np.asarray(b.geometry.array)[near]
    ground_box = np.asarray(
        shapely.total_bounds(np.append(drawn, window).astype(object)), dtype=np.float64
    ) + np.array([-5.0, -5.0, 5.0, 5.0])
    corners = ground_box[[0, 1, 2, 1, 2, 3, 0, 3]].reshape(4, 2) - origin[:2]
    ground = pvm.PolyData(
        np.column_stack([corners, np.full(4, -0.05)]), faces=np.array([4, 0, 1, 2, 3])
    )
    plotter.add_mesh(ground, color=_GROUND, lighting=False)
    top = 1.0
    for mask, color in ((near & ~proposed, _BUILDING), (near & proposed, _PROPOSED)):
        mesh, _ = combine([m if k else None for m, k in zip(meshes, mask, strict=True)])
        if not len(mesh.faces):
            continue
        vertices = np.asarray(mesh.vertices, dtype=np.float64) - origin
        top = max(top, float(vertices[:, 2].max()))
        poly = pvm.PolyData.from_regular_faces(
            vertices, np.asarray(mesh.faces, dtype=np.int64)
        )
        plotter.add_mesh(poly, color=color, opacity=opacity, ambient=0.3, diffuse=0.7)

    pts = shown.points
    xyz = shapely.get_coordinates(np.asarray(pts.geometry.array), include_z=True)
    # The points of the buildings drawn.
    inside = pts["building_id"].astype(str).isin(ids[near]).to_numpy(dtype=bool)
    lost = inside & (shown.status == "lost" if shown.status is not None else False)
    judged = inside & ~lost
    if main_only:
        judged &= pts["main_facade"].to_numpy(dtype=bool)
    extent = float(max(frame[2] - frame[0], frame[3] - frame[1]))
    size = point_size or float(np.clip(3.0 * window_size[0] / extent, 6.0, 18.0))
    label = "sunlight [h]"
    name, clim, n = _cmap(shown.threshold_h, cmap)
    style: dict[str, Any] = {
        "scalars": label,
        "cmap": name,
        "clim": clim,
        "n_colors": n,
        "render_points_as_spheres": True,
        "nan_color": _OTHER,
        "ambient": 0.5,
        "diffuse": 0.6,
    }
    other = inside & ~judged & ~lost
    if other.any():
        plotter.add_mesh(
            pvm.PolyData(xyz[other] - origin),
            color=_OTHER,
            point_size=0.6 * size,
            render_points_as_spheres=True,
        )
    for mask, scale, bar in ((judged, 1.0, True), (lost, 1.8, not judged.any())):
        if not mask.any():
            continue
        cloud = pvm.PolyData(xyz[mask] - origin)
        cloud.point_data[label] = shown.hours[mask]
        plotter.add_mesh(
            cloud,
            point_size=scale * size,
            show_scalar_bar=bar,
            scalar_bar_args={
                "title": label,
                "title_font_size": 18,
                "label_font_size": 15,
                "color": "black",
                "vertical": True,
                "position_x": 0.86,
                "position_y": 0.25,
                "width": 0.04,
                "height": 0.5,
                "n_labels": n // 2 + 1,
                "fmt": "%.1f",
            },
            **style,
        )
        if bar:
            actor = plotter.scalar_bar
            font = _font_file()
            for prop in (actor.GetTitleTextProperty(), actor.GetLabelTextProperty()):
                _set_font(prop, font)
            actor.SetVerticalTitleSeparation(12)

    text = title
    if text is None:
        what = (
            " after the proposal (lost windows large)"
            if shown.status is not None
            else ""
        )
        text = (
            f"{twin.name}: {shown.rule_id} (>= {shown.threshold_h:g} h), "
            f"{shown.date}{what}"
        )
    if text:
        t = plotter.add_text(text, position="upper_left", font_size=12, color="black")
        _set_font(t.GetTextProperty(), _font_file())

    extent3 = np.array(
        [[0.0, 0.0, 0.0], [frame[2] - frame[0], frame[3] - frame[1], top]]
    )
    _place_camera(plotter, camera, extent3, legend_shift=0.12)
    # Points behind translucent walls stay visible, in their own colours.
    plotter.enable_depth_peeling()
    plotter.enable_anti_aliasing("ssaa")
    if path is None:
        shown_plotter: pv.Plotter = plotter
        return shown_plotter
    target = save_screenshot(plotter, path)
    _log.info("rendered sunlight of %s to %s", twin.name, target)
    return target


def _xy(points: gpd.GeoDataFrame) -> npt.NDArray[np.float64]:
    return np.asarray(
        shapely.get_coordinates(np.asarray(points.geometry.array)), dtype=np.float64
    )


def plot_sunlight(
    twin: Twin,
    result: SunlightCheck | SunlightImpact,
    *,
    rule_id: str | None = None,
    ax: Axes | None = None,
    bounds: _Bounds | None = None,
    title: str | None = None,
    legend: bool = True,
    labels: bool = True,
) -> Axes:
    """Map the windows that fail a sunlight rule, or lose it to a proposal.

    Buildings are drawn in plan: those the rule applies to and that fail in
    light red, the proposed ones (for an impact) in orange. Of a check,
    failing points are red and passing points blue; of an impact, the points
    that lose compliance are red, those that lose sun but keep their verdict
    orange, the others pale (blue if they pass, grey if they failed already).

    Parameters
    ----------
    twin
        The twin checked (for an impact: the twin with the proposal).
    result
        A `cim.sunlight.SunlightCheck` or `cim.sunlight.SunlightImpact`.
    rule_id
        The rule to map; the first by default.
    ax
        Axes to draw on; by default a new pyplot figure.
    bounds
        ``(xmin, ymin, xmax, ymax)`` to frame [m]; by default all points (for
        an impact: the proposal and the windows it darkens) and 15 m around.
    title
        Axes title; None for the rule, the date and the counts, ``""`` for
        none.
    legend
        Draw the key.
    labels
        Write the ids of failing buildings (of a check) or of proposed ones
        (of an impact), when there are at most 30.

    Returns
    -------
    matplotlib.axes.Axes
        In the twin's CRS [m], equal aspect.

    Raises
    ------
    ValueError
        If ``rule_id`` is unknown.
    TypeError
        If ``result`` is not a sunlight result.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shown = _shown(result, rule_id)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 8))
    frame = (
        _default_bounds(twin, shown, 15.0)
        if bounds is None
        else np.asarray(bounds, dtype=np.float64)
    )
    window = shapely.box(*frame)
    b = twin.buildings
    ids = b["building_id"].astype(str)
    if len(twin.site):
        twin.site.plot(ax=ax, facecolor="#f1eee7", edgecolor="#8c8c8c", lw=1, zorder=1)
    b.plot(ax=ax, facecolor=_BUILDING, edgecolor="#4d4d4d", lw=0.3, zorder=2)

    if isinstance(result, SunlightCheck):
        bt = result.buildings[result.buildings["rule_id"] == shown.rule_id]
        failed = bt[~bt["passed"].to_numpy(dtype=bool)]
        marked = failed
        fill = "#f4b6ae"
    else:
        bt = result.buildings[result.buildings["rule_id"] == shown.rule_id]
        marked = b[ids.isin(shown.proposed).to_numpy()]
        failed = bt[bt["status"].to_numpy(dtype=str) == "lost"]
        fill = _PROPOSED
    if len(failed) and isinstance(result, SunlightImpact):
        failed.plot(ax=ax, facecolor="#f4b6ae", edgecolor=_FAIL, lw=0.8, zorder=3)
    if len(marked):
        marked.plot(ax=ax, facecolor=fill, edgecolor="#7f2704", lw=0.8, zorder=3)

    xy = _xy(shown.points)
    inside = np.asarray(shapely.contains_xy(window, xy[:, 0], xy[:, 1]), dtype=bool)
    size = float(
        np.clip(2500.0 / max(frame[2] - frame[0], frame[3] - frame[1]), 0.5, 12)
    )
    handles: list[Any] = []
    if shown.status is None:
        main = shown.points["main_facade"].to_numpy(dtype=bool)
        layers = [
            (~main, _OTHER, "other facades (not judged)", 0.4 * size),
            (main & shown.passed, _PASS, "main facade, passes", 0.6 * size),
            (main & ~shown.passed, _FAIL, "main facade, fails", size),
        ]
    else:
        st = shown.status
        same = np.isin(st, ("unchanged", "better"))
        layers = [
            (same & ~shown.passed, _OTHER, "fails before and after", 0.4 * size),
            (same & shown.passed, _PASS, "passes before and after", 0.6 * size),
            (st == "worse", _WORSE, "loses sun, same verdict", size),
            (st == "lost", _FAIL, "loses compliance", 1.5 * size),
        ]
    for mask, color, label, s in layers:
        m = mask & inside
        ax.scatter(xy[m, 0], xy[m, 1], s=s, c=color, lw=0, zorder=5)
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                color=color,
                ms=5,
                label=f"{label} ({int(m.sum()):,})",
            )
        )

    if labels:
        tagged = marked if len(marked) <= 30 else marked.iloc[:0]
        for geom, bid in zip(tagged.geometry, tagged["building_id"], strict=True):
            p = geom.representative_point()
            if window.contains(p):
                ax.annotate(
                    str(bid),
                    (p.x, p.y),
                    fontsize=7,
                    ha="center",
                    va="center",
                    zorder=6,
                    bbox={
                        "facecolor": "white",
                        "alpha": 0.7,
                        "edgecolor": "none",
                        "pad": 0.5,
                    },
                )
    if legend:
        if isinstance(result, SunlightCheck):
            handles.append(
                Patch(facecolor="#f4b6ae", edgecolor="#7f2704", label="building fails")
            )
        else:
            handles.append(
                Patch(facecolor=_PROPOSED, edgecolor="#7f2704", label="proposed")
            )
            handles.append(
                Patch(
                    facecolor="#f4b6ae",
                    edgecolor=_FAIL,
                    label="building loses compliance",
                )
            )
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
        )
    ax.set_xlim(frame[0], frame[2])
    ax.set_ylim(frame[1], frame[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    text = title
    if text is None:
        if shown.status is None:
            main = shown.points["main_facade"].to_numpy(dtype=bool)
            n_bad = int((main & ~shown.passed).sum())
            text = (
                f"{shown.rule_id}, {shown.date}: {n_bad:,} of {int(main.sum()):,} "
                f"main-facade windows below {shown.threshold_h:g} h"
            )
        else:
            n_lost = int((shown.status == "lost").sum())
            text = (
                f"{shown.rule_id}, {shown.date}: {n_lost:,} windows lose "
                f"{shown.threshold_h:g} h to the proposal"
            )
    if text:
        ax.set_title(text)
    return ax


def save_sunlight_map(
    twin: Twin,
    result: SunlightCheck | SunlightImpact,
    path: str | os.PathLike[str],
    *,
    figsize: tuple[float, float] = (10.0, 8.0),
    dpi: float = 150.0,
    **kwargs: Any,
) -> Path:
    """Draw `plot_sunlight` into an image file, atomically, without a display.

    Parameters
    ----------
    twin
        The twin checked.
    result
        A `cim.sunlight.SunlightCheck` or `cim.sunlight.SunlightImpact`.
    path
        Target file (``.png``, ``.pdf``, ``.svg`` ...).
    figsize
        Figure size [inches].
    dpi
        Resolution [dots per inch].
    **kwargs
        Passed to `plot_sunlight` (``rule_id``, ``bounds``, ``title`` ...).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from matplotlib.figure import Figure

    target = Path(path)
    figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    plot_sunlight(twin, result, ax=figure.add_subplot(), **kwargs)
    with atomic_path(target, suffix=target.suffix or ".png") as tmp:
        # "tight" keeps the key, drawn beside the axes, in the picture.
        figure.savefig(
            tmp, format=target.suffix.lstrip(".") or "png", bbox_inches="tight"
        )
    _log.info("saved sunlight map of %s to %s", twin.name, target)
    return target
