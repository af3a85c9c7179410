"""Pictures of a sunlight check: facades coloured by hours, maps of failures.

`render_sunlight` draws the sample points of a `cim.sunlight.SunlightCheck`
(or the existing windows of a `cim.sunlight.SunlightImpact`) in 3D with
pyvista, coloured by the hours of sun the rule counts, over translucent
buildings; `plot_sunlight` maps the points that fail (or lose compliance to a
proposal) in plan with matplotlib, and `save_sunlight_map` writes that map
to a file without a display. pyvista and matplotlib are imported inside the
functions.

The hours are coloured in bands from 0 to twice the rule's threshold, with
the threshold on a band edge: bands below it take the red end of a diverging
colormap, bands above its blue end, leaving out its pale middle, so that a
window just short of the threshold is as plainly red as one in full shade
and red and blue (safe for the common colour blindnesses) tell fail from
pass whatever the threshold.
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

from cim.meshes import Lod, twin_meshes
from cim.sunlight import SunlightCheck, SunlightImpact, clock, day_name
from cim.viz._figure import save_figure
from cim.viz._fonts import fit_figure_fonts
from cim.viz._furniture import OSM_ATTRIBUTION, add_scale_bar, bare_axes, is_osm
from cim.viz._scene import (
    add_credit,
    add_title,
    anti_alias,
    check_camera,
    font_file,
    headless,
    import_pyvista,
    nice_ticks,
    place_camera,
    save_screenshot,
    screen_px,
    set_font,
    style_scalar_bar,
    text_units,
    text_width,
    title_top,
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
_BAR_X: Final = 0.86  # left edge of the scalar bar [-]
_BAR_TITLE_PT: Final = 18  # font size of its title [points]
_KEY_CHAR_PX: Final = 9.0  # width of a character of the 3D key [pixels]
_KEY_LINE_PX: Final = 26.0  # height of an entry of the 3D key [pixels]
_BAND_H: Final = 0.5  # wanted width of a colour band [h]
#: Parts of the colormap the bands take below and above the threshold [-]:
#: its two ends, without the pale middle that would hide near misses.
_BELOW: Final = (0.0, 0.25)
_ABOVE: Final = (0.75, 1.0)


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
    day: str = ""
    window_h: tuple[float, float] | None = None

    def when(self) -> str:
        """The rule's test in words: hours, time window, day and date."""
        day = day_name(self.day)
        window = ""
        if self.window_h is not None:
            start, end = (clock(h) for h in self.window_h)
            window = f" between {start} and {end} true solar time"
        when = " ".join(w for w in (day, self.date) if w)
        return f"≥ {self.threshold_h:g} h of sun{window}, {when}"

    def proposal(self) -> str:
        """The proposed buildings' ids, the first three and a count."""
        ids = list(self.proposed)
        more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
        return ", ".join(ids[:3]) + more


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
        day=str(info.get("day", "")),
        window_h=(
            (float(info["window_start_h"]), float(info["window_end_h"]))
            if "window_start_h" in info and "window_end_h" in info
            else None
        ),
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


def _hour_colors(
    threshold_h: float, cmap: str
) -> tuple[Any, tuple[float, float], int, npt.NDArray[np.float64]]:
    """Banded colours of the hours from 0 to twice the threshold.

    Returns the colormap, its range [h], its number of bands and the hours
    to label (whole or half hours and the threshold). The threshold is a band
    edge: the bands below it take colours from the `_BELOW` part of ``cmap``,
    those above from its `_ABOVE` part.
    """
    import matplotlib as mpl
    import matplotlib.colors as mcolors

    base = mpl.colormaps[cmap]
    if threshold_h > 0:
        below = max(1, round(threshold_h / _BAND_H))
        top = 2.0 * threshold_h
    else:  # every window passes
        below, top = 0, 2 * _BAND_H
    above = max(1, below)
    colors = np.vstack(
        [
            base(np.linspace(*_BELOW, below))[:, :3] if below else np.empty((0, 3)),
            base(np.linspace(*_ABOVE, above))[:, :3],
        ]
    )
    ticks, _ = nice_ticks(0.0, top, n=5)
    if threshold_h > 0 and not np.isclose(ticks, threshold_h).any():
        ticks = np.sort(np.append(ticks, threshold_h))
    return mcolors.ListedColormap(colors), (0.0, top), below + above, ticks


