"""Tests for :class:`cim.Twin`: construction, derivation, summary, estimates.

Expected numbers are computed independently of the library: areas with shapely
on the input geometries, defaults read from ``assets/defaults.toml`` with
tomllib, projections with pyproj directly.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from pyproj import CRS, Transformer
from shapely.geometry import Point, box

import cim
from cim import CRSError, InputFileError, LayerSchemaError, RepairWarning, Twin
from cim.estimate import defaults, fill_building_estimates
from cim.layers import BUILDING_USES, SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
AREA = {"rtol": 1e-9, "atol": 1e-6}  # m2

with (ROOT / "assets" / "defaults.toml").open("rb") as _f:
    TOML = tomllib.load(_f)
STOREY_M = TOML["storey_height_m"]["value"]
DWELLING_M2 = TOML["dwelling_gfa_m2"]["value"]
FLOORS_BY_USE = TOML["default_floors_by_use"]

HANGZHOU_LON, HANGZHOU_LAT = 120.15, 30.28


def _row(layer: gpd.GeoDataFrame, fid: str, id_col: str = "building_id") -> pd.Series:
    (i,) = np.flatnonzero(layer[id_col].to_numpy() == fid)
    return layer.iloc[i]


# -- construction -------------------------------------------------------------
def test_twin_holds_every_layer_in_its_crs(twin: Twin, layers: dict[str, Any]) -> None:
    assert twin.crs.equals(CRS.from_epsg(32650))
    assert twin.name == "cau_test"
    for name in SCHEMAS:
        assert len(twin[name]) == len(layers[name])
        assert twin[name].crs.equals(twin.crs)
        assert twin[name].geometry.name == "geometry"
        assert isinstance(twin[name].index, pd.RangeIndex)
        assert list(twin[name][SCHEMAS[name].id_column]) == list(
            layers[name][SCHEMAS[name].id_column]
        )
    assert set(twin.layers) == set(SCHEMAS)
    assert twin.network.number_of_nodes() == 5
    assert twin.network.number_of_edges() == 8


def test_layers_are_typed_per_schema(twin: Twin) -> None:
    for name, schema in SCHEMAS.items():
        layer = twin[name]
        for col in schema.columns:
            assert str(layer[col.name].dtype) == col.dtype, (name, col.name)
        # Schema columns first, in order; geometry last.
        n = len(schema.columns)
        assert list(layer.columns[:n]) == [c.name for c in schema.columns]
        assert layer.columns[-1] == "geometry"


def test_optional_columns_get_their_defaults(twin: Twin) -> None:
    b = twin.buildings
    assert (b["structure"] == "unknown").all()
    f = twin.facilities
    assert list(f["name"]) == ["幼儿园", "小学", "药店", "公交站", "超市"]
    g = twin.greens
    assert list(g["kind"]) == ["ground", "park", "roof", "vertical"]
    assert g["soil_depth_m"].isna().sum() == 3


def test_int_columns_are_nullable_and_keep_na(twin: Twin) -> None:
    year = twin.buildings["year_built"]
    assert str(year.dtype) == "Int64"
    assert year.isna().tolist() == [False, True, False, True]
    assert year.dropna().tolist() == [1998, 2005]


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_absent_layers_are_empty_with_schema_columns(name: str) -> None:
    twin = Twin(crs=32650)
    layer = twin[name]
    assert isinstance(layer, gpd.GeoDataFrame)
    assert len(layer) == 0
    assert layer.crs.equals(CRS.from_epsg(32650))
    assert [c for c in layer.columns if c != "geometry"] == [
        c.name for c in SCHEMAS[name].columns
    ]
    for col in SCHEMAS[name].columns:
        assert str(layer[col.name].dtype) == col.dtype


def test_absent_network_is_an_empty_multidigraph_in_the_twin_crs() -> None:
    twin = Twin(crs="EPSG:4549")
    G = twin.network
    assert isinstance(G, nx.MultiDiGraph)
    assert G.number_of_nodes() == 0
    assert CRS.from_user_input(G.graph["crs"]).equals(CRS.from_epsg(4549))
    assert twin["network"] is G


def test_extra_user_columns_are_kept(twin: Twin, buildings: gpd.GeoDataFrame) -> None:
    b = twin.buildings
    assert "owner" in b.columns
    assert "roof_area_m2" in b.columns
    assert b["owner"].iloc[0] == "中国农业大学"
    assert pd.isna(b["owner"].iloc[1])
    assert_allclose(b["roof_area_m2"], buildings["roof_area_m2"])
    # Extra columns come after the schema's, before the geometry.
    cols = list(b.columns)
    assert cols.index("owner") > cols.index("name")
    assert cols[-1] == "geometry"


def test_construction_does_not_modify_its_input(
    layers: dict[str, Any],
    make_district: Callable[..., dict[str, Any]],
    make_twin: Callable[..., Twin],
    assert_graphs_equal: Callable[..., None],
) -> None:
    twin = make_twin(layers)
    pristine = make_district()
    for name in SCHEMAS:
        assert_geodataframe_equal(layers[name], pristine[name])
    assert_graphs_equal(layers["network"], pristine["network"])
    # The 2->1 edge had no geometry: the twin's copy gains one, the input not.
    assert "geometry" not in layers["network"].edges[2, 1, 0]
    assert "geometry" in twin.network.edges[2, 1, 0]
    # And changing the input later does not reach into the twin.
    layers["buildings"].loc[0, "height_m"] = 99.0
    assert twin.buildings.loc[0, "height_m"] == 18.0


def test_geometry_column_with_another_name_is_renamed(
    measured_buildings: gpd.GeoDataFrame,
) -> None:
    b = measured_buildings.rename_geometry("footprint")
    twin = Twin(crs=32650, buildings=b)
    assert twin.buildings.geometry.name == "geometry"
    assert "footprint" not in twin.buildings.columns


def test_index_is_reset(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.set_index(pd.Index([10, 20, 30, 40]))
    twin = Twin(crs=32650, buildings=b)
    assert list(twin.buildings.index) == [0, 1, 2, 3]


def test_crs_given_in_any_form(measured_buildings: gpd.GeoDataFrame) -> None:
    for crs in (32650, "EPSG:32650", CRS.from_epsg(32650)):
        twin = Twin(crs=crs, buildings=measured_buildings)
        assert twin.crs.to_epsg() == 32650


# -- access --------------------------------------------------------------------
def test_getitem_returns_layers_and_network(twin: Twin) -> None:
    for name in SCHEMAS:
        assert twin[name] is getattr(twin, name)
    assert twin["network"] is twin.network


@pytest.mark.parametrize("name", ["roads", "building", "", "Buildings"])
def test_getitem_unknown_layer_names_the_layers(twin: Twin, name: str) -> None:
    with pytest.raises(
        KeyError,
        match=rf"no layer '{name}'; layers are buildings, "
        r"parcels, greens, facilities, site, surfaces, network, elements",
    ):
        twin[name]


def test_repr(twin: Twin) -> None:
    assert repr(twin) == (
        "<Twin 'cau_test' EPSG:32650: buildings=4, parcels=2, greens=4, "
        "facilities=5, site=1, surfaces=3, network=5 nodes/8 edges, elements=0>"
    )


def test_repr_of_empty_twin() -> None:
    assert repr(Twin(crs=4549, name="空")) == (
        "<Twin '空' EPSG:4549: buildings=0, parcels=0, greens=0, facilities=0, "
        "site=0, surfaces=0, network=0 nodes/0 edges, elements=0>"
    )


def test_metadata(twin: Twin, sources: list[dict[str, str]]) -> None:
    meta = twin.metadata
    assert meta["name"] == "cau_test"
    assert meta["crs"] == "EPSG:32650"
    assert meta["sources"] == sources
    assert meta["created"] == meta["modified"]
    # ISO 8601 with a time zone.
    assert pd.Timestamp(meta["created"]).tzinfo is not None


def test_metadata_property_is_a_copy(twin: Twin) -> None:
    twin.metadata["name"] = "changed"
    twin.metadata["sources"].append({"name": "injected"})
    twin.metadata["sources"][0]["name"] = "changed"
    assert twin.name == "cau_test"
    assert [s["name"] for s in twin.metadata["sources"]] == [
        "OpenStreetMap",
        "海淀区规划图",
    ]


def test_twin_does_not_alias_the_callers_metadata(
    measured_buildings: gpd.GeoDataFrame,
) -> None:
    sources = [{"name": "OpenStreetMap", "attribution": "© OpenStreetMap 贡献者"}]
    meta = {"sources": sources, "project": {"phase": 1}}
    twin = Twin(crs=32650, buildings=measured_buildings, metadata=meta)
    sources[0]["name"] = "changed by the caller"
    meta["project"]["phase"] = 2
    assert twin.metadata["sources"][0]["name"] == "OpenStreetMap"
    assert twin.metadata["project"] == {"phase": 1}
    assert "name" not in meta  # the caller's mapping is not filled in either


# -- derivation ----------------------------------------------------------------
def test_with_layer_returns_new_twin_and_leaves_original_unchanged(
    twin: Twin, parcels: gpd.GeoDataFrame
) -> None:
    before = {name: twin[name] for name in SCHEMAS}
    snapshot = {name: layer.copy() for name, layer in before.items()}
    network = twin.network
    new_parcels = parcels.copy()
    new_parcels["far_max"] = [3.0, 1.8]
    derived = twin.with_layer("parcels", new_parcels)

    assert derived is not twin
    assert isinstance(derived, Twin)
    assert list(derived.parcels["far_max"]) == [3.0, 1.8]
    # The original keeps the very same layer objects, with the same values.
    for name in SCHEMAS:
        assert twin[name] is before[name]
        assert_geodataframe_equal(twin[name], snapshot[name])
    assert twin.network is network
    assert twin.parcels["far_max"].iloc[0] == 2.5
    # Untouched layers are shared (they are read-only by contract).
    assert derived.buildings is twin.buildings
    assert derived.parcels is not twin.parcels
    assert derived.crs.equals(twin.crs)
    assert derived.name == twin.name


def test_with_layer_validates_the_new_layer(
    twin: Twin, parcels: gpd.GeoDataFrame
) -> None:
    bad = parcels.copy()
    bad["density_max"] = [35.0, 0.5]
    with pytest.raises(LayerSchemaError, match="density_max"):
        twin.with_layer("parcels", bad)
    assert twin.parcels["density_max"].iloc[0] == 0.35


def test_with_layer_buildings_estimates_again(
    twin: Twin, buildings: gpd.GeoDataFrame
) -> None:
    b = buildings.copy()
    b["floors"] = pd.array([6, 7, pd.NA, pd.NA], dtype="Int64")
    with pytest.warns(RepairWarning, match="estimated 2 heights"):
        derived = twin.with_layer("buildings", b)
    assert _row(derived.buildings, "b2")["height_m"] == 7 * STOREY_M
    assert _row(twin.buildings, "b2")["height_m"] == 4 * STOREY_M


def test_with_layer_buildings_without_estimates(
    twin: Twin, buildings: gpd.GeoDataFrame
) -> None:
    derived = twin.with_layer("buildings", buildings, estimate=False)
    assert derived.buildings["height_m"].isna().sum() == 2
    assert twin.buildings["height_m"].isna().sum() == 0


def test_with_layer_network(twin: Twin, network: nx.MultiDiGraph) -> None:
    network.remove_edge(1, 2, key=1)
    derived = twin.with_layer("network", network)
    assert derived.network.number_of_edges() == 7
    assert twin.network.number_of_edges() == 8


def test_with_layer_unknown_name(twin: Twin, parcels: gpd.GeoDataFrame) -> None:
    with pytest.raises(KeyError, match=r"no layer 'plots'; layers are buildings"):
        twin.with_layer("plots", parcels)


def test_copy_is_deep_for_layers_and_network(twin: Twin) -> None:
    dup = twin.copy()
    assert dup is not twin
    for name in SCHEMAS:
        assert dup[name] is not twin[name]
        assert_geodataframe_equal(dup[name], twin[name])
    assert dup.network is not twin.network
    assert sorted(dup.network.edges(keys=True)) == sorted(twin.network.edges(keys=True))
    assert repr(dup) == repr(twin)
    # Changing the copy in place leaves the original alone.
    dup.buildings.loc[0, "height_m"] = 1.0
    dup.network.nodes[1]["x"] = 0.0
    dup.network.edges[1, 2, 0]["speed_kph"] = 5.0
    dup.network.remove_node(5)
    assert twin.buildings.loc[0, "height_m"] == 18.0
    assert twin.network.nodes[1]["x"] == 439_960.0
    assert twin.network.edges[1, 2, 0]["speed_kph"] == 30.0
    assert twin.network.number_of_nodes() == 5


def test_copy_is_deep_for_metadata(twin: Twin) -> None:
    dup = twin.copy()
    dup.metadata["sources"][0]["attribution"] = "changed"
    assert twin.metadata["sources"][0]["attribution"] == "© OpenStreetMap 贡献者"


# -- summary ----------------------------------------------------------------
def test_summary_numbers_match_independent_computation(
    twin: Twin, layers: dict[str, Any]
) -> None:
    s = twin.summary()
    site_area = shapely.union_all(layers["site"].geometry.array).area
    footprint = float(np.sum(shapely.area(layers["buildings"].geometry.array)))
    assert footprint == pytest.approx(344 + 200 + 300 + 240)
    assert s["site_area_m2"] == pytest.approx(round(site_area, 1))
    assert s["site_area_m2"] == pytest.approx(200 * 150)
    assert s["footprint_area_m2"] == pytest.approx(round(footprint, 1))
    missing_h = int(layers["buildings"]["height_m"].isna().sum())
    missing_both = int(
        (
            layers["buildings"]["height_m"].isna()
            & layers["buildings"]["floors"].isna()
        ).sum()
    )
    assert s["heights_estimated"] == missing_h == 2
    assert s["heights_default"] == missing_both == 1
    assert s["heights_from_levels"] == missing_h - missing_both == 1
    assert s["households_estimated"] == 1
    b1_area = shapely.area(layers["buildings"].geometry.iloc[0])
    assert s["households"] == math.floor(b1_area * 6 / DWELLING_M2) + 24
    assert s["layers"] == {
        "buildings": 4,
        "parcels": 2,
        "greens": 4,
        "facilities": 5,
        "site": 1,
        "surfaces": 3,
    }
    assert s["network"] == {"nodes": 5, "edges": 8}
    assert s["facilities_by_category"] == {
        "bus_stop": 1,
        "kindergarten": 1,
        "pharmacy": 1,
        "primary_school": 1,
        "supermarket": 1,
    }
    bounds = layers["site"].total_bounds
    assert s["bounds"] == pytest.approx(list(bounds))
    assert s["crs"] == "EPSG:32650"
    assert s["crs_name"] == "WGS 84 / UTM zone 50N"
    assert s["sources"] == ["OpenStreetMap", "海淀区规划图"]
    assert s["name"] == "cau_test"
    json.dumps(s)  # JSON-serialisable


def test_summary_of_empty_twin() -> None:
    s = Twin(crs=32650).summary()
    assert s["bounds"] is None
    assert s["site_area_m2"] == 0.0
    assert s["footprint_area_m2"] == 0.0
    assert s["heights_estimated"] == 0
    assert s["households"] == 0
    assert s["facilities_by_category"] == {}
    json.dumps(s)


def test_site_area_falls_back_to_union_of_parcels(
    measured_buildings: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame
) -> None:
    # Overlapping parcels: the union, not the sum, is the site.
    p = parcels.copy()
    x, y = p.geometry.iloc[0].bounds[:2]
    p.loc[1, "geometry"] = box(x + 45, y + 20, x + 135, y + 60)
    twin = Twin(crs=32650, buildings=measured_buildings, parcels=p)
    expected = shapely.union_all(p.geometry.array).area
    assert expected < p.area.sum()
    assert_allclose(twin.site_area_m2(), expected, **AREA)


def test_site_area_falls_back_to_convex_hull(
    measured_buildings: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> None:
    twin = Twin(crs=32650, buildings=measured_buildings, facilities=facilities)
    everything = [*measured_buildings.geometry, *facilities.geometry]
    hull = shapely.convex_hull(shapely.union_all(everything))
    assert_allclose(twin.site_area_m2(), hull.area, **AREA)


# -- estimates -------------------------------------------------------------------
def test_estimates_height_from_floors_flagged_levels(twin: Twin) -> None:
    b2 = _row(twin.buildings, "b2")
    assert b2["height_m"] == pytest.approx(4 * STOREY_M)
    assert b2["height_source"] == "levels"
    assert b2["floors"] == 4
    assert b2["floors_source"] == "measured"


def test_estimates_defaults_by_use_flagged_default(twin: Twin) -> None:
    b4 = _row(twin.buildings, "b4")  # commercial, nothing known
    floors = FLOORS_BY_USE["commercial"]
    assert b4["floors"] == floors
    assert b4["floors_source"] == "default"
    assert b4["height_m"] == pytest.approx(floors * STOREY_M)
    assert b4["height_source"] == "default"


def test_estimates_floors_from_height_flagged_height(twin: Twin) -> None:
    b3 = _row(twin.buildings, "b3")
    assert b3["floors"] == round(30.0 / STOREY_M)
    assert b3["floors_source"] == "height"
    assert b3["height_m"] == 30.0
    assert b3["height_source"] == "measured"


def test_estimates_households_for_residential_only(
    twin: Twin, buildings: gpd.GeoDataFrame
) -> None:
    b = twin.buildings
    area = shapely.area(buildings.geometry.iloc[0])  # b1, courtyard excluded
    assert area == pytest.approx(30 * 12 - 4 * 4)
    b1 = _row(b, "b1")
    assert b1["households"] == math.floor(area * 6 / DWELLING_M2)
    assert b1["households_source"] == "estimated"
    for fid in ("b2", "b4"):  # office, commercial
        row = _row(b, fid)
        assert row["households"] == 0
        assert row["households_source"] == "none"


def test_estimates_leave_measured_values_untouched(twin: Twin) -> None:
    b1 = _row(twin.buildings, "b1")
    assert (b1["height_m"], b1["floors"]) == (18.0, 6)
    assert (b1["height_source"], b1["floors_source"]) == ("measured", "measured")
    b3 = _row(twin.buildings, "b3")
    assert b3["households"] == 24
    assert b3["households_source"] == "measured"


def test_estimates_warning_counts_each_kind(
    layers: dict[str, Any],
) -> None:
    with pytest.warns(RepairWarning) as record:
        Twin(crs=32650, **layers)
    assert len(record) == 1
    msg = str(record[0].message)
    assert msg.startswith("layer 'buildings': ")
    assert "estimated 2 heights (1 from floors x 3 m, 1 from default storeys" in msg
    assert "1 storey counts from height" in msg
    assert "1 household counts from floor area / 100 m2" in msg
    assert "*_source" in msg
    assert "assets/defaults.toml" in msg


def test_estimates_honour_custom_storey_height_and_dwelling_size(
    buildings: gpd.GeoDataFrame,
) -> None:
    sh, gfa = 2.8, 80.0
    with pytest.warns(RepairWarning, match=r"floors x 2\.8 m.*floor area / 80 m2"):
        twin = Twin(
            crs=32650, buildings=buildings, storey_height_m=sh, dwelling_gfa_m2=gfa
        )
    b = twin.buildings
    area = shapely.area(buildings.geometry.iloc[0])
    assert _row(b, "b2")["height_m"] == pytest.approx(4 * sh)
    assert _row(b, "b4")["height_m"] == pytest.approx(FLOORS_BY_USE["commercial"] * sh)
    assert _row(b, "b3")["floors"] == round(30.0 / sh)  # 10.7 -> 11
    assert _row(b, "b1")["households"] == math.floor(area * 6 / gfa)  # 25


def test_estimates_can_be_switched_off(buildings: gpd.GeoDataFrame) -> None:
    twin = Twin(crs=32650, buildings=buildings, estimate=False)
    b = twin.buildings
    assert b["height_m"].isna().tolist() == [False, True, False, True]
    assert b["floors"].isna().tolist() == [False, False, True, True]
    assert (b["height_source"] == "measured").all()
    assert b["households"].isna().tolist() == [True, True, False, True]


def test_fully_measured_buildings_need_no_estimate(
    measured_buildings: gpd.GeoDataFrame,
) -> None:
    twin = Twin(crs=32650, buildings=measured_buildings)  # no warning
    assert (twin.buildings["height_source"] == "measured").all()
    assert (twin.buildings["floors_source"] == "measured").all()
    assert twin.buildings["households_source"].tolist() == [
        "measured",
        "measured",
        "measured",
        "measured",
    ]


@pytest.mark.parametrize("use", BUILDING_USES)
def test_default_floors_for_every_use(use: str, origin: tuple[float, float]) -> None:
    x, y = origin
    b = gpd.GeoDataFrame(
        {"building_id": ["x"], "use": [use]},
        geometry=[box(x, y, x + 10, y + 10)],
        crs=32650,
    )
    with pytest.warns(RepairWarning, match="1 from default storeys"):
        twin = Twin(crs=32650, buildings=b)
    row = twin.buildings.iloc[0]
    assert row["floors"] == FLOORS_BY_USE[use]
    assert row["height_m"] == pytest.approx(FLOORS_BY_USE[use] * STOREY_M)
    if use == "residential":
        assert row["households"] == math.floor(100.0 * FLOORS_BY_USE[use] / DWELLING_M2)
    else:
        assert row["households"] == 0


def test_small_residential_building_has_at_least_one_household(
    origin: tuple[float, float],
) -> None:
    x, y = origin
    b = gpd.GeoDataFrame(
        {
            "building_id": ["hut"],
            "use": ["residential"],
            "height_m": [3.0],
            "floors": pd.array([1], dtype="Int64"),
        },
        geometry=[box(x, y, x + 4, y + 5)],
        crs=32650,
    )
    with pytest.warns(RepairWarning, match="1 household counts"):
        twin = Twin(crs=32650, buildings=b)
    assert math.floor(20 * 1 / DWELLING_M2) == 0
    assert twin.buildings["households"].iloc[0] == 1


def test_per_feature_default_floors_win_over_use(buildings: gpd.GeoDataFrame) -> None:
    per_feature = pd.Series([np.nan, np.nan, np.nan, 12.0], index=[7, 8, 9, 10])
    with pytest.warns(RepairWarning):
        twin = Twin(crs=32650, buildings=buildings, default_floors=per_feature)
    b4 = _row(twin.buildings, "b4")
    assert b4["floors"] == 12
    assert b4["height_m"] == pytest.approx(12 * STOREY_M)
    assert b4["floors_source"] == "default"


def test_fill_building_estimates_returns_copy(buildings: gpd.GeoDataFrame) -> None:
    raw = Twin(crs=32650, buildings=buildings, estimate=False).buildings
    before = raw.copy()
    out = fill_building_estimates(raw, warn=False)
    assert out is not raw
    assert_geodataframe_equal(raw, before)
    assert out["height_m"].notna().all()


def test_defaults_match_the_toml_and_are_a_copy() -> None:
    d = defaults()
    assert d["storey_height_m"]["value"] == STOREY_M
    assert d["dwelling_gfa_m2"]["value"] == DWELLING_M2
    assert d["default_floors_by_use"] == FLOORS_BY_USE
    assert set(FLOORS_BY_USE) == set(BUILDING_USES)
    d["storey_height_m"]["value"] = 99.0
    assert defaults()["storey_height_m"]["value"] == STOREY_M


# -- from_layers ---------------------------------------------------------------
def _to_geographic(layers: dict[str, Any], epsg: int) -> dict[str, gpd.GeoDataFrame]:
    """District layers relabelled as ``epsg`` and projected to lon/lat."""
    return {
        k: v.set_crs(epsg, allow_override=True).to_crs(4326)
        for k, v in layers.items()
        if k != "network"
    }


@pytest.fixture
def hangzhou(make_district: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The district near Hangzhou (120.15E, 30.28N), in EPSG:4326."""
    x, y = Transformer.from_crs(4326, 32651, always_xy=True).transform(
        HANGZHOU_LON, HANGZHOU_LAT
    )
    utm = make_district(x - 440_000.0, y - 4_428_000.0)
    geo: dict[str, Any] = _to_geographic(utm, 32651)
    G = utm["network"]
    G.graph["crs"] = "EPSG:32651"
    geo["network"] = cim.network.project_graph(G, 4326)
    return geo


