"""RAPTOR journeys, departure windows and transit circles.

Known answers on the synthetic Hangzhou feed of ``test_gtfs.py`` are worked
out by hand from its timetable; on the real feeds, travel times are checked
against times read from ``stop_times.txt`` with plain csv and against an
independent connection-scan search.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from test_gtfs import CAIRNS, EPTC, STOPS, TRENSURB, needs_data, write_feed

import cim
from cim.transit import read_gtfs, time_to_seconds
from cim.transit.circles import WalkNetwork, transit_circle, transit_travel_times
from cim.transit.gtfs import Feed
from cim.transit.raptor import Timetable, earliest_arrival, range_arrivals

H = time_to_seconds
TUESDAY = "2024-05-07"


@pytest.fixture
def feed(tmp_path: Path) -> Feed:
    return read_gtfs(write_feed(tmp_path))


@pytest.fixture
def tt(feed: Feed) -> Timetable:
    return Timetable.from_feed(feed, TUESDAY)


def _arr(res: object, stop: str) -> float:
    return float(res.arrivals()[stop])  # type: ignore[attr-defined]


# -- timetable ------------------------------------------------------------------


def test_timetable_structure(tt: Timetable) -> None:
    assert tt.n_stops == 6
    # t1 and t2 differ in pickup at B: two R1 patterns (t3 goes with t1, and
    # so does Monday's t3, still running after midnight), R2, and R4 with
    # three expanded trips; R3 does not run on Tuesdays.
    assert sorted(tt.route_ids.tolist()) == ["R1", "R1", "R2", "R4"]
    assert sorted(tt.trip_ids.tolist()) == [
        "f1#06:00:00",
        "f1#06:20:00",
        "f1#06:40:00",
        "t1",
        "t2",
        "t3",
        "t3",
        "t4",
        "t5",
    ]
    assert tt.crs.to_epsg() == 32651
    # The only footpaths: C <-> X (about 200 m).
    pairs = {
        (tt.stop_ids[a], tt.stop_ids[b])
        for a in range(tt.n_stops)
        for b in tt.fp_to[tt.fp_ptr[a] : tt.fp_ptr[a + 1]]
    }
    assert pairs == {("C", "X"), ("X", "C")}
    walk = tt.fp_s[0] - 60
    assert 155 <= walk <= 165  # 200 m at 1.25 m/s, rounded up
    assert "6 stops" in repr(tt)


def test_no_service_raises(feed: Feed) -> None:
    # Sunday after an ordinary Saturday. (Sunday 05-12 has a trip: t3 of the
    # make-up Saturday, after midnight.)
    with pytest.raises(ValueError, match=r"no trips run on 2024-05-05.*2024-01-01"):
        Timetable.from_feed(feed, "2024-05-05")
    assert Timetable.from_feed(feed, "2024-05-12").trip_ids.tolist() == ["t3"]


def test_window_keeps_running_trips(feed: Feed) -> None:
    tt = Timetable.from_feed(feed, TUESDAY, window=("08:05", "08:30"))
    assert sorted(tt.trip_ids.tolist()) == ["t1", "t2", "t4"]  # t5 leaves 08:35
    tt = Timetable.from_feed(feed, TUESDAY, window=("08:20", "08:35"))
    assert sorted(tt.trip_ids.tolist()) == ["t1", "t2", "t4", "t5"]


def test_unknown_stop(tt: Timetable) -> None:
    with pytest.raises(KeyError, match="not in the timetable"):
        earliest_arrival(tt, {"Q": 0}, "08:00")


# -- known answers ----------------------------------------------------------------


def test_ride_and_walking_transfer(tt: Timetable) -> None:
    res = earliest_arrival(tt, {"A": 0}, "07:55")
    # t1: A 08:00 -> B 08:10 -> C 08:20; walk C -> X (~161 s) + 60 s slack
    # = 08:23:41, in time for t4: X 08:25 -> D 08:40.
    assert _arr(res, "B") == H("08:10:00")
    assert _arr(res, "C") == H("08:20:00")
    assert _arr(res, "D") == H("08:40:00")
    assert np.isnan(_arr(res, "E"))  # R4 runs 06:00-07:00 only
    assert res.rides[tt.stop_index(["D"])[0]] == 2
    j = res.journey("D")
    assert j["mode"].tolist() == ["access", "transit", "transfer", "transit"]
    assert j["trip_id"].tolist()[1::2] == ["t1", "t4"]
    assert j["from_stop"].tolist()[1:] == ["A", "C", "X"]
    assert j["depart"].tolist() == ["07:55:00", "08:00:00", "08:20:00", "08:25:00"]
    assert j["arrive"].iloc[-1] == "08:40:00"


def test_transfer_slack_misses_connection(feed: Feed) -> None:
    tt = Timetable.from_feed(feed, TUESDAY, min_transfer_s=300)
    res = earliest_arrival(tt, {"A": 0}, "07:55")
    # 08:20 + 161 s + 300 s = 08:28:41: t4 (08:25) is missed, t5 leaves 08:35.
    assert _arr(res, "D") == H("08:50:00")
    assert res.journey("D")["trip_id"].iloc[-1] == "t5"


def test_no_footpaths_no_transfer(feed: Feed) -> None:
    tt = Timetable.from_feed(feed, TUESDAY, transfer_max_m=100)
    assert len(tt.fp_to) == 0
    res = earliest_arrival(tt, {"A": 0}, "07:55")
    assert _arr(res, "C") == H("08:20:00")
    assert np.isnan(_arr(res, "D"))


def test_max_transfers(tt: Timetable) -> None:
    res = earliest_arrival(tt, {"A": 0}, "07:55", max_transfers=0)
    assert _arr(res, "C") == H("08:20:00")
    assert np.isnan(_arr(res, "D"))


def test_pickup_forbidden(tt: Timetable) -> None:
    # From B at 08:15: t1 has left; t2 may not be boarded at B (pickup_type
    # 1), so the next ride to C is the late t3: B 24:05 -> C 24:20.
    res = earliest_arrival(tt, {"B": 0}, "08:15")
    assert _arr(res, "C") == H("24:20:00")
    assert res.journey("C")["trip_id"].iloc[-1] == "t3"


def test_interpolated_stop_can_be_reached(tt: Timetable) -> None:
    res = earliest_arrival(tt, {"A": 0}, "08:25")
    assert _arr(res, "B") == H("08:40:00")  # interpolated, drop-off allowed
    assert _arr(res, "C") == H("08:50:00")


def test_multi_source_access(tt: Timetable) -> None:
    # Walking 5 min to A misses t1 there; B is at hand and t1 calls at 08:10.
    res = earliest_arrival(tt, {"A": 300, "B": 0}, "08:05")
    assert _arr(res, "C") == H("08:20:00")
    assert res.journey("C")["from_stop"].iloc[1] == "B"
    res = earliest_arrival(tt, pd.Series({"A": 0.0}), "08:05")
    assert res.journey("C")["trip_id"].iloc[-1] == "t2"


def test_max_travel(tt: Timetable) -> None:
    res = earliest_arrival(tt, {"A": 0}, "07:55", max_travel_s=30 * 60)
    assert _arr(res, "C") == H("08:20:00")
    assert np.isnan(_arr(res, "D"))  # 45 min


def test_after_midnight_trip_of_previous_day(feed: Feed) -> None:
    # 00:00 on Wednesday: Tuesday's t3 is still running (24:20 = 00:20).
    tt = Timetable.from_feed(feed, "2024-05-08")
    res = earliest_arrival(tt, {"B": 0}, "00:00")
    assert _arr(res, "C") == H("00:20:00")
    j = res.journey("C")
    assert j["trip_id"].iloc[-1] == "t3" and j["depart"].iloc[-1] == "00:05:00"
    # On 05-02 the day before was Labour Day: no t3 overnight, wait for t1.
    tt = Timetable.from_feed(feed, "2024-05-02")
    assert _arr(earliest_arrival(tt, {"B": 0}, "00:00"), "C") == H("08:20:00")


def test_holiday_and_make_up_day(feed: Feed) -> None:
    hol = Timetable.from_feed(feed, "2024-05-01")
    res = earliest_arrival(hol, {"A": 0, "C": 0}, "09:00")
    assert _arr(res, "D") == H("10:15:00")  # t6 of the holiday service
    assert np.isnan(_arr(res, "B"))  # no weekday buses
    sat = Timetable.from_feed(feed, "2024-05-11")
    assert _arr(earliest_arrival(sat, {"A": 0}, "07:55"), "D") == H("08:40:00")


def test_frequency_trips(tt: Timetable) -> None:
    res = earliest_arrival(tt, {"D": 0}, "06:21")
    assert _arr(res, "E") == H("06:45:00")
    assert res.journey("E")["trip_id"].iloc[-1] == "f1#06:40:00"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("C,X,2,600", H("08:50:00")),  # 10 min to transfer: t5
        ("C,X,3,", float("nan")),  # transfer forbidden
        ("C,X,0,", H("08:40:00")),  # recommended: no change
    ],
)
def test_transfers_txt(tmp_path: Path, rule: str, expected: float) -> None:
    text = f"from_stop_id,to_stop_id,transfer_type,min_transfer_time\n{rule}\n"
    feed = read_gtfs(write_feed(tmp_path, replace={"transfers.txt": text}))
    tt = Timetable.from_feed(feed, TUESDAY)
    got = _arr(earliest_arrival(tt, {"A": 0}, "07:55"), "D")
    np.testing.assert_equal(got, expected)


def test_range_equals_single_queries(tt: Timetable) -> None:
    deps = np.arange(H("06:00"), H("09:00"), 60)
    for k in (0, 1, 3):
        got = range_arrivals(tt, {"A": 120, "D": 30}, deps, max_transfers=k)
        want = np.array(
            [
                earliest_arrival(tt, {"A": 120, "D": 30}, d, max_transfers=k).arrival_s
                for d in deps
            ]
        )
        np.testing.assert_array_equal(got, want)


def test_invalid_options(tt: Timetable) -> None:
    with pytest.raises(ValueError, match="max_transfers"):
        earliest_arrival(tt, {"A": 0}, "08:00", max_transfers=-1)
    with pytest.raises(ValueError, match="access times"):
        earliest_arrival(tt, {"A": -5}, "08:00")


# -- circles on the synthetic feed ---------------------------------------------------


def _lonlat(*names: str) -> np.ndarray:
    return np.array([(STOPS[n][1], STOPS[n][0]) for n in names])


def test_travel_times_door_to_door(feed: Feed) -> None:
    out = transit_travel_times(
        _lonlat("A"),
        _lonlat("A", "B", "C", "D"),
        feed,
        date=TUESDAY,
        window=("07:55", "07:56"),
        crs=4326,
    )
    assert out.shape == (1, 4)
    row = out.iloc[0]
    assert row.iloc[0] == 0  # already there
    # B: the bus (08:10 - 07:55 = 900 s) loses to walking 962 m (770 s).
    assert row.iloc[1] == pytest.approx(962 / 1.25, abs=3)
    assert row.iloc[2] == H("08:20") - H("07:55")
    assert row.iloc[3] == H("08:40") - H("07:55")
    assert out.index.name == "origin_id" and out.columns.name == "destination_id"


def test_travel_time_percentiles(feed: Feed) -> None:
    kw = {"date": TUESDAY, "window": ("07:55", "08:05"), "step_min": 5, "crs": 4326}
    # Departures 07:55 and 08:00 both catch t1 (C at 08:20).
    best = transit_travel_times(_lonlat("A"), _lonlat("C"), feed, percentile=0, **kw)
    worst = transit_travel_times(_lonlat("A"), _lonlat("C"), feed, percentile=100, **kw)
    assert best.iat[0, 0] == 1200 and worst.iat[0, 0] == 1500
    med = transit_travel_times(_lonlat("A"), _lonlat("C"), feed, **kw)
    assert med.iat[0, 0] == 1200  # nearest rank: the lower of two


def test_transit_circle(feed: Feed) -> None:
    pts = gpd.GeoSeries(shapely.points(_lonlat("A", "B", "C", "D")), crs=4326)
    pts.index = ["home", "school", "clinic", "park"]
    circle = transit_circle(
        pts.iloc[:1], pts, feed, date=TUESDAY, window=("07:55", "07:56")
    )
    assert circle["destination_id"].tolist() == ["home", "school", "clinic"]
    assert circle["origin_id"].unique().tolist() == ["home"]
    assert (circle["travel_time_s"] <= 1800).all()
    wider = transit_circle(
        pts.iloc[:1], pts, feed, date=TUESDAY, window=("07:55", "07:56"), cutoff_min=45
    )
    assert "park" in set(wider["destination_id"])


def test_timetable_reused(feed: Feed) -> None:
    tt = Timetable.from_feed(feed, TUESDAY)
    a = transit_travel_times(
        _lonlat("A"), _lonlat("D"), tt, window=("07:55", "07:56"), crs=4326
    )
    assert a.iat[0, 0] == H("08:40") - H("07:55")
    short = Timetable.from_feed(feed, TUESDAY, window=("08:00", "09:00"))
    with pytest.raises(ValueError, match="does not cover the departure window"):
        transit_travel_times(
            _lonlat("A"), _lonlat("D"), short, window=("07:55", "07:56"), crs=4326
        )
    with pytest.raises(ValueError, match="timetable is for 2024-05-07"):
        transit_travel_times(
            _lonlat("A"), _lonlat("D"), tt, date="2024-05-08", crs=4326
        )


def test_circles_input_errors(feed: Feed) -> None:
    with pytest.raises(ValueError, match="give crs="):
        transit_travel_times(_lonlat("A"), _lonlat("D"), feed, date=TUESDAY)
    with pytest.raises(ValueError, match="give date="):
        transit_travel_times(_lonlat("A"), _lonlat("D"), feed, crs=4326)
    with pytest.raises(ValueError, match="percentile"):
        transit_travel_times(
            _lonlat("A"), _lonlat("D"), feed, date=TUESDAY, crs=4326, percentile=101
        )


def _street_graph(tt: Timetable) -> nx.MultiDiGraph:
    """A street through A, B, C and a side street C - X, in the timetable's CRS."""
    xy = {s: tt.stop_xy[tt.stop_index([s])[0]] for s in "ABCX"}
    G = nx.MultiDiGraph(crs=tt.crs.to_string())
    for s, (x, y) in xy.items():
        G.add_node(s, x=float(x), y=float(y))
    # The side street makes a detour: 500 m instead of 200 m.
    for u, v, length in (("A", "B", 962.0), ("B", "C", 962.0), ("C", "X", 500.0)):
        G.add_edge(u, v, length_m=length)
    return G


