"""Tests of the simple storey model's attics (cim.storeys.storeys_from_buildings).

The buildings layer may describe a pitched-roof attic above the top storey
(:data:`cim.storeys.ATTIC_COLUMNS`, written by the CityJSON reader from LoD2
roofs). Expected element tables and floor areas are worked out by hand from
the band areas: GB/T 50353-2013 §3.0.3 counts the plan with a structural
clear height of 2.10 m and more in full, 1.20 m to 2.10 m half, and below
1.20 m not at all.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import box

from cim.errors import LayerSchemaError
from cim.storeys import (
    ATTIC_COLUMNS,
    ELEMENTS,
    attic_band_rows,
    storeys_from_buildings,
    validate_elements,
)
from cim.takeoff import takeoff

ATOL_M2 = 1e-9
ATOL_M = 1e-12


def layer(**columns: object) -> gpd.GeoDataFrame:
    """Two buildings: a 10 x 8 m gable house and a 20 x 12 m block."""
    data = {
        "building_id": ["house", "block"],
        "floors": pd.array([2, 6], dtype="Int64"),
        "height_m": [9.0, 18.0],
    }
    data.update(columns)
    return gpd.GeoDataFrame(
        data, geometry=[box(0, 0, 10, 8), box(30, 0, 50, 12)], crs=28992
    )


def gable_attic() -> dict[str, list[float]]:
    # The house's attic: 80 m2 of plan, 48 m2 from 1.20 m, 24 m2 from 2.10 m;
    # the block has none.
    return dict(
        zip(ATTIC_COLUMNS, ([80.0, 0.0], [48.0, 0.0], [24.0, 0.0]), strict=True)
    )


def test_attic_bands_follow_the_storeys() -> None:
    b = layer(storey_height_m=[3.0, 3.0], **gable_attic())
    els = storeys_from_buildings(b)
    validate_elements(els)
    assert list(els["element_id"][:5]) == [
        "house/1F",
        "house/2F",
        "house/3F#0",
        "house/3F#1",
        "house/3F#2",
    ]
    assert els["element_id"][5] == "block/1F"  # the house's attic comes first
    attic = els[els["kind"] == "attic"]
    assert (attic["building_id"] == "house").all()
    assert attic["level"].tolist() == [3, 3, 3]
    assert attic["storey"].tolist() == ["3F"] * 3
    assert_allclose(attic["area_m2"], [80 - 48, 48 - 24, 24], atol=ATOL_M2)
    assert_allclose(attic["clear_height_m"], [0.0, 1.20, 2.10], atol=ATOL_M)
    assert_allclose(attic["elevation_m"], 6.0, atol=ATOL_M)  # 2 storeys of 3 m
    assert attic["enclosed"].all() and attic["inside_structure"].all()
    result = takeoff(els)
    gfa = result.by_building["gross_floor_area_m2"]
    assert_allclose(gfa["house"], 2 * 80 + (48 - 24) / 2 + 24, atol=ATOL_M2)
    assert_allclose(gfa["block"], 6 * 240, atol=ATOL_M2)
    assert list(result.breakdown["gfa_factor"][2:5]) == [0.0, 0.5, 1.0]


def test_building_storey_height_beats_height_over_floors() -> None:
    # The house's ridge is 9 m, but its storeys are 2.7 m: elevations and the
    # 2.20 m test use 2.7 m, not 9 / 2 = 4.5 m. NaN falls back to height / floors.
    b = layer(storey_height_m=[2.7, np.nan])
    els = storeys_from_buildings(b)
    house = els[els["building_id"] == "house"]
    assert_allclose(house["structural_height_m"], 2.7, atol=ATOL_M)
    assert_allclose(house["elevation_m"], [0.0, 2.7], atol=ATOL_M)
    block = els[els["building_id"] == "block"]
    assert_allclose(block["structural_height_m"], 3.0, atol=ATOL_M)


def test_empty_bands_are_dropped() -> None:
    # An attic 2.10 m high nowhere: two elements; one 1.20 m high nowhere: one.
    cols = dict(
        zip(ATTIC_COLUMNS, ([80.0, 60.0], [30.0, 0.0], [0.0, 0.0]), strict=True)
    )
    els = storeys_from_buildings(layer(**cols))
    attic = els[els["kind"] == "attic"]
    assert attic["element_id"].tolist() == [
        "house/3F#0",
        "house/3F#1",
        "block/7F#0",
    ]
    assert_allclose(attic["area_m2"], [50.0, 30.0, 60.0], atol=ATOL_M2)
    # The block's attic counts nothing, the house's half of 30 m2.
    gfa = takeoff(els).by_building["gross_floor_area_m2"]
    assert_allclose(gfa, [2 * 80 + 15, 6 * 240], atol=ATOL_M2)


def test_without_attic_columns_nothing_changes() -> None:
    els = storeys_from_buildings(layer())
    assert len(els) == 2 + 6
    assert (els["kind"] == "floor").all()
    zero = dict(zip(ATTIC_COLUMNS, ([0.0, np.nan],) * 3, strict=True))
    assert storeys_from_buildings(layer(**zero)).equals(els)


@pytest.mark.parametrize(
    "values",
    [
        ([80.0, 0.0], [90.0, 0.0], [24.0, 0.0]),  # more from 1.20 m than in all
        ([80.0, 0.0], [48.0, 0.0], [-1.0, 0.0]),  # negative
        ([80.0, 0.0], [np.nan, 0.0], [24.0, 0.0]),  # missing
    ],
    ids=["not-nested", "negative", "missing"],
)
def test_inconsistent_attic_areas_are_refused(values: tuple[list[float], ...]) -> None:
    cols = dict(zip(ATTIC_COLUMNS, values, strict=True))
    with pytest.raises(LayerSchemaError, match="missing, negative or not nested") as e:
        storeys_from_buildings(layer(**cols))
    assert e.value.feature_id == ["house"]


def test_attic_without_its_bands_is_refused() -> None:
    with pytest.raises(LayerSchemaError, match="lacks 'attic_area_clear120_m2'"):
        storeys_from_buildings(layer(attic_area_m2=[80.0, 0.0]))


def test_attic_band_rows_cut_each_attic_at_the_breaks() -> None:
    # Two attics: the house's on 3F at 6 m (bands 32, 24, 24 m2), the
    # block's on 7F at 18 m, nowhere 1.20 m high (one band of 60 m2); a
    # band of rounding (1e-7 m2) gets no element.
    rows = attic_band_rows(
        ["house", "block"],
        level=[3, 7],
        plan_m2=[[80.0, 48.0, 24.0], [60.0, 1e-7, 0.0]],
        elevation_m=[6.0, 18.0],
    )
    assert list(rows.columns) == [c.name for c in ELEMENTS.columns]
    assert rows.index.tolist() == [0, 0, 0, 1]  # the attic of each row
    assert rows["element_id"].tolist() == [
        "house/3F#0",
        "house/3F#1",
        "house/3F#2",
        "block/7F#0",
    ]
    assert rows["storey"].tolist() == ["3F"] * 3 + ["7F"]
    assert rows["level"].tolist() == [3, 3, 3, 7]
    assert (rows["kind"] == "attic").all()
    assert_allclose(rows["area_m2"], [32.0, 24.0, 24.0, 60.0 - 1e-7], atol=ATOL_M2)
    assert_allclose(rows["clear_height_m"], [0.0, 1.20, 2.10, 0.0], atol=ATOL_M)
    assert_allclose(rows["elevation_m"], [6.0] * 3 + [18.0], atol=ATOL_M)
    assert rows["structural_height_m"].isna().all()
    assert rows["enclosed"].all() and rows["inside_structure"].all()
    validate_elements(rows)
    empty = attic_band_rows([], level=[], plan_m2=np.empty((0, 3)), elevation_m=[])
    assert len(empty) == 0 and list(empty.columns) == list(rows.columns)


def test_the_simple_model_makes_its_attics_with_attic_band_rows() -> None:
    b = layer(storey_height_m=[3.0, 3.0], **gable_attic())
    els = storeys_from_buildings(b)
    attic = els[els["kind"] == "attic"].reset_index(drop=True)
    rows = attic_band_rows(
        ["house"], level=[3], plan_m2=[[80.0, 48.0, 24.0]], elevation_m=[6.0]
    )
    pd.testing.assert_frame_equal(attic, rows.reset_index(drop=True))
