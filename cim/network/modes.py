"""Walk, bike and drive graphs from the street network, with gates and closures.

:func:`mode_graph` turns the twin's street graph (any osmnx-style
:class:`networkx.MultiDiGraph`) into the graph one travel mode may use: the
streets it is allowed on, in the directions it may travel them, with
``speed_kph`` [km/h] and ``travel_time_s`` [s] on every edge. Gates are nodes
that the mode, the gate's ``access`` tag and its ``opening_hours`` at a given
time open or close; a closed gate blocks passage. :class:`RoutingGraph` is the
same graph compiled once into arrays and CSR matrices for
:mod:`scipy.sparse.csgraph`, which :mod:`cim.network.circles` searches.

Speeds (parameters, with their sources)
---------------------------------------
- walk: :data:`WALK_SPEED_KPH` = 4.5 km/h (1.25 m/s), the walking speed of
  osmnx's isochrone example and within the 1.2-1.4 m/s of adult pedestrians
  in the traffic-engineering literature. GB 50180-2018's life circles
  (5 min ~ 300 m, 10 min ~ 500 m, 15 min ~ 800-1,000 m) imply 3-4 km/h
  along straight-line-ish routes; use those distances directly with
  :func:`cim.network.life_circle_coverage`.
- bike: :data:`BIKE_SPEED_KPH` = 15 km/h, an urban cycling average between
  r5's default (12 km/h) and OpenTripPlanner's (5 m/s = 18 km/h).
- drive: the edge's ``speed_kph`` (from OSM ``maxspeed``) where known, else
  :data:`DRIVE_SPEEDS_KPH` by ``highway`` class: round values within the
  design speeds of CJJ 37-2012 (城市道路工程设计规范) for expressways,
  arterials, secondary arterials and branch roads, and walking-pace values
  for service roads and living streets inside compounds. They are free-flow
  speeds, not congested ones [unverified against the standard's table].

Rules by mode (after osmnx's ``walk``, ``bike`` and ``drive_service`` filters)
------------------------------------------------------------------------------
- ``highway`` classes a mode may not use: :data:`EXCLUDED_HIGHWAYS`, unless
  the edge's ``foot`` (walk) or ``bicycle`` (bike) tag is ``yes``,
  ``designated`` or ``permissive``. ``foot=no`` / ``bicycle=no`` exclude.
- ``access=no`` excludes (again unless ``foot``/``bicycle`` allows);
  ``access=private`` (and ``permit``, ``residents``) is allowed only when
  ``residents_only_ok`` is true, the default: the residents of a gated
  compound walk and drive its private roads.
- One-way rules: drive and bike travel edges in their direction only (a
  one-way street has no reverse edge); walk travels every street both ways.
- Closures and penalties are edge attributes: ``closed`` (``True`` closes the
  edge to every mode; a string such as ``"drive"`` or ``"walk;bike"`` closes
  it to those modes) and ``penalty_s`` [s], added to the travel time (a
  crossing's wait, say).

Gates
-----
Gates are ``barrier=*`` nodes (see :func:`cim.io.osm.read_osm`): graph nodes
with ``barrier``, ``access`` and ``opening_hours``, or barriers inside an
edge, listed in its ``barriers`` attribute; :func:`mode_graph` splits such
edges so that every gate is a node (with the barrier's OSM node id). Whether
a gate lets a mode pass is decided by the first of these that speaks:

1. ``gates={node: True/False}``, given by the caller: open or closed,
   whatever the rest says (to try out "what if this gate were open");
2. the node's ``gate_closed`` attribute, the setting a plan leaves on the
   street graph (the ``close_gates`` and ``open_gates`` edits of
   :mod:`scenarios` write it): ``True`` closes the gate and ``False`` opens
   it, whatever its kind, access and opening hours; ``None`` or absent
   leaves the gate to the rules below (see :func:`gate_overrides`);
3. its kind blocks the mode (:data:`BLOCKING_BARRIERS`, e.g. a bollard blocks
   cars, a wall tagged on a node blocks everyone);
4. its ``access`` is ``no``, or ``private`` with ``residents_only_ok=False``;
5. ``time`` is given and its ``opening_hours`` are closed then (see
   :func:`parse_opening_hours`); without ``time`` opening hours are ignored.
   Otherwise the gate is open.

Compound walls need nothing: ``barrier=wall|fence`` ways are not streets, so
there is no edge across them.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
import re
import warnings
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from shapely.ops import substring

from cim.errors import CIMError, NetworkWarning

__all__ = [
    "BIKE_SPEED_KPH",
    "BLOCKING_BARRIERS",
    "DRIVE_SPEEDS_KPH",
    "EXCLUDED_HIGHWAYS",
    "MODES",
    "WALK_SPEED_KPH",
    "OpeningHours",
    "OpeningHoursError",
    "RoutingGraph",
    "edit_gates",
    "gate_overrides",
    "gate_table",
    "mode_graph",
    "parse_opening_hours",
    "parse_time",
]

#: Travel modes of :func:`mode_graph`.
MODES: Final = ("walk", "bike", "drive")

#: Default walking speed [km/h] (1.25 m/s; osmnx's isochrone example).
WALK_SPEED_KPH: Final = 4.5
#: Default cycling speed [km/h] (between r5's 12 and OpenTripPlanner's 18).
BIKE_SPEED_KPH: Final = 15.0
#: Free-flow driving speeds [km/h] by ``highway`` class, where ``maxspeed`` is
#: unknown (round values within CJJ 37-2012 design speeds; unverified).
DRIVE_SPEEDS_KPH: Final[Mapping[str, float]] = {
    "motorway": 80.0,
    "motorway_link": 40.0,
    "trunk": 60.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 30.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 30.0,
    "tertiary_link": 25.0,
    "unclassified": 30.0,
    "residential": 20.0,
    "road": 30.0,
    "living_street": 10.0,
    "service": 10.0,
}
_DRIVE_FALLBACK_KPH: Final = 20.0

_UNUSABLE = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "busway",
        "construction",
        "corridor",
        "elevator",
        "escalator",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
    }
)
#: ``highway`` classes each mode may not use (unless ``foot``/``bicycle``
#: allows it explicitly).
EXCLUDED_HIGHWAYS: Final[Mapping[str, frozenset[str]]] = {
    "walk": _UNUSABLE | {"motorway", "motorway_link", "cycleway"},
    "bike": _UNUSABLE | {"motorway", "motorway_link", "footway", "steps"},
    "drive": _UNUSABLE
    | {
        "bridleway",
        "cycleway",
        "footway",
        "path",
        "pedestrian",
        "steps",
        "track",
    },
}
_WAY_BARRIERS = frozenset(
    {"wall", "fence", "hedge", "retaining_wall", "city_wall", "ditch", "guard_rail"}
)
#: ``barrier`` kinds that always block a mode (other kinds, such as ``gate``,
#: ``lift_gate``, ``entrance`` or ``toll_booth``, let it pass when open).
BLOCKING_BARRIERS: Final[Mapping[str, frozenset[str]]] = {
    "walk": _WAY_BARRIERS,
    "bike": _WAY_BARRIERS | {"stile", "turnstile", "full-height_turnstile"},
    "drive": _WAY_BARRIERS
    | {
        "bollard",
        "block",
        "bus_trap",
        "chain",
        "cycle_barrier",
        "full-height_turnstile",
        "jersey_barrier",
        "kissing_gate",
        "motorcycle_barrier",
        "stile",
        "sump_buster",
        "turnstile",
    },
}
_YES = frozenset({"yes", "designated", "permissive"})
_RESIDENTS = frozenset({"private", "permit", "residents"})
_MODE_TAG = {"walk": "foot", "bike": "bicycle", "drive": None}

_DAYS: Final = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_INDEX = {d: i for i, d in enumerate(_DAYS)}


# -- opening hours ------------------------------------------------------------


class OpeningHoursError(CIMError, ValueError):
    """An ``opening_hours`` value uses syntax outside the supported subset."""


@dataclass(frozen=True)
class OpeningHours:
    """Opening hours parsed from an OSM ``opening_hours`` value.

    Parameters
    ----------
    text
        The raw value.
    rules
        ``(days, intervals)`` in order: ``days`` the weekdays (0 = Monday) the
        rule applies to, or None for every day; ``intervals`` ``(start, end)``
        in minutes after that day's midnight, ``end`` up to 48 h for hours
        past midnight. An empty ``intervals`` means closed on those days.
    """

    text: str
    rules: tuple[tuple[frozenset[int] | None, tuple[tuple[int, int], ...]], ...]

    @property
    def depends_on_day(self) -> bool:
        """Whether the hours differ between weekdays."""
        return any(days is not None for days, _ in self.rules)

    def _intervals(self, weekday: int) -> tuple[tuple[int, int], ...]:
        # The last rule that selects the day decides it (OSM: later rules
        # override earlier ones for the days they name).
        chosen: tuple[tuple[int, int], ...] = ()
        for days, intervals in self.rules:
            if days is None or weekday in days:
                chosen = intervals
        return chosen

    def is_open(self, weekday: int, minute: float) -> bool:
        """Whether it is open on ``weekday`` (0 = Monday) at ``minute``.

        Parameters
        ----------
        weekday
            Day of the week, 0 (Monday) to 6 (Sunday).
        minute
            Minutes after midnight [min], 0 to 1440.

        Returns
        -------
        bool
            Intervals include their start and exclude their end; hours past
            midnight (``22:00-02:00``) spill into the next day.
        """
        if any(s <= minute < e for s, e in self._intervals(weekday)):
            return True
        previous = self._intervals((weekday - 1) % 7)
        return any(s <= minute + 1440 < e for s, e in previous)


_RE_TIME = r"(\d{1,2}):(\d{2})"
_RE_SPAN = re.compile(rf"^{_RE_TIME}-{_RE_TIME}$")
_RE_DAYS = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(-(Mo|Tu|We|Th|Fr|Sa|Su))?$")


def parse_opening_hours(text: str) -> OpeningHours:
    """Parse the practical subset of OSM ``opening_hours`` that gates use.

    Supported: ``24/7``; ``off`` or ``closed``; times ``06:00-22:00``
    (several joined by ``,``, ends up to ``24:00`` or past midnight as
    ``22:00-02:00``); weekday selectors ``Mo-Fr``, ``Sa,Su``, ``Mo,We-Fr``
    before the times, or alone (open all day), or before ``off``; rules
    joined by ``;``, a later rule replacing earlier ones on the days it
    names. Example: ``"Mo-Fr 07:00-19:00; Sa,Su 08:00-18:00"``.

    Parameters
    ----------
    text
        An ``opening_hours`` value.

    Returns
    -------
    OpeningHours

    Raises
    ------
    OpeningHoursError
        For syntax outside the subset (public holidays ``PH``, months, week
        numbers, ``sunrise``, open ends ``+``, ``||`` fallbacks, comments),
        naming the part that was not understood.

    Examples
    --------
    >>> from cim.network import parse_opening_hours
    >>> hours = parse_opening_hours("Mo-Fr 07:00-19:00; Sa,Su 08:00-18:00")
    >>> hours.is_open(0, 7 * 60), hours.is_open(5, 7 * 60)
    (True, False)
    """
    raw = str(text).strip()
    rules: list[tuple[frozenset[int] | None, tuple[tuple[int, int], ...]]] = []
    if not raw:
        msg = "empty opening_hours; give e.g. '24/7' or '06:00-22:00'"
        raise OpeningHoursError(msg)
    for part in raw.split(";"):
        rule = part.strip()
        if not rule:
            continue
        rules.append(_parse_rule(rule, raw))
    if not rules:
        msg = f"opening_hours {raw!r} has no rule; give e.g. '06:00-22:00'"
        raise OpeningHoursError(msg)
    return OpeningHours(raw, tuple(rules))


def _unsupported(raw: str, what: str) -> OpeningHoursError:
    return OpeningHoursError(
        f"opening_hours {raw!r}: {what!r} is not in the supported subset "
        "('24/7', 'off', 'HH:MM-HH:MM[,...]' after optional weekdays such as "
        "'Mo-Fr' or 'Sa,Su', rules joined by ';'); simplify the value or "
        "decide the gate with gates={node: True/False}"
    )


def _parse_rule(
    rule: str, raw: str
) -> tuple[frozenset[int] | None, tuple[tuple[int, int], ...]]:
    if rule == "24/7":
        return None, ((0, 1440),)
    tokens = rule.split(None, 1)
    days: frozenset[int] | None = None
    if _is_day_selector(tokens[0]):
        days = _parse_days(tokens[0], raw)
        rest = tokens[1].strip() if len(tokens) > 1 else ""
    else:
        rest = rule
    if rest in ("", "open"):
        return days, ((0, 1440),)
    if rest in ("off", "closed"):
        return days, ()
    if rest == "24/7" or rest == "00:00-24:00":
        return days, ((0, 1440),)
    intervals = []
    for span in rest.replace(" ", "").split(","):
        m = _RE_SPAN.match(span)
        if not m:
            raise _unsupported(raw, span)
        h0, m0, h1, m1 = (int(g) for g in m.groups())
        if h0 > 24 or h1 > 48 or m0 > 59 or m1 > 59:
            raise _unsupported(raw, span)
        start, end = h0 * 60 + m0, h1 * 60 + m1
        if end <= start:
            end += 1440  # past midnight
        intervals.append((start, end))
    return days, tuple(intervals)


def _is_day_selector(token: str) -> bool:
    return all(_RE_DAYS.match(p) for p in token.split(",")) and bool(token)


def _parse_days(token: str, raw: str) -> frozenset[int]:
    days: set[int] = set()
    for part in token.split(","):
        m = _RE_DAYS.match(part)
        if m is None:  # pragma: no cover - checked by _is_day_selector
            raise _unsupported(raw, part)
        a = _DAY_INDEX[m.group(1)]
        b = _DAY_INDEX[m.group(3)] if m.group(3) else a
        i = a
        while True:
            days.add(i)
            if i == b:
                break
            i = (i + 1) % 7
    return frozenset(days)


def parse_time(time: str | _dt.datetime | _dt.time) -> tuple[int | None, float]:
    """A moment of the week: ``(weekday or None, minutes after midnight)``.

    Parameters
    ----------
    time
        ``"22:30"``, ``"Sa 22:30"`` (OSM weekday abbreviations, also ``Sat``,
        ``Saturday``), a :class:`datetime.datetime` or a :class:`datetime.time`.

    Returns
    -------
    tuple
        Weekday (0 = Monday; None when not given) and minutes [min].

    Raises
    ------
    ValueError
        If the string is not of that form.
    """
    if isinstance(time, _dt.datetime):
        return time.weekday(), time.hour * 60 + time.minute + time.second / 60
    if isinstance(time, _dt.time):
        return None, time.hour * 60 + time.minute + time.second / 60
    text = str(time).strip()
    m = re.match(r"^(?:([A-Za-z]+)\s+)?(\d{1,2}):(\d{2})$", text)
    if not m:
        msg = f"invalid time {time!r}; expected 'HH:MM' or 'Sa 22:30'"
        raise ValueError(msg)
    day, hh, mm = m.groups()
    weekday = None
    if day is not None:
        key = day[:2].capitalize()
        if key not in _DAY_INDEX:
            msg = f"invalid weekday {day!r} in time {time!r}; expected one of {_DAYS}"
            raise ValueError(msg)
        weekday = _DAY_INDEX[key]
    if int(hh) > 24 or int(mm) > 59:
        msg = f"invalid time {time!r}; hours 0-24 and minutes 0-59"
        raise ValueError(msg)
    return weekday, int(hh) * 60 + int(mm)


# -- mode graphs --------------------------------------------------------------


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _allowed(data: Mapping[str, Any], mode: str, residents_only_ok: bool) -> bool:
    """Whether ``mode`` may use an edge, by its highway, access and mode tags."""
    highway = _text(data.get("highway"))
    tag = _MODE_TAG[mode]
    own = _text(data.get(tag)) if tag else ""
    if own == "no":
        return False
    if own in _YES:
        return True
    if highway in EXCLUDED_HIGHWAYS[mode]:
        return False
    access = _text(data.get("access"))
    if access == "no":
        return False
    return not (access in _RESIDENTS and not residents_only_ok)


def _closed_for(value: Any, mode: str) -> bool:
    """Whether an edge's ``closed`` attribute closes it to ``mode``."""
    if value is None or value is False:
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return bool(np.isfinite(value) and value != 0)
    text = str(value).strip().lower()
    if text in ("", "no", "false", "0"):
        return False
    if text in ("yes", "true", "1", "all"):
        return True
    return mode in re.split(r"[;,\s]+", text)