def test_network_walking(feed: Feed, tt: Timetable) -> None:
    G = _street_graph(tt)
    net = Timetable.from_feed(feed, TUESDAY, network=G, transfer_max_m=600)
    k = net.stop_index(["C"])[0]
    walk = net.fp_s[net.fp_ptr[k]] - 60
    assert walk == 400  # 500 m at 1.25 m/s
    # 08:20 + 400 s + 60 s = 08:27:40: t4 is missed, t5 from X 08:35.
    assert _arr(earliest_arrival(net, {"A": 0}, "07:55"), "D") == H("08:50:00")
    # Too far along the streets for a 400 m footpath: no transfer at all.
    far = Timetable.from_feed(feed, TUESDAY, network=G)
    assert np.isnan(_arr(earliest_arrival(far, {"A": 0}, "07:55"), "D"))


def test_walk_network_pairs(tt: Timetable) -> None:
    walk = WalkNetwork(_street_graph(tt), crs=tt.crs)
    xy = tt.stop_xy[tt.stop_index(["A", "C", "X"])]
    _, ib, d = walk.pairs(xy[:1], xy, 2500)
    got = dict(zip(ib.tolist(), d.tolist(), strict=True))
    assert (
        got[0] == 0 and got[1] == pytest.approx(1924) and got[2] == pytest.approx(2424)
    )
    # Same node: the straight line, not twice the snapping distance.
    near = xy[:1] + np.array([30.0, 40.0])
    _, _, d = walk.pairs(near, xy[:1], 100)
    assert d.tolist() == pytest.approx([50.0])


