"""Read the files of a GTFS feed into typed tables, with clear errors.

`read_gtfs_tables` reads a GTFS feed (a ``.zip``, its files at the top level
or in one folder, or the folder it unpacks to) into one
:class:`pandas.DataFrame` per GTFS file, with ids kept as strings, numbers,
dates and times parsed (times to seconds since the start of the service day,
so ``25:10:00`` is 90 600 s), references between the files checked and blank
times at intermediate stops interpolated (see `cim.transit.gtfs`). Every
problem of the files (a missing, truncated or corrupt archive or member, text
that is not UTF-8 CSV, a missing column, a value that cannot be read) raises
`cim.errors.InputFileError` naming the file, the line and the fix.

`cim.transit.read_gtfs` wraps these tables in a `cim.transit.Feed`, which
selects the trips that run on a day.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cim.errors import InputFileError

__all__ = ["REQUIRED_FILES", "WEEKDAYS", "GTFSTables", "read_gtfs_tables"]

#: GTFS files the reader needs; one of ``calendar.txt`` and
#: ``calendar_dates.txt`` is needed as well.
REQUIRED_FILES = ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt")

#: The weekday columns of ``calendar.txt``, in `datetime.date.weekday` order.
WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

#: Columns each table must have (GTFS "Required" fields the engine uses).
_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_id",),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": (
        "trip_id",
        "arrival_time",
        "departure_time",
        "stop_id",
        "stop_sequence",
    ),
    "calendar.txt": ("service_id", *WEEKDAYS, "start_date", "end_date"),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "transfers.txt": ("from_stop_id", "to_stop_id", "transfer_type"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
    "agency.txt": (),
    "feed_info.txt": (),
}

_TIME_RE = r"^(\d+):([0-5]\d):([0-5]\d)$"


class GTFSTables(TypedDict):
    """The tables of a GTFS feed, as read by `read_gtfs_tables`.

    The columns and types of each are those of the `cim.transit.Feed`
    attributes of the same names.
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


# -- reading ------------------------------------------------------------------


