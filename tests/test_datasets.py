"""The bundled sample: it loads, and the shipped GeoPackage equals a fresh import."""

from __future__ import annotations

import warnings

import pytest
from geopandas.testing import assert_geodataframe_equal

import cim
from cim.network import graph_to_gdfs


def test_available_and_paths():
    assert "beijing_haidian_cau" in cim.datasets.available()
    assert cim.datasets.get_path("beijing_haidian_cau").suffix == ".gpkg"
    assert cim.datasets.get_path("beijing_haidian_cau", kind="osm").name.endswith(
        ".osm.bz2"
    )
    with pytest.raises(ValueError, match="available: beijing_haidian_cau"):
        cim.datasets.load("atlantis")
    with pytest.raises(ValueError, match="invalid kind"):
        cim.datasets.get_path("beijing_haidian_cau", kind="ifc")


def test_sample_loads_with_attribution():
    twin = cim.datasets.load("beijing_haidian_cau")
    assert twin.crs.to_epsg() == 32650
    assert len(twin.buildings) > 200
    assert len(twin.facilities) > 100
    assert twin.network.number_of_edges() > 1000
    (source,) = twin.metadata["sources"]
    assert source["licence"] == "ODbL 1.0"
    assert "OpenStreetMap contributors" in source["attribution"]
    # Every height of this extract is an estimate, and says so.
    assert (twin.buildings["height_source"] != "measured").all()


def test_shipped_gpkg_equals_a_fresh_import():
    pytest.importorskip("osmium")
    shipped = cim.datasets.load("beijing_haidian_cau")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cim.CIMWarning)
        fresh = cim.Twin.from_osm(
            cim.datasets.get_path("beijing_haidian_cau", kind="osm"),
            name="beijing_haidian_cau",
        )
    assert fresh.crs.equals(shipped.crs)
    for name, layer in fresh.layers.items():
        try:
            assert_geodataframe_equal(shipped[name], layer)
        except AssertionError as exc:
            msg = f"layer {name!r} of the shipped sample is stale; rebuild it"
            raise AssertionError(msg) from exc
    for a, b in zip(
        graph_to_gdfs(shipped.network), graph_to_gdfs(fresh.network), strict=True
    ):
        assert_geodataframe_equal(a, b)
    assert shipped.metadata["sources"] == fresh.metadata["sources"]


def test_cityjson_sample_is_the_shared_file_and_loads_at_each_lod():
    # The bundled 3D BAG houses are byte for byte the cjio test file, and load
    # through the CityJSON reader: LoD2.2 counts storeys from the eaves, attics
    # by clear height and each annex once (985.6 m2, hand sums in
    # test_cityjson.py); LoD1.2 takes footprint x storeys (1,043.4 m2).
    from pathlib import Path

    from cim.errors import RepairWarning
    from cim.takeoff import twin_takeoff

    path = cim.datasets.get_path("nl_3dbag_houses", kind="cityjson")
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "cityjson"
    if (shared / "3dbag_multi_lod.city.json").is_file():
        assert path.read_bytes() == (shared / "3dbag_multi_lod.city.json").read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)  # storeys are estimated
        lod2 = cim.datasets.load("nl_3dbag_houses")
        lod1 = cim.datasets.load("nl_3dbag_houses", lod="1.2")
    assert lod2.crs.to_epsg() == 28992 and lod2.name == "nl_3dbag_houses"
    assert len(lod2.buildings) == len(lod1.buildings) == 10
    assert len(lod2.elements) > 0 and len(lod1.elements) == 0
    gfa = {
        k: twin_takeoff(t).by_building["gross_floor_area_m2"].sum()
        for k, t in (("2.2", lod2), ("1.2", lod1))
    }
    assert gfa["2.2"] == pytest.approx(985.6, abs=0.05)
    assert gfa["1.2"] == pytest.approx(1043.4, abs=0.05)
    with pytest.raises(TypeError, match="takes no options"):
        cim.datasets.load("hangzhou_pilot", lod="1.2")