# -- real feeds: times read by hand from stop_times.txt ------------------------------


def _times(zip_path: Path, trip_id: str) -> dict[str, tuple[int, int]]:
    """stop_id -> (arrival, departure) [s] of one trip, read with plain csv."""
    with zipfile.ZipFile(zip_path) as zf:
        text = zf.read("stop_times.txt").decode("utf-8-sig")
    out = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["trip_id"] == trip_id and row["arrival_time"]:
            out[row["stop_id"]] = (H(row["arrival_time"]), H(row["departure_time"]))
    assert out, trip_id
    return out


@pytest.fixture(scope="module")
def poa() -> Timetable:
    if not (EPTC.exists() and TRENSURB.exists()):
        pytest.skip("shared GTFS sample data not found")
    return Timetable.from_feed(
        [read_gtfs(EPTC), read_gtfs(TRENSURB)], "2019-05-13", min_transfer_s=60
    )


@pytest.fixture(scope="module")
def cairns() -> Timetable:
    if not CAIRNS.exists():
        pytest.skip("shared GTFS sample data not found")
    return Timetable.from_feed(read_gtfs(CAIRNS), "2014-06-10", min_transfer_s=60)


def _earliest_single_ride(
    zip_path: Path, service: str, board: str, alight: str, t0: int
) -> tuple[int, str]:
    """Earliest arrival at ``alight`` with one ride, from plain csv."""
    with zipfile.ZipFile(zip_path) as zf:
        trips = {
            r["trip_id"]
            for r in csv.DictReader(io.StringIO(zf.read("trips.txt").decode()))
            if r["service_id"] == service
        }
        rows = csv.DictReader(io.StringIO(zf.read("stop_times.txt").decode()))
        by_trip: dict[str, dict[str, tuple[int, int, int]]] = {}
        for r in rows:
            if r["trip_id"] in trips and r["stop_id"] in (board, alight):
                by_trip.setdefault(r["trip_id"], {})[r["stop_id"]] = (
                    int(r["stop_sequence"]),
                    H(r["arrival_time"]),
                    H(r["departure_time"]),
                )
    best = (1 << 60, "")
    for trip, st in by_trip.items():
        if len(st) == 2 and st[board][0] < st[alight][0] and st[board][2] >= t0:
            best = min(best, (st[alight][1], trip))
    return best