class _Source:
    """The members of a GTFS zip or folder, read as bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if not path.exists():
            msg = (
                f"{path}: no such file or folder; give the GTFS .zip or the "
                "folder holding stops.txt, trips.txt ..."
            )
            raise InputFileError(msg)
        if path.is_dir():
            self._names = {p.name for p in path.iterdir() if p.is_file()}
            return
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            msg = (
                f"{path}: not a zip archive; give a GTFS .zip (or the folder it "
                "unpacks to), re-downloading it if it is truncated"
            )
            raise InputFileError(msg) from exc
        except OSError as exc:
            msg = f"{path}: cannot be opened ({exc.strerror}); check its permissions"
            raise InputFileError(msg) from exc
        self._zip = zf
        names = [n for n in zf.namelist() if not n.endswith("/")]
        top = {n for n in names if "/" not in n}
        if "stops.txt" not in top:
            # Feeds zipped with their folder: use the one folder holding stops.txt.
            dirs = {n.rsplit("/", 1)[0] for n in names if n.endswith("/stops.txt")}
            if len(dirs) == 1:
                self._prefix = dirs.pop() + "/"
                top = {
                    n[len(self._prefix) :]
                    for n in names
                    if n.startswith(self._prefix) and "/" not in n[len(self._prefix) :]
                }
        self._names = top

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def read(self, name: str) -> bytes:
        try:
            if self._zip is not None:
                return self._zip.read(self._prefix + name)
            return (self.path / name).read_bytes()
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            msg = (
                f"{self.path}: member {name} cannot be read ({detail}); the archive "
                "is corrupt or truncated, re-download the feed"
            )
            raise InputFileError(msg) from exc

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


class _Table:
    """One GTFS member as a string DataFrame, with error helpers."""

    def __init__(self, src: _Source, name: str, df: pd.DataFrame) -> None:
        self.src = src
        self.name = name
        self.df = df

    def error(self, what: str, fix: str) -> InputFileError:
        return InputFileError(f"{self.src.path}: {self.name} {what}; {fix}")

    def where(self, mask: NDArray[np.bool_] | pd.Series, column: str) -> str:
        """'line N (trip_id 'x')' for the first row of ``mask``."""
        i = int(np.flatnonzero(np.asarray(mask))[0])
        key = self.df.columns[0]
        return (
            f"line {i + 2} ({key} {self.df[key].iat[i]!r}): {column} "
            f"{self.df[column].iat[i]!r}"
        )

    def numbers(
        self,
        column: str,
        *,
        integer: bool = False,
        default: float | None = None,
        fix: str = "",
    ) -> pd.Series:
        """A numeric column; blanks become ``default`` (NaN if None)."""
        raw = self.df[column]
        blank = raw == ""
        values = _by_unique(
            raw, lambda u: pd.to_numeric(u.where(u != "", None), errors="coerce")
        )
        bad = values.isna() & ~blank
        if integer:
            bad |= values.notna() & (values != np.floor(values))
        if bad.any():
            kind = "an integer" if integer else "a number"
            raise self.error(
                f"{self.where(bad, column)} is not {kind}",
                fix or f"fix the value in column {column}",
            )
        if blank.any():
            if default is None and integer:
                raise self.error(
                    f"{self.where(blank, column)} is blank",
                    f"every row needs a {column}",
                )
            values = values.fillna(np.nan if default is None else default)
        return values.astype("int64") if integer else values.astype("float64")

    def dates(self, column: str) -> pd.Series:
        raw = self.df[column]
        values = pd.to_datetime(raw, format="%Y%m%d", errors="coerce")
        bad = values.isna()
        if bad.any():
            raise self.error(
                f"{self.where(bad, column)} is not a date",
                "GTFS dates are YYYYMMDD, e.g. 20190513",
            )
        return values.astype("datetime64[s]")

    def times(self, column: str, *, blank_ok: bool) -> NDArray[np.float64]:
        """GTFS times as seconds (NaN for blanks); hours may pass 24."""
        raw = self.df[column]
        blank = (raw == "").to_numpy()
        codes, uniques = pd.factorize(raw, use_na_sentinel=False)
        parts = pd.Series(uniques, dtype="str").str.extract(_TIME_RE)
        secs = (
            parts[0].astype("float64") * 3600
            + parts[1].astype("float64") * 60
            + parts[2].astype("float64")
        ).to_numpy()
        out: NDArray[np.float64] = secs[codes]
        bad = np.isnan(out) & ~blank
        if bad.any():
            raise self.error(
                f"{self.where(bad, column)} is not a time",
                "GTFS times are H:MM:SS or HH:MM:SS, e.g. 08:05:00, and may "
                "pass 24:00:00 for trips after midnight (25:10:00)",
            )
        if blank.any() and not blank_ok:
            raise self.error(
                f"{self.where(blank, column)} is blank", f"every row needs a {column}"
            )
        return out


def _read_table(src: _Source, name: str) -> _Table:
    raw = src.read(name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = (
            f"{src.path}: {name} is not UTF-8 text (byte {exc.start}); GTFS files "
            "are UTF-8, re-save it as UTF-8"
        )
        raise InputFileError(msg) from exc
    if not text.strip():
        if _REQUIRED_COLUMNS.get(name):
            msg = f"{src.path}: {name} is empty; it needs a header line and rows"
            raise InputFileError(msg)
        return _Table(src, name, pd.DataFrame())
    try:
        df = pd.read_csv(
            io.StringIO(text),
            dtype="str",
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc) else "parse error"
        msg = f"{src.path}: {name} is not valid CSV ({detail}); fix the quoting"
        raise InputFileError(msg) from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _REQUIRED_COLUMNS.get(name, ()) if c not in df.columns]
    if missing:
        cols = ", ".join(missing)
        msg = (
            f"{src.path}: {name} has no column {cols}; GTFS requires it (the "
            f"header line has {', '.join(df.columns)})"
        )
        raise InputFileError(msg)
    for c in df.columns:
        # Ids and text are kept as written, except for surrounding spaces.
        df[c] = _by_unique(df[c], lambda u: u.str.strip())
    return _Table(src, name, df)


def _by_unique(s: pd.Series, func: Any) -> pd.Series:
    """``func(s)`` computed once per distinct value (GTFS columns repeat a lot)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    done = func(pd.Series(uniques, dtype=s.dtype if len(uniques) else "str"))
    out = pd.Series(np.asarray(done)[codes], index=s.index, name=s.name)
    return out.astype(done.dtype) if len(uniques) else out


