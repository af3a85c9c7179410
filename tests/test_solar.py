"""Tests for :mod:`geometry.solar`: sun position, true solar time, solar terms.

The sun's position is checked against pvlib's NREL SPA
(``pvlib.solarposition.get_solarposition(method="nrel_numpy")``, a test-only
dependency) and against the worked example of the SPA paper; the solar terms
against dates and times published for the Chinese calendar (China Standard
Time, UTC+8), each with its source.
"""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from geometry.solar import (
    GREAT_COLD_LONGITUDE_DEG,
    WINTER_SOLSTICE_LONGITUDE_DEG,
    SolarPosition,
    apparent_solar_longitude,
    delta_t,
    equation_of_time,
    great_cold_day,
    solar_position,
    solar_term,
    solar_term_date,
    true_solar_time,
    true_solar_to_utc,
    winter_solstice,
)

#: Required agreement with pvlib's SPA [deg] (the issue's criterion).
PVLIB_ATOL_DEG = 0.01
#: What the same algorithm actually reaches, with the same Delta T [deg]: a
#: much tighter bound, so that a wrong periodic term would show.
SAME_ALGORITHM_ATOL_DEG = 1e-5
#: Equation of time against pvlib [min]: pvlib uses SPA's mean-longitude
#: approximation, this module the hour angle itself.
EOT_ATOL_MIN = 1.0 / 60.0
#: Solar-term instants against published times [s].
TERM_ATOL_S = 30.0
#: Round trips of true solar time [h] (0.01 s).
TST_ATOL_H = 0.01 / 3600.0

HANGZHOU = (30.25, 120.17)
SITES = [
    pytest.param(30.25, 120.17, id="Hangzhou"),
    pytest.param(39.90, 116.40, id="Beijing"),
    pytest.param(45.75, 126.63, id="Harbin"),
    pytest.param(18.25, 109.50, id="Sanya"),
    pytest.param(0.0, 0.0, id="equator"),
    pytest.param(-33.87, 151.21, id="Sydney"),
    pytest.param(66.5, 25.7, id="arctic-circle"),
]

CST = np.timedelta64(8, "h")


def year_grid(year: int = 2025, step_min: int = 37) -> np.ndarray:
    """UTC instants through a year at an odd step, so all hours are hit."""
    start = np.datetime64(f"{year}-01-01T00:00", "ns")
    end = np.datetime64(f"{year + 1}-01-01T00:00", "ns")
    return np.arange(start, end, np.timedelta64(step_min, "m"))


def pvlib_position(times: np.ndarray, lat: float, lon: float, **kwargs):
    pvlib = pytest.importorskip("pvlib")
    pd = pytest.importorskip("pandas")
    index = pd.DatetimeIndex(times, tz="UTC")
    return pvlib.solarposition.get_solarposition(
        index, lat, lon, method="nrel_numpy", **kwargs
    )


