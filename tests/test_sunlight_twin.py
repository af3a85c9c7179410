"""Tests for :mod:`cim.sunlight`: the sunlight check of a twin against rules.

The scene is a synthetic twin in EPSG:4549 (CGCS2000, 3-degree zone at
120 E) in Hangzhou: a residential slab and, due south of it, a 100 m tower.
The reference durations are exact up to a fine sampling of the same sun path
(`FINE_STEP_MIN`): a ray from a point on the slab's south wall toward the sun
is blocked when it crosses the tower's box (the slab test of ray and box), so
the check must match them within half a step at each end of each counted
segment.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from numpy.testing import assert_allclose

import cim
from cim.cli import main
from cim.rules import Rule, RulebookError, load_rulebook
from cim.sunlight import (
    SiteLocation,
    SunlightCheck,
    SunlightError,
    SunlightParams,
    parse_day,
    sample_points,
    site_location,
    sunlight_check,
    sunlight_impact,
    sunlight_indicator,
    sunlight_rules,
    write_sunlight,
)
from geometry.sunlight import SunPath, sun_vectors

CRS = 4549
X, Y = 516_000.0, 3_350_000.0
YEAR = 2026
#: Slab (residential, 6 storeys) and tower (33 storeys) due south at 30 m.
SLAB = (X - 30, Y, X + 30, Y + 12, 18.0)
TOWER = (X - 25, Y - 50, X + 25, Y - 30, 100.0)
#: Two towers for attribution: south-west and south-east of the slab.
TOWER_W = (X - 60, Y - 45, X - 25, Y - 30, 90.0)
TOWER_E = (X + 25, Y - 45, X + 60, Y - 30, 90.0)
FINE_STEP_MIN = 0.05
STEP_MIN = 1.0
THRESHOLD_H = 2.0
HZ_PARAMS = {
    "day": "great_cold",
    "window_h": [9, 15],
    "max_segments": 2,
    "min_segment_min": 0,
    "applies_to": ["residential"],
    "sill_height_m": 0.9,
}


def _rule(**changes) -> Rule:
    fields = {
        "id": "hz-sunlight-housing",
        "indicator": "sunlight_hours",
        "scope": "building",
        "op": ">=",
        "threshold": THRESHOLD_H,
        "unit": "h",
        "clause": "杭规发〔2006〕423号",
        "verified": True,
        "rulebook": "test",
        "params": dict(HZ_PARAMS),
    }
    fields.update(changes)
    return Rule(**fields)


def _twin(*boxes: tuple[str, tuple[float, ...], str]) -> cim.Twin:
    ids = [b[0] for b in boxes]
    geoms = [shapely.box(*b[1][:4]) for b in boxes]
    heights = [b[1][4] for b in boxes]
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ids,
            "height_m": heights,
            "floors": pd.array([round(h / 3) for h in heights], dtype="Int64"),
            "use": [b[2] for b in boxes],
            "households": pd.array([10] * len(ids), dtype="Int64"),
        },
        geometry=geoms,
        crs=CRS,
    )
    return cim.Twin(crs=CRS, name="hz-test", buildings=buildings)


@pytest.fixture(scope="module")
def slab_only() -> cim.Twin:
    return _twin(("slab", SLAB, "residential"))


@pytest.fixture(scope="module")
def with_tower() -> cim.Twin:
    return _twin(("slab", SLAB, "residential"), ("tower", TOWER, "commercial"))


@pytest.fixture(scope="module")
def check(with_tower) -> SunlightCheck:
    return sunlight_check(with_tower, _rule(), year=YEAR)


# -- reference ---------------------------------------------------------------


def _sun(loc: SiteLocation, step_min: float) -> SunPath:
    return sun_vectors(
        cim.sunlight.SunlightParams(day="great_cold").date(YEAR),
        lat=loc.lat,
        lon=loc.lon,
        start_h=9,
        end_h=15,
        step_min=step_min,
        north_angle_deg=loc.north_angle_deg,
    )


def _hits_box(points: np.ndarray, sun: np.ndarray, box) -> np.ndarray:
    """(m, t) bool: the ray from each point toward each sun crosses the box."""
    x0, y0, x1, y1, h = box
    lo = np.array([x0, y0, 0.0])
    hi = np.array([x1, y1, h])
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / sun  # (t, 3)
        t0 = (lo[None, None, :] - points[:, None, :]) * inv[None, :, :]
        t1 = (hi[None, None, :] - points[:, None, :]) * inv[None, :, :]
    near = np.nanmax(np.minimum(t0, t1), axis=2)
    far = np.nanmin(np.maximum(t0, t1), axis=2)
    return (far >= np.maximum(near, 0.0)) & (far > 0)


def _first_box(points, sun, boxes) -> np.ndarray:
    """(m, t) int: index of the first box each ray enters, -1 for none."""
    entry = []
    for box in boxes:
        x0, y0, x1, y1, h = box
        lo, hi = np.array([x0, y0, 0.0]), np.array([x1, y1, h])
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / sun
            t0 = (lo[None, None, :] - points[:, None, :]) * inv[None, :, :]
            t1 = (hi[None, None, :] - points[:, None, :]) * inv[None, :, :]
        near = np.nanmax(np.minimum(t0, t1), axis=2)
        far = np.nanmin(np.maximum(t0, t1), axis=2)
        hit = (far >= np.maximum(near, 0.0)) & (far > 0)
        entry.append(np.where(hit, near, np.inf))
    entry = np.stack(entry)
    return np.where(np.isfinite(entry.min(axis=0)), entry.argmin(axis=0), -1)


def _counted(lit: np.ndarray, edges: np.ndarray, max_segments: int) -> np.ndarray:
    """Minutes of the ``max_segments`` longest runs of each row."""
    out = np.zeros(lit.shape[0])
    for i, row in enumerate(lit):
        padded = np.r_[0, row.astype(np.int8), 0]
        change = np.diff(padded)
        start, stop = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
        length = np.sort((edges[stop] - edges[start]) * 60.0)[::-1]
        out[i] = length[:max_segments].sum()
    return out


def _reference_min(points: np.ndarray, loc: SiteLocation, boxes) -> np.ndarray:
    """Counted minutes (two longest segments) at south-facing points."""
    sun = _sun(loc, FINE_STEP_MIN)
    normal = np.array([0.0, -1.0, 0.0])
    lit = ((sun.vectors @ normal) > 0) & (sun.vectors[:, 2] > 0)
    lit = np.broadcast_to(lit, (points.shape[0], len(sun))).copy()
    for box in boxes:
        lit &= ~_hits_box(points, sun.vectors, box)
    return _counted(lit, sun.edges_h, 2)


def _south(check_or_points) -> pd.DataFrame:
    pts = check_or_points
    return pts[(pts["building_id"] == "slab") & (np.abs(pts["facing_deg"] - 180) < 1)]


# -- location and points -------------------------------------------------------


def test_site_location_from_the_crs(with_tower):
    loc = site_location(with_tower)
    assert loc.lon == pytest.approx(120.1663, abs=1e-3)
    assert loc.lat == pytest.approx(30.2693, abs=1e-3)
    # East of the central meridian (120 E): grid north lies east of true
    # north, so true north is a little anticlockwise (negative) of grid north.
    assert -0.1 < loc.north_angle_deg < -0.07


def test_sample_points_ground_floor_sills(with_tower):
    pts = sample_points(with_tower, buildings=["slab"])
    assert len(pts) == 2 * 60 + 2 * 12
    assert set(pts["building_id"]) == {"slab"}
    assert pts["point_id"].is_unique
    z = shapely.get_coordinates(np.asarray(pts.geometry.array), include_z=True)[:, 2]
    assert_allclose(z, 0.9)
    south = _south(pts)
    assert len(south) == 60
    # Facing true south, corrected for the meridian convergence.
    assert_allclose(
        south["facing_deg"], 180 - site_location(with_tower).north_angle_deg
    )


def test_points_on_party_walls_are_dropped():
    twin = _twin(
        ("a", (X, Y, X + 10, Y + 10, 9.0), "residential"),
        ("b", (X + 10, Y, X + 20, Y + 10, 3.0), "commercial"),
    )
    pts = sample_points(twin, buildings=["a"])
    xy = shapely.get_coordinates(np.asarray(pts.geometry.array))
    assert len(pts) == 30  # the east wall, covered by b, has no window
    assert not (xy[:, 0] > X + 10).any()


# -- the check against the analytic reference ----------------------------------


def test_slab_alone_gets_the_whole_window(slab_only):
    check = sunlight_check(slab_only, _rule(), year=YEAR)
    south = _south(check.points)
    assert_allclose(south["counted_min"], 360.0, atol=1e-9)
    assert (south["segments"] == 1).all()
    assert check.buildings.loc[0, "passed"]
    assert check.rules.loc[0, "date"] == "2026-01-20"
    assert check.rules.loc[0, "step_min"] == STEP_MIN


def test_tower_takes_the_analytic_amount(slab_only, with_tower, check):
    loc = site_location(with_tower)
    south = _south(check.points)
    xyz = shapely.get_coordinates(np.asarray(south.geometry.array), include_z=True)
    ref = _reference_min(xyz, loc, [TOWER])
    # Half a step at each end of each of at most two counted segments, and
    # the fine reference's own step.
    atol = 2 * STEP_MIN + FINE_STEP_MIN
    assert_allclose(south["counted_min"], ref, atol=atol)
    before = sunlight_check(slab_only, _rule(), year=YEAR).points
    lost = _south(before)["counted_min"].to_numpy() - south["counted_min"].to_numpy()
    assert_allclose(lost, 360.0 - ref, atol=atol)
    assert lost.max() > 200  # the tower matters
    passed = south["passed"].to_numpy()
    clear = np.abs(ref - 60 * THRESHOLD_H) > atol
    assert_array_equal_bool(passed[clear], ref[clear] >= 60 * THRESHOLD_H)
    assert 10 < (~passed).sum() < 60


def assert_array_equal_bool(a, b):
    assert np.array_equal(np.asarray(a, dtype=bool), np.asarray(b, dtype=bool))


def test_building_summary_and_indicator(with_tower, check):
    b = check.buildings.set_index("building_id")
    assert list(b.index) == ["slab"]  # the tower is commercial
    slab = b.loc["slab"]
    south = _south(check.points)
    assert slab["n_main_points"] == 60
    assert slab["min_h"] == pytest.approx(south["counted_min"].min() / 60)
    assert slab["sunlight_hours"] == pytest.approx(slab["min_h"])
    assert slab["main_share_passed"] == pytest.approx(south["passed"].mean())
    assert not slab["passed"]
    hours = sunlight_indicator(with_tower, _rule(), year=YEAR)
    assert hours.name == "sunlight_hours"
    assert hours.index.name == "building_id"
    assert hours.to_dict() == pytest.approx({"slab": slab["min_h"]})
    assert not _rule().check(hours.to_numpy())[0]
    report = check.report()
    assert report.loc[0, ["feature_id", "indicator", "passed"]].tolist() == [
        "slab",
        "sunlight_hours",
        False,
    ]


def test_min_pass_share_matches_the_indicator(with_tower, check):
    share = float(check.buildings.loc[0, "main_share_passed"])
    for p, expected in ((share, True), (share + 0.01, False)):
        rule = _rule(params={**HZ_PARAMS, "min_pass_share": p})
        got = sunlight_check(with_tower, rule, year=YEAR).buildings.iloc[0]
        assert bool(got["passed"]) is expected
        assert bool(rule.check([got["sunlight_hours"]])[0]) is expected
        assert got["passed"] == (got["main_share_passed"] >= p)


def test_windows_instead_of_sample_points(with_tower, check):
    south = _south(sample_points(with_tower, buildings=["slab"])).iloc[::10]
    got = sunlight_check(with_tower, _rule(), year=YEAR, points=south)
    want = check.points.set_index("point_id").loc[south["point_id"]]
    assert_allclose(got.points["counted_min"], want["counted_min"])
    bad = south.drop(columns="facing_deg")
    with pytest.raises(SunlightError, match="facing_deg"):
        sunlight_check(with_tower, _rule(), year=YEAR, points=bad)


# -- impact of a proposal -------------------------------------------------------


def test_impact_lists_the_lost_windows_and_the_tower(slab_only, with_tower):
    loc = site_location(with_tower)
    impact = sunlight_impact(with_tower, ["tower"], _rule(), year=YEAR)
    assert impact.proposed == ("tower",)
    pts = impact.points
    south = _south(pts)
    xyz = shapely.get_coordinates(np.asarray(south.geometry.array), include_z=True)
    ref = _reference_min(xyz, loc, [TOWER])
    atol = 2 * STEP_MIN + FINE_STEP_MIN
    assert_allclose(south["before_min"], 360.0, atol=1e-9)
    assert_allclose(south["lost_min"], 360.0 - _sunlit_ref(xyz, loc), atol=atol)
    clear = np.abs(ref - 60 * THRESHOLD_H) > atol
    lost = (south["status"] == "lost").to_numpy()
    assert_array_equal_bool(lost[clear], (ref < 60 * THRESHOLD_H)[clear])
    assert set(impact.lost["point_id"]) <= set(south["point_id"])
    assert (impact.lost["blocked_by"] == "tower").all()
    assert (impact.segments["blocked_by"] == "tower").all()
    assert impact.blockers["building_id"].tolist() == ["tower"]
    assert impact.blockers.loc[0, "n_points_lost"] == len(impact.lost)
    assert impact.buildings.loc[0, "status"] == "lost"
    # The same with the proposal as a twin.
    as_twin = sunlight_impact(slab_only, with_tower, _rule(), year=YEAR)
    assert as_twin.proposed == ("tower",)
    assert as_twin.lost["point_id"].tolist() == impact.lost["point_id"].tolist()


def _sunlit_ref(points, loc):
    """All sunlit minutes (every segment) at south-facing points."""
    sun = _sun(loc, FINE_STEP_MIN)
    lit = ((sun.vectors @ np.array([0.0, -1.0, 0.0])) > 0) & (sun.vectors[:, 2] > 0)
    lit = lit[None, :] & ~_hits_box(points, sun.vectors, TOWER)
    return _counted(lit, sun.edges_h, 10**6)


def test_impact_blames_the_first_building_hit():
    twin = _twin(
        ("slab", SLAB, "residential"),
        ("west", TOWER_W, "residential"),
        ("east", TOWER_E, "residential"),
    )
    impact = sunlight_impact(twin, ["west", "east"], _rule(), year=YEAR)
    segs = impact.segments
    assert set(segs["blocked_by"]) == {"west", "east"}
    loc = site_location(twin)
    sun = _sun(loc, STEP_MIN)
    pts = impact.points.set_index("point_id")
    checked = 0
    for row in segs.itertuples():
        p = shapely.get_coordinates(
            pts.loc[[row.point_id]].geometry.array, include_z=True
        )
        inside = (sun.hours > row.start_h) & (sun.hours < row.end_h)
        first = _first_box(p, sun.vectors[inside], [TOWER_W, TOWER_E])[0]
        first = first[first >= 0]
        if first.size == 0:
            continue
        counts = np.bincount(first, minlength=2)
        if counts.max() > counts.min():  # not a tie
            assert row.blocked_by == ("west", "east")[int(counts.argmax())]
            checked += 1
    assert checked > 20
    # Towers far enough apart: each lost window is blamed on one of them.
    assert set(impact.lost["blocked_by"]) <= {"west", "east"}


def test_impact_errors(with_tower):
    with pytest.raises(SunlightError, match="'nope'"):
        sunlight_impact(with_tower, ["nope"], _rule(), year=YEAR)
    with pytest.raises(SunlightError, match="no building that is new or changed"):
        sunlight_impact(with_tower, with_tower, _rule(), year=YEAR)


def _elements(*building_ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "building_id": list(building_ids),
            "storey": ["1F"] * len(building_ids),
            "level": pd.array([1] * len(building_ids), dtype="Int64"),
            "element_id": [f"{b}-1F" for b in building_ids],
            "kind": ["floor"] * len(building_ids),
            "area_m2": [500.0] * len(building_ids),
        }
    )


def test_proposed_buildings_go_with_their_elements_surfaces_and_roof_greens(
    with_tower,
):
    # Fails if sunlight_impact removes the proposed buildings alone: the twin
    # refuses element or surface rows of buildings it does not have.
    x0, y0, x1, y1, h = TOWER
    roof = shapely.Polygon([(x0, y0, h), (x1, y0, h), (x1, y1, h), (x0, y1, h)])
    twin = (
        with_tower.with_layer("elements", _elements("slab", "tower"))
        .with_layer(
            "surfaces",
            gpd.GeoDataFrame(
                {"surface_id": ["r"], "building_id": ["tower"], "semantic": ["roof"]},
                geometry=[roof],
                crs=CRS,
            ),
        )
        .with_layer(
            "greens",
            gpd.GeoDataFrame(
                {"green_id": ["g"], "kind": ["roof"], "building_id": ["tower"]},
                geometry=[shapely.box(x0, y0, x1, y1)],
                crs=CRS,
            ),
        )
    )
    without = twin.without_buildings(["tower"])
    assert without.buildings["building_id"].tolist() == ["slab"]
    assert without.elements["building_id"].tolist() == ["slab"]
    assert len(without.surfaces) == 0
    assert len(without.greens) == 0
    assert len(twin.elements) == 2  # the input twin is unchanged
    assert len(twin.surfaces) == len(twin.greens) == 1


def test_impact_on_a_twin_with_elements_as_without_them():
    # The pilot describes every building by storeys (elements); the sunlight
    # does not depend on them. Fails if the proposal's elements are left in
    # the twin without it (LayerSchemaError) or if they change the numbers.
    pilot = cim.datasets.load("hangzhou_pilot")
    assert (pilot.elements["building_id"] == "A-T4").any()
    bare = pilot.with_layer("elements", None)
    impact = sunlight_impact(pilot, ["A-T4"], "hangzhou", year=YEAR)
    expected = sunlight_impact(bare, ["A-T4"], "hangzhou", year=YEAR)
    assert impact.proposed == ("A-T4",)
    assert impact.points["lost_min"].sum() > 1000  # A-T4 shades its neighbours
    assert (impact.points["status"] == "worse").sum() > 100
    for name in ("points", "segments", "buildings", "rules", "blockers"):
        pd.testing.assert_frame_equal(
            getattr(impact, name), getattr(expected, name), check_exact=True
        )


def test_cli_impact_on_the_pilot(tmp_path, capsys):
    pilot = cim.datasets.get_path("hangzhou_pilot")
    before = Path(pilot).read_bytes()
    out = tmp_path / "s.gpkg"
    args = ["sunlight", str(pilot), "--proposed", "A-T4", "--year", "2026"]
    assert main([*args, "--step-min", "5", "--out", str(out)]) == 0
    assert "impact      of A-T4 on existing windows" in capsys.readouterr().out
    assert out.exists()
    assert Path(pilot).read_bytes() == before


# -- rules and their parameters --------------------------------------------------


def test_params_defaults_follow_the_day():
    gc = SunlightParams.from_rule(_rule(params={}))
    ws = SunlightParams.from_rule(_rule(params={"day": "winter_solstice"}))
    assert (gc.day, gc.window_h, gc.max_segments) == ("great_cold", (8.0, 16.0), None)
    assert ws.window_h == (9.0, 15.0)
    assert gc.applies_to == ("residential",)
    assert gc.sill_height_m == 0.9
    assert gc.spacing_m == 1.0
    assert gc.min_pass_share == 1.0
    assert parse_day("Winter-Solstice") == "winter_solstice"


@pytest.mark.parametrize(
    ("params", "key", "match"),
    [
        ({"max_segment": 2}, "params.max_segment", "did you mean 'max_segments'"),
        ({"day": "summer"}, "params.day", "great_cold"),
        ({"window_h": [15, 9]}, "params.window_h", "start < end"),
        ({"window_h": "9-15"}, "params.window_h", r"\[start, end\]"),
        ({"window_h": [9, 25]}, "params.window_h", r"\[0, 24\]"),
        ({"max_segments": 0}, "params.max_segments", "integer >= 1"),
        ({"max_segments": 1.5}, "params.max_segments", "integer >= 1"),
        ({"min_segment_min": -1}, "params.min_segment_min", ">= 0"),
        ({"applies_to": "residential"}, "params.applies_to", "a list"),
        ({"applies_to": ["housing"]}, "params.applies_to", "building uses"),
        ({"applies_to": []}, "params.applies_to", "at least one"),
        ({"facilities": ["kindergarden"]}, "params.facilities", "'kindergarten'"),
        ({"sill_height_m": True}, "params.sill_height_m", "height"),
        ({"step_min": 0}, "params.step_min", r"\(0, 60\]"),
        ({"min_pass_share": 1.5}, "params.min_pass_share", r"\[0, 1\]"),
        ({"main_facade_deg": 0}, "params.main_facade_deg", r"\(0, 180\]"),
    ],
)
def test_params_errors_name_the_rule_and_key(params, key, match):
    with pytest.raises(RulebookError, match=match) as info:
        SunlightParams.from_rule(_rule(params=params))
    assert info.value.key == key
    assert "'hz-sunlight-housing'" in str(info.value)
    assert key in str(info.value)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"op": "<="}, "op"),
        ({"unit": "min"}, "unit"),
        ({"indicator": "far"}, "indicator"),
    ],
)
def test_rule_fields_are_checked(change, key):
    with pytest.raises(RulebookError, match="'hz-sunlight-housing'") as info:
        SunlightParams.from_rule(_rule(**change))
    assert info.value.key == key


RULEBOOK = """
id = "test-sunlight"
title = "sunlight test rules"
jurisdiction = "CN-ZJ-Hangzhou"
version = "1"