@needs_data
@pytest.mark.parametrize(
    ("trip", "board", "alight", "depart", "arrive"),
    [
        # Read by hand from Trensurb's stop_times.txt (Monday, service FULLW):
        ("FULLW_MR_NH_07:09:00", "MR", "NH", "07:09:00", "08:01:35"),
        # A short run to Sapucaia passes SP at 07:18, before the 07:19 from MR.
        ("FULLW_MR_SC_07:14:00", "SP", "SL", "07:14:00", "07:37:35"),
        # Boarding at 07:30:00 exactly, when the 07:19 from MR leaves AN.
        ("FULLW_MR_NH_07:19:00", "AN", "UN", "07:30:00", "07:57:35"),
    ],
)
def test_trensurb_hand_read(
    poa: Timetable, trip: str, board: str, alight: str, depart: str, arrive: str
) -> None:
    times = _times(TRENSURB, trip)
    assert times[alight][0] == H(arrive)
    assert _earliest_single_ride(TRENSURB, "FULLW", board, alight, H(depart)) == (
        H(arrive),
        trip,
    )
    res = earliest_arrival(poa, {board: 0}, depart)
    assert _arr(res, alight) == H(arrive)
    j = res.journey(alight)
    assert j["trip_id"].iloc[-1] == trip
    assert j["depart_s"].iloc[-1] == times[board][1]