def _projected_areas(gdf: gpd.GeoDataFrame, epsg: int) -> np.ndarray:
    """Areas of ``gdf`` (lon/lat) projected by pyproj directly, not geopandas."""
    tr = Transformer.from_crs(gdf.crs, epsg, always_xy=True)
    moved = shapely.transform(
        gdf.geometry.array, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
    )
    return shapely.area(np.asarray(moved))


def test_from_layers_projects_geographic_input_to_local_utm(
    hangzhou: dict[str, Any],
) -> None:
    b = hangzhou["buildings"]
    lon = float(np.mean(b.total_bounds[[0, 2]]))
    assert lon == pytest.approx(HANGZHOU_LON, abs=0.01)
    zone = math.floor((lon + 180.0) / 6.0) + 1
    assert zone == 51
    independent = gpd.GeoSeries(b.geometry.union_all().centroid, crs=4326)
    assert independent.estimate_utm_crs().to_epsg() == 32651

    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(**hangzhou)
    assert twin.crs.to_epsg() == 32600 + zone == 32651
    for name in SCHEMAS:
        assert twin[name].crs.equals(twin.crs)
    assert_allclose(twin.buildings.area, _projected_areas(b, 32651), rtol=1e-6)


def test_from_layers_honours_explicit_crs(hangzhou: dict[str, Any]) -> None:
    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(crs=4549, **hangzhou)
    assert twin.crs.to_epsg() == 4549
    b = hangzhou["buildings"]
    assert_allclose(twin.buildings.area, _projected_areas(b, 4549), rtol=1e-6)
    assert_allclose(twin.buildings.area, b.to_crs(4549).area, rtol=1e-6)
    x, y = Transformer.from_crs(4326, 4549, always_xy=True).transform(
        HANGZHOU_LON, HANGZHOU_LAT
    )
    # The district's south-west corner sits at (120.15E, 30.28N); grid
    # convergence between UTM 51N and CM 120E turns it by about 1.5 degrees.
    minx, miny, _, _ = twin.buildings.total_bounds
    assert minx == pytest.approx(x, abs=5.0)
    assert miny == pytest.approx(y, abs=5.0)
    assert CRS.from_user_input(twin.network.graph["crs"]).to_epsg() == 4549


