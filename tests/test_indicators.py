"""Planning indicators, computed by hand on small parcels (EPSG:4549, Hangzhou)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import Point, Polygon, box

import cim
from cim.errors import CRSError, LayerSchemaError
from cim.indicators import (
    available_indicators,
    average_dwelling_area,
    average_storeys,
    building_density,
    concentrated_green,
    concentrated_green_per_capita,
    dwelling_size_class,
    dwellings,
    far,
    front_spacing,
    get_indicator,
    green_factors,
    green_rate,
    ground_green_rate,
    is_housing,
    max_height,
    overlay_shares,
    parking_spaces_per_household,
    public_green_per_capita,
    residential_land_per_capita,
    residents,
    service_space_per_100_households,
    storey_class,
    surface_parking_per_household,
)
from cim.takeoff import with_floor_areas

CRS = "EPSG:4549"
X0, Y0 = 516_300.0, 3_351_000.0
#: Tolerances for areas and ratios (m2 and [-]).
TOL = {"rtol": 1e-9, "atol": 1e-9}


def bx(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def parcels() -> gpd.GeoDataFrame:
    """p1: 100 x 100 m; p2: 100 x 100 m east of it; p3: 50 x 100 m further east."""
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["p1", "p2", "p3"],
            "land_use": ["0701", "0701", "1401"],
            "parking_spaces": pd.array([130, 50, pd.NA], dtype="Int64"),
            "surface_parking_spaces": pd.array([10, 5, pd.NA], dtype="Int64"),
        },
        geometry=[bx(0, 0, 100, 100), bx(100, 0, 200, 100), bx(200, 0, 250, 100)],
        crs=CRS,
    )


@pytest.fixture
def buildings() -> gpd.GeoDataFrame:
    """b1 inside p1; b2 straddles p1|p2, 3/4 in p1; b3 inside p2."""
    return gpd.GeoDataFrame(
        {
            "building_id": ["b1", "b2", "b3"],
            "height_m": [18.0, 12.0, 60.0],
            "floors": pd.array([6, 4, 20], dtype="Int64"),
            "use": ["residential", "residential", "residential"],
            "households": pd.array([60, 20, 100], dtype="Int64"),
            "service_space_m2": [400.0, np.nan, 0.0],
        },
        geometry=[
            bx(10, 10, 30, 20),  # 200 m2
            bx(90, 50, 110, 55),  # 100 m2, half in p1
            bx(150, 50, 170, 70),  # 400 m2
        ],
        crs=CRS,
    )


def _twin(buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> cim.Twin:
    return cim.Twin(crs=CRS, buildings=buildings, parcels=parcels)


# --- overlay -----------------------------------------------------------------


def test_overlay_splits_a_footprint_across_a_parcel_line(buildings, parcels):
    shares = overlay_shares(buildings, parcels).set_index(["feature_id", "zone_id"])
    assert_allclose(shares.loc[("b1", "p1"), "share"], 1.0, **TOL)
    assert_allclose(shares.loc[("b2", "p1"), ["area_m2", "share"]], [50.0, 0.5], **TOL)
    assert_allclose(shares.loc[("b2", "p2"), ["area_m2", "share"]], [50.0, 0.5], **TOL)
    assert ("b1", "p2") not in shares.index  # no zero-area pairs
    assert len(shares) == 4


def test_overlay_of_points_and_touching_features(parcels):
    pts = gpd.GeoDataFrame(
        {"facility_id": ["f1", "f2"]},
        geometry=[Point(X0 + 50, Y0 + 50), Point(X0 + 100, Y0 + 50)],  # f2 on a line
        crs=CRS,
    )
    shares = overlay_shares(pts, parcels)
    assert shares.loc[shares["feature_id"] == "f1", "share"].tolist() == [1.0]
    assert sorted(shares.loc[shares["feature_id"] == "f2", "share"]) == [0.5, 0.5]


def test_crs_mismatch_raises(buildings, parcels):
    with pytest.raises(CRSError, match="different CRSs"):
        building_density(buildings.to_crs(32651), parcels)


# --- FAR with exclusions -------------------------------------------------------


def _detailed_elements() -> pd.DataFrame:
    """b1 (200 m2 footprint): a stilt floor, five storeys with a balcony outside
    the main structure (10 m2) and a low-sill bay window (4 m2), a basement."""
    rows = [
        {"storey": "B1", "level": -1, "kind": "basement", "area_m2": 200.0},
        {"storey": "1F", "level": 1, "kind": "stilt_floor", "area_m2": 200.0},
    ]
    for lv in range(2, 7):
        rows += [
            {"storey": f"{lv}F", "level": lv, "kind": "floor", "area_m2": 200.0},
            {
                "storey": f"{lv}F",
                "level": lv,
                "kind": "balcony",
                "area_m2": 10.0,
                "inside_structure": False,
            },
            {
                "storey": f"{lv}F",
                "level": lv,
                "kind": "bay_window",
                "area_m2": 4.0,
                "sill_height_m": 0.40,
                "clear_height_m": 2.20,
            },
        ]
    el = pd.DataFrame(rows)
    el.insert(0, "building_id", "b1")
    el["element_id"] = [f"b1/{i}" for i in range(len(el))]
    el["structural_height_m"] = 3.0
    return el


def test_far_with_zhejiang_exclusions_by_hand(buildings, parcels):
    twin = _twin(buildings, parcels).with_layer("elements", _detailed_elements())
    # Zhejiang: stilt floor, balconies and bay windows excluded, basement below
    # ground; b2 (4 x 100 m2, simple) half in p1.
    zj = with_floor_areas(twin, "zhejiang-future-community").buildings
    ratio = far(zj, parcels, floor_area="far_area_m2")
    # b1's far_area_m2 still holds the basement (200): above ground is 1000.
    assert_allclose(ratio["p1"], (1200.0 + 0.5 * 400.0) / 10_000, **TOL)
    # Above ground only, as the check counts it:
    from cim.check import check

    report = check(twin, "zhejiang-future-community", params={"climate_zone": "III"})
    f = report.rows.set_index(["rule_id", "feature_id"])
    assert_allclose(
        f.loc[("gb50180-4.0.2-far", "p1"), "value"], (1000.0 + 200.0) / 10_000, **TOL
    )
    assert_allclose(
        f.loc[("gb50180-4.0.2-far", "p2"), "value"],
        (200.0 + 20 * 400.0) / 10_000,
        **TOL,
    )
    # National counting: stilt floor in full, balconies outside and low-sill
    # bay windows half: 200 + 5 x (200 + 5 + 2) = 1235 above ground.
    gb = check(twin, "gb50180-2018", params={"climate_zone": "III"})
    g = gb.rows.set_index(["rule_id", "feature_id"])
    assert_allclose(
        g.loc[("gb50180-4.0.2-far", "p1"), "value"], (1235.0 + 200.0) / 10_000, **TOL
    )
    # The breakdown behind the value adds up to it.
    bd = report.far_breakdown("parcel")
    assert_allclose(bd.loc[bd["zone_id"] == "p1", "counted_m2"].sum(), 1200.0, **TOL)
    b2 = bd[(bd["zone_id"] == "p1") & (bd["building_id"] == "b2")]
    assert_allclose(b2["share"], 0.5, **TOL)


def test_far_needs_floor_areas(buildings, parcels):
    with pytest.raises(LayerSchemaError, match="with_floor_areas"):
        far(buildings, parcels)


@pytest.mark.parametrize(
    ("column", "fix"),
    [("use", "give each building's use"), ("households", "give households")],
)
def test_is_housing_names_a_missing_column(buildings, column, fix):
    with pytest.raises(LayerSchemaError, match=f"lacks column '{column}'; {fix}") as e:
        is_housing(buildings.drop(columns=column))
    assert e.value.layer == "buildings" and e.value.column == column


def test_density_height_dwellings(buildings, parcels):
    d = building_density(buildings, parcels)
    assert d.name == "building_density" and d.index.name == "parcel_id"
    assert_allclose(d.to_numpy(), [250 / 10_000, 450 / 10_000, 0.0], **TOL)
    h = max_height(buildings, parcels)
    assert_allclose(h.to_numpy(), [18.0, 60.0, 0.0], **TOL)
    # A 0.5% sliver of the tower in p1 does not make p1 60 m tall.
    sliver = buildings.copy()
    sliver.loc[2, "geometry"] = bx(99.9, 50, 119.9, 70)  # 2 of 400 m2 in p1
    assert_allclose(max_height(sliver, parcels)["p1"], 18.0)
    assert_allclose(max_height(sliver, parcels, min_share=0.0)["p1"], 60.0)
    n = dwellings(buildings, parcels)
    assert_allclose(n.to_numpy(), [60 + 10, 10 + 100, 0], **TOL)
    r = residents(buildings, parcels, persons_per_household=2.5)
    assert_allclose(r.to_numpy(), [175.0, 275.0, 0.0], **TOL)
    land = residential_land_per_capita(buildings, parcels, persons_per_household=2.5)
    assert_allclose(land.to_numpy()[:2], [10_000 / 175, 10_000 / 275], **TOL)
    assert np.isnan(land["p3"])
    with pytest.raises(ValueError, match="persons_per_household"):
        residents(buildings, parcels, persons_per_household=0)


def test_indicators_do_not_mutate_their_inputs(buildings, parcels):
    b0, p0 = buildings.copy(), parcels.copy()
    building_density(buildings, parcels)
    max_height(buildings, parcels)
    service_space_per_100_households(buildings, parcels)
    parking_spaces_per_household(parcels, buildings)
    pd.testing.assert_frame_equal(buildings, b0)
    pd.testing.assert_frame_equal(parcels, p0)


# --- green rate: 3D greening factors and the ground share -----------------------

HANGZHOU = {
    "ground": 1.0,
    "park": 1.0,
    "vertical": 0.2,
    "roof": {"0": 0.0, "0.1": 0.1, "0.3": 0.3, "0.5": 0.5, "1.0": 0.8, "1.5": 1.0},
    "podium": {"0": 0.0, "0.1": 0.1, "0.3": 0.3, "0.5": 0.5, "1.0": 0.8, "1.5": 1.0},
}


@pytest.fixture
def greens() -> gpd.GeoDataFrame:
    """In p1 (10,000 m2): ground 2,000 m2; roof 1,000 m2 on 0.6 m of soil
    (x 0.5); podium 500 m2 on 1.2 m (x 0.8); a wall of 300 m2 (x 0.2); a roof
    of unknown soil depth (x 0)."""
    return gpd.GeoDataFrame(
        {
            "green_id": ["g1", "g2", "g3", "g4", "g5"],
            "kind": ["ground", "roof", "podium", "vertical", "roof"],
            "soil_depth_m": [np.nan, 0.6, 1.2, np.nan, np.nan],
            "area_m2": [np.nan, np.nan, np.nan, 300.0, np.nan],
        },
        geometry=[
            bx(0, 0, 40, 50),
            bx(50, 0, 100, 20),
            bx(50, 30, 100, 40),
            bx(10, 60, 30, 60.5),
            bx(50, 80, 60, 90),
        ],
        crs=CRS,
    )


def test_green_factors_by_kind_and_soil_depth(greens):
    assert_allclose(green_factors(greens, HANGZHOU), [1.0, 0.5, 0.8, 0.2, 0.0], **TOL)
    # Default (no rulebook): ground-level green only.
    assert_allclose(green_factors(greens), [1.0, 0, 0, 0, 0], **TOL)
    # Step boundaries: the deepest step reached applies.
    g = greens.iloc[[1, 1, 1]].copy()
    g["soil_depth_m"] = [0.5, 1.49, 1.5]
    assert_allclose(green_factors(g, HANGZHOU), [0.5, 0.8, 1.0], **TOL)


@pytest.mark.parametrize(
    ("factors", "match"),
    [
        ({"lawn": 1.0}, "invalid green kind 'lawn'"),
        ({"roof": {"deep": 1.0}}, "invalid soil depth key"),
        ({"roof": -0.5}, "invalid factor"),
        ({"roof": {"0": True}}, "invalid factor"),
    ],
)
def test_green_factors_refuse_bad_tables(greens, factors, match):
    with pytest.raises(ValueError, match=match):
        green_factors(greens, factors)


def test_green_rate_with_3d_factor_by_hand(greens, parcels):
    rate = green_rate(greens, parcels, factors=HANGZHOU)
    # (2000 + 1000 x 0.5 + 500 x 0.8 + 300 x 0.2 + 100 x 0) / 10,000
    assert_allclose(rate["p1"], 2960.0 / 10_000, **TOL)
    assert rate.name == "green_rate"
    ground = ground_green_rate(greens, parcels)
    assert_allclose(ground["p1"], 0.2, **TOL)
    # Against a 30% target, 3D greening makes up 0.296 but the ground reaches
    # only 0.2 / 0.3 = 67% of the target, below the 70% floor.
    assert ground["p1"] / 0.30 < 0.7


def test_public_and_concentrated_green(greens, buildings, parcels):
    g = greens.copy()
    g.loc[0, "kind"] = "park"
    pub = public_green_per_capita(g, buildings, parcels, persons_per_household=2.0)
    assert_allclose(pub["p1"], 2000.0 / (70 * 2.0), **TOL)
    # Opening by 8 m: the 40 x 50 m ground green stays whole, a 6 m strip goes.
    strips = gpd.GeoDataFrame(
        {"green_id": ["a", "b"], "kind": ["ground", "ground"]},
        geometry=[bx(0, 0, 40, 50), bx(50, 0, 100, 6)],
        crs=CRS,
    )
    core = concentrated_green(strips)
    assert_allclose(core.area.to_numpy(), [2000.0, 0.0], atol=1e-6)
    per = concentrated_green_per_capita(
        strips, buildings, parcels, persons_per_household=2.0
    )
    assert_allclose(per["p1"], 2000.0 / 140.0, **TOL)
    # An L-shaped green keeps its wide arm only.
    ell = gpd.GeoDataFrame(
        {"kind": ["ground"]},
        geometry=[bx(0, 0, 30, 20).union(bx(0, 20, 5, 60))],
        crs=CRS,
    )
    assert_allclose(concentrated_green(ell).area, [600.0], atol=1e-6)
    with pytest.raises(ValueError, match="min_width_m"):
        concentrated_green(strips, min_width_m=0)


# --- service space and parking ------------------------------------------------


@pytest.mark.parametrize(
    ("households", "expected"),
    [(500, 80.0), (499, 400.0 / 499 * 100), (501, 400.0 / 501 * 100)],
)
def test_service_space_per_100_households_by_hand(
    buildings, parcels, households, expected
):
    b = buildings.iloc[[0]].copy()
    b["households"] = pd.array([households], dtype="Int64")
    per = service_space_per_100_households(b, parcels)
    assert_allclose(per["p1"], expected, **TOL)
    assert np.isnan(per["p2"])  # no dwellings


def test_service_space_unknown_everywhere_is_nan(buildings, parcels):
    b = buildings.assign(service_space_m2=np.nan)
    assert service_space_per_100_households(b, parcels).isna().all()


def test_parking_per_household(buildings, parcels):
    per = parking_spaces_per_household(parcels, buildings)
    assert_allclose(per.to_numpy()[:2], [130 / 70, 50 / 110], **TOL)
    assert np.isnan(per["p3"])
    surface = surface_parking_per_household(parcels, buildings)
    assert_allclose(surface.to_numpy()[:2], [10 / 70, 5 / 110], **TOL)
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[bx(0, 0, 250, 100)], crs=CRS)
    assert_allclose(
        parking_spaces_per_household(parcels, buildings, site)["s"], 180 / 180, **TOL
    )


# --- classes -------------------------------------------------------------------


def test_storey_and_dwelling_size_classes():
    s = storey_class(
        pd.Series([1.0, 3.0, 3.01, 6.0, 9.0, 9.5, 18.0, 26.0, 26.5, np.nan])
    )
    assert s.tolist() == [
        "low",
        "low",
        "multi_i",
        "multi_i",
        "multi_ii",
        "high_i",
        "high_i",
        "high_ii",
        "over_26",
        "none",
    ]
    d = dwelling_size_class(pd.Series([60.0, 60.5, 90.0, 140.0, 200.0, 200.1]))
    assert d.tolist() == ["le60", "60-90", "60-90", "90-140", "140-200", "gt200"]


# --- spacing -------------------------------------------------------------------


def test_front_spacing_due_south_only():
    b = gpd.GeoDataFrame(
        {
            "building_id": ["s", "n", "east", "tall"],
            "height_m": [15.0, 15.0, 15.0, 60.0],
        },
        geometry=[
            bx(0, 0, 60, 12),
            bx(0, 30, 60, 42),  # 18 m north of s
            bx(80, 0, 120, 40),  # beside n, not south of it
            bx(0, 60, 60, 72),  # north of n
        ],
        crs=CRS,
    )
    sp = front_spacing(b)
    assert_allclose(sp.loc["n", ["front_spacing_m", "front_spacing_ratio"]], [18, 1.2])
    assert sp.loc["n", "south_building_id"] == "s"
    assert_allclose(sp.loc["tall", "front_spacing_ratio"], 18 / 15)
    assert np.isnan(sp.loc["s", "front_spacing_m"]) and sp.loc["s", "n_south"] == 0
    # South buildings taller than the cap are left out.
    capped = front_spacing(
        b.assign(height_m=[30.0, 15.0, 15.0, 60.0]), max_south_height_m=27
    )
    assert capped.loc["n", "n_south"] == 0


def test_front_spacing_names_the_nearest_and_the_ratio_building():
    # Two buildings 18 m due south of n: "low" (9 m, ratio 2) and "high"
    # (30 m, ratio 0.6). Both are nearest: the first in layer order is named.
    # The ratio is set by the tall one whatever the order.
    geoms = {
        "low": bx(0, 0, 20, 12),
        "high": bx(30, 0, 50, 12),
        "n": bx(0, 30, 50, 42),
    }
    heights = {"low": 9.0, "high": 30.0, "n": 9.0}
    for order in (["low", "high", "n"], ["high", "low", "n"]):
        b = gpd.GeoDataFrame(
            {"building_id": order, "height_m": [heights[k] for k in order]},
            geometry=[geoms[k] for k in order],
            crs=CRS,
        )
        sp = front_spacing(b)
        assert list(sp.columns) == [
            "front_spacing_m",
            "nearest_south_building_id",
            "front_spacing_ratio",
            "south_building_id",
            "n_south",
        ]
        n = sp.loc["n"]
        assert_allclose([n["front_spacing_m"], n["front_spacing_ratio"]], [18, 0.6])
        assert n["nearest_south_building_id"] == order[0]
        assert n["south_building_id"] == "high" and n["n_south"] == 2
        assert pd.isna(sp.loc["low", "nearest_south_building_id"])
        assert pd.isna(sp.loc["low", "south_building_id"])


# --- registry --------------------------------------------------------------------


def test_registry_lists_computed_and_pending_indicators():
    table = available_indicators().set_index("name")
    for name in ("far", "building_density", "green_rate", "dwellings", "residents"):
        assert table.loc[name, "status"] == "computed"
    assert table.loc["sunlight_hours", "status"] in ("pending", "computed")
    with pytest.raises(KeyError, match="did you mean 'far'"):
        get_indicator("farr")


def test_builtin_registrations_are_pinned():
    # Names, units, scopes, params and wording are what rulebooks and
    # reports rely on; all are registered by cim.indicators._builtin.
    table = available_indicators().set_index("name")
    builtin = table[table["provider"] == "cim.indicators._builtin"]
    zones, buildings = "parcel, site", "building, dwelling"
    expected = {
        "far": (
            "-",
            zones,
            "",
            "plot ratio: FAR-counted floor area above ground / land area",
        ),
        "building_density": (
            "-",
            zones,
            "",
            "building footprint inside the zone / land area",
        ),
        "green_rate": (
            "-",
            zones,
            "factors",
            "counted green area (3D greening by factors) / land area",
        ),
        "ground_green_rate": (
            "-",
            zones,
            "kinds",
            "ground-level green area (no 3D greening) / land area",
        ),
        "ground_green_share_of_target": (
            "-",
            zones,
            "kinds",
            "ground green rate / the zone's green-rate target",
        ),
        "max_height_m": (
            "m",
            zones,
            "min_share",
            "height of the tallest building with >= 1% of its footprint in the zone",
        ),
        "average_storeys": (
            "-",
            zones,
            "",
            "housing gross floor area above ground / housing footprint",
        ),
        "dwellings": (
            "dwellings",
            zones,
            "",
            "households, split by footprint share",
        ),
        "residents": ("persons", zones, "", "dwellings x persons per household"),
        "residential_land_per_capita_m2": (
            "m2/person",
            zones,
            "",
            "land area / residents",
        ),
        "public_green_per_capita_m2": (
            "m2/person",
            zones,
            "kinds",
            "public green (kind park) / residents",
        ),
        "concentrated_green_per_capita_m2": (
            "m2/person",
            zones,
            "kinds, min_width_m",
            "ground green at least min_width_m wide / residents",
        ),
        "service_space_per_100_households_m2": (
            "m2/100 dwellings",
            zones,
            "",
            "community service floor area (buildings.service_space_m2) per 100 "
            "households",
        ),
        "parking_spaces_per_household": (
            "spaces/dwelling",
            zones,
            "",
            "car spaces (parcels.parking_spaces) per household",
        ),
        "surface_parking_per_household": (
            "spaces/dwelling",
            zones,
            "",
            "ground-level car spaces (parcels.surface_parking_spaces) per household",
        ),
        "front_spacing_m": (
            "m",
            buildings,
            "max_south_height_m, search_m",
            "wall-to-wall distance to the nearest building due south",
        ),
        "front_spacing_ratio": (
            "-",
            buildings,
            "max_south_height_m, search_m",
            "smallest distance to a building due south / that building's height",
        ),
    }
    assert set(builtin.index) == set(expected)
    assert (builtin["status"] == "computed").all()
    for name, row in expected.items():
        got = tuple(builtin.loc[name, ["unit", "scopes", "params", "description"]])
        assert got == row, name


def test_average_storeys_and_dwelling_area_by_hand(buildings, parcels):
    b = buildings.assign(gross_floor_area_m2=[1200.0, 400.0, 8000.0])
    storeys = average_storeys(b, parcels)
    # p1: (1200 + 200) / (200 + 50); p2: (200 + 8000) / (50 + 400).
    assert storeys.name == "average_storeys" and storeys.index.name == "parcel_id"
    assert_allclose(storeys.to_numpy()[:2], [1400 / 250, 8200 / 450], **TOL)
    assert np.isnan(storeys["p3"])  # no housing
    area = average_dwelling_area(b, parcels)
    assert area.name == "average_dwelling_area_m2"
    assert_allclose(area.to_numpy()[:2], [1400 / 70, 8200 / 110], **TOL)
    assert np.isnan(area["p3"])
    # Offices are no housing: they count in neither sum.
    office = b.assign(use=["residential", "office", "residential"], households=0)
    assert_allclose(average_storeys(office, parcels)["p1"], 1200 / 200, **TOL)
    # Without floor areas, the message gives the fix.
    for func in (average_storeys, average_dwelling_area):
        with pytest.raises(LayerSchemaError, match="'gross_floor_area_m2'; run cim"):
            func(buildings, parcels)


# --- context: provenance helpers, housing sums, ratio parts --------------------


@pytest.fixture
def ctx(buildings, parcels, greens):
    from cim.indicators import Context
    from cim.takeoff import twin_takeoff

    twin = cim.Twin(crs=CRS, buildings=buildings, parcels=parcels, greens=greens)
    return Context(
        twin,
        takeoff=twin_takeoff(twin),
        planning={},
        persons_per_household=2.8,
    )


def test_joined_leaves_out_empty_parts():
    import importlib

    from cim.indicators.context import _joined

    check_module = importlib.import_module("cim.check")

    got = _joined(pd.Series(["a", "", "", "c"]), np.array(["b", "x", "", ""], object))
    assert got.dtype == object and got.tolist() == ["a; b", "x", "", "c"]
    # The check joins its unverified inputs with the same helper.
    assert check_module._joined is _joined


def test_labels_by_zone_counts_buildings_or_keeps_first_appearance(ctx):
    # b1 in p1; b2 across p1|p2; b3 in p2; nothing in p3.
    counted = ctx._labels_by_zone("parcel", np.array(["z", "a", "z"], dtype=object))
    assert counted.tolist() == [
        "a for 1 of 2 buildings; z for 1 of 2 buildings",  # sorted labels
        "a for 1 of 2 buildings; z for 1 of 2 buildings",
        "",
    ]
    assert counted.index.tolist() == ["p1", "p2", "p3"]
    # Only the buildings counted: b2 is left out of both k and n.
    among = np.array([True, False, True])
    housing = ctx._labels_by_zone(
        "parcel",
        np.array(["z", "a", ""], dtype=object),
        among=among,
        noun="housing building",
    )
    assert housing.tolist() == ["z for 1 of 1 housing building", "", ""]
    # Several labels per building, not counted: distinct, in order of first
    # appearance.
    listed = ctx._labels_by_zone(
        "parcel",
        ["rule z", "rule a", "rule z", "rule z"],
        feature=[2, 1, 1, 2],
        counts=False,
    )
    assert listed.tolist() == ["rule z; rule a", "rule z; rule a", ""]
    # A building's own labels.
    own = ctx._labels_by_zone("building", np.array(["", "a", "z"], dtype=object))
    assert own.to_dict() == {"b1": "", "b2": "a", "b3": "z"}


def test_overlay_pairs_all_have_a_share(buildings, parcels):
    # Context._labels_by_zone counts every pair of an overlay as a building in
    # the zone: a footprint only touching a zone, or outside every zone, has
    # no pair.
    from cim.indicators.overlay import _pairs

    touching = buildings.assign(
        geometry=[bx(80, 10, 100, 20), bx(90, 50, 110, 55), bx(300, 0, 310, 10)]
    )
    s = _pairs(
        np.asarray(touching.geometry.array, dtype=object),
        np.asarray(parcels.geometry.array, dtype=object),
    )
    assert (s.share > 0).all()
    assert sorted(zip(s.feature.tolist(), s.zone.tolist(), strict=True)) == [
        (0, 0),
        (1, 0),
        (1, 1),
    ]


def test_context_housing_sums_give_average_storeys(ctx, parcels):
    h = ctx.housing("parcel")
    assert h.index.tolist() == ["p1", "p2", "p3"]
    classes = ctx.classes("parcel")
    floor = h["floor_area_m2"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        assert_allclose(
            classes["average_storeys"], floor / h["footprint_m2"].to_numpy(), **TOL
        )
        assert_allclose(
            classes["average_dwelling_area_m2"],
            floor / h["dwellings"].to_numpy(),
            **TOL,
        )
    assert_allclose(h["footprint_m2"], [250.0, 450.0, 0.0], **TOL)
    assert_allclose(h["dwellings"], [70.0, 110.0, 0.0], **TOL)
    b = ctx.buildings
    public = average_storeys(b, parcels, floor_area="gfa_above_ground_m2")
    assert_allclose(classes["average_storeys"], public.to_numpy(), **TOL)


def test_ratio_parts_give_the_public_values(buildings, parcels, greens):
    # The built-in indicators build value and basis from the same parts:
    # their quotient is the public function's value.
    from cim.indicators import planning as pl

    b = buildings.assign(far_area_m2=[1200.0, 400.0, 8000.0])
    pph = 2.8
    cases = [
        (
            pl._far_parts(b, parcels, floor_area="far_area_m2", shares=None),
            far(b, parcels),
        ),
        (pl._density_parts(b, parcels, shares=None), building_density(b, parcels)),
        (
            pl._green_rate_parts(greens, parcels, factors=None, shares=None),
            green_rate(greens, parcels),
        ),
        (
            pl._ground_green_parts(
                greens, parcels, kinds=pl.GROUND_GREEN_KINDS, shares=None
            ),
            ground_green_rate(greens, parcels),
        ),
        (
            pl._land_per_capita_parts(
                b, parcels, persons_per_household=pph, shares=None
            ),
            residential_land_per_capita(b, parcels, persons_per_household=pph),
        ),
        (
            pl._public_green_parts(
                greens,
                b,
                parcels,
                persons_per_household=pph,
                kinds=("park",),
                green_shares=None,
                building_shares=None,
            ),
            public_green_per_capita(greens, b, parcels, persons_per_household=pph),
        ),
        (
            pl._concentrated_green_parts(
                greens,
                b,
                parcels,
                persons_per_household=pph,
                min_width_m=8.0,
                kinds=("ground", "park"),
                building_shares=None,
            ),
            concentrated_green_per_capita(
                greens, b, parcels, persons_per_household=pph
            ),
        ),
        (
            pl._per_household_parts(parcels, b, None, "parking_spaces", None, None),
            parking_spaces_per_household(parcels, b),
        ),
    ]
    for parts, public in cases:
        assert_allclose(
            pl._ratio(*parts), public.to_numpy(), **TOL, err_msg=str(public.name)
        )
    homes, people = pl._people(b, parcels, persons_per_household=pph, shares=None)
    assert_allclose(homes, dwellings(b, parcels).to_numpy(), **TOL)
    assert_allclose(
        people, residents(b, parcels, persons_per_household=pph).to_numpy(), **TOL
    )
    space, per = pl._service_space_parts(b, parcels, shares=None)
    assert_allclose(
        pl._ratio(space, per) * 100.0,
        service_space_per_100_households(b, parcels).to_numpy(),
        **TOL,
    )


@pytest.mark.parametrize(
    ("absent", "unreachable", "basis"),
    [
        ("clinic", "", "inf: no facility of clinic in the twin"),
        ("", "toilet; park", "inf: none of toilet, park reachable on foot"),
        (
            "clinic",
            "toilet",
            "inf: no facility of clinic in the twin, none of toilet reachable on foot",
        ),
    ],
)
def test_walk_provenance_names_the_setter_or_why_inf(absent, unreachable, basis):
    from cim.indicators.accessibility import _walk_provenance
    from cim.network.circles import required_categories

    walk = pd.DataFrame(
        {
            "life_circle_walk_m": [666.0, float("inf")],
            "category": ["toilet", "clinic"],
            "facility_id": ["F9", ""],
            "absent": ["", absent],
            "unreachable": ["", unreachable],
        },
        index=["b1", "b2"],
    )
    made = _walk_provenance(walk, 15)
    assert made.index.tolist() == ["b1", "b2"]
    assert made["basis"].tolist() == ["set by toilet (nearest facility F9)", basis]
    listed = ", ".join(required_categories(15))
    assert (
        made["unverified"]
        == (
            "required categories of the 15-min life circle recalled from "
            f"GB 50180-2018 Appendix B, not verified: {listed}"
        )
    ).all()