def unit_vectors(azimuth_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    return np.stack(
        [np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], axis=-1
    )


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # atan2 of |a x b| and a . b: accurate for tiny angles, unlike arccos.
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    return np.degrees(np.arctan2(cross, (a * b).sum(axis=-1)))


# --- against pvlib ---------------------------------------------------------


@pytest.mark.parametrize(("lat", "lon"), SITES)
@pytest.mark.parametrize("dt", [67.0, None], ids=["dt67", "dt-default"])
def test_matches_pvlib_over_a_year(lat, lon, dt):
    times = year_grid()
    ref = pvlib_position(times, lat, lon, delta_t=dt)
    pos = solar_position(times, lat=lat, lon=lon, delta_t_s=dt)

    elevation = np.abs(pos.elevation_deg - ref["elevation"].to_numpy())
    apparent = np.abs(pos.apparent_elevation_deg - ref["apparent_elevation"].to_numpy())
    # The direction as a whole: azimuth alone is ill-conditioned at the
    # zenith, where a tiny shift turns it by a lot.
    direction = angle_between_deg(
        unit_vectors(pos.azimuth_deg, pos.elevation_deg),
        unit_vectors(ref["azimuth"].to_numpy(), ref["elevation"].to_numpy()),
    )
    for err in (elevation, apparent, direction):
        assert err.max() < PVLIB_ATOL_DEG
    # pvlib's default Delta T is by month, ours by decimal year: a fraction
    # of a second apart, a few 1e-7 degrees.
    tight = SAME_ALGORITHM_ATOL_DEG
    assert elevation.max() < tight
    assert apparent.max() < tight
    assert direction.max() < tight

    off_poles = np.abs(ref["elevation"].to_numpy()) < 85.0  # zenith, nadir
    azimuth = np.abs(
        (pos.azimuth_deg - ref["azimuth"].to_numpy() + 180.0) % 360.0 - 180.0
    )
    assert azimuth[off_poles].max() < tight
    assert np.all((pos.azimuth_deg >= 0) & (pos.azimuth_deg < 360))

    eot = np.abs(pos.equation_of_time_min - ref["equation_of_time"].to_numpy())
    assert eot.max() < EOT_ATOL_MIN


def test_matches_pvlib_with_weather_and_altitude():
    times = year_grid(2026, step_min=53)
    lat, lon = HANGZHOU
    ref = pvlib_position(
        times, lat, lon, altitude=500.0, pressure=95_000.0, temperature=-5.0
    )
    pos = solar_position(
        times,
        lat=lat,
        lon=lon,
        altitude_m=500.0,
        pressure_hpa=950.0,
        temperature_c=-5.0,
        delta_t_s=67.0,
    )
    assert_allclose(pos.elevation_deg, ref["elevation"], atol=SAME_ALGORITHM_ATOL_DEG)
    assert_allclose(
        pos.apparent_elevation_deg,
        ref["apparent_elevation"],
        atol=SAME_ALGORITHM_ATOL_DEG,
    )


def test_spa_paper_example():
    # Reda & Andreas (2008), Table A5.1: 2003-10-17 12:30:30 at UTC-7,
    # Golden, Colorado; topocentric zenith 50.11162, azimuth 194.34024 deg.
    pos = solar_position(
        np.datetime64("2003-10-17T19:30:30"),
        lat=39.742476,
        lon=-105.1786,
        altitude_m=1830.14,
        pressure_hpa=820.0,
        temperature_c=11.0,
        delta_t_s=67.0,
    )
    assert_allclose(90.0 - pos.apparent_elevation_deg, 50.11162, atol=1e-5)
    assert_allclose(pos.azimuth_deg, 194.34024, atol=1e-5)


# --- vectorisation and missing values --------------------------------------


def test_broadcasts_times_against_sites():
    times = year_grid(step_min=24 * 60 + 7)[:, None]  # (n, 1)
    lats = np.array([[10.0, 30.25, 50.0]])  # (1, 3)
    pos = solar_position(times, lat=lats, lon=120.0)
    assert isinstance(pos, SolarPosition)
    for field in pos:
        assert field.shape == (times.shape[0], 3)
        assert field.dtype == np.float64
    # Each column equals the scalar-latitude call.
    single = solar_position(times[:, 0], lat=30.25, lon=120.0)
    assert_array_equal(pos.elevation_deg[:, 1], single.elevation_deg)


def test_nat_gives_nan():
    times = np.array(["2025-01-20T04:00", "NaT"], dtype="datetime64[ns]")
    pos = solar_position(times, lat=30.25, lon=120.17)
    for field in pos:
        assert np.isfinite(field[0])
        assert np.isnan(field[1])


def test_accepts_strings_and_datetimes():
    a = solar_position("2025-01-20T04:00", lat=30.25, lon=120.17)
    b = solar_position(datetime.datetime(2025, 1, 20, 4), lat=30.25, lon=120.17)
    c = solar_position(
        np.datetime64("2025-01-20T04:00:00.000000000"), lat=30.25, lon=120.17
    )
    assert a == b == c


# --- Delta T ------------------------------------------------------------


def test_delta_t_values_and_continuity():
    # Espenak & Meeus: 63.8 s in 2000, 62.9 + 0.32 t + 0.0056 t^2 after 2005.
    assert_allclose(delta_t(2000.0), 63.86, atol=0.01)
    assert_allclose(delta_t(2020.0), 62.92 + 0.32217 * 20 + 0.005589 * 400)
    # Segment joins jump by under 1.5 s (their own mismatch), and the
    # function rises smoothly through the 21st century.
    for year in (1920.0, 1941.0, 1961.0, 1986.0, 2005.0, 2050.0, 2150.0):
        assert abs(delta_t(year) - delta_t(year - 1e-6)) < 1.5
    years = np.arange(2000.0, 2100.0, 0.25)
    assert np.all(np.diff(delta_t(years)) > 0)


# --- true solar time ----------------------------------------------------


def test_true_solar_noon_is_the_meridian_transit():
    lat, lon = HANGZHOU
    for day in ("2025-01-20", "2025-06-21", "2025-11-03"):
        noon = true_solar_to_utc(day, 12.0, lon)
        pos = solar_position(noon, lat=lat, lon=lon)
        assert abs(pos.hour_angle_deg) < 1e-6
        # Topocentric azimuth: parallax shifts it by under a few 1e-5 deg.
        if pos.declination_deg < lat:
            assert_allclose(pos.azimuth_deg, 180.0, atol=1e-3)
        # Elevation peaks at true noon.
        near = noon + np.array([-60, 60], dtype="m8[s]")
        assert np.all(
            solar_position(near, lat=lat, lon=lon).elevation_deg < pos.elevation_deg
        )


def test_true_solar_time_against_mean_time_and_equation_of_time():
    # True solar time = UTC + lon / 15 + equation of time.
    times = year_grid(step_min=24 * 60 + 13)
    lon = 120.17
    tst = true_solar_time(times, lon)
    utc_h = (times - times.astype("datetime64[D]")) / np.timedelta64(1, "h")
    expected = np.mod(utc_h + lon / 15.0 + equation_of_time(times) / 60.0, 24.0)
    assert_allclose(tst, expected, atol=1e-9)


def test_equation_of_time_known_values():
    # Its extremes: about -14.2 min in mid-February, +16.4 min in early
    # November; near zero about 15 April, 13 June, 1 September, 25 December.
    eot = equation_of_time(
        np.array(["2025-02-11T12:00", "2025-11-03T12:00"], dtype="M8[ns]")
    )
    assert_allclose(eot, [-14.2, 16.45], atol=0.1)
    zeros = np.array(
        [
            "2025-04-15T12:00",
            "2025-06-13T12:00",
            "2025-09-01T12:00",
            "2025-12-25T12:00",
        ],
        dtype="M8[ns]",
    )
    assert np.all(np.abs(equation_of_time(zeros)) < 0.5)


@settings(max_examples=60, deadline=None)
@given(
    day=st.dates(
        min_value=datetime.date(1950, 1, 1), max_value=datetime.date(2100, 12, 31)
    ),
    hours=st.floats(0.0, 24.0),
    lon=st.floats(-180.0, 180.0),
)
def test_true_solar_round_trip(day, hours, lon):
    t = true_solar_to_utc(day, hours, lon)
    back = true_solar_time(t, lon)
    diff = (back - hours + 12.0) % 24.0 - 12.0  # 24 h is 0 h
    assert abs(diff) < TST_ATOL_H


def test_true_solar_to_utc_vectorised_and_nan():
    hours = np.array([8.0, 12.0, np.nan, 16.0])
    t = true_solar_to_utc("2025-01-20", hours, 120.17)
    assert t.dtype == np.dtype("datetime64[ns]")
    assert t.shape == (4,)
    assert np.isnat(t[2])
    assert_allclose(
        true_solar_time(t[[0, 1, 3]], 120.17), [8.0, 12.0, 16.0], atol=TST_ATOL_H
    )
    # 8 h true solar time in Hangzhou on 20 January 2025: 8 h - 0.68 min of
    # longitude + 10.9 min equation of time = 08:10:14 CST.
    assert str((t[0] + CST).astype("M8[s]")) == "2025-01-20T08:10:14"


def test_true_solar_to_utc_per_longitude():
    lons = np.array([75.0, 120.0, 135.0])
    t = true_solar_to_utc(datetime.date(2025, 12, 21), 12.0, lons)
    assert t.shape == (3,)
    # One hour of UTC per 15 degrees of longitude, less the change of the
    # equation of time in between (it grows by 1.25 s an hour at the
    # solstice, so noon comes earlier by that much too).
    step = np.diff(t) / np.timedelta64(1, "s")
    assert_allclose(step, [-3 * 3600 - 3.75, -3600 - 1.25], atol=0.1)


# --- solar terms --------------------------------------------------------

# Published instants in China Standard Time.
# 冬至 2020-2030: https://www.wubuwen.com/answer/268835.html ("2020-2030冬至时间表");
# 冬至 2015-2018: https://yfs8.com/news/196513.html;
# 大寒 2024: http://www.17180.cn/94237.html;
# 大寒 2025-2030: https://www.mingyanjiaju.org/fanwen/qitajieri/2362295.html.
PUBLISHED = [
    ("大寒", 2024, "2024-01-20T22:07:08"),
    ("大寒", 2025, "2025-01-20T03:59:52"),
    ("大寒", 2026, "2026-01-20T09:44:39"),
    ("大寒", 2027, "2027-01-20T15:29:32"),
    ("大寒", 2028, "2028-01-20T21:21:37"),
    ("大寒", 2029, "2029-01-20T03:00:32"),
    ("大寒", 2030, "2030-01-20T08:54:01"),
    ("冬至", 2015, "2015-12-22T12:47:55"),
    ("冬至", 2016, "2016-12-21T18:44:07"),
    ("冬至", 2017, "2017-12-22T00:27:53"),
    ("冬至", 2018, "2018-12-22T06:22:38"),
    ("冬至", 2020, "2020-12-21T18:02:12"),
    ("冬至", 2021, "2021-12-21T23:59:09"),  # 51 s before midnight
    ("冬至", 2022, "2022-12-22T05:48:01"),
    ("冬至", 2023, "2023-12-22T11:27:09"),
    ("冬至", 2024, "2024-12-21T17:20:20"),
    ("冬至", 2025, "2025-12-21T23:02:48"),
    ("冬至", 2026, "2026-12-22T04:49:55"),
    ("冬至", 2027, "2027-12-22T10:41:50"),
    ("冬至", 2028, "2028-12-21T16:19:19"),
    ("冬至", 2029, "2029-12-21T22:13:45"),
    ("冬至", 2030, "2030-12-22T04:09:13"),
]
LONGITUDE = {"大寒": GREAT_COLD_LONGITUDE_DEG, "冬至": WINTER_SOLSTICE_LONGITUDE_DEG}


@pytest.mark.parametrize(("term", "year", "published"), PUBLISHED)
def test_solar_terms_match_published(term, year, published):
    instant = solar_term(year, LONGITUDE[term]) + CST
    expected = np.datetime64(published, "ns")
    assert abs((instant - expected) / np.timedelta64(1, "s")) < TERM_ATOL_S
    day = solar_term_date(year, LONGITUDE[term])
    assert day == datetime.date.fromisoformat(published[:10])
    getter = great_cold_day if term == "大寒" else winter_solstice
    assert getter(year) == day


def test_solar_term_days_2024_2027():
    assert [great_cold_day(y) for y in range(2024, 2028)] == [
        datetime.date(y, 1, 20) for y in range(2024, 2028)
    ]
    assert [winter_solstice(y) for y in range(2024, 2028)] == [
        datetime.date(2024, 12, 21),
        datetime.date(2025, 12, 21),
        datetime.date(2026, 12, 22),
        datetime.date(2027, 12, 22),
    ]


def test_solar_term_is_where_the_longitude_is_reached():
    years = np.arange(1990, 2051)
    for target in (0.0, 90.0, 270.0, 285.0, 300.0, 345.0):
        instants = solar_term(years, target)
        assert instants.shape == years.shape
        lam = apparent_solar_longitude(instants)
        off = (lam - target + 180.0) % 360.0 - 180.0
        # 1e-6 deg of longitude is about 0.1 s of time.
        assert np.abs(off).max() < 1e-6
        # And each falls in its own year.
        assert_array_equal(instants.astype("M8[Y]").astype(int) + 1970, years)


def test_solar_term_date_in_another_time_zone():
    # 冬至 2021 is 2021-12-21 15:59 UTC: the 21st in Beijing and in UTC, the
    # 22nd a little further east.
    assert solar_term_date(2021, 270.0) == datetime.date(2021, 12, 21)
    assert solar_term_date(2021, 270.0, utc_offset_h=0.0) == datetime.date(2021, 12, 21)
    assert solar_term_date(2021, 270.0, utc_offset_h=9.0) == datetime.date(2021, 12, 22)


def test_solstice_is_the_declination_minimum():
    lat, lon = HANGZHOU
    instant = solar_term(2025, 270.0)
    around = instant + np.arange(-3, 4) * np.timedelta64(1, "D")
    decl = solar_position(around, lat=lat, lon=lon).declination_deg
    assert decl.argmin() == 3
    assert_allclose(decl[3], -23.436, atol=0.01)  # the obliquity in 2025