def test_from_layers_projects_the_network(hangzhou: dict[str, Any]) -> None:
    G = hangzhou["network"]
    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(**hangzhou)
    H = twin.network
    assert CRS.from_user_input(H.graph["crs"]).to_epsg() == 32651
    tr = Transformer.from_crs(4326, 32651, always_xy=True)
    for n, d in G.nodes(data=True):
        x, y = tr.transform(d["x"], d["y"])
        assert H.nodes[n]["x"] == pytest.approx(x, abs=1e-6)
        assert H.nodes[n]["y"] == pytest.approx(y, abs=1e-6)
    for u, v, k, d in G.edges(keys=True, data=True):
        h = H.edges[u, v, k]
        if "geometry" in d:
            xs, ys = tr.transform(*np.asarray(d["geometry"].coords).T)
            assert_allclose(
                np.asarray(h["geometry"].coords), np.column_stack([xs, ys]), atol=1e-6
            )
        # Geometry is oriented u -> v, and length_m is kept.
        start = h["geometry"].coords[0]
        assert start == pytest.approx((H.nodes[u]["x"], H.nodes[u]["y"]))
        assert h["length_m"] == d["length_m"]
    # The input graph is not modified.
    assert G.graph["crs"] == "EPSG:4326"
    assert G.nodes[1]["x"] == pytest.approx(HANGZHOU_LON, abs=0.01)