def _speed_kph(data: Mapping[str, Any], mode: str, speed_kph: float | None) -> float:
    if mode != "drive":
        return float(speed_kph) if speed_kph is not None else _MODE_SPEED[mode]
    if speed_kph is not None:
        return float(speed_kph)
    own = data.get("speed_kph")
    try:
        value = float(own) if own is not None else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if math.isfinite(value) and value > 0:
        return value
    return DRIVE_SPEEDS_KPH.get(_text(data.get("highway")), _DRIVE_FALLBACK_KPH)


_MODE_SPEED = {"walk": WALK_SPEED_KPH, "bike": BIKE_SPEED_KPH}


def _penalty_s(data: Mapping[str, Any]) -> float:
    value = data.get("penalty_s")
    try:
        p = float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
    return p if math.isfinite(p) and p > 0 else 0.0


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        msg = f"invalid mode {mode!r}; expected one of {MODES}"
        raise ValueError(msg)


def _line(G: nx.MultiDiGraph, u: Hashable, v: Hashable, data: Mapping[str, Any]) -> Any:
    geom = data.get("geometry")
    if isinstance(geom, shapely.LineString) and not geom.is_empty:
        return geom
    a, b = G.nodes[u], G.nodes[v]
    return shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])


def _twins(
    u: NDArray[np.intp], v: NDArray[np.intp], geoms: NDArray[Any]
) -> NDArray[np.intp]:
    """The reverse twin of every directed edge (-1 where it has none).

    Edge ``f`` is the twin of ``e`` when it runs from ``v`` to ``u`` along
    the same vertices in reverse order (both directions of one street).
    Twins are matched one to one; the match is by a 64-bit hash of the
    vertices, in numpy, so that it costs little on city graphs.
    """
    m = len(u)
    twin = np.full(m, -1, dtype=np.intp)
    if m == 0:
        return twin
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(owner, minlength=m)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(len(owner)) - starts[owner]
    back_pos = counts[owner] - 1 - pos
    bits = np.ascontiguousarray(coords, dtype="float64").view(np.uint64)
    mixed = bits[:, 0] * np.uint64(0x9E3779B97F4A7C15) ^ bits[:, 1]
    powers = np.cumprod(
        np.full(max(int(counts.max()), 1), 0x100000001B3, dtype=np.uint64)
    )
    h_fwd = np.zeros(m, dtype=np.uint64)
    h_bwd = np.zeros(m, dtype=np.uint64)
    np.add.at(h_fwd, owner, mixed * powers[pos])
    np.add.at(h_bwd, owner, mixed * powers[back_pos])
    import pandas as pd

    idx = np.arange(m)
    fwd = pd.DataFrame({"a": u, "b": v, "n": counts, "h": h_fwd, "e": idx})
    bwd = pd.DataFrame({"a": v, "b": u, "n": counts, "h": h_bwd, "f": idx})
    keys = ["a", "b", "n", "h"]
    # Rank duplicates so that parallel copies pair one to one.
    fwd["r"] = fwd.groupby(keys, sort=False).cumcount()
    bwd["r"] = bwd.groupby(keys, sort=False).cumcount()
    pairs = fwd.merge(bwd, on=[*keys, "r"])
    pairs = pairs[pairs["e"] != pairs["f"]]
    e = pairs["e"].to_numpy(np.intp)
    f = pairs["f"].to_numpy(np.intp)
    twin[e] = f
    # Keep only mutual matches (ranks can disagree among exotic duplicates).
    bad = twin[twin[twin >= 0]] != np.flatnonzero(twin >= 0)
    twin[np.flatnonzero(twin >= 0)[bad]] = -1
    return twin


