"""Renovation: classification rules as data, packages as edits, costs, fund balance."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import cim
from scenarios import sweep
from scenarios.renovation import (
    RenovationConfig,
    RenovationDataError,
    classify,
    compare_packages,
    demo,
    load_classification_rules,
    load_packages,
    sample_estate,
)

CRS = "EPSG:4549"
X, Y = 515_000.0, 3_353_000.0


def _twin(rows: list[dict], *, site: float = 100.0) -> cim.Twin:
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "xy"} for r in rows],
        geometry=[
            box(
                X + r["xy"][0], Y + r["xy"][1], X + r["xy"][0] + 20, Y + r["xy"][1] + 10
            )
            for r in rows
        ],
        crs=CRS,
    )
    return cim.Twin(
        crs=CRS,
        name="hand-made",
        buildings=frame,
        site=gpd.GeoDataFrame(
            {"site_id": ["s"]}, geometry=[box(X, Y, X + site, Y + site)], crs=CRS
        ),
    )


def _b(bid, xy, floors, year, structure="brick_concrete", use="residential", **kw):
    return {
        "building_id": bid,
        "xy": xy,
        "floors": floors,
        "height_m": 3.0 * floors,
        "year_built": year,
        "structure": structure,
        "use": use,
        "households": 10 if use == "residential" else 0,
        **kw,
    }


@pytest.fixture
def hand_made() -> cim.Twin:
    return _twin(
        [
            _b("p", (0, 0), 6, 1985, "precast_hollow_core"),
            _b("b", (30, 0), 5, 1995, has_lift=True),
            _b("n", (60, 0), 18, 2012, "reinforced_concrete", has_lift=True),
            _b("o", (0, 30), 3, 1970, use="office", has_lift=False),
            _b("u", (30, 30), 6, None),
        ]
    )


# -- classification --------------------------------------------------------------------


def test_classification_of_a_hand_made_twin(hand_made):
    c = classify(hand_made, year=2026)
    t = c.table.set_index("building_id")
    assert t["age_years"].to_dict() == pytest.approx(
        {"p": 41.0, "b": 31.0, "n": 14.0, "o": 56.0, "u": np.nan}, nan_ok=True
    )
    assert t["era"].tolist()[:4] == [
        "pre_energy_code",
        "pre_energy_code",
        "energy_code_65pct",
        "pre_energy_code",
    ]
    assert pd.isna(t.loc["u", "era"])
    flags = {
        b: [a for a in c.rules.actions if t.loc[b, a]]
        for b in ("p", "b", "n", "o", "u")
    }
    assert flags == {
        "p": [
            "renovate_or_demolish",
            "lift_retrofit",
            "energy_retrofit",
            "old_community",
        ],
        "b": ["energy_retrofit", "old_community"],
        "n": [],
        "o": ["rebuild_candidate"],
        "u": ["lift_retrofit"],
    }
    assert t["mandatory"].tolist() == [True, False, False, False, False]
    assert t.loc["p", "recommendation"].startswith("demolish or renovate")
    assert (
        t.loc["b", "recommendation"]
        == "renovate: insulate the envelope, replace windows"
    )
    assert t.loc["n", "recommendation"] == "keep"
    assert t.loc["o", "recommendation"] == "assess the structure; rebuild candidate"
    # has_lift is missing on p and u only: the default is assumed and reported.
    assert t["assumed"].to_dict() == {
        "p": "has_lift",
        "b": "",
        "n": "",
        "o": "",
        "u": "has_lift",
    }
    assert c.ids("renovate_or_demolish") == ["p"]
    summary = c.summary().set_index("rule")
    assert summary.loc["precast-hollow-core", "buildings"] == 1
    assert not summary["verified"].any()  # every rule states it is unverified
    assert hand_made.buildings is hand_made.buildings  # untouched
    assert "age_years" not in hand_made.buildings.columns


def test_classification_rules_are_data(hand_made, tmp_path):
    bundled = Path(load_classification_rules().source_file)
    custom = tmp_path / "rules.toml"
    body = bundled.read_text(encoding="utf-8")
    body = body.replace('["age_years", ">=", 50]', '["age_years", ">=", 40]')
    custom.write_text(body, encoding="utf-8")
    c = classify(hand_made, rules=custom, year=2026)
    assert c.ids("rebuild_candidate") == ["p", "o"]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[rules]]\nid = "x"\nconditions = [["floors", "~", 3]]\naction = "a"\n'
        'source = "s"\nverified = false\n',
        encoding="utf-8",
    )
    with pytest.raises(
        RenovationDataError, match=r"rules\[0\].conditions\[0\]: invalid op '~'"
    ):
        load_classification_rules(bad)


def test_sample_estate_classification():
    estate = sample_estate()
    c = classify(estate, year=2026)
    assert len(c.ids("renovate_or_demolish")) == 6
    assert len(c.ids("old_community")) == 12
    assert c.ids("rebuild_candidate") == ["R1A", "R1B", "R1C"]
    assert not c.ids("lift_retrofit")[0].startswith("N")
    assert estate.metadata["planning"]["climate_zone"] == "III"


# -- packages, costs and the fund balance ----------------------------------------------

PACKAGES = """
id = "test"
[parameters.sale_price_cny_m2]
value = 20000.0
verified = false
source = "test"
[parameters.rehousing_ratio]
value = 1.0
verified = false
source = "test"
[parameters.required_balance_cny]
value = 0.0
verified = false
source = "test"
[parameters.max_floors]
value = 30
verified = false
source = "test"
[parameters.new_storey_height_m]
value = 3.0
verified = false
source = "test"