[[rules]]
id = "hz-sunlight-housing"
indicator = "sunlight_hours"
scope = "building"
op = ">="
threshold = 2.0
unit = "h"
clause = "杭规发〔2006〕423号"
verified = true

[rules.params]
day = "great_cold"
window_h = [9, 15]
max_segments = 2
min_segment_min = 0
applies_to = ["residential"]
sill_height_m = 0.9

[[rules]]
id = "hz-sunlight-kindergarten"
indicator = "sunlight_hours"
scope = "building"
op = ">="
threshold = {by = "city_size", values = {large = 3.0, small = 3.0}}
unit = "h"
clause = "杭规发〔2006〕423号"
verified = true

[rules.params]
day = "winter_solstice"
window_h = [9, 15]
max_segments = 3
applies_to = []
facilities = ["kindergarten"]

[[rules]]
id = "far"
indicator = "far"
scope = "parcel"
op = "<="
threshold = 2.5
unit = "-"
clause = "x"
verified = false
"""


@pytest.fixture
def rulebook(tmp_path) -> Path:
    path = tmp_path / "sun.toml"
    path.write_text(RULEBOOK, encoding="utf-8")
    return path


def test_sunlight_rules_from_a_rulebook(rulebook):
    book = load_rulebook(rulebook)
    rules = sunlight_rules(book)
    assert [r.id for r, _ in rules] == [
        "hz-sunlight-housing",
        "hz-sunlight-kindergarten",
    ]
    assert [r.id for r, _ in sunlight_rules(book, day="great-cold")] == [
        "hz-sunlight-housing"
    ]
    kg = rules[1][1]
    assert (kg.day, kg.max_segments, kg.facilities) == (
        "winter_solstice",
        3,
        ("kindergarten",),
    )
    # step_min overrides every rule's.
    assert {p.step_min for _, p in sunlight_rules(book, step_min=5)} == {5.0}


def test_check_skips_rules_without_buildings(with_tower, rulebook):
    # No kindergarten in the twin: only the housing rule is checked, and the
    # tabled threshold of the other needs no parameter.
    check = sunlight_check(with_tower, rulebook, year=YEAR, step_min=5)
    assert check.rules["rule_id"].tolist() == ["hz-sunlight-housing"]
    assert check.rules.loc[0, "step_min"] == 5.0


def test_kindergarten_by_facility(rulebook):
    twin = _twin(("kg", SLAB, "education"), ("tower", TOWER, "commercial"))
    kg = gpd.GeoDataFrame(
        {"facility_id": ["f1"], "category": ["kindergarten"]},
        geometry=[shapely.Point(X, Y + 6)],
        crs=CRS,
    )
    twin = twin.with_layer("facilities", kg)
    with pytest.raises(ValueError, match="city_size"):
        sunlight_check(twin, rulebook, year=YEAR, day="winter-solstice")
    check = sunlight_check(
        twin,
        rulebook,
        year=YEAR,
        day="winter-solstice",
        threshold_params={"city_size": "large"},
    )
    assert check.rules.loc[0, "date"] == "2026-12-22"
    assert check.buildings["building_id"].tolist() == ["kg"]
    assert check.buildings.loc[0, "threshold_h"] == 3.0


def test_check_errors(with_tower, rulebook):
    with pytest.raises(SunlightError, match="no sunlight rule"):
        sunlight_check(with_tower, "gbt50353-2013")
    with pytest.raises(SunlightError, match="invalid day"):
        sunlight_check(with_tower, rulebook, day="summer")
    offices = _twin(("o", SLAB, "office"))
    with pytest.raises(SunlightError, match="no residential"):
        sunlight_check(offices, rulebook, day="great-cold")
    assert sunlight_indicator(offices, _rule()).empty


# -- output ----------------------------------------------------------------------


def test_gpkg_layers_and_columns(with_tower, check, tmp_path):
    impact = sunlight_impact(with_tower, ["tower"], _rule(), year=YEAR)
    out = write_sunlight(tmp_path / "sun.gpkg", check, impact)
    layers = dict(pyogrio.list_layers(out))
    assert layers["points"] == "Point Z"
    assert {"buildings", "rules", "run", "lost", "lost_segments", "blockers"} <= set(
        layers
    )
    pts = pyogrio.read_dataframe(out, layer="points")
    for col in ("building_id", "sunlit_min", "segments", "longest_min", "passed"):
        assert col in pts.columns
    assert len(pts) == len(check.points)
    assert pts["passed"].dtype == bool
    b = pyogrio.read_dataframe(out, layer="buildings")
    assert {"n_points", "min_h", "median_h", "share_passed", "passed"} <= set(b.columns)
    lost = pyogrio.read_dataframe(out, layer="lost")
    assert (lost["blocked_by"] == "tower").all()
    assert not list(tmp_path.glob(".sun.gpkg.*"))  # no temporary file left


# -- command line ------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_gpkg(with_tower, tmp_path_factory) -> Path:
    return with_tower.save(tmp_path_factory.mktemp("site") / "site.gpkg")


def test_cli_sunlight(site_gpkg, rulebook, tmp_path, capsys):
    out = tmp_path / "sun.gpkg"
    args = [
        "sunlight",
        str(site_gpkg),
        "--rules",
        str(rulebook),
        "--day",
        "great-cold",
        "--year",
        "2026",
        "--step-min",
        "5",
        "--proposed",
        "tower",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "hz-sunlight-housing" in captured.out
    assert "blocked by tower" in captured.out
    assert "sunlight check" in captured.err  # progress
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"points", "buildings", "lost"} <= layers


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--rules", "nope"], "no bundled rulebook 'nope'"),
        (["--rules", "gbt50353-2013"], "no sunlight rule"),
        (["--day", "summer"], "invalid day 'summer'"),
        (["--proposed", "ghost"], "'ghost' not in the twin"),
        (["--param", "large"], "KEY=VALUE"),
    ],
)
def test_cli_bad_input_exits_2(site_gpkg, rulebook, tmp_path, capsys, extra, match):
    args = ["sunlight", str(site_gpkg), "--rules", str(rulebook), "--out"]
    args += [str(tmp_path / "sun.gpkg"), "--year", "2026", "--step-min", "5", *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("cim: error: ")
    assert match in err[-1]
    assert not (tmp_path / "sun.gpkg").exists()


def test_cli_no_residential_buildings(rulebook, tmp_path, capsys):
    site = _twin(("o", SLAB, "office")).save(tmp_path / "offices.gpkg")
    args = ["sunlight", str(site), "--rules", str(rulebook), "--out"]
    assert main([*args, str(tmp_path / "sun.gpkg"), "--day", "great-cold"]) == 2
    assert "no residential buildings" in capsys.readouterr().err


# -- pictures ----------------------------------------------------------------------


def test_pictures(with_tower, check, tmp_path):
    from cim.viz.sunlight import render_sunlight, save_sunlight_map

    impact = sunlight_impact(with_tower, ["tower"], _rule(), year=YEAR)
    png = render_sunlight(with_tower, check, path=tmp_path / "facades.png")
    assert png.stat().st_size > 10_000
    png = save_sunlight_map(with_tower, impact, tmp_path / "lost.png")
    assert png.stat().st_size > 10_000
    with pytest.raises(ValueError, match="invalid rule_id"):
        save_sunlight_map(with_tower, check, tmp_path / "x.png", rule_id="nope")


# -- the compliance check (cim.check) --------------------------------------------


def test_registered_for_the_compliance_check(with_tower, rulebook):
    from cim.check import check as compliance
    from cim.indicators import get_indicator

    ind = get_indicator("sunlight_hours")
    assert not ind.pending
    assert ind.provider == "cim.sunlight"
    report = compliance(
        with_tower, rulebook, params={"city_size": "large"}, planning_limits=False
    )
    rows = report.to_frame()
    rows = rows[rows["rule_id"] == "hz-sunlight-housing"].set_index("feature_id")
    mine = sunlight_check(with_tower, rulebook, day="great-cold").buildings
    assert rows.loc["slab", "status"] == "fail"
    # Same hours as the sunlight check (default year: this year).
    assert rows.loc["slab", "value"] == pytest.approx(
        mine.set_index("building_id").loc["slab", "sunlight_hours"]
    )
    # The basis names the day, the window and the sill point that decides:
    # the worst main-facade point of the slab, with the row's hours.
    result = sunlight_check(with_tower, rulebook, day="great-cold")
    pts = result.points
    pts = pts[(pts["rule_id"] == "hz-sunlight-housing") & pts["main_facade"]]
    pts = pts[pts["building_id"] == "slab"]
    worst = pts.loc[pts["counted_min"].idxmin()]
    basis = rows.loc["slab", "basis"]
    assert basis.startswith("Great Cold day ")
    assert "9:00-15:00 true solar time" in basis
    assert f"{len(pts)} main-facade sill points at 0.9 m" in basis
    assert f"worst {worst['point_id']} facing {worst['facing_deg']:.0f} deg" in basis
    assert basis.endswith(f"{rows.loc['slab', 'value']:.2f} h")


def test_housing_of_mixed_use_counts_as_residential():
    twin = _twin(
        ("m", SLAB, "mixed"), ("o", (X, Y + 40, X + 20, Y + 50, 9.0), "office")
    )
    hours = sunlight_indicator(twin, _rule(), year=YEAR)
    assert hours.index.tolist() == ["m"]  # mixed use with households: housing
