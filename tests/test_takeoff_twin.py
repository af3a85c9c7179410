"""Take-off over a whole twin: simple buildings and detailed element tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from cim.takeoff import twin_elements, twin_takeoff, with_floor_areas


def test_simple_buildings_are_footprint_times_floors(twin):
    result = twin_takeoff(twin)
    b = twin.buildings
    expected = shapely.area(b.geometry.array) * b["floors"].to_numpy("float64")
    got = result.by_building["gross_floor_area_m2"].reindex(b["building_id"])
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-12)


def test_detailed_elements_replace_the_simple_model(twin):
    bid = twin.buildings["building_id"].iloc[0]
    elements = pd.DataFrame(
        {
            "building_id": [bid] * 3,
            "storey": ["1F", "1F", "2F"],
            "level": [1, 1, 2],
            "element_id": ["e1", "e2", "e3"],
            "kind": ["stilt_floor", "balcony", "floor"],
            "area_m2": [100.0, 10.0, 100.0],
            "structural_height_m": [3.0, 3.0, 2.1],
            "inside_structure": [pd.NA, False, pd.NA],
        }
    )
    detailed = twin.with_layer("elements", elements)
    table = twin_elements(detailed)
    assert set(table.loc[table["building_id"] == bid, "element_id"]) == {
        "e1",
        "e2",
        "e3",
    }
    national = twin_takeoff(detailed).by_building.loc[bid]
    zhejiang = twin_takeoff(detailed, "zhejiang-future-community").by_building.loc[bid]
    # GB/T 50353: stilt floor >= 2.2 m in full, outside balcony half, low storey half.
    assert national["gross_floor_area_m2"] == pytest.approx(100 + 5 + 50)
    assert national["far_area_m2"] == pytest.approx(100 + 5 + 50)
    # Zhejiang: stilt floors and balconies are not FAR area.
    assert zhejiang["gross_floor_area_m2"] == pytest.approx(155)
    assert zhejiang["far_area_m2"] == pytest.approx(50)


def test_with_floor_areas_adds_columns_and_keeps_the_input(twin):
    out = with_floor_areas(twin, "zhejiang-future-community")
    assert "far_area_m2" not in twin.buildings.columns
    assert (out.buildings["far_area_m2"] <= out.buildings["gross_floor_area_m2"]).all()
    assert (out.buildings["far_rulebook"] == "zhejiang-future-community").all()
    assert (out.buildings["height_source"] == twin.buildings["height_source"]).all()
