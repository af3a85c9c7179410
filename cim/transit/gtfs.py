"""Read GTFS timetables and select the trips that run on a given day.

:func:`read_gtfs` reads a GTFS feed (a ``.zip`` or the folder it unpacks to)
into a :class:`Feed`: one :class:`pandas.DataFrame` per GTFS table, with ids
kept as strings and times parsed to seconds since the start of the service day
(so ``25:10:00`` is 90 600 s, as GTFS allows for trips running past midnight).
The files are read and checked by `cim.io.gtfs`.
:meth:`Feed.active_services` applies ``calendar.txt`` and the
``calendar_dates.txt`` exceptions; :meth:`Feed.stop_times_on` gives the stop
times of the trips running on one date, with frequency-based trips expanded.

Blank ``arrival_time``/``departure_time`` at intermediate stops (stops that are
not timepoints, allowed by GTFS and used by 96 % of the EPTC stop times) are
interpolated linearly between the neighbouring timed stops, by
``shape_dist_traveled`` where the whole trip has it and otherwise by
straight-line distance between consecutive stops; such rows have
``interpolated=True``.

Times are seconds after "noon minus 12 h" of the service day, which is
midnight except on the two daylight-saving change days, where GTFS times are
an hour off wall-clock time; this module does not correct for that.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cim.io.gtfs import REQUIRED_FILES, WEEKDAYS, read_gtfs_tables

__all__ = [
    "REQUIRED_FILES",
    "Feed",
    "read_gtfs",
    "seconds_to_time",
    "time_to_seconds",
]

_DAY_S = 86_400


# -- time helpers -------------------------------------------------------------


def time_to_seconds(value: str | float) -> int:
    """Seconds after midnight of a GTFS-style time.

    Parameters
    ----------
    value
        ``"H:MM"``, ``"HH:MM:SS"`` (hours may pass 24, as in GTFS) or a number
        of seconds [s].

    Returns
    -------
    int
        [s]

    Raises
    ------
    ValueError
        If ``value`` is not a time.

    Examples
    --------
    >>> time_to_seconds("07:30")
    27000
    >>> time_to_seconds("25:10:00")
    90600
    """
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not np.isfinite(value):
            msg = f"invalid time {value!r}; expected seconds or 'HH:MM[:SS]'"
            raise ValueError(msg)
        return round(float(value))
    parts = str(value).strip().split(":")
    ok = len(parts) in (2, 3) and all(p.isdigit() for p in parts)
    if ok:
        nums = [int(p) for p in parts] + [0] * (3 - len(parts))
        ok = nums[1] < 60 and nums[2] < 60
    if not ok:
        msg = f"invalid time {value!r}; expected 'HH:MM' or 'HH:MM:SS', e.g. '07:30'"
        raise ValueError(msg)
    return nums[0] * 3600 + nums[1] * 60 + nums[2]


def seconds_to_time(seconds: float) -> str:
    """Format seconds after midnight as GTFS ``HH:MM:SS`` (hours may pass 24).

    Parameters
    ----------
    seconds
        [s], rounded to whole seconds.

    Returns
    -------
    str

    Examples
    --------
    >>> seconds_to_time(90600)
    '25:10:00'
    """
    s = round(seconds)
    sign = "-" if s < 0 else ""
    h, rest = divmod(abs(s), 3600)
    return f"{sign}{h:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _as_date(date: Any) -> pd.Timestamp:
    """A service date as a midnight :class:`pandas.Timestamp`."""
    try:
        if isinstance(date, str) and date.isdigit() and len(date) == 8:
            ts = pd.Timestamp(dt.datetime.strptime(date, "%Y%m%d"))
        else:
            ts = pd.Timestamp(date)
    except (ValueError, TypeError) as exc:
        msg = f"invalid date {date!r}; give e.g. '2019-05-13' or datetime.date"
        raise ValueError(msg) from exc
    if ts is pd.NaT or pd.isna(ts):
        msg = f"invalid date {date!r}; give e.g. '2019-05-13' or datetime.date"
        raise ValueError(msg)
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


# -- the feed -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Feed:
    """A GTFS feed as DataFrames, one per GTFS file.

    Ids (``stop_id``, ``trip_id`` ...) are strings; optional columns missing
    from the file are absent from the frame, except where noted. Optional
    files that are absent give empty frames.

    Attributes
    ----------
    stops
        ``stops.txt``; ``stop_lat``/``stop_lon`` [degrees, WGS 84] as floats
        (NaN where blank), ``location_type`` as integers (0 where blank).
    routes
        ``routes.txt``; ``route_type`` as integers.
    trips
        ``trips.txt``.
    stop_times
        ``stop_times.txt`` sorted by ``trip_id`` and ``stop_sequence``, plus
        ``arrival_s`` and ``departure_s`` [s since the start of the service
        day, may pass 86 400] as integers, ``interpolated`` (bool, the file
        had no time at this stop) and ``pickup_type``/``drop_off_type`` as
        integers (0 where blank).
    calendar
        ``calendar.txt``: weekday flags as integers, ``start_date`` and
        ``end_date`` as datetimes; empty if the feed has only
        ``calendar_dates.txt``.
    calendar_dates
        ``calendar_dates.txt``: ``date`` as datetime, ``exception_type`` as
        integer (1 adds service on that date, 2 removes it).
    transfers
        ``transfers.txt``: ``transfer_type`` as integer, ``min_transfer_time``
        [s] as float (NaN where blank).
    frequencies
        ``frequencies.txt``: ``start_s``, ``end_s`` [s] and ``headway_secs``
        [s] as integers, ``exact_times`` (0 where blank).
    agency
        ``agency.txt`` as read.
    feed_info
        ``feed_info.txt`` as read.
    source
        Provenance: ``path`` and ``name`` (the file or folder name).
    """

    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    transfers: pd.DataFrame
    frequencies: pd.DataFrame
    agency: pd.DataFrame
    feed_info: pd.DataFrame
    source: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The feed's file or folder name, e.g. ``"poa_eptc.zip"``."""
        return self.source.get("name", "feed")

    def __repr__(self) -> str:
        return (
            f"Feed({self.name!r}: {len(self.stops)} stops, {len(self.routes)} "
            f"routes, {len(self.trips)} trips, {len(self.stop_times)} stop_times)"
        )

    def stops_gdf(self, crs: Any = None) -> gpd.GeoDataFrame:
        """The stops as a GeoDataFrame of points.

        Parameters
        ----------
        crs
            Reproject to this CRS; by default the points stay in EPSG:4326.
            Stops without coordinates get an empty geometry.

        Returns
        -------
        geopandas.GeoDataFrame
            :attr:`stops` with Point geometry.
        """
        lon = self.stops["stop_lon"].to_numpy("float64")
        lat = self.stops["stop_lat"].to_numpy("float64")
        ok = np.isfinite(lon) & np.isfinite(lat)
        geom = np.full(len(lon), None, dtype=object)
        geom[ok] = shapely.points(lon[ok], lat[ok])
        gdf = gpd.GeoDataFrame(self.stops.copy(), geometry=geom, crs="EPSG:4326")
        return gdf if crs is None else gdf.to_crs(crs)

    def service_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last date named by ``calendar.txt``/``calendar_dates.txt``.

        Returns
        -------
        tuple of pandas.Timestamp, or None
            ``None`` if the feed names no dates.
        """
        cal, cd = self.calendar, self.calendar_dates
        dates = [cal["start_date"], cal["end_date"]]
        if len(cd):
            dates.append(cd.loc[cd["exception_type"] == 1, "date"])
        values = pd.concat(dates, ignore_index=True).dropna()
        if not len(values):
            return None
        return pd.Timestamp(values.min()), pd.Timestamp(values.max())

    def active_services(self, date: Any) -> list[str]:
        """The ``service_id`` values running on ``date``.

        A service runs if ``calendar.txt`` has it on that weekday between
        ``start_date`` and ``end_date`` (inclusive), or ``calendar_dates.txt``
        adds it on that date (``exception_type`` 1), unless
        ``calendar_dates.txt`` removes it on that date (``exception_type`` 2).

        Parameters
        ----------
        date
            The service date (``"2019-05-13"``, ``"20190513"``,
            :class:`datetime.date` or :class:`pandas.Timestamp`).

        Returns
        -------
        list of str
            Sorted service ids.
        """
        day = _as_date(date)
        cal = self.calendar
        running: set[str] = set()
        if len(cal):
            weekday = WEEKDAYS[day.weekday()]
            on = (cal["start_date"] <= day) & (cal["end_date"] >= day)
            on &= cal[weekday] == 1
            running.update(cal.loc[on, "service_id"])
        cd = self.calendar_dates
        if len(cd):
            today = cd[cd["date"] == day]
            running.update(today.loc[today["exception_type"] == 1, "service_id"])
            running.difference_update(
                today.loc[today["exception_type"] == 2, "service_id"]
            )
        return sorted(running)

    def stop_times_on(self, date: Any, *, overnight: bool = False) -> pd.DataFrame:
        """Stop times of the trips running on one service date.

        Parameters
        ----------
        date
            The service date (see :meth:`active_services`).
        overnight
            Also include the trips of the previous service day that run past
            midnight (times of 24:00:00 and later), with their times moved back
            by 24 h so that all times count from ``date``'s midnight.

        Returns
        -------
        pandas.DataFrame
            Columns ``trip_id``, ``route_id``, ``service_id``,
            ``service_date``, ``stop_id``, ``stop_sequence``, ``arrival_s``,
            ``departure_s`` [s], ``pickup_type``, ``drop_off_type``, sorted by
            ``service_date``, ``trip_id`` and ``stop_sequence``.
            Frequency-based trips (``frequencies.txt``) are expanded into one
            trip per departure, with ``trip_id`` ``"<trip_id>#HH:MM:SS"``
            giving the first departure; both ``exact_times`` values are
            expanded as scheduled departures at ``start_time``,
            ``start_time + headway_secs`` ... before ``end_time``.
        """
        day = _as_date(date)
        parts = [self._stop_times_of_day(day, shift_s=0)]
        if overnight:
            prev = self._stop_times_of_day(day - pd.Timedelta(days=1), shift_s=_DAY_S)
            late = prev.groupby("trip_id", sort=False)["arrival_s"].transform("max")
            parts.append(prev[late.to_numpy() >= 0])
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values(
            ["service_date", "trip_id", "stop_sequence"], ignore_index=True
        )

    def _stop_times_of_day(self, day: pd.Timestamp, *, shift_s: int) -> pd.DataFrame:
        services = self.active_services(day)
        trips = self.trips.loc[
            self.trips["service_id"].isin(services),
            ["trip_id", "route_id", "service_id"],
        ]
        cols = [
            "trip_id",
            "stop_id",
            "stop_sequence",
            "arrival_s",
            "departure_s",
            "pickup_type",
            "drop_off_type",
        ]
        st = self.stop_times.loc[
            self.stop_times["trip_id"].isin(trips["trip_id"]), cols
        ]
        st = _expand_frequencies(st, self.frequencies)
        # Expanded frequency trips take route and service from their template.
        base = st.pop("template_id") if "template_id" in st else st["trip_id"]
        info = trips.set_index("trip_id")
        st["route_id"] = info["route_id"].reindex(base.to_numpy()).to_numpy()
        st["service_id"] = info["service_id"].reindex(base.to_numpy()).to_numpy()
        st["arrival_s"] = st["arrival_s"] - shift_s
        st["departure_s"] = st["departure_s"] - shift_s
        st.insert(3, "service_date", day)
        order = [
            "trip_id",
            "route_id",
            "service_id",
            "service_date",
            "stop_id",
            "stop_sequence",
            "arrival_s",
            "departure_s",
            "pickup_type",
            "drop_off_type",
        ]
        return st[order]


def _expand_frequencies(st: pd.DataFrame, freq: pd.DataFrame) -> pd.DataFrame:
    """Replace frequency-based trips by one trip per departure."""
    if not len(freq):
        return st
    freq = freq[freq["trip_id"].isin(st["trip_id"])]
    if not len(freq):
        return st
    is_tpl = st["trip_id"].isin(freq["trip_id"])
    tpl = st[is_tpl]
    first = tpl.groupby("trip_id")["departure_s"].transform("min")
    tpl = tpl.assign(
        rel_arr=tpl["arrival_s"] - first, rel_dep=tpl["departure_s"] - first
    )
    # Every departure of every frequency row.
    span = (freq["end_s"] - freq["start_s"]).to_numpy()
    counts = np.maximum(0, -(-span // freq["headway_secs"].to_numpy())).astype("int64")
    rep = freq.loc[freq.index.repeat(counts)].reset_index(drop=True)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
    rep["start"] = rep["start_s"].to_numpy() + k * rep["headway_secs"].to_numpy()
    runs = rep[["trip_id", "start"]].merge(tpl, on="trip_id", how="left")
    runs["arrival_s"] = runs["start"] + runs["rel_arr"]
    runs["departure_s"] = runs["start"] + runs["rel_dep"]
    runs["template_id"] = runs["trip_id"]
    runs["trip_id"] = runs["trip_id"] + "#" + runs["start"].map(seconds_to_time)
    runs = runs[[*st.columns, "template_id"]]
    rest = st[~is_tpl].assign(template_id=st.loc[~is_tpl, "trip_id"])
    return pd.concat([rest, runs], ignore_index=True)


# -- reading ------------------------------------------------------------------


def read_gtfs(path: str | os.PathLike[str]) -> Feed:
    """Read a GTFS feed from a ``.zip`` or the folder it unpacks to.

    Parameters
    ----------
    path
        The feed: a ``.zip`` (its files at the top level or in one folder) or
        a folder holding ``stops.txt``, ``routes.txt``, ``trips.txt``,
        ``stop_times.txt`` and ``calendar.txt`` and/or ``calendar_dates.txt``.

    Returns
    -------
    Feed

    Raises
    ------
    InputFileError
        If the path is missing or not a zip, a required file or column is
        missing, a value cannot be read (times that are not ``H:MM:SS``,
        dates that are not ``YYYYMMDD``, coordinates that are not numbers),
        a trip lacks times at its first or last stop, or stop times name
        trips or stops that are not in ``trips.txt``/``stops.txt``.

    Notes
    -----
    The files are read by `cim.io.gtfs.read_gtfs_tables`. Times past
    ``24:00:00`` are kept (GTFS service days can be longer than 24 h). Blank
    times at intermediate stops are interpolated (see the module notes).
    ``shapes.txt``, fares and other files are not read.

    Examples
    --------
    >>> from cim.transit import read_gtfs
    >>> feed = read_gtfs("poa_eptc.zip")  # doctest: +SKIP
    >>> feed  # doctest: +SKIP
    Feed('poa_eptc.zip': 3986 stops, 115 routes, 2374 trips, 130019 stop_times)
    """
    path = Path(path)
    tables = read_gtfs_tables(path)
    return Feed(**tables, source={"path": str(path), "name": path.name})
