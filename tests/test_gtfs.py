"""GTFS reading: a synthetic feed with calendar exceptions, bad feeds, real feeds.

The synthetic feed (:func:`write_feed`) lies in Hangzhou, along latitude
30.25 N; stops are 0.01 degree of longitude (about 962 m) apart::

    A ---- B ---- C                R1: A-B-C (WK)
                  X ------ D --- E R2: X-D (WK); R3: C-D (HOL); R4: D-E (frequencies)

X is 0.0018 degree (about 200 m) north of C, so C and X are linked by a
footpath. Services: WK runs Monday to Friday in 2024, except on Labour Day
(2024-05-01, removed) and on Saturday 2024-05-11, a make-up working day
(added); HOL runs only on 2024-05-01 (calendar_dates.txt only).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cim.errors import InputFileError
from cim.transit import read_gtfs, seconds_to_time, time_to_seconds
from cim.transit.gtfs import Feed

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EPTC = DATA / "porto_alegre" / "poa_eptc.zip"
TRENSURB = DATA / "porto_alegre" / "poa_trensurb.zip"
CAIRNS = DATA / "gtfs" / "cairns_gtfs.zip"

needs_data = pytest.mark.skipif(
    not (EPTC.exists() and TRENSURB.exists() and CAIRNS.exists()),
    reason="shared GTFS sample data not found",
)

LAT = 30.25
STOPS = {
    "A": (LAT, 120.10),
    "B": (LAT, 120.11),
    "C": (LAT, 120.12),
    "X": (LAT + 0.0018, 120.12),
    "D": (LAT + 0.0018, 120.14),
    "E": (LAT + 0.0018, 120.16),
}

FILES: dict[str, str] = {
    # A UTF-8 byte-order mark and spaces after commas, as some feeds have.
    "agency.txt": "\ufeffagency_id, agency_name,agency_url,agency_timezone\n"
    "HZ,杭州公交,https://example.org,Asia/Shanghai\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
    + "".join(f"{k},站{k},{lat},{lon}\n" for k, (lat, lon) in STOPS.items()),
    "routes.txt": "route_id,agency_id,route_short_name,route_type\n"
    "R1,HZ,1路,3\nR2,HZ,2路,3\nR3,HZ,3路,3\nR4,HZ,4路,3\n",
    "trips.txt": "route_id,service_id,trip_id\n"
    "R1,WK,t1\nR1,WK,t2\nR1,WK,t3\nR2,WK,t4\nR2,WK,t5\nR3,HOL,t6\nR4,WK,f1\n",
    "stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type\n"
        "t1,08:00:00,08:00:00,A,1,\n"
        "t1,08:10:00,08:10:00,B,2,\n"
        "t1,08:20:00,08:20:00,C,3,\n"
        # B is not a timepoint (blank times) and cannot be boarded.
        "t2,08:30:00,08:30:00,A,1,0\n"
        "t2,,,B,2,1\n"
        "t2,08:50:00,08:50:00,C,3,0\n"
        # Past midnight: 24:05:00 is 00:05 on the next calendar day.
        "t3,23:50:00,23:50:00,A,1,\n"
        "t3,24:05:00,24:05:00,B,2,\n"
        "t3,24:20:00,24:20:00,C,3,\n"
        "t4,08:25:00,08:25:00,X,1,\n"
        "t4,08:40:00,08:40:00,D,2,\n"
        # Listed out of stop_sequence order on purpose.
        "t5,08:50:00,08:50:00,D,2,\n"
        "t5,08:35:00,08:35:00,X,1,\n"
        "t6,10:00:00,10:00:00,C,1,\n"
        "t6,10:15:00,10:15:00,D,2,\n"
        "f1,00:00:00,00:00:00,D,1,\n"
        "f1,00:05:00,00:05:00,E,2,\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\n"
        "WK,1,1,1,1,1,0,0,20240101,20241231\n"
    ),
    "calendar_dates.txt": (
        "service_id,date,exception_type\n"
        "WK,20240501,2\n"  # Labour Day: no weekday service
        "HOL,20240501,1\n"  # a holiday service instead
        "WK,20240511,1\n"  # Saturday make-up working day
    ),
    "frequencies.txt": (
        "trip_id,start_time,end_time,headway_secs\nf1,06:00:00,07:00:00,1200\n"
    ),
}


def write_feed(
    where: Path,
    *,
    as_zip: bool = True,
    replace: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
    subfolder: str = "",
) -> Path:
    """Write the synthetic feed (optionally altered) as a zip or a folder."""
    files = {**FILES, **(replace or {})}
    files = {k: v for k, v in files.items() if k not in drop}
    if as_zip:
        path = where / "feed.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for name, text in files.items():
                zf.writestr(subfolder + name, text.encode("utf-8"))
        return path
    path = where / "feed"
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def feed(tmp_path: Path) -> Feed:
    return read_gtfs(write_feed(tmp_path))


# -- synthetic feed -------------------------------------------------------------


def test_reads_tables(feed: Feed) -> None:
    assert len(feed.stops) == 6
    assert len(feed.routes) == 4
    assert len(feed.trips) == 7
    assert len(feed.stop_times) == 17
    assert feed.agency.columns.tolist()[:2] == ["agency_id", "agency_name"]
    assert feed.agency["agency_name"].iat[0] == "杭州公交"
    assert feed.stops["stop_lat"].dtype == "float64"
    assert feed.routes["route_type"].tolist() == [3, 3, 3, 3]
    assert feed.source["name"] == "feed.zip"
    assert "17 stop_times" in repr(feed)


def test_times_past_midnight(feed: Feed) -> None:
    t3 = feed.stop_times[feed.stop_times["trip_id"] == "t3"]
    assert t3["arrival_s"].tolist() == [85_800, 86_700, 87_600]
    assert t3["departure_time"].tolist() == ["23:50:00", "24:05:00", "24:20:00"]


def test_sorted_by_sequence(feed: Feed) -> None:
    t5 = feed.stop_times[feed.stop_times["trip_id"] == "t5"]
    assert t5["stop_id"].tolist() == ["X", "D"]


def test_blank_times_interpolated(feed: Feed) -> None:
    t2 = feed.stop_times[feed.stop_times["trip_id"] == "t2"]
    # B lies halfway between A and C: halfway between 08:30 and 08:50.
    assert t2["arrival_s"].tolist() == [30_600, 31_200, 31_800]
    assert t2["departure_s"].tolist() == [30_600, 31_200, 31_800]
    assert t2["interpolated"].tolist() == [False, True, False]
    assert t2["pickup_type"].tolist() == [0, 1, 0]
    assert feed.stop_times["drop_off_type"].eq(0).all()


@pytest.mark.parametrize(
    ("date", "services"),
    [
        ("2024-05-07", ["WK"]),  # Tuesday
        ("20240501", ["HOL"]),  # Labour Day: WK removed, HOL added
        (pd.Timestamp("2024-05-11"), ["WK"]),  # make-up Saturday
        ("2024-05-12", []),  # Sunday
        ("2024-05-04", []),  # ordinary Saturday
        ("2025-01-06", []),  # Monday after the calendar ends
        ("2023-12-29", []),  # Friday before it starts
        ("2024-12-31", ["WK"]),  # end_date is inclusive
    ],
)
def test_active_services(feed: Feed, date: object, services: list[str]) -> None:
    assert feed.active_services(date) == services


def test_active_services_bad_date(feed: Feed) -> None:
    with pytest.raises(ValueError, match="invalid date"):
        feed.active_services("next tuesday")


def test_service_range(feed: Feed) -> None:
    assert feed.service_range() == (
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-12-31"),
    )


def test_stop_times_on_weekday_expands_frequencies(feed: Feed) -> None:
    st = feed.stop_times_on("2024-05-07")
    assert set(st["service_id"]) == {"WK"}
    assert set(st["trip_id"]) == {
        "t1",
        "t2",
        "t3",
        "t4",
        "t5",
        "f1#06:00:00",
        "f1#06:20:00",
        "f1#06:40:00",
    }
    f = st[st["trip_id"] == "f1#06:40:00"]
    assert f["arrival_s"].tolist() == [24_000, 24_300]
    assert f["route_id"].tolist() == ["R4", "R4"]
    assert (st["service_date"] == pd.Timestamp("2024-05-07")).all()


def test_stop_times_on_holiday(feed: Feed) -> None:
    st = feed.stop_times_on("2024-05-01")
    assert set(st["trip_id"]) == {"t6"}


def test_overnight_trips_of_previous_day(feed: Feed) -> None:
    st = feed.stop_times_on("2024-05-08", overnight=True)
    prev = st[st["service_date"] == pd.Timestamp("2024-05-07")]
    assert set(prev["trip_id"]) == {"t3"}
    assert prev["arrival_s"].tolist() == [-600, 300, 1200]
    own = feed.stop_times_on("2024-05-08")
    assert (own["service_date"] == pd.Timestamp("2024-05-08")).all()
    assert own.loc[own["trip_id"] == "t3", "arrival_s"].tolist() == [
        85_800,
        86_700,
        87_600,
    ]
    # The day after Labour Day: WK did not run on 05-01, so no t3 overnight.
    after = feed.stop_times_on("2024-05-02", overnight=True)
    assert (after["service_date"] == pd.Timestamp("2024-05-02")).all()


def test_folder_and_subfolder_zip(tmp_path: Path) -> None:
    a = read_gtfs(write_feed(tmp_path, as_zip=False))
    (tmp_path / "z").mkdir()
    b = read_gtfs(write_feed(tmp_path / "z", subfolder="gtfs/"))
    pd.testing.assert_frame_equal(a.stop_times, b.stop_times)
    assert len(a.frequencies) == 1


def test_calendar_dates_only(tmp_path: Path) -> None:
    f = read_gtfs(write_feed(tmp_path, drop=("calendar.txt",)))
    assert f.calendar.empty
    assert f.active_services("2024-05-01") == ["HOL"]
    assert f.active_services("2024-05-11") == ["WK"]
    assert f.active_services("2024-05-07") == []


def test_optional_files_absent(tmp_path: Path) -> None:
    f = read_gtfs(
        write_feed(
            tmp_path, drop=("agency.txt", "frequencies.txt", "calendar_dates.txt")
        )
    )
    assert f.agency.empty and f.frequencies.empty and f.transfers.empty
    assert f.active_services("2024-05-01") == ["WK"]
    assert "f1" in set(f.stop_times_on("2024-05-07")["trip_id"])


def test_transfers_parsed(tmp_path: Path) -> None:
    text = (
        "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nC,X,2,600\nX,C,3,\n"
    )
    f = read_gtfs(write_feed(tmp_path, replace={"transfers.txt": text}))
    assert f.transfers["transfer_type"].tolist() == [2, 3]
    assert f.transfers["min_transfer_time"].iloc[0] == 600.0
    assert np.isnan(f.transfers["min_transfer_time"].iloc[1])


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("07:30", 27_000), ("7:05:09", 25_509), ("25:10:00", 90_600), (61, 61)],
)
def test_time_to_seconds(text: str | int, seconds: int) -> None:
    assert time_to_seconds(text) == seconds


@pytest.mark.parametrize(
    "bad", ["7h30", "07:60", "07:30:75", "", "-1:00", float("nan")]
)
def test_time_to_seconds_bad(bad: str | float) -> None:
    with pytest.raises(ValueError, match="invalid time"):
        time_to_seconds(bad)


def test_seconds_to_time() -> None:
    assert seconds_to_time(90_600) == "25:10:00"
    assert seconds_to_time(-600) == "-00:10:00"


def test_stops_gdf(feed: Feed) -> None:
    g = feed.stops_gdf()
    assert g.crs.to_epsg() == 4326
    assert g.geometry.x.tolist() == pytest.approx([v[1] for v in STOPS.values()])
    utm = feed.stops_gdf(crs=32651)
    d = utm.geometry.iloc[2].distance(utm.geometry.iloc[3])  # C to X
    assert d == pytest.approx(200, abs=2)


def test_files_are_read_by_cim_io(tmp_path: Path) -> None:
    import cim.io.gtfs
    import cim.transit
    import cim.transit.gtfs

    # The old names still work and are the reader's own.
    assert cim.transit.gtfs.REQUIRED_FILES is cim.io.gtfs.REQUIRED_FILES
    assert cim.transit.read_gtfs is cim.transit.gtfs.read_gtfs
    assert cim.transit.Feed is cim.transit.gtfs.Feed
    path = write_feed(tmp_path)
    tables = cim.io.gtfs.read_gtfs_tables(path)
    feed = read_gtfs(path)
    assert set(tables) == set(cim.io.gtfs.GTFSTables.__annotations__)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(getattr(feed, name), frame, obj=name)
    assert feed.source == {"path": str(path), "name": "feed.zip"}
    with pytest.raises(InputFileError, match=r"nope\.zip: no such file"):
        cim.io.gtfs.read_gtfs_tables(tmp_path / "nope.zip")


# -- bad feeds ------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.zip: no such file"):
        read_gtfs(tmp_path / "nope.zip")


def test_not_a_zip(tmp_path: Path) -> None:
    p = tmp_path / "feed.zip"
    p.write_text("stop_id,stop_name\n")
    with pytest.raises(InputFileError, match="not a zip archive"):
        read_gtfs(p)


def test_truncated_zip(tmp_path: Path) -> None:
    p = write_feed(tmp_path)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match=r"feed\.zip"):
        read_gtfs(p)


@pytest.mark.parametrize(
    "member", ["stops.txt", "stop_times.txt", "trips.txt", "routes.txt"]
)
def test_missing_required_member(tmp_path: Path, member: str) -> None:
    with pytest.raises(InputFileError, match=rf"member {member} missing") as err:
        read_gtfs(write_feed(tmp_path, drop=(member,)))
    assert "\n" not in str(err.value)


def test_missing_calendar_and_calendar_dates(tmp_path: Path) -> None:
    p = write_feed(tmp_path, drop=("calendar.txt", "calendar_dates.txt"))
    with pytest.raises(
        InputFileError, match=r"calendar\.txt \(or calendar_dates\.txt\)"
    ):
        read_gtfs(p)


def test_missing_column(tmp_path: Path) -> None:
    text = FILES["stop_times.txt"].replace("departure_time", "depart")
    with pytest.raises(
        InputFileError, match=r"stop_times\.txt has no column departure_time"
    ):
        read_gtfs(write_feed(tmp_path, replace={"stop_times.txt": text}))


@pytest.mark.parametrize("bad", ["8h00", "08:61:00", "08:00", "08:00:00.5", "ab:cd:ef"])
def test_bad_time(tmp_path: Path, bad: str) -> None:
    text = FILES["stop_times.txt"].replace("t1,08:10:00,", f"t1,{bad},")
    with pytest.raises(InputFileError) as err:
        read_gtfs(write_feed(tmp_path, replace={"stop_times.txt": text}))
    msg = str(err.value)
    assert "feed.zip: stop_times.txt line 3 (trip_id 't1'): arrival_time" in msg
    assert repr(bad) in msg and "25:10:00" in msg and "\n" not in msg


def test_times_past_48h_are_allowed(tmp_path: Path) -> None:
    text = FILES["stop_times.txt"].replace("24:20:00,24:20:00", "50:00:00,50:00:00")
    f = read_gtfs(write_feed(tmp_path, replace={"stop_times.txt": text}))
    assert f.stop_times["arrival_s"].max() == 180_000


def test_untimed_first_stop(tmp_path: Path) -> None:
    text = FILES["stop_times.txt"].replace("t4,08:25:00,08:25:00", "t4,,")
    with pytest.raises(InputFileError, match="first stop of the trip has no"):
        read_gtfs(write_feed(tmp_path, replace={"stop_times.txt": text}))


def test_unknown_stop(tmp_path: Path) -> None:
    text = FILES["stop_times.txt"].replace(
        "t6,10:15:00,10:15:00,D", "t6,10:15:00,10:15:00,Q"
    )
    with pytest.raises(InputFileError, match=r"stop_id 'Q' is not in stops\.txt"):
        read_gtfs(write_feed(tmp_path, replace={"stop_times.txt": text}))


def test_unknown_trip(tmp_path: Path) -> None:
    text = FILES["stop_times.txt"] + "t9,11:00:00,11:00:00,A,1,\n"
    with pytest.raises(InputFileError, match=r"trip_id 't9' is not in trips\.txt"):
        read_gtfs(write_feed(tmp_path, replace={"stop_times.txt": text}))


def test_bad_date(tmp_path: Path) -> None:
    text = FILES["calendar_dates.txt"].replace("20240511", "2024-05-11")
    with pytest.raises(InputFileError, match=r"calendar_dates.txt line 4 .*YYYYMMDD"):
        read_gtfs(write_feed(tmp_path, replace={"calendar_dates.txt": text}))


def test_bad_exception_type(tmp_path: Path) -> None:
    text = FILES["calendar_dates.txt"].replace("WK,20240511,1", "WK,20240511,3")
    with pytest.raises(InputFileError, match="exception_type '3' is not 1 or 2"):
        read_gtfs(write_feed(tmp_path, replace={"calendar_dates.txt": text}))


def test_bad_coordinate(tmp_path: Path) -> None:
    text = FILES["stops.txt"].replace(f"{LAT},120.1\n", f"{LAT},east\n")
    with pytest.raises(InputFileError, match="stop_lon 'east' is not a number"):
        read_gtfs(write_feed(tmp_path, replace={"stops.txt": text}))


def test_duplicate_stop_sequence(tmp_path: Path) -> None:
    text = FILES["stop_times.txt"].replace(
        "t1,08:20:00,08:20:00,C,3", "t1,08:20:00,08:20:00,C,2"
    )
    with pytest.raises(InputFileError, match="stop_sequence 2 appears twice"):
        read_gtfs(write_feed(tmp_path, replace={"stop_times.txt": text}))


def test_not_utf8(tmp_path: Path) -> None:
    text = FILES["stops.txt"].replace("站", "公交站")  # GBK bytes B9 AB ...
    p = write_feed(tmp_path, drop=("stops.txt",))
    with zipfile.ZipFile(p, "a") as zf:
        zf.writestr("stops.txt", text.encode("gbk"))
    with pytest.raises(InputFileError, match=r"stops\.txt is not UTF-8"):
        read_gtfs(p)


def test_empty_required_member(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"trips\.txt is empty"):
        read_gtfs(write_feed(tmp_path, replace={"trips.txt": ""}))


# -- real feeds -----------------------------------------------------------------


def _csv_rows(zip_path: Path, member: str) -> list[dict[str, str]]:
    """A GTFS member read with plain csv (independent of read_gtfs)."""
    with zipfile.ZipFile(zip_path) as zf:
        text = zf.read(member).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    return [{k.strip(): v for k, v in row.items()} for row in reader]


@needs_data
@pytest.mark.parametrize(
    ("path", "counts"),
    [
        # The independent counts of shared/data/README.md, section 2.
        (EPTC, (3986, 115, 2374, 130_019)),
        (TRENSURB, (24, 2, 1248, 14_855)),
        (CAIRNS, (416, 22, 1339, 37_790)),
    ],
)
def test_real_feed_counts(path: Path, counts: tuple[int, int, int, int]) -> None:
    f = read_gtfs(path)
    got = (len(f.stops), len(f.routes), len(f.trips), len(f.stop_times))
    assert got == counts


@needs_data
def test_eptc_interpolation_keeps_timed_stops() -> None:
    f = read_gtfs(EPTC)
    rows = _csv_rows(EPTC, "stop_times.txt")
    timed = {
        (r["trip_id"], int(r["stop_sequence"])): time_to_seconds(r["arrival_time"])
        for r in rows
        if r["arrival_time"]
    }
    st = f.stop_times
    assert (~st["interpolated"]).sum() == len(timed) == 4748
    got = st.loc[~st["interpolated"]].set_index(["trip_id", "stop_sequence"])[
        "arrival_s"
    ]
    assert got.to_dict() == timed
    # Interpolated times never go backwards along a trip.
    steps = st.groupby("trip_id")["arrival_s"].diff().dropna()
    assert (steps >= 0).all()


@needs_data
def test_eptc_holiday_removes_services() -> None:
    f = read_gtfs(EPTC)
    cal = _csv_rows(EPTC, "calendar.txt")
    removed = {
        r["service_id"]
        for r in _csv_rows(EPTC, "calendar_dates.txt")
        if r["date"] == "20190419" and r["exception_type"] == "2"
    }
    weekday = {r["service_id"] for r in cal if r["friday"] == "1"}
    assert len(removed) == 54
    # 2019-04-19 is Good Friday.
    assert f.active_services("2019-04-19") == sorted(weekday - removed)
    assert f.active_services("2019-04-18") == sorted(weekday)


@needs_data
def test_cairns_public_holiday_and_late_trips() -> None:
    f = read_gtfs(CAIRNS)
    # Queen's Birthday (Monday 2014-06-09): Sunday timetable instead of weekday.
    assert f.active_services("2014-06-09") == ["CNS2014-CNS_MUL-Sunday-00"]
    assert f.active_services("2014-06-10") == ["CNS2014-CNS_MUL-Weekday-00"]
    assert f.active_services("2014-06-13") == [
        "CNS2014-CNS_MUL-Weekday-00",
        "CNS2014-CNS_MUL-Weekday-00-0000100",
    ]
    assert f.stop_times["arrival_s"].max() == time_to_seconds("29:39:00")
    # After the holiday, the overnight trips are the Sunday ones.
    st = f.stop_times_on("2014-06-10", overnight=True)
    prev = st[st["service_date"] == pd.Timestamp("2014-06-09")]
    assert set(prev["service_id"]) == {"CNS2014-CNS_MUL-Sunday-00"}


@needs_data
def test_trensurb_header_with_space() -> None:
    f = read_gtfs(TRENSURB)
    assert "agency_name" in f.agency.columns
    assert f.active_services("2019-05-13") == ["FULLW"]


@needs_data
def test_eptc_reads_fast() -> None:
    import time

    t0 = time.perf_counter()
    read_gtfs(EPTC)
    assert time.perf_counter() - t0 < 5.0
