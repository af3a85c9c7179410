"""The bundled pilot design scheme exercises every rule of the Zhejiang rulebook."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

import cim
from cim._assets import asset_path
from cim.check import check
from cim.indicators import get_indicator
from cim.rules import load_rulebook

PATH = asset_path("pilot", "hangzhou_pilot.gpkg")
TOOL = Path(__file__).resolve().parents[1] / "tools" / "make_pilot.py"


@pytest.fixture(scope="module")
def pilot() -> cim.Twin:
    return cim.read(PATH)


@pytest.fixture(scope="module")
def report(pilot):
    return check(pilot, "zhejiang-future-community")


def test_pilot_is_in_hangzhou_and_illustrative(pilot):
    assert pilot.crs.to_epsg() == 4549
    x0, y0, x1, y1 = pilot.site.total_bounds
    lon, lat = Transformer.from_crs(4549, 4326, always_xy=True).transform(
        (x0 + x1) / 2, (y0 + y1) / 2
    )
    assert abs(lon - 120.17) < 0.01 and abs(lat - 30.28) < 0.01
    meta = pilot.metadata
    assert meta["illustrative"] is True
    assert "authored for demonstration" in meta["sources"][0]["attribution"]
    assert meta["planning"]["climate_zone"] == "III"
    readme = (PATH.parent / "README.md").read_text(encoding="utf-8")
    assert "illustrative" in readme and "authored for demonstration" in readme


def test_pilot_has_the_parts_the_rules_need(pilot):
    el = pilot.elements
    bal = el[el["kind"] == "balcony"]
    assert set(bal["inside_structure"]) == {True, False}
    bay = el[el["kind"] == "bay_window"]
    assert (bay["sill_height_m"] < 0.45).any() and (bay["sill_height_m"] >= 0.45).any()
    assert (el["kind"] == "stilt_floor").any()
    cats = set(pilot.facilities["category"])
    assert {"kindergarten", "community_centre"} <= cats
    g = pilot.greens
    assert {"ground", "roof", "vertical", "podium", "park"} <= set(g["kind"])
    assert g.loc[g["kind"].isin(["roof", "podium"]), "soil_depth_m"].notna().all()
    assert (pilot.buildings["service_space_m2"] > 0).any()
    assert pilot.parcels["parking_spaces"].notna().sum() >= 3


def test_every_zhejiang_rule_is_exercised(report):
    book = load_rulebook("zhejiang-future-community")
    rows = report.rows
    for rule in book.rules:
        mine = rows[rows["rule_id"] == rule.id]
        assert len(mine), rule.id
        if get_indicator(rule.indicator).pending:
            # No engine yet (walking distance; sunlight until it lands).
            assert set(mine["status"]) <= {"not_evaluated", "not_applicable"}, rule.id
            continue
        if rule.indicator == "sunlight_hours":
            # Table cells for other climate zones, city sizes or development
            # types do not apply in Hangzhou; the rule for Hangzhou must run.
            continue
        assert mine["status"].isin(["pass", "fail"]).any(), rule.id
    sun = rows[rows["rule_id"] == "gb50180-4.0.9-great-cold-large"]
    evaluated = sun["status"].isin(["pass", "fail"]).any()
    assert evaluated != get_indicator("sunlight_hours").pending
    # Every area rule of the Zhejiang overlay decided some element.
    used = set(report.takeoff.breakdown["rule_id"])
    own = {r.id for r in book.area_rules if r.rulebook == book.id}
    assert own - {"zj-fc-disaster-passage-far", "zj-fc-public-open-space-far"} <= used


def test_a_parcel_fails_and_one_building_fixes_it(pilot, report):
    summary = report.summary("parcel")
    assert (summary["status"] == "fail").any()
    fails = report.failures()
    # Parcel B-01 fails its FAR range; the illustrative site plan also leaves
    # most homes more than 300 m (5-minute circle) from some required facility.
    assert set(fails["indicator"]) == {"far", "life_circle_walk_m"}
    assert set(fails.loc[fails["indicator"] == "far", "feature_id"]) == {"B-01"}
    # Lower one slab from six storeys to five: B-01's FAR drops from 1.62 to
    # 1.59, inside 1.3-1.6.
    b = pilot.buildings.copy()
    i = b.index[b["building_id"] == "B-S9"][0]
    b.loc[i, "floors"] = 5
    b.loc[i, "height_m"] = 5 * 3.0 + 1.2
    fixed = check(
        pilot.with_layer("buildings", b),
        "zhejiang-future-community",
        skip=["sunlight_hours"],
    )
    far = fixed.rows.set_index(["rule_id", "feature_id"]).loc[
        ("gb50180-4.0.2-far", "B-01")
    ]
    assert far["status"] == "pass"
    assert np.isclose(far["value"], (8 * 6 + 5) * 720 / 24_000)
    assert set(fixed.failures()["indicator"]) == {"life_circle_walk_m"}


def test_pilot_file_matches_its_generator(pilot):
    spec = importlib.util.spec_from_file_location("make_pilot", TOOL)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    made = mod.make_twin()
    for name, layer in made.layers.items():
        pd.testing.assert_frame_equal(
            layer.drop(columns="geometry").reset_index(drop=True),
            pilot[name].drop(columns="geometry").reset_index(drop=True),
            check_dtype=False,
            obj=name,
        )
        assert layer.geometry.geom_equals_exact(pilot[name].geometry, 1e-6).all()
    pd.testing.assert_frame_equal(made.elements, pilot.elements, check_dtype=False)


def test_walk_rows_name_the_category_that_sets_them(pilot, report):
    from cim.network.circles import life_circle_coverage, required_categories

    walk = report.rows[report.rows["indicator"] == "life_circle_walk_m"]
    walk = walk.set_index("feature_id")
    listed = (
        "required categories of the 5-min life circle recalled from "
        "GB 50180-2018 Appendix B, not verified: " + ", ".join(required_categories(5))
    )
    # The recalled list is the one unverified input of every row: none
    # claims verified inputs. What set the value is its basis, not an input.
    assert (walk["unverified_inputs"] == listed).all()
    assert not walk["inputs_verified"].any()
    # A-T1 is farthest from the only toilet, F9: its row says so, and its
    # value is the toilet row of the per-category coverage.
    row = walk.loc["A-T1"]
    assert row["basis"] == "set by toilet (nearest facility F9)"
    per = life_circle_coverage(pilot, levels=(5,)).compliance
    per = per.set_index(["feature_id", "category"])
    assert per.loc[("A-T1", "toilet"), "facility_id"] == "F9"
    assert np.isclose(row["value"], per.loc[("A-T1", "toilet"), "value"])
    assert np.isclose(row["value"], per.loc["A-T1", "value"].max())
    # Every home's basis names the category and facility of its farthest
    # required category, as the per-category coverage has them.
    assert np.isfinite(walk["value"]).all()
    got = walk["basis"].str.extract(r"^set by (\w+) \(nearest facility (\w+)\)$")
    assert got.notna().all().all()
    for fid, (cat, fac) in got.iterrows():
        assert per.loc[(fid, cat), "facility_id"] == fac, fid
        assert np.isclose(walk.loc[fid, "value"], per.loc[(fid, cat), "value"]), fid
        assert np.isclose(walk.loc[fid, "value"], per.loc[fid, "value"].max()), fid


def test_every_overlay_pair_has_a_share(report):
    # The context counts every (building, zone) pair of an overlay as a
    # building in the zone; no pair has a zero share.
    ctx = report.context
    for layer in ("buildings", "greens", "parcels"):
        for scope in ("parcel", "site"):
            s = ctx.shares(layer, scope)
            assert len(s.share) and (s.share > 0).all(), (layer, scope)
