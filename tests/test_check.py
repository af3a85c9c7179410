"""The compliance check and its report: rows, rulebooks, errors, JSON, HTML, CLI."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import Point, Polygon, box

import cim
from cim.check import CheckError, check
from cim.cli import main
from cim.indicators import Evaluation, available_indicators, register_indicator
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


def test_missing_parameter_reason_serves_python_and_command_line(twin):
    t2 = cim.Twin(crs=CRS, buildings=twin.buildings, parcels=twin.parcels)
    r2 = rows_of(check(t2, "zhejiang-future-community"))
    reason = r2.loc[("gb50180-4.0.2-far", "p1"), "reason"]
    assert "params={'climate_zone': ...}" in reason
    assert "twin.metadata['planning']" in reason
    assert "command line: --climate-zone III or --param climate_zone=III" in reason
    assert "one of I, II, III, IV, V, VI, VII" in reason


@pytest.mark.parametrize(
    ("name", "cli"),
    [
        ("life_circle", "--param life_circle=5"),
        ("district", "--param district=VALUE"),  # a rulebook's own table key
    ],
)
def test_missing_parameter_hint_names_the_param_option(name, cli):
    from cim.check import _missing_parameter_hint

    hint = _missing_parameter_hint(name)
    assert f"params={{{name!r}: ...}}" in hint
    assert f"(command line: {cli})" in hint
    assert "--climate-zone" not in hint


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


@pytest.mark.parametrize("method", ["to_json", "to_html"])
def test_report_write_failure_keeps_the_old_file(twin, tmp_path, monkeypatch, method):
    report = check(twin, "zhejiang-future-community")
    out = tmp_path / "report.out"
    out.write_bytes(b"old")
    started = []

    def half_then_disk_full(self, data, *args, **kwargs):
        started.append(self)
        with open(self, "w", encoding="utf-8") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(Path, "write_text", half_then_disk_full)
        with pytest.raises(OSError, match="No space left"):
            getattr(report, method)(out)
    assert len(started) == 1 and started[0] != out  # a temporary file was written
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.out"]
    text = getattr(report, method)(out)
    assert out.read_text(encoding="utf-8").rstrip("\n") == text
    assert [p.name for p in tmp_path.iterdir()] == ["report.out"]


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
    # A failing value with what produced it.
    assert (
        "p1: gb50180-4.0.2-far far 2.4 [counted 24,000.0 m2 / parcel 10,000.0 m2] "
        "(limit 1.3-1.6; GB 50180-2018 Table 4.0.2" in text
    )
    assert json.loads(out_json.read_text(encoding="utf-8"))[0]["rule_id"]
    html = out_html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    # The clause's source tags ([M] ...) are explained where they are shown.
    fails = " ".join(x for x in text.splitlines() if x.startswith("fail"))
    tagged = any(tag in fails for tag in ("[M]", "[GAP]", "no. M]"))
    assert ("tags        Source tags in clauses and notes: [V]" in text) == tagged
    assert "Source tags in clauses and notes: [V] checked in a retrieved" in html
    assert main(["-q", "check", str(path), "--strict"]) == 1
    assert main(["-q", "check", str(path), "--climate-zone", "IX"]) == 2
    assert "invalid climate_zone 'IX'" in capsys.readouterr().err
    assert main(["-q", "check", str(path), "--param", "life_circle=15"]) == 0
    assert main(["-q", "check", str(path), "--rules", "nope"]) == 2


# --- every built-in indicator through the check: values, reasons, provenance ----

#: (indicator, unit) of the built-in zone indicators, as rules give them.
_ZONE_INDICATORS = (
    ("far", "-"),
    ("building_density", "-"),
    ("green_rate", "-"),
    ("ground_green_rate", "-"),
    ("ground_green_share_of_target", "-"),
    ("max_height_m", "m"),
    ("average_storeys", "-"),
    ("dwellings", "dwellings"),
    ("residents", "persons"),
    ("residential_land_per_capita_m2", "m2/person"),
    ("public_green_per_capita_m2", "m2/person"),
    ("concentrated_green_per_capita_m2", "m2/person"),
    ("service_space_per_100_households_m2", "m2/100 dwellings"),
    ("parking_spaces_per_household", "spaces/dwelling"),
    ("surface_parking_per_household", "spaces/dwelling"),
)


def _rule(
    rule_id: str,
    indicator: str,
    scope: str,
    unit: str,
    extra: str = "",
    *,
    op: str = ">=",
    threshold: float = 0.0,
) -> str:
    return (
        f'[[rules]]\nid = "{rule_id}"\nindicator = "{indicator}"\nscope = "{scope}"\n'
        f'op = "{op}"\nthreshold = {threshold}\nunit = "{unit}"\nclause = "c"\n'
        f"verified = true\n{extra}"
    )


def test_every_zone_indicator_by_hand_with_estimates(twin, tmp_path):
    # s2's households (60 = 1,000 m2 x 6 / 100 m2) and t1's height (10 x 3 m)
    # are estimated by the twin.
    b = twin.buildings.assign(
        households=pd.array([100, pd.NA, 100, 100, 50], dtype="Int64"),
        height_m=[18.9, 18.9, 18.9, 18.9, np.nan],
    )
    with pytest.warns(cim.errors.RepairWarning, match="estimated 1 heights"):
        t = twin.with_layer("buildings", b)
    # The green-rate target of the ground share: 30% on parcels, none on the
    # site (its green-rate rule is an upper bound).
    body = "".join(
        _rule(
            f"{ind}@{scope}",
            ind,
            scope,
            unit,
            op="<=" if (ind, scope) == ("green_rate", "site") else ">=",
            threshold=1.0 if (ind, scope) == ("green_rate", "site") else 0.0,
        )
        for ind, unit in _ZONE_INDICATORS
        for scope in ("parcel", "site")
    )
    body += _rule("target", "green_rate", "parcel", "-", threshold=0.3)
    r = rows_of(check(t, _book(tmp_path, body)))
    nan = np.nan
    ppl = [1008.0, 140.0, 0.0]  # 360 and 50 dwellings x 2.8 persons
    expected = {
        "far": ([2.4, 0.6, 0.0], 1.0),
        "building_density": ([0.4, 0.06, 0.0], 4600 / 30000),
        "green_rate": ([0.25, 0.32, 0.64], 12100 / 30000),
        "ground_green_rate": ([0.25, 0.32, 0.64], 12100 / 30000),
        "ground_green_share_of_target": ([0.25 / 0.3, 0.32 / 0.3, 0.64 / 0.3], nan),
        "max_height_m": ([18.9, 30.0, 0.0], 30.0),
        "average_storeys": ([6.0, 10.0, nan], 30000 / 4600),
        "dwellings": ([360.0, 50.0, 0.0], 410.0),
        "residents": (ppl, 1148.0),
        "residential_land_per_capita_m2": (
            [10000 / 1008, 10000 / 140, nan],
            30000 / 1148,
        ),
        "public_green_per_capita_m2": ([0.0, 0.0, nan], 6400 / 1148),
        "concentrated_green_per_capita_m2": (
            [2500 / 1008, 3200 / 140, nan],
            12100 / 1148,
        ),
        "service_space_per_100_households_m2": ([0.0, 72.0, nan], 36 / 410 * 100),
        "parking_spaces_per_household": ([480 / 360, 60 / 50, nan], 540 / 410),
        "surface_parking_per_household": ([20 / 360, 2 / 50, nan], 22 / 410),
    }
    for ind, (parcels, site) in expected.items():
        got = r.xs(f"{ind}@parcel").loc[["p1", "p2", "p3"], "value"].to_numpy()
        assert_allclose(got, parcels, err_msg=ind, **TOL)
        assert_allclose(r.loc[(f"{ind}@site", "site"), "value"], site, **TOL)
    # Why a value is missing or does not apply.
    reasons = {
        ("service_space_per_100_households_m2", "p3"): (
            "no service_space_m2 given, or no dwellings"
        ),
        ("parking_spaces_per_household", "p3"): (
            "no parcels.parking_spaces given, or no dwellings"
        ),
        ("surface_parking_per_household", "p3"): (
            "no parcels.surface_parking_spaces given, or no dwellings"
        ),
    }
    for (ind, pid), why in reasons.items():
        row = r.loc[(f"{ind}@parcel", pid)]
        assert row["status"] == "not_evaluated" and why in row["reason"]
    share = r.loc[("ground_green_share_of_target@site", "site")]
    assert share["status"] == "not_applicable"
    why = "no green-rate target: no green_rate_min and no green_rate rule applies"
    assert why in share["reason"]
    # Which inputs behind each value are unverified.
    # s2 (in p1) has estimated households; t1 (in p2) a height from its 10
    # measured storeys x the default 3 m, so the structural height the
    # take-off tests (2.20 m) is the default storey height. The site holds
    # all five buildings, p3 none.
    est = "households estimated from floor area (households_source=estimated)"
    pph = "persons per household 2.8 (default, unverified)"
    dwelling = {
        "p1": f"{est} for 1 of 4 buildings",
        "p2": "",
        "p3": "",
        "site": f"{est} for 1 of 5 buildings",
    }
    people = {fid: f"{text}; {pph}" if text else pph for fid, text in dwelling.items()}
    h = "height estimated (height_source=levels)"
    height = {"p1": "", "p2": f"{h} for 1 of 1 building", "p3": ""}
    height["site"] = f"{h} for 1 of 5 buildings"
    sh = "storey height estimated (storey_height_source=default)"
    far = {"p1": "", "p2": f"{sh} for 1 of 1 building", "p3": ""}
    far["site"] = f"{sh} for 1 of 5 buildings"
    storeys = {"p1": "", "p2": f"{sh} for 1 of 1 housing building", "p3": ""}
    storeys["site"] = f"{sh} for 1 of 5 housing buildings"
    none = dict.fromkeys(("p1", "p2", "p3", "site"), "")
    unverified = {
        "far": far,
        "average_storeys": storeys,
        "building_density": none,
        "green_rate": none,
        "max_height_m": height,
        "dwellings": dwelling,
        "residents": people,
        "residential_land_per_capita_m2": people,
        "public_green_per_capita_m2": people,
        "concentrated_green_per_capita_m2": people,
        "service_space_per_100_households_m2": dwelling,
        "parking_spaces_per_household": dwelling,
        "surface_parking_per_household": dwelling,
    }
    for ind, by_feature in unverified.items():
        for fid, text in by_feature.items():
            scope = "site" if fid == "site" else "parcel"
            row = r.loc[(f"{ind}@{scope}", fid)]
            assert row["unverified_inputs"] == text, (ind, fid)
            assert row["inputs_verified"] == (text == "")


def test_floor_area_values_name_estimated_storeys(twin, tmp_path):
    # s1 (residential) and s4 (turned into an office) have neither storeys nor
    # height: 6 default storeys each (assets/defaults.toml), 18 m. s2 keeps its
    # measured 18.9 m and gets round(18.9 / 3) = 6 storeys from it, so its
    # structural height is 18.9 / 6 = 3.15 m, estimated. s3 and t1 are
    # measured. Floor area is unchanged (6 storeys x 1,000 m2 each, every
    # storey >= 2.20 m), so FAR stays 2.4 on p1, but now rests on estimates.
    b = twin.buildings.assign(
        floors=pd.array([pd.NA, pd.NA, 6, pd.NA, 10], dtype="Int64"),
        height_m=[np.nan, 18.9, 18.9, np.nan, 30.9],
        use=["residential"] * 3 + ["office", "residential"],
    )
    with pytest.warns(cim.errors.RepairWarning, match="estimated 2 heights"):
        t = twin.with_layer("buildings", b)
    assert t.buildings["floors_source"].tolist() == [
        "default",
        "height",
        "measured",
        "default",
        "measured",
    ]
    body = "".join(
        _rule(f"{ind}@{scope}", ind, scope, "-")
        for ind in ("far", "average_storeys", "building_density")
        for scope in ("parcel", "site")
    ) + _rule("spacing", "front_spacing_m", "building", "m")
    r = rows_of(check(t, _book(tmp_path, body)))
    assert_allclose(r.loc[("far@parcel", "p1"), "value"], 2.4, **TOL)
    assert_allclose(r.loc[("far@site", "site"), "value"], 1.0, **TOL)
    # Housing only: s1, s2, s3 on p1 (18,000 m2 / 3,000 m2); t1 too on the site.
    assert_allclose(r.loc[("average_storeys@parcel", "p1"), "value"], 6.0, **TOL)
    assert_allclose(r.loc[("average_storeys@site", "site"), "value"], 24000 / 3600)

    def labels(n: str, k_default: int, k_height: int) -> str:
        return (
            f"storeys estimated (floors_source=default) for {k_default} of {n}; "
            f"storeys estimated (floors_source=height) for {k_height} of {n}; "
            "storey height estimated (storey_height_source=default) for "
            f"{k_default} of {n}; storey height estimated "
            f"(storey_height_source=estimated) for {k_height} of {n}"
        )

    expected = {
        ("far@parcel", "p1"): labels("4 buildings", 2, 1),
        ("far@parcel", "p2"): "",
        ("far@site", "site"): labels("5 buildings", 2, 1),
        ("average_storeys@parcel", "p1"): labels("3 housing buildings", 1, 1),
        ("average_storeys@parcel", "p2"): "",
        ("average_storeys@site", "site"): labels("4 housing buildings", 1, 1),
        # Footprints only: no storeys behind density.
        ("building_density@parcel", "p1"): "",
        ("building_density@site", "site"): "",
        # A building's own height: default for s1 and s4, measured for s2.
        ("spacing", "s1"): "height estimated (height_source=default)",
        ("spacing", "s2"): "",
        ("spacing", "s4"): "height estimated (height_source=default)",
    }
    for key, text in expected.items():
        assert r.loc[key, "unverified_inputs"] == text, key
        assert r.loc[key, "inputs_verified"] == (text == ""), key


def test_front_spacing_rules_by_hand(twin, tmp_path):
    # t1 moved 15 m due north of s1 (18.9 m tall): spacing 15 m, 15 / 18.9.
    geoms = [*twin.buildings.geometry.iloc[:4], bx(5, 70, 25, 90)]
    t = twin.with_layer("buildings", twin.buildings.assign(geometry=geoms))
    body = (
        _rule("m", "front_spacing_m", "building", "m")
        + _rule("ratio", "front_spacing_ratio", "dwelling", "-")
        + _rule(
            "low",
            "front_spacing_m",
            "building",
            "m",
            "params = { max_south_height_m = 10, search_m = 80 }\n",
        )
    )
    r = rows_of(check(t, _book(tmp_path, body)))
    assert_allclose(r.loc[("m", "t1"), "value"], 15.0, **TOL)
    assert_allclose(r.loc[("ratio", "t1"), "value"], 15 / 18.9, **TOL)
    assert r.loc[("m", "t1"), "status"] == "pass"
    for rule_id, why in (
        ("m", "no building of at most inf m due south within 150 m"),
        ("ratio", "no building of at most inf m due south within 150 m"),
        ("low", "no building of at most 10 m due south within 80 m"),
    ):
        rows = r.xs(rule_id)
        off = rows.drop("t1") if rule_id != "low" else rows
        assert set(off["status"]) == {"not_applicable"}, rule_id
        assert off["reason"].str.contains(why, regex=False).all(), rule_id
        assert (rows["unverified_inputs"] == "").all()


# --- basis: what produced each value ---------------------------------------------


def test_basis_says_what_produced_each_value_by_hand(twin, tmp_path):
    body = (
        "".join(
            _rule(f"{ind}@{scope}", ind, scope, unit)
            for ind, unit in (
                ("ground_green_rate", "-"),
                ("average_storeys", "-"),
                ("residents", "persons"),
                ("residential_land_per_capita_m2", "m2/person"),
            )
            for scope in ("parcel", "site")
        )
        + _rule("density@site", "building_density", "site", "-")
        + _rule("far@site", "far", "site", "-")
        + _rule(
            "height@p", "max_height_m", "parcel", "m", "params = { min_share = 0.5 }\n"
        )
    )
    r = rows_of(check(twin, "zhejiang-future-community"))
    mine = rows_of(check(twin, _book(tmp_path, body)))
    # p1: four slabs of 1,000 m2 x 6 storeys on 100 x 100 m; p2: a tower of
    # 600 m2 x 10 storeys; the site is the three parcels, 30,000 m2.
    expected = {
        ("gb50180-4.0.2-far", "p1"): "counted 24,000.0 m2 / parcel 10,000.0 m2",
        ("gb50180-4.0.2-far", "p2"): "counted 6,000.0 m2 / parcel 10,000.0 m2",
        ("planning-far_max", "p1"): "counted 24,000.0 m2 / parcel 10,000.0 m2",
        ("gb50180-4.0.2-density", "p1"): "footprint 4,000.0 m2 / parcel 10,000.0 m2",
        ("gb50180-4.0.2-density", "p2"): "footprint 600.0 m2 / parcel 10,000.0 m2",
        # 2,500 + 1,000 x 0.5 (roof) + 500 x 0.8 (podium) + 300 x 0.2 (wall)
        ("gb50180-4.0.2-green", "p1"): "counted green 3,460.0 m2 / parcel 10,000.0 m2",
        ("gb50180-4.0.2-green", "p2"): "counted green 3,200.0 m2 / parcel 10,000.0 m2",
        # All four slabs are 18.9 m: the first in layer order is named.
        ("gb50180-4.0.2-height", "p1"): "tallest building s1 (18.9 m)",
        ("gb50180-4.0.2-height", "p2"): "tallest building t1 (30.9 m)",
        # The ground share's target is the multi_i (p1) or high_i (p2) green
        # rate of Table 4.0.2, zone III.
        ("zj-fc-green-ground-share", "p1"): (
            "ground green rate 0.25 (ground green 2,500.0 m2 / parcel 10,000.0 m2)"
            " / target 0.3 from gb50180-4.0.2-green"
        ),
        ("zj-fc-green-ground-share", "p2"): (
            "ground green rate 0.32 (ground green 3,200.0 m2 / parcel 10,000.0 m2)"
            " / target 0.35 from gb50180-4.0.2-green"
        ),
    }
    for key, text in expected.items():
        assert r.loc[key, "basis"] == text, key
    mine_expected = {
        (
            "ground_green_rate@parcel",
            "p1",
        ): "ground green 2,500.0 m2 / parcel 10,000.0 m2",
        (
            "ground_green_rate@site",
            "site",
        ): "ground green 12,100.0 m2 / site 30,000.0 m2",
        ("average_storeys@parcel", "p1"): (
            "housing floor area 24,000.0 m2 / housing footprint 4,000.0 m2"
        ),
        ("average_storeys@site", "site"): (
            "housing floor area 30,000.0 m2 / housing footprint 4,600.0 m2"
        ),
        ("residents@parcel", "p1"): "400.0 dwellings x 2.8 persons per household",
        ("residents@site", "site"): "450.0 dwellings x 2.8 persons per household",
        ("residential_land_per_capita_m2@parcel", "p2"): (
            "parcel 10,000.0 m2 / 140.0 residents"
        ),
        ("residential_land_per_capita_m2@site", "site"): (
            "site 30,000.0 m2 / 1,260.0 residents"
        ),
        ("density@site", "site"): "footprint 4,600.0 m2 / site 30,000.0 m2",
        ("far@site", "site"): "counted 30,000.0 m2 / site 30,000.0 m2",
        (
            "height@p",
            "p3",
        ): "no building with at least 0.5 of its footprint in the parcel",
    }
    for key, text in mine_expected.items():
        assert mine.loc[key, "basis"] == text, key
    # A value of 0 is evaluated and says why it is 0.
    assert mine.loc[("height@p", "p3"), "status"] == "pass"
    assert mine.loc[("height@p", "p3"), "value"] == 0.0
    # Rows without a value have no basis, only a reason: the park parcel
    # under the housing-block rules, average storeys without housing, the
    # walking distance without a street network.
    for key in (
        ("gb50180-4.0.2-far", "p3"),
        ("gb50180-4.0.2-green", "p3"),
    ):
        assert r.loc[key, "status"] == "not_applicable" and r.loc[key, "basis"] == ""
    off = mine.loc[("average_storeys@parcel", "p3")]
    assert off["status"] == "not_evaluated" and off["basis"] == ""
    walk = r[r["indicator"] == "life_circle_walk_m"]
    assert len(walk) and (walk["status"] == "not_evaluated").all()
    assert (walk["basis"] == "").all() and (walk["reason"] != "").all()
    # An evaluated row says why it was not evaluated nowhere.
    done = r[r["status"].isin(["pass", "fail"])]
    assert (done["reason"] == "").all()


def test_basis_of_people_green_service_and_parking_by_hand(twin, tmp_path):
    body = (
        "".join(
            _rule(f"{name}@{scope}", ind, scope, unit)
            for name, ind, unit in (
                ("dwellings", "dwellings", "dwellings"),
                ("pg", "public_green_per_capita_m2", "m2/person"),
                ("cg", "concentrated_green_per_capita_m2", "m2/person"),
                ("svc", "service_space_per_100_households_m2", "m2/100 dwellings"),
                ("park", "parking_spaces_per_household", "spaces/dwelling"),
                ("surf", "surface_parking_per_household", "spaces/dwelling"),
            )
            for scope in ("parcel", "site")
        )
        + _rule(
            "pg-kinds@site",
            "public_green_per_capita_m2",
            "site",
            "m2/person",
            'params = { kinds = ["ground", "park"] }\n',
        )
        + _rule(
            "cg30@parcel",
            "concentrated_green_per_capita_m2",
            "parcel",
            "m2/person",
            "params = { min_width_m = 30 }\n",
        )
    )
    path = _book(tmp_path, body)
    r = rows_of(check(twin, path))
    # p1: four slabs of 100 households (1,120 residents at 2.8), 480 car
    # spaces (20 on the ground), a 100 x 25 m lawn; p2: the tower of 50
    # households (140 residents) with the 36 m2 service room, 60 spaces (2 on
    # the ground) and 3,200 m2 of lawn at least 10 m wide; p3: the 6,400 m2
    # park, no homes, no parking given. The site is the three parcels.
    expected = {
        ("dwellings@parcel", "p1"): ("400.0 households of 4 buildings", 400.0),
        ("dwellings@parcel", "p2"): ("50.0 households of 1 building", 50.0),
        ("dwellings@parcel", "p3"): (
            "no building with households in the parcel",
            0.0,
        ),
        ("dwellings@site", "site"): ("450.0 households of 5 buildings", 450.0),
        ("pg@site", "site"): (
            "public green (park) 6,400.0 m2 / 1,260.0 residents",
            6400 / 1260,
        ),
        ("pg@parcel", "p2"): ("public green (park) 0.0 m2 / 140.0 residents", 0.0),
        # Lawns 2,500 + 3,200 m2 and the park 6,400 m2.
        ("pg-kinds@site", "site"): (
            "public green (ground, park) 12,100.0 m2 / 1,260.0 residents",
            12100 / 1260,
        ),
        ("cg@parcel", "p1"): (
            "green at least 8 m wide (ground, park) 2,500.0 m2 / 1,120.0 residents",
            2500 / 1120,
        ),
        ("cg@parcel", "p2"): (
            "green at least 8 m wide (ground, park) 3,200.0 m2 / 140.0 residents",
            3200 / 140,
        ),
        ("cg@site", "site"): (
            "green at least 8 m wide (ground, park) 12,100.0 m2 / 1,260.0 residents",
            12100 / 1260,
        ),
        # The 25 m wide lawn is no 30 m wide green.
        ("cg30@parcel", "p1"): (
            "green at least 30 m wide (ground, park) 0.0 m2 / 1,120.0 residents",
            0.0,
        ),
        ("svc@parcel", "p1"): ("service space 0.0 m2 / 400.0 dwellings x 100", 0.0),
        ("svc@parcel", "p2"): (
            "service space 36.0 m2 / 50.0 dwellings x 100",
            72.0,
        ),
        ("svc@site", "site"): ("service space 36.0 m2 / 450.0 dwellings x 100", 8.0),
        ("park@parcel", "p1"): (
            "480.0 spaces (parcels.parking_spaces) / 400.0 dwellings",
            1.2,
        ),
        ("park@parcel", "p2"): (
            "60.0 spaces (parcels.parking_spaces) / 50.0 dwellings",
            1.2,
        ),
        # The park parcel gives no spaces: the site counts those of two.
        ("park@site", "site"): (
            "540.0 spaces (parcels.parking_spaces, given for 2 of 3 parcels) / "
            "450.0 dwellings",
            1.2,
        ),
        ("surf@parcel", "p1"): (
            "20.0 spaces (parcels.surface_parking_spaces) / 400.0 dwellings",
            0.05,
        ),
        ("surf@site", "site"): (
            "22.0 spaces (parcels.surface_parking_spaces, given for 2 of 3 "
            "parcels) / 450.0 dwellings",
            22 / 450,
        ),
    }
    for key, (text, value) in expected.items():
        row = r.loc[key]
        assert row["status"] == "pass", key
        assert row["basis"] == text, key
        assert_allclose(row["value"], value, err_msg=str(key), **TOL)
    # No residents, no service space, no parking given on p3: no value, so
    # no basis.
    for key in (("pg@parcel", "p3"), ("svc@parcel", "p3"), ("park@parcel", "p3")):
        assert r.loc[key, "status"] == "not_evaluated", key
        assert r.loc[key, "basis"] == "", key

    # t1 moved across the line of p2 and p3: half its footprint, households
    # and service space in each. The site holds it whole.
    geoms = [*twin.buildings.geometry.iloc[:4], bx(190, 60, 210, 90)]
    split = rows_of(
        check(twin.with_layer("buildings", twin.buildings.assign(geometry=geoms)), path)
    )
    half = "25.0 households of 1 building, 1 split by footprint share"
    assert split.loc[("dwellings@parcel", "p2"), "basis"] == half
    assert split.loc[("dwellings@parcel", "p3"), "basis"] == half
    assert split.loc[("dwellings@site", "site"), "basis"] == (
        "450.0 households of 5 buildings"
    )
    assert split.loc[("svc@parcel", "p3"), "basis"] == (
        "service space 18.0 m2 / 25.0 dwellings x 100"
    )
    p3 = split.loc[("pg@parcel", "p3")]
    assert p3["basis"] == "public green (park) 6,400.0 m2 / 70.0 residents"
    assert_allclose(p3["value"], 6400 / 70, **TOL)


def test_front_spacing_basis_names_the_south_building_by_hand(twin, tmp_path):
    # t1 (40 m wide) north of s1 and of s2, now 40 m tall and 10 m shorter
    # north-south: s1 is the nearest (15 m, 15 / 18.9 = 0.79), s2 gives the
    # smallest ratio (25 m / 40 m = 0.625). Capped at 30 m, s2 does not count.
    b = twin.buildings.assign(
        geometry=[
            twin.buildings.geometry.iloc[0],
            bx(30, 5, 50, 45),
            *twin.buildings.geometry.iloc[2:4],
            bx(5, 70, 45, 90),
        ],
        height_m=[18.9, 40.0, 18.9, 18.9, 30.9],
        floors=pd.array([6, 13, 6, 6, 10], dtype="Int64"),
    )
    body = (
        _rule("m", "front_spacing_m", "building", "m")
        + _rule("ratio", "front_spacing_ratio", "dwelling", "-")
        + _rule(
            "capped",
            "front_spacing_ratio",
            "building",
            "-",
            "params = { max_south_height_m = 30 }\n",
        )
    )
    r = rows_of(check(twin.with_layer("buildings", b), _book(tmp_path, body)))
    expected = {
        ("m", "t1"): ("15.00 m to s1, the nearest of 2 buildings due south", 15.0),
        ("ratio", "t1"): (
            "25.00 m to s2 / its height 40 m, the smallest ratio of 2 buildings "
            "due south",
            25 / 40,
        ),
        ("capped", "t1"): (
            "15.00 m to s1 / its height 18.9 m, the smallest ratio of 1 building "
            "due south",
            15 / 18.9,
        ),
    }
    for key, (text, value) in expected.items():
        assert r.loc[key, "basis"] == text, key
        assert_allclose(r.loc[key, "value"], value, err_msg=str(key), **TOL)
        assert r.loc[key, "unverified_inputs"] == "", key
    # Nothing is due south of the slabs: no value, no basis.
    off = r.loc[["m", "ratio", "capped"]].drop("t1", level="feature_id")
    assert len(off) == 3 * 4  # the four slabs (housing: dwellings too), per rule
    assert set(off["status"]) == {"not_applicable"} and (off["basis"] == "").all()


def test_ground_share_traces_its_target(twin):
    r = rows_of(check(twin, "zhejiang-future-community"))
    # Its target is Table 4.0.2's green rate, which is not verified.
    share = r.loc[("zj-fc-green-ground-share", "p1")]
    assert share["unverified_inputs"] == (
        "green_rate target from rule gb50180-4.0.2-green, not verified"
    )
    assert not share["inputs_verified"]
    # A planning condition, where given, is the target: given, so verified.
    p = twin.parcels.assign(green_rate_min=[0.25, np.nan, np.nan])
    r2 = rows_of(check(twin.with_layer("parcels", p), "zhejiang-future-community"))
    share = r2.loc[("zj-fc-green-ground-share", "p1")]
    assert share["basis"] == (
        "ground green rate 0.25 (ground green 2,500.0 m2 / parcel 10,000.0 m2)"
        " / target 0.25 from parcels.green_rate_min"
    )
    assert share["unverified_inputs"] == "" and share["inputs_verified"]
    assert r2.loc[("zj-fc-green-ground-share", "p2"), "basis"].endswith(
        "/ target 0.35 from gb50180-4.0.2-green"
    )


def test_plugged_in_indicator_fills_basis_on_evaluated_rows_only(
    twin, registry, tmp_path
):
    @register_indicator("probe", unit="m", scopes=("parcel",))
    def probe(ctx, rule):
        ids = ctx.ids(rule.scope)
        return Evaluation(
            pd.Series([np.inf, 0.5, np.nan], index=ids),
            basis=pd.Series(
                ["inf: nothing reachable", "half way", "unused"], index=ids
            ),
            unverified=pd.Series(["guessed", "", ""], index=ids),
        )

    path = _book(
        tmp_path,
        _rule("probe", "probe", "parcel", "m", op="<=", threshold=1.0),
    )
    report = check(twin, path)
    rows = rows_of(report).xs("probe")
    p1, p2, p3 = (rows.loc[p] for p in ("p1", "p2", "p3"))
    # inf is a value: it fails "<= 1" by an infinite margin.
    assert (p1["status"], p1["value"], p1["margin"]) == ("fail", np.inf, -np.inf)
    assert p1["basis"] == "inf: nothing reachable" and p1["reason"] == ""
    assert p1["unverified_inputs"] == "guessed" and not p1["inputs_verified"]
    assert (p2["status"], p2["basis"]) == ("pass", "half way")
    assert_allclose(p2["margin"], 0.5, **TOL)
    # NaN is not: not evaluated, with a reason and no basis.
    assert (p3["status"], p3["basis"]) == ("not_evaluated", "")
    assert p3["reason"] == "no value: an input is missing"
    assert pd.isna(p3["margin"])

    # JSON: inf and -inf as strings float() reads back, NaN as null.
    from cim.report import JSON_INFINITY

    assert JSON_INFINITY == {np.inf: "inf", -np.inf: "-inf"}
    recs = {
        r["feature_id"]: r
        for r in json.loads(report.to_json())
        if r["rule_id"] == "probe"
    }
    assert (recs["p1"]["value"], recs["p1"]["margin"]) == ("inf", "-inf")
    assert recs["p1"]["basis"] == "inf: nothing reachable"
    assert (recs["p3"]["value"], recs["p3"]["margin"], recs["p3"]["basis"]) == (
        None,
        None,
        "",
    )
    frame = report.to_frame()
    frame = frame[frame["rule_id"] == "probe"].set_index("feature_id")
    for col in ("value", "margin"):
        back = pd.to_numeric(
            pd.Series({k: recs[k][col] for k in frame.index}, dtype=object)
        ).astype("float64")
        pd.testing.assert_series_equal(back, frame[col], check_names=False)
        assert [float(recs[k][col] or "nan") for k in frame.index] == pytest.approx(
            frame[col].tolist(), nan_ok=True
        )
    # HTML: the same "inf" and "-inf" beside the basis; NaN stays blank.
    page = report.to_html()
    row = re.search(r"<tr class=\"fail\"><td>probe</td>.*?</tr>", page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))
    assert cells[2] == "inf" and cells[6] == "-inf"
    assert cells[7] == "inf: nothing reachable"
    blank = re.search(r"<tr class=\"not_evaluated\"><td>probe</td>.*?</tr>", page)
    assert blank is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", blank.group(0))
    assert cells[2] == "" and cells[6] == "" and cells[7] == ""


# --- limits chosen by classes derived from estimates -------------------------------


def _estimated_storeys(twin: cim.Twin) -> cim.Twin:
    # s1 and s4 (an office) take default storeys, s2 storeys from its height
    # (so an estimated storey height), s2 households from floor area; s3 and
    # t1 are measured (as in test_floor_area_values_name_estimated_storeys).
    b = twin.buildings.assign(
        floors=pd.array([pd.NA, pd.NA, 6, pd.NA, 10], dtype="Int64"),
        height_m=[np.nan, 18.9, 18.9, np.nan, 30.9],
        households=pd.array([100, pd.NA, 100, 100, 50], dtype="Int64"),
        use=["residential"] * 3 + ["office", "residential"],
    )
    with pytest.warns(cim.errors.RepairWarning, match="estimated 2 heights"):
        return twin.with_layer("buildings", b)


_BY_STOREYS = (
    'threshold = { by = "storey_class", values = { multi_i = 3.0, high_i = 3.0 } }'
)
_BY_SIZE = (
    'threshold = { by = "dwelling_size_class", '
    'values = { le60 = 0.5, "60-90" = 0.5, "90-140" = 0.5 } }'
)


@pytest.mark.parametrize("table_first", [True, False])
def test_limit_chosen_by_an_estimated_class_is_flagged(twin, tmp_path, table_first):
    t = _estimated_storeys(twin)
    plain = _rule("plain", "far", "parcel", "-", op="<=", threshold=3.0)
    table = _rule("by-class", "far", "parcel", "-", op="<=", threshold=0.0).replace(
        "threshold = 0.0", _BY_STOREYS
    )
    park = _rule("park", "parking_spaces_per_household", "parcel", "x").replace(
        "threshold = 0.0", _BY_SIZE
    )
    body = (table + plain if table_first else plain + table) + park
    r = rows_of(check(t, _book(tmp_path, body)))

    def each(n: str, k_default: int, k_height: int, sep: str) -> str:
        return sep.join(
            (
                f"storeys estimated (floors_source=default) for {k_default} of {n}",
                f"storeys estimated (floors_source=height) for {k_height} of {n}",
                "storey height estimated (storey_height_source=default) for "
                f"{k_default} of {n}",
                "storey height estimated (storey_height_source=estimated) for "
                f"{k_height} of {n}",
            )
        )

    # p1's FAR-counted area: s1, s2, s4 estimated among its 4 buildings.
    far = each("4 buildings", 2, 1, "; ")
    # Its storey class, multi_i (18,000 m2 / 3,000 m2 of housing = 6), rests
    # on the housing among them: s1 and s2 of s1, s2, s3.
    storeys = each("3 housing buildings", 1, 1, ", ")
    households = "households estimated from floor area (households_source=estimated)"
    # The cached FAR evaluation is shared by the three FAR rules, but only the
    # rule whose limit the class chose is flagged for it.
    assert r.loc[("plain", "p1"), "unverified_inputs"] == far
    assert r.loc[("planning-far_max", "p1"), "unverified_inputs"] == far
    flagged = r.loc[("by-class", "p1")]
    assert flagged["threshold_keys"] == "storey_class=multi_i"
    assert flagged["unverified_inputs"] == (
        f"{far}; limit chosen by storey_class=multi_i from {storeys}"
    )
    # p2's class high_i rests on t1's measured storeys: nothing to flag.
    assert r.loc[("by-class", "p2"), "threshold_keys"] == "storey_class=high_i"
    assert r.loc[("by-class", "p2"), "unverified_inputs"] == ""
    # No class, no threshold, no flag.
    assert r.loc[("by-class", "p3"), "status"] == "not_applicable"
    assert r.loc[("by-class", "p3"), "unverified_inputs"] == ""
    # The dwelling-size class: 18,000 m2 over 100 + 60 + 100 dwellings = 69.2
    # m2, from the same floor area and s2's estimated households.
    park_p1 = r.loc[("park", "p1")]
    assert park_p1["threshold_keys"] == "dwelling_size_class=60-90"
    assert park_p1["unverified_inputs"] == (
        f"{households} for 1 of 4 buildings; limit chosen by "
        f"dwelling_size_class=60-90 from {storeys}, {households} for 1 of 4 "
        "buildings"
    )
    assert r.loc[("park", "p2"), "unverified_inputs"] == ""


def test_measured_classes_leave_limits_unflagged(twin):
    rows = check(twin, "zhejiang-future-community").rows
    assert not rows["unverified_inputs"].str.contains("limit chosen by").any()


@pytest.mark.parametrize("land_use", ["unknown", "0701"])
def test_limit_chosen_by_a_land_class_from_estimated_households_is_flagged(
    twin, tmp_path, land_use
):
    # s2's households are estimated (1,000 m2 x 6 / 100 m2 = 60). p1's land
    # use is either unknown, so its land class is read from the dwellings in
    # it, or given (0701). p2 is of unknown use with t1's measured
    # households; the site's land class is always read from its dwellings.
    b = twin.buildings.assign(
        households=pd.array([100, pd.NA, 100, 100, 50], dtype="Int64")
    )
    with pytest.warns(cim.errors.RepairWarning, match="1 household counts"):
        t = twin.with_layer("buildings", b)
    t = t.with_layer("parcels", t.parcels.assign(land_use=[land_use, "", "1401"]))
    by_land = 'threshold = { by = "land_class", values = { residential = %s } }'
    body = (
        _rule("surface", "surface_parking_per_household", "parcel", "x", op="<=")
        + _rule("far", "far", "parcel", "-", op="<=")
        + _rule("homes", "dwellings", "site", "dwellings")
        + _rule("target", "green_rate", "parcel", "-")
        + _rule("share", "ground_green_share_of_target", "parcel", "-")
    )
    for rule_id, table in (
        ("surface", by_land % "0.10"),
        ("far", _BY_STOREYS),
        ("homes", by_land % "0.0"),
        ("target", by_land % "0.3"),
    ):
        head = f'id = "{rule_id}"\n'
        i = body.index(head)
        j = body.index("threshold = 0.0", i)
        body = body[:j] + table + body[j + len("threshold = 0.0") :]
    r = rows_of(check(t, _book(tmp_path, body)))
    est = "households estimated from floor area (households_source=estimated)"
    p1, site = f"{est} for 1 of 4 buildings", f"{est} for 1 of 5 buildings"
    from_homes = land_use == "unknown"
    land = f"land_class=residential from {p1}"
    expected = {
        # The ratio's own dwellings, and the class that chose its limit.
        ("surface", "p1"): f"{p1}; limit chosen by {land}" if from_homes else p1,
        # FAR rests on measured storeys; its storey class exists because p1
        # is residential land.
        ("far", "p1"): f"limit chosen by storey_class=multi_i from {land}"
        if from_homes
        else "",
        ("share", "p1"): f"green_rate target chosen by {land}" if from_homes else "",
        # p2's land class comes from measured households: nothing to flag.
        ("surface", "p2"): "",
        ("far", "p2"): "",
        ("share", "p2"): "",
        ("homes", "site"): (
            f"{site}; limit chosen by land_class=residential from {site}"
        ),
    }
    for key, text in expected.items():
        row = r.loc[key]
        assert row["status"] in ("pass", "fail"), key
        assert row["unverified_inputs"] == text, key
        assert row["inputs_verified"] == (text == ""), key
    assert r.loc[("surface", "p1"), "threshold_keys"] == "land_class=residential"
    assert r.loc[("surface", "p2"), "threshold_keys"] == "land_class=residential"
    # The park parcel is no residential land: no limit, no flag.
    assert r.loc[("surface", "p3"), "status"] == "not_applicable"
    assert r.loc[("surface", "p3"), "unverified_inputs"] == ""


def test_html_building_table_shows_basis_and_unverified_inputs(twin, tmp_path):
    # t1 moved 15 m due north of s1: measured, or s1's height a default
    # (6 default storeys x 3 m, _estimated_storeys).
    path = _book(tmp_path, _rule("ratio", "front_spacing_ratio", "building", "-"))
    geoms = [*twin.buildings.geometry.iloc[:4], bx(5, 70, 25, 90)]
    measured = twin.with_layer("buildings", twin.buildings.assign(geometry=geoms))
    t = _estimated_storeys(twin)
    estimated = t.with_layer("buildings", t.buildings.assign(geometry=geoms))
    south = "height of south building s1 estimated (height_source=default)"
    for tw, height, inputs in (
        (measured, "18.9", "verified"),
        (estimated, "18", south),
    ):
        report = check(tw, path)
        row = rows_of(report).loc[("ratio", "t1")]
        assert row["unverified_inputs"] == ("" if inputs == "verified" else inputs)
        page = report.to_html()
        table = page[page.index("<h3>Buildings</h3>") :]
        table = table[: table.index("</table>")]
        header = re.findall(r"<th>(.*?)</th>", table)
        assert header == [
            "building",
            "rule",
            "indicator",
            "value",
            "limit",
            "unit",
            "result",
            "margin",
            "basis",
            "verified",
            "inputs",
        ]
        rows = re.findall(r"<tr([^>]*)>(.*?)</tr>", table.split("<tbody>")[1])
        assert [cls for cls, _ in rows] == [' class="pass"']  # t1 only
        cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[0][1])
        assert cells[:2] == ["t1", "ratio"]
        assert cells[8] == (
            f"15.00 m to s1 / its height {height} m, the smallest ratio of 1 "
            "building due south"
        )
        assert cells[10] == inputs
    # The parcel tables have the same column.
    assert "<th>inputs</th>" in page.split("<h3>Parcels</h3>")[1]


@pytest.fixture(scope="module")
def beijing() -> ComplianceReport:
    site = cim.datasets.load("beijing_haidian_cau")
    params = {"climate_zone": "II", "city_size": "large", "life_circle": "15"}
    return check(site, "gb50180-2018", params=params)


def test_beijing_far_limit_rests_on_estimated_storeys(beijing):
    r = rows_of(beijing)
    row = r.loc[("gb50180-4.0.2-far", "w860342589")]
    assert row["threshold_keys"] == "climate_zone=II, storey_class=multi_i"
    assert (row["limit_min"], row["limit_max"]) == (1.2, 1.5)
    # OpenStreetMap gives none of its 12 buildings' storeys.
    est = "estimated (floors_source=default) for 12 of 12"
    assert row["unverified_inputs"].endswith(
        f"; limit chosen by storey_class=multi_i from storeys {est} housing "
        "buildings, storey height estimated (storey_height_source=default) for "
        "12 of 12 housing buildings"
    )
    assert row["unverified_inputs"].startswith(f"storeys {est} buildings; ")
    assert row["basis"] == "counted 72,920.5 m2 / parcel 76,167.0 m2"
    # Its planning condition has no class behind it.
    plan = r.xs("w860342589", level="feature_id")
    assert "limit chosen" not in "".join(
        plan.loc[plan.index.str.startswith("planning-"), "unverified_inputs"]
    )


def test_beijing_basis_reproduces_the_values(beijing):
    # Every ratio's basis gives numerator and land area to 0.1 m2: their
    # quotient is the value, within that rounding.
    rows = beijing.rows[beijing.rows["status"].isin(["pass", "fail"])]
    ratios = rows[rows["indicator"].isin(["far", "building_density", "green_rate"])]
    assert len(ratios) >= 18
    nums = ratios["basis"].str.extract(r"^\D+ ([\d,.]+) m2 / parcel ([\d,.]+) m2$")
    assert nums.notna().all().all()
    num, area = (nums[i].str.replace(",", "").astype(float) for i in (0, 1))
    zones = beijing.twin.parcels.set_index("parcel_id").geometry.area
    assert_allclose(area, zones.loc[ratios["feature_id"]].to_numpy(), atol=0.05)
    assert_allclose(
        num.to_numpy(),
        ratios["value"].to_numpy() * area.to_numpy(),
        atol=0.05 + 1e-6 * area.max(),
    )


@pytest.fixture(scope="module")
def pilot_reports() -> dict[str, ComplianceReport]:
    pilot = cim.datasets.load("hangzhou_pilot")
    return {
        book: check(pilot, book) for book in ("zhejiang-future-community", "hangzhou")
    }


#: A number as a basis prints it: ``24,000.0``, ``0.3125``, ``40``.
_N = r"([\d,]+(?:\.\d+)?)"
_ZONE = r"(?:parcel|site)"
_SOUTH = r"\d+ buildings? due south"

#: Per built-in indicator, the forms its basis takes and how each gives the
#: value from the numbers in it.
_BASIS_ARITHMETIC: dict[str, list[tuple[str, Any]]] = {
    **{
        ind: [(rf"{what} {_N} m2 / {_ZONE} {_N} m2", lambda a, z: a / z)]
        for ind, what in (
            ("far", "counted"),
            ("building_density", "footprint"),
            ("green_rate", "counted green"),
            ("ground_green_rate", "ground green"),
        )
    },
    "ground_green_share_of_target": [
        (
            rf"ground green rate {_N} \(ground green {_N} m2 / {_ZONE} {_N} m2\) "
            rf"/ target {_N} from \S+",
            (lambda g, a, z, t: g / t, lambda g, a, z, t: a / z / t),
        )
    ],
    "average_storeys": [
        (
            rf"housing floor area {_N} m2 / housing footprint {_N} m2",
            lambda a, f: a / f,
        )
    ],
    "max_height_m": [
        (rf"tallest building .+ \({_N} m\)", lambda h: h),
        (rf"no building with at least [\d.]+ of its footprint in the {_ZONE}", None),
    ],
    "dwellings": [
        (
            rf"{_N} households of \d+ buildings?(?:, \d+ split by footprint share)?",
            lambda d: d,
        ),
        (rf"no building with households in the {_ZONE}", None),
    ],
    "residents": [
        (rf"{_N} dwellings x {_N} persons per household", lambda d, p: d * p)
    ],
    "residential_land_per_capita_m2": [
        (rf"{_ZONE} {_N} m2 / {_N} residents", lambda a, r: a / r)
    ],
    "public_green_per_capita_m2": [
        (rf"public green \([\w, ]+\) {_N} m2 / {_N} residents", lambda a, r: a / r)
    ],
    "concentrated_green_per_capita_m2": [
        (
            rf"green at least [\d.]+ m wide \([\w, ]+\) {_N} m2 / {_N} residents",
            lambda a, r: a / r,
        )
    ],
    "service_space_per_100_households_m2": [
        (
            rf"service space {_N} m2 / {_N} dwellings x 100",
            lambda a, d: a / d * 100,
        )
    ],
    **{
        ind: [
            (
                rf"{_N} spaces \(parcels\.{col}(?:, given for \d+ of \d+ "
                rf"parcels?)?\) / {_N} dwellings",
                lambda s, d: s / d,
            )
        ]
        for ind, col in (
            ("parking_spaces_per_household", "parking_spaces"),
            ("surface_parking_per_household", "surface_parking_spaces"),
        )
    },
    "front_spacing_m": [(rf"{_N} m to .+, the nearest of {_SOUTH}", lambda d: d)],
    "front_spacing_ratio": [
        (
            rf"{_N} m to .+ / its height {_N} m, the smallest ratio of {_SOUTH}",
            lambda d, h: d / h,
        )
    ],
}


def _within_rounding(func: Any, printed: Sequence[str], value: float) -> bool:
    """Whether ``func`` of the printed numbers, within their digits, reaches ``value``.

    Each number may lie anywhere within half a unit of its last printed
    digit; ``func`` is monotone in each, so its range is spanned by the
    corners.
    """
    nums = [float(p.replace(",", "")) for p in printed]
    half = [0.5 * 10.0 ** -len(p.partition(".")[2]) for p in printed]
    corners = [
        func(*(n + s * h for n, s, h in zip(nums, signs, half, strict=True)))
        for signs in itertools.product((-1, 1), repeat=len(nums))
    ]
    slack = 1e-9 * max(1.0, abs(value))
    return min(corners) - slack <= value <= max(corners) + slack


@pytest.mark.parametrize(
    ("sample", "book"),
    [
        ("beijing_haidian_cau", "gb50180-2018"),
        ("hangzhou_pilot", "zhejiang-future-community"),
        ("hangzhou_pilot", "hangzhou"),
    ],
)
def test_every_basis_reproduces_its_value_on_the_samples(
    sample, book, beijing, pilot_reports
):
    # On both bundled samples, every evaluated row of a built-in indicator
    # has a basis whose numbers give its value, within their printed digits.
    report = beijing if sample == "beijing_haidian_cau" else pilot_reports[book]
    table = available_indicators().set_index("name")
    builtin = set(table.index[table["provider"] == "cim.indicators._builtin"])
    assert builtin == set(_BASIS_ARITHMETIC)
    rows = report.rows[report.rows["status"].isin(["pass", "fail"])]
    rows = rows[rows["indicator"].isin(builtin)]
    seen = set()
    for r in rows.itertuples():
        forms = _BASIS_ARITHMETIC[r.indicator]
        match = next(
            (
                (m, funcs)
                for pattern, funcs in forms
                if (m := re.fullmatch(pattern, r.basis)) is not None
            ),
            None,
        )
        where = f"{r.rule_id} {r.feature_id}: {r.basis!r} for {r.value!r}"
        assert match is not None, where
        m, funcs = match
        if funcs is None:  # nothing in the zone: the value is 0
            assert r.value == 0.0, where
        else:
            for func in funcs if isinstance(funcs, tuple) else (funcs,):
                assert _within_rounding(func, m.groups(), r.value), where
        seen.add(r.indicator)
    # Each sample has ratios of every family: areas, people, and parking or
    # spacing.
    must = {
        "far",
        "building_density",
        "green_rate",
        "dwellings",
        "residents",
        "residential_land_per_capita_m2",
        "public_green_per_capita_m2",
        "concentrated_green_per_capita_m2",
    }
    if book == "zhejiang-future-community":
        must |= {
            "ground_green_share_of_target",
            "service_space_per_100_households_m2",
            "parking_spaces_per_household",
            "surface_parking_per_household",
        }
    if book == "hangzhou":
        must |= {"front_spacing_m", "front_spacing_ratio"}
    assert must <= seen, must - seen


def test_beijing_unreachable_walks_are_inf_with_their_basis(beijing, tmp_path):
    walk = beijing.rows[beijing.rows["indicator"] == "life_circle_walk_m"]
    # The extract maps no middle school and no clinic: every home is
    # infinitely far, which fails, and the basis says why.
    assert len(walk) == 58 and (walk["status"] == "fail").all()
    assert np.isposinf(walk["value"]).all() and np.isneginf(walk["margin"]).all()
    why = "inf: no facility of middle_school, clinic in the twin"
    assert (walk["basis"] == why).all()
    listed = (
        "required categories of the 15-min life circle recalled from "
        "GB 50180-2018 Appendix B, not verified: middle_school, clinic"
    )
    assert (walk["unverified_inputs"] == listed).all()
    beijing.to_json(tmp_path / "r.json")
    recs = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    walks = [r for r in recs if r["indicator"] == "life_circle_walk_m"]
    assert len(walks) == 58
    assert all(
        (r["value"], r["margin"], r["basis"]) == ("inf", "-inf", why) for r in walks
    )
    assert float(walks[0]["value"]) == np.inf
    # Missing stays null: values of rows not evaluated.
    ne = [r for r in recs if r["status"] == "not_evaluated"]
    assert ne and all(r["value"] is None and r["basis"] == "" for r in ne)


def test_walk_rule_note_is_current():
    # A note saying a rule waits for an engine must not outlive the engine.
    from cim.indicators import get_indicator

    book = load_rulebook("gb50180-2018")
    rule = next(r for r in book.rules if r.id == "gb50180-3.0.4-walk")
    assert not get_indicator(rule.indicator).pending
    assert "not evaluated until" not in rule.note
    assert "cim.indicators.accessibility" in rule.note
    assert rule.verified is True
    assert rule.clause == (
        "GB 50180-2018 §2.0 (terms: the 15-, 10- and 5-minute life circles) and "
        "Table 3.0.4 [clause no. M]"
    )
    for name in (
        "gb50180-2018",
        "gbt50353-2013",
        "hangzhou",
        "zhejiang-future-community",
    ):
        for r in load_rulebook(name).rules:
            if "until" in r.note and "registered" in r.note:
                assert get_indicator(r.indicator).pending, r.id


@pytest.mark.parametrize(
    ("name", "choices", "cli"),
    [
        ("climate_zone", "I, II, III, IV, V, VI, VII", "--climate-zone III or "),
        ("city_size", "large, small", ""),
    ],
)
def test_missing_parameter_hint_comes_from_the_parameter_entry(name, choices, cli):
    # Each entry of PARAMETERS gives its example and command-line option.
    from cim.check import PARAMETERS, _missing_parameter_hint

    p = PARAMETERS[name]
    example = p.example or p.choices[0]
    hint = _missing_parameter_hint(name)
    assert f"needs planning parameter {name!r} (one of {choices})" in hint
    assert hint.endswith(f"(command line: {cli}--param {name}={example})")


def test_every_parameter_hint_is_a_valid_command_line():
    # The example of each parameter is one of its values, and every option
    # in its hint parses as the `cim check` option it names.
    from cim.check import PARAMETERS, _missing_parameter_hint
    from cim.cli import _parser

    for name, p in PARAMETERS.items():
        hint = _missing_parameter_hint(name)
        cli = re.fullmatch(r".*\(command line: (.*)\)", hint)
        assert cli is not None, name
        for option in cli.group(1).split(" or "):
            flag, value = option.split(" ")
            args = _parser().parse_args(["check", "twin.gpkg", flag, value])
            if flag == "--param":
                assert args.param == [value] and value.startswith(f"{name}=")
                value = value.partition("=")[2]
            else:
                assert flag == p.cli_flag
                assert getattr(args, flag.lstrip("-").replace("-", "_")) == value
            assert p.choices is None or value in p.choices, name


def test_report_tables_right_align_numeric_columns_by_name():
    from cim.report import _table

    html = _table(
        ["rule", "value", "unit", "margin", "rows"], [["r1", 1.5, "m", 0.5, 2]]
    )
    cells = re.findall(r"<td( class=\"num\")?>([^<]*)</td>", html)
    assert cells == [
        ("", "r1"),
        (' class="num"', "1.5"),
        ("", "m"),
        (' class="num"', "0.5"),
        (' class="num"', "2"),
    ]


def test_report_numeric_cells_of_the_rule_tables(twin):
    page = check(twin, "zhejiang-future-community").to_html()
    # One table per parcel, and one for the buildings, where the columns
    # "value" and "margin" sit at different positions.
    for table in re.findall(r"<table>.*?</table>", page):
        header = re.findall(r"<th>([^<]*)</th>", table)
        if "margin" not in header:
            continue
        for row in re.findall(r"<tr[^>]*>(<td.*?)</tr>", table):
            cells = re.findall(r"<td( class=\"num\")?>", row)
            numeric = [h for h, c in zip(header, cells, strict=True) if c]
            assert numeric == ["value", "margin"], header