def test_from_layers_keeps_a_single_metric_crs(layers: dict[str, Any]) -> None:
    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(**layers)
    assert twin.crs.to_epsg() == 32650
    assert_allclose(twin.buildings.area, layers["buildings"].area, **AREA)


def test_from_layers_mixes_metric_and_geographic_layers(layers: dict[str, Any]) -> None:
    layers["parcels"] = layers["parcels"].to_crs(4326)
    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(**layers)
    assert twin.crs.to_epsg() == 32650
    assert_allclose(twin.parcels.area, [90 * 40, 90 * 40], rtol=1e-6)


def test_from_layers_refuses_two_metric_crss_without_crs(
    layers: dict[str, Any],
) -> None:
    layers["parcels"] = layers["parcels"].to_crs(4547)  # CGCS2000 GK CM 114E
    with pytest.raises(CRSError) as info:
        Twin.from_layers(buildings=layers["buildings"], parcels=layers["parcels"])
    msg = str(info.value)
    assert "different projected CRSs" in msg
    assert "EPSG:32650" in msg
    assert "EPSG:4547" in msg
    assert "crs=" in msg


def test_from_layers_reprojects_other_metric_crs_when_crs_given(
    layers: dict[str, Any],
) -> None:
    parcels = layers["parcels"].to_crs(4547)
    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(
            crs=32650, buildings=layers["buildings"], parcels=parcels
        )
    assert_allclose(twin.parcels.area, layers["parcels"].area, rtol=1e-6)


