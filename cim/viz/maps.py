"""2D maps of the twin's layers with matplotlib.

matplotlib is imported inside the functions. `save_map` draws on a bare
`matplotlib.figure.Figure`, rendered by the Agg canvas, so it needs no display
and leaves pyplot's global state (its backend and open figures) alone;
`plot_layers` without ``ax`` makes a pyplot figure, for notebooks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import shapely

from cim.meshes import NAN_COLOR, _category_colors, _column_label, _column_values
from cim.viz._figure import save_figure
from cim.viz._fonts import fit_figure_fonts
from cim.viz._furniture import OSM_ATTRIBUTION, add_scale_bar, bare_axes, is_osm

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cim.twin import Twin

__all__ = ["OSM_ATTRIBUTION", "plot_layers", "save_map"]

_log = logging.getLogger(__name__)

#: Attribution that OpenStreetMap's licence (ODbL) asks maps to show.

_SITE: Final[dict[str, Any]] = {
    "facecolor": "#f1eee7",
    "edgecolor": "#8c8c8c",
    "linewidth": 1.0,
}
_PARCELS: Final[dict[str, Any]] = {
    "facecolor": "none",
    "edgecolor": "#b5ab9a",
    "linewidth": 0.6,
}
_GREENS: Final[dict[str, Any]] = {"facecolor": "#b9d7a8", "edgecolor": "none"}
_ROADS: Final[dict[str, Any]] = {"color": "#9a9a9a", "linewidth": 0.8}
_BUILDINGS: Final[dict[str, Any]] = {"edgecolor": "#4d4d4d", "linewidth": 0.3}
_PLAIN: Final = "#cfc8bb"
_NAN_RGB: Final = (NAN_COLOR[0] / 255, NAN_COLOR[1] / 255, NAN_COLOR[2] / 255)
#: Facilities are white dots ringed in black: unlike any building colour (a
#: red dot would read as a "health" building of the category palette).
_FACILITIES: Final[dict[str, Any]] = {
    "color": "white",
    "edgecolor": "#1a1a1a",
    "linewidth": 0.7,
    "markersize": 9,
    "marker": "o",
}


def _edges(twin: Twin) -> gpd.GeoSeries:
    lines = [
        d["geometry"]
        for _, _, d in twin.network.edges(data=True)
        if isinstance(d.get("geometry"), shapely.LineString)
    ]
    return gpd.GeoSeries(lines, crs=twin.crs)


def plot_layers(
    twin: Twin,
    *,
    column: str | None = None,
    ax: Axes | None = None,
    cmap: str = "viridis",
    legend: bool = True,
    facilities: bool = True,
    title: str | None = None,
    scale_bar: bool = True,
) -> Axes:
    """Map the twin's layers in plan: site, parcels, greens, streets, buildings.

    Layers are drawn bottom-up: the site, parcel outlines, green spaces,
    street network edges, buildings (coloured by ``column``, or in one
    neutral colour) and facility points (white dots). The map is framed on
    the site, parcels and buildings, north up, with a scale bar and a key to
    the context layers under it. When the twin's
    sources include OpenStreetMap (``twin.metadata["sources"]``), the map
    carries the attribution `OSM_ATTRIBUTION` in its lower right corner.

    Parameters
    ----------
    twin
        The twin.
    column
        Column of ``twin.buildings`` to colour buildings by: numeric columns
        through ``cmap`` with a colour bar titled with the column and its
        unit; others with one colour per value and a legend. Buildings with
        no value are grey.
    ax
        Axes to draw on; by default a new pyplot figure is made.
    cmap
        Matplotlib colormap name for a numeric ``column``.
    legend
        Draw the colour bar or legend of ``column``, and the key to the
        context layers (green space, street, facility) under the map.
    facilities
        Draw the facility points.
    title
        Axes title; None for the twin's name (and the column), ``""`` for none.
    scale_bar
        Draw a scale bar of a round length (about a fifth of the map's width).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, in the twin's CRS [m] with an equal aspect. Texts of its
        figure with Chinese characters fall back on an installed CJK font
        (see `cim.viz._fonts`).

    Raises
    ------
    KeyError
        If ``column`` is not a buildings column; the message names the
        numeric and categorical columns there are.

    Warns
    -----
    cim.errors.FontWarning
        Once per process, if a text has Chinese characters and no CJK font
        is installed.

    Examples
    --------
    >>> import cim
    >>> from matplotlib.figure import Figure
    >>> from cim.viz import plot_layers
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> ax = plot_layers(twin, column="height_m", ax=Figure().add_subplot())
    >>> ax.get_title()
    'beijing_haidian_cau: height_m [m]'
    """
    import matplotlib.colors as mcolors

    b = twin.buildings
    values: np.ndarray[Any, np.dtype[np.float64]] | None = None
    categories: list[str] | None = None
    if column is not None:
        values, categories = _column_values(b, column)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 8))

    if len(twin.site):
        twin.site.plot(ax=ax, **_SITE, zorder=1)
    if len(twin.parcels):
        twin.parcels.plot(ax=ax, **_PARCELS, zorder=2)
    if len(twin.greens):
        twin.greens.plot(ax=ax, **_GREENS, zorder=3)
    edges = _edges(twin)
    if len(edges):
        edges.plot(ax=ax, **_ROADS, zorder=4)

    label = None if column is None else _column_label(column)
    if len(b) and (values is None or label is None):
        b.plot(ax=ax, facecolor=_PLAIN, zorder=5, **_BUILDINGS)
    elif len(b) and values is not None and label is not None:
        known = np.isfinite(values)
        if (~known).any():
            b[~known].plot(ax=ax, facecolor=_NAN_RGB, zorder=5, **_BUILDINGS)
        if categories is not None:
            palette = _category_colors(categories) / 255.0
            colors = palette[values[known].astype(np.intp)]
            b[known].plot(ax=ax, color=colors, zorder=5, **_BUILDINGS)
            if legend:
                _category_legend(ax, categories, palette, (~known).any(), label)
        elif known.any():
            norm = mcolors.Normalize(
                vmin=float(values[known].min()), vmax=float(values[known].max())
            )
            b[known].assign(_value=values[known]).plot(
                ax=ax, column="_value", cmap=cmap, norm=norm, zorder=5, **_BUILDINGS
            )
            if legend:
                _colorbar(ax, cmap, norm, label)

    shown_facilities = facilities and len(twin.facilities) > 0
    if shown_facilities:
        twin.facilities.plot(ax=ax, zorder=6, **_FACILITIES)
    if legend:
        _layer_legend(ax, twin, facilities=shown_facilities)

    _frame(ax, twin)
    if scale_bar:
        add_scale_bar(ax)
    text = title
    if text is None:
        text = twin.name if label is None else f"{twin.name}: {label}"
    if text:
        ax.set_title(text)
    if is_osm(twin.metadata.get("sources", [])):
        ax.text(
            0.995,
            0.005,
            OSM_ATTRIBUTION,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#333333",
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1},
            zorder=10,
        )
    fit_figure_fonts(ax.figure)
    return ax


def _frame(ax: Axes, twin: Twin) -> None:
    """Equal aspect, framed on the site and buildings; no ticks or labels."""
    boxes = [
        layer.total_bounds
        for layer in (twin.site, twin.buildings, twin.parcels)
        if len(layer)
    ]
    if boxes:
        arr = np.asarray(boxes)
        x0, y0 = arr[:, :2].min(axis=0)
        x1, y1 = arr[:, 2:].max(axis=0)
        pad = 0.03 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    bare_axes(ax)


def _layer_legend(ax: Axes, twin: Twin, *, facilities: bool) -> None:
    """Key to the context layers in one row under the map, clear of it."""
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    if len(twin.greens):
        handles.append(Patch(label="green space", **_GREENS))
    if twin.network.number_of_edges():
        handles.append(Line2D([], [], label="street", **_ROADS))
    if facilities:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=_FACILITIES["marker"],
                markerfacecolor=_FACILITIES["color"],
                markeredgecolor=_FACILITIES["edgecolor"],
                markeredgewidth=_FACILITIES["linewidth"],
                markersize=5,
                label="facility",
            )
        )
    if not handles:
        return
    # An artist of its own, so that ax.legend() stays free for the column.
    key = Legend(
        ax,
        handles,
        [h.get_label() for h in handles],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncols=len(handles),
        fontsize=8,
        frameon=False,
    )
    ax.add_artist(key)
    # Not clipped to the axes: counted by the layout, drawn in full.
    key.set_clip_on(False)


def _colorbar(ax: Axes, cmap: str, norm: Any, label: str) -> None:
    import matplotlib.cm as mcm

    figure = ax.get_figure()
    if figure is None:  # pragma: no cover - axes always belong to a figure
        return
    mappable = mcm.ScalarMappable(norm=norm, cmap=cmap)
    figure.colorbar(mappable, ax=ax, shrink=0.6, label=label)


def _category_legend(
    ax: Axes,
    categories: Sequence[str],
    palette: np.ndarray[Any, np.dtype[np.float64]],
    missing: bool,
    label: str,
) -> None:
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=palette[i], edgecolor="#4d4d4d", label=c)
        for i, c in enumerate(categories)
    ]
    if missing:
        handles.append(Patch(facecolor=_NAN_RGB, edgecolor="#4d4d4d", label="no data"))
    ax.legend(
        handles=handles,
        title=label,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        title_fontsize=9,
        frameon=False,
    )


def save_map(
    twin: Twin,
    path: str | os.PathLike[str],
    *,
    figsize: tuple[float, float] = (10.0, 8.0),
    dpi: float = 150.0,
    **kwargs: Any,
) -> Path:
    """Draw `plot_layers` into an image file, atomically, without a display.

    Parameters
    ----------
    twin
        The twin.
    path
        Target file; the format follows its extension (``.png``, ``.pdf``,
        ``.svg`` ...). An existing file is replaced only once the new one is
        complete.
    figsize
        Figure size [inches].
    dpi
        Resolution [dots per inch].
    **kwargs
        Passed to `plot_layers` (``column``, ``cmap``, ``title`` ...).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    KeyError
        If ``column`` is not a buildings column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import cim
    >>> from cim.viz import save_map
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     png = save_map(twin, pathlib.Path(tmp) / "map.png", column="use")
    ...     png.suffix
    '.png'
    """
    from matplotlib.figure import Figure

    target = Path(path)
    # A bare Figure prints through the Agg canvas: no pyplot, no display.
    figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    plot_layers(twin, ax=figure.add_subplot(), **kwargs)
    save_figure(figure, target)
    _log.info("saved map of %s to %s", twin.name, target)
    return target