def _no_barriers(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and value != value)


def _edge_pieces(
    G: nx.MultiDiGraph,
) -> tuple[
    list[tuple[Hashable, Hashable, Mapping[str, Any]]], dict[Hashable, dict[str, Any]]
]:
    """The edges of ``G`` split at the barriers listed in their ``barriers``.

    Returns the edges (the original attribute dicts where unsplit: do not
    modify them) and the new barrier nodes with their attributes.
    """
    pieces: list[tuple[Hashable, Hashable, Mapping[str, Any]]] = []
    new_nodes: dict[Hashable, dict[str, Any]] = {}
    # Split points are computed once per barrier, so that the two directions
    # of a street meet exactly at the same coordinates.
    points: dict[Hashable, tuple[float, float]] = {}
    for u, v, data in G.edges(data=True):
        listed = data.get("barriers")
        if _no_barriers(listed):
            pieces.append((u, v, data))
            continue
        try:
            barriers = sorted(json.loads(listed), key=lambda b: float(b["offset_m"]))
        except (ValueError, TypeError, KeyError) as exc:
            msg = (
                f"edge ({u}, {v}): cannot read its 'barriers' attribute {listed!r} "
                f"({exc}); it must be a JSON list of objects with 'node' and "
                "'offset_m', as cim.io.osm.read_osm writes it"
            )
            raise ValueError(msg) from exc
        line = _line(G, u, v, data)
        length = float(data.get("length_m", line.length))
        cuts = [0.0]
        ids: list[Hashable] = [u]
        for b in barriers:
            node = b["node"]
            frac = min(max(float(b["offset_m"]) / length, 0.0), 1.0) if length else 0.0
            if node not in points:
                if node in G:
                    points[node] = (G.nodes[node]["x"], G.nodes[node]["y"])
                else:
                    p = shapely.line_interpolate_point(line, frac, normalized=True)
                    points[node] = (float(p.x), float(p.y))
            if node not in G and node not in new_nodes:
                attrs = {
                    k: b.get(k, "") for k in ("barrier", "access", "opening_hours")
                }
                new_nodes[node] = {
                    "x": points[node][0],
                    "y": points[node][1],
                    "street_count": 2,
                    **attrs,
                }
            cuts.append(frac)
            ids.append(node)
        cuts.append(1.0)
        ids.append(v)
        for i in range(len(ids) - 1):
            a, b_ = ids[i], ids[i + 1]
            seg = substring(line, cuts[i], cuts[i + 1], normalized=True)
            coords = np.asarray(shapely.get_coordinates(seg), dtype="float64")
            if len(coords) < 2:
                coords = np.vstack([coords[:1], coords[:1]])
            start = points.get(
                a, (G.nodes[a]["x"], G.nodes[a]["y"]) if a in G else None
            )
            end = points.get(
                b_, (G.nodes[b_]["x"], G.nodes[b_]["y"]) if b_ in G else None
            )
            if start is not None:
                coords[0] = start
            if end is not None:
                coords[-1] = end
            piece = dict(data)
            piece["geometry"] = shapely.LineString(coords)
            piece["length_m"] = length * (cuts[i + 1] - cuts[i])
            piece["barriers"] = ""
            pieces.append((a, b_, piece))
    return pieces, new_nodes


