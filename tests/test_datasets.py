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
