"""Storey model and floor-area take-off: hand-computed cases and properties."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from shapely.geometry import box

from cim.errors import LayerSchemaError
from cim.rules import RulebookError, load_rulebook, override
from cim.storeys import (
    ELEMENT_KINDS,
    ELEMENTS,
    attic_elements,
    storeys_from_buildings,
    validate_elements,
)
from cim.takeoff import BREAKDOWN_COLUMNS, BY_BUILDING_COLUMNS, takeoff

#: Tolerance for areas [m2] computed two ways (as in tests/conftest.py).
RTOL, ATOL = 1e-9, 1e-6

GB = "gbt50353-2013"
ZJ = "zhejiang-future-community"


def element(
    element_id: str, kind: str, area_m2: float, **values: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "building_id": "b1",
        "storey": "2F",
        "level": 2,
        "element_id": element_id,
        "kind": kind,
        "area_m2": area_m2,
        "structural_height_m": 3.0,
    }
    row.update(values)
    return row


def table(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def row(result: Any, element_id: str) -> pd.Series:
    bd = result.breakdown.set_index("element_id")
    return bd.loc[element_id]


# --- hand-computed cases -----------------------------------------------------


def test_storey_below_2_20_m_counts_half():
    els = table(
        element("low", "floor", 100.0, structural_height_m=2.1),
        element("edge", "floor", 100.0, structural_height_m=2.2),
        element("high", "floor", 100.0, structural_height_m=3.0),
    )
    res = takeoff(els, GB)
    low = row(res, "low")
    assert (low["gfa_factor"], low["gfa_m2"]) == (0.5, 50.0)
    assert (low["factor"], low["counted_m2"]) == (0.5, 50.0)
    assert low["gfa_rule_id"] == low["rule_id"] == "gbt50353-3.0.1-half"
    assert low["clause"] == "GB/T 50353-2013 §3.0.1"
    assert low["verified"] and low["gfa_verified"]
    # 结构层高在2.20m及以上: 2.20 m itself counts in full.
    assert row(res, "edge")["gfa_factor"] == 1.0
    assert res.gross_floor_area_m2 == res.far_area_m2 == 250.0


def test_outside_balcony_half_in_gbt_and_zero_in_zhejiang():
    els = table(
        element("floor", "floor", 100.0),
        element("out", "balcony", 10.0, inside_structure=False),
        element("in", "balcony", 8.0, inside_structure=True),
    )
    gb = takeoff(els, GB)
    assert row(gb, "out")["counted_m2"] == 5.0
    assert row(gb, "out")["rule_id"] == "gbt50353-3.0.21-outside"
    assert row(gb, "in")["counted_m2"] == 8.0
    assert gb.far_area_m2 == gb.gross_floor_area_m2 == 113.0

    zj = takeoff(els, ZJ)
    out = row(zj, "out")
    # Gross floor area still follows GB/T 50353; FAR area follows Zhejiang.
    assert (out["gfa_m2"], out["gfa_rule_id"]) == (5.0, "gbt50353-3.0.21-outside")
    assert (out["counted_m2"], out["rule_id"]) == (0.0, "zj-fc-balcony-far")
    assert out["rulebook"] == ZJ
    assert not out["verified"] and out["gfa_verified"]
    assert "[GAP]" in out["clause"]
    assert row(zj, "in")["counted_m2"] == 0.0
    assert zj.gross_floor_area_m2 == 113.0
    assert zj.far_area_m2 == 100.0
    assert zj.chain == (ZJ, "gb50180-2018", GB)


@pytest.mark.parametrize(
    ("sill", "clear", "factor", "rule_id"),
    [
        (0.30, 2.20, 0.5, "gbt50353-3.0.13-half"),  # meets both tests
        (0.30, 2.10, 0.5, "gbt50353-3.0.13-half"),  # 2.10 m 及以上
        (0.45, 2.40, 0.0, "gbt50353-3.0.27-7-sill"),  # sill 0.45 m 及以上
        (0.60, 2.40, 0.0, "gbt50353-3.0.27-7-sill"),
        (0.30, 2.00, 0.0, "gbt50353-3.0.27-7-low"),  # low sill but too low
    ],
)
def test_bay_window_sill_and_height(sill, clear, factor, rule_id):
    els = table(
        element("bw", "bay_window", 4.0, sill_height_m=sill, clear_height_m=clear)
    )
    bw = row(takeoff(els, GB), "bw")
    assert (bw["gfa_factor"], bw["rule_id"]) == (factor, rule_id)
    assert bw["counted_m2"] == 4.0 * factor
    zj = row(takeoff(els, ZJ), "bw")
    assert (zj["gfa_m2"], zj["counted_m2"]) == (4.0 * factor, 0.0)


def test_stilt_floor_counted_nationally_and_excluded_in_zhejiang():
    els = table(
        element(
            "stilt", "stilt_floor", 400.0, storey="1F", level=1, structural_height_m=3.6
        ),
        element(
            "low-stilt",
            "stilt_floor",
            100.0,
            storey="1F",
            level=1,
            structural_height_m=2.0,
        ),
    )
    gb = takeoff(els, GB)
    assert row(gb, "stilt")["counted_m2"] == 400.0
    assert row(gb, "low-stilt")["counted_m2"] == 50.0
    assert row(gb, "stilt")["clause"] == "GB/T 50353-2013 §3.0.7"
    zj = takeoff(els, ZJ)
    assert zj.gross_floor_area_m2 == 450.0
    assert zj.far_area_m2 == 0.0
    assert set(zj.breakdown["rule_id"]) == {"zj-fc-stilt-floor-far"}


def test_open_passages_and_public_space():
    els = table(
        element("pass", "disaster_passage", 60.0, storey="1F", level=1, enclosed=False),
        element(
            "pos", "public_open_space", 200.0, storey="1F", level=1, enclosed=False
        ),
        element("hall", "public_open_space", 80.0, storey="1F", level=1, enclosed=True),
    )
    gb = takeoff(els, GB)
    assert row(gb, "pass")["gfa_m2"] == 0.0
    assert row(gb, "pos")["rule_id"] == "gbt50353-3.0.27-2-open"
    assert row(gb, "hall")["gfa_m2"] == 80.0
    zj = takeoff(els, ZJ)
    assert zj.gross_floor_area_m2 == 80.0 and zj.far_area_m2 == 0.0


def test_refuge_plant_basement_and_others():
    els = table(
        element("ref", "refuge_floor", 300.0, structural_height_m=2.0),
        element("plant", "plant_floor", 300.0, structural_height_m=4.5),
        element("b1", "basement", 500.0, storey="B1", level=-1),
        element("corr", "external_corridor", 20.0),
        element("stair", "external_stair", 12.0),
        element("terr", "terrace", 30.0),
    )
    res = takeoff(els, GB)
    got = res.breakdown.set_index("element_id")["gfa_m2"].to_dict()
    assert got == {
        "ref": 150.0,
        "plant": 300.0,
        "b1": 500.0,
        "corr": 10.0,
        "stair": 6.0,
        "terr": 0.0,
    }
    by = res.by_building.loc["b1"]
    assert by["far_area_m2"] == 966.0
    # The basement is FAR-counted by GB/T 50353 but below ground.
    assert by["far_above_ground_m2"] == 466.0
    assert not row(res, "b1")["above_ground"]


def test_sloped_attic_bands():
    # A 10 m wide gable attic, 20 m long: 0 m clear at the eaves, 3 m at the
    # ridge. Bands: < 1.20 m over 2 x 2 m, 1.20-2.10 m over 2 x 1.5 m,
    # >= 2.10 m over 2 x 1.5 m.
    attic = {"building_id": "b1", "storey": "7F", "level": 7, "element_id": "att"}
    bands = attic_elements(
        attic,
        length_m=20.0,
        profile_x_m=[0, 5, 10],
        profile_clear_height_m=[0.0, 3.0, 0.0],
    )
    assert_allclose(bands["area_m2"], [80.0, 60.0, 60.0], rtol=RTOL, atol=ATOL)
    res = takeoff(bands, GB)
    assert list(res.breakdown["gfa_factor"]) == [0.0, 0.5, 1.0]
    assert list(res.breakdown["rule_id"]) == [
        "gbt50353-3.0.3-excluded",
        "gbt50353-3.0.3-half",
        "gbt50353-3.0.3-full",
    ]
    assert_allclose(res.gross_floor_area_m2, 90.0, rtol=RTOL, atol=ATOL)


def test_attic_bands_of_a_mono_pitch_that_never_reaches_2_10_m():
    attic = {"building_id": "b1", "storey": "RF", "level": 4, "element_id": "a"}
    bands = attic_elements(
        attic, length_m=10.0, profile_x_m=[0.0, 4.0], profile_clear_height_m=[0.4, 2.0]
    )
    # 1.20 m is reached at x = 2.
    assert list(bands["element_id"]) == ["a#0", "a#1"]
    assert_allclose(bands["area_m2"], [20.0, 20.0], rtol=RTOL, atol=ATOL)
    assert list(bands["clear_height_m"]) == [0.4, 1.2]
    with pytest.raises(ValueError, match="invalid profile_x_m"):
        attic_elements(
            attic,
            length_m=10.0,
            profile_x_m=[0.0, 0.0],
            profile_clear_height_m=[1.0, 2.0],
        )
    with pytest.raises(ValueError, match="invalid length_m"):
        attic_elements(
            attic,
            length_m=0.0,
            profile_x_m=[0.0, 1.0],
            profile_clear_height_m=[1.0, 2.0],
        )


# --- output shape, flags and overrides ---------------------------------------


def test_breakdown_and_by_building_columns():
    els = table(
        element("f1", "floor", 100.0),
        element("f2", "floor", 120.0, building_id="b2"),
    )
    res = takeoff(els, ZJ)
    assert tuple(res.breakdown.columns) == BREAKDOWN_COLUMNS
    assert list(res.breakdown["element_id"]) == ["f1", "f2"]
    assert tuple(res.by_building.columns) == BY_BUILDING_COLUMNS
    assert res.by_building.index.name == "building_id"
    assert list(res.by_building.index) == ["b1", "b2"]
    assert res.by_building.loc["b2", "gross_floor_area_m2"] == 120.0
    assert res.rulebook == ZJ
    assert res.breakdown["gfa_measure"].eq("area_m2").all()


def test_storey_sources_pass_through_or_read_given():
    # A drawn element table lists its storeys: they are given, not estimated.
    els = table(element("f1", "floor", 100.0), element("f2", "floor", 100.0))
    res = takeoff(els, GB)
    assert res.breakdown["floors_source"].tolist() == ["elements", "elements"]
    assert res.breakdown["storey_height_source"].tolist() == ["elements"] * 2
    # Sources an element table carries are kept, element by element.
    els["floors_source"] = ["default", None]
    els["storey_height_source"] = ["default", "measured"]
    res = takeoff(els, GB)
    assert res.breakdown["floors_source"].tolist() == ["default", "elements"]
    assert res.breakdown["storey_height_source"].tolist() == ["default", "measured"]


def test_unverified_flags_propagate():
    els = table(
        element("floor", "floor", 100.0),
        element("out", "balcony", 10.0, inside_structure=False),
        element("bw", "bay_window", 3.0, sill_height_m=0.3, clear_height_m=2.2),
    )
    res = takeoff(els, ZJ)
    assert list(res.unverified()["element_id"]) == ["out", "bw"]
    assert res.by_building.loc["b1", "unverified_area_m2"] == 13.0
    assert takeoff(els, GB).unverified().empty


def test_overridden_rule_is_flagged():
    els = table(element("low", "floor", 100.0, structural_height_m=2.0))
    book = override(load_rulebook(GB), "gbt50353-3.0.1-half", factor=1.0)
    res = takeoff(els, book)
    assert res.far_area_m2 == 100.0
    assert not row(res, "low")["verified"]
    assert res.by_building.loc["b1", "unverified_area_m2"] == 100.0
    assert res.overrides == ("gbt50353-3.0.1-half: factor 0.5 -> 1.0 (by override())",)


def test_far_multiple_for_a_tall_storey(tmp_path):
    # A city rule counting storeys of 5.6 m and more twice for FAR only.
    path = tmp_path / "city.toml"
    path.write_text(
        'id = "city"\ntitle = "t"\njurisdiction = "CN-X"\nversion = "1"\n'
        'extends = "gbt50353-2013"\n'
        '[[area_rules]]\nid = "city-tall"\nkinds = ["floor"]\n'
        'conditions = [["structural_height_m", ">=", 5.6]]\nfactor = 2.0\n'
        'basis = "far"\nclause = "city §1"\nverified = true\n',
        encoding="utf-8",
    )
    els = table(element("tall", "floor", 100.0, structural_height_m=6.0))
    res = takeoff(els, path)
    assert (res.gross_floor_area_m2, res.far_area_m2) == (100.0, 200.0)


# --- unmatched elements raise ------------------------------------------------


def test_kind_without_rule_raises(tmp_path):
    path = tmp_path / "floors-only.toml"
    path.write_text(
        'id = "floors-only"\ntitle = "t"\njurisdiction = "CN"\nversion = "1"\n'
        '[[area_rules]]\nid = "all-floors"\nkinds = ["floor"]\nfactor = 1.0\n'
        'clause = "x"\nverified = true\n',
        encoding="utf-8",
    )
    els = table(
        element("f", "floor", 100.0),
        element("bal", "balcony", 5.0, inside_structure=False),
    )
    with pytest.raises(RulebookError) as info:
        takeoff(els, path)
    msg = str(info.value)
    assert "'bal'" in msg and "'balcony'" in msg and "no rule covers kind" in msg
    assert info.value.file == str(path.resolve())


def test_missing_attribute_raises_naming_element_and_column():
    els = table(element("bal", "balcony", 5.0))  # inside_structure unknown
    with pytest.raises(LayerSchemaError) as info:
        takeoff(els, GB)
    assert info.value.column == "inside_structure"
    assert info.value.feature_id == ["bal"]
    assert "'bal'" in str(info.value) and "gbt50353-3.0.21-inside" in str(info.value)
    els = table(element("f", "floor", 100.0, structural_height_m=np.nan))
    with pytest.raises(LayerSchemaError, match="structural_height_m is missing"):
        takeoff(els, GB)


def test_values_no_rule_covers_raise():
    book = override(
        load_rulebook(GB),
        "gbt50353-3.0.1-half",
        conditions=[("structural_height_m", "<", 2.0)],
    )
    els = table(element("gap", "floor", 100.0, structural_height_m=2.1))
    with pytest.raises(RulebookError, match=r"structural_height_m = 2\.1"):
        takeoff(els, book)


# --- the element table -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"kind": "balcny"}, "kind", "'balcny' not allowed; use one of floor"),
        ({"element_id": "e0"}, "element_id", "duplicate ids"),
        ({"level": 0}, "level", "0 is not a level"),
        ({"area_m2": -1.0}, "area_m2", "negative"),
        ({"area_m2": np.nan}, "area_m2", "missing; every element needs it"),
        ({"area_m2": np.inf}, "area_m2", "not a finite number"),
        ({"kind": "basement"}, "level", "a basement must have a negative level"),
        ({"storey": "1F"}, "level", "one storey label has several levels"),
        ({"structural_height_m": -3.0}, "structural_height_m", "negative"),
    ],
)
def test_validate_elements_errors(change, column, message):
    els = table(
        element("e0", "floor", 100.0, storey="1F", level=1),
        element("e1", "floor", 100.0),
    )
    for key, value in change.items():
        els.loc[1, key] = value
    with pytest.raises(LayerSchemaError) as info:
        validate_elements(els)
    assert info.value.column == column
    assert message in str(info.value)
    assert "'e1'" in str(info.value) or column == "element_id"


def test_validate_elements_missing_column_and_defaults():
    els = table(element("e0", "floor", 100.0)).drop(columns="level")
    with pytest.raises(LayerSchemaError, match="lack required column 'level'"):
        validate_elements(els)
    els = table(element("e0", "floor", 100.0)).assign(extra="kept")
    out = validate_elements(els)
    assert list(out.columns) == [c.name for c in ELEMENTS.columns] + ["extra"]
    assert out["enclosed"].isna().all() and np.isnan(out["sill_height_m"]).all()


def test_storeys_from_buildings(measured_buildings):
    els = storeys_from_buildings(measured_buildings)
    assert len(els) == 6 + 4 + 10 + 3
    b1 = els[els["building_id"] == "b1"]
    assert list(b1["storey"]) == ["1F", "2F", "3F", "4F", "5F", "6F"]
    assert list(b1["level"]) == [1, 2, 3, 4, 5, 6]
    assert b1["element_id"].iloc[0] == "b1/1F"
    # 30 x 12 m with a 4 x 4 m courtyard.
    assert_allclose(b1["area_m2"], 344.0, rtol=RTOL, atol=ATOL)
    assert_allclose(b1["structural_height_m"], 3.0, rtol=RTOL, atol=ATOL)
    assert_allclose(b1["elevation_m"], [0, 3, 6, 9, 12, 15], rtol=RTOL, atol=ATOL)
    validate_elements(els)
    res = takeoff(els)
    expected = measured_buildings.geometry.area.to_numpy() * [6, 4, 10, 3]
    assert_allclose(
        res.by_building["gross_floor_area_m2"], expected, rtol=RTOL, atol=ATOL
    )


def test_storeys_from_buildings_missing_floors(buildings):
    with pytest.raises(LayerSchemaError, match="'b3', 'b4' have no 'floors'"):
        storeys_from_buildings(buildings)


def test_storeys_from_buildings_unknown_height_uses_storey_height(measured_buildings):
    b = measured_buildings.copy()
    b["height_m"] = np.nan
    els = storeys_from_buildings(b, storey_height_m=2.1)
    assert (els["structural_height_m"] == 2.1).all()
    # Every storey is below 2.20 m: all count half.
    res = takeoff(els)
    assert_allclose(res.gross_floor_area_m2, 0.5 * els["area_m2"].sum(), rtol=RTOL)
    with pytest.raises(ValueError, match="invalid storey_height_m"):
        storeys_from_buildings(b, storey_height_m=0.0)


# --- properties --------------------------------------------------------------


@st.composite
def element_rows(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(ELEMENT_KINDS))
    level = -draw(st.integers(1, 3)) if kind == "basement" else draw(st.integers(1, 30))
    height = st.floats(0.0, 6.0, allow_nan=False)
    return {
        "building_id": draw(st.sampled_from(["b1", "b2", "b3"])),
        "storey": f"L{level}",
        "level": level,
        "kind": kind,
        "area_m2": draw(st.floats(0.0, 5000.0, allow_nan=False)),
        "structural_height_m": draw(height),
        "clear_height_m": draw(height),
        "sill_height_m": draw(st.floats(0.0, 1.5, allow_nan=False)),
        "enclosed": draw(st.booleans()),
        "inside_structure": draw(st.booleans()),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(element_rows(), min_size=1, max_size=25), st.sampled_from([GB, ZJ]))
def test_counted_never_exceeds_gross(rows, book):
    els = pd.DataFrame(rows).assign(element_id=[f"e{i}" for i in range(len(rows))])
    res = takeoff(els, book)
    bd = res.breakdown
    assert (bd["counted_m2"] <= bd["gfa_m2"] + ATOL).all()
    assert (bd["gfa_m2"] <= bd["area_m2"] + ATOL).all()
    assert bd["gfa_factor"].isin([0.0, 0.5, 1.0]).all()
    by = res.by_building
    assert (by["far_area_m2"] <= by["gross_floor_area_m2"] + ATOL).all()
    assert (by["gross_floor_area_m2"] <= by["element_area_m2"] + ATOL).all()
    assert res.far_area_m2 <= res.gross_floor_area_m2 + ATOL


@settings(max_examples=40, deadline=None)
@given(
    width=st.floats(5.0, 80.0),
    depth=st.floats(5.0, 40.0),
    floors=st.integers(1, 20),
    times=st.integers(2, 4),
    storey_height=st.floats(1.8, 4.5),
    book=st.sampled_from([GB, ZJ]),
)
def test_plot_ratio_scales_linearly_with_floors(
    width, depth, floors, times, storey_height, book
):
    # height / floors may round across the 2.20 m limit; keep clear of it.
    assume(abs(storey_height - 2.2) > 1e-9)
    site_area_m2 = 10_000.0

    def plot_ratio(n: int) -> float:
        b = gpd.GeoDataFrame(
            {"building_id": ["b1"], "floors": [n], "height_m": [n * storey_height]},
            geometry=[box(440_000, 4_428_000, 440_000 + width, 4_428_000 + depth)],
            crs="EPSG:32650",
        )
        return takeoff(storeys_from_buildings(b), book).far_area_m2 / site_area_m2

    assert_allclose(
        plot_ratio(times * floors), times * plot_ratio(floors), rtol=RTOL, atol=ATOL
    )
