"""Snap buildings and facilities onto the street network.

A place joins the network at the nearest point of the nearest street segment
it may use: from a building's entrance point where the twin has one, else
from its footprint (the shortest line from the outline, so that a long slab
joins the street along its side, not at its centre), and from a facility's
point. The distance walked to that point, ``access_m`` [m], is added to
every trip (at walking speed, see :func:`cim.network.travel_circles`).

Snapping uses the physical mode graph, closed gates included, so that a home
inside a compound whose gate is shut at night still joins the compound's own
paths rather than the street beyond its wall. By default only segments of the
network's largest weakly connected component are candidates: a small island
(a path clipped at the extract's edge, say) would leave the place cut off
from everything. Long snaps are flagged for review.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cim.network.modes import RoutingGraph

__all__ = ["SNAP_FLAG_M", "snap"]

#: Default snap distance above which a place is flagged [m].
SNAP_FLAG_M: Final = 50.0

_COMPONENTS = ("largest", "all")


def snap(
    graph: RoutingGraph | nx.MultiDiGraph,
    geometries: Sequence[Any] | NDArray[Any] | Any,
    *,
    component: str = "largest",
    flag_m: float = SNAP_FLAG_M,
    max_access_m: float | None = None,
) -> pd.DataFrame:
    """Snap points or footprints to the nearest street segment.

    Parameters
    ----------
    graph
        A :class:`~cim.network.modes.RoutingGraph` or a mode graph (compiled
        on the fly).
    geometries
        ``(k,)`` Points, Polygons or MultiPolygons (a GeoSeries or array) in
        the graph's CRS; None or empty geometries are not snapped.
    component
        ``"largest"``: only segments of the largest weakly connected
        component; ``"all"``: any segment.
    flag_m
        Snaps longer than this are flagged [m].
    max_access_m
        Snaps longer than this are refused (the place is left off the
        network) [m]; None accepts any distance.

    Returns
    -------
    pandas.DataFrame
        One row per geometry, in order: ``segment`` (index into the graph's
        segments, -1 if not snapped), ``u`` and ``v`` (node ids of the
        segment's ends), ``fraction`` [-] along the segment from ``u``,
        ``access_m`` [m], ``snap_x``/``snap_y`` [m] (the point on the
        street), ``component`` (0 the largest) and ``flagged``.

    Raises
    ------
    ValueError
        For an unknown ``component``.

    Examples
    --------
    >>> import cim
    >>> from cim.network import mode_graph, snap
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> s = snap(mode_graph(twin.network, "walk"), twin.buildings.geometry)
    >>> bool((s["segment"] >= 0).all())
    True
    """
    if component not in _COMPONENTS:
        msg = f"invalid component {component!r}; expected one of {_COMPONENTS}"
        raise ValueError(msg)
    rg = graph if isinstance(graph, RoutingGraph) else RoutingGraph.from_graph(graph)
    geoms = np.asarray(getattr(geometries, "array", geometries), dtype=object)
    if geoms.ndim == 0:
        geoms = geoms.reshape(1)
    k = len(geoms)
    seg = np.full(k, -1, dtype=np.intp)
    frac = np.full(k, np.nan)
    access = np.full(k, np.nan)
    sx = np.full(k, np.nan)
    sy = np.full(k, np.nan)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    candidates = np.arange(len(rg.seg_u))
    if component == "largest":
        candidates = candidates[rg.seg_component == 0]
    if valid.any() and len(candidates):
        tree = shapely.STRtree(rg.seg_geometry[candidates])
        src = np.flatnonzero(valid)
        (qi, ti), dist = tree.query_nearest(
            geoms[src], return_distance=True, all_matches=False
        )
        rows = src[qi]
        segs = candidates[ti]
        lines = rg.seg_geometry[segs]
        shortest = shapely.shortest_line(geoms[rows], lines)
        ends = shapely.get_point(shortest, -1)
        pos = shapely.line_locate_point(lines, ends, normalized=True)
        zero = shapely.length(lines) == 0
        pos = np.where(zero | ~np.isfinite(pos), 0.0, pos)
        keep = np.ones(len(rows), dtype=bool)
        if max_access_m is not None:
            keep = dist <= max_access_m
        rows, segs, dist, pos, ends = (
            rows[keep],
            segs[keep],
            dist[keep],
            pos[keep],
            ends[keep],
        )
        seg[rows] = segs
        frac[rows] = np.clip(pos, 0.0, 1.0)
        access[rows] = dist
        sx[rows] = shapely.get_x(ends)
        sy[rows] = shapely.get_y(ends)
    ok = seg >= 0
    u = np.full(k, None, dtype=object)
    v = np.full(k, None, dtype=object)
    comp = np.full(k, -1, dtype=np.intp)
    u[ok] = rg.nodes[rg.seg_u[seg[ok]]]
    v[ok] = rg.nodes[rg.seg_v[seg[ok]]]
    comp[ok] = rg.seg_component[seg[ok]]
    return pd.DataFrame(
        {
            "segment": seg,
            "u": u,
            "v": v,
            "fraction": frac,
            "access_m": access,
            "snap_x": sx,
            "snap_y": sy,
            "component": comp,
            "flagged": ~ok | (access > flag_m),
        }
    )