def read_gtfs_tables(path: str | os.PathLike[str]) -> GTFSTables:
    """Read the tables of a GTFS feed from a ``.zip`` or the folder it unpacks to.

    Parameters
    ----------
    path
        The feed: a ``.zip`` (its files at the top level or in one folder) or
        a folder holding ``stops.txt``, ``routes.txt``, ``trips.txt``,
        ``stop_times.txt`` and ``calendar.txt`` and/or ``calendar_dates.txt``.

    Returns
    -------
    GTFSTables
        One DataFrame per GTFS file, by the `cim.transit.Feed` attribute
        names; optional files that are absent give empty frames.

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
    Times past ``24:00:00`` are kept (GTFS service days can be longer than
    24 h). Blank times at intermediate stops are interpolated (see
    `cim.transit.gtfs`). ``shapes.txt``, fares and other files are not read.

    Examples
    --------
    >>> tables = read_gtfs_tables("poa_eptc.zip")  # doctest: +SKIP
    >>> len(tables["stops"]), len(tables["stop_times"])  # doctest: +SKIP
    (3986, 130019)
    """
    src = _Source(Path(path))
    try:
        return _read(src)
    finally:
        src.close()


def _read(src: _Source) -> GTFSTables:
    missing = [n for n in REQUIRED_FILES if n not in src]
    if "calendar.txt" not in src and "calendar_dates.txt" not in src:
        missing.append("calendar.txt (or calendar_dates.txt)")
    if missing:
        msg = (
            f"{src.path}: member {', '.join(missing)} missing; a GTFS feed needs "
            "stops.txt, routes.txt, trips.txt, stop_times.txt and calendar.txt "
            "or calendar_dates.txt"
        )
        raise InputFileError(msg)

    def table(name: str) -> _Table | None:
        return _read_table(src, name) if name in src else None

    stops = _stops(_must(table("stops.txt")))
    routes_t = _must(table("routes.txt"))
    routes = routes_t.df
    routes["route_type"] = routes_t.numbers("route_type", integer=True)
    trips_t = _must(table("trips.txt"))
    trips = trips_t.df
    _check_refs(trips_t, "route_id", routes["route_id"], "routes.txt")
    stop_times = _stop_times(_must(table("stop_times.txt")), stops, trips)
    calendar = _calendar(table("calendar.txt"))
    calendar_dates = _calendar_dates(table("calendar_dates.txt"))
    transfers = _transfers(table("transfers.txt"))
    frequencies = _frequencies(table("frequencies.txt"))
    agency = table("agency.txt")
    feed_info = table("feed_info.txt")
    return {
        "stops": stops,
        "routes": routes,
        "trips": trips,
        "stop_times": stop_times,
        "calendar": calendar,
        "calendar_dates": calendar_dates,
        "transfers": transfers,
        "frequencies": frequencies,
        "agency": agency.df if agency is not None else pd.DataFrame(),
        "feed_info": feed_info.df if feed_info is not None else pd.DataFrame(),
    }


def _must(t: _Table | None) -> _Table:
    assert t is not None
    return t


def _check_refs(t: _Table, column: str, known: pd.Series, other: str) -> None:
    bad = ~t.df[column].isin(known)
    if bad.any():
        raise t.error(
            f"{t.where(bad.to_numpy(), column)} is not in {other}",
            f"add it to {other} or remove the row",
        )


def _stops(t: _Table) -> pd.DataFrame:
    df = t.df
    if not len(df):
        raise t.error("has no rows", "a feed needs stops")
    for c in ("stop_lat", "stop_lon"):
        if c not in df:
            raise t.error(f"has no column {c}", "GTFS requires stop coordinates")
    lat = t.numbers("stop_lat", fix="stop_lat is decimal degrees, e.g. -30.0277")
    lon = t.numbers("stop_lon", fix="stop_lon is decimal degrees, e.g. -51.2287")
    if "location_type" in df:
        ltype = t.numbers("location_type", integer=True, default=0)
    else:
        ltype = pd.Series(0, index=df.index, dtype="int64")
    out_of_range = (lat.abs() > 90) | (lon.abs() > 180)
    if out_of_range.any():
        col = "stop_lat" if (lat.abs() > 90).any() else "stop_lon"
        raise t.error(
            f"{t.where(out_of_range.to_numpy(), col)} is out of range",
            "coordinates are WGS 84 degrees; are stop_lat and stop_lon swapped?",
        )
    needs_xy = ltype.isin([0, 1, 2]) & (lat.isna() | lon.isna())
    if needs_xy.any():
        raise t.error(
            f"{t.where(needs_xy.to_numpy(), 'stop_lat')} is blank",
            "stops, stations and entrances need stop_lat and stop_lon",
        )
    dup = df["stop_id"].duplicated()
    if dup.any():
        raise t.error(
            f"{t.where(dup.to_numpy(), 'stop_id')} appears twice",
            "stop_id must be unique",
        )
    df["stop_lat"] = lat
    df["stop_lon"] = lon
    df["location_type"] = ltype
    return df


