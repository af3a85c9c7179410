"""Earliest-arrival transit routing with RAPTOR on one service day.

:class:`Timetable` turns one or more GTFS feeds into the arrays RAPTOR works
on for one date: *route patterns* (trips that visit the same stops in the same
order with the same pickup/drop-off rules, ordered so that no trip overtakes
another), their arrival and departure times, and walking *footpaths* between
stops. :func:`earliest_arrival` runs RAPTOR (Delling, Pajor and Werneck,
"Round-Based Public Transit Routing", ALENEX 2012) from a set of origin stops
with walking access times; :func:`range_arrivals` runs it for every departure
time of a window, latest first, keeping the labels between runs as rRAPTOR
does, so that each run only works on what changed.

Each round is vectorised with numpy: the stops improved in the previous round
are looked up in all their route patterns at once (one
:func:`numpy.searchsorted` over every pattern's departure columns), the
earliest trip along each pattern is a segmented running minimum, and the new
arrivals are reduced per stop by sorting.

Conventions
-----------
- Times are integer seconds since the start of the service day (see
  :mod:`cim.transit.gtfs`); trips of the previous day that run past midnight
  are included with their times moved back 24 h.
- A ride may be followed by a *transfer*: staying at the stop or walking a
  footpath, after which ``min_transfer_s`` must pass before boarding the
  next vehicle. The first boarding needs no slack. ``transfers.txt`` rules
  override this: type 2 sets the whole transfer time (walk plus slack) to
  ``min_transfer_time``, type 3 forbids the transfer; types 0 and 1 change
  nothing. Trip-to-trip and route-to-route transfers are ignored.
- Footpaths link stops closer than ``transfer_max_m``, walked at
  ``walk_speed_kph`` in a straight line in the timetable's metric CRS (or
  along a street network). Only one footpath is walked per transfer, as in
  R5; footpaths are not made transitive.
- ``pickup_type == 1`` forbids boarding and ``drop_off_type == 1`` alighting
  at a stop; other values (phone the agency, ask the driver) are treated as
  regular stops.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from cim.crs import check_metric_crs, utm_crs_for
from cim.transit.gtfs import Feed, _as_date, seconds_to_time, time_to_seconds

__all__ = [
    "RaptorResult",
    "Timetable",
    "earliest_arrival",
    "range_arrivals",
]

_log = logging.getLogger(__name__)

Int = NDArray[np.int64]
Float = NDArray[np.float64]

#: "Never": larger than any time, small enough that sums do not overflow.
INF = np.iinfo(np.int64).max // 8
_DAY_S = 86_400
#: Offset making every time positive inside the boarding keys [s].
_OFF = 2 * _DAY_S
#: Stride between the departure columns inside the boarding keys [s].
_BIG = 1 << 21


def _expand(ptr: Int, items: Int) -> tuple[Int, Int]:
    """CSR rows ``items`` unrolled: (index into the data, owning position in items)."""
    starts = ptr[items]
    counts = ptr[items + 1] - starts
    owner = np.repeat(np.arange(len(items)), counts)
    first = np.cumsum(counts) - counts
    idx = np.arange(int(counts.sum())) - first[owner] + starts[owner]
    return idx.astype(np.int64), owner.astype(np.int64)


def _min_per_key(keys: Int, values: Int) -> tuple[Int, Int]:
    """Positions (into ``keys``) of the smallest value of each distinct key."""
    order = np.lexsort((values, keys))
    k = keys[order]
    first = np.ones(len(k), dtype=bool)
    np.not_equal(k[1:], k[:-1], out=first[1:])
    return order[first], k[first]


@dataclass(frozen=True, eq=False)
class Timetable:
    """The trips of one service day as arrays for RAPTOR.

    Build it with :meth:`from_feed`. Stops are numbered ``0 .. n_stops-1`` in
    the order of :attr:`stop_ids`; positions number the stops of every route
    pattern one after the other.

    Attributes
    ----------
    date
        The service date.
    crs
        The metric CRS of :attr:`stop_xy`.
    stop_ids
        ``(n_stops,)`` GTFS ``stop_id`` values; prefixed ``"<feed name>:"``
        when several feeds share a stop id.
    stop_xy
        ``(n_stops, 2) float`` stop coordinates in :attr:`crs` [m].
    route_ids
        ``(n_routes,)`` GTFS ``route_id`` of each route pattern.
    route_ptr
        ``(n_routes + 1,)`` the positions of pattern ``r`` are
        ``route_ptr[r]:route_ptr[r + 1]``.
    pos_stop, pos_route
        ``(n_positions,)`` stop and pattern at each position.
    trip_ptr, trip_ids
        Trips of pattern ``r`` (earliest first) are
        ``trip_ids[trip_ptr[r]:trip_ptr[r + 1]]``.
    col_ptr
        ``(n_positions + 1,)`` the times of all trips of a pattern at
        position ``p`` are ``arr[col_ptr[p]:col_ptr[p + 1]]`` (and ``dep``).
    arr, dep
        Arrival and departure times [s], :data:`INF` where drop-off
        (arrival) or pickup (departure) is not allowed.
    board_keys
        Sorted search keys ``p * 2**21 + dep + 172800`` of the boardable
        departures.
    stop_pos_ptr, stop_pos
        CSR lists of the positions where a vehicle can be boarded at each
        stop (not the last stop of a pattern, not where pickup is forbidden).
    fp_ptr, fp_to, fp_s
        CSR footpaths from each stop: target stop and the transfer time [s]
        (walk plus ``min_transfer_s``, or ``transfers.txt``'s time).
    stay_s
        ``(n_stops,)`` transfer time when staying at the stop [s];
        :data:`INF` where ``transfers.txt`` forbids it.
    params
        The settings the timetable was built with.
    """

    date: pd.Timestamp
    crs: CRS
    stop_ids: NDArray[np.object_]
    stop_xy: Float
    route_ids: NDArray[np.object_]
    route_ptr: Int
    pos_stop: Int
    pos_route: Int
    trip_ptr: Int
    trip_ids: NDArray[np.object_]
    col_ptr: Int
    arr: Int
    dep: Int
    board_keys: Int
    stop_pos_ptr: Int
    stop_pos: Int
    fp_ptr: Int
    fp_to: Int
    fp_s: Int
    stay_s: Int
    params: dict[str, Any]

    @property
    def n_stops(self) -> int:
        """Number of stops."""
        return len(self.stop_ids)

    @property
    def n_routes(self) -> int:
        """Number of route patterns."""
        return len(self.route_ids)

    @property
    def n_trips(self) -> int:
        """Number of trips on the day (after the window cut)."""
        return len(self.trip_ids)

    def __repr__(self) -> str:
        return (
            f"Timetable({self.date.date()}: {self.n_stops} stops, {self.n_routes} "
            f"route patterns, {self.n_trips} trips, {len(self.fp_to)} footpaths)"
        )

    def stop_index(self, stop_ids: Any) -> Int:
        """Indices of GTFS stop ids.

        Parameters
        ----------
        stop_ids
            One id or a sequence of ids.

        Returns
        -------
        numpy.ndarray
            ``(n,) int``

        Raises
        ------
        KeyError
            If an id is not a stop of the timetable.
        """
        ids = [stop_ids] if isinstance(stop_ids, str) else list(stop_ids)
        lookup = pd.Index(self.stop_ids)
        idx: Int = np.asarray(lookup.get_indexer(ids), dtype=np.int64)
        if (idx < 0).any():
            bad = [i for i, j in zip(ids, idx, strict=True) if j < 0][:5]
            msg = f"stops {bad} are not in the timetable (ids are GTFS stop_id)"
            raise KeyError(msg)
        return idx

    @classmethod
    def from_feed(
        cls,
        feed: Feed | Sequence[Feed],
        date: Any,
        *,
        crs: Any = None,
        window: tuple[Any, Any] | None = None,
        walk_speed_kph: float = 4.5,
        transfer_max_m: float = 400.0,
        min_transfer_s: float = 60.0,
        network: nx.MultiDiGraph | None = None,
    ) -> Timetable:
        """Build the timetable of one service date.

        Parameters
        ----------
        feed
            One feed or several (e.g. buses and metro of one city); their
            stops are linked by footpaths.
        date
            The service date, e.g. ``"2019-05-13"``.
        crs
            Metric CRS for distances; by default the UTM zone of the stops.
        window
            ``(start, end)`` times (``"07:00"`` or seconds): keep only trips
            that are running at some time between ``start`` and ``end``. Use
            the end of the departure window plus the longest travel time.
        walk_speed_kph
            Walking speed on footpaths [km/h].
        transfer_max_m
            Longest footpath between two stops [m].
        min_transfer_s
            Slack between alighting and boarding another vehicle [s].
        network
            Street graph (:mod:`cim.network` model, ``length_m`` on edges) to
            walk footpaths along instead of straight lines. It is treated as
            undirected and projected to ``crs`` if needed.

        Returns
        -------
        Timetable

        Raises
        ------
        ValueError
            If no trip runs on ``date`` (in ``window``).
        """
        feeds = [feed] if isinstance(feed, Feed) else list(feed)
        if not feeds:
            msg = "no feed given; pass a Feed from cim.transit.read_gtfs"
            raise ValueError(msg)
        day = _as_date(date)
        speed = walk_speed_kph / 3.6
        if speed <= 0:
            msg = f"invalid walk_speed_kph {walk_speed_kph!r}; expected > 0"
            raise ValueError(msg)

        # -- stops ---------------------------------------------------------
        per_feed = []
        for i, f in enumerate(feeds):
            st = f.stop_times_on(day, overnight=True)
            st["feed"] = i
            used = set(st["stop_id"])
            keep = (f.stops["location_type"] == 0) | f.stops["stop_id"].isin(used)
            per_feed.append((f.stops.loc[keep], st))
        all_ids = pd.concat([s["stop_id"] for s, _ in per_feed], ignore_index=True)
        prefix = bool(all_ids.duplicated().any())
        ids: list[NDArray[np.object_]] = []
        lon: list[Float] = []
        lat: list[Float] = []
        st_frames: list[pd.DataFrame] = []
        for (stops, st), f in zip(per_feed, feeds, strict=True):
            own = stops["stop_id"].to_numpy(dtype=object)
            shown = (
                np.array([f"{f.name}:{s}" for s in own], dtype=object)
                if prefix
                else own
            )
            base = sum(len(x) for x in ids)
            ids.append(shown)
            lon.append(stops["stop_lon"].to_numpy("float64"))
            lat.append(stops["stop_lat"].to_numpy("float64"))
            where = pd.Series(np.arange(len(own)) + base, index=own)
            st = st.assign(stop=where.reindex(st["stop_id"].to_numpy()).to_numpy())
            st_frames.append(st)
        stop_ids = np.concatenate(ids)
        lon_a, lat_a = np.concatenate(lon), np.concatenate(lat)
        work_crs = _metric_crs(crs, lon_a, lat_a)
        to_xy = Transformer.from_crs("EPSG:4326", work_crs, always_xy=True)
        x, y = to_xy.transform(lon_a, lat_a)
        stop_xy = np.column_stack([x, y]).astype("float64")

        # -- trips and patterns ---------------------------------------------
        st = pd.concat(st_frames, ignore_index=True)
        if window is not None:
            w0, w1 = (time_to_seconds(w) for w in window)
            key = [st["feed"], st["service_date"], st["trip_id"]]
            first = st.groupby(key, sort=False)["departure_s"].transform("min")
            last = st.groupby(key, sort=False)["arrival_s"].transform("max")
            st = st[(last >= w0).to_numpy() & (first <= w1).to_numpy()]
        if not len(st):
            spans = [f.service_range() for f in feeds]
            shown = "; ".join(
                f"{f.name} {s[0].date()} to {s[1].date()}" if s else f"{f.name} none"
                for f, s in zip(feeds, spans, strict=True)
            )
            msg = (
                f"no trips run on {day.date()}"
                + (f" between {window[0]} and {window[1]}" if window else "")
                + f"; the calendars cover: {shown}"
            )
            raise ValueError(msg)
        routes = _patterns(st)

        # -- footpaths -----------------------------------------------------
        n = len(stop_ids)
        if network is not None:
            from cim.transit.circles import WalkNetwork

            walk = WalkNetwork(network, crs=work_crs)
            src, dst, dist = walk.pairs(stop_xy, stop_xy, transfer_max_m)
            off = src != dst
            src, dst, dist = src[off], dst[off], dist[off]
        else:
            tree = cKDTree(stop_xy)
            pairs = tree.query_pairs(transfer_max_m, output_type="ndarray")
            pairs = pairs.astype(np.int64).reshape(-1, 2)
            d = np.hypot(*(stop_xy[pairs[:, 0]] - stop_xy[pairs[:, 1]]).T)
            src = np.r_[pairs[:, 0], pairs[:, 1]]
            dst = np.r_[pairs[:, 1], pairs[:, 0]]
            dist = np.r_[d, d]
        slack = round(min_transfer_s)
        fp_s = np.ceil(dist / speed).astype(np.int64) + slack
        stay = np.full(n, slack, dtype=np.int64)
        src, dst, fp_s, stay = _apply_transfers(
            feeds, stop_ids, prefix, src, dst, fp_s, stay
        )
        order = np.lexsort((dst, src))
        src, dst, fp_s = src[order], dst[order], fp_s[order]
        fp_ptr = np.searchsorted(src, np.arange(n + 1)).astype(np.int64)

        tt = cls(
            date=day,
            crs=work_crs,
            stop_ids=stop_ids,
            stop_xy=stop_xy,
            fp_ptr=fp_ptr,
            fp_to=dst.astype(np.int64),
            fp_s=fp_s.astype(np.int64),
            stay_s=stay,
            params={
                "walk_speed_kph": walk_speed_kph,
                "transfer_max_m": transfer_max_m,
                "min_transfer_s": min_transfer_s,
                "window": window,
                "network": network is not None,
                "feeds": [f.name for f in feeds],
            },
            **_route_arrays(routes, n),
        )
        _log.info("built %r", tt)
        return tt


def _metric_crs(crs: Any, lon: Float, lat: Float) -> CRS:
    if crs is None:
        ok = np.isfinite(lon) & np.isfinite(lat)
        return utm_crs_for(float(np.mean(lon[ok])), float(np.mean(lat[ok])))
    return check_metric_crs(crs, layer="stops")


@dataclass
class _Pattern:
    route_id: str
    stops: Int
    trip_ids: list[str]
    arr: Int  # (T, L)
    dep: Int  # (T, L)


def _patterns(st: pd.DataFrame) -> list[_Pattern]:
    """Group the day's trips into FIFO route patterns."""
    trip_key = pd.factorize(
        pd.MultiIndex.from_arrays([st["feed"], st["service_date"], st["trip_id"]])
    )[0]
    starts = np.flatnonzero(np.r_[True, trip_key[1:] != trip_key[:-1]])
    ends = np.r_[starts[1:], len(st)]
    stops = st["stop"].to_numpy(np.int64)
    nopick = (st["pickup_type"].to_numpy() == 1).astype(np.int8)
    nodrop = (st["drop_off_type"].to_numpy() == 1).astype(np.int8)
    arr = st["arrival_s"].to_numpy(np.int64)
    dep = st["departure_s"].to_numpy(np.int64)
    route = st["route_id"].to_numpy(dtype=object)
    trip = st["trip_id"].to_numpy(dtype=object)
    feed = st["feed"].to_numpy()
    groups: dict[tuple[Any, ...], list[int]] = {}
    for t, (a, b) in enumerate(zip(starts, ends, strict=True)):
        key = (
            feed[a],
            route[a],
            stops[a:b].tobytes(),
            nopick[a:b].tobytes(),
            nodrop[a:b].tobytes(),
        )
        groups.setdefault(key, []).append(t)
    out: list[_Pattern] = []
    for key, members in groups.items():
        tr = np.asarray(members)
        L = int(ends[tr[0]] - starts[tr[0]])
        rows = starts[tr][:, None] + np.arange(L)
        a_m, d_m = arr[rows], dep[rows]
        a_m = np.where(nodrop[rows] == 1, INF, a_m)
        d_m = np.where(nopick[rows] == 1, INF, d_m)
        # Earliest first, ties broken by the later stops.
        order = np.lexsort(d_m.T[::-1])
        a_m, d_m, tr = a_m[order], d_m[order], tr[order]
        ids = [str(trip[starts[t]]) for t in tr]
        pstops = stops[starts[tr[0]] : ends[tr[0]]]
        for chain in _fifo_chains(a_m, d_m):
            out.append(
                _Pattern(
                    route_id=str(key[1]),
                    stops=pstops,
                    trip_ids=[ids[i] for i in chain],
                    arr=a_m[chain],
                    dep=d_m[chain],
                )
            )
    return out


def _fifo_chains(arr: Int, dep: Int) -> list[Int]:
    """Split trips (sorted by first departure) so that none overtakes another."""
    ok = (np.diff(arr, axis=0) >= 0).all() and (np.diff(dep, axis=0) >= 0).all()
    if ok:
        return [np.arange(len(arr))]
    chains: list[list[int]] = []
    for i in range(len(arr)):
        for c in chains:
            last = c[-1]
            if (arr[i] >= arr[last]).all() and (dep[i] >= dep[last]).all():
                c.append(i)
                break
        else:
            chains.append([i])
    return [np.asarray(c) for c in chains]


def _route_arrays(routes: list[_Pattern], n_stops: int) -> dict[str, Any]:
    lens = np.array([len(r.stops) for r in routes], dtype=np.int64)
    ntrips = np.array([len(r.trip_ids) for r in routes], dtype=np.int64)
    route_ptr = np.r_[0, np.cumsum(lens)].astype(np.int64)
    trip_ptr = np.r_[0, np.cumsum(ntrips)].astype(np.int64)
    pos_stop = np.concatenate([r.stops for r in routes]).astype(np.int64)
    pos_route = np.repeat(np.arange(len(routes)), lens).astype(np.int64)
    # Column-major times: all trips of a pattern at one position together.
    arr = np.concatenate([r.arr.T.ravel() for r in routes]).astype(np.int64)
    dep = np.concatenate([r.dep.T.ravel() for r in routes]).astype(np.int64)
    col_ptr = np.r_[0, np.cumsum(np.repeat(ntrips, lens))].astype(np.int64)
    finite = dep[dep < INF]
    if len(finite) and (finite.min() + _OFF < 0 or finite.max() + _OFF >= _BIG - 1):
        msg = "stop times beyond -48 h .. 480 h of the service day are not supported"
        raise ValueError(msg)
    col_of = np.repeat(np.arange(len(pos_stop)), np.diff(col_ptr))
    board_keys = col_of * _BIG + np.minimum(dep + _OFF, _BIG - 1)
    # Boardable positions: not a pattern's last stop, pickup allowed.
    last = np.zeros(len(pos_stop), dtype=bool)
    last[route_ptr[1:] - 1] = True
    pickup = dep[col_ptr[:-1]] < INF
    boardable = np.flatnonzero(~last & pickup)
    order = np.lexsort((boardable, pos_stop[boardable]))
    stop_pos = boardable[order].astype(np.int64)
    stop_pos_ptr = np.searchsorted(pos_stop[stop_pos], np.arange(n_stops + 1))
    return {
        "route_ids": np.array([r.route_id for r in routes], dtype=object),
        "route_ptr": route_ptr,
        "pos_stop": pos_stop,
        "pos_route": pos_route,
        "trip_ptr": trip_ptr,
        "trip_ids": np.array([t for r in routes for t in r.trip_ids], dtype=object),
        "col_ptr": col_ptr,
        "arr": arr,
        "dep": dep,
        "board_keys": board_keys.astype(np.int64),
        "stop_pos_ptr": stop_pos_ptr.astype(np.int64),
        "stop_pos": stop_pos,
    }


def _apply_transfers(
    feeds: list[Feed],
    stop_ids: NDArray[np.object_],
    prefix: bool,
    src: Int,
    dst: Int,
    fp_s: Int,
    stay: Int,
) -> tuple[Int, Int, Int, Int]:
    """Apply ``transfers.txt`` (types 2 and 3) to footpaths and stays."""
    rules = []
    for f in feeds:
        t = f.transfers
        if not len(t):
            continue
        if "from_trip_id" in t or "from_route_id" in t:
            generic = np.ones(len(t), dtype=bool)
            for c in ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id"):
                if c in t:
                    generic &= (t[c].fillna("") == "").to_numpy()
            t = t[generic]
        name = f"{f.name}:" if prefix else ""
        rules.append(
            pd.DataFrame(
                {
                    "a": name + t["from_stop_id"].astype(str),
                    "b": name + t["to_stop_id"].astype(str),
                    "type": t["transfer_type"].to_numpy(),
                    "s": t["min_transfer_time"].to_numpy(),
                }
            )
        )
    if not rules:
        return src, dst, fp_s, stay
    r = pd.concat(rules, ignore_index=True)
    index = pd.Index(stop_ids)
    a, b = index.get_indexer(r["a"]), index.get_indexer(r["b"])
    known = (a >= 0) & (b >= 0)
    r, a, b = r[known], a[known], b[known]
    stay = stay.copy()
    types = r["type"].to_numpy()
    secs = r["s"].to_numpy()
    n = len(stop_ids)
    pair = src * n + dst
    fp = pd.Series(fp_s, index=pair)
    for ai, bi, ty, s in zip(a, b, types, secs, strict=True):
        if ty == 3:
            if ai == bi:
                stay[ai] = INF
            else:
                fp = fp.drop(ai * n + bi, errors="ignore")
        elif ty == 2 and np.isfinite(s):
            if ai == bi:
                stay[ai] = round(s)
            else:
                fp.loc[ai * n + bi] = round(s)
    keys = fp.index.to_numpy(np.int64)
    return keys // n, keys % n, fp.to_numpy(np.int64), stay


# -- the search ---------------------------------------------------------------


class _Search:
    """RAPTOR labels for one origin, reused across departures (rRAPTOR)."""

    def __init__(self, tt: Timetable, rounds: int, *, track: bool = False) -> None:
        self.tt = tt
        self.K = rounds
        n = tt.n_stops
        # arr[k, s]: earliest arrival at s by vehicle with at most k rides;
        # ready[k, s]: earliest time to board at s after at most k rides.
        self.arr = np.full((rounds + 1, n), INF, dtype=np.int64)
        self.ready = np.full((rounds + 1, n), INF, dtype=np.int64)
        self.track = track
        if track:
            self.ride_pos = np.full((rounds + 1, n), -1, dtype=np.int64)
            self.ride_trip = np.full((rounds + 1, n), -1, dtype=np.int64)
            self.ride_board = np.full((rounds + 1, n), -1, dtype=np.int64)
            self.walk_from = np.full((rounds + 1, n), -1, dtype=np.int64)
        self._lmax = int(np.diff(tt.route_ptr).max()) + 1 if tt.n_routes else 1
        tmax = int(np.diff(tt.trip_ptr).max()) if tt.n_routes else 0
        self._none = (tmax + 1) * self._lmax
        self._stride = self._none + 1
        self._tmp = np.full(n, INF, dtype=np.int64)

    def _reduce(
        self, keys: Int, values: Int
    ) -> tuple[Int, Int, NDArray[np.intp] | None]:
        """Smallest value per key: (keys, values, positions if tracking)."""
        if self.track:
            pick, k = _min_per_key(keys, values)
            return k, values[pick], pick
        tmp = self._tmp
        np.minimum.at(tmp, keys, values)
        u = np.flatnonzero(tmp < INF)
        v = tmp[u]
        tmp[u] = INF
        return u.astype(np.int64), v, None

    def run(self, t: int, acc_idx: Int, acc_s: Int, limit: int) -> None:
        """One RAPTOR query departing at ``t``, improving the current labels."""
        tt = self.tt
        r0 = t + acc_s
        better = r0 < np.minimum(self.ready[0, acc_idx], limit + 1)
        marked, vals = acc_idx[better], r0[better]
        self.ready[:, marked] = np.minimum(self.ready[:, marked], vals)
        if self.track:
            self.walk_from[0, marked] = -2
        for k in range(1, self.K + 1):
            if not len(marked):
                break
            # Board: the earliest trip at every boardable position of a
            # marked stop (one sorted search over all departure columns).
            idx, owner = _expand(tt.stop_pos_ptr, marked)
            p = tt.stop_pos[idx]
            order = np.argsort(p)
            p = p[order]
            ready = self.ready[k - 1, marked[owner[order]]]
            needles = p * _BIG + np.minimum(ready + _OFF, _BIG - 2)
            trip = np.searchsorted(tt.board_keys, needles) - tt.col_ptr[p]
            ok = trip < tt.col_ptr[p + 1] - tt.col_ptr[p]
            if not ok.any():
                break
            p, trip = p[ok], trip[ok]
            r = tt.pos_route[p]
            first = np.empty(len(r), dtype=bool)
            first[0] = True
            np.not_equal(r[1:], r[:-1], out=first[1:])
            seg_of = np.cumsum(first) - 1
            ur = r[first]
            t_start = p[first] + 1
            lens = tt.route_ptr[ur + 1] - t_start
            seg_off = np.cumsum(lens) - lens
            total = int(lens.sum())
            seg = np.repeat(np.arange(len(ur)), lens)
            tail = np.arange(total) - seg_off[seg] + t_start[seg]
            # Ride: the earliest trip boarded at or before each later stop
            # (a running minimum per pattern; trips never overtake).
            code = np.full(total, self._none, dtype=np.int64)
            slot = seg_off[seg_of] + (p + 1 - t_start[seg_of])
            code[slot] = trip * self._lmax + (p - tt.route_ptr[r])
            shift = seg * self._stride
            code = np.minimum.accumulate(code - shift) + shift
            ride = code < self._none
            tail, code = tail[ride], code[ride]
            a = tt.arr[tt.col_ptr[tail] + code // self._lmax]
            s = tt.pos_stop[tail]
            better = a < np.minimum(self.arr[k, s], limit + 1)
            if not better.any():
                break
            s, a, pick = self._reduce(s[better], a[better])
            self.arr[k:, s] = np.minimum(self.arr[k:, s], a)
            if self.track:
                assert pick is not None
                tail_b, code_b = tail[better][pick], code[better][pick]
                self.ride_pos[k, s] = tail_b
                self.ride_trip[k, s] = code_b // self._lmax
                self.ride_board[k, s] = code_b % self._lmax
            # Transfer: stay or walk a footpath, then the transfer slack.
            fidx, fown = _expand(tt.fp_ptr, s)
            to = np.concatenate([s, tt.fp_to[fidx]])
            when = np.concatenate([a + tt.stay_s[s], a[fown] + tt.fp_s[fidx]])
            better = when < np.minimum(self.ready[k, to], limit + 1)
            marked, when, pick = self._reduce(to[better], when[better])
            self.ready[k:, marked] = np.minimum(self.ready[k:, marked], when)
            if self.track:
                assert pick is not None
                frm = np.concatenate([s, s[fown]])
                self.walk_from[k, marked] = frm[better][pick]


def _access_arrays(tt: Timetable, access: Any) -> tuple[Int, Int]:
    if isinstance(access, tuple) and len(access) == 2:
        idx = np.asarray(access[0], dtype=np.int64)
        secs = np.asarray(access[1], dtype="float64")
    else:
        if isinstance(access, Mapping):
            access = pd.Series(access, dtype="float64")
        ser = pd.Series(access, dtype="float64")
        idx = tt.stop_index(ser.index)
        secs = ser.to_numpy("float64")
    if idx.shape != secs.shape or (secs < 0).any() or not np.isfinite(secs).all():
        msg = "access times must be one finite, non-negative number [s] per stop"
        raise ValueError(msg)
    secs_i = np.ceil(secs).astype(np.int64)
    pick, idx = _min_per_key(idx, secs_i)
    return idx, secs_i[pick]


def _rounds(max_transfers: int) -> int:
    if max_transfers < 0:
        msg = f"invalid max_transfers {max_transfers!r}; expected >= 0"
        raise ValueError(msg)
    return int(max_transfers) + 1


@dataclass(frozen=True, eq=False)
class RaptorResult:
    """Earliest arrivals at every stop for one departure time.

    Attributes
    ----------
    timetable
        The timetable searched.
    departure_s
        The departure time from the origin [s].
    arrival_s
        ``(n_stops,) float`` earliest arrival at each stop by a vehicle [s];
        ``inf`` where no stop is reached (walking-only arrivals at the access
        stops are not counted).
    rides
        ``(n_stops,) int`` vehicles used on the fastest journey with the
        fewest rides; 0 where not reached.
    """

    timetable: Timetable
    departure_s: int
    arrival_s: Float
    rides: Int
    _search: _Search

    def arrivals(self) -> pd.Series:
        """Arrival time [s] per ``stop_id`` (NaN where not reached)."""
        out = np.where(np.isfinite(self.arrival_s), self.arrival_s, np.nan)
        return pd.Series(
            out,
            index=pd.Index(self.timetable.stop_ids, name="stop_id"),
            name="arrival_s",
        )

    def journey(self, stop_id: str) -> pd.DataFrame:
        """The legs of the earliest journey to a stop.

        Parameters
        ----------
        stop_id
            A GTFS stop id of the timetable.

        Returns
        -------
        pandas.DataFrame
            One row per leg, in travel order: ``mode`` (``"access"``,
            ``"transit"`` or ``"transfer"``), ``from_stop``, ``to_stop``,
            ``route_id``, ``trip_id``, ``depart_s`` and ``arrive_s`` [s] (a
            transfer arrives when the next vehicle may be boarded, slack
            included), and ``depart``/``arrive`` as ``HH:MM:SS``.

        Raises
        ------
        KeyError
            If the stop is unknown; ValueError if it is not reached.
        """
        tt, sr = self.timetable, self._search
        s = int(tt.stop_index([stop_id])[0])
        if not np.isfinite(self.arrival_s[s]):
            msg = f"stop {stop_id!r} is not reached from the origin"
            raise ValueError(msg)
        legs: list[dict[str, Any]] = []
        k = int(np.argmax(sr.arr[:, s] == sr.arr[sr.K, s]))
        while True:
            pos = int(sr.ride_pos[k, s])
            trip = int(sr.ride_trip[k, s])
            r = int(tt.pos_route[pos])
            board = int(tt.route_ptr[r] + sr.ride_board[k, s])
            b = int(tt.pos_stop[board])
            legs.append(
                {
                    "mode": "transit",
                    "from_stop": tt.stop_ids[b],
                    "to_stop": tt.stop_ids[s],
                    "route_id": tt.route_ids[r],
                    "trip_id": tt.trip_ids[tt.trip_ptr[r] + trip],
                    "depart_s": int(tt.dep[tt.col_ptr[board] + trip]),
                    "arrive_s": int(tt.arr[tt.col_ptr[pos] + trip]),
                }
            )
            ready = sr.ready[k - 1, b]
            k = int(np.argmax(sr.ready[:k, b] == ready))
            if k == 0:
                legs.append(
                    {
                        "mode": "access",
                        "from_stop": None,
                        "to_stop": tt.stop_ids[b],
                        "route_id": None,
                        "trip_id": None,
                        "depart_s": self.departure_s,
                        "arrive_s": int(ready),
                    }
                )
                break
            f = int(sr.walk_from[k, b])
            legs.append(
                {
                    "mode": "transfer",
                    "from_stop": tt.stop_ids[f],
                    "to_stop": tt.stop_ids[b],
                    "route_id": None,
                    "trip_id": None,
                    "depart_s": int(sr.arr[k, f]),
                    "arrive_s": int(ready),
                }
            )
            s = f
            k = int(np.argmax(sr.arr[: k + 1, s] == sr.arr[k, s]))
        out = pd.DataFrame(legs[::-1])
        out["depart"] = out["depart_s"].map(seconds_to_time)
        out["arrive"] = out["arrive_s"].map(seconds_to_time)
        return out


def earliest_arrival(
    timetable: Timetable,
    access: Mapping[str, float] | pd.Series,
    departure: str | float,
    *,
    max_transfers: int = 3,
    max_travel_s: float | None = None,
) -> RaptorResult:
    """Earliest arrival at every stop from origin stops at one departure time.

    Parameters
    ----------
    timetable
        From :meth:`Timetable.from_feed`.
    access
        Walking time from the origin to each origin stop [s], by ``stop_id``;
        ``{"A": 0}`` starts at stop ``A``.
    departure
        Departure time from the origin (``"07:30"`` or seconds) [s].
    max_transfers
        At most ``max_transfers + 1`` vehicles (RAPTOR rounds).
    max_travel_s
        Ignore arrivals later than ``departure + max_travel_s`` [s].

    Returns
    -------
    RaptorResult

    Examples
    --------
    >>> res = earliest_arrival(tt, {"MR": 0}, "07:00")  # doctest: +SKIP
    >>> res.journey("NH")  # doctest: +SKIP
    """
    t = time_to_seconds(departure)
    acc_idx, acc_s = _access_arrays(timetable, access)
    search = _Search(timetable, _rounds(max_transfers), track=True)
    limit = INF if max_travel_s is None else t + round(max_travel_s)
    search.run(t, acc_idx, acc_s, limit)
    best = search.arr[search.K]
    reached = best < INF
    rides = np.where(reached, np.argmax(search.arr == best, axis=0), 0)
    return RaptorResult(
        timetable=timetable,
        departure_s=t,
        arrival_s=np.where(reached, best, np.inf).astype("float64"),
        rides=rides.astype(np.int64),
        _search=search,
    )


def range_arrivals(
    timetable: Timetable,
    access: Mapping[str, float] | pd.Series | tuple[Int, Float],
    departures: Sequence[float] | NDArray[Any],
    *,
    max_transfers: int = 3,
    max_travel_s: float | None = None,
) -> Float:
    """Earliest arrivals at every stop for each of many departure times.

    rRAPTOR: the departures are searched latest first and the labels are
    kept from one to the next (leaving later is never faster than leaving
    earlier and waiting), so each run only re-scans what the earlier
    departure improves. The result equals one :func:`earliest_arrival` per
    departure.

    Parameters
    ----------
    timetable
        From :meth:`Timetable.from_feed`.
    access
        Walking time to each origin stop [s], by ``stop_id``, or a tuple of
        stop indices and times.
    departures
        Departure times [s].
    max_transfers
        At most ``max_transfers + 1`` vehicles.
    max_travel_s
        Ignore arrivals later than each departure plus this [s].

    Returns
    -------
    numpy.ndarray
        ``(n_departures, n_stops) float`` arrival by vehicle [s], ``inf``
        where not reached, rows in the order of ``departures``.
    """
    deps = np.asarray([time_to_seconds(d) for d in np.asarray(departures).ravel()])
    acc_idx, acc_s = _access_arrays(timetable, access)
    search = _Search(timetable, _rounds(max_transfers))
    out = np.empty((len(deps), timetable.n_stops), dtype="float64")
    for i in np.argsort(-deps, kind="stable"):
        t = int(deps[i])
        limit = INF if max_travel_s is None else t + round(max_travel_s)
        search.run(t, acc_idx, acc_s, limit)
        out[i] = search.arr[search.K]
    out[out >= INF] = np.inf
    return out
