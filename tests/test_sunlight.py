"""Tests for :mod:`geometry.sunlight`: sun vectors, ray casting, segments.

Analytic scenes are built with `geometry.mesh.extrude_arrays` from shapely
boxes (and a ring). Their exact answers are measures of the window where a
closed-form condition on the sun's direction holds; the condition is
evaluated on a fine sampling of the same sun path (`FINE_STEP_MIN`), so the
reference is exact up to that fine step, and `sunlight_hours` must match it
within one of its own steps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import shapely
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from geometry.facade import facade_points
from geometry.mesh import extrude, extrude_arrays
from geometry.solar import great_cold_day, winter_solstice
from geometry.sunlight import (
    GREAT_COLD_WINDOW_H,
    WINTER_SOLSTICE_WINDOW_H,
    RayEngineWarning,
    RayScene,
    SunlightResult,
    SunPath,
    ray_scene,
    sun_vectors,
    sunlight_hours,
    sunlight_summary,
)

LAT, LON = 30.25, 120.17  # Hangzhou
GREAT_COLD = great_cold_day(2025)
SOLSTICE = winter_solstice(2025)
#: Step of the reference sampling for "exact" durations [min].
FINE_STEP_MIN = 0.05
#: Sill height of the sample points [m].
SILL_M = 0.9
#: Float slack on sums of sample weights [min].
SUM_ATOL_MIN = 1e-9

Condition = Callable[[np.ndarray], np.ndarray]


def great_cold_sun(step_min: float = 1.0, **kwargs) -> SunPath:
    start, end = GREAT_COLD_WINDOW_H
    return sun_vectors(
        GREAT_COLD,
        lat=LAT,
        lon=LON,
        start_h=start,
        end_h=end,
        step_min=step_min,
        **kwargs,
    )


def exact_minutes(condition: Condition, *, day=GREAT_COLD, window=GREAT_COLD_WINDOW_H):
    """Minutes of the window where ``condition(sun_vectors)`` holds."""
    fine = sun_vectors(
        day,
        lat=LAT,
        lon=LON,
        start_h=window[0],
        end_h=window[1],
        step_min=FINE_STEP_MIN,
    )
    ok = condition(fine.vectors)
    return float(fine.weights_min[ok].sum())


def in_front(normal) -> Condition:
    n = np.asarray(normal, dtype=float)
    return lambda v: (v @ n > 0) & (v[:, 2] > 0)


def south_point() -> tuple[np.ndarray, np.ndarray, shapely.Polygon]:
    """A point 1 cm off the south wall of a 20 x 12 m house, facing south."""
    point = np.array([[0.0, -0.01, SILL_M]])
    normal = np.array([[0.0, -1.0, 0.0]])
    house = shapely.box(-10, 0, 10, 12)
    return point, normal, house


# --- sun vectors ---------------------------------------------------------


def test_sun_vectors_window_and_weights():
    sun = great_cold_sun()
    assert len(sun) == 481
    assert sun.step_min == 1.0
    assert sun.hours[0] == 8.0
    assert sun.hours[-1] == 16.0
    assert sun.vectors.shape == (481, 3)
    assert sun.edges_h.shape == (482,)
    assert_allclose(np.linalg.norm(sun.vectors, axis=1), 1.0)
    # Each sample stands for one step, half a step at the window's ends.
    assert_allclose(sun.weights_min[[0, -1]], 0.5)
    assert_allclose(sun.weights_min[1:-1], 1.0)
    assert_allclose(sun.weights_min.sum(), 480.0)
    # On the Great Cold day in Hangzhou the sun stays up and south of east
    # and west through 8-16 h; it culminates at 90 - 30.25 - 20.2 degrees.
    assert np.all(sun.vectors[:, 2] > 0)
    assert np.all((sun.azimuth_deg > 90) & (sun.azimuth_deg < 270))
    assert_allclose(sun.elevation_deg.max(), 90 - 30.25 - 20.05, atol=0.1)
    assert sun.times_utc.dtype == np.dtype("datetime64[ns]")


def test_sun_vectors_step_that_does_not_divide_the_window():
    sun = great_cold_sun(step_min=7.0)
    # 480 / 7 = 68.6: 69 steps of 6.96 min, both ends sampled.
    assert len(sun) == 70
    assert_allclose(sun.step_min, 480 / 69)
    assert sun.hours[-1] == 16.0
    assert_allclose(sun.weights_min.sum(), 480.0)


def test_sun_vectors_empty_window_and_errors():
    sun = sun_vectors(GREAT_COLD, lat=LAT, lon=LON, start_h=12, end_h=12)
    assert len(sun) == 1
    assert sun.weights_min.tolist() == [0.0]
    with pytest.raises(ValueError, match="step_min must be positive"):
        great_cold_sun(step_min=0.0)
    with pytest.raises(ValueError, match="start_h <= end_h"):
        sun_vectors(GREAT_COLD, lat=LAT, lon=LON, start_h=16, end_h=8)
    with pytest.raises(ValueError, match="finite"):
        sun_vectors(GREAT_COLD, lat=LAT, lon=LON, start_h=8, end_h=np.nan)


def test_sun_vectors_north_angle_turns_the_vectors_clockwise():
    base = great_cold_sun(step_min=30)
    turned = great_cold_sun(step_min=30, north_angle_deg=25.0)
    # Grid azimuth = true azimuth + north angle.
    grid_az = np.degrees(np.arctan2(turned.vectors[:, 0], turned.vectors[:, 1]))
    true_az = np.degrees(np.arctan2(base.vectors[:, 0], base.vectors[:, 1]))
    assert_allclose((grid_az - true_az) % 360, 25.0)
    assert_allclose(turned.vectors[:, 2], base.vectors[:, 2])
    assert_allclose(turned.azimuth_deg, base.azimuth_deg)  # true azimuths


def test_sun_vectors_refraction_lifts_the_sun():
    geometric = great_cold_sun(step_min=60)
    apparent = great_cold_sun(step_min=60, refraction=True)
    lift = apparent.elevation_deg - geometric.elevation_deg
    # About 0.07 degrees at 13 degrees, 0.02 at 40 degrees.
    assert np.all((lift > 0.01) & (lift < 0.1))


# --- unobstructed points ---------------------------------------------------


def test_unobstructed_south_point_sees_the_whole_window():
    point, normal, house = south_point()
    scene = extrude_arrays([house], [9.0])
    r = sunlight_hours(point, normal, scene, great_cold_sun(), return_segments=True)
    assert isinstance(r, SunlightResult)
    assert r.engine == "embree"
    assert r.n_rays == 481
    assert_allclose(r.sunlit_min, [480.0], atol=SUM_ATOL_MIN)
    assert r.segments.tolist() == [1]
    assert_allclose(r.longest_min, [480.0])
    assert_allclose(r.counted_min, [480.0])
    assert_allclose(r.segment_start_h, [8.0])
    assert_allclose(r.segment_end_h, [16.0])


def test_south_point_in_summer_loses_the_sun_behind_the_facade():
    # On the summer solstice the sun rises and sets north of east and west:
    # a south facade sees it only while it is south of the E-W line, i.e.
    # while cos(hour angle) > tan(declination) / tan(latitude).
    point, normal, house = south_point()
    day = "2025-06-21"
    sun = sun_vectors(day, lat=LAT, lon=LON, start_h=6, end_h=18)
    r = sunlight_hours(point, normal, extrude_arrays([house], [9.0]), sun)
    exact = exact_minutes(in_front(normal[0]), day=day, window=(6.0, 18.0))
    decl = np.radians(23.44)
    closed_form = 2 * np.degrees(np.arccos(np.tan(decl) / np.tan(np.radians(LAT)))) * 4
    assert abs(exact - closed_form) < 0.5  # 336 min
    assert abs(r.sunlit_min[0] - exact) <= sun.step_min + FINE_STEP_MIN
    assert r.segments.tolist() == [1]


def test_east_facing_point_gets_morning_sun_only():
    point = np.array([[0.01, 0.0, SILL_M]])
    normal = np.array([[1.0, 0.0, 0.0]])
    house = shapely.box(-12, -5, 0, 5)  # the point's own building, west of it
    sun = great_cold_sun()
    r = sunlight_hours(
        point, normal, extrude_arrays([house], [9.0]), sun, return_segments=True
    )
    assert r.segments.tolist() == [1]
    assert_allclose(r.segment_start_h, [8.0])
    # Until the sun crosses the meridian, at 12 h true solar time.
    assert abs(r.segment_end_h[0] - 12.0) <= sun.step_min / 60
    assert abs(r.sunlit_min[0] - 240.0) <= sun.step_min
    exact = exact_minutes(in_front(normal[0]))
    assert abs(r.sunlit_min[0] - exact) <= sun.step_min + FINE_STEP_MIN
    # A west-facing point is the mirror image: afternoon only.
    west = sunlight_hours(
        [[-12.01, 0.0, SILL_M]],
        [[-1.0, 0.0, 0.0]],
        extrude_arrays([house], [9.0]),
        sun,
        return_segments=True,
    )
    assert abs(west.segment_start_h[0] - 12.0) <= sun.step_min / 60
    assert_allclose(west.segment_end_h, [16.0])


def test_north_facades_get_no_sun_and_cast_no_rays_on_the_great_cold_day():
    # Facade points of a row of slabs: the sun stays south of the E-W line
    # all window long, so north-facing points are culled before casting.
    slabs = [shapely.box(x, 0, x + 40, 12) for x in (0, 60, 120)]
    pts = facade_points(slabs, [30.0] * 3, z_offsets=SILL_M, spacing_m=2.0)
    north = pts.normal[:, 1] > 0.5
    sun = great_cold_sun(step_min=5)
    r = sunlight_hours(
        pts.xyz, pts.normal, extrude_arrays(slabs, [30.0] * 3), sun, return_sunlit=True
    )
    assert_array_equal(r.sunlit_min[north], 0.0)
    assert_array_equal(r.segments[north], 0)
    assert not r.sunlit[north].any()
    # Rays were cast for the other points only, at most once per sample.
    assert r.n_rays <= (~north).sum() * len(sun)
    south = pts.normal[:, 1] < -0.5
    assert np.all(r.sunlit_min[south] > 0)


# --- walls: altitude and profile angle --------------------------------------


@pytest.mark.parametrize(
    ("height", "distance"), [(14.1, 20.0), (30.0, 40.0), (5.0, 30.0)]
)
def test_long_wall_due_south_shades_below_its_profile_angle(height, distance):
    # An (effectively infinite) east-west wall at distance D due south shades
    # the point while the sun's profile angle, atan(z / -y) for a vector
    # (x, y, z), is below atan(H / D); for the sun due south that is its
    # altitude.
    point, normal, house = south_point()
    wall = shapely.box(-4000, -distance - 1, 4000, -distance)
    scene = extrude_arrays([house, wall], [9.0, SILL_M + height])
    sun = great_cold_sun()
    r = sunlight_hours(point, normal, scene, sun, return_segments=True)

    def lit(v):
        return in_front(normal[0])(v) & (v[:, 2] / -v[:, 1] >= height / distance)

    exact = exact_minutes(lit)
    assert abs(r.sunlit_min[0] - exact) <= sun.step_min + FINE_STEP_MIN
    assert r.segments.tolist() == [1 if exact > 0 else 0]


@pytest.mark.parametrize(
    ("height", "distance"), [(10.0, 25.0), (20.0, 40.0), (15.0, 30.0)]
)
def test_ring_wall_shades_exactly_below_its_altitude(height, distance):
    # A circular courtyard of radius D with walls H above the point: the
    # point is shaded exactly while the sun's altitude is below atan(H / D),
    # whatever its azimuth.
    point = np.array([[0.0, 0.0, SILL_M]])
    normal = np.array([[0.0, -1.0, 0.0]])
    centre = shapely.Point(0, 0)
    ring = centre.buffer(distance + 2, quad_segs=256).difference(
        centre.buffer(distance, quad_segs=256)
    )
    scene = extrude_arrays([ring], [SILL_M + height])
    sun = great_cold_sun()
    r = sunlight_hours(point, normal, scene, sun, return_segments=True)
    limit = np.sin(np.arctan2(height, distance))

    def lit(v):
        return in_front(normal[0])(v) & (v[:, 2] >= limit)

    exact = exact_minutes(lit)
    assert 0 < exact < 480
    assert abs(r.sunlit_min[0] - exact) <= sun.step_min + FINE_STEP_MIN
    assert r.segments.tolist() == [1]
    # The segment is centred on true noon, up to a step.
    mid = (r.segment_start_h[0] + r.segment_end_h[0]) / 2
    assert abs(mid - 12.0) <= sun.step_min / 60


@pytest.mark.parametrize("step_min", [15.0, 10.0, 5.0, 2.0, 1.0, 0.5])
def test_step_convergence(step_min):
    point, normal, house = south_point()
    height, distance = 20.0, 30.0
    wall = shapely.box(-4000, -distance - 1, 4000, -distance)
    scene = extrude_arrays([house, wall], [9.0, SILL_M + height])
    sun = great_cold_sun(step_min=step_min)
    r = sunlight_hours(point, normal, scene, sun)

    def lit(v):
        return in_front(normal[0])(v) & (v[:, 2] / -v[:, 1] >= height / distance)

    assert abs(r.sunlit_min[0] - exact_minutes(lit)) <= step_min + FINE_STEP_MIN


# --- mirror symmetry --------------------------------------------------------


def random_district(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-150, 150, n)
    y = rng.uniform(-150, 150, n)
    w = rng.uniform(8, 40, n)
    d = rng.uniform(8, 20, n)
    footprints = shapely.box(x, y, x + w, y + d)
    # Drop overlaps, so that no sample point lies inside another building.
    keep = np.ones(n, dtype=bool)
    for i in range(n):  # tiny n; test set-up only
        if (
            keep[i]
            and shapely.intersects(
                footprints[i], footprints[i + 1 :][keep[i + 1 :]]
            ).any()
        ):
            keep[i] = False
    return footprints[keep], rng.uniform(10, 80, n)[keep]


def test_mirrored_scene_gives_mirrored_times_about_solar_noon():
    footprints, heights = random_district(30, seed=1)
    pts = facade_points(footprints, heights, z_offsets=SILL_M, spacing_m=3.0)
    arrays = extrude_arrays(footprints, heights)
    flip = np.array([-1.0, 1.0, 1.0])
    mirrored = trimesh.Trimesh(
        arrays.vertices * flip, arrays.faces[:, ::-1], process=False
    )
    # The Winter Solstice: the declination is stationary, so the sun's path
    # is symmetric about true noon, and 9-15 h is a symmetric window.
    start, end = WINTER_SOLSTICE_WINDOW_H
    sun = sun_vectors(SOLSTICE, lat=LAT, lon=LON, start_h=start, end_h=end)
    a = sunlight_hours(pts.xyz, pts.normal, arrays, sun, return_sunlit=True)
    b = sunlight_hours(
        pts.xyz * flip, pts.normal * flip, mirrored, sun, return_sunlit=True
    )
    assert 0.2 < np.mean(a.sunlit_min > 0) < 0.9  # a scene with shade and sun
    # Sample k of one is sample t - 1 - k of the other. At true noon the sun
    # grazes east and west facades (|n . s| ~ 1e-12, either sign): leave
    # those out. Rays grazing an edge may differ in float32: allow a few.
    grazing = np.abs(pts.normal @ sun.vectors.T) < 1e-6
    differ = (a.sunlit != b.sunlit[:, ::-1]) & ~grazing
    assert differ.sum() <= 3
    assert np.abs(a.sunlit_min - b.sunlit_min).max() <= sun.step_min + SUM_ATOL_MIN
    assert_array_equal(a.segments, b.segments)


# --- segments ---------------------------------------------------------------


def naive_segments(row: np.ndarray, edges: np.ndarray) -> list[tuple[float, float]]:
    """Runs of True as (start, end) times, by a plain loop."""
    runs, start = [], None
    for k, value in enumerate(row):
        if value and start is None:
            start = k
        if not value and start is not None:
            runs.append((edges[start], edges[k]))
            start = None
    if start is not None:
        runs.append((edges[start], edges[len(row)]))
    return runs


def uniform_edges(t: int, step_min: float = 1.0) -> np.ndarray:
    """Sample bounds for ``t`` samples a step apart, in hours."""
    hours = np.arange(t) * step_min / 60
    return np.concatenate([[0.0], (hours[1:] + hours[:-1]) / 2, [hours[-1]]])


def test_segments_of_random_matrices_match_a_plain_loop():
    rng = np.random.default_rng(0)
    t = 50
    edges = uniform_edges(t, step_min=2.0)
    for density in (0.1, 0.5, 0.9):
        lit = rng.random((200, t)) < density
        lit[0] = False
        lit[1] = True
        min_len, k = 4.0, 2
        r = sunlight_summary(
            lit, edges, min_segment_min=min_len, max_segments=k, return_segments=True
        )
        seg_point = []
        for i, row in enumerate(lit):
            runs = naive_segments(row, edges)
            lengths = sorted(((e - s) * 60 for s, e in runs), reverse=True)
            assert r.segments[i] == len(runs)
            assert_allclose(r.sunlit_min[i], sum(lengths), atol=SUM_ATOL_MIN)
            assert_allclose(r.longest_min[i], max(lengths, default=0.0))
            counted = [x for x in lengths if x >= min_len - SUM_ATOL_MIN][:k]
            assert_allclose(r.counted_min[i], sum(counted), atol=SUM_ATOL_MIN)
            mine = r.segment_point == i
            assert_allclose(r.segment_start_h[mine], [s for s, _ in runs])
            assert_allclose(r.segment_end_h[mine], [e for _, e in runs])
            seg_point += [i] * len(runs)
        assert r.segment_point.tolist() == seg_point


def test_segment_edge_cases():
    edges = uniform_edges(6)
    lit = np.array(
        [
            [0, 0, 0, 0, 0, 0],  # none
            [1, 1, 1, 1, 1, 1],  # all: the window, 5 min
            [1, 0, 1, 0, 1, 0],  # alternating, touching the start
            [0, 0, 0, 0, 0, 1],  # the last sample only: half a step
        ],
        dtype=bool,
    )
    r = sunlight_summary(lit, edges, return_segments=True)
    assert r.segments.tolist() == [0, 1, 3, 1]
    assert_allclose(r.sunlit_min, [0.0, 5.0, 0.5 + 1 + 1, 0.5])
    assert_allclose(r.longest_min, [0.0, 5.0, 1.0, 0.5])
    assert r.segment_point.tolist() == [1, 2, 2, 2, 3]
    assert r.segment_counted.all()
    assert_allclose(r.segment_min, [5.0, 0.5, 1.0, 1.0, 0.5])


@settings(max_examples=50, deadline=None)
@given(
    lit=hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, max_side=30)),
    min_len=st.floats(0, 10),
    k=st.one_of(st.none(), st.integers(1, 4)),
)
def test_segment_totals_properties(lit, min_len, k):
    edges = uniform_edges(lit.shape[1], step_min=1.5)
    r = sunlight_summary(lit, edges, min_segment_min=min_len, max_segments=k)
    weights = np.diff(edges) * 60
    assert_allclose(r.sunlit_min, lit @ weights, atol=SUM_ATOL_MIN)
    assert np.all(r.counted_min <= r.sunlit_min + SUM_ATOL_MIN)
    assert np.all(r.longest_min <= r.sunlit_min + SUM_ATOL_MIN)
    if k is not None:
        assert np.all(r.counted_min <= k * r.longest_min + SUM_ATOL_MIN)
    if min_len == 0 and k is None:
        assert_allclose(r.counted_min, r.sunlit_min)


def row_of_segments(lengths: list[int], gap: int = 10) -> np.ndarray:
    """A 1-minute row with runs of the given lengths, away from the ends."""
    parts = [np.zeros(gap, dtype=bool)]
    for n in lengths:
        parts += [np.ones(n, dtype=bool), np.zeros(gap, dtype=bool)]
    return np.concatenate(parts)


def test_hangzhou_two_longest_segments_rule():
    # Housing in Hangzhou: 2 h on the Great Cold day, summed over at most
    # two segments, the two longest.
    rows = [
        row_of_segments([30, 50, 20, 45]),  # 50 + 45 = 95
        row_of_segments([70, 50]),  # 120: passes
        row_of_segments([40, 40, 40]),  # 120 in three: only 80 counts
    ]
    t = max(len(r) for r in rows)
    lit = np.zeros((3, t), dtype=bool)
    for i, row in enumerate(rows):
        lit[i, : len(row)] = row
    edges = uniform_edges(t)
    r = sunlight_summary(lit, edges, max_segments=2, return_segments=True)
    assert_allclose(r.sunlit_min, [145.0, 120.0, 120.0])
    assert_allclose(r.counted_min, [95.0, 120.0, 80.0])
    assert (r.counted_min >= 120.0).tolist() == [False, True, False]
    first = r.segment_point == 0
    assert r.segment_counted[first].tolist() == [False, True, False, True]
    # Kindergartens: at most three segments.
    assert_allclose(
        sunlight_summary(lit, edges, max_segments=3).counted_min, [125, 120, 120]
    )


def test_minimum_segment_length_like_beijing():
    # Beijing drops segments under 5 minutes on the Great Cold day.
    lit = row_of_segments([4, 60, 5, 3])[None, :]
    r = sunlight_summary(lit, uniform_edges(lit.shape[1]), min_segment_min=5.0)
    assert_allclose(r.sunlit_min, [72.0])
    assert_allclose(r.counted_min, [65.0])  # the 5-minute one counts
    assert r.segments.tolist() == [4]


def test_towers_split_the_sun_into_segments():
    # Three slim towers south of a south-facing point cut its sunlit time
    # into four segments; the Hangzhou rule keeps the two longest.
    point, normal, house = south_point()
    towers = [shapely.box(x, -31, x + 2, -29) for x in (-25.0, -2.0, 30.0)]
    scene = extrude_arrays([house, *towers], [9.0, 100.0, 100.0, 100.0])
    sun = great_cold_sun()
    r = sunlight_hours(point, normal, scene, sun, max_segments=2, return_segments=True)
    assert r.segments.tolist() == [4]
    lengths = np.sort(r.segment_min)[::-1]
    assert_allclose(r.sunlit_min, lengths.sum())
    assert_allclose(r.counted_min, lengths[:2].sum())
    assert_allclose(r.longest_min, lengths[0])
    assert r.segment_counted.sum() == 2


# --- incidence ---------------------------------------------------------------


@pytest.mark.parametrize("incidence", ["plan", "surface"])
def test_minimum_incidence_angle(incidence):
    point = np.array([[0.01, 0.0, SILL_M]])
    normal = np.array([[1.0, 0.0, 0.0]])
    house = shapely.box(-12, -5, 0, 5)
    sun = great_cold_sun()
    r = sunlight_hours(
        point,
        normal,
        extrude_arrays([house], [9.0]),
        sun,
        min_incidence_deg=15.0,
        incidence=incidence,
    )
    limit = np.sin(np.radians(15.0))

    def lit(v):
        if incidence == "plan":
            off = v[:, 0] / np.hypot(v[:, 0], v[:, 1])
        else:
            off = v[:, 0]
        return in_front(normal[0])(v) & (off > limit)

    exact = exact_minutes(lit)
    assert exact < 240.0 - 30.0  # the angle cuts well into the morning
    assert abs(r.sunlit_min[0] - exact) <= sun.step_min + FINE_STEP_MIN


def test_plan_angle_is_stricter_than_surface_angle_on_walls():
    # Seen in plan, a low winter sun is further off a wall than in 3D.
    point, normal = np.array([[0.01, 0.0, SILL_M]]), np.array([[1.0, 0.0, 0.0]])
    scene = extrude_arrays([shapely.box(-12, -5, 0, 5)], [9.0])
    sun = great_cold_sun()
    plan = sunlight_hours(point, normal, scene, sun, min_incidence_deg=20.0)
    surface = sunlight_hours(
        point, normal, scene, sun, min_incidence_deg=20.0, incidence="surface"
    )
    assert plan.sunlit_min[0] > surface.sunlit_min[0]


# --- grid north, batching, scene types ---------------------------------------


def test_rotated_grid_with_north_angle_gives_the_same_result():
    footprints, heights = random_district(20, seed=2)
    pts = facade_points(footprints, heights, z_offsets=SILL_M, spacing_m=4.0)
    base = sunlight_hours(
        pts.xyz,
        pts.normal,
        extrude_arrays(footprints, heights),
        great_cold_sun(step_min=5),
    )
    # The same district drawn on a grid turned so that true north lies 25
    # degrees clockwise of grid north: every azimuth grows by 25 degrees.
    theta = np.radians(25.0)
    rot = np.array(
        [
            [np.cos(theta), np.sin(theta), 0],
            [-np.sin(theta), np.cos(theta), 0],
            [0, 0, 1],
        ]
    )  # clockwise about z
    turned = shapely.transform(footprints, lambda xy: xy @ rot[:2, :2].T)
    r = sunlight_hours(
        pts.xyz @ rot.T,
        pts.normal @ rot.T,
        extrude_arrays(turned, heights),
        great_cold_sun(step_min=5, north_angle_deg=25.0),
    )
    assert np.abs(r.sunlit_min - base.sunlit_min).max() <= 5.0
    assert np.mean(r.sunlit_min == base.sunlit_min) > 0.99


def test_small_batches_give_the_same_result():
    footprints, heights = random_district(15, seed=3)
    pts = facade_points(footprints, heights, z_offsets=SILL_M, spacing_m=3.0)
    scene = ray_scene(extrude_arrays(footprints, heights))
    assert isinstance(scene, RayScene)
    sun = great_cold_sun(step_min=10)
    kwargs = {"return_sunlit": True, "return_segments": True, "max_segments": 2}
    big = sunlight_hours(pts.xyz, pts.normal, scene, sun, **kwargs)
    small = sunlight_hours(pts.xyz, pts.normal, scene, sun, batch_rays=100, **kwargs)
    for name in (
        "sunlit_min", "segments", "longest_min", "counted_min", "sunlit",
        "segment_point", "segment_start_h", "segment_end_h", "segment_counted",
    ):  # fmt: skip
        assert_array_equal(getattr(small, name), getattr(big, name), err_msg=name)
    assert small.n_rays == big.n_rays


def test_scene_as_meshes_arrays_or_one_mesh():
    footprints, heights = random_district(10, seed=4)
    pts = facade_points(footprints, heights, z_offsets=SILL_M, spacing_m=3.0)
    sun = great_cold_sun(step_min=10)
    arrays = extrude_arrays(footprints, heights)
    one = trimesh.Trimesh(arrays.vertices, arrays.faces, process=False)
    results = [
        sunlight_hours(pts.xyz, pts.normal, scene, sun)
        for scene in (arrays, extrude(footprints, heights), one)
    ]
    for r in results[1:]:
        assert_array_equal(r.sunlit_min, results[0].sunlit_min)


@pytest.mark.parametrize(
    ("x0", "y0"), [(0.0, 0.0), (440_000.0, 3_350_000.2), (500_000.3, 4_430_000.2)]
)
def test_projected_coordinates_keep_points_off_their_wall(x0, y0):
    # trimesh's Embree wrapper rounds ray origins to float32 before taking
    # its own origin off them: at a northing of 3.35e6 m (UTM, Hangzhou) a
    # point 1 cm off its wall would move 6 cm into its own building. Rays are
    # cast relative to the scene's centre instead.
    house = shapely.box(x0 - 10, y0, x0 + 10, y0 + 12)
    point = np.array([[x0 + 0.3, y0 - 0.01, SILL_M]])
    rs = ray_scene(extrude_arrays([house], [9.0]))
    assert_allclose(rs.origin, [x0, y0 + 6, 4.5])
    r = sunlight_hours(point, [[0.0, -1.0, 0.0]], rs, great_cold_sun(step_min=10))
    assert_allclose(r.sunlit_min, [480.0])
    # World coordinates in, through the same origin.
    assert rs.intersects_any(point, [[0.0, 1.0, 0.0]]).tolist() == [True]
    assert rs.intersects_any(point, [[0.0, -1.0, 0.0]]).tolist() == [False]


def test_one_ray_scene_for_both_days():
    point, normal, house = south_point()
    wall = shapely.box(-4000, -31, 4000, -30)
    rs = ray_scene(extrude_arrays([house, wall], [9.0, 20.0]))
    cold = sunlight_hours(point, normal, rs, great_cold_sun())
    start, end = WINTER_SOLSTICE_WINDOW_H
    solstice = sun_vectors(SOLSTICE, lat=LAT, lon=LON, start_h=start, end_h=end)
    winter = sunlight_hours(point, normal, rs, solstice)
    # A lower sun and a shorter window: less sun on the solstice.
    assert 0 < winter.sunlit_min[0] < cold.sunlit_min[0]


# --- missing and empty input, errors -----------------------------------------


def test_nan_points_and_zero_normals_give_nan():
    point, normal, house = south_point()
    pts = np.vstack([point, [[np.nan, 0, 1]], point, point])
    nrm = np.vstack([normal, normal, [[0, 0, 0]], [[np.nan, -1, 0]]])
    r = sunlight_hours(
        pts,
        nrm,
        extrude_arrays([house], [9.0]),
        great_cold_sun(step_min=10),
        return_sunlit=True,
        return_segments=True,
    )
    assert_allclose(r.sunlit_min[0], 480.0)
    for field in (r.sunlit_min, r.longest_min, r.counted_min):
        assert np.isnan(field[1:]).all()
    assert r.segments.tolist() == [1, 0, 0, 0]
    assert not r.sunlit[1:].any()
    assert r.segment_point.tolist() == [0]
    assert r.n_rays == 49


def test_empty_points_and_empty_scene():
    sun = great_cold_sun(step_min=10)
    house = shapely.box(-10, 0, 10, 12)
    r = sunlight_hours(
        np.empty((0, 3)),
        np.empty((0, 3)),
        extrude_arrays([house], [9.0]),
        sun,
        return_sunlit=True,
        return_segments=True,
    )
    assert len(r) == 0
    assert r.sunlit.shape == (0, len(sun))
    assert r.segment_point.shape == (0,)
    assert r.n_rays == 0
    # No obstruction at all: every candidate ray is free.
    empty = sunlight_hours([[0, 0, 1]], [[0, -1, 0]], [], sun)
    assert_allclose(empty.sunlit_min, [480.0])
    nothing = sunlight_hours([[0, 0, 1]], [[0, -1, 0]], [None], sun)
    assert_allclose(nothing.sunlit_min, [480.0])


def test_errors():
    sun = great_cold_sun(step_min=30)
    scene = extrude_arrays([shapely.box(0, 0, 1, 1)], [1.0])
    pt, n = [[5, 5, 1]], [[1, 0, 0]]
    with pytest.raises(ValueError, match=r"\(m, 3\)"):
        sunlight_hours([[1, 2]], [[1, 0]], scene, sun)
    with pytest.raises(ValueError, match=r"\(m, 3\)"):
        sunlight_hours(pt, [[1, 0, 0], [0, 1, 0]], scene, sun)
    with pytest.raises(ValueError, match="invalid incidence 'sphere'"):
        sunlight_hours(pt, n, scene, sun, incidence="sphere")
    with pytest.raises(ValueError, match="min_incidence_deg"):
        sunlight_hours(pt, n, scene, sun, min_incidence_deg=90.0)
    with pytest.raises(ValueError, match="max_segments"):
        sunlight_hours(pt, n, scene, sun, max_segments=0)
    with pytest.raises(ValueError, match="max_segments"):
        sunlight_summary([[True]], [0.0, 1.0], max_segments=1.5)
    with pytest.raises(ValueError, match="min_segment_min"):
        sunlight_hours(pt, n, scene, sun, min_segment_min=-1.0)
    with pytest.raises(ValueError, match="batch_rays"):
        sunlight_hours(pt, n, scene, sun, batch_rays=0)
    with pytest.raises(ValueError, match="invalid engine 'optix'"):
        ray_scene(scene, engine="optix")
    with pytest.raises(ValueError, match="edges_h"):
        sunlight_summary([[True, False]], [0.0, 1.0])


# --- ray engines ---------------------------------------------------------------


def test_embree_is_used():
    from trimesh.ray import ray_pyembree

    rs = ray_scene(extrude_arrays([shapely.box(0, 0, 1, 1)], [1.0]))
    assert rs.engine == "embree"
    assert isinstance(rs.intersector, ray_pyembree.RayMeshIntersector)


def test_fallback_without_embree_warns(monkeypatch):
    import importlib.util

    import trimesh.ray

    scene = extrude_arrays([shapely.box(0, 0, 10, 10)], [5.0])
    point, normal, _ = south_point()
    sun = great_cold_sun(step_min=30)
    fast = sunlight_hours(point, normal, ray_scene(scene, engine="embree"), sun)
    monkeypatch.setattr(trimesh.ray, "has_embree", False)
    with pytest.raises(ImportError, match="embreex"):
        ray_scene(scene, engine="embree")
    with pytest.warns(RayEngineWarning, match="embreex is not importable"):
        if importlib.util.find_spec("rtree") is None:
            # trimesh's own engine needs rtree, which is not installed here.
            with pytest.raises(ImportError, match="rtree"):
                ray_scene(scene)
        else:
            rs = ray_scene(scene)
            assert rs.engine == "triangle"
            slow = sunlight_hours(point, normal, rs, sun)
            assert_array_equal(slow.sunlit_min, fast.sunlit_min)