def test_from_layers_accepts_one_crs_spelled_two_ways(layers: dict[str, Any]) -> None:
    # A .prj without an authority reads as a PROJ string; it is still UTM 50N.
    proj = CRS.from_proj4("+proj=utm +zone=50 +datum=WGS84 +units=m +no_defs")
    parcels = layers["parcels"].set_crs(proj, allow_override=True)
    assert parcels.crs.equals(layers["buildings"].crs)
    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(buildings=layers["buildings"], parcels=parcels)
    assert twin.crs.equals(CRS.from_epsg(32650))


def test_from_layers_reads_files(tmp_path: Path, hangzhou: dict[str, Any]) -> None:
    bpath = tmp_path / "buildings.geojson"
    fpath = tmp_path / "facilities.geojson"
    hangzhou["buildings"].to_file(bpath, driver="GeoJSON")
    hangzhou["facilities"].to_file(fpath, driver="GeoJSON")
    with pytest.warns(RepairWarning):
        twin = Twin.from_layers(buildings=str(bpath), facilities=fpath)
    assert twin.crs.to_epsg() == 32651
    assert list(twin.buildings["building_id"]) == ["b1", "b2", "b3", "b4"]
    assert twin.facilities["name"].iloc[0] == "幼儿园"
    assert_allclose(
        twin.buildings.area, _projected_areas(hangzhou["buildings"], 32651), rtol=1e-6
    )
    assert twin.buildings.geom_type.tolist() == [
        "Polygon",
        "MultiPolygon",
        "Polygon",
        "Polygon",
    ]