def _gate_state(
    data: Mapping[str, Any],
    mode: str,
    *,
    moment: tuple[int | None, float] | None,
    residents_only_ok: bool,
    node: Hashable,
) -> tuple[bool, str]:
    """Whether a barrier node lets ``mode`` pass, and why."""
    barrier = _text(data.get("barrier"))
    if barrier in BLOCKING_BARRIERS[mode]:
        return False, f"barrier={barrier} blocks {mode}"
    access = _text(data.get("access"))
    if access == "no":
        return False, "access=no"
    if access in _RESIDENTS and not residents_only_ok:
        return False, f"access={access} and residents_only_ok=False"
    hours = _text(data.get("opening_hours"))
    if moment is None or not hours:
        return True, "open"
    try:
        parsed = parse_opening_hours(hours)
    except OpeningHoursError as exc:
        warnings.warn(
            f"gate {node!r}: {exc}; the gate is taken as open",
            NetworkWarning,
            stacklevel=4,
        )
        return True, "open (opening_hours not understood)"
    weekday, minute = moment
    if weekday is None:
        if parsed.depends_on_day:
            msg = (
                f"gate {node!r} has opening_hours {hours!r}, which depend on the "
                "weekday; give the day with the time, e.g. time='Sa 22:30'"
            )
            raise ValueError(msg)
        weekday = 0
    if parsed.is_open(weekday, minute):
        return True, f"open ({hours})"
    return False, f"closed ({hours})"


