"""Tests for layer validation (:mod:`cim._validate`) as layers enter the twin.

One test per kind of bad input. Each checks the error class and that the
message names the layer, the offending column or feature and the fix, since
the message is all a planner sees on the command line.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from numpy.testing import assert_allclose
from pyproj import CRS
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from cim import CIMError, CRSError, LayerSchemaError, RepairWarning, Twin
from cim._validate import validate_layer

UTM50 = CRS.from_epsg(32650)


def _refused(exc_info: pytest.ExceptionInfo[Any], *phrases: str) -> str:
    msg = str(exc_info.value)
    for phrase in phrases:
        assert phrase in msg, f"{phrase!r} not in {msg!r}"
    return msg


def test_errors_are_value_errors_and_cim_errors() -> None:
    for cls in (LayerSchemaError, CRSError):
        assert issubclass(cls, ValueError)
        assert issubclass(cls, CIMError)


# -- geometry -----------------------------------------------------------------
def test_bowtie_is_repaired_with_a_counting_warning(
    measured_buildings: gpd.GeoDataFrame, origin: tuple[float, float]
) -> None:
    x, y = origin
    bowtie = Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])
    assert not bowtie.is_valid
    b = measured_buildings.copy()
    b.loc[1, "geometry"] = bowtie
    with pytest.warns(RepairWarning) as record:
        twin = Twin(crs=32650, buildings=b)
    (w,) = record
    msg = str(w.message)
    assert "layer 'buildings': repaired 1 invalid geometries" in msg
    assert "shapely.make_valid" in msg
    assert "'b2'" in msg
    assert "Self-intersection" in msg
    g = twin.buildings.geometry.iloc[1]
    assert g.is_valid
    assert g.geom_type == "MultiPolygon"
    # Two triangles of 10 x 10 / 4 each.
    assert_allclose(g.area, 2 * 25.0, rtol=1e-12)
    assert g.equals(shapely.make_valid(bowtie))
    # Valid features are left as they were.
    assert twin.buildings.geometry.iloc[0].equals(b.geometry.iloc[0])
    # The input frame keeps its invalid polygon.
    assert not b.geometry.iloc[1].is_valid


def test_several_invalid_polygons_are_counted(
    measured_buildings: gpd.GeoDataFrame, origin: tuple[float, float]
) -> None:
    x, y = origin
    b = measured_buildings.copy()
    for i in (0, 2, 3):
        x0 = x + 100 * i
        b.loc[i, "geometry"] = Polygon(
            [(x0, y), (x0 + 10, y + 10), (x0 + 10, y), (x0, y + 10)]
        )
    with pytest.warns(
        RepairWarning,
        match=r"repaired 3 invalid geometries .*"
        r"features 'b1', 'b3', 'b4'",
    ):
        twin = Twin(crs=32650, buildings=b)
    assert twin.buildings.geometry.is_valid.all()
    assert_allclose(twin.buildings.area.iloc[[0, 2, 3]], 50.0, rtol=1e-12)


def test_self_touching_ring_is_repaired_to_a_polygon(
    measured_buildings: gpd.GeoDataFrame, origin: tuple[float, float]
) -> None:
    # A square with an inverted spike: make_valid gives a polygon plus a line;
    # the twin keeps the polygonal part only.
    x, y = origin
    spike = Polygon(
        [
            (x, y),
            (x + 10, y),
            (x + 10, y + 10),
            (x + 5, y + 10),
            (x + 5, y + 15),
            (x + 5, y + 10),
            (x, y + 10),
        ]
    )
    assert not spike.is_valid
    b = measured_buildings.copy()
    b.loc[2, "geometry"] = spike
    with pytest.warns(RepairWarning, match="repaired 1 invalid"):
        twin = Twin(crs=32650, buildings=b)
    g = twin.buildings.geometry.iloc[2]
    assert g.geom_type == "Polygon"
    assert g.is_valid
    assert_allclose(g.area, 100.0, rtol=1e-12)


def test_invalid_polygon_with_no_area_left_is_refused(
    measured_buildings: gpd.GeoDataFrame, origin: tuple[float, float]
) -> None:
    x, y = origin
    flat = Polygon([(x, y), (x + 10, y), (x + 20, y), (x, y)])
    assert not flat.is_valid
    b = measured_buildings.copy()
    b.loc[3, "geometry"] = flat
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info, "layer 'buildings'", "'b4'", "no area left after repair", "redraw them"
    )
    assert info.value.layer == "buildings"
    assert info.value.column == "geometry"
    assert info.value.feature_id == ["b4"]


def test_empty_geometry_is_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b.loc[2, "geometry"] = Polygon()
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "'b3'",
        "empty or missing geometry",
        "draw them or remove them",
    )
    assert info.value.feature_id == ["b3"]


def test_missing_geometry_is_refused(greens: gpd.GeoDataFrame) -> None:
    g = greens.copy()
    g.loc[1, "geometry"] = None
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, greens=g)
    _refused(
        info,
        "layer 'greens'",
        "'g2'",
        "empty or missing geometry",
        "remove them from the input",
    )
    assert (info.value.layer, info.value.column) == ("greens", "geometry")


def test_linestring_in_buildings_is_refused(
    measured_buildings: gpd.GeoDataFrame, origin: tuple[float, float]
) -> None:
    x, y = origin
    b = measured_buildings.copy()
    b.loc[1, "geometry"] = LineString([(x, y), (x + 10, y)])
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "'b2'",
        "are LineString",
        "expected Polygon or MultiPolygon",
    )
    assert info.value.feature_id == ["b2"]


def test_polygon_in_facilities_is_refused(
    facilities: gpd.GeoDataFrame, origin: tuple[float, float]
) -> None:
    x, y = origin
    f = facilities.copy()
    f.loc[0, "geometry"] = box(x, y, x + 5, y + 5)
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, facilities=f)
    _refused(info, "layer 'facilities'", "'f1'", "are Polygon", "expected Point")


def test_multipolygon_site_is_accepted(origin: tuple[float, float]) -> None:
    x, y = origin
    site = gpd.GeoDataFrame(
        {"site_id": ["s1"]},
        geometry=[
            MultiPolygon([box(x, y, x + 10, y + 10), box(x + 20, y, x + 30, y + 10)])
        ],
        crs=32650,
    )
    twin = Twin(crs=32650, site=site)
    assert twin.site_area_m2() == pytest.approx(200.0)


# -- ids and columns -------------------------------------------------------------
def test_duplicate_ids_are_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["building_id"] = ["b1", "b2", "b1", "b4"]
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "duplicate building_id 'b1'",
        "ids must be unique",
        "renumber them",
        "dissolve",
    )
    assert info.value.column == "building_id"
    assert info.value.feature_id == ["b1"]


def test_ids_that_collide_as_strings_are_duplicates(
    facilities: gpd.GeoDataFrame,
) -> None:
    f = facilities.copy()
    f["facility_id"] = pd.Series([1, "1", 2, 3, 4], dtype=object)
    with pytest.raises(LayerSchemaError, match="duplicate facility_id '1'"):
        Twin(crs=32650, facilities=f)


def test_numeric_ids_become_strings(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["building_id"] = [101, 102, 103, 104]
    twin = Twin(crs=32650, buildings=b)
    assert twin.buildings["building_id"].tolist() == ["101", "102", "103", "104"]
    assert str(twin.buildings["building_id"].dtype) == "str"


def test_missing_required_column_is_refused(facilities: gpd.GeoDataFrame) -> None:
    f = facilities.drop(columns="category").rename(columns={"name": "类别"})
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, facilities=f)
    _refused(
        info,
        "layer 'facilities'",
        "lacks required column 'category'",
        "it has: facility_id, 类别",
        "add it or rename the matching column",
    )
    assert info.value.column == "category"


def test_missing_id_column_is_refused(parcels: gpd.GeoDataFrame) -> None:
    p = parcels.rename(columns={"parcel_id": "id"})
    with pytest.raises(
        LayerSchemaError,
        match=r"layer 'parcels' lacks required "
        r"column 'parcel_id'.*rename",
    ):
        Twin(crs=32650, parcels=p)


def test_null_id_is_refused(greens: gpd.GeoDataFrame) -> None:
    g = greens.copy()
    g["green_id"] = ["g1", None, "g3", "g4"]
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, greens=g)
    _refused(
        info,
        "layer 'greens'",
        "rows '1'",
        "no 'green_id'",
        "give every feature a unique id",
    )
    assert info.value.column == "green_id"


def test_plain_dataframe_is_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    frame = pd.DataFrame(measured_buildings.drop(columns="geometry"))
    with pytest.raises(
        LayerSchemaError,
        match=r"layer 'buildings' must be a "
        r"GeoDataFrame.*got DataFrame",
    ):
        Twin(crs=32650, buildings=frame)


# -- values -----------------------------------------------------------------------
def test_unknown_facility_category_is_refused(facilities: gpd.GeoDataFrame) -> None:
    f = facilities.copy()
    f.loc[2, "category"] = "cinema"
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, facilities=f)
    _refused(
        info,
        "layer 'facilities'",
        "column 'category'",
        "'f3'",
        "'cinema'",
        "not in the life-circle table",
        "use one of: kindergarten, nursery",
    )
    assert info.value.feature_id == ["f3"]


def test_building_use_not_allowed_is_refused(
    measured_buildings: gpd.GeoDataFrame,
) -> None:
    b = measured_buildings.copy()
    b.loc[3, "use"] = "住宅"
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "column 'use'",
        "'住宅' not allowed",
        "'b4'",
        "use one of: residential, commercial",
    )
    assert info.value.column == "use"
    assert info.value.feature_id == ["b4"]


def test_green_kind_not_allowed_is_refused(greens: gpd.GeoDataFrame) -> None:
    g = greens.copy()
    g.loc[0, "kind"] = "lawn"
    with pytest.raises(
        LayerSchemaError,
        match=r"layer 'greens', column 'kind': "
        r"'lawn' not allowed.*'g1'.*use one of",
    ):
        Twin(crs=32650, greens=g)


def test_negative_height_is_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b.loc[2, "height_m"] = -12.0
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "column 'height_m'",
        "'b3'",
        "height <= 0 m",
        "give the height in metres or leave it empty",
    )
    assert info.value.feature_id == ["b3"]


def test_zero_floors_are_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["floors"] = pd.array([6, 0, 10, 3], dtype="Int64")
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "column 'floors'",
        "'b2'",
        "0 floors",
        "at least one storey",
    )
    assert info.value.feature_id == ["b2"]


def test_impossible_height_is_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    # 5000: a 50 m building given in centimetres.
    b = measured_buildings.copy()
    b["height_m"] = [18.0, 5000.0, 30.0, 1200.0]
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "column 'height_m'",
        "'b2', 'b4'",
        "heights 1200, 5000 m",
        "above 1000 m",
        "828 m",
        "give the height in metres, not centimetres",
        "leave it empty to estimate it",
    )
    assert info.value.feature_id == ["b2", "b4"]


def test_tallest_real_height_is_accepted(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["height_m"] = [18.0, 828.0, 30.0, 1000.0]
    b["floors"] = pd.array([6, 163, 10, 200], dtype="Int64")
    twin = Twin(crs=32650, buildings=b)
    assert twin.buildings["height_m"].max() == 1000.0
    assert twin.buildings["floors"].max() == 200


def test_estimated_height_is_not_bounded(measured_buildings: gpd.GeoDataFrame) -> None:
    # A stored twin reads back its estimates as they were: only given values
    # are bounded (200 floors x a 6 m storey height = 1200 m).
    b = measured_buildings.copy()
    b["height_m"] = [18.0, 1200.0, 30.0, 9.0]
    b["height_source"] = ["measured", "levels", "measured", "measured"]
    twin = Twin(crs=32650, buildings=b, estimate=False)
    assert twin.buildings["height_m"].iloc[1] == 1200.0


def test_impossible_floors_are_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["floors"] = pd.array([6, 4, 300, 3], dtype="Int64")
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "column 'floors'",
        "'b3'",
        "have 300 floors, more than 200",
        "give the storeys above ground",
        "leave it empty to estimate it",
    )
    assert info.value.feature_id == ["b3"]


def test_negative_households_are_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["households"] = pd.array([20, 0, -1, 0], dtype="Int64")
    with pytest.raises(
        LayerSchemaError,
        match=r"column 'households': features "
        r"'b3' are negative",
    ):
        Twin(crs=32650, buildings=b)


def test_non_integer_floors_are_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["floors"] = [6.0, 4.5, 10.0, 3.0]
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "column 'floors'",
        "non-integer values",
        "'b2'",
        "give whole numbers",
    )
    assert info.value.feature_id == ["b2"]


def test_whole_float_floors_are_accepted(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.copy()
    b["floors"] = [6.0, 4.0, np.nan, 3.0]
    with pytest.warns(RepairWarning, match="1 storey counts from height"):
        twin = Twin(crs=32650, buildings=b)
    assert str(twin.buildings["floors"].dtype) == "Int64"
    assert twin.buildings["floors"].tolist() == [6, 4, 10, 3]


def test_text_in_numeric_column_is_refused(
    measured_buildings: gpd.GeoDataFrame,
) -> None:
    b = measured_buildings.copy()
    b["height_m"] = ["18", "12", "thirty", "9"]
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "column 'height_m' cannot be read as float64",
        "fix the values or drop the column",
    )


def test_density_given_in_percent_is_refused(parcels: gpd.GeoDataFrame) -> None:
    p = parcels.copy()
    p.loc[0, "density_max"] = 35.0
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, parcels=p)
    _refused(
        info,
        "layer 'parcels'",
        "column 'density_max'",
        "'p1'",
        "exceed 1",
        "give rates as fractions (0.35, not 35)",
    )
    assert info.value.feature_id == ["p1"]


def test_green_rate_given_in_percent_is_refused(parcels: gpd.GeoDataFrame) -> None:
    p = parcels.copy()
    p.loc[1, "green_rate_min"] = 30.0
    with pytest.raises(
        LayerSchemaError,
        match=r"column 'green_rate_min': features "
        r"'p2' exceed 1.*0\.35, not 35",
    ):
        Twin(crs=32650, parcels=p)


def test_negative_far_is_refused(parcels: gpd.GeoDataFrame) -> None:
    p = parcels.copy()
    p.loc[0, "far_max"] = -2.5
    with pytest.raises(
        LayerSchemaError,
        match=r"layer 'parcels', column 'far_max': "
        r"features 'p1' are negative",
    ):
        Twin(crs=32650, parcels=p)


def test_negative_soil_depth_is_refused(greens: gpd.GeoDataFrame) -> None:
    g = greens.copy()
    g.loc[2, "soil_depth_m"] = -0.6
    with pytest.raises(
        LayerSchemaError,
        match=r"layer 'greens', column "
        r"'soil_depth_m': features 'g3'",
    ):
        Twin(crs=32650, greens=g)


def test_error_message_lists_at_most_five_ids(
    measured_buildings: gpd.GeoDataFrame, origin: tuple[float, float]
) -> None:
    x, y = origin
    n = 8
    b = gpd.GeoDataFrame(
        {"building_id": [f"b{i}" for i in range(n)], "height_m": [-1.0] * n},
        geometry=[box(x + 20 * i, y, x + 20 * i + 10, y + 10) for i in range(n)],
        crs=32650,
    )
    with pytest.raises(LayerSchemaError) as info:
        Twin(crs=32650, buildings=b)
    _refused(info, "'b0', 'b1', 'b2', 'b3', 'b4' and 3 more")
    assert "'b5'" not in str(info.value)
    assert info.value.feature_id == [f"b{i}" for i in range(n)]


# -- CRS ------------------------------------------------------------------------
def test_lonlat_values_declared_as_utm_are_refused(origin: tuple[float, float]) -> None:
    lon, lat = 116.35, 40.0  # Beijing, as degrees but labelled EPSG:32650
    b = gpd.GeoDataFrame(
        {"building_id": ["b1", "b2"], "height_m": [10.0, 20.0]},
        geometry=[
            box(lon, lat, lon + 0.0002, lat + 0.0001),
            box(lon + 0.0005, lat, lon + 0.0007, lat + 0.0001),
        ],
        crs=32650,
    )
    with pytest.raises(CRSError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "EPSG:32650",
        "coordinates look like longitude/latitude degrees",
        "set_crs('EPSG:4326', allow_override=True)",
    )


def test_tiny_coordinates_in_utm_are_refused() -> None:
    f = gpd.GeoDataFrame(
        {"facility_id": ["f1"], "category": ["kindergarten"]},
        geometry=[Point(0, 0)],
        crs=32650,
    )
    with pytest.raises(CRSError, match="look like longitude/latitude"):
        Twin(crs=32650, facilities=f)


def test_geographic_twin_crs_is_refused() -> None:
    with pytest.raises(CRSError) as info:
        Twin(crs=4326)
    _refused(
        info,
        "'twin'",
        "geographic CRS EPSG:4326",
        "degrees",
        "Twin.from_layers",
        "to_crs(4549)",
    )


def test_geographic_layer_is_refused(measured_buildings: gpd.GeoDataFrame) -> None:
    b = measured_buildings.to_crs(4326)
    with pytest.raises(CRSError) as info:
        Twin(crs=32650, buildings=b)
    _refused(info, "layer 'buildings'", "geographic CRS EPSG:4326", "Twin.from_layers")


def test_feet_crs_is_refused() -> None:
    with pytest.raises(CRSError) as info:
        Twin(crs="EPSG:2263")
    _refused(
        info,
        "'twin'",
        "EPSG:2263",
        "US survey foot",
        "projected CRS in metres",
        "EPSG:4549",
    )


def test_layer_in_another_metric_crs_is_refused(
    measured_buildings: gpd.GeoDataFrame,
) -> None:
    b = measured_buildings.to_crs(4547)  # CGCS2000 / 3-degree GK CM 114E
    with pytest.raises(CRSError) as info:
        Twin(crs=32650, buildings=b)
    _refused(
        info,
        "layer 'buildings'",
        "EPSG:4547",
        "the twin is in EPSG:32650",
        "reproject it with gdf.to_crs(twin.crs)",
    )


def test_layer_without_crs_is_refused(parcels: gpd.GeoDataFrame) -> None:
    p = parcels.set_crs(None, allow_override=True)
    with pytest.raises(CRSError) as info:
        Twin(crs=32650, parcels=p)
    _refused(info, "layer 'parcels' has no CRS", "declare it", "set_crs")


def test_twin_without_crs_is_refused() -> None:
    with pytest.raises(CRSError, match="'twin' has no CRS"):
        Twin(crs=None)


def test_unknown_crs_is_refused() -> None:
    with pytest.raises(CRSError, match="is not a coordinate reference system"):
        Twin(crs="EPSG:999999")


# -- validate_layer directly ----------------------------------------------------
def test_validate_layer_returns_a_new_frame(parcels: gpd.GeoDataFrame) -> None:
    before = parcels.copy()
    out = validate_layer("parcels", parcels, crs=UTM50)
    assert out is not parcels
    assert_geodataframe_equal(parcels, before)
    assert list(out.columns) == [
        "parcel_id",
        "land_use",
        "far_max",
        "density_max",
        "green_rate_min",
        "height_max_m",
        "parking_spaces",
        "surface_parking_spaces",
        "name",
        "geometry",
    ]


def test_validate_layer_fills_missing_string_values_with_defaults(
    measured_buildings: gpd.GeoDataFrame,
) -> None:
    b = measured_buildings.copy()
    b["use"] = ["residential", None, "residential", np.nan]
    out = validate_layer("buildings", b, crs=UTM50)
    assert out["use"].tolist() == ["residential", "unknown", "residential", "unknown"]
