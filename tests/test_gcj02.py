"""Tests for :mod:`cim.gcj02` (WGS84 <-> GCJ-02 conversion).

The accuracy tests use coordinate pairs published by independent projects;
each pair is cited with its repository and file. Only the numbers are
taken from those sources, no code. All tuples here are ordered
``(lon, lat)`` even where the source stores ``(lat, lon)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cim.gcj02 import (
    CHINA_BBOX,
    gcj02_to_wgs84,
    in_china,
    transform_geometry_gcj02_to_wgs84,
    transform_geometry_wgs84_to_gcj02,
    wgs84_to_gcj02,
)

EARTH_RADIUS_M = 6371008.8  # mean Earth radius, only used to express offsets in m


def _distance_m(lon1, lat1, lon2, lat2):
    """Haversine distance [m] between (lon, lat) points [degrees]."""
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


# ---------------------------------------------------------------------------
# Published reference pairs
# ---------------------------------------------------------------------------

# (a) Full-precision vectors printed by other implementations of the same
# published formula. They carry 15-17 significant digits, so an independent
# re-implementation must agree up to floating-point rounding (~1e-13 deg).
# Tolerance 1e-9 deg (~0.1 mm): far below any real-world use, yet any wrong
# coefficient, constant or axis swap changes the result by > 1e-6 deg.
FULL_PRECISION_TOL_DEG = 1e-9
FULL_PRECISION_PAIRS = [
    # googollee/eviltransform, go/transform_test.go (identical vectors in
    # python/test.py, javascript/test.js, csharp/EvilTransformUnitTest.cs);
    # the source stores them as (wgsLat, wgsLng, gcjLat, gcjLng).
    pytest.param(
        (121.5272106, 31.1774276),
        (121.531541859215, 31.17530398364597),
        id="shanghai-eviltransform",
    ),
    pytest.param(
        (113.912316, 22.543847),
        (113.9171764808363, 22.540796131694766),
        id="shenzhen-eviltransform",
    ),
    pytest.param(
        (116.377817, 39.911954),
        (116.38404722455657, 39.91334545536069),
        id="beijing-eviltransform",
    ),
    # wandergis/coordtransform, test/app.js: the commented result
    # "wgs84togcj02: [ 116.41024449916938, 39.91640428150164 ]" for the
    # input wgs84togcj02(116.404, 39.915).
    pytest.param(
        (116.404, 39.915),
        (116.41024449916938, 39.91640428150164),
        id="beijing-coordtransform",
    ),
]

# (b) Glatzel/pyxis, python/tests/test_crypto.py: wgs84 = (121.0917077,
# 30.6107779), gcj02 = (121.09626935575027, 30.608604331756705), a point in
# Jiaxing, Zhejiang. The pyxis test itself only checks with pytest.approx
# (relative 1e-6) and this pair agrees with the formula to ~8e-8 deg
# (~8 mm), so it is checked at 1e-6 deg (~0.1 m).
PYXIS_TOL_DEG = 1e-6
PYXIS_WGS = (121.0917077, 30.6107779)
PYXIS_GCJ = (121.09626935575027, 30.608604331756705)

# (c) hujiulong/gcoord, test/fixtures/china-cities.json: city-centre pairs
# ("WGS84" / "GCJ02" fields, 7 decimals) collected from real map services,
# i.e. data independent of any formula implementation. They agree with the
# open formula to ~5e-6 deg (~0.5-0.7 m, a near-constant shift); gcoord's
# own GCJ02.spec.ts only checks them to 4 decimals. Tolerance 1e-5 deg
# (~1 m): still 100x smaller than the offset being corrected.
SERVICE_TOL_DEG = 1e-5
SERVICE_PAIRS = [
    pytest.param((116.4011517, 39.9028057), (116.4074002, 39.9042136), id="beijing"),
    pytest.param((121.4691633, 31.2323443), (121.4737061, 31.2304194), id="shanghai"),
    pytest.param((120.1503589, 30.2764043), (120.1550722, 30.274088), id="hangzhou"),
    pytest.param((114.0527534, 22.5458236), (114.0578659, 22.5431014), id="shenzhen"),
    pytest.param((104.0640437, 30.5747262), (104.0665489, 30.5722732), id="chengdu"),
    pytest.param((126.528903, 45.8017783), (126.5349726, 45.8037804), id="harbin"),
    pytest.param((109.507813, 18.2545417), (109.5119135, 18.2528524), id="sanya"),
    pytest.param((91.1706414, 29.655277), (91.1721167, 29.6524954), id="lhasa"),
    pytest.param((87.6140048, 43.824388), (87.6168579, 43.8255962), id="urumqi"),
    pytest.param((75.9868089, 39.470184), (75.9897602, 39.4704064), id="kashgar"),
]


@pytest.mark.parametrize(("wgs", "gcj"), FULL_PRECISION_PAIRS)
def test_forward_matches_full_precision_reference(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert abs(lon - gcj[0]) <= FULL_PRECISION_TOL_DEG
    assert abs(lat - gcj[1]) <= FULL_PRECISION_TOL_DEG


@pytest.mark.parametrize(("wgs", "gcj"), FULL_PRECISION_PAIRS)
def test_inverse_recovers_full_precision_reference(wgs, gcj):
    lon, lat = gcj02_to_wgs84(*gcj)
    assert abs(lon - wgs[0]) <= FULL_PRECISION_TOL_DEG
    assert abs(lat - wgs[1]) <= FULL_PRECISION_TOL_DEG


def test_pyxis_reference_pair():
    lon, lat = wgs84_to_gcj02(*PYXIS_WGS)
    assert abs(lon - PYXIS_GCJ[0]) <= PYXIS_TOL_DEG
    assert abs(lat - PYXIS_GCJ[1]) <= PYXIS_TOL_DEG
    lon, lat = gcj02_to_wgs84(*PYXIS_GCJ)
    assert abs(lon - PYXIS_WGS[0]) <= PYXIS_TOL_DEG
    assert abs(lat - PYXIS_WGS[1]) <= PYXIS_TOL_DEG


@pytest.mark.parametrize(("wgs", "gcj"), SERVICE_PAIRS)
def test_forward_matches_map_service_pairs(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert abs(lon - gcj[0]) <= SERVICE_TOL_DEG
    assert abs(lat - gcj[1]) <= SERVICE_TOL_DEG


@pytest.mark.parametrize(("wgs", "gcj"), SERVICE_PAIRS)
def test_inverse_matches_map_service_pairs(wgs, gcj):
    lon, lat = gcj02_to_wgs84(*gcj)
    assert abs(lon - wgs[0]) <= SERVICE_TOL_DEG
    assert abs(lat - wgs[1]) <= SERVICE_TOL_DEG


def test_inverse_beats_one_step_approximation():
    # The crude inverse g - delta(g) is off by up to ~5 m; the published
    # pairs above are reproduced to < 1e-9 deg, so a one-step inverse could
    # not pass them. Check the same on a vectorised batch of all pairs.
    wgs = np.array([p.values[0] for p in FULL_PRECISION_PAIRS])
    gcj = np.array([p.values[1] for p in FULL_PRECISION_PAIRS])
    lon, lat = gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    assert np.max(np.abs(lon - wgs[:, 0])) <= FULL_PRECISION_TOL_DEG
    assert np.max(np.abs(lat - wgs[:, 1])) <= FULL_PRECISION_TOL_DEG


# ---------------------------------------------------------------------------
# Round trip
# ---------------------------------------------------------------------------

ROUND_TRIP_TOL_DEG = 1e-8

# Extent of China itself (well inside CHINA_BBOX, so that both the WGS84
# and the GCJ-02 position are inside the box; see the module docstring).
china_lon = st.floats(min_value=73.5, max_value=134.8, allow_nan=False)
china_lat = st.floats(min_value=18.1, max_value=53.6, allow_nan=False)


@settings(max_examples=300, deadline=None, database=None)
@given(lon=china_lon, lat=china_lat)
def test_round_trip_hypothesis(lon, lat):
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(back_lon - lon) <= ROUND_TRIP_TOL_DEG
    assert abs(back_lat - lat) <= ROUND_TRIP_TOL_DEG


def test_round_trip_dense_grid_whole_box():
    # 400 x 400 grid over the whole box (minus a 0.05 deg margin, wider than
    # the largest offset) in one vectorised call each way.
    lon_min, lat_min, lon_max, lat_max = CHINA_BBOX
    lon, lat = np.meshgrid(
        np.linspace(lon_min + 0.05, lon_max - 0.05, 400),
        np.linspace(lat_min + 0.05, lat_max - 0.05, 400),
    )
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    err = np.maximum(np.abs(back_lon - lon), np.abs(back_lat - lat))
    # The module documents ~1e-9 deg accuracy for the inverse.
    assert err.max() <= 1e-9


def test_inverse_then_forward_reproduces_gcj_grid():
    # The other direction: every GCJ-02 input is mapped to a WGS84 point
    # whose forward image is that input (the residual the iteration solves).
    gcj_lon, gcj_lat = np.meshgrid(
        np.linspace(73.5, 134.8, 150), np.linspace(18.1, 53.6, 150)
    )
    fwd_lon, fwd_lat = wgs84_to_gcj02(*gcj02_to_wgs84(gcj_lon, gcj_lat))
    assert np.max(np.abs(fwd_lon - gcj_lon)) <= 1e-9
    assert np.max(np.abs(fwd_lat - gcj_lat)) <= 1e-9


@pytest.mark.parametrize("dx", [0.0, 1e-15, 1e-12, 1e-9, -1e-12, -1e-9, 1e-6])
@pytest.mark.parametrize("lat", [22.0, 35.0, 50.0])
def test_round_trip_at_105_meridian_cusp(dx, lat):
    # The series contains sqrt(|lon - 105|), whose derivative is unbounded
    # at 105 deg E; the fixed-point iteration must still converge there
    # (and must not warn, warnings are errors in this test suite).
    lon = 105.0 + dx
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(back_lon - lon) <= ROUND_TRIP_TOL_DEG
    assert abs(back_lat - lat) <= ROUND_TRIP_TOL_DEG


# ---------------------------------------------------------------------------
# Offset magnitude
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("wgs", "gcj"), SERVICE_PAIRS)
def test_offset_is_100m_to_1km_in_cities(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert 100.0 < _distance_m(wgs[0], wgs[1], lon, lat) < 1000.0


def test_offset_is_100m_to_1km_in_eastern_china():
    # East of 100 deg E (where practically all cities are) the offset is
    # 110-715 m.
    lon, lat = np.meshgrid(np.linspace(100.0, 134.8, 300), np.linspace(18.1, 53.6, 300))
    d = _distance_m(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert d.min() > 100.0
    assert d.max() < 1000.0


def test_offset_bounds_over_all_of_china():
    # In a thin strip around 92-99 deg E, north of 35 deg N, the offset
    # drops to ~20 m (documented); it is never zero and never above 1 km.
    lon, lat = np.meshgrid(np.linspace(73.5, 134.8, 300), np.linspace(18.1, 53.6, 300))
    d = _distance_m(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert d.min() > 10.0
    assert d.max() < 1000.0
    assert np.mean(d > 100.0) > 0.95


# ---------------------------------------------------------------------------
# Outside China, NaN, box semantics
# ---------------------------------------------------------------------------

OUTSIDE = [
    (0.0, 0.0),
    (-0.1276, 51.5072),  # London
    (-74.006, 40.7128),  # New York
    (139.6917, 35.6895),  # Tokyo (east of the box)
    (151.2093, -33.8688),  # Sydney
    (100.5018, 0.5),  # south of the box
    (72.0, 30.0),  # just west of the box
    (120.0, 56.0),  # just north of the box
]


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
def test_outside_china_unchanged(lon, lat):
    assert not in_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_mixed_inside_outside_array():
    lon = np.array([116.404, -0.1276, 121.5272106, 139.6917])
    lat = np.array([39.915, 51.5072, 31.1774276, 35.6895])
    out_lon, out_lat = wgs84_to_gcj02(lon, lat)
    inside = np.array([True, False, True, False])
    np.testing.assert_array_equal(in_china(lon, lat), inside)
    np.testing.assert_array_equal(out_lon[~inside], lon[~inside])
    np.testing.assert_array_equal(out_lat[~inside], lat[~inside])
    assert np.all(out_lon[inside] != lon[inside])
    # full-precision references (see above) for the inside points
    assert abs(out_lon[0] - 116.41024449916938) <= FULL_PRECISION_TOL_DEG
    assert abs(out_lat[2] - 31.17530398364597) <= FULL_PRECISION_TOL_DEG


def test_box_edges_are_inclusive():
    lon_min, lat_min, lon_max, lat_max = CHINA_BBOX
    assert (lon_min, lat_min, lon_max, lat_max) == (72.004, 0.8293, 137.8347, 55.8271)
    assert in_china(lon_min, 30.0)
    assert in_china(lon_max, 30.0)
    assert in_china(100.0, lat_min)
    assert in_china(100.0, lat_max)
    assert not in_china(np.nextafter(lon_min, 0.0), 30.0)
    assert not in_china(np.nextafter(lon_max, 200.0), 30.0)
    assert not in_china(100.0, np.nextafter(lat_min, 0.0))
    assert not in_china(100.0, np.nextafter(lat_max, 90.0))


def test_box_is_a_rectangle_not_a_border():
    # Documented quirk shared with the published implementations: Seoul is
    # inside the rough box and therefore gets offset too.
    assert in_china(126.978, 37.5665)
    assert wgs84_to_gcj02(126.978, 37.5665) != (126.978, 37.5665)


def test_in_china_shape_and_dtype():
    result = in_china(np.array([[116.0, 0.0]]), np.array([[39.0, 0.0]]))
    assert result.dtype == np.bool_
    assert result.shape == (1, 2)
    np.testing.assert_array_equal(result, [[True, False]])
    assert in_china(116.0, 39.0).shape == ()


def test_nan_scalar_propagates():
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        lon, lat = func(math.nan, math.nan)
        assert math.isnan(lon)
        assert math.isnan(lat)
    assert not in_china(math.nan, 30.0)


def test_nan_in_array_propagates_and_others_are_converted():
    lon = np.array([116.404, np.nan, 116.404, np.nan])
    lat = np.array([39.915, 39.915, np.nan, np.nan])
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        assert np.isnan(out_lon[1])
        assert np.isnan(out_lat[2])
        assert np.isnan(out_lon[3])
        assert np.isnan(out_lat[3])
        assert np.isfinite(out_lon[0])
        assert np.isfinite(out_lat[0])
        assert out_lon[0] != 116.404
        # a point with one NaN coordinate is "outside": the other is kept
        assert out_lat[1] == 39.915
        assert out_lon[2] == 116.404


# ---------------------------------------------------------------------------
# Input / output kinds
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("func", [wgs84_to_gcj02, gcj02_to_wgs84])
@pytest.mark.parametrize(
    ("lon", "lat"),
    [(116.404, 39.915), (116, 40), (np.float64(116.404), np.float32(39.915))],
)
def test_scalar_in_float_out(func, lon, lat):
    out = func(lon, lat)
    assert isinstance(out, tuple)
    assert len(out) == 2
    assert type(out[0]) is float
    assert type(out[1]) is float


@pytest.mark.parametrize("func", [wgs84_to_gcj02, gcj02_to_wgs84])
@pytest.mark.parametrize("shape", [(0,), (5,), (3, 4), (2, 3, 2)])
def test_array_shape_and_dtype_preserved(func, shape):
    rng = np.random.default_rng(0)
    lon = rng.uniform(100.0, 120.0, size=shape)
    lat = rng.uniform(20.0, 40.0, size=shape)
    lon_in, lat_in = lon.copy(), lat.copy()
    out_lon, out_lat = func(lon, lat)
    for out in (out_lon, out_lat):
        assert isinstance(out, np.ndarray)
        assert out.shape == shape
        assert out.dtype == np.float64
    # inputs are not modified and not aliased
    np.testing.assert_array_equal(lon, lon_in)
    np.testing.assert_array_equal(lat, lat_in)
    assert not np.shares_memory(out_lon, lon)
    assert not np.shares_memory(out_lat, lat)


def test_list_and_broadcast_input():
    out_lon, out_lat = wgs84_to_gcj02([116.404, 121.5272106], 39.915)
    assert out_lon.shape == out_lat.shape == (2,)
    ref_lon, ref_lat = wgs84_to_gcj02(116.404, 39.915)
    assert out_lon[0] == ref_lon
    assert out_lat[0] == ref_lat
    # integer arrays are converted to float64
    out_lon, _ = gcj02_to_wgs84(np.array([116, 121]), np.array([40, 31]))
    assert out_lon.dtype == np.float64


def test_zero_dim_array_returns_array():
    out_lon, out_lat = wgs84_to_gcj02(np.array(116.404), np.array(39.915))
    assert isinstance(out_lon, np.ndarray)
    assert out_lon.shape == out_lat.shape == ()
    assert abs(float(out_lon) - 116.41024449916938) <= FULL_PRECISION_TOL_DEG


def test_inverse_argument_validation():
    with pytest.raises(ValueError, match="tol_deg"):
        gcj02_to_wgs84(116.4, 39.9, tol_deg=0.0)
    with pytest.raises(ValueError, match="tol_deg"):
        gcj02_to_wgs84(116.4, 39.9, tol_deg=math.nan)
    with pytest.raises(ValueError, match="max_iter"):
        gcj02_to_wgs84(116.4, 39.9, max_iter=0)


def test_inverse_warns_when_not_converged():
    # One iteration is the crude one-step inverse: not converged to 1e-9.
    gcj = FULL_PRECISION_PAIRS[0].values[1]
    wgs = FULL_PRECISION_PAIRS[0].values[0]
    with pytest.warns(RuntimeWarning, match="did not converge"):
        lon, lat = gcj02_to_wgs84(*gcj, max_iter=1)
    # ... but still within ~5 m (5e-5 deg) of the answer
    assert abs(lon - wgs[0]) < 5e-5
    assert abs(lat - wgs[1]) < 5e-5
    assert max(abs(lon - wgs[0]), abs(lat - wgs[1])) > FULL_PRECISION_TOL_DEG


def test_inverse_tolerance_is_honoured():
    gcj = np.array([p.values[1] for p in SERVICE_PAIRS])
    loose = np.column_stack(gcj02_to_wgs84(gcj[:, 0], gcj[:, 1], tol_deg=1e-6))
    tight = np.column_stack(gcj02_to_wgs84(gcj[:, 0], gcj[:, 1], tol_deg=1e-12))
    assert np.max(np.abs(loose - tight)) <= 1e-6


# ---------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------


def test_transform_point_matches_reference():
    wgs, gcj = FULL_PRECISION_PAIRS[0].values
    point = transform_geometry_gcj02_to_wgs84(shapely.Point(*gcj))
    assert isinstance(point, shapely.Point)
    assert abs(point.x - wgs[0]) <= FULL_PRECISION_TOL_DEG
    assert abs(point.y - wgs[1]) <= FULL_PRECISION_TOL_DEG


def test_transform_polygon_with_hole_round_trip():
    # West Lake, Hangzhou: a small polygon with a hole, in WGS84.
    shell = [(120.12, 30.22), (120.17, 30.22), (120.17, 30.27), (120.12, 30.27)]
    hole = [(120.14, 30.24), (120.15, 30.24), (120.15, 30.25), (120.14, 30.25)]
    polygon_wgs = shapely.Polygon(shell, [hole])

    polygon_gcj = transform_geometry_wgs84_to_gcj02(polygon_wgs)
    assert isinstance(polygon_gcj, shapely.Polygon)
    assert polygon_gcj.is_valid
    assert len(polygon_gcj.interiors) == 1
    assert not shapely.has_z(polygon_gcj)
    # every vertex moved by the scalar forward conversion
    for (x, y), (gx, gy) in zip(
        polygon_wgs.exterior.coords, polygon_gcj.exterior.coords, strict=True
    ):
        assert (gx, gy) == wgs84_to_gcj02(x, y)
        assert 100.0 < _distance_m(x, y, gx, gy) < 1000.0

    back = transform_geometry_gcj02_to_wgs84(polygon_gcj)
    np.testing.assert_allclose(
        shapely.get_coordinates(back),
        shapely.get_coordinates(polygon_wgs),
        rtol=0.0,
        atol=ROUND_TRIP_TOL_DEG,
    )
    assert len(back.interiors) == 1


def test_transform_geometry_array_none_and_z():
    geoms = np.array(
        [
            shapely.Point(120.1550722, 30.274088),
            None,
            shapely.LineString([(116.40, 39.90), (116.41, 39.91)]),
            shapely.Point(121.4737061, 31.2304194, 12.5),
        ],
        dtype=object,
    )
    out = transform_geometry_gcj02_to_wgs84(geoms)
    assert isinstance(out, np.ndarray)
    assert out.shape == (4,)
    assert out[1] is None
    # gcoord Hangzhou pair (c) above
    assert abs(out[0].x - 120.1503589) <= SERVICE_TOL_DEG
    assert abs(out[0].y - 30.2764043) <= SERVICE_TOL_DEG
    # a Z coordinate is kept unchanged, 2D stays 2D
    assert shapely.has_z(out[3])
    assert out[3].z == 12.5
    assert not shapely.has_z(out[2])
    expected = np.column_stack(gcj02_to_wgs84([116.40, 116.41], [39.90, 39.91]))
    # (batches may stop after a different number of iterations: ~1e-13 deg)
    np.testing.assert_allclose(
        shapely.get_coordinates(out[2]), expected, rtol=0.0, atol=1e-11
    )


def test_transform_geometry_outside_china_unchanged():
    polygon = shapely.box(-0.2, 51.4, 0.0, 51.6)  # London
    assert shapely.equals_exact(
        transform_geometry_gcj02_to_wgs84(polygon), polygon, 0.0
    )
