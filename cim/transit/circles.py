"""Walk + transit travel times between points and 30-minute transit circles.

:func:`transit_travel_times` gives the door-to-door travel time from each
origin (a building, a hexagon centroid ...) to each destination (a facility
...) by walking to a stop, waiting, riding, transferring and walking on, for
every departure minute of a window, summarised over the window as a
percentile (the median by default, as r5r/R5 report it). Walking all the way
is always allowed, so transit is never slower than walking directly.
:func:`transit_circle` keeps the destinations within a cutoff (30 minutes by
default) of each origin: the origin's 30-minute transit circle.

Walking is a straight line in a metric CRS by default, or the shortest path
along a street graph (:mod:`cim.network` model) when ``network`` is given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from cim.crs import is_metric, resolve_crs
from cim.transit.gtfs import Feed, time_to_seconds
from cim.transit.raptor import Timetable, range_arrivals

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "WalkNetwork",
    "transit_circle",
    "transit_travel_times",
    "twin_transit_circles",
]

_log = logging.getLogger(__name__)

Float = NDArray[np.float64]
Int = NDArray[np.int64]


class WalkNetwork:
    """Shortest walking distances along a street graph.

    The graph is walked in both directions whatever ``oneway`` says, along
    edges' ``length_m``. Points join the graph at their nearest node, in a
    straight line.

    Parameters
    ----------
    G
        A street graph with ``G.graph["crs"]`` and ``length_m`` on edges
        (see :mod:`cim.network`); projected to ``crs`` if it is in another
        CRS.
    crs
        The metric CRS of the points that will be routed.
    """

    def __init__(self, G: nx.MultiDiGraph, *, crs: Any) -> None:
        from cim.network.graph import project_graph

        target = resolve_crs(crs)
        gcrs = G.graph.get("crs")
        if gcrs is None or not resolve_crs(gcrs).equals(target):
            G = project_graph(G, target)
        nodes = list(G.nodes)
        if not nodes:
            msg = "the street network has no nodes; give a graph from read_osm"
            raise ValueError(msg)
        index = {n: i for i, n in enumerate(nodes)}
        self.xy = np.array(
            [(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes], dtype="float64"
        )
        u, v, w = [], [], []
        for a, b, d in G.edges(data=True):
            length = d.get("length_m", d.get("length"))
            if length is None or not np.isfinite(length):
                continue
            u.append(index[a])
            v.append(index[b])
            w.append(max(float(length), 1e-9))
        n = len(nodes)
        ua, va, wa = (
            np.array(u, dtype=np.int64),
            np.array(v, dtype=np.int64),
            np.array(w),
        )
        # Symmetric, keeping the shortest of parallel edges.
        rows, cols = np.r_[ua, va], np.r_[va, ua]
        key = rows * n + cols
        order = np.lexsort((np.r_[wa, wa], key))
        key = key[order]
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
        keep = order[first]
        self.graph = sp.csr_matrix(
            (np.r_[wa, wa][keep], (rows[keep], cols[keep])), shape=(n, n)
        )
        self.tree = cKDTree(self.xy)

    def pairs(
        self, a_xy: Float, b_xy: Float, max_m: float, *, chunk: int = 128
    ) -> tuple[Int, Int, Float]:
        """Pairs of points within ``max_m`` of each other along the network.

        Parameters
        ----------
        a_xy, b_xy
            ``(n, 2) float`` and ``(m, 2) float`` points [m].
        max_m
            Longest walk [m].
        chunk
            Source nodes per Dijkstra call (memory: chunk x nodes floats).

        Returns
        -------
        ia, ib : numpy.ndarray
            ``(k,) int`` indices into ``a_xy`` and ``b_xy``.
        dist : numpy.ndarray
            ``(k,) float`` walking distance [m], snapping included.
        """
        a_xy = np.asarray(a_xy, dtype="float64").reshape(-1, 2)
        b_xy = np.asarray(b_xy, dtype="float64").reshape(-1, 2)
        da, na = self.tree.query(a_xy)
        db, nb = self.tree.query(b_xy)
        # Walking never beats the straight line: only nearby pairs are checked.
        cand = cKDTree(a_xy).sparse_distance_matrix(
            cKDTree(b_xy), max_m, output_type="ndarray"
        )
        ia = cand["i"].astype(np.int64)
        ib = cand["j"].astype(np.int64)
        if not len(ia):
            return ia, ib, np.zeros(0)
        sources, row = np.unique(na[ia], return_inverse=True)
        dist = np.full(len(ia), np.inf)
        for lo in range(0, len(sources), chunk):
            block = sources[lo : lo + chunk]
            D = dijkstra(self.graph, directed=False, indices=block, limit=max_m)
            m = (row >= lo) & (row < lo + len(block))
            dist[m] = D[row[m] - lo, nb[ib[m]]]
        dist = dist + da[ia] + db[ib]
        # Points at the same node: the straight line between them.
        same = na[ia] == nb[ib]
        dist[same] = np.minimum(dist[same], cand["v"][same])
        ok = dist <= max_m
        return ia[ok], ib[ok], dist[ok]


def _points(points: Any, crs: Any, name: str) -> tuple[pd.Index, Float, CRS]:
    """Ids, coordinates and CRS of origins or destinations."""
    if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geom.crs is None and crs is None:
            msg = f"{name} have no CRS; set it, e.g. gdf.set_crs(4549)"
            raise ValueError(msg)
        gcrs = resolve_crs(geom.crs if geom.crs is not None else crs)
        if (
            crs is not None
            and geom.crs is not None
            and not gcrs.equals(resolve_crs(crs))
        ):
            msg = f"{name} are in {gcrs.to_string()} but crs={crs!r} was given"
            raise ValueError(msg)
        g = geom.to_numpy()
        not_point = shapely.get_type_id(g) != 0
        if not_point.any():
            g = g.copy()
            g[not_point] = shapely.point_on_surface(g[not_point])
        xy = shapely.get_coordinates(g)
        if len(xy) != len(g):
            msg = f"{name} have empty geometries; drop them first"
            raise ValueError(msg)
        return pd.Index(points.index), xy.astype("float64"), gcrs
    xy = np.asarray(points, dtype="float64")
    if xy.ndim != 2 or xy.shape[1] != 2:
        msg = f"{name} must be an (n, 2) array of x, y or a GeoDataFrame"
        raise ValueError(msg)
    if crs is None:
        msg = f"give crs= for the {name} coordinates, e.g. crs=4549 or crs=4326"
        raise ValueError(msg)
    return pd.RangeIndex(len(xy)), xy, resolve_crs(crs)


def _to(xy: Float, src: CRS, dst: CRS) -> Float:
    if src.equals(dst):
        return xy
    tr = Transformer.from_crs(src, dst, always_xy=True)
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y]).astype("float64")


def _walk_pairs(
    a_xy: Float, b_xy: Float, max_m: float, walk: WalkNetwork | None
) -> tuple[Int, Int, Float]:
    if walk is not None:
        return walk.pairs(a_xy, b_xy, max_m)
    cand = cKDTree(a_xy).sparse_distance_matrix(
        cKDTree(b_xy), max_m, output_type="ndarray"
    )
    return cand["i"].astype(np.int64), cand["j"].astype(np.int64), cand["v"]


def transit_travel_times(
    origins: Any,
    destinations: Any,
    feed: Feed | Sequence[Feed] | Timetable,
    *,
    date: Any = None,
    window: tuple[str | float, str | float] = ("07:00", "09:00"),
    step_min: float = 1,
    percentile: float = 50,
    walk_speed_kph: float = 4.5,
    max_walk_m: float = 800.0,
    transfer_max_m: float = 400.0,
    min_transfer_s: float = 60.0,
    max_transfers: int = 3,
    max_travel_min: float = 120,
    network: nx.MultiDiGraph | None = None,
    crs: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Door-to-door walk + transit travel times, summarised over a window.

    For each departure time ``window[0], window[0] + step_min, ...`` before
    ``window[1]``, the earliest arrival at each destination is found by
    RAPTOR (rRAPTOR over the window): walk from the origin to any stop within
    ``max_walk_m``, wait, ride, transfer (at most ``max_transfers`` times,
    walking up to ``transfer_max_m`` between stops), and walk from the last
    stop to the destination (again up to ``max_walk_m``). Walking all the way
    is always an option, without a distance limit. The travel time of a
    departure is its arrival minus the departure time (initial wait
    included); the result is the ``percentile`` of these over the window.

    Parameters
    ----------
    origins, destinations
        Points as a GeoDataFrame/GeoSeries (its index gives the ids; other
        geometries are replaced by a point on their surface) or an
        ``(n, 2)`` array of x, y with ``crs``.
    feed
        One or more feeds from :func:`cim.transit.read_gtfs`, or a
        :class:`~cim.transit.raptor.Timetable` already built for the day (to
        reuse it; it then fixes the date and the transfer settings).
    date
        Service date (``"2019-05-13"``); not needed with a Timetable.
    window
        First and last-plus-one departure time (``"07:00"`` or seconds).
    step_min
        Minutes between departure times [min].
    percentile
        Which travel time over the window to report, 0 to 100 (nearest rank:
        0 is the best departure, 50 the median, 100 the worst) [%].
    walk_speed_kph
        Walking speed [km/h].
    max_walk_m
        Longest walk to the first stop and from the last stop [m].
    transfer_max_m
        Longest walk between two stops when transferring [m].
    min_transfer_s
        Slack before boarding another vehicle [s].
    max_transfers
        Most transfers (``max_transfers + 1`` vehicles).
    max_travel_min
        Times longer than this are reported as NaN; it also bounds the search
        [min].
    network
        Street graph to walk along (see :class:`WalkNetwork`) instead of
        straight lines.
    crs
        CRS of array inputs; a geographic CRS is projected to the local UTM
        zone of the stops.
    progress
        Log progress every 10 % of origins (logger ``cim.transit.circles``).

    Returns
    -------
    pandas.DataFrame
        ``(n_origins, n_destinations)`` travel time [s] as floats, NaN where
        it exceeds ``max_travel_min``; index ``origin_id``, columns
        ``destination_id``.

    Notes
    -----
    Walks are timed in whole seconds, rounded up. Computation is one
    rRAPTOR per origin over all departure times; see
    :func:`cim.transit.raptor.range_arrivals`.
    """
    if not 0 <= percentile <= 100:
        msg = f"invalid percentile {percentile!r}; expected 0 to 100"
        raise ValueError(msg)
    if step_min <= 0:
        msg = f"invalid step_min {step_min!r}; expected > 0"
        raise ValueError(msg)
    speed = walk_speed_kph / 3.6
    if speed <= 0:
        msg = f"invalid walk_speed_kph {walk_speed_kph!r}; expected > 0"
        raise ValueError(msg)
    o_ids, o_xy, o_crs = _points(origins, crs, "origins")
    d_ids, d_xy, d_crs = _points(destinations, crs, "destinations")
    w0, w1 = (time_to_seconds(w) for w in window)
    max_travel_s = round(max_travel_min * 60)
    deps = np.arange(w0, w1, step_min * 60.0).round().astype(np.int64)
    if not len(deps):
        msg = f"empty departure window {window!r}; the end must be after the start"
        raise ValueError(msg)

    if isinstance(feed, Timetable):
        tt = feed
        if date is not None and pd.Timestamp(date).normalize() != tt.date:
            msg = f"the timetable is for {tt.date.date()}, not {date}"
            raise ValueError(msg)
        built = tt.params.get("window")
        if built is not None:
            b0, b1 = (time_to_seconds(b) for b in built)
            if b0 > w0 or b1 < deps[-1]:
                msg = (
                    f"the timetable keeps trips running between {built[0]} and "
                    f"{built[1]}, which does not cover the departure window "
                    f"{window}; build it with window=(start, end + max travel time)"
                )
                raise ValueError(msg)
    else:
        if date is None:
            msg = "give date= (the service day), e.g. date='2019-05-13'"
            raise ValueError(msg)
        work = o_crs if is_metric(o_crs) else None
        tt = Timetable.from_feed(
            feed,
            date,
            crs=work,
            window=(w0, int(deps[-1]) + max_travel_s),
            walk_speed_kph=walk_speed_kph,
            transfer_max_m=transfer_max_m,
            min_transfer_s=min_transfer_s,
            network=network,
        )
    o_xy = _to(o_xy, o_crs, tt.crs)
    d_xy = _to(d_xy, d_crs, tt.crs)
    walk = WalkNetwork(network, crs=tt.crs) if network is not None else None

    # Access (origin -> stop) and egress (stop -> destination) walks [s].
    ao, a_stop, a_m = _walk_pairs(o_xy, tt.stop_xy, max_walk_m, walk)
    e_stop, e_d, e_m = _walk_pairs(tt.stop_xy, d_xy, max_walk_m, walk)
    a_s = np.ceil(a_m / speed).astype(np.int64)
    e_s = np.ceil(e_m / speed)
    order = np.lexsort((e_stop, e_d))
    e_stop, e_d, e_s = e_stop[order], e_d[order], e_s[order]
    a_order = np.argsort(ao, kind="stable")
    ao, a_stop, a_s = ao[a_order], a_stop[a_order], a_s[a_order]
    a_ptr = np.searchsorted(ao, np.arange(len(o_xy) + 1))
    # Used egress stops only, to keep the per-origin arrays small.
    e_used, e_col = np.unique(e_stop, return_inverse=True)

    if walk is not None:
        wo, wd, wm = walk.pairs(o_xy, d_xy, max_travel_s * speed)
        direct_pairs: tuple[Int, Int, Float] | None = (wo, wd, np.ceil(wm / speed))
    else:
        direct_pairs = None

    n_o, n_d = len(o_xy), len(d_xy)
    out = np.full((n_o, n_d), np.inf)
    rank = max(int(np.ceil(percentile / 100 * len(deps))) - 1, 0)
    step = max(n_o // 10, 1)
    for i in range(n_o):
        if direct_pairs is None:
            direct = np.ceil(np.hypot(*(d_xy - o_xy[i]).T) / speed)
        else:
            m = direct_pairs[0] == i
            direct = np.full(n_d, np.inf)
            direct[direct_pairs[1][m]] = direct_pairs[2][m]
        travel = np.broadcast_to(direct, (len(deps), n_d)).copy()
        lo, hi = a_ptr[i], a_ptr[i + 1]
        if hi > lo and len(e_used):
            arrivals = range_arrivals(
                tt,
                (a_stop[lo:hi], a_s[lo:hi]),
                deps,
                max_transfers=max_transfers,
                max_travel_s=max_travel_s,
            )[:, e_used]
            # Egress from the stops reached at all, per destination.
            use = np.asarray(np.isfinite(arrivals).any(axis=0))[e_col]
            if use.any():
                d_of = e_d[use]
                starts = np.flatnonzero(np.r_[True, d_of[1:] != d_of[:-1]])
                at_dest = np.minimum.reduceat(
                    arrivals[:, e_col[use]] + e_s[use], starts, axis=1
                )
                cols = d_of[starts]
                travel[:, cols] = np.minimum(travel[:, cols], at_dest - deps[:, None])
        out[i] = np.partition(travel, rank, axis=0)[rank]
        if progress and (i + 1) % step == 0:
            _log.info("transit travel times: %d of %d origins", i + 1, n_o)
    out[out > max_travel_s] = np.nan
    return pd.DataFrame(
        out,
        index=pd.Index(o_ids, name="origin_id"),
        columns=pd.Index(d_ids, name="destination_id"),
    )


def transit_circle(
    origins: Any,
    destinations: Any,
    feed: Feed | Sequence[Feed] | Timetable,
    *,
    cutoff_min: float = 30,
    **kwargs: Any,
) -> pd.DataFrame:
    """The destinations each origin reaches by walk + transit within a cutoff.

    Parameters
    ----------
    origins, destinations, feed
        As for :func:`transit_travel_times`.
    cutoff_min
        The circle's travel time [min]: 30 for the 30-minute circle.
    **kwargs
        Any other option of :func:`transit_travel_times` (``date``,
        ``window``, ``percentile``, ``max_walk_m`` ...).

    Returns
    -------
    pandas.DataFrame
        One row per origin and reachable destination: ``origin_id``,
        ``destination_id`` and ``travel_time_s`` [s] (at most ``cutoff_min``
        minutes), sorted by origin and travel time.

    Examples
    --------
    Facilities within 30 minutes of each building (centroids), on a weekday
    morning::

        circle = transit_circle(buildings.centroid, facilities, feeds,
                                date="2019-05-13", window=("07:00", "09:00"))
        counts = circle.merge(facilities, left_on="destination_id",
                              right_index=True).groupby(["origin_id", "category"])
    """
    times = transit_travel_times(
        origins, destinations, feed, max_travel_min=cutoff_min, **kwargs
    )
    long = times.stack().rename("travel_time_s").reset_index()
    long = long[long["travel_time_s"] <= cutoff_min * 60]
    return long.sort_values(
        ["origin_id", "travel_time_s", "destination_id"], ignore_index=True
    )


def twin_transit_circles(
    twin: Twin,
    feed: Feed | Sequence[Feed] | Timetable,
    *,
    cutoff_min: float = 30.0,
    date: Any = None,
    window: tuple[str | float, str | float] = ("07:00", "09:00"),
    **kwargs: Any,
) -> pd.DataFrame:
    """Each building's transit circle: walk + wait + ride + transfer to facilities.

    For every building of the twin (from a point on its footprint) and every
    facility, the door-to-door travel time by :func:`transit_travel_times`
    over the departure window; then, per building and facility category, the
    time to the nearest facility and the number within ``cutoff_min``.

    Parameters
    ----------
    twin
        The twin (buildings and facilities in its metric CRS).
    feed
        As for :func:`transit_travel_times`.
    cutoff_min
        The circle [min]; 30 for the future-community 30-minute circle.
    date, window
        Service date and departure window, as for :func:`transit_travel_times`.
    **kwargs
        Passed to :func:`transit_travel_times` (``percentile``,
        ``max_walk_m``, ``network`` ...).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``building_id``, with ``nearest_<category>_transit_s`` [s]
        (NaN where none is reachable within ``max_travel_min``) and
        ``count_<category>_<cutoff>min`` per facility category present.
    """
    b = twin.buildings
    f = twin.facilities
    origins = gpd.GeoSeries(
        b.geometry.representative_point().to_numpy(),
        index=pd.Index(b["building_id"], name="building_id"),
        crs=twin.crs,
    )
    dests = gpd.GeoSeries(
        f.geometry.to_numpy(), index=pd.Index(f["facility_id"]), crs=twin.crs
    )
    out = pd.DataFrame(index=origins.index)
    if not len(b) or not len(f):
        return out
    times = transit_travel_times(
        origins, dests, feed, date=date, window=window, crs=twin.crs, **kwargs
    )
    times = times.reindex(index=origins.index, columns=dests.index)
    cutoff_s = cutoff_min * 60.0
    label = f"{cutoff_min:g}min"
    categories = f.set_index("facility_id")["category"]
    for cat in sorted(categories.unique()):
        cols = categories.index[categories == cat]
        sub = times[cols].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            nearest = np.where(
                np.isnan(sub).all(axis=1),
                np.nan,
                np.nanmin(np.where(np.isnan(sub), np.inf, sub), axis=1),
            )
        out[f"nearest_{cat}_transit_s"] = nearest
        out[f"count_{cat}_{label}"] = (sub <= cutoff_s).sum(axis=1)
    return out