def _gate_closed(value: Any) -> bool | None:
    """A node's ``gate_closed`` setting: True, False or None (not set)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return None


def gate_overrides(G: nx.MultiDiGraph) -> dict[Hashable, bool]:
    """The gates a street graph's ``gate_closed`` node attribute decides.

    A plan closes or opens gates by setting ``gate_closed`` on street-graph
    nodes (``True`` closed, ``False`` open, ``None`` or absent: not decided).
    :func:`mode_graph` applies these settings itself, below the ``gates=``
    a caller gives it; this function lists them.

    Parameters
    ----------
    G
        Street graph.

    Returns
    -------
    dict
        Node id -> whether the gate is open (``not gate_closed``), for every
        node whose ``gate_closed`` is True or False (numpy booleans too;
        any other value leaves the gate undecided). The form of ``gates=``.

    Examples
    --------
    >>> import networkx as nx
    >>> from cim.network import gate_overrides
    >>> G = nx.MultiDiGraph(crs="EPSG:32650")
    >>> G.add_node(1, x=0.0, y=0.0, barrier="gate", gate_closed=True)
    >>> G.add_node(2, x=9.0, y=0.0, gate_closed=None)
    >>> gate_overrides(G)
    {1: False}
    """
    out: dict[Hashable, bool] = {}
    for n, value in G.nodes(data="gate_closed"):
        closed = _gate_closed(value)
        if closed is not None:
            out[n] = not closed
    return out


def mode_graph(
    G: nx.MultiDiGraph,
    mode: str = "walk",
    *,
    speed_kph: float | None = None,
    time: str | _dt.datetime | _dt.time | None = None,
    gates: Mapping[Hashable, bool] | None = None,
    residents_only_ok: bool = True,
    oneway: bool | None = None,
    keep_closed: bool = False,
) -> nx.MultiDiGraph:
    """The graph a travel mode uses, with speeds, travel times and gates.

    Parameters
    ----------
    G
        Street graph (osmnx model: ``length_m`` [m] on edges, ``x``/``y`` on
        nodes), e.g. ``twin.network``. It is not modified.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    speed_kph
        Travel speed [km/h]: default :data:`WALK_SPEED_KPH` or
        :data:`BIKE_SPEED_KPH`; for drive, a speed that replaces every
        edge's (default: ``speed_kph`` of the edge, else
        :data:`DRIVE_SPEEDS_KPH`).
    time
        When: ``"22:30"``, ``"Sa 22:30"`` or a datetime; gates follow their
        ``opening_hours`` then. None ignores opening hours.
    gates
        Gate node id -> True (open) or False (closed), overriding everything
        else for those gates. Precedence, highest first: ``gates``; then the
        node's ``gate_closed`` attribute (True closed, False open; None or
        absent: not decided); then the gate's kind, ``access`` and, at
        ``time``, ``opening_hours`` (see the module doc).
    residents_only_ok
        Whether ``access=private`` streets and gates are usable (by the
        compound's residents). True by default.
    oneway
        Respect one-way streets; default True for bike and drive, False for
        walk.
    keep_closed
        Keep closed gates as nodes with ``gate_open=False`` (for
        :class:`RoutingGraph`, which then blocks passage through them)
        instead of removing them.

    Returns
    -------
    networkx.MultiDiGraph
        A new graph: nodes keep their attributes (gate nodes, and nodes
        with ``gate_closed`` set, get ``gate_open`` and ``gate_state``, the
        reason), edges keep theirs and get
        ``speed_kph`` [km/h] and ``travel_time_s`` [s] (``length_m`` at the
        speed, plus ``penalty_s``). ``graph`` gets ``mode``, ``speed_kph``,
        ``time`` and ``closed_gates`` (the ids of closed gates). Closed
        gates are removed unless ``keep_closed``.

    Raises
    ------
    ValueError
        For an unknown mode, a bad ``time``, or a gate whose hours depend on
        the weekday when ``time`` names none.

    Warns
    -----
    NetworkWarning
        For a gate whose ``opening_hours`` are outside the supported subset
        (it is taken as open).

    Examples
    --------
    >>> import cim
    >>> from cim.network import mode_graph
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> W = mode_graph(twin.network, "walk")
    >>> W.graph["mode"], W.graph["speed_kph"]
    ('walk', 4.5)
    """
    _check_mode(mode)
    moment = parse_time(time) if time is not None else None
    if oneway is None:
        oneway = mode != "walk"
    pieces, new_nodes = _edge_pieces(G)
    kept: list[tuple[Hashable, Hashable, dict[str, Any]]] = []
    for u, v, data in pieces:
        if _closed_for(data.get("closed"), mode):
            continue
        if not _allowed(data, mode, residents_only_ok):
            continue
        speed = _speed_kph(data, mode, speed_kph)
        attrs = dict(data)
        geom = data.get("geometry")
        if not isinstance(geom, shapely.LineString) or geom.is_empty:
            a, b = (
                (G.nodes[u] if u in G else new_nodes[u]),
                (G.nodes[v] if v in G else new_nodes[v]),
            )
            geom = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
        attrs["geometry"] = geom
        length = float(attrs.get("length_m", geom.length))
        attrs["length_m"] = length
        attrs["speed_kph"] = speed
        attrs["travel_time_s"] = length / (speed / 3.6) + _penalty_s(data)
        kept.append((u, v, attrs))
    if not oneway:
        kept = _both_ways(kept)
        for _, _, attrs in kept:
            attrs["oneway"] = False
    used = {n for u, v, _ in kept for n in (u, v)}
    H = nx.MultiDiGraph(**G.graph)
    H.add_nodes_from((n, dict(d)) for n, d in G.nodes(data=True) if n in used)
    H.add_nodes_from((n, dict(d)) for n, d in new_nodes.items() if n in used)
    # Explicit keys: networkx's key search per edge is slow on city graphs.
    seen: dict[tuple[Hashable, Hashable], int] = defaultdict(int)
    keyed = []
    for u, v, attrs in kept:
        k = seen[(u, v)]
        seen[(u, v)] = k + 1
        keyed.append((u, v, k, attrs))
    H.add_edges_from(keyed)
    closed = []
    overrides = dict(gates or {})
    unknown = [g for g in overrides if g not in G and g not in new_nodes]
    if unknown:
        msg = (
            f"gates {unknown[:5]} are not nodes of the street graph; list gate "
            "node ids from cim.network.gate_table(G)"
        )
        raise ValueError(msg)
    # The precedence of the module doc: gates=, then gate_closed, then tags.
    for n, data in H.nodes(data=True):
        setting = _gate_closed(data.get("gate_closed"))
        if n in overrides:
            is_open = bool(overrides[n])
            why = "opened by gates=" if is_open else "closed by gates="
        elif setting is not None:
            is_open = not setting
            why = f"{'closed' if setting else 'opened'} by gate_closed={setting}"
        elif not _text(data.get("barrier")):
            continue
        else:
            is_open, why = _gate_state(
                data,
                mode,
                moment=moment,
                residents_only_ok=residents_only_ok,
                node=n,
            )
        data["gate_open"] = is_open
        data["gate_state"] = why
        if not is_open:
            closed.append(n)
    if not keep_closed:
        H.remove_nodes_from(closed)
    H.graph["mode"] = mode
    H.graph["speed_kph"] = (
        float(speed_kph)
        if speed_kph is not None
        else (_MODE_SPEED[mode] if mode != "drive" else None)
    )
    H.graph["time"] = None if time is None else str(time)
    H.graph["closed_gates"] = closed
    return H


def _both_ways(
    edges: list[tuple[Hashable, Hashable, dict[str, Any]]],
) -> list[tuple[Hashable, Hashable, dict[str, Any]]]:
    """``edges`` plus the reverse of every edge that has no reverse twin."""
    if not edges:
        return edges
    index: dict[Hashable, int] = {}
    ends = np.empty((len(edges), 2), dtype=np.intp)
    for i, (u, v, _) in enumerate(edges):
        ends[i, 0] = index.setdefault(u, len(index))
        ends[i, 1] = index.setdefault(v, len(index))
    geoms = np.empty(len(edges), dtype=object)
    geoms[:] = [d["geometry"] for _, _, d in edges]
    twin = _twins(ends[:, 0], ends[:, 1], geoms)
    out = list(edges)
    lonely = np.flatnonzero(twin < 0)
    backs = shapely.reverse(geoms[lonely]) if len(lonely) else []
    for i, back in zip(lonely.tolist(), backs, strict=True):
        u, v, d = edges[i]
        rev = dict(d)
        rev["geometry"] = back
        rev["reversed"] = not bool(d.get("reversed", False))
        out.append((v, u, rev))
    return out


def edit_gates(
    G: nx.MultiDiGraph,
    nodes: Iterable[Hashable] | None = None,
    *,
    kinds: Iterable[str] | None = None,
    **tags: str,
) -> nx.MultiDiGraph:
    """A copy of a street graph with some gates' tags changed.

    Gates are edited wherever they are kept: as node attributes, or inside
    the ``barriers`` lists of the edges they lie on (see
    :func:`cim.io.osm.read_osm`). Use it to give gates opening hours, or to
    make one private: ``edit_gates(G, [node], access="private")``.

    Parameters
    ----------
    G
        Street graph; it is not modified.
    nodes
        Gate node ids to edit; default every barrier of ``kinds``.
    kinds
        ``barrier`` values to edit when ``nodes`` is None (default: every
        barrier).
    **tags
        New values of ``barrier``, ``access`` or ``opening_hours``.

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    ValueError
        For a tag other than those three, or a node that is no gate.

    Examples
    --------
    >>> import warnings
    >>> import cim
    >>> from cim.network import edit_gates, gate_table
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", cim.CIMWarning)
    ...     twin = cim.Twin.from_osm(
    ...         cim.datasets.get_path("beijing_haidian_cau", kind="osm")
    ...     )
    >>> G = edit_gates(twin.network, kinds=["gate"], opening_hours="06:00-22:00")
    >>> sorted(set(gate_table(G)["opening_hours"]))
    ['', '06:00-22:00']
    """
    allowed = ("barrier", "access", "opening_hours")
    bad = [k for k in tags if k not in allowed]
    if bad:
        msg = f"invalid gate tags {bad}; expected some of {allowed}"
        raise ValueError(msg)
    table = gate_table(G)
    chosen_kinds = None if kinds is None else set(kinds)
    if nodes is None:
        pick = (
            table["barrier"].isin(chosen_kinds)
            if chosen_kinds
            else table["node"].notna()
        )
        targets = set(table.loc[pick, "node"])
    else:
        targets = set(nodes)
        unknown = targets - set(table["node"])
        if unknown:
            msg = (
                f"nodes {sorted(unknown, key=str)[:5]} are not gates of the graph; "
                "list them with cim.network.gate_table(G)"
            )
            raise ValueError(msg)
    H = G.copy()
    for n in targets:
        if n in H:
            H.nodes[n].update(tags)
    for _, _, d in H.edges(data=True):
        listed = d.get("barriers")
        if _no_barriers(listed):
            continue
        items = json.loads(listed)
        if any(b["node"] in targets for b in items):
            for b in items:
                if b["node"] in targets:
                    b.update(tags)
            d["barriers"] = json.dumps(items, ensure_ascii=False)
    return H


def gate_table(G: nx.MultiDiGraph) -> Any:
    """The gates (``barrier=*`` nodes) of a street graph, as a GeoDataFrame.

    Barriers inside edges (the ``barriers`` attribute) are listed too, at
    their position along the edge.

    Parameters
    ----------
    G
        Street graph or mode graph.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per barrier: ``node`` (its id, usable in ``gates=``),
        ``barrier``, ``access``, ``opening_hours``, ``on_edge`` (whether it
        lies inside an edge of ``G``) and, for mode graphs, ``gate_open`` and
        ``gate_state``; Point geometry in ``G``'s CRS.
    """
    import geopandas as gpd
    import pandas as pd

    _, new_nodes = _edge_pieces(G)
    rows = []
    every = [*G.nodes(data=True), *new_nodes.items()]
    for n, d in every:
        if not _text(d.get("barrier")) and "gate_open" not in d:
            continue
        rows.append(
            {
                "node": n,
                "barrier": _text(d.get("barrier")),
                "access": _text(d.get("access")),
                "opening_hours": _text(d.get("opening_hours")),
                "on_edge": n not in G,
                "gate_open": d.get("gate_open"),
                "gate_state": d.get("gate_state"),
                "geometry": shapely.Point(d["x"], d["y"]),
            }
        )
    columns = [
        "node",
        "barrier",
        "access",
        "opening_hours",
        "on_edge",
        "gate_open",
        "gate_state",
    ]
    frame = pd.DataFrame(rows, columns=[*columns, "geometry"])
    return gpd.GeoDataFrame(
        frame.drop(columns="geometry"),
        geometry=gpd.GeoSeries(list(frame["geometry"]), crs=G.graph.get("crs")),
    )


# -- compiled graphs ----------------------------------------------------------


def _csr_min(
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    weights: NDArray[np.float64],
    n: int,
) -> sp.csr_matrix:
    """A CSR matrix keeping the smallest weight of parallel entries (and zeros)."""
    order = np.lexsort((weights, cols, rows))
    r, c, w = rows[order], cols[order], weights[order]
    if len(r):
        first = np.ones(len(r), dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        r, c, w = r[first], c[first], w[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    return sp.csr_matrix(
        (w.astype("float64"), c.astype(np.int32), indptr.astype(np.int32)),
        shape=(n, n),
    )


class RoutingGraph:
    """A mode graph compiled to arrays: CSR matrices and street segments.

    Built once by :meth:`from_graph`; the searches of
    :mod:`cim.network.circles` and the snapping of :mod:`cim.network.snap`
    read it. A *segment* is one physical street piece: a directed edge and,
    where it exists, its reverse twin (the reverse edge with the reversed
    geometry), so that a point on a street is reached from both ends.
    Segments are worked out on first use (searches between nodes do not need
    them).

    Attributes
    ----------
    nodes : numpy.ndarray
        ``(n,)`` node ids, in index order.
    x, y : numpy.ndarray
        ``(n,)`` node coordinates [m].
    blocked : numpy.ndarray
        ``(n,)`` closed gates: no passage through them.
    weight : str
        The edge attribute searched (``travel_time_s`` [s] or ``length_m``
        [m]); every cost is in its unit.
    edge_u, edge_v : numpy.ndarray
        ``(m,)`` node indices of every directed edge.
    edge_weight : numpy.ndarray
        ``(m,)`` its weight.
    csr : scipy.sparse.csr_matrix
        ``(n, n)`` edge weights; parallel edges keep the smallest, edges at
        blocked nodes are left out.
    csr_reverse : scipy.sparse.csr_matrix
        Its transpose, for searches towards a target.
    crs : object
        The graph's CRS.
    """

    def __init__(
        self,
        *,
        nodes: NDArray[Any],
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        blocked: NDArray[np.bool_],
        weight: str,
        edge_u: NDArray[np.intp],
        edge_v: NDArray[np.intp],
        edge_weight: NDArray[np.float64],
        edge_geometry: NDArray[Any],
        edge_length_m: NDArray[np.float64],
        crs: Any = None,
    ) -> None:
        self.nodes = nodes
        self.x = x
        self.y = y
        self.blocked = blocked
        self.weight = weight
        self.edge_u = edge_u
        self.edge_v = edge_v
        self.edge_weight = edge_weight
        self._edge_geometry = edge_geometry
        self._edge_length_m = edge_length_m
        self.crs = crs
        n = len(nodes)
        passable = ~(blocked[edge_u] | blocked[edge_v])
        self.csr = _csr_min(
            edge_u[passable], edge_v[passable], edge_weight[passable], n
        )
        self.csr_reverse = _csr_min(
            edge_v[passable], edge_u[passable], edge_weight[passable], n
        )

    def __repr__(self) -> str:
        return (
            f"<RoutingGraph {self.n:,} nodes, {len(self.edge_u):,} edges, "
            f"weight={self.weight!r}, {int(self.blocked.sum())} blocked>"
        )

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @cached_property
    def _lookup(self) -> dict[Hashable, int]:
        return {v: i for i, v in enumerate(self.nodes.tolist())}

    def index_of(self, ids: Iterable[Hashable]) -> NDArray[np.intp]:
        """Indices of node ids.

        Parameters
        ----------
        ids
            Node ids of the graph.

        Returns
        -------
        numpy.ndarray
            ``(k,)`` indices.

        Raises
        ------
        KeyError
            If an id is not a node.
        """
        lookup = self._lookup
        out = []
        for i in ids:
            if i not in lookup:
                msg = f"node {i!r} is not in the graph"
                raise KeyError(msg)
            out.append(lookup[i])
        return np.asarray(out, dtype=np.intp)

    @cached_property
    def _segments(self) -> dict[str, NDArray[Any]]:
        u, v, w = self.edge_u, self.edge_v, self.edge_weight
        geoms = self._edge_geometry
        missing = np.flatnonzero(
            shapely.is_missing(geoms) | (shapely.get_type_id(geoms) != 1)
        )
        if len(missing):
            geoms = geoms.copy()
            xy = np.stack(
                [
                    np.column_stack([self.x[u[missing]], self.y[u[missing]]]),
                    np.column_stack([self.x[v[missing]], self.y[v[missing]]]),
                ],
                axis=1,
            )
            geoms[missing] = shapely.linestrings(xy)
        lengths = np.where(
            np.isfinite(self._edge_length_m), self._edge_length_m, shapely.length(geoms)
        )
        twins = _twins(u, v, geoms)
        # A segment is an edge without a twin, or the first of a pair.
        first = np.flatnonzero((twins < 0) | (twins > np.arange(len(twins))))
        twin = twins[first]
        bwd = np.full(len(first), np.inf)
        bwd[twin >= 0] = w[twin[twin >= 0]]
        # Components of the physical graph (closed gates included), so that
        # snapping does not depend on the time of day.
        n = self.n
        if n:
            links = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
            _, labels = connected_components(links, directed=True, connection="weak")
            sizes = np.bincount(labels)
            rank = np.empty(len(sizes), dtype=np.intp)
            rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
            comp = rank[labels]
        else:
            comp = np.zeros(0, dtype=np.intp)
        return {
            "u": u[first],
            "v": v[first],
            "fwd": w[first],
            "bwd": bwd,
            "length": lengths[first],
            "geometry": geoms[first],
            "component": comp[u[first]] if len(first) else np.zeros(0, np.intp),
        }

    @property
    def seg_u(self) -> NDArray[np.intp]:
        """``(s,)`` node index of each segment's start (its geometry's first point)."""
        return self._segments["u"]

    @property
    def seg_v(self) -> NDArray[np.intp]:
        """``(s,)`` node index of each segment's end."""
        return self._segments["v"]

    @property
    def seg_fwd(self) -> NDArray[np.float64]:
        """``(s,)`` weight from ``seg_u`` to ``seg_v`` (inf if not allowed)."""
        return self._segments["fwd"]

    @property
    def seg_bwd(self) -> NDArray[np.float64]:
        """``(s,)`` weight from ``seg_v`` back to ``seg_u`` (inf if not allowed)."""
        return self._segments["bwd"]

    @property
    def seg_length_m(self) -> NDArray[np.float64]:
        """``(s,)`` length of each segment [m]."""
        return self._segments["length"]

    @property
    def seg_geometry(self) -> NDArray[Any]:
        """``(s,)`` LineStrings from ``seg_u`` to ``seg_v``."""
        return self._segments["geometry"]

    @property
    def seg_component(self) -> NDArray[np.intp]:
        """``(s,)`` weakly connected component of each segment, 0 the largest."""
        return self._segments["component"]

    @classmethod
    def from_graph(
        cls, G: nx.MultiDiGraph, *, weight: str = "travel_time_s"
    ) -> RoutingGraph:
        """Compile a mode graph.

        Parameters
        ----------
        G
            A graph from :func:`mode_graph` (or any graph whose edges carry
            ``weight`` and, ideally, ``geometry``). Nodes with
            ``gate_open=False`` block passage.
        weight
            Edge attribute to search: ``travel_time_s`` [s] or ``length_m``
            [m], or any non-negative cost.

        Returns
        -------
        RoutingGraph

        Raises
        ------
        ValueError
            If an edge lacks ``weight`` or has a negative or non-finite one.
        """
        nodes = []
        xs: list[float] = []
        ys: list[float] = []
        shut: list[bool] = []
        for v, d in G.nodes(data=True):
            nodes.append(v)
            xs.append(d["x"])
            ys.append(d["y"])
            shut.append(d.get("gate_open") is False)
        n = len(nodes)
        index = {v: i for i, v in enumerate(nodes)}
        x = np.asarray(xs, dtype="float64")
        y = np.asarray(ys, dtype="float64")
        blocked = np.asarray(shut, dtype=bool).reshape(n)
        eu: list[int] = []
        ev: list[int] = []
        ew: list[Any] = []
        geoms: list[Any] = []
        lengths: list[Any] = []
        for u, v, d in G.edges(data=True):
            eu.append(index[u])
            ev.append(index[v])
            ew.append(d.get(weight))
            geoms.append(d.get("geometry"))
            lengths.append(d.get("length_m"))
        w_arr = _weights(ew, G, weight)
        geom_arr = np.empty(len(geoms), dtype=object)
        geom_arr[:] = geoms
        len_arr = np.array(
            [np.nan if v is None else v for v in lengths], dtype="float64"
        )
        ids = np.empty(n, dtype=object)
        ids[:] = nodes
        return cls(
            nodes=ids,
            x=x,
            y=y,
            blocked=blocked,
            weight=weight,
            edge_u=np.asarray(eu, dtype=np.intp),
            edge_v=np.asarray(ev, dtype=np.intp),
            edge_weight=w_arr,
            edge_geometry=geom_arr,
            edge_length_m=len_arr,
            crs=G.graph.get("crs"),
        )


def _weights(values: list[Any], G: nx.MultiDiGraph, weight: str) -> NDArray[np.float64]:
    """Edge weights as floats, checked finite and non-negative."""
    try:
        w = np.array(values, dtype="float64")
    except (TypeError, ValueError):
        w = np.array(
            [v if isinstance(v, (int, float)) else np.nan for v in values],
            dtype="float64",
        )
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        u, v = next(itertools.islice(G.edges(), i, None))
        msg = (
            f"edge ({u!r}, {v!r}) has {weight}={values[i]!r}; every edge needs a "
            f"finite, non-negative {weight} (build the graph with "
            "cim.network.mode_graph)"
        )
        raise ValueError(msg)
    return w
