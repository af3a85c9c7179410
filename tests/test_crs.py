"""Tests for :mod:`cim.crs`: metric CRS checks, UTM zones, lon/lat detection."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import CRS, Transformer
from shapely.geometry import Point

from cim.crs import (
    HANGZHOU_CRS,
    check_metric_crs,
    coords_look_geographic,
    is_metric,
    resolve_crs,
    utm_crs_for,
)
from cim.errors import CIMError, CRSError


def _independent_utm_epsg(lon: float, lat: float) -> int:
    """UTM zone of a point as geopandas (via pyproj's database) estimates it."""
    crs = gpd.GeoSeries([Point(lon, lat)], crs=4326).estimate_utm_crs()
    return int(crs.to_epsg())


# -- resolve_crs --------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        32650,
        "EPSG:32650",
        "epsg:32650",
        CRS.from_epsg(32650),
        CRS.from_epsg(32650).to_wkt(),
    ],
)
def test_resolve_crs_accepts_codes_strings_wkt_and_crs(value: object) -> None:
    assert resolve_crs(value).equals(CRS.from_epsg(32650))


def test_resolve_crs_returns_crs_objects_unchanged() -> None:
    crs = CRS.from_epsg(4549)
    assert resolve_crs(crs) is crs


def test_resolve_crs_refuses_garbage_with_example() -> None:
    with pytest.raises(
        CRSError,
        match=r"'not a crs' is not a coordinate reference"
        r".*EPSG code.*4549",
    ):
        resolve_crs("not a crs")


def test_crs_error_is_a_value_error_and_a_cim_error() -> None:
    assert issubclass(CRSError, ValueError)
    assert issubclass(CRSError, CIMError)


# -- is_metric / check_metric_crs ----------------------------------------------
@pytest.mark.parametrize("epsg", [32650, 32651, 32756, 4549, 3857, 27700, 2056])
def test_projected_metre_crs_is_metric(epsg: int) -> None:
    crs = CRS.from_epsg(epsg)
    assert is_metric(crs)
    assert check_metric_crs(epsg).equals(crs)
    assert check_metric_crs(crs) is crs


@pytest.mark.parametrize("epsg", [4326, 4490, 4490, 4979])
def test_geographic_crs_is_not_metric(epsg: int) -> None:
    assert not is_metric(CRS.from_epsg(epsg))


@pytest.mark.parametrize("epsg", [2263, 2227])  # NY Long Island, CA zone 3: US feet
def test_projected_feet_crs_is_not_metric(epsg: int) -> None:
    crs = CRS.from_epsg(epsg)
    assert crs.is_projected
    assert not is_metric(crs)


def test_check_metric_crs_refuses_geographic_naming_layer_and_fix() -> None:
    with pytest.raises(CRSError) as info:
        check_metric_crs(4326, layer="parcels")
    msg = str(info.value)
    assert "'parcels'" in msg
    assert "EPSG:4326" in msg
    assert "degrees" in msg
    assert "Twin.from_layers" in msg
    assert "to_crs(4549)" in msg


def test_geographic_crs_message_serves_python_and_command_line() -> None:
    # `cim import osm ... --crs 4326` reaches this message: it must not speak
    # only Python to a command-line user.
    with pytest.raises(CRSError) as info:
        check_metric_crs(4326, layer="twin")
    msg = str(info.value)
    assert "command line: --crs 4549" in msg
    assert "leave --crs out for the local UTM zone" in msg
    assert "in Python" in msg
    assert "Twin.from_layers" in msg


def test_non_metre_crs_message_serves_python_and_command_line() -> None:
    with pytest.raises(CRSError) as info:
        check_metric_crs("EPSG:2263", layer="twin")
    msg = str(info.value)
    assert "command line: --crs 4549" in msg
    assert "gdf.to_crs(4549)" in msg


def test_check_metric_crs_refuses_feet_naming_units_and_fix() -> None:
    with pytest.raises(CRSError) as info:
        check_metric_crs("EPSG:2263", layer="buildings")
    msg = str(info.value)
    assert "'buildings'" in msg
    assert "EPSG:2263" in msg
    assert "US survey foot" in msg
    assert "projected CRS in metres" in msg


def test_check_metric_crs_refuses_missing_crs() -> None:
    with pytest.raises(CRSError, match=r"layer 'site' has no CRS; declare it.*set_crs"):
        check_metric_crs(None, layer="site")


def test_hangzhou_crs_is_cgcs2000_gauss_kruger_120e() -> None:
    crs = check_metric_crs(HANGZHOU_CRS)
    assert crs.to_epsg() == 4549
    assert "CGCS2000" in crs.name
    assert "120E" in crs.name


