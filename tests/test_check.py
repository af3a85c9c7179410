"""The compliance check and its report: rows, rulebooks, errors, JSON, HTML, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import Point, Polygon, box

import cim
from cim.check import CheckError, check
from cim.cli import main
from cim.indicators import Evaluation, register_indicator
from cim.indicators import registry as reg
from cim.report import ComplianceReport
from cim.rules import RulebookError, load_rulebook, override

CRS = "EPSG:4549"
X0, Y0 = 516_300.0, 3_351_000.0
TOL = {"rtol": 1e-9, "atol": 1e-9}


def bx(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def twin() -> cim.Twin:
    """Two residential parcels of 100 x 100 m and a park parcel.

    p1: four 6-storey slabs of 20 x 50 m (1000 m2 each, 18.9 m tall, 100
    households each): FAR 2.4, density 40%, 400 households; ground green
    2,500 m2, a roof of 1,000 m2 on 0.6 m of soil, a podium of 500 m2 on
    1.2 m, a 300 m2 wall; 480 car spaces.
    p2: one 10-storey tower 20 x 30 m (600 m2, 30.9 m, 50 households): FAR
    0.6, density 6%; ground green 3,600 m2 (a 60 x 60 m lawn); a
    neighbourhood-centre room of 36 m2 in the tower; 60 car spaces.
    """
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ["s1", "s2", "s3", "s4", "t1"],
            "height_m": [18.9, 18.9, 18.9, 18.9, 30.9],
            "floors": pd.array([6, 6, 6, 6, 10], dtype="Int64"),
            "use": ["residential"] * 5,
            "households": pd.array([100, 100, 100, 100, 50], dtype="Int64"),
            "service_space_m2": [0.0, 0.0, 0.0, 0.0, 36.0],
            "name": ["1号楼", "2号楼", "3号楼", "4号楼", "<script>alert(1)</script>"],
        },
        geometry=[
            bx(5, 5, 25, 55),
            bx(30, 5, 50, 55),
            bx(55, 5, 75, 55),
            bx(78, 5, 98, 55),
            bx(140, 60, 160, 90),
        ],
        crs=CRS,
    )
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["p1", "p2", "p3"],
            "land_use": ["0701", "0701", "1401"],
            "far_max": [2.0, np.nan, np.nan],
            "parking_spaces": pd.array([480, 60, pd.NA], dtype="Int64"),
            "surface_parking_spaces": pd.array([20, 2, pd.NA], dtype="Int64"),
            "name": ["南地块 & <b>", "北地块", "公园"],
        },
        geometry=[bx(0, 0, 100, 100), bx(100, 0, 200, 100), bx(200, 0, 300, 100)],
        crs=CRS,
    )
    greens = gpd.GeoDataFrame(
        {
            "green_id": ["g1", "g2", "g3", "g4", "g5", "g6"],
            "kind": ["ground", "roof", "podium", "vertical", "ground", "park"],
            "soil_depth_m": [np.nan, 0.6, 1.2, np.nan, np.nan, np.nan],
            "area_m2": [np.nan, np.nan, np.nan, 300.0, np.nan, np.nan],
        },
        geometry=[
            bx(0, 60, 100, 85),  # 2,500 m2, 25 m wide
            bx(5, 5, 25, 55),  # on s1's roof: 1,000 m2
            bx(0, 85, 50, 95),  # 500 m2
            bx(5, 4.5, 25, 5),  # s1's south wall
            bx(110, 5, 170, 55).union(bx(110, 55, 130, 65)),  # 3,200 m2
            bx(210, 10, 290, 90),  # park 6,400 m2
        ],
        crs=CRS,
    )
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["f1"], "category": ["community_centre"]},
        geometry=[Point(X0 + 150, Y0 + 75)],
        crs=CRS,
    )
    return cim.Twin(
        crs=CRS,
        name="test-site",
        buildings=buildings,
        parcels=parcels,
        greens=greens,
        facilities=facilities,
        metadata={
            "planning": {
                "climate_zone": "III",
                "life_circle": "5",
                "city_size": "large",
            }
        },
    )


@pytest.fixture
def registry():
    """Restore the indicator registry after a test that changes it."""
    snap = reg._snapshot()
    yield
    reg._restore(snap)


def rows_of(report: ComplianceReport) -> pd.DataFrame:
    return report.rows.set_index(["rule_id", "feature_id"])


# --- values and statuses -------------------------------------------------------


def test_rows_by_hand(twin):
    report = check(twin, "zhejiang-future-community")
    r = rows_of(report)
    # p1: avg storeys 6 -> multi_i (zone III): FAR 1.3-1.6, density <= 32%.
    far = r.loc[("gb50180-4.0.2-far", "p1")]
    assert_allclose(far["value"], 2.4, **TOL)
    assert (far["limit_min"], far["limit_max"]) == (1.3, 1.6)
    assert far["status"] == "fail" and not far["passed"]
    assert_allclose(far["margin"], 1.6 - 2.4, **TOL)
    assert far["threshold_keys"] == "climate_zone=III, storey_class=multi_i"
    assert not far["verified"]
    density = r.loc[("gb50180-4.0.2-density", "p1")]
    assert_allclose(density["value"], 0.4, **TOL)
    assert density["status"] == "fail"
    # p2: one 10-storey tower -> high_i; FAR 0.6 under 2.2.
    assert r.loc[("gb50180-4.0.2-far", "p2"), "threshold_keys"].endswith("high_i")
    # Park parcel: the housing-block rules do not apply.
    p3 = r.loc[("gb50180-4.0.2-far", "p3")]
    assert p3["status"] == "not_applicable" and pd.isna(p3["passed"])
    assert "storey_class=none" in p3["reason"]
    # Planning condition of p1.
    plan = r.loc[("planning-far_max", "p1")]
    assert (plan["status"], plan["rulebook"], plan["limit_max"]) == (
        "fail",
        "parcels",
        2.0,
    )
    assert ("planning-far_max", "p2") not in r.index  # no far_max given


def test_green_rate_3d_factor_and_ground_floor_by_hand(twin):
    r = rows_of(check(twin, "zhejiang-future-community"))
    # (2500 + 1000 x 0.5 + 500 x 0.8 + 300 x 0.2) / 10,000 = 0.346, over the
    # 30% of a multi_i block.
    green = r.loc[("gb50180-4.0.2-green", "p1")]
    assert_allclose(green["value"], 0.346, **TOL)
    assert green["status"] == "pass" and green["limit_min"] == 0.30
    # Ground share: 0.25 / 0.30 = 0.833 >= 0.7.
    share = r.loc[("zj-fc-green-ground-share", "p1")]
    assert_allclose(share["value"], 0.25 / 0.30, **TOL)
    assert share["status"] == "pass"
    # Nationally, only ground green and podium greening on >= 1.5 m count.
    g = rows_of(check(twin, "gb50180-2018")).loc[("gb50180-4.0.2-green", "p1")]
    assert_allclose(g["value"], 0.25, **TOL)
    assert g["status"] == "fail"


def test_ground_share_fails_below_70_percent_of_the_target(twin):
    t = twin.with_layer(
        "greens",
        twin.greens.assign(
            geometry=[
                bx(0, 60, 100, 80),  # ground: 2,000 m2 -> 0.2 / 0.3 = 67%
                *twin.greens.geometry.iloc[1:],
            ]
        ),
    )
    r = rows_of(check(t, "zhejiang-future-community"))
    assert_allclose(r.loc[("gb50180-4.0.2-green", "p1"), "value"], 0.296, **TOL)
    share = r.loc[("zj-fc-green-ground-share", "p1")]
    assert_allclose(share["value"], 0.2 / 0.3, **TOL)
    assert share["status"] == "fail"
    # The planning condition, where given, is the target.
    p = t.parcels.assign(green_rate_min=[0.25, np.nan, np.nan])
    r2 = rows_of(check(t.with_layer("parcels", p), "zhejiang-future-community"))
    assert_allclose(
        r2.loc[("zj-fc-green-ground-share", "p1"), "value"], 0.2 / 0.25, **TOL
    )


@pytest.mark.parametrize(
    ("space", "status"), [(36.0, "fail"), (360.0, "pass"), (359.99, "fail")]
)
def test_service_space_80_m2_per_100_households(twin, space, status):
    b = twin.buildings.assign(service_space_m2=[0.0, 0.0, 0.0, 0.0, space])
    r = rows_of(check(twin.with_layer("buildings", b), "zhejiang-future-community"))
    row = r.loc[("zj-fc-service-space", "site")]
    # 450 households on the site (the union of the parcels: no site layer).
    assert_allclose(row["value"], space / 450 * 100, **TOL)
    assert row["status"] == status
    assert row["limit_min"] == 80.0


def test_parking_by_dwelling_size(twin):
    r = rows_of(check(twin, "zhejiang-future-community"))
    # p1: 6,000 m2 / 400 dwellings = 15 m2 each: class le60, 0.7 cars.
    p1 = r.loc[("zj-parking-5.0.2", "p1")]
    assert p1["threshold_keys"] == "land_class=residential, dwelling_size_class=le60"
    assert_allclose(p1["value"], 480 / 400, **TOL)
    assert p1["status"] == "pass"
    # p2: 6,000 m2 / 50 = 120 m2: class 90-140, 1.3 cars: 60 / 50 = 1.2 fails.
    p2 = r.loc[("zj-parking-5.0.2", "p2")]
    assert p2["limit_min"] == 1.3 and p2["status"] == "fail"
    # surface parking: <= 10% of dwellings.
    assert_allclose(r.loc[("gb50180-5.0.6-surface-parking", "p1"), "value"], 0.05)


def test_site_rows_and_not_evaluated_rules(twin):
    report = check(twin, "zhejiang-future-community")
    r = rows_of(report)
    # 450 households x 2.8 (default, unverified) = 1,260 residents: too few
    # for a 5-minute life circle (5,000-12,000).
    res = r.loc[("gb50180-3.0.4-residents", "site")]
    assert_allclose(res["value"], 1260.0, **TOL)
    assert res["status"] == "fail"
    assert not res["inputs_verified"]
    assert "persons per household 2.8" in res["unverified_inputs"]
    # Public green: 6,400 m2 park / 1,260 residents.
    assert_allclose(
        r.loc[("gb50180-4.0.4-public-green", "site"), "value"], 6400 / 1260, **TOL
    )
    # An indicator not computed (no engine yet, or skipped) leaves its rows
    # not evaluated, never passed.
    quick = check(twin, "zhejiang-future-community", skip=["sunlight_hours"])
    sun = quick.rows[quick.rows["indicator"] == "sunlight_hours"]
    assert set(sun["status"]) == {"not_evaluated", "not_applicable"}
    ne = sun[sun["status"] == "not_evaluated"]
    assert len(ne) == 5  # every housing building, Great Cold day rule
    assert ne["passed"].isna().all()
    assert ne["reason"].str.contains("'sunlight_hours' skipped").all()
    walk = report.rows[report.rows["indicator"] == "life_circle_walk_m"]
    assert set(walk["status"]) <= {"pass", "fail", "not_evaluated"}
    ne = walk[walk["status"] == "not_evaluated"]
    assert ne["passed"].isna().all()
    assert (ne["reason"] != "").all()


def test_missing_parameter_leaves_rules_not_evaluated(twin):
    # A twin without metadata["planning"]: no climate zone, no life circle.
    t2 = cim.Twin(
        crs=CRS,
        buildings=twin.buildings,
        parcels=twin.parcels,
        greens=twin.greens,
    )
    r2 = rows_of(check(t2, "zhejiang-future-community"))
    row = r2.loc[("gb50180-4.0.2-far", "p1")]
    assert row["status"] == "not_evaluated"
    assert "needs planning parameter 'climate_zone'" in row["reason"]
    # ... and the ground share, whose target is that table's green rate.
    share = r2.loc[("zj-fc-green-ground-share", "p1")]
    assert share["status"] == "not_evaluated"
    # Given as a parameter, it is evaluated.
    r3 = rows_of(check(t2, "zhejiang-future-community", params={"climate_zone": "III"}))
    assert r3.loc[("gb50180-4.0.2-far", "p1"), "status"] == "fail"


def test_check_does_not_modify_the_twin(twin):
    before = {k: v.copy() for k, v in twin.layers.items()}
    check(twin, "hangzhou")
    for k, v in twin.layers.items():
        pd.testing.assert_frame_equal(v, before[k])


# --- rulebooks: inheritance, override, errors -------------------------------------


def _book(tmp_path: Path, body: str, name: str = "mine.toml") -> Path:
    head = 'id = "mine"\ntitle = "t"\njurisdiction = "CN"\nversion = "1"\n'
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


def test_user_rulebook_extends_and_overrides(twin, tmp_path):
    path = _book(
        tmp_path,
        'extends = "zhejiang-future-community"\n'
        '[overrides."zj-fc-service-space"]\nthreshold = 5.0\n'
        "[[rules]]\n"
        'id = "mine-far"\nindicator = "far"\nscope = "parcel"\nop = "<="\n'
        'threshold = 2.5\nunit = "-"\nclause = "my district §1"\nverified = true\n',
    )
    report = check(twin, path)
    assert report.rulebook.chain == (
        "mine",
        "zhejiang-future-community",
        "gb50180-2018",
        "gbt50353-2013",
    )
    r = rows_of(report)
    service = r.loc[("zj-fc-service-space", "site")]
    assert service["limit_min"] == 5.0 and service["status"] == "pass"
    assert not service["verified"]
    mine = r.loc[("mine-far", "p1")]
    assert (mine["status"], mine["verified"], mine["rulebook"]) == (
        "pass",
        True,
        "mine",
    )
    # The inherited rules are all there.
    assert "gb50180-4.0.2-far" in set(report.rows["rule_id"])
    # override() in code does the same.
    zj = override(
        load_rulebook("zhejiang-future-community"), "zj-fc-service-space", threshold=5.0
    )
    assert (
        rows_of(check(twin, zj)).loc[("zj-fc-service-space", "site"), "status"]
        == "pass"
    )


def test_unknown_indicator_names_file_key_and_expected(twin, tmp_path):
    path = _book(
        tmp_path,
        "[[rules]]\n"
        'id = "x"\nindicator = "farr"\nscope = "parcel"\nop = "<="\n'
        'threshold = 2.5\nunit = "-"\nclause = "c"\nverified = true\n',
    )
    with pytest.raises(RulebookError) as info:
        check(twin, path)
    msg = str(info.value)
    assert str(path) in msg and "indicator" in msg and "did you mean 'far'" in msg
    assert info.value.key == "indicator"


def test_unknown_operator_is_refused_when_loading(twin, tmp_path):
    path = _book(
        tmp_path,
        "[[rules]]\n"
        'id = "x"\nindicator = "far"\nscope = "parcel"\nop = "=<"\n'
        'threshold = 2.5\nunit = "-"\nclause = "c"\nverified = true\n',
    )
    with pytest.raises(
        RulebookError, match=r"rules\[0\]\.op \(rule 'x'\): expected one of"
    ) as info:
        check(twin, path)
    assert str(path) in str(info.value)


def test_malformed_toml_names_the_file(twin, tmp_path):
    path = _book(tmp_path, "[[rules]\nid = 'x'\n")
    with pytest.raises(RulebookError, match="not valid TOML") as info:
        check(twin, path)
    assert info.value.file == str(path)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('scope = "building"', "not computed for scope 'building'"),
        ('scope = "parcel"\nparams = { colour = "red" }', r"params\.colour: unknown"),
        (
            'scope = "parcel"\nparams = { factors = { lawn = 1.0 } }',
            "invalid green kind 'lawn'",
        ),
    ],
)
def test_bad_scope_or_params(twin, tmp_path, body, match):
    path = _book(
        tmp_path,
        "[[rules]]\n"
        f'id = "x"\nindicator = "green_rate"\n{body}\nop = ">="\n'
        'threshold = 0.3\nunit = "-"\nclause = "c"\nverified = true\n',
    )
    with pytest.raises(RulebookError, match=match) as info:
        check(twin, path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"climate": "III"},
            "invalid parameter 'climate'; expected one of climate_zone",
        ),
        (
            {"climate_zone": "3"},
            "invalid climate_zone '3' .params.; expected one of I, II",
        ),
        ({"persons_per_household": -1}, "invalid persons_per_household"),
        ({"storey_class": "low"}, "derived from the twin"),
    ],
)
def test_bad_parameters(twin, params, match):
    with pytest.raises(CheckError, match=match):
        check(twin, "zhejiang-future-community", params=params)


def test_table_parameter_of_a_user_book_is_checked(twin, tmp_path):
    path = _book(
        tmp_path,
        'extends = "gb50180-2018"\n[[rules]]\n'
        'id = "d"\nindicator = "far"\nscope = "parcel"\nop = "<="\nunit = "-"\n'
        'clause = "c"\nverified = true\n'
        'threshold = { by = "district", values = { west = 2.0, east = 2.5 } }\n',
    )
    r = rows_of(check(twin, path, params={"district": "east"}))
    assert r.loc[("d", "p1"), "limit_max"] == 2.5
    with pytest.raises(
        RulebookError, match="invalid district 'north'; expected one of east, west"
    ):
        check(twin, path, params={"district": "north"})


# --- the registry: engines plug in without editing the check ---------------------


def test_pending_indicator_plugs_in(twin, registry):
    @register_indicator(
        "sunlight_hours",
        unit="h",
        scopes=("dwelling", "building"),
        params=None,
        replace_existing=True,
    )
    def fake(ctx, rule):
        ids = ctx.ids(rule.scope)
        hours = np.where(ids == "s1", 1.5, 3.0)
        return Evaluation(pd.Series(hours, index=ids))

    r = rows_of(check(twin, "hangzhou"))
    housing = r.xs("hz-sunlight-housing")
    assert housing.loc["s1", "status"] == "fail"
    assert housing.loc["s2", "status"] == "pass"
    assert housing.loc["s1", "limit_min"] == 2.0
    with pytest.raises(ValueError, match="already registered"):
        register_indicator("sunlight_hours", unit="h", scopes=("dwelling",))(fake)


def test_indicator_params_reach_the_function(twin, registry, tmp_path):
    seen = []

    @register_indicator("probe", unit="-", scopes=("parcel",), params=("k",))
    def probe(ctx, rule):
        seen.append(dict(rule.params))
        return pd.Series(1.0, index=ctx.ids(rule.scope))

    path = _book(
        tmp_path,
        "[[rules]]\n"
        'id = "p"\nindicator = "probe"\nscope = "parcel"\nop = "=="\n'
        'threshold = 1.0\nunit = "-"\nclause = "c"\nverified = false\n'
        "params = { k = 3 }\n",
    )
    r = rows_of(check(twin, path))
    assert seen == [{"k": 3}]
    assert set(r.xs("p")["status"]) == {"pass"}


# --- JSON, HTML, CLI --------------------------------------------------------------


def test_json_rows(twin):
    report = check(twin, "zhejiang-future-community")
    rows = json.loads(report.to_json())
    assert isinstance(rows, list) and len(rows) == len(report.rows)
    keys = {
        "feature_id",
        "scope",
        "rule_id",
        "indicator",
        "value",
        "limit",
        "unit",
        "passed",
        "clause",
        "verified",
    }
    assert all(keys <= set(r) for r in rows)
    by = {(r["rule_id"], r["feature_id"]): r for r in rows}
    far = by[("gb50180-4.0.2-far", "p1")]
    assert far["indicator"] == "far" and far["limit"] == [1.3, 1.6]
    assert far["passed"] is False
    assert sum(b["counted_m2"] for b in far["breakdown"]) == pytest.approx(24_000)
    assert {b["building_id"] for b in far["breakdown"]} == {"s1", "s2", "s3", "s4"}
    assert by[("gb50180-4.0.2-density", "p1")]["indicator"] == "building_density"
    assert by[("gb50180-4.0.2-green", "p1")]["indicator"] == "green_rate"
    na = by[("gb50180-4.0.2-far", "p3")]
    assert na["passed"] is None and na["value"] is None and na["limit"] is None


def test_html_is_self_contained_and_escaped(twin, tmp_path):
    report = check(twin, "zhejiang-future-community")
    html = report.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html
    assert "南地块 &amp; &lt;b&gt;" in html
    assert "FAR breakdown" in html and "Unverified values" in html
    assert "Not evaluated" in html
    assert "gb50180-4.0.2-far" in html


def test_cli_check(twin, tmp_path, capsys):
    path = tmp_path / "site.gpkg"
    twin.save(path)
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code = main(
        [
            "-q",
            "check",
            str(path),
            "--rules",
            "zhejiang-future-community",
            "--json",
            str(out_json),
            "--html",
            str(out_html),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "fail        p1: gb50180-4.0.2-far" in text
    assert json.loads(out_json.read_text(encoding="utf-8"))[0]["rule_id"]
    assert out_html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["-q", "check", str(path), "--strict"]) == 1
    assert main(["-q", "check", str(path), "--climate-zone", "IX"]) == 2
    assert "invalid climate_zone 'IX'" in capsys.readouterr().err
    assert main(["-q", "check", str(path), "--param", "life_circle=15"]) == 0
    assert main(["-q", "check", str(path), "--rules", "nope"]) == 2