def _stop_times(t: _Table, stops: pd.DataFrame, trips: pd.DataFrame) -> pd.DataFrame:
    df = t.df
    _check_refs(t, "trip_id", trips["trip_id"], "trips.txt")
    _check_refs(t, "stop_id", stops["stop_id"], "stops.txt")
    seq = t.numbers("stop_sequence", integer=True)
    arr = t.times("arrival_time", blank_ok=True)
    dep = t.times("departure_time", blank_ok=True)
    # One of the two given: use it for both (GTFS allows either to be blank
    # when they are equal in practice).
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    pickup = (
        t.numbers("pickup_type", integer=True, default=0)
        if "pickup_type" in df
        else pd.Series(0, index=df.index, dtype="int64")
    )
    dropoff = (
        t.numbers("drop_off_type", integer=True, default=0)
        if "drop_off_type" in df
        else pd.Series(0, index=df.index, dtype="int64")
    )
    dist = (
        t.numbers("shape_dist_traveled")
        if "shape_dist_traveled" in df
        else pd.Series(np.nan, index=df.index)
    )
    df["stop_sequence"] = seq
    df["pickup_type"] = pickup
    df["drop_off_type"] = dropoff
    df["_arr"] = arr
    df["_dep"] = dep
    if "shape_dist_traveled" in df:
        df["shape_dist_traveled"] = dist
    df["_dist"] = dist.to_numpy()
    df["_line"] = np.arange(len(df)) + 2
    df = df.sort_values(["trip_id", "stop_sequence"], kind="stable", ignore_index=True)
    dup = df.duplicated(["trip_id", "stop_sequence"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise t.error(
            f"line {df['_line'].iat[i]} (trip_id {df['trip_id'].iat[i]!r}): "
            f"stop_sequence {df['stop_sequence'].iat[i]} appears twice in the trip",
            "stop_sequence must increase along each trip",
        )
    trip_codes = pd.factorize(df["trip_id"])[0]
    start = np.r_[True, trip_codes[1:] != trip_codes[:-1]]
    end = np.r_[trip_codes[1:] != trip_codes[:-1], True]
    arr = df["_arr"].to_numpy()
    untimed_ends = (start | end) & np.isnan(arr)
    if untimed_ends.any():
        i = int(np.flatnonzero(untimed_ends)[0])
        which = "first" if start[i] else "last"
        raise t.error(
            f"line {df['_line'].iat[i]} (trip_id {df['trip_id'].iat[i]!r}): the "
            f"{which} stop of the trip has no arrival_time/departure_time",
            "GTFS needs times at the first and last stop of every trip",
        )
    interpolated = np.isnan(arr)
    if interpolated.any():
        arr, dep = _interpolate(df, stops, trip_codes, start)
    else:
        dep = df["_dep"].to_numpy()
    df["arrival_s"] = np.rint(arr).astype("int64")
    df["departure_s"] = np.rint(dep).astype("int64")
    df["interpolated"] = interpolated
    return df.drop(columns=["_arr", "_dep", "_dist", "_line"])


def _interpolate(
    df: pd.DataFrame,
    stops: pd.DataFrame,
    trip_codes: NDArray[np.intp],
    start: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fill blank times linearly in distance between the timed stops."""
    arr = df["_arr"].to_numpy().copy()
    dep = df["_dep"].to_numpy().copy()
    n = len(df)
    # Distance along the trip: shape_dist_traveled where the whole trip has
    # it, else cumulative great-circle distance between consecutive stops.
    xy = stops.set_index("stop_id")[["stop_lon", "stop_lat"]]
    lonlat = xy.loc[df["stop_id"]].to_numpy("float64")
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    step = np.zeros(n)
    if n > 1:
        dlat = lat[1:] - lat[:-1]
        dlon = lon[1:] - lon[:-1]
        a = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[1:]) * np.cos(lat[:-1]) * np.sin(dlon / 2) ** 2
        )
        step[1:] = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    step[start] = 0.0
    step = np.nan_to_num(step)
    seg = np.cumsum(start) - 1
    along = np.cumsum(step)
    along -= along[np.flatnonzero(start)][seg]
    sdt = df["_dist"].to_numpy()
    has_sdt = pd.Series(np.isfinite(sdt)).groupby(trip_codes).transform("all")
    along = np.where(has_sdt.to_numpy(), sdt, along)
    timed = ~np.isnan(arr)
    idx = np.arange(n)
    # Each trip's first and last rows are timed, so the fills stay in the trip.
    prev = np.maximum.accumulate(np.where(timed, idx, 0))
    nxt = np.minimum.accumulate(np.where(timed, idx, n)[::-1])[::-1]
    blank = ~timed
    p, q = prev[blank], nxt[blank]
    span = along[q] - along[p]
    # Equal steps where the stops do not move apart (e.g. missing distances).
    by_count = (idx[blank] - p) / (q - p)
    frac = np.where(
        span > 0, (along[blank] - along[p]) / np.where(span > 0, span, 1), by_count
    )
    frac = np.clip(frac, 0.0, 1.0)
    fill = dep[p] + frac * (arr[q] - dep[p])
    arr[blank] = fill
    dep[blank] = fill
    return arr, dep


def _calendar(t: _Table | None) -> pd.DataFrame:
    if t is None or not len(t.df):
        return pd.DataFrame(
            {
                "service_id": pd.Series([], dtype="str"),
                **{d: pd.Series([], dtype="int64") for d in WEEKDAYS},
                "start_date": pd.Series([], dtype="datetime64[s]"),
                "end_date": pd.Series([], dtype="datetime64[s]"),
            }
        )
    df = t.df
    for d in WEEKDAYS:
        values = t.numbers(d, integer=True)
        bad = ~values.isin([0, 1])
        if bad.any():
            raise t.error(f"{t.where(bad.to_numpy(), d)} is not 0 or 1", "use 1 or 0")
        df[d] = values
    df["start_date"] = t.dates("start_date")
    df["end_date"] = t.dates("end_date")
    return df


def _calendar_dates(t: _Table | None) -> pd.DataFrame:
    if t is None or not len(t.df):
        return pd.DataFrame(
            {
                "service_id": pd.Series([], dtype="str"),
                "date": pd.Series([], dtype="datetime64[s]"),
                "exception_type": pd.Series([], dtype="int64"),
            }
        )
    df = t.df
    df["date"] = t.dates("date")
    et = t.numbers("exception_type", integer=True)
    bad = ~et.isin([1, 2])
    if bad.any():
        raise t.error(
            f"{t.where(bad.to_numpy(), 'exception_type')} is not 1 or 2",
            "1 adds service on the date, 2 removes it",
        )
    df["exception_type"] = et
    return df


def _transfers(t: _Table | None) -> pd.DataFrame:
    if t is None or not len(t.df):
        return pd.DataFrame(
            {
                "from_stop_id": pd.Series([], dtype="str"),
                "to_stop_id": pd.Series([], dtype="str"),
                "transfer_type": pd.Series([], dtype="int64"),
                "min_transfer_time": pd.Series([], dtype="float64"),
            }
        )
    df = t.df
    df["transfer_type"] = t.numbers("transfer_type", integer=True, default=0)
    if "min_transfer_time" in df:
        df["min_transfer_time"] = t.numbers("min_transfer_time")
    else:
        df["min_transfer_time"] = np.nan
    return df


def _frequencies(t: _Table | None) -> pd.DataFrame:
    if t is None or not len(t.df):
        return pd.DataFrame(
            {
                "trip_id": pd.Series([], dtype="str"),
                "start_s": pd.Series([], dtype="int64"),
                "end_s": pd.Series([], dtype="int64"),
                "headway_secs": pd.Series([], dtype="int64"),
                "exact_times": pd.Series([], dtype="int64"),
            }
        )
    df = t.df
    df["start_s"] = t.times("start_time", blank_ok=False).astype("int64")
    df["end_s"] = t.times("end_time", blank_ok=False).astype("int64")
    df["headway_secs"] = t.numbers("headway_secs", integer=True)
    bad = df["headway_secs"] <= 0
    if bad.any():
        raise t.error(
            f"{t.where(bad.to_numpy(), 'headway_secs')} is not positive",
            "headway_secs is the time between departures [s]",
        )
    if "exact_times" in df:
        df["exact_times"] = t.numbers("exact_times", integer=True, default=0)
    else:
        df["exact_times"] = 0
    return df
