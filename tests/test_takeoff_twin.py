"""Take-off over a whole twin: simple buildings and detailed element tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from cim.cli import main
from cim.takeoff import (
    BREAKDOWN_COLUMNS,
    SOURCE_COLUMNS,
    twin_elements,
    twin_takeoff,
    with_floor_areas,
)


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


def test_breakdown_says_how_each_buildings_storeys_were_obtained(twin, tmp_path):
    # b1: 6 storeys and 18 m measured; b2: 4 storeys measured, height from
    # them (4 x 3 m), so its storeys are 3 m by default; b3: 30 m measured,
    # round(30 / 3) = 10 storeys from it, 30 / 10 m each; b4: neither, the
    # default storeys of its use at the default 3 m.
    bd = twin_takeoff(twin).breakdown
    per = bd.groupby("building_id")[list(SOURCE_COLUMNS)].agg(set)
    assert per.to_dict("index") == {
        "b1": {"floors_source": {"measured"}, "storey_height_source": {"measured"}},
        "b2": {"floors_source": {"measured"}, "storey_height_source": {"default"}},
        "b3": {"floors_source": {"height"}, "storey_height_source": {"estimated"}},
        "b4": {"floors_source": {"default"}, "storey_height_source": {"default"}},
    }
    el = twin_elements(twin)
    np.testing.assert_allclose(
        el.loc[el["building_id"] == "b3", "structural_height_m"], 3.0, rtol=1e-12
    )
    # A building described element by element: its storeys are given.
    elements = pd.DataFrame(
        {
            "building_id": ["b4"],
            "storey": ["1F"],
            "level": [1],
            "element_id": ["e1"],
            "kind": ["floor"],
            "area_m2": [100.0],
            "structural_height_m": [3.0],
        }
    )
    detailed = twin_takeoff(twin.with_layer("elements", elements)).breakdown
    b4 = detailed[detailed["building_id"] == "b4"]
    assert b4["floors_source"].tolist() == ["elements"]
    assert b4["storey_height_source"].tolist() == ["elements"]
    # The command line's CSV keeps every column, the new ones last.
    path, out = tmp_path / "site.gpkg", tmp_path / "takeoff.csv"
    twin.save(path)
    assert main(["-q", "takeoff", str(path), "--out", str(out)]) == 0
    csv = pd.read_csv(out)
    assert tuple(csv.columns) == BREAKDOWN_COLUMNS
    assert BREAKDOWN_COLUMNS[-2:] == SOURCE_COLUMNS
    first = csv.groupby("building_id")["floors_source"].first()
    assert first.to_dict() == {
        "b1": "measured",
        "b2": "measured",
        "b3": "height",
        "b4": "default",
    }


def test_estimate_parameters_given_else_the_twins_else_the_default(twin):
    import cim
    from cim.estimate import (
        defaults,
        dwelling_gfa,
        estimate_parameter,
        storey_height,
    )

    d = defaults()
    own = cim.Twin(crs=twin.crs, storey_height_m=2.9, dwelling_gfa_m2=90.0)
    assert storey_height(own) == 2.9 and dwelling_gfa(own) == 90.0
    assert storey_height() == d["storey_height_m"]["value"]
    assert dwelling_gfa() == d["dwelling_gfa_m2"]["value"]
    assert estimate_parameter("storey_height_m", 3.3, twin=own) == 3.3
    assert estimate_parameter("dwelling_gfa_m2", twin=own) == 90.0
    with pytest.raises(ValueError, match="invalid estimate parameter 'floors'"):
        estimate_parameter("floors")