def test_from_layers_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.geojson"
    with pytest.raises(InputFileError, match=r"nope\.geojson: no such file"):
        Twin.from_layers(buildings=path)


def test_from_layers_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "buildings.geojson"
    path.write_text("this is not geojson", encoding="utf-8")
    with pytest.raises(
        InputFileError,
        match=r"buildings\.geojson: cannot read it as "
        r"the 'buildings' layer.*GeoJSON",
    ):
        Twin.from_layers(buildings=path)


def test_from_layers_refuses_layers_without_crs(layers: dict[str, Any]) -> None:
    b = layers["buildings"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"layer 'buildings' has no CRS; declare it"):
        Twin.from_layers(buildings=b)


def test_from_layers_refuses_non_frames() -> None:
    with pytest.raises(
        LayerSchemaError,
        match=r"layer 'site' must be a GeoDataFrame, a GeoSeries "
        r"or a file path, got list",
    ):
        Twin.from_layers(site=[Point(0, 0)])


def test_from_layers_needs_something_to_choose_a_crs() -> None:
    with pytest.raises(
        CRSError, match=r"cannot choose a CRS for an empty twin.*crs="
    ) as info:
        Twin.from_layers()
    # A Python caller gave no file: no advice about renaming a file's layers.
    assert "Twin.from_layers(buildings=gdf)" in str(info.value)
    assert "rename" not in str(info.value) and "QGIS" not in str(info.value)


