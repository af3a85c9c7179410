"""Shared map furniture of the 2D maps: bare axes and a scale bar.

Used by `cim.viz.maps` and `cim.viz.sunlight`; not a public API. matplotlib
is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["OSM_ATTRIBUTION", "add_scale_bar", "bare_axes", "is_osm", "scale_length"]

#: Credit that pictures of OpenStreetMap data carry (ODbL 1.0, section 4.3).
OSM_ATTRIBUTION: Final = "© OpenStreetMap contributors"


def is_osm(sources: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any data source is OpenStreetMap (by name, licence or credit).

    Parameters
    ----------
    sources
        ``twin.metadata["sources"]``.

    Returns
    -------
    bool
    """
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        text = " ".join(
            str(source.get(k, "")) for k in ("name", "licence", "attribution")
        ).lower()
        name = str(source.get("name", "")).lower()
        if (
            "openstreetmap" in text
            or "odbl" in text
            or name.endswith((".osm", ".osm.pbf", ".osm.bz2", ".osm.gz"))
        ):
            return True
    return False


#: Lengths a scale bar may take, as multiples of a power of ten.
_STEPS: Final = (1.0, 2.0, 5.0)


def scale_length(width_m: float, *, share: float = 0.2) -> float:
    """A round length near ``share`` of a map ``width_m`` wide [m].

    Parameters
    ----------
    width_m
        Width of the map [m].
    share
        Wanted share of the width, 0 to 1 [-].

    Returns
    -------
    float
        1, 2 or 5 times a power of ten, at most ``share * width_m`` (and at
        least 1 m) [m].
    """
    target = max(share * width_m, 1.0)
    power = 10.0 ** math.floor(math.log10(target))
    return max(s * power for s in _STEPS if s * power <= target)


def add_scale_bar(ax: Axes) -> Any:
    """Draw a scale bar of a round length [m or km] under a map in metres.

    The bar stands under the lower left corner of the axes, where it hides
    nothing of the map; its length is about a fifth of the axes' current
    width (see `scale_length`): set the limits first.

    Parameters
    ----------
    ax
        Axes in a metric CRS, equal aspect.

    Returns
    -------
    mpl_toolkits.axes_grid1.anchored_artists.AnchoredSizeBar
        The bar, added to ``ax``.
    """
    from mpl_toolkits.axes_grid1.anchored_artists import (  # type: ignore[import-untyped]
        AnchoredSizeBar,
    )

    x0, x1 = ax.get_xlim()
    length = scale_length(abs(x1 - x0))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        label,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.01),
        bbox_transform=ax.transAxes,
        pad=0.0,
        borderpad=0.0,
        sep=2,
        frameon=False,
        size_vertical=length / 40,
        fill_bar=True,
        color="#333333",
        fontproperties={"size": 8},
    )
    bar.set_gid("scale_bar")
    ax.add_artist(bar)
    # Outside the axes: not clipped, and counted by constrained layout.
    bar.set_clip_on(False)
    return bar


def bare_axes(ax: Axes) -> None:
    """Equal aspect, no ticks and no axis labels.

    Map coordinates mean nothing to a reader without ticks, so the axis
    labels geopandas writes from the CRS (``"Easting [metre]"``) go too; a
    scale bar gives the scale.

    Parameters
    ----------
    ax
        The map's axes.
    """
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