[[packages]]
id = "fix"
[[packages.steps]]
op = "retrofit"
select = "lift_retrofit"
attributes = { has_lift = true }
[[packages.steps]]
op = "retrofit"
select = "renovate_or_demolish"
attributes = { slab_risk_removed = true }
[[packages.steps]]
op = "roof_greening"
select = "scope"
share = 0.5
[[packages.steps]]
op = "service_space"
select = "scope"
area_m2 = 100.0
categories = ["community_centre"]
[[packages.costs]]
item = "works"
select = "scope"
basis = "gfa"
rate_cny_m2 = 500.0
verified = false
source = "test"
[[packages.costs]]
item = "lifts"
select = "lift_retrofit"
basis = "gfa"
rate_cny_m2 = 200.0
verified = false
source = "test"
[[packages.costs]]
item = "green"
basis = "green_area"
rate_cny_m2 = 300.0
verified = false
source = "test"
[[packages.costs]]
item = "service"
basis = "service_area"
rate_cny_m2 = 2000.0
verified = false
source = "test"

[[packages]]
id = "new"
far_uplift = 0.2
[[packages.steps]]
op = "rebuild"
select = "scope"
[[packages.costs]]
item = "demolition"
basis = "demolished_gfa"
rate_cny_m2 = 100.0
verified = false
source = "test"
[[packages.costs]]
item = "relocation"
basis = "demolished_residential_gfa"
rate_cny_m2 = 1000.0
verified = false
source = "test"
[[packages.costs]]
item = "construction"
basis = "new_gfa"
rate_cny_m2 = 3000.0
verified = false
source = "test"
"""


@pytest.fixture
def two_slabs(tmp_path):
    """Two 20 x 10 m, 6-storey precast walk-ups and a 2015 tower on 100 x 100 m."""
    twin = _twin(
        [
            _b("A", (0, 0), 6, 1985, "precast_hollow_core"),
            _b("B", (0, 40), 6, 1990, "precast_hollow_core"),
            _b("C", (60, 0), 10, 2015, "reinforced_concrete", has_lift=True),
        ]
    )
    path = tmp_path / "packages.toml"
    path.write_text(PACKAGES, encoding="utf-8")
    config = RenovationConfig(
        packages_file=str(path), indicators=("takeoff",), year=2026
    )
    return twin, config


def test_comprehensive_costs_by_hand(two_slabs):
    twin, config = two_slabs
    r = RenovationConfig(**{**config.__dict__, "package": "fix"}).run(twin)
    # GFA in scope: A and B, 200 m2 x 6 storeys each = 2,400 m2.
    bill = r.bill.set_index("item")
    assert bill["quantity_m2"].to_dict() == {
        "works": 2400.0,
        "lifts": 2400.0,
        "green": 200.0,  # half of two 200 m2 roofs
        "service": 100.0,
    }
    assert r.cost_cny == 500 * 2400 + 200 * 2400 + 300 * 200 + 2000 * 100  # 1,940,000
    assert r.revenue_cny == 0 and r.added_saleable_m2 == 0
    assert r.balance_cny == -1_940_000 and not r.balanced
    assert r.safety_risk_before == 2 and r.safety_risk_remaining == 0
    assert r.far_after == pytest.approx(r.far_before) == pytest.approx(0.44)
    t = r.twin
    assert t.buildings.set_index("building_id").loc["A", "service_space_m2"] == 100.0
    assert set(t.greens["kind"]) == {"roof"}
    assert "reno-community_centre" in set(t.facilities["facility_id"])
    assert len(twin.greens) == 0  # the baseline is untouched


def test_rebuild_with_far_uplift_by_hand(two_slabs):
    twin, config = two_slabs
    study = compare_packages(twin, ["fix", "new"], config=config)
    r = study.results["new"]
    # +0.2 FAR on 10,000 m2 = 2,000 m2, shared by footprint: 2,200 m2 = 11 storeys each.
    floors = r.twin.buildings.set_index("building_id")["floors"]
    assert floors.to_dict() == {"A": 11, "B": 11, "C": 10}
    assert r.demolished_gfa_m2 == 2400 and r.new_gfa_m2 == 4400
    assert r.added_saleable_m2 == 4400 - 1.0 * 2400
    assert r.cost_cny == 100 * 2400 + 1000 * 2400 + 3000 * 4400  # 15,840,000
    assert r.revenue_cny == 2000 * 20000.0
    assert r.balance_cny == 40_000_000 - 15_840_000
    assert r.far_after - r.far_before == pytest.approx(0.2)
    assert r.safety_risk_remaining == 0
    new = r.twin.buildings.set_index("building_id").loc["A"]
    assert new["year_built"] == 2026 and bool(new["has_lift"])
    assert new["height_m"] == pytest.approx(33.0)
    ranking = study.ranking
    assert ranking["package"].tolist() == ["new", "fix"]
    assert ranking["rank"].tolist() == [1, 2] and ranking["feasible"].all()
    # The sale price is a parameter.
    cheap = RenovationConfig(
        **{**config.__dict__, "package": "new", "sale_price_cny_m2": 5000.0}
    ).run(twin)
    assert cheap.balance_cny == 2000 * 5000.0 - 15_840_000 and not cheap.balanced


def test_sweep_far_uplift_against_fund_balance(two_slabs):
    twin, config = two_slabs
    make = functools.partial(
        RenovationConfig,
        package="new",
        packages_file=config.packages_file,
        indicators=("takeoff",),
        year=2026,
    )
    result = sweep(twin, make, {"far_uplift": [0.0, 0.2, 0.4]}, scheduler="serial")
    t = result.table
    # balance = 20,000 x 10,000 u - (100 + 1,000 + 3,000) x 2,400 - 3,000 x 10,000 u
    expected = [170_000_000 * u - 9_840_000 for u in (0.0, 0.2, 0.4)]
    assert t["balance_cny"].tolist() == pytest.approx(expected)
    assert t["far_after"].diff().dropna().tolist() == pytest.approx([0.2, 0.2])
    assert "takeoff.site_far" in result.metrics


def test_package_errors(two_slabs, tmp_path):
    twin, config = two_slabs
    with pytest.raises(
        RenovationDataError, match=r"invalid package 'nope'; expected one of fix, new"
    ):
        RenovationConfig(**{**config.__dict__, "package": "nope"}).run(twin)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[packages]]\nid = "x"\n[[packages.costs]]\nitem = "i"\nbasis = "volume"\n'
        'rate_cny_m2 = 1.0\nverified = false\nsource = "s"\n',
        encoding="utf-8",
    )
    with pytest.raises(RenovationDataError, match=r"invalid basis 'volume'"):
        load_packages(bad)
    with pytest.raises(ValueError, match="far_uplift must be a finite number >= 0"):
        RenovationConfig(
            **{**config.__dict__, "package": "new", "far_uplift": -1.0}
        ).run(twin)


def test_bundled_costs_are_all_unverified_with_sources():
    book = load_packages()
    assert set(book.packages) == {"comprehensive", "partial", "rebuild"}
    for p in book.packages.values():
        assert p.costs
        for c in p.costs:
            assert c.verified is False and c.source
    assert book.parameters["sale_price_cny_m2"].verified is False


# -- the sample estate: three packages, ranked -----------------------------------------


def test_three_packages_on_the_sample_estate():
    estate = sample_estate()
    study = compare_packages(
        estate, config=RenovationConfig(indicators=("takeoff",), year=2026)
    )
    r = study.ranking.set_index("package")
    assert set(r.index) == {"comprehensive", "partial", "rebuild"}
    assert (r["safety_risk_remaining"] == 0).all()
    assert r.loc["comprehensive", "balance_cny"] == -r.loc["comprehensive", "cost_cny"]
    assert r.loc["comprehensive", "far_after"] == pytest.approx(
        r.loc["comprehensive", "far_before"]
    )
    assert (
        r.loc["rebuild", "far_after"]
        > r.loc["partial", "far_after"]
        > r.loc["partial", "far_before"]
    )
    for res in study.results.values():
        assert res.cost_cny == pytest.approx(res.bill["cost_cny"].sum())
    assert study.results["partial"].plan.rebuilt == tuple(
        classify(estate, year=2026).ids("renovate_or_demolish")
    )


def test_sunlight_losses_make_a_package_infeasible():
    pytest.importorskip("cim.sunlight")
    estate = sample_estate()
    study = compare_packages(
        estate,
        ["comprehensive", "rebuild"],
        far_uplift=1.0,
        config=RenovationConfig(indicators=("takeoff", "sunlight"), year=2026),
    )
    r = study.ranking.set_index("package")
    assert r.loc["rebuild", "neighbours_losing_sunlight"] >= 1
    assert not r.loc["rebuild", "feasible"]
    assert "1 neighbour loses sunlight compliance" in r.loc["rebuild", "why"]
    assert r.loc["comprehensive", "neighbours_losing_sunlight"] == 0
    assert study.ranking["package"].tolist() == ["comprehensive", "rebuild"]


def test_demo_writes_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    text = demo(tmp_path, year=2026)
    html = (tmp_path / "renovation.html").read_text(encoding="utf-8")
    assert "Ranked renovation packages" in html and "data:image/png;base64," in html
    assert "1. " in text and "comprehensive" in text
    # Years of completion as years (1975, not 1,975). Fails if table_html
    # groups the thousands of year_built again.
    assert "<td>1975</td>" in html and "<td>2006</td>" in html
    assert not re.search(r"<td>(19|20)\d,\d{2}</td>", html)


@pytest.mark.parametrize(
    ("column", "is_year"),
    [
        ("year_built", True),
        ("year", True),
        ("reference_year", True),
        ("Year_Built", True),
        ("age_years", False),
        ("payback_years", False),
        ("yearly_cost_cny", False),
        ("cost_cny", False),
    ],
)
def test_year_columns_are_told_by_name(column, is_year):
    from scenarios.report import is_year_column

    assert is_year_column(column) is is_year


def test_table_html_shows_years_without_thousands_separators():
    # Fails if years are grouped ("1,975") or other numbers lose their
    # separators; Int64 with NA and float years (after a NaN) both count.
    from scenarios.report import fmt, table_html

    frame = pd.DataFrame(
        {
            "year_built": pd.array([1975, pd.NA, 2006], dtype="Int64"),
            "reference_year": [2026.0, np.nan, 2026.0],
            "age_years": [51, 0, 1200],
            "cost_cny": [1_234_567.0, 1500.0, 12.5],
        }
    )
    html = table_html(frame)
    assert "<td>1975</td>" in html and "<td>2006</td>" in html
    assert "<td>2026</td>" in html and "<td>–</td>" in html
    assert "1,975" not in html and "2,026" not in html
    assert "<td>1,200</td>" in html and "<td>1,234,567</td>" in html
    assert fmt(1975) == "1,975" and fmt(1975, grouping=False) == "1975"
    assert fmt(1975.0, grouping=False) == "1975"
