"""Tests for the GeoPackage store (:func:`cim.read`, :meth:`cim.Twin.save`)."""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import MultiPolygon, Point, box

import cim
import cim.io.gpkg
import cim.twin
from cim import CIMWarning, InputFileError, LayerSchemaError, RepairWarning, Twin
from cim.layers import SCHEMAS

GraphCheck = Callable[[nx.MultiDiGraph, nx.MultiDiGraph], None]

#: A RAM-backed folder for the property test's many saves, where there is one.
_FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _round_trip(twin: Twin, folder: Path, name: str = "twin.gpkg") -> Twin:
    path = twin.save(folder / name)
    return cim.read(path)


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the twin's clock return successive, distinct times."""
    times = [f"2031-01-0{i}T08:00:00+00:00" for i in range(1, 10)]
    calls: list[str] = []

    def now() -> str:
        calls.append(times[len(calls)])
        return calls[-1]

    monkeypatch.setattr(cim.twin, "_now", now)
    return calls


@pytest.fixture(scope="module")
def saved(
    tmp_path_factory: pytest.TempPathFactory,
    make_district: Callable[..., dict[str, Any]],
    make_twin: Callable[..., Twin],
) -> tuple[Twin, Path, Twin]:
    """The district twin, its GeoPackage and the twin read back, made once.

    Tests using it only read; each save costs an fsync, so sharing keeps the
    module fast.
    """
    twin = make_twin(make_district())
    path = twin.save(tmp_path_factory.mktemp("saved") / "twin.gpkg")
    return twin, path, cim.read(path)


# -- lossless round trip ----------------------------------------------------------
@pytest.mark.parametrize("name", list(SCHEMAS))
def test_round_trip_of_every_layer_is_lossless(
    saved: tuple[Twin, Path, Twin], name: str
) -> None:
    twin, _, back = saved
    assert_geodataframe_equal(
        back[name],
        twin[name],
        check_dtype=True,
        check_crs=True,
        check_geom_type=True,
        check_index_type=True,
    )
    assert list(back[name].columns) == list(twin[name].columns)
    assert back.crs.equals(twin.crs)


def test_round_trip_details(saved: tuple[Twin, Path, Twin]) -> None:
    twin, _, back = saved
    b = back.buildings
    # Mixed Polygon / MultiPolygon, the courtyard hole included.
    assert b.geom_type.tolist() == ["Polygon", "MultiPolygon", "Polygon", "Polygon"]
    assert len(b.geometry.iloc[0].interiors) == 1
    assert b.geometry.iloc[0].equals_exact(twin.buildings.geometry.iloc[0], 0.0)
    # Int64 with NA, NaN floats, Chinese strings and extra columns.
    assert str(b["year_built"].dtype) == "Int64"
    assert b["year_built"].isna().tolist() == [False, True, False, True]
    assert math.isnan(b["roof_area_m2"].iloc[1])
    assert b["owner"].iloc[0] == "中国农业大学"
    assert pd.isna(b["owner"].iloc[1])
    assert back.facilities["name"].iloc[0] == "幼儿园"
    assert back.site["name"].iloc[0] == "测试社区"
    assert back.parcels["far_max"].isna().tolist() == [False, True]
    # The estimate flags are read, not re-estimated.
    assert b["height_source"].tolist() == ["measured", "levels", "measured", "default"]
    assert b["households_source"].tolist() == ["estimated", "none", "measured", "none"]


def test_reading_does_not_estimate_again(twin: Twin, tmp_path: Path) -> None:
    # Reading warns about nothing, and NA left by estimate=False stays NA.
    raw = twin.with_layer(
        "buildings",
        twin.buildings.assign(floors=pd.NA, height_m=np.nan),
        estimate=False,
    )
    back = _round_trip(raw, tmp_path)
    assert back.buildings["floors"].isna().all()
    assert back.buildings["height_m"].isna().all()


@pytest.mark.parametrize("kind", ["Polygon", "MultiPolygon", "mixed"])
def test_round_trip_per_geometry_type(
    measured_buildings: gpd.GeoDataFrame, tmp_path: Path, kind: str
) -> None:
    b = measured_buildings.copy()
    if kind == "Polygon":
        b.loc[1, "geometry"] = b.geometry.iloc[1].geoms[0]
    elif kind == "MultiPolygon":
        b["geometry"] = [
            g if g.geom_type == "MultiPolygon" else MultiPolygon([g])
            for g in b.geometry
        ]
    twin = Twin(crs=32650, buildings=b)
    back = _round_trip(twin, tmp_path)
    assert_geodataframe_equal(back.buildings, twin.buildings)
    assert set(back.buildings.geom_type) == set(twin.buildings.geom_type)