@needs_data
def test_trensurb_transfer_to_aeromovel(poa: Timetable) -> None:
    # Metro MR 07:09 -> Aeroporto (AP) 07:18:35; walk 29 m to the Aeromóvel
    # (ATR) + 60 s slack = 07:19:59; Aeromóvel ATR 07:22 -> airport (ASG)
    # 07:25:00.
    metro = _times(TRENSURB, "FULLW_MR_NH_07:09:00")
    aero = _times(TRENSURB, "FULLW_ATR_ASG_07:22:00")
    res = earliest_arrival(poa, {"MR": 0}, "07:09")
    assert _arr(res, "ASG") == aero["ASG"][0] == H("07:25:00")
    j = res.journey("ASG")
    assert j["mode"].tolist() == ["access", "transit", "transfer", "transit"]
    assert j["arrive_s"].iloc[1] == metro["AP"][0]
    assert j["depart_s"].iloc[3] == aero["ATR"][1]
    # Door to door, from points at the two stations.
    xy = poa.stop_xy[poa.stop_index(["MR", "ASG"])]
    out = transit_travel_times(
        xy[:1], xy[1:], poa, window=("07:09", "07:10"), crs=poa.crs
    )
    assert out.iat[0, 0] == aero["ASG"][0] - H("07:09")