def _symbol(pvm: Any, face: str, color: str) -> Any:
    """A flat square or disc of one colour (RGB point data), for a key."""
    import matplotlib.colors as mcolors

    if face == "rectangle":
        xy = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    else:
        t = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
        xy = 0.5 * np.column_stack([np.cos(t), np.sin(t)])
    points = np.column_stack([xy, np.zeros(len(xy))])
    poly = pvm.PolyData(points, faces=np.r_[len(xy), np.arange(len(xy))])
    rgb = np.round(np.asarray(mcolors.to_rgb(color)) * 255).astype(np.uint8)
    poly.point_data["rgb"] = np.tile(rgb, (len(xy), 1))
    return poly


def _add_key(
    pvm: Any, plotter: Any, entries: list[tuple[str, str, str]], *, left: float
) -> Any:
    """A key of ``(label, colour, face)`` entries, bottom right, from ``left``.

    Every entry is the same size whatever the number of entries; the labels
    are black (pyvista's key writes each in its entry's colour, and a grey
    label on white is hard to read).
    """
    from vtkmodules.vtkRenderingAnnotation import vtkLegendBoxActor

    width_px, height_px = plotter.window_size
    labels = [label for label, _, _ in entries]
    longest = max(text_units(label) for label in labels)
    width = min((longest + 3) * _KEY_CHAR_PX / width_px, 0.99 - left)
    height = len(entries) * _KEY_LINE_PX / height_px
    key = vtkLegendBoxActor()
    key.SetNumberOfEntries(len(entries))
    for i, (label, color, face) in enumerate(entries):
        # No entry colour: the symbol keeps its own, the label the text's.
        key.SetEntry(i, _symbol(pvm, face, color), label, [-1.0, -1.0, -1.0])
    key.SetScalarVisibility(True)
    prop = key.GetEntryTextProperty()
    set_font(prop, font_file(*labels))
    prop.SetColor(0.0, 0.0, 0.0)
    key.GetPositionCoordinate().SetValue(0.99 - width, 0.03)
    key.GetPosition2Coordinate().SetValue(width, height)
    plotter.add_actor(key, reset_camera=False, name="key", pickable=False)
    return key


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
    rule counts (after the proposal, for an impact), over the buildings drawn
    translucent (the proposed ones in orange) on a flat ground. The windows
    that fail (of a check) or lose compliance (of an impact) are drawn
    larger. A key names what the colours of the buildings and the sizes and
    grey of the dots mean.

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
        A view of `cim.viz.render3d.CAMERAS` or a pyvista camera position in the
        local frame (metres from the lower left corner of ``bounds``).
    bounds
        ``(xmin, ymin, xmax, ymax)`` to frame, in the twin's CRS [m]; by
        default the points (for an impact: the proposal and the windows it
        darkens) and 15 m around, widened to show whole the buildings drawn,
        those within 40 m of it, and the ground under them.
    cmap
        Diverging matplotlib colormap; low values take its first colour.
    point_size
        Size of the dots [pixels]; by default about 1 m (the spacing of the
        points) at the scale of ``bounds``, 4 to 12 pixels; the large ones
        are 1.6 times bigger.
    opacity
        Opacity of the buildings, 0 (invisible) to 1 [-].
    main_only
        Colour only the points of main facades, those the building is judged
        on (see `cim.sunlight`), and the windows that lose compliance to a
        proposal; draw the others small and grey. False colours (and, of a
        check, enlarges the failing ones of) all.
    title
        Text at the top left; None for the twin, the rule (and the proposal)
        and, on a second line, the threshold, time window, day and date;
        ``""`` for none.
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

    Warns
    -----
    cim.errors.FontWarning
        Once per process, if a text has Chinese characters and no CJK font
        is installed.
    """
    shown = _shown(result, rule_id)
    check_camera(camera)
    frame = (
        _default_bounds(twin, shown, 15.0)
        if bounds is None
        else np.asarray(bounds, dtype=np.float64)
    )
    pvm = import_pyvista()
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
    off_screen = path is not None or headless()
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
    judged = inside.copy()
    if main_only:
        judged &= pts["main_facade"].to_numpy(dtype=bool)
    # Drawn large: the windows that lose compliance (of an impact) or, of a
    # check, the judged windows that fail, so that a few stand out on a site.
    if shown.status is not None:
        large = inside & (shown.status == "lost")
    else:
        large = judged & ~shown.passed
    judged &= ~large
    extent = float(max(frame[2] - frame[0], frame[3] - frame[1]))
    # About 1 m (the spacing of the points) at the scale of the frame.
    size = point_size or float(np.clip(0.8 * window_size[0] / extent, 4.0, 12.0))
    label = "sunlight [h]" if shown.status is None else "sunlight after [h]"
    colors, clim, n, ticks = _hour_colors(shown.threshold_h, cmap)
    style: dict[str, Any] = {
        "scalars": label,
        "cmap": colors,
        "clim": clim,
        "n_colors": n,
        "render_points_as_spheres": True,
        "nan_color": _OTHER,
        "ambient": 0.5,
        "diffuse": 0.6,
    }
    other = inside & ~judged & ~large
    if other.any():
        plotter.add_mesh(
            pvm.PolyData(xyz[other] - origin),
            color=_OTHER,
            point_size=screen_px(0.6 * size),
            render_points_as_spheres=True,
        )
    for mask, scale, bar in ((judged, 1.0, True), (large, 1.6, not judged.any())):
        if not mask.any():
            continue
        cloud = pvm.PolyData(xyz[mask] - origin)
        cloud.point_data[label] = shown.hours[mask]
        plotter.add_mesh(
            cloud,
            point_size=screen_px(scale * size),
            show_scalar_bar=bar,
            scalar_bar_args={
                "title": label,
                "title_font_size": _BAR_TITLE_PT,
                "label_font_size": 15,
                "color": "black",
                "vertical": True,
                "position_x": _BAR_X,
                "position_y": 0.25,
                "width": 0.04,
                "height": 0.5,
                "n_labels": len(ticks),
                "fmt": "%.1f",
            },
            **style,
        )
        if bar:
            style_scalar_bar(plotter.scalar_bar, ticks=ticks, fmt="%.1f")
    # The legend of the bar's title and of the key, right of the picture.
    right = _BAR_X + 0.02 - text_width(label, _BAR_TITLE_PT, window_size[0]) / 2
    right = min(right, _BAR_X) - 0.01
    key: list[tuple[str, str, str]] = []
    if shown.status is not None and proposed.any():
        key.append(("proposed building", _PROPOSED, "rectangle"))
    if large.any():
        now = "now " if shown.status is not None else ""
        key.append((f"large: {now}below {shown.threshold_h:g} h", _FAIL, "circle"))
    if other.any():
        key.append(("not judged", _OTHER, "circle"))
    if key:
        _add_key(pvm, plotter, key, left=right + 0.01)

    text = title
    if text is None:
        what = (
            "" if shown.status is None else f", with the proposal ({shown.proposal()})"
        )
        text = f"{twin.name}: {shown.rule_id}{what}\n{shown.when()}"
    if text:
        add_title(plotter, text)
    if is_osm(twin.metadata.get("sources", [])):
        add_credit(plotter, OSM_ATTRIBUTION)

    # By default the ground and the whole of every building drawn is in the
    # picture (a tall neighbour casting the shade is not cut off); given
    # bounds are kept.
    view = frame if bounds is not None else ground_box
    extent3 = np.array(
        [
            [view[0] - origin[0], view[1] - origin[1], 0.0],
            [view[2] - origin[0], view[3] - origin[1], top],
        ]
    )
    place_camera(
        plotter,
        camera,
        extent3,
        right=right,
        top=title_top(text, window_size[1]),
    )
    # Points behind translucent walls stay visible, in their own colours.
    plotter.enable_depth_peeling()
    anti_alias(plotter)
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
    scale_bar: bool = True,
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
        Axes title; None for the rule, the counts and, on a second line, the
        threshold, time window, day and date; ``""`` for none.
    legend
        Draw the key.
    labels
        Write the ids of failing buildings (of a check) or of proposed ones
        (of an impact), when there are at most 30.
    scale_bar
        Draw a scale bar of a round length under the map.

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

    Warns
    -----
    cim.errors.FontWarning
        Once per process, if a text has Chinese characters and no CJK font
        is installed.
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
    bare_axes(ax)
    if scale_bar:
        add_scale_bar(ax)
    text = title
    if text is None:
        if shown.status is None:
            main = shown.points["main_facade"].to_numpy(dtype=bool)
            n_bad = int((main & ~shown.passed).sum())
            text = (
                f"{shown.rule_id}: {n_bad:,} of {int(main.sum()):,} "
                f"main-facade windows below {shown.threshold_h:g} h"
            )
        else:
            n_lost = int((shown.status == "lost").sum())
            text = (
                f"{shown.rule_id}: {n_lost:,} windows fall below "
                f"{shown.threshold_h:g} h with the proposal ({shown.proposal()})"
            )
        text = f"{text}\n{shown.when()}"
    if text:
        ax.set_title(text)
    fit_figure_fonts(ax.figure)
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
    # "tight" keeps the key, drawn beside the axes, in the picture.
    save_figure(figure, target, bbox_inches="tight")
    _log.info("saved sunlight map of %s to %s", twin.name, target)
    return target