def test_geopackage_without_twin_layer_names_says_so_and_how_to_fix(
    tmp_path: Path,
) -> None:
    # A layer named 'bldg' (not 'buildings'): before, "cannot choose a CRS for
    # an empty twin" left the user guessing.
    path = tmp_path / "drawn.gpkg"
    gpd.GeoDataFrame(
        {"id": [1]}, geometry=[box(440_000, 4_428_000, 440_010, 4_428_010)], crs=32650
    ).to_file(path, layer="bldg")
    with pytest.raises(cim.InputFileError) as info:
        cim.read(path)
    msg = str(info.value)
    for phrase in (
        "drawn.gpkg",
        "no layer is named after a twin layer (found bldg;",
        "buildings, parcels, greens, facilities, site, surfaces",
        "network_nodes + network_edges",
        "rename the file's layers",
        "layer='bldg'",
    ):
        assert phrase in msg, f"{phrase!r} not in {msg!r}"


def test_only_empty_layers_ask_for_a_crs_in_python_and_on_the_command_line(
    layers: dict[str, Any],
) -> None:
    # Empty and in longitude/latitude: nothing to choose a UTM zone from.
    empty = layers["buildings"].to_crs(4326).iloc[:0]
    with pytest.raises(CRSError) as info:
        Twin.from_layers(buildings=empty)
    msg = str(info.value)
    assert "every layer given (buildings) is empty" in msg
    assert "crs=4549" in msg
    assert "command line: --crs 4549" in msg