@needs_data
def test_eptc_hand_read(poa: Timetable) -> None:
    # EPTC times only the first and last stop of a trip; T1-2@1#1202 leaves
    # stop 1511 at 12:02:00 and ends its 60-minute run at 13:02:00.
    times = _times(EPTC, "T1-2@1#1202")
    first, last = times  # the only two timed stops
    res = earliest_arrival(poa, {first: 0}, "12:02", max_transfers=0)
    j = res.journey(last)
    assert j["trip_id"].iloc[-1] == "T1-2@1#1202"
    assert _arr(res, last) == times[last][0] == H("13:02:00")


@needs_data
@pytest.mark.parametrize(
    ("board", "alight", "depart", "trips"),
    [
        # Route 111: 750016 08:07 -> 750018 08:11 (one ride).
        ("750016", "750018", "08:00", ["CNS2014-CNS_MUL-Weekday-00-4166125"]),
        # Route 122 750077 08:14 -> 750073 08:23; 60 s at the stop, route 111
        # leaves 750073 at 08:24 (exactly when allowed) -> 750018 08:44.
        (
            "750077",
            "750018",
            "08:00",
            [
                "CNS2014-CNS_MUL-Weekday-00-4172117",
                "CNS2014-CNS_MUL-Weekday-00-4166151",
            ],
        ),
    ],
)
def test_cairns_hand_read(
    cairns: Timetable, board: str, alight: str, depart: str, trips: list[str]
) -> None:
    legs = [_times(CAIRNS, t) for t in trips]
    res = earliest_arrival(cairns, {board: 0}, depart)
    j = res.journey(alight)
    assert j.loc[j["mode"] == "transit", "trip_id"].tolist() == trips
    assert _arr(res, alight) == legs[-1][alight][0]
    assert j["depart_s"].iloc[1] == legs[0][board][1]
    if len(trips) == 2:
        mid = j["to_stop"].iloc[1]
        assert legs[0][mid][0] + 60 <= legs[1][mid][1]


@needs_data
def test_cairns_overnight_after_holiday() -> None:
    f = read_gtfs(CAIRNS)
    # Trip 4166103 (route 110N, Friday nights only, service -0000100) leaves
    # 750450 at 24:40:00, i.e. 00:40 on Saturday morning.
    late = _times(CAIRNS, "CNS2014-CNS_MUL-Weekday-00-4166103")
    nxt = sorted(late.items(), key=lambda kv: kv[1])[2][0]
    sat = Timetable.from_feed(f, "2014-06-14")
    res = earliest_arrival(sat, {"750450": 0}, "00:30", max_transfers=0)
    assert _arr(res, nxt) == late[nxt][0] - 86_400
    assert res.journey(nxt)["depart"].iloc[-1] == "00:40:00"
    # Friday 2014-12-26 (Boxing Day) removes the service: not that night.
    sat = Timetable.from_feed(f, "2014-12-27")
    res = earliest_arrival(sat, {"750450": 0}, "00:30", max_transfers=0)
    assert _arr(res, nxt) > H("05:00")


def _csa(feed: Feed, date: str, origin: str, t0: int) -> dict[str, int]:
    """Earliest arrivals by connection scan (no footpaths, no slack)."""
    st = feed.stop_times_on(date, overnight=True)
    key = st["trip_id"] + "|" + st["service_date"].astype(str)
    nxt = st.groupby(key).shift(-1)
    m = nxt["stop_id"].notna().to_numpy()
    conns = pd.DataFrame(
        {
            "dep": st["departure_s"][m],
            "arr": nxt["arrival_s"][m].astype(int),
            "trip": key[m],
            "a": st["stop_id"][m],
            "b": nxt["stop_id"][m],
            "pick": st["pickup_type"][m] != 1,
            "drop": nxt["drop_off_type"][m] != 1,
        }
    )
    # Stable: ties keep trip order, so zero-minute hops stay in sequence.
    conns = conns.sort_values(["dep", "arr"], kind="stable")
    best: dict[str, int] = {origin: t0}
    on: set[str] = set()
    for dep, arr, trip, a, b, pick, drop in conns.itertuples(index=False):
        if dep < t0:
            continue
        if trip in on or (pick and best.get(a, 1 << 60) <= dep):
            on.add(trip)
            if drop and arr < best.get(b, 1 << 60):
                best[b] = arr
    del best[origin]
    return best


