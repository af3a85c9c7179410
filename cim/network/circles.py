"""Travel circles: what every home reaches within 5, 10, 30 minutes.

:func:`travel_circles` answers, for every building of a twin, the travel
time to the nearest facility of each category and how many facilities of
each category lie within each circle, and the share of residents that each
circle covers. :func:`life_circle_coverage` checks the GB 50180-2018 life
circles: which required categories each home's 5-, 10- and 15-minute circle
lacks.

The searches run on :mod:`scipy.sparse.csgraph` over a
:class:`~cim.network.modes.RoutingGraph`. Places (buildings, facilities)
sit on street segments, not on nodes: each becomes a virtual node joined to
the two ends of its segment by the partial travel costs, plus its access
cost. Then

- the nearest facility of a category, for every home, is one multi-source
  Dijkstra (``min_only``) from that category's facilities on the reversed
  graph, whatever the number of homes;
- the counts within the circles come from one search per facility on the
  reversed graph, bounded by the largest circle and run in batches, whose
  rows are read at every home's two segment ends;
- two places on the same segment also reach each other directly along it.

Results equal networkx's Dijkstra on the graph split at every place, to
floating-point rounding; a facility counts as within a circle when its time
is at most the circle plus :data:`CUTOFF_TOL`.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from cim.layers import facility_categories
from cim.network.modes import (
    WALK_SPEED_KPH,
    RoutingGraph,
    _csr_min,
    mode_graph,
)
from cim.network.snap import SNAP_FLAG_M, snap

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "CUTOFF_TOL",
    "LIFE_CIRCLE_DISTANCE_M",
    "Access",
    "LifeCircleCoverage",
    "Places",
    "TravelCircles",
    "accessibility",
    "life_circle_coverage",
    "life_circle_walk",
    "life_circle_walk_m",
    "required_categories",
    "travel_circles",
]

_log = logging.getLogger(__name__)

#: Tolerance of "within a circle", in the search weight's unit (s or m).
CUTOFF_TOL: Final = 1e-6

#: GB 50180-2018 Table 3.0.4: walking distance [m] of the 5-, 10- and
#: 15-minute life circles (300 m, 500 m, 800-1,000 m; the upper bound is
#: used for the 15-minute circle).
LIFE_CIRCLE_DISTANCE_M: Final[Mapping[int, float]] = {5: 300.0, 10: 500.0, 15: 1000.0}

# Elements of one batch of search results (rows x columns); bounds memory
# at a few tens of MB.
_BATCH_ELEMENTS: Final = 1 << 21


# -- places on the network ------------------------------------------------------


@dataclass(frozen=True)
class Places:
    """Places joined to a :class:`RoutingGraph`, as virtual nodes.

    Each place has two anchors (graph nodes) with the cost from the place to
    each and from each to the place, in the graph's weight unit; an anchor
    that cannot be used has an infinite cost.

    Parameters
    ----------
    segment
        ``(k,)`` segment of each place, -1 for places at a node or off the
        network.
    fraction
        ``(k,)`` position along the segment [-].
    anchor
        ``(k, 2)`` node indices.
    cost_out
        ``(k, 2)`` cost from the place to each anchor.
    cost_in
        ``(k, 2)`` cost from each anchor to the place.
    access
        ``(k,)`` access cost between the place and the street, both ways.
    """

    segment: NDArray[np.intp]
    fraction: NDArray[np.float64]
    anchor: NDArray[np.intp]
    cost_out: NDArray[np.float64]
    cost_in: NDArray[np.float64]
    access: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.segment)

    @classmethod
    def at_nodes(cls, rg: RoutingGraph, nodes: Sequence[Hashable]) -> Places:
        """Places exactly at graph nodes.

        Parameters
        ----------
        rg
            The compiled graph.
        nodes
            Node ids.

        Returns
        -------
        Places
        """
        idx = rg.index_of(nodes)
        k = len(idx)
        cost = np.zeros((k, 2))
        cost[:, 1] = np.inf
        cost[rg.blocked[idx], 0] = np.inf
        return cls(
            segment=np.full(k, -1, dtype=np.intp),
            fraction=np.zeros(k),
            anchor=np.column_stack([idx, idx]).astype(np.intp),
            cost_out=cost,
            cost_in=cost.copy(),
            access=np.zeros(k),
        )

    @classmethod
    def from_snap(
        cls, rg: RoutingGraph, snapped: pd.DataFrame, *, access_cost_per_m: float
    ) -> Places:
        """Places from :func:`~cim.network.snap.snap` results.

        Parameters
        ----------
        rg
            The compiled graph the places were snapped to.
        snapped
            Output of :func:`~cim.network.snap.snap`.
        access_cost_per_m
            Cost of one metre of access (e.g. 3.6 / walking speed [s/m]).

        Returns
        -------
        Places
        """
        seg = snapped["segment"].to_numpy(np.intp)
        k = len(seg)
        ok = seg >= 0
        s = np.where(ok, seg, 0)
        t = np.where(ok, snapped["fraction"].to_numpy("float64"), 0.0)
        if len(rg.seg_u):
            u, v = rg.seg_u[s], rg.seg_v[s]
            fwd, bwd = rg.seg_fwd[s], rg.seg_bwd[s]
        else:
            u = v = np.zeros(k, dtype=np.intp)
            fwd = bwd = np.full(k, np.inf)
        out = np.column_stack([_part(t, bwd), _part(1 - t, fwd)])
        inn = np.column_stack([_part(t, fwd), _part(1 - t, bwd)])
        anchor = np.column_stack([u, v]).astype(np.intp)
        if rg.n:
            blocked = rg.blocked[anchor]
            out[blocked] = np.inf
            inn[blocked] = np.inf
        out[~ok] = np.inf
        inn[~ok] = np.inf
        access = snapped["access_m"].to_numpy("float64") * access_cost_per_m
        return cls(
            segment=np.where(ok, seg, -1).astype(np.intp),
            fraction=t,
            anchor=anchor,
            cost_out=out,
            cost_in=inn,
            access=np.where(ok, access, np.inf),
        )


def _part(frac: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    """``frac * w`` with ``0 * inf = 0`` (a place at a node is at the node)."""
    with np.errstate(invalid="ignore"):
        out = frac * w
    return np.where(frac <= 0, 0.0, out)


def _augmented(
    base: sp.csr_matrix, places: Places, cost: NDArray[np.float64]
) -> sp.csr_matrix:
    """``base`` plus one node per place, with edges to its anchors."""
    n = base.shape[0]
    k = len(places)
    coo = base.tocoo()
    c = cost + places.access[:, None]
    finite = np.isfinite(c)
    rows = np.repeat(np.arange(n, n + k), 2).reshape(k, 2)[finite]
    return _csr_min(
        np.concatenate([coo.row.astype(np.intp), rows]),
        np.concatenate([coo.col.astype(np.intp), places.anchor[finite]]),
        np.concatenate([coo.data, c[finite]]),
        n + k,
    )


def _direct(origins: Places, targets: Places, rg: RoutingGraph) -> pd.DataFrame:
    """Origin-target pairs on one segment, with the cost straight along it."""
    o = pd.DataFrame({"segment": origins.segment, "o": np.arange(len(origins))})
    t = pd.DataFrame({"segment": targets.segment, "t": np.arange(len(targets))})
    pairs = o[o["segment"] >= 0].merge(t[t["segment"] >= 0], on="segment")
    if not len(pairs):
        return pd.DataFrame({"o": [], "t": [], "cost": []})
    oi = pairs["o"].to_numpy(np.intp)
    ti = pairs["t"].to_numpy(np.intp)
    s = pairs["segment"].to_numpy(np.intp)
    d = targets.fraction[ti] - origins.fraction[oi]
    along = np.where(d > 0, _part(d, rg.seg_fwd[s]), _part(-d, rg.seg_bwd[s]))
    # A blocked end does not matter: the trip stays on the segment.
    cost = origins.access[oi] + along + targets.access[ti]
    keep = np.isfinite(cost)
    return pd.DataFrame({"o": oi[keep], "t": ti[keep], "cost": cost[keep]})


def _at_nodes(cost: NDArray[np.float64], places: Places) -> bool:
    """Whether every place is exactly at an open node (``cost``: one direction)."""
    return bool(
        (places.segment < 0).all()
        and (cost[:, 0] == 0).all()
        and np.isinf(cost[:, 1]).all()
        and (places.access == 0).all()
    )


def _times_at(
    D: NDArray[np.float64], origins: Places, *, at_nodes: bool = False
) -> NDArray[np.float64]:
    """Costs from origins to the search sources, from node costs ``D`` (rows)."""
    a = origins.anchor
    if at_nodes:
        if D.shape[1] == len(a) and (a[:, 0] == np.arange(len(a))).all():
            return D  # every node, in order: no copy
        return D[:, a[:, 0]]
    with np.errstate(invalid="ignore"):
        t0 = origins.cost_out[:, 0] + D[:, a[:, 0]]
        t1 = origins.cost_out[:, 1] + D[:, a[:, 1]]
    return np.minimum(t0, t1) + origins.access


@dataclass(frozen=True)
class Access:
    """Nearest-facility costs, counts within cutoffs and reachable pairs.

    Parameters
    ----------
    nearest
        ``(k_origins, n_groups)`` cost to the nearest target of each group
        (inf where none is reachable).
    counts
        ``(n_groups, n_cutoffs, k_origins)`` targets of each group within
        each cutoff.
    pairs
        Origin-target pairs within the largest cutoff: ``origin``, ``target``
        (positions) and ``cost``.
    nearest_target
        ``(k_origins, n_groups)`` position of the nearest target of each group
        (the one behind ``nearest``; among targets at one place, the first),
        -1 where none is reachable or ``nearest`` was not computed.
    """

    nearest: NDArray[np.float64]
    counts: NDArray[np.int64]
    pairs: pd.DataFrame
    nearest_target: NDArray[np.intp]


def _subset(places: Places, idx: NDArray[np.intp]) -> Places:
    return Places(
        segment=places.segment[idx],
        fraction=places.fraction[idx],
        anchor=places.anchor[idx],
        cost_out=places.cost_out[idx],
        cost_in=places.cost_in[idx],
        access=places.access[idx],
    )


def _unique_targets(
    targets: Places, groups: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Distinct targets (same place and group): first index, inverse, count."""
    key = np.column_stack(
        [
            groups,
            targets.segment,
            targets.fraction,
            targets.anchor,
            targets.cost_in,
            targets.access,
        ]
    ).astype("float64")
    _, first, inverse, count = np.unique(
        key, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    return first.astype(np.intp), inverse.reshape(-1).astype(np.intp), count


def accessibility(
    rg: RoutingGraph,
    origins: Places,
    targets: Places,
    *,
    groups: NDArray[np.intp],
    cutoffs: Sequence[float],
    pairs: bool = False,
    nearest: bool = True,
) -> Access:
    """Nearest target of each group and the counts within cutoffs, per origin.

    Parameters
    ----------
    rg
        The compiled graph.
    origins
        ``k_o`` places (homes).
    targets
        ``k_t`` places (facilities).
    groups
        ``(k_t,)`` group (category) code of each target, 0 to ``n_groups - 1``.
    cutoffs
        Circle sizes in the graph's weight unit ([s] or [m]).
    pairs
        Also list the origin-target pairs within the largest cutoff.
    nearest
        Compute the nearest target of each group (unbounded).

    Returns
    -------
    Access

    Notes
    -----
    Targets at the same place (several bus stops mapped to one node, say) are
    searched once and counted with their multiplicity. Targets exactly at
    nodes are searched from the nodes themselves, with no virtual node.
    """
    groups = np.asarray(groups, dtype=np.intp)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    k_o = len(origins)
    n = rg.n
    cuts = np.asarray(sorted(float(c) for c in cutoffs), dtype="float64")
    order_cut = np.argsort(np.argsort([float(c) for c in cutoffs]))
    counts = np.zeros((n_groups, len(cuts), k_o), dtype=np.int64)
    near = np.full((k_o, n_groups), np.inf)
    near_t = np.full((k_o, n_groups), -1, dtype=np.intp)
    found: list[pd.DataFrame] = []
    if n == 0 or k_o == 0 or len(targets) == 0:
        return Access(near, counts[:, order_cut], _pairs_frame(found), near_t)
    first, inverse, mult = _unique_targets(targets, groups)
    uniq = _subset(targets, first)
    g_u = groups[first]
    on_net = np.isfinite(uniq.access)
    if _at_nodes(uniq.cost_in, uniq):
        R = rg.csr_reverse
        source = uniq.anchor[:, 0]
    else:
        R = _augmented(rg.csr_reverse, uniq, uniq.cost_in)
        source = n + np.arange(len(uniq))
    direct = _direct(origins, uniq, rg)
    d_o = direct["o"].to_numpy(np.intp)
    d_t = direct["t"].to_numpy(np.intp)
    d_c = direct["cost"].to_numpy("float64")
    fast = _at_nodes(origins.cost_out, origins)
    if nearest:
        owner = np.full(R.shape[0], -1, dtype=np.intp)
        for g in range(n_groups):
            idx = np.flatnonzero((g_u == g) & on_net)
            if not len(idx):
                continue
            D, _, S = dijkstra(
                R,
                directed=True,
                indices=source[idx],
                min_only=True,
                return_predecessors=True,
            )
            near[:, g] = _times_at(D[None, :], origins, at_nodes=fast)[0]
            owner[source[idx]] = idx
            u = _source_at(D, S, origins, at_nodes=fast)
            found_u = u >= 0
            near_t[found_u, g] = first[owner[u[found_u]]]
            owner[source[idx]] = -1
        if len(d_o):
            _direct_nearest(near, near_t, d_o, g_u[d_t], d_c, first[d_t])
    if len(cuts):
        limit = float(cuts[-1]) + CUTOFF_TOL
        batch = max(1, _BATCH_ELEMENTS // max(R.shape[0], k_o))
        for g in range(n_groups):
            idx = np.flatnonzero((g_u == g) & on_net)
            for start in range(0, len(idx), batch):
                chunk = idx[start : start + batch]
                D = dijkstra(R, directed=True, indices=source[chunk], limit=limit)
                T = _times_at(D, origins, at_nodes=fast)
                if len(d_o):
                    sel = np.isin(d_t, chunk)
                    if sel.any():
                        row = np.searchsorted(chunk, d_t[sel])
                        np.minimum.at(T, (row, d_o[sel]), d_c[sel])
                extra = mult[chunk] - 1
                dup = np.flatnonzero(extra)
                for j, c in enumerate(cuts):
                    hit = T <= c + CUTOFF_TOL
                    counts[g, j] += np.count_nonzero(hit, axis=0)
                    if len(dup):  # targets at one place count once each
                        counts[g, j] += extra[dup] @ hit[dup]
                if pairs:
                    r, o = np.nonzero(T <= limit)
                    found.append(
                        pd.DataFrame({"origin": o, "target": chunk[r], "cost": T[r, o]})
                    )
    return Access(
        near,
        counts[:, order_cut],
        _expand(_pairs_frame(found), first, inverse, mult),
        near_t,
    )


def _source_at(
    D: NDArray[np.float64],
    S: NDArray[np.int32],
    origins: Places,
    *,
    at_nodes: bool = False,
) -> NDArray[np.intp]:
    """Per origin, the search source (graph node) behind its cost in ``D``.

    ``D`` and ``S`` are the distances and sources of one ``min_only`` search;
    the origin's cost is taken through the anchor :func:`_times_at` takes it
    through (the first on a tie). -1 where nothing is reachable.
    """
    a = origins.anchor
    if at_nodes:
        node = a[:, 0]
        cost = D[node]
    else:
        with np.errstate(invalid="ignore"):
            t0 = origins.cost_out[:, 0] + D[a[:, 0]]
            t1 = origins.cost_out[:, 1] + D[a[:, 1]]
        node = np.where(t1 < t0, a[:, 1], a[:, 0])
        cost = np.minimum(t0, t1) + origins.access
    src = S[node].astype(np.intp)
    return np.where((src >= 0) & np.isfinite(cost), src, -1)


def _direct_nearest(
    near: NDArray[np.float64],
    near_t: NDArray[np.intp],
    origin: NDArray[np.intp],
    group: NDArray[np.intp],
    cost: NDArray[np.float64],
    target: NDArray[np.intp],
) -> None:
    """Lower ``near`` (and its target) where a trip along one segment is shorter.

    ``origin``, ``group``, ``cost`` and ``target`` list the direct pairs; of
    several pairs of one origin and group, the cheapest counts.
    """
    pairs = pd.DataFrame({"o": origin, "g": group, "c": cost, "t": target})
    best = pairs.loc[pairs.groupby(["o", "g"], sort=False)["c"].idxmin()]
    o = best["o"].to_numpy(np.intp)
    g = best["g"].to_numpy(np.intp)
    c = best["c"].to_numpy("float64")
    lower = c < near[o, g]
    near[o[lower], g[lower]] = c[lower]
    near_t[o[lower], g[lower]] = best["t"].to_numpy(np.intp)[lower]


def _expand(
    frame: pd.DataFrame,
    first: NDArray[np.intp],
    inverse: NDArray[np.intp],
    mult: NDArray[np.intp],
) -> pd.DataFrame:
    """Pairs of distinct targets back to pairs of every target."""
    q = frame["target"].to_numpy(np.intp)
    if (mult == 1).all():
        out = frame.assign(target=first[q])
    else:
        order = np.argsort(inverse, kind="stable")
        starts = np.cumsum(mult) - mult
        rep = mult[q]
        within = np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep)
        out = pd.DataFrame(
            {
                "origin": np.repeat(frame["origin"].to_numpy(), rep),
                "target": order[np.repeat(starts[q], rep) + within],
                "cost": np.repeat(frame["cost"].to_numpy(), rep),
            }
        )
    return out.sort_values(["origin", "cost", "target"], ignore_index=True)


def _pairs_frame(found: list[pd.DataFrame]) -> pd.DataFrame:
    if not found:
        return pd.DataFrame(
            {
                "origin": pd.Series([], dtype=np.intp),
                "target": pd.Series([], dtype=np.intp),
                "cost": pd.Series([], dtype="float64"),
            }
        )
    out = pd.concat(found, ignore_index=True)
    return out.sort_values(["origin", "cost", "target"], ignore_index=True)


# -- travel circles of a twin ----------------------------------------------------


@dataclass(frozen=True)
class TravelCircles:
    """Travel circles of every building of a twin.

    Parameters
    ----------
    buildings
        One row per building (the twin's order): ``building_id``, the
        resident weight ``residents_weight``, the snap (``access_m`` [m],
        ``snap_flagged``, ``snap_component``), ``nearest_<category>_s`` [s]
        (NaN where none is reachable) and ``count_<category>_<N>min`` for
        every category and circle; footprint geometry.
    facilities
        The facilities with their snap (``access_m`` [m], ``snap_flagged``,
        ``snap_component``).
    coverage
        Indexed by category: ``share_<N>min`` [-], the share of residents
        with at least one facility of the category within the circle, and
        ``facilities`` (their number).
    reachable
        Every building-facility pair within the largest circle:
        ``building_id``, ``facility_id``, ``category``, ``time_s`` [s].
    isochrones
        Circle polygons per building (``building_id``, ``cutoff_min`` [min]), or None.
    minutes
        The circles [min].
    mode
        Travel mode.
    time
        Time of day used for gates, or None.
    closed_gates
        Node ids of the gates closed at that time.
    weight
        What weights coverage: ``"residents"``, ``"households"`` (residents
        are taken as proportional to households) or ``"buildings"`` (no
        household data: every building counts once).
    """

    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    coverage: pd.DataFrame
    reachable: pd.DataFrame
    isochrones: gpd.GeoDataFrame | None
    minutes: tuple[float, ...]
    mode: str
    time: str | None
    closed_gates: tuple[Hashable, ...]
    weight: str


def _label(minutes: float) -> str:
    return f"{minutes:g}min"


def _weights(buildings: pd.DataFrame) -> tuple[NDArray[np.float64], str]:
    """Residents weight of each building and what it is based on."""
    for column in ("residents", "households"):
        if column in buildings.columns:
            w = pd.to_numeric(buildings[column], errors="coerce").astype("float64")
            values = np.nan_to_num(w.to_numpy(), nan=0.0)
            if values.sum() > 0:
                return np.clip(values, 0.0, None), column
    return np.ones(len(buildings)), "buildings"


def _default_categories(facilities: pd.DataFrame) -> list[str]:
    table = list(facility_categories().index)
    extra = sorted(set(facilities["category"].astype(str)) - set(table))
    return table + extra


def _place_geometries(
    buildings: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None
) -> NDArray[Any]:
    geoms = np.asarray(buildings.geometry.array, dtype=object)
    if entrances is None or not len(entrances):
        return geoms
    if "building_id" not in entrances.columns:
        msg = "entrances needs a 'building_id' column naming each entrance's building"
        raise ValueError(msg)
    if entrances.crs is not None and buildings.crs is not None:
        if not entrances.crs.equals(buildings.crs):
            msg = (
                f"entrances are in {entrances.crs.to_string()} but the twin is in "
                f"{buildings.crs.to_string()}; reproject them with "
                "entrances.to_crs(twin.crs)"
            )
            raise ValueError(msg)
    first = entrances.drop_duplicates("building_id").set_index("building_id")
    ids = buildings["building_id"].astype(str)
    points = first.geometry.reindex(ids.to_numpy())
    has = points.notna().to_numpy()
    out = geoms.copy()
    out[has] = np.asarray(points.array, dtype=object)[has]
    return out


def _prepare(
    twin: Twin,
    mode: str,
    *,
    speed_kph: float | None,
    time: str | _dt.datetime | _dt.time | None,
    gates: Mapping[Hashable, bool] | None,
    residents_only_ok: bool,
    weight: str,
    access_speed_kph: float,
    entrances: gpd.GeoDataFrame | None,
    component: str,
    snap_flag_m: float,
) -> tuple[RoutingGraph, Places, Places, pd.DataFrame, pd.DataFrame, list[Hashable]]:
    if twin.network.number_of_nodes() == 0:
        msg = (
            f"twin {twin.name!r} has no street network; add one (e.g. build the "
            "twin with Twin.from_osm) before computing travel circles"
        )
        raise ValueError(msg)
    G = mode_graph(
        twin.network,
        mode,
        speed_kph=speed_kph,
        time=time,
        gates=gates,
        residents_only_ok=residents_only_ok,
        keep_closed=True,
    )
    rg = RoutingGraph.from_graph(G, weight=weight)
    per_m = 1.0 if weight == "length_m" else 3.6 / float(access_speed_kph)
    sb = snap(
        rg,
        _place_geometries(twin.buildings, entrances),
        component=component,
        flag_m=snap_flag_m,
    )
    sf = snap(rg, twin.facilities.geometry, component=component, flag_m=snap_flag_m)
    origins = Places.from_snap(rg, sb, access_cost_per_m=per_m)
    targets = Places.from_snap(rg, sf, access_cost_per_m=per_m)
    n_flag = int(sb["flagged"].sum())
    if n_flag:
        _log.info(
            "%d of %d buildings snapped farther than %.0f m from the %s network",
            n_flag,
            len(sb),
            snap_flag_m,
            mode,
        )
    return rg, origins, targets, sb, sf, list(G.graph["closed_gates"])


def _snap_columns(frame: pd.DataFrame, snapped: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["access_m"] = snapped["access_m"].to_numpy()
    out["snap_flagged"] = snapped["flagged"].to_numpy()
    out["snap_component"] = snapped["component"].to_numpy()
    return out


def travel_circles(
    twin: Twin,
    minutes: Sequence[float] = (5, 10, 30),
    mode: str = "walk",
    *,
    time: str | _dt.datetime | _dt.time | None = None,
    gates: Mapping[Hashable, bool] | None = None,
    speed_kph: float | None = None,
    access_speed_kph: float = WALK_SPEED_KPH,
    residents_only_ok: bool = True,
    categories: Sequence[str] | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    component: str = "largest",
    snap_flag_m: float = SNAP_FLAG_M,
    isochrones: bool = False,
    buffer_m: float = 25.0,
) -> TravelCircles:
    """For every building: nearest facility of each category, counts per circle.

    Parameters
    ----------
    twin
        The twin: its buildings, facilities (``category``) and street network.
    minutes
        Circle sizes [min].
    mode
        ``"walk"``, ``"bike"`` or ``"drive"`` (see
        :func:`~cim.network.modes.mode_graph`).
    time
        Time of day for gates' opening hours, e.g. ``"Sa 22:30"``.
    gates
        Gate node id -> open (True) or closed (False), overriding the rest,
        the network's ``gate_closed`` node attribute included (see
        :func:`~cim.network.modes.mode_graph` for the precedence).
    speed_kph
        Travel speed [km/h] (default by mode).
    access_speed_kph
        Speed of the walk between a building (or facility) and its street
        [km/h].
    residents_only_ok
        Whether ``access=private`` streets and gates are usable.
    categories
        Facility categories reported; default every category of
        ``assets/facility_categories.csv`` plus any other in the twin.
    entrances
        Entrance points with a ``building_id`` column: a building with one
        joins the street from its (first) entrance rather than its
        footprint.
    component
        Which network component places may snap to: ``"largest"`` or
        ``"all"`` (see :func:`~cim.network.snap.snap`).
    snap_flag_m
        Snap distance above which a place is flagged [m].
    isochrones
        Also draw every building's circle polygons (slower).
    buffer_m
        Half-width of the street band of the polygons [m].

    Returns
    -------
    TravelCircles

    Raises
    ------
    ValueError
        For an unknown mode, a twin without a street network, or a bad
        ``time``.

    Examples
    --------
    >>> import cim
    >>> from cim.network import travel_circles
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> tc = travel_circles(twin, minutes=(5, 10, 30), mode="walk")
    >>> bool(tc.coverage.loc["kindergarten", "share_10min"] <= 1.0)
    True
    """
    minutes_t = tuple(float(m) for m in minutes)
    if not minutes_t or min(minutes_t) <= 0:
        msg = f"invalid minutes {minutes!r}; give positive circle sizes, e.g. (5, 10)"
        raise ValueError(msg)
    rg, origins, targets, sb, sf, closed = _prepare(
        twin,
        mode,
        speed_kph=speed_kph,
        time=time,
        gates=gates,
        residents_only_ok=residents_only_ok,
        weight="travel_time_s",
        access_speed_kph=access_speed_kph,
        entrances=entrances,
        component=component,
        snap_flag_m=snap_flag_m,
    )
    fac = twin.facilities
    cats = list(categories) if categories is not None else _default_categories(fac)
    code = {c: i for i, c in enumerate(cats)}
    fac_cat = fac["category"].astype(str).to_numpy()
    chosen = np.array([c in code for c in fac_cat], dtype=bool)
    sel = np.flatnonzero(chosen)
    groups = np.array([code[c] for c in fac_cat[sel]], dtype=np.intp)
    sub = Places(
        segment=targets.segment[sel],
        fraction=targets.fraction[sel],
        anchor=targets.anchor[sel],
        cost_out=targets.cost_out[sel],
        cost_in=targets.cost_in[sel],
        access=targets.access[sel],
    )
    res = accessibility(
        rg,
        origins,
        sub,
        groups=groups,
        cutoffs=[m * 60.0 for m in minutes_t],
        pairs=True,
    )
    nb = len(twin.buildings)
    ng = res.nearest.shape[1]
    b = twin.buildings[["building_id", "geometry"]].copy()
    weights, basis = _weights(twin.buildings)
    b.insert(1, "residents_weight", weights)
    b = _snap_columns(b, sb)
    cols: dict[str, Any] = {}
    for i, c in enumerate(cats):
        near = res.nearest[:, i] if i < ng else np.full(nb, np.inf)
        cols[f"nearest_{c}_s"] = np.where(np.isfinite(near), near, np.nan)
    for i, c in enumerate(cats):
        for j, m in enumerate(minutes_t):
            cnt = res.counts[i, j] if i < ng else np.zeros(nb, dtype=np.int64)
            cols[f"count_{c}_{_label(m)}"] = cnt
    b = pd.concat([b, pd.DataFrame(cols, index=b.index)], axis=1)
    b = gpd.GeoDataFrame(b, geometry="geometry", crs=twin.crs)
    total = weights.sum()
    cov: dict[str, Any] = {}
    for j, m in enumerate(minutes_t):
        shares = []
        for i in range(len(cats)):
            covered = res.counts[i, j] > 0 if i < ng else np.zeros(nb, dtype=bool)
            shares.append(float(weights[covered].sum() / total) if total else np.nan)
        cov[f"share_{_label(m)}"] = shares
    cov["facilities"] = [int((fac_cat == c).sum()) for c in cats]
    coverage = pd.DataFrame(cov, index=pd.Index(cats, name="category"))
    p = res.pairs
    fac_ids = fac["facility_id"].to_numpy()[sel]
    reachable = pd.DataFrame(
        {
            "building_id": twin.buildings["building_id"].to_numpy()[
                p["origin"].to_numpy(np.intp)
            ],
            "facility_id": fac_ids[p["target"].to_numpy(np.intp)],
            "category": fac_cat[sel][p["target"].to_numpy(np.intp)],
            "time_s": p["cost"].to_numpy("float64"),
        }
    )
    f = _snap_columns(fac[["facility_id", "category", "geometry"]], sf)
    iso = None
    if isochrones:
        from cim.network.isochrones import isochrone_polygons

        iso = isochrone_polygons(
            rg,
            origins,
            [m * 60.0 for m in minutes_t],
            ids=twin.buildings["building_id"].to_numpy(),
            buffer_m=buffer_m,
            points=shapely.points(sb["snap_x"].to_numpy(), sb["snap_y"].to_numpy()),
        )
        iso = iso.rename(columns={"id": "building_id"})
        iso["cutoff_min"] = iso.pop("cutoff") / 60.0
        iso = iso[["building_id", "cutoff_min", "geometry"]]
    return TravelCircles(
        buildings=b,
        facilities=gpd.GeoDataFrame(f, geometry="geometry", crs=twin.crs),
        coverage=coverage,
        reachable=reachable,
        isochrones=iso,
        minutes=minutes_t,
        mode=mode,
        time=None if time is None else str(time),
        closed_gates=tuple(closed),
        weight=basis,
    )


# -- GB 50180 life circles ----------------------------------------------------------


def required_categories(level: int, *, cumulative: bool = False) -> tuple[str, ...]:
    """Facility categories a life circle must hold (GB 50180-2018 Appendix B).

    Until the GB 50180-2018 rulebook (``assets/rules/gb50180-2018.toml``)
    carries the facility lists, they are read from
    ``assets/facility_categories.csv``: the categories whose ``life_circle``
    is ``level`` and that the standard marks as required (▲; column
    ``required``; optional △ facilities such as nurseries and parking are
    counted but not required). The lists are recalled from the standard, not
    confirmed from its text (unverified). This function is the one place to
    change when the rulebook lands.

    Parameters
    ----------
    level
        5, 10 or 15 (minutes).
    cumulative
        Also the categories of the smaller circles (a 15-minute circle then
        lists 5- and 10-minute facilities too).

    Returns
    -------
    tuple of str
        Category names, in the table's order.

    Raises
    ------
    ValueError
        If ``level`` is not 5, 10 or 15.

    Examples
    --------
    >>> from cim.network import required_categories
    >>> "kindergarten" in required_categories(5)
    True
    """
    if level not in LIFE_CIRCLE_DISTANCE_M:
        msg = (
            f"invalid level {level!r}; expected one of {tuple(LIFE_CIRCLE_DISTANCE_M)}"
        )
        raise ValueError(msg)
    table = facility_categories()
    circle = pd.to_numeric(table["life_circle"], errors="coerce")
    mask = (circle <= level) if cumulative else (circle == level)
    mask &= table["required"].eq("yes")
    return tuple(str(c) for c in table.index[mask.fillna(False).to_numpy()])


def life_circle_walk(
    twin: Twin,
    level: int,
    *,
    time: str | _dt.datetime | _dt.time | None = None,
    gates: Mapping[Hashable, bool] | None = None,
    residents_only_ok: bool = True,
    entrances: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Walk from each building to the farthest of its life circle's facility types.

    For every building, the walking distance along the network to the nearest
    facility of each category that the ``level``-minute life circle requires
    (:func:`required_categories`), and of those the largest: the value that
    GB 50180-2018 Table 3.0.4 bounds (300, 500, 1,000 m), with the category
    and facility that set it, or why it is infinite.

    The required categories are recalled from GB 50180-2018 Appendix B, not
    confirmed from its text: every value rests on that unverified list (see
    :func:`required_categories`).

    Parameters
    ----------
    twin
        The twin.
    level
        5, 10 or 15.
    time, gates, residents_only_ok, entrances
        As for :func:`life_circle_coverage`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``building_id``, in the twin's order:

        - ``life_circle_walk_m`` [m]: the largest of the nearest distances;
          inf where a required category has no facility reachable on foot;
        - ``category``: the category that sets the value (where it is inf,
          the first in the table's order with no facility reachable; on a
          tie, the first in that order);
        - ``facility_id``: its nearest facility (``""`` where inf);
        - ``absent``: required categories with no facility in the twin;
        - ``unreachable``: required categories with facilities in the twin,
          none reachable on foot (e.g. on a part of the network cut off from
          the building's), both ``"; "``-joined.

    Examples
    --------
    >>> import cim
    >>> from cim.network.circles import life_circle_walk
    >>> walk = life_circle_walk(cim.datasets.load("hangzhou_pilot"), 5)
    >>> walk.loc["A-T1", ["category", "facility_id"]].tolist()
    ['toilet', 'F9']
    """
    lc = life_circle_coverage(
        twin,
        levels=(level,),
        time=time,
        gates=gates,
        residents_only_ok=residents_only_ok,
        entrances=entrances,
        homes_only=False,
    )
    ids = pd.Index(twin.buildings["building_id"].astype(str), name="building_id")
    c = lc.compliance
    if not len(c):
        return pd.DataFrame(
            {
                "life_circle_walk_m": np.full(len(ids), np.nan),
                "category": "",
                "facility_id": "",
                "absent": "",
                "unreachable": "",
            },
            index=ids,
        )
    value = c["value"].fillna(np.inf)
    gone = ~np.isfinite(value.to_numpy())
    none = c["in_twin"].to_numpy() == 0
    # The row of each building's largest value (the first on a tie: table order).
    worst = c.loc[value.groupby(c["feature_id"], sort=False).idxmax()]
    worst = worst.set_index("feature_id")

    def listed(mask: NDArray[np.bool_]) -> pd.Series:
        return c[mask].groupby("feature_id", sort=False)["category"].agg("; ".join)

    out = pd.DataFrame(
        {
            "life_circle_walk_m": value.groupby(c["feature_id"], sort=False).max(),
            "category": worst["category"],
            "facility_id": worst["facility_id"],
        }
    ).reindex(ids.to_numpy())
    out["absent"] = listed(gone & none).reindex(ids.to_numpy()).fillna("")
    out["unreachable"] = listed(gone & ~none).reindex(ids.to_numpy()).fillna("")
    out[["category", "facility_id"]] = out[["category", "facility_id"]].fillna("")
    out.index = ids
    return out


def life_circle_walk_m(
    twin: Twin,
    level: int,
    *,
    time: str | _dt.datetime | _dt.time | None = None,
    gates: Mapping[Hashable, bool] | None = None,
    residents_only_ok: bool = True,
    entrances: gpd.GeoDataFrame | None = None,
) -> pd.Series:
    """Walk from each building to the farthest of its life circle's facility types.

    The ``life_circle_walk_m`` column of :func:`life_circle_walk`, which also
    says which category and facility set each value.

    Parameters
    ----------
    twin
        The twin.
    level
        5, 10 or 15.
    time, gates, residents_only_ok, entrances
        As for :func:`life_circle_coverage`.

    Returns
    -------
    pandas.Series
        Indexed by ``building_id``, named ``life_circle_walk_m`` [m]; inf
        where a required category has no reachable facility.

    Examples
    --------
    >>> import cim
    >>> from cim.network.circles import life_circle_walk_m
    >>> walk = life_circle_walk_m(cim.datasets.load("beijing_haidian_cau"), 15)
    >>> walk.name
    'life_circle_walk_m'
    """
    walk = life_circle_walk(
        twin,
        level,
        time=time,
        gates=gates,
        residents_only_ok=residents_only_ok,
        entrances=entrances,
    )
    return walk["life_circle_walk_m"].astype("float64").rename("life_circle_walk_m")


@dataclass(frozen=True)
class LifeCircleCoverage:
    """Which GB 50180 life-circle facilities every building lacks.

    Parameters
    ----------
    buildings
        One row per building: ``building_id``, ``residents_weight``,
        ``is_home``, ``access_m`` [m], and per circle ``lacks_<N>min``
        (required categories beyond it, ``;``-joined) and
        ``n_lacking_<N>min``; footprint geometry.
    coverage
        One row per circle and required category: ``level`` [min],
        ``category``, ``threshold`` and ``unit``, ``homes_covered``,
        ``share_residents`` [-] (of the homes' residents).
    compliance
        One row per home x circle x required category, in the compliance
        report's form: ``feature_id``, ``rule_id``, ``indicator``,
        ``value`` (NaN where no facility of the category is reachable),
        ``threshold``, ``unit``, ``passed``, ``clause``, ``verified``
        (false: the category lists are recalled, see
        :func:`required_categories`), then what the value comes from:
        ``category``, ``facility_id`` (the nearest facility of the category,
        ``""`` where none is reachable) and ``in_twin`` (facilities of the
        category in the twin).
    basis
        ``"distance"`` (GB 50180 walking distances) or ``"time"``.
    """

    buildings: gpd.GeoDataFrame
    coverage: pd.DataFrame
    compliance: pd.DataFrame
    basis: str


_CLAUSE = "GB 50180-2018 Table 3.0.4 (walking distance) and Appendix B (facilities)"


def _homes(buildings: pd.DataFrame) -> NDArray[np.bool_]:
    hh = pd.to_numeric(buildings.get("households"), errors="coerce")
    has = np.nan_to_num(np.asarray(hh, dtype="float64"), nan=0.0) > 0
    use = buildings.get("use")
    if use is not None:
        has |= use.astype(str).isin(["residential", "mixed"]).to_numpy()
    return np.asarray(has, dtype=bool)


def life_circle_coverage(
    twin: Twin,
    *,
    levels: Sequence[int] = (5, 10, 15),
    basis: str = "distance",
    speed_kph: float = WALK_SPEED_KPH,
    time: str | _dt.datetime | _dt.time | None = None,
    gates: Mapping[Hashable, bool] | None = None,
    residents_only_ok: bool = True,
    entrances: gpd.GeoDataFrame | None = None,
    component: str = "largest",
    cumulative: bool = False,
    homes_only: bool = True,
) -> LifeCircleCoverage:
    """Check every home's 5-, 10- and 15-minute life circles (GB 50180-2018).

    A required category (:func:`required_categories`) is covered when its
    nearest facility is within the circle on the walk network: within the
    standard's walking distance (:data:`LIFE_CIRCLE_DISTANCE_M`, ``basis=
    "distance"``, the default) or within the minutes at ``speed_kph``
    (``basis="time"``).

    Parameters
    ----------
    twin
        The twin.
    levels
        Life circles to check [min].
    basis
        ``"distance"`` or ``"time"``.
    speed_kph
        Walking speed for ``basis="time"`` [km/h].
    time
        Time of day for gates' opening hours.
    gates
        Gate overrides (node id -> open), above the network's
        ``gate_closed`` (see :func:`~cim.network.modes.mode_graph`).
    residents_only_ok
        Whether ``access=private`` streets and gates are usable.
    entrances
        Entrance points with ``building_id`` (see :func:`travel_circles`).
    component
        Snapping component, ``"largest"`` or ``"all"``.
    cumulative
        Require the smaller circles' categories in the larger circles too.
    homes_only
        List compliance rows for homes only (else for every building).

    Returns
    -------
    LifeCircleCoverage
        Homes are buildings with households or a residential or mixed use;
        coverage shares are weighted by residents (households).

    Raises
    ------
    ValueError
        For an unknown ``basis`` or level.

    Examples
    --------
    >>> import cim
    >>> from cim.network import life_circle_coverage
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> lc = life_circle_coverage(twin)
    >>> sorted(lc.coverage["level"].unique().tolist())
    [5, 10, 15]
    """
    if basis not in ("distance", "time"):
        msg = f"invalid basis {basis!r}; expected 'distance' or 'time'"
        raise ValueError(msg)
    levels_t = tuple(int(lv) for lv in levels)
    required = {lv: required_categories(lv, cumulative=cumulative) for lv in levels_t}
    weight = "length_m" if basis == "distance" else "travel_time_s"
    rg, origins, targets, sb, _, _ = _prepare(
        twin,
        "walk",
        speed_kph=speed_kph,
        time=time,
        gates=gates,
        residents_only_ok=residents_only_ok,
        weight=weight,
        access_speed_kph=speed_kph,
        entrances=entrances,
        component=component,
        snap_flag_m=SNAP_FLAG_M,
    )
    cats = sorted({c for cs in required.values() for c in cs})
    code = {c: i for i, c in enumerate(cats)}
    fac_cat = twin.facilities["category"].astype(str).to_numpy()
    sel = np.flatnonzero([c in code for c in fac_cat])
    groups = np.array([code[c] for c in fac_cat[sel]], dtype=np.intp)
    sub = Places(
        segment=targets.segment[sel],
        fraction=targets.fraction[sel],
        anchor=targets.anchor[sel],
        cost_out=targets.cost_out[sel],
        cost_in=targets.cost_in[sel],
        access=targets.access[sel],
    )
    res = accessibility(rg, origins, sub, groups=groups, cutoffs=[])
    nb = len(twin.buildings)
    near = np.full((nb, len(cats)), np.inf)
    near[:, : res.nearest.shape[1]] = res.nearest
    # The facility behind each nearest value ("" where none is reachable).
    fac_ids = np.append(
        twin.facilities["facility_id"].astype(str).to_numpy(dtype=object)[sel], ""
    )
    near_id = np.full((nb, len(cats)), "", dtype=object)
    near_id[:, : res.nearest.shape[1]] = fac_ids[res.nearest_target]
    in_twin = {c: int((fac_cat == c).sum()) for c in cats}
    unit = "m" if basis == "distance" else "s"
    homes = _homes(twin.buildings)
    weights, _ = _weights(twin.buildings)
    w_homes = np.where(homes, weights, 0.0)
    if w_homes.sum() == 0:
        w_homes = homes.astype("float64")
    b = twin.buildings[["building_id", "geometry"]].copy()
    b.insert(1, "residents_weight", weights)
    b.insert(2, "is_home", homes)
    b["access_m"] = sb["access_m"].to_numpy()
    cov_rows = []
    comp_rows = []
    ids = twin.buildings["building_id"].astype(str).to_numpy()
    for lv in levels_t:
        thr = LIFE_CIRCLE_DISTANCE_M[lv] if basis == "distance" else lv * 60.0
        lacking = [[] for _ in range(nb)]  # type: list[list[str]]
        for c in required[lv]:
            value = near[:, code[c]]
            ok = value <= thr + CUTOFF_TOL
            for i in np.flatnonzero(~ok):
                lacking[i].append(c)
            cov_rows.append(
                {
                    "level": lv,
                    "category": c,
                    "threshold": thr,
                    "unit": unit,
                    "homes_covered": int((ok & homes).sum()),
                    "homes": int(homes.sum()),
                    "share_residents": float(w_homes[ok].sum() / w_homes.sum())
                    if w_homes.sum()
                    else np.nan,
                }
            )
            for i in np.flatnonzero(homes if homes_only else np.ones(nb, bool)):
                comp_rows.append(
                    {
                        "feature_id": ids[i],
                        "rule_id": f"gb50180-life-circle-{lv}min-{c}",
                        "indicator": f"nearest_{c}_{unit}",
                        "value": float(value[i]) if np.isfinite(value[i]) else np.nan,
                        "threshold": thr,
                        "unit": unit,
                        "passed": bool(ok[i]),
                        "clause": _CLAUSE,
                        "verified": False,
                        "category": c,
                        "facility_id": near_id[i, code[c]],
                        "in_twin": in_twin[c],
                    }
                )
        b[f"lacks_{lv}min"] = ["; ".join(x) for x in lacking]
        b[f"n_lacking_{lv}min"] = np.array([len(x) for x in lacking], dtype=np.int64)
    comp_cols = [
        "feature_id",
        "rule_id",
        "indicator",
        "value",
        "threshold",
        "unit",
        "passed",
        "clause",
        "verified",
        "category",
        "facility_id",
        "in_twin",
    ]
    return LifeCircleCoverage(
        buildings=gpd.GeoDataFrame(b, geometry="geometry", crs=twin.crs),
        coverage=pd.DataFrame(
            cov_rows,
            columns=[
                "level",
                "category",
                "threshold",
                "unit",
                "homes_covered",
                "homes",
                "share_residents",
            ],
        ),
        compliance=pd.DataFrame(comp_rows, columns=comp_cols),
        basis=basis,
    )