def test_from_layers_refuses_non_metric_target(layers: dict[str, Any]) -> None:
    with pytest.raises(CRSError, match="geographic"):
        Twin.from_layers(crs=4326, buildings=layers["buildings"])


# -- properties ------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    dx=st.floats(min_value=-50_000, max_value=50_000, allow_nan=False),
    dy=st.floats(min_value=-50_000, max_value=50_000, allow_nan=False),
)
def test_translation_leaves_areas_unchanged(
    make_district: Callable[..., dict[str, Any]], dx: float, dy: float
) -> None:
    base = make_district()
    moved = make_district(dx, dy)
    a = Twin(crs=32650, estimate=False, **base)
    b = Twin(crs=32650, estimate=False, **moved)
    assert_allclose(b.buildings.area.sum(), a.buildings.area.sum(), rtol=1e-9)
    assert_allclose(b.site_area_m2(), a.site_area_m2(), rtol=1e-9)
    assert_allclose(b.buildings.area, a.buildings.area, rtol=1e-9)
    sa, sb = a.summary(), b.summary()
    assert sb["footprint_area_m2"] == sa["footprint_area_m2"]
    assert sb["site_area_m2"] == sa["site_area_m2"]
    assert_allclose(
        np.subtract(sb["bounds"], sa["bounds"]), [dx, dy, dx, dy], atol=0.011
    )


def test_without_buildings_takes_their_rows_and_refuses_unknown_ids() -> None:
    pilot = cim.datasets.load("hangzhou_pilot")
    assert (pilot.elements["building_id"] == "A-T4").any()
    out = pilot.without_buildings(["A-T4"])
    assert "A-T4" not in set(out.buildings["building_id"])
    assert "A-T4" not in set(out.elements["building_id"])
    assert len(out.buildings) == len(pilot.buildings) - 1
    assert len(out.elements) == int((pilot.elements["building_id"] != "A-T4").sum())
    assert (pilot.buildings["building_id"] == "A-T4").any()  # unchanged input
    layers = pilot.layers_without_buildings(["A-T4"])
    assert set(layers) == {"buildings", "elements"}
    with pytest.raises(LayerSchemaError, match=r"'nope' not in the buildings layer"):
        pilot.without_buildings(["A-T4", "nope"])