@needs_data
def test_cairns_matches_connection_scan() -> None:
    f = read_gtfs(CAIRNS)
    tt = Timetable.from_feed(f, "2014-06-10", transfer_max_m=0, min_transfer_s=0)
    rng = np.random.default_rng(7)
    stops = sorted(tt.stop_ids)
    for _ in range(4):
        origin = stops[rng.integers(len(stops))]
        t0 = int(rng.integers(H("05:00"), H("21:00")))
        want = _csa(f, "2014-06-10", origin, t0)
        got = earliest_arrival(tt, {origin: 0}, t0, max_transfers=50).arrivals()
        got = got.drop(origin).dropna().astype(int).to_dict()
        assert got == want


@needs_data
def test_cairns_range_equals_single(cairns: Timetable) -> None:
    deps = np.arange(H("07:00"), H("09:00"), 60)
    acc = {"750337": 120, "750000": 300}
    got = range_arrivals(cairns, acc, deps, max_travel_s=1800)
    want = np.array(
        [earliest_arrival(cairns, acc, d, max_travel_s=1800).arrival_s for d in deps]
    )
    cap = deps[:, None] + 1800
    np.testing.assert_array_equal(
        np.where(got <= cap, got, np.inf), np.where(want <= cap, want, np.inf)
    )


@needs_data
def test_poa_hexgrid_circle_runs(poa: Timetable) -> None:
    hx = pd.read_csv(EPTC.parent / "poa_hexgrid.csv")
    pts = gpd.GeoDataFrame(
        hx.set_index("id"), geometry=gpd.points_from_xy(hx["lon"], hx["lat"]), crs=4326
    )
    origins = pts.iloc[:3]
    times = transit_travel_times(
        origins, pts, poa, window=("14:00", "14:30"), step_min=5
    )
    walk = transit_travel_times(
        origins, pts, poa, window=("14:00", "14:30"), step_min=5, max_walk_m=0
    )
    assert times.shape == (3, len(pts))
    # Transit never loses to walking only; the diagonal is zero.
    assert ((times <= walk) | walk.isna()).all().all()
    assert (times.to_numpy()[np.arange(3), np.arange(3)] == 0).all()
    assert (times < walk).sum().sum() > 100


@needs_data
def test_twin_transit_circles_per_building(poa: Timetable) -> None:
    import warnings

    from cim import Twin
    from cim.transit import twin_transit_circles

    hx = pd.read_csv(EPTC.parent / "poa_hexgrid.csv").iloc[:40]
    pts = gpd.GeoSeries(gpd.points_from_xy(hx["lon"], hx["lat"]), crs=4326).to_crs(
        32722
    )
    homes = gpd.GeoDataFrame(
        {"building_id": [f"b{i}" for i in range(5)], "floors": 6, "use": "residential"},
        geometry=pts.iloc[:5].buffer(10, cap_style="square").to_numpy(),
        crs=32722,
    )
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(10)],
            "category": ["clinic", "primary_school"] * 5,
        },
        geometry=pts.iloc[30:40].to_numpy(),
        crs=32722,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cim.RepairWarning)  # estimated heights
        twin = Twin(crs=32722, buildings=homes, facilities=fac)
    kw = {"window": ("14:00", "14:30"), "step_min": 5}
    got = twin_transit_circles(twin, poa, cutoff_min=30, **kw)
    # Independent: the matrix from the building points, aggregated by hand.
    origins = gpd.GeoSeries(
        twin.buildings.geometry.representative_point().to_numpy(),
        index=twin.buildings["building_id"],
        crs=32722,
    )
    dests = gpd.GeoSeries(fac.geometry.to_numpy(), index=fac["facility_id"], crs=32722)
    m = transit_travel_times(origins, dests, poa, crs=32722, **kw)
    for cat in ("clinic", "primary_school"):
        cols = fac.loc[fac["category"] == cat, "facility_id"]
        np.testing.assert_allclose(
            got[f"nearest_{cat}_transit_s"].to_numpy(), m[cols].min(axis=1).to_numpy()
        )
        np.testing.assert_array_equal(
            got[f"count_{cat}_30min"].to_numpy(), (m[cols] <= 1800).sum(axis=1)
        )
    assert list(got.index) == list(twin.buildings["building_id"])
    assert np.isfinite(got["nearest_clinic_transit_s"]).all()