# -- utm_crs_for ------------------------------------------------------------
@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (120.15, 30.28, 32651),  # Hangzhou
        (116.35, 40.00, 32650),  # Beijing, Haidian
        (114.06, 22.54, 32650),  # Shenzhen
        (-74.00, 40.71, 32618),  # New York
        (2.35, 48.86, 32631),  # Paris
        (151.21, -33.87, 32756),  # Sydney
        (-43.17, -22.91, 32723),  # Rio de Janeiro
        (18.42, -33.92, 32734),  # Cape Town
        (-179.5, -16.5, 32701),  # Fiji, west of the antimeridian
        (179.5, -16.5, 32760),  # Fiji, east of it
    ],
)
def test_utm_crs_for_matches_known_zones(lon: float, lat: float, expected: int) -> None:
    crs = utm_crs_for(lon, lat)
    assert crs.to_epsg() == expected
    assert crs.to_epsg() == _independent_utm_epsg(lon, lat)
    assert is_metric(crs)


def test_utm_crs_for_south_hemisphere_uses_327xx_and_false_northing() -> None:
    crs = utm_crs_for(151.21, -33.87)
    assert 32701 <= crs.to_epsg() <= 32760
    assert "south" in crs.name.lower() or crs.name.endswith("S")
    # The point lies near the zone's centre and 10 000 km false northing.
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(151.21, -33.87)
    assert 166_000 < x < 834_000
    assert 6_000_000 < y < 10_000_000


@pytest.mark.parametrize("lat", [0.0, -1e-9])
def test_utm_crs_for_equator_belongs_to_the_north(lat: float) -> None:
    expected = 32651 if lat >= 0 else 32751
    assert utm_crs_for(120.15, lat).to_epsg() == expected


def _central_meridian(crs: CRS) -> float:
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    return float(params["Longitude of natural origin"])


@pytest.mark.parametrize(
    "lon", [-177.0, -3.0, 3.0, 117.0, 119.99, 120.15, 123.0, 177.0]
)
def test_utm_zone_is_centred_on_the_longitude(lon: float) -> None:
    crs = utm_crs_for(lon, 30.0)
    assert abs(lon - _central_meridian(crs)) <= 3.0


# -- coords_look_geographic ----------------------------------------------------
@pytest.mark.parametrize(
    ("bounds", "epsg"),
    [
        ((116.30, 39.98, 116.36, 40.01), 32650),  # Beijing lon/lat declared as UTM 50N
        ((120.10, 30.25, 120.20, 30.30), 4549),  # Hangzhou lon/lat declared as 4549
        ((120.10, 30.25, 120.20, 30.30), 32651),
        ((151.20, -33.90, 151.25, -33.85), 32756),  # Sydney, south
        ((0.0, 0.0, 0.0, 0.0), 32650),  # a single point at (0, 0)
        ((0.0, 0.0, 0.5, 0.5), 32650),  # tiny coordinates, under 1 m across
        ((-0.13, 51.50, -0.12, 51.51), 3857),  # span under a metre in a world CRS
    ],
)
def test_coords_look_geographic_true_positives(
    bounds: tuple[float, float, float, float], epsg: int
) -> None:
    assert coords_look_geographic(bounds, CRS.from_epsg(epsg))


@pytest.mark.parametrize(
    ("bounds", "epsg"),
    [
        ((439_950.0, 4_427_950.0, 440_150.0, 4_428_100.0), 32650),  # real UTM 50N
        ((226_000.0, 3_354_000.0, 227_000.0, 3_356_000.0), 32651),  # Hangzhou UTM
        ((514_000.0, 3_350_000.0, 516_000.0, 3_352_000.0), 4549),  # real 4549
        ((334_000.0, 6_250_000.0, 336_000.0, 6_252_000.0), 32756),  # Sydney UTM
        ((530_000.0, 180_000.0, 531_000.0, 181_000.0), 27700),  # London, BNG
        ((-1.0, -1.0, 1.0, 1.0), 3857),  # metres around the origin of a world CRS
        ((40_514_000.0, 3_350_000.0, 40_516_000.0, 3_352_000.0), 4528),  # zone prefix
    ],
)
def test_coords_look_geographic_true_negatives(
    bounds: tuple[float, float, float, float], epsg: int
) -> None:
    assert not coords_look_geographic(bounds, CRS.from_epsg(epsg))


def test_coords_look_geographic_ignores_non_finite_bounds() -> None:
    nan = float("nan")
    assert not coords_look_geographic((nan, nan, nan, nan), CRS.from_epsg(32650))


def test_real_4549_coordinates_of_hangzhou_are_not_flagged() -> None:
    # Project a real Hangzhou footprint to 4549 and check its bounds.
    tr = Transformer.from_crs(4326, 4549, always_xy=True)
    x0, y0 = tr.transform(120.15, 30.28)
    x1, y1 = tr.transform(120.16, 30.29)
    assert 300_000 < x0 < 700_000  # 4549 has no zone prefix
    assert not coords_look_geographic((x0, y0, x1, y1), CRS.from_epsg(4549))