def test_round_trip_of_empty_twin(tmp_path: Path) -> None:
    twin = Twin(crs=4549, name="空的")
    back = _round_trip(twin, tmp_path)
    assert back.crs.to_epsg() == 4549
    assert back.name == "空的"
    for name in SCHEMAS:
        assert_geodataframe_equal(back[name], twin[name])
    assert back.network.number_of_nodes() == 0


def test_round_trip_in_4549(
    make_district: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    # The district moved to Hangzhou, in CGCS2000 / GK CM 120E coordinates.
    layers = make_district(514_432.0 - 440_000.0, 3_351_162.0 - 4_428_000.0)
    for k, v in layers.items():
        if k == "network":
            v.graph["crs"] = "EPSG:4549"
        else:
            layers[k] = v.set_crs(4549, allow_override=True)
    with pytest.warns(RepairWarning):
        twin = Twin(crs=4549, **layers)
    back = _round_trip(twin, tmp_path)
    assert back.crs.equals(CRS.from_epsg(4549))
    for name in SCHEMAS:
        assert_geodataframe_equal(back[name], twin[name])


def test_round_trip_is_idempotent(
    saved: tuple[Twin, Path, Twin], tmp_path: Path
) -> None:
    _, _, once = saved
    twice = _round_trip(once, tmp_path, "twice.gpkg")
    for name in SCHEMAS:
        assert_geodataframe_equal(twice[name], once[name])


def test_round_trip_of_json_like_columns(
    measured_buildings: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    # OSM tags kept as a dict per feature are stored as JSON: they must come
    # back as dicts, not as JSON text.
    b = measured_buildings.copy()
    b["osm_tags"] = [
        {"building": "apartments", "name:zh": "1号楼"},
        None,
        {"building": "yes"},
        None,
    ]
    twin = Twin(crs=32650, buildings=b)
    back = _round_trip(twin, tmp_path)
    assert back.buildings["osm_tags"].tolist() == twin.buildings["osm_tags"].tolist()


# -- network round trip -----------------------------------------------------------
def test_network_round_trip(
    saved: tuple[Twin, Path, Twin], assert_graphs_equal: GraphCheck
) -> None:
    twin, _, back = saved
    G, H = twin.network, back.network
    assert_graphs_equal(G, H)
    assert H.graph == G.graph
    assert H.graph["name"] == "测试路网"
    assert H.graph["simplified"] is True
    # NaN stays NaN in numeric attributes, None stays None in the others.
    assert math.isnan(H.edges[2, 3, 0]["speed_kph"])
    assert H.edges[2, 3, 0]["surface"] is None
    assert H.edges[1, 2, 1]["name"] == "辅路"
    assert H.edges[2, 3, 0]["oneway"] is True
    assert type(H.nodes[1]["street_count"]) is int


def test_network_round_trip_with_osmnx_list_attributes(
    twin: Twin,
    network: nx.MultiDiGraph,
    tmp_path: Path,
    assert_graphs_equal: GraphCheck,
) -> None:
    # osmnx merges the tags of simplified edges into lists.
    network.edges[1, 2, 0]["osmid"] = [1001, 1002]
    network.edges[1, 2, 0]["name"] = ["学院路", "成府路"]
    with_lists = twin.with_layer("network", network)
    back = _round_trip(with_lists, tmp_path)
    assert back.network.edges[1, 2, 0]["osmid"] == [1001, 1002]
    assert back.network.edges[1, 2, 0]["name"] == ["学院路", "成府路"]
    assert_graphs_equal(with_lists.network, back.network)


def test_network_layers_in_the_file(saved: tuple[Twin, Path, Twin]) -> None:
    _, path, _ = saved
    listed = dict(pyogrio.list_layers(path))
    assert listed["network_nodes"] == "Point"
    assert listed["network_edges"] == "LineString"
    edges = gpd.read_file(path, layer="network_edges")
    assert {"u", "v", "key", "length_m"} <= set(edges.columns)
    assert len(edges) == 8


# -- metadata ----------------------------------------------------------------------
def test_metadata_round_trip(
    make_district: Callable[..., dict[str, Any]],
    sources: list[dict[str, str]],
    tmp_path: Path,
    fixed_clock: list[str],
) -> None:
    meta = {
        "sources": sources,
        "project": {"phase": 2, "单位": "海淀区"},
        "licence": "ODbL-1.0",
    }
    with pytest.warns(RepairWarning):
        twin = Twin(crs=32650, name="中国农大东区", metadata=meta, **make_district())
    created = twin.metadata["created"]
    assert created == fixed_clock[0]
    path = twin.save(tmp_path / "twin.gpkg")
    saved_at = fixed_clock[-1]
    back = cim.read(path)
    m = back.metadata
    assert back.name == m["name"] == "中国农大东区"
    assert m["sources"] == sources
    assert m["sources"][0]["attribution"] == "© OpenStreetMap 贡献者"
    assert m["created"] == created
    assert m["modified"] == saved_at  # the time of saving
    assert m["modified"] > m["created"]
    assert m["project"] == {"phase": 2, "单位": "海淀区"}
    assert m["licence"] == "ODbL-1.0"
    assert m["crs"] == "EPSG:32650"


def test_metadata_table_in_the_file(saved: tuple[Twin, Path, Twin]) -> None:
    _, path, _ = saved
    table = pyogrio.read_dataframe(path, layer="cim_metadata", read_geometry=False)
    rows = dict(zip(table["key"], table["value"], strict=True))
    assert rows["format"] == '"cim-twin"'
    assert rows["format_version"] == str(cim.io.gpkg.FORMAT_VERSION)
    assert "海淀区规划图" in rows["sources"]  # stored as UTF-8, not \\u escapes


# -- saving ------------------------------------------------------------------------
def test_save_returns_the_path_and_creates_folders(twin: Twin, tmp_path: Path) -> None:
    target = tmp_path / "out" / "deeper" / "twin.gpkg"
    path = twin.save(str(target))
    assert path == target
    assert target.is_file()
    assert os.listdir(target.parent) == ["twin.gpkg"]


def test_save_replaces_an_existing_file(
    twin: Twin, parcels: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = twin.save(tmp_path / "twin.gpkg")
    derived = twin.with_layer("parcels", parcels.iloc[:1])
    derived.save(path)
    assert len(cim.read(path).parcels) == 1
    assert os.listdir(tmp_path) == ["twin.gpkg"]


def test_save_is_atomic(
    twin: Twin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = twin.save(tmp_path / "twin.gpkg")
    before = path.read_bytes()
    real = cim.io.gpkg.pyogrio.write_dataframe
    calls: list[str] = []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(kwargs.get("layer", "?"))
        if len(calls) > 1:
            raise OSError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(cim.io.gpkg.pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError, match="disk full"):
        twin.save(path)
    assert calls == ["buildings", "parcels"]
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["twin.gpkg"]  # no temporary file left


def test_failed_first_save_leaves_nothing(
    twin: Twin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = cim.io.gpkg.pyogrio.write_dataframe
    calls: list[str] = []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(kwargs.get("layer", "?"))
        if len(calls) > 1:
            raise KeyboardInterrupt
        real(*args, **kwargs)

    monkeypatch.setattr(cim.io.gpkg.pyogrio, "write_dataframe", failing)
    with pytest.raises(KeyboardInterrupt):
        twin.save(tmp_path / "new.gpkg")
    assert os.listdir(tmp_path) == []


def test_saving_does_not_modify_the_twin(
    twin: Twin,
    tmp_path: Path,
    fixed_clock: list[str],
    assert_graphs_equal: GraphCheck,
) -> None:
    layers = {name: twin[name].copy() for name in SCHEMAS}
    objects = {name: twin[name] for name in SCHEMAS}
    network = twin.network.copy()
    metadata = twin.metadata
    twin.save(tmp_path / "twin.gpkg")
    for name in SCHEMAS:
        assert twin[name] is objects[name]
        assert_geodataframe_equal(twin[name], layers[name])
    assert_graphs_equal(twin.network, network)
    assert twin.network.graph == network.graph
    assert twin.metadata == metadata  # "modified" included


# -- foreign GeoPackages -------------------------------------------------------------
def _foreign_gpkg(path: Path, crs: int | str = 32650) -> Path:
    x, y = 440_000.0, 4_428_000.0
    b = gpd.GeoDataFrame(
        {"building_id": [1, 2, 3]},
        geometry=[
            box(x, y, x + 20, y + 10),
            box(x + 30, y, x + 40, y + 25),
            box(x, y + 30, x + 15, y + 45),
        ],
        crs=32650,
    )
    f = gpd.GeoDataFrame(
        {"facility_id": ["k1", "s1"], "category": ["kindergarten", "supermarket"]},
        geometry=[Point(x + 50, y + 5), Point(x + 60, y + 40)],
        crs=32650,
    )
    notes = gpd.GeoDataFrame({"text": ["画图说明"]}, geometry=[Point(x, y)], crs=32650)
    b.to_crs(crs).to_file(path, layer="buildings", driver="GPKG")
    f.to_crs(crs).to_file(path, layer="facilities", driver="GPKG")
    notes.to_crs(crs).to_file(path, layer="notes", driver="GPKG")
    return path


def test_foreign_geopackage_is_read_with_defaults(tmp_path: Path) -> None:
    path = _foreign_gpkg(tmp_path / "qgis_export.gpkg")
    digest = _sha256(path)
    with (
        pytest.warns(RepairWarning, match="3 from default storeys"),
        pytest.warns(
            CIMWarning,
            match=r"qgis_export\.gpkg: layers notes are not "
            r"twin layers and were not read; name layers "
            r"buildings, parcels",
        ) as record,
    ):
        twin = cim.read(path)
    assert sum(type(w.message) is CIMWarning for w in record) == 1
    assert _sha256(path) == digest
    assert twin.name == "qgis_export"
    assert twin.crs.to_epsg() == 32650
    assert twin.metadata["sources"] == [{"name": "qgis_export.gpkg"}]
    b = twin.buildings
    assert b["building_id"].tolist() == ["1", "2", "3"]
    assert (b["use"] == "unknown").all()
    assert (b["height_source"] == "default").all()
    assert (b["structure"] == "unknown").all()
    assert b["year_built"].isna().all()
    for name, schema in SCHEMAS.items():
        for col in schema.columns:
            assert str(twin[name][col.name].dtype) == col.dtype
    assert twin.facilities["category"].tolist() == ["kindergarten", "supermarket"]
    assert twin.facilities["name"].tolist() == ["", ""]
    for name in ("parcels", "greens", "site"):
        assert len(twin[name]) == 0
    assert twin.network.number_of_nodes() == 0


def test_foreign_geographic_geopackage_is_projected(tmp_path: Path) -> None:
    path = _foreign_gpkg(tmp_path / "wgs84.gpkg", crs=4326)
    with pytest.warns(RepairWarning), pytest.warns(CIMWarning, match="notes"):
        twin = cim.read(path)
    assert twin.crs.to_epsg() == 32650  # Haidian lies in UTM zone 50N
    assert twin.buildings.area.tolist() == pytest.approx(
        [200.0, 250.0, 225.0], rel=1e-6
    )


def test_foreign_geopackage_with_crs_argument(tmp_path: Path) -> None:
    path = _foreign_gpkg(tmp_path / "wgs84.gpkg", crs=4326)
    # The district is in Beijing (116.3E): CGCS2000 3-degree zone CM 117E.
    with pytest.warns(RepairWarning), pytest.warns(CIMWarning, match="notes"):
        twin = cim.read(path, crs=4548)
    assert twin.crs.to_epsg() == 4548


def test_geopackage_with_half_a_network_is_refused(twin: Twin, tmp_path: Path) -> None:
    path = tmp_path / "half.gpkg"
    nodes, _ = cim.network.graph_to_gdfs(twin.network)
    nodes.to_file(path, layer="network_nodes", driver="GPKG")
    with pytest.raises(
        InputFileError,
        match=r"half\.gpkg: has only one of "
        r"'network_nodes' and 'network_edges'",
    ):
        cim.read(path)


# -- bad files ----------------------------------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        InputFileError,
        match=r"missing\.gpkg: no such file; check "
        r"the path",
    ):
        cim.read(tmp_path / "missing.gpkg")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.gpkg"
    folder.mkdir()
    with pytest.raises(InputFileError, match=r"folder\.gpkg: is a directory"):
        cim.read(folder)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.gpkg"
    path.touch()
    with pytest.raises(
        InputFileError,
        match=r"empty\.gpkg: the file is empty "
        r"\(0 bytes\); re-export",
    ):
        cim.read(path)
    assert path.stat().st_size == 0


def test_text_file_named_gpkg(tmp_path: Path) -> None:
    path = tmp_path / "notes.gpkg"
    path.write_text("building_id,height_m\nb1,18\n", encoding="utf-8")
    digest = _sha256(path)
    with pytest.raises(InputFileError) as info:
        cim.read(path)
    msg = str(info.value)
    assert "notes.gpkg" in msg
    assert "not a GeoPackage (no SQLite header)" in msg
    assert "Twin.from_layers" in msg
    assert _sha256(path) == digest


def test_truncated_geopackage(saved: tuple[Twin, Path, Twin], tmp_path: Path) -> None:
    _, full, _ = saved
    path = tmp_path / "truncated.gpkg"
    path.write_bytes(full.read_bytes()[:4096])
    digest = _sha256(path)
    with pytest.raises(InputFileError) as info:
        cim.read(path)
    msg = str(info.value)
    assert "truncated.gpkg" in msg
    assert "cannot open the GeoPackage" in msg
    assert "truncated" in msg.split("truncated.gpkg", 1)[1]
    assert _sha256(path) == digest
    assert not list(tmp_path.glob("truncated.gpkg-*"))  # no journal left behind


def test_reading_never_modifies_the_file(saved: tuple[Twin, Path, Twin]) -> None:
    _, path, _ = saved
    digest, mtime = _sha256(path), path.stat().st_mtime_ns
    cim.read(path)
    cim.read(str(path))
    assert _sha256(path) == digest
    assert path.stat().st_mtime_ns == mtime
    assert sorted(os.listdir(path.parent)) == ["twin.gpkg"]


# -- properties -------------------------------------------------------------------
_heights = st.one_of(
    st.none(),
    st.floats(min_value=0.01, max_value=1_000.0, allow_nan=False, allow_infinity=False),
)
_floors = st.one_of(st.none(), st.integers(min_value=1, max_value=200))


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.tuples(_heights, _floors), min_size=1, max_size=6),
)
def test_round_trip_preserves_random_heights_and_floors(
    rows: list[tuple[float | None, int | None]],
) -> None:
    x, y = 440_000.0, 4_428_000.0
    n = len(rows)
    b = gpd.GeoDataFrame(
        {
            "building_id": [f"b{i}" for i in range(n)],
            "height_m": [np.nan if h is None else h for h, _ in rows],
            "floors": pd.array([f for _, f in rows], dtype="Int64"),
        },
        geometry=[box(x + 20 * i, y, x + 20 * i + 10, y + 10) for i in range(n)],
        crs=32650,
    )
    twin = Twin(crs=32650, buildings=b, estimate=False)
    with tempfile.TemporaryDirectory(dir=_FAST_TMP) as folder:
        back = _round_trip(twin, Path(folder))
    got = back.buildings
    assert_geodataframe_equal(got, twin.buildings)
    expected_h = b["height_m"].to_numpy()
    np.testing.assert_array_equal(got["height_m"].to_numpy(), expected_h)  # bit-exact
    assert got["floors"].isna().tolist() == [f is None for _, f in rows]
    assert got["floors"].dropna().tolist() == [f for _, f in rows if f is not None]


def test_elements_and_surfaces_round_trip(tmp_path, twin) -> None:
    from cim.storeys import storeys_from_buildings

    base = twin
    elements = storeys_from_buildings(base.buildings).head(6).copy()
    elements.loc[elements.index[0], "kind"] = "stilt_floor"
    twin = base.with_layer("elements", elements)
    assert len(twin.elements) == 6
    assert len(twin.surfaces) == 3
    assert len(base.elements) == 0  # the base twin is unchanged
    path = twin.save(tmp_path / "el.gpkg")
    again = cim.read(path)
    pd.testing.assert_frame_equal(again.elements, twin.elements)
    assert_geodataframe_equal(again.surfaces, twin.surfaces)
    assert again.surfaces.geometry.has_z.all()


def test_elements_must_reference_buildings(twin) -> None:
    from cim.storeys import storeys_from_buildings

    elements = storeys_from_buildings(twin.buildings).head(2).copy()
    elements["building_id"] = "nope"
    with pytest.raises(LayerSchemaError, match=r"elements.*'nope'.*buildings layer"):
        twin.with_layer("elements", elements)


def test_surfaces_must_reference_buildings(twin) -> None:
    surfaces = twin.surfaces.copy()
    surfaces["building_id"] = "ghost"
    with pytest.raises(LayerSchemaError, match=r"surfaces.*'ghost'"):
        twin.with_layer("surfaces", surfaces)
