"""Tests of cim.io.cityjson on every CityJSON file in shared/data/cityjson.

The expectations are computed here from the raw JSON, independently of the
reader and of geometry.polygons3d:

- object counts with a Counter over ``CityObjects``;
- open shells by counting, per building, the directed uses of each ring edge
  (an edge used as often in both directions is matched);
- volumes of closed shells by the polygon form of the divergence theorem,
  ``V = sum((p_f - o) . N_f) / 3`` over the faces' Newell area vectors ``N_f``
  (no triangulation), for two origins ``o`` that must agree; of the LoD1
  blocks of delft as roof area x height; of Rotterdam's repaired shells (their
  missing faces are vertical walls) as the flux of ``(0, 0, z)`` through the
  faces present.

Tolerances: heights 1e-9 m read, 1e-3 m after a round trip (1 mm
quantisation); volumes rel 1e-9 for exact prisms, rel 5e-4 against the
Newell form (some LoD2 faces of Den Haag and Zurich are up to a few cm out of
plane, and a non-planar face has no unique area), rel 1e-6 after a round trip.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

import cim
from cim.errors import CRSError, InputFileError, RepairWarning
from cim.io.cityjson import (
    VOLUME_SOURCES,
    CityJSONData,
    read_cityjson,
    twin_from_cityjson,
    write_cityjson,
)
from cim.takeoff import twin_takeoff
from geometry.polygons3d import mesh_from_surfaces, signed_volume

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cityjson"
FILES = sorted(DATA.glob("*.city.json")) if DATA.is_dir() else []
NAMES = [f.name for f in FILES]

#: CRS to pass for files that declare none (all Dutch RD New).
CRS_GIVEN = {
    "3dbag_multi_lod.city.json": 28992,
    "rotterdam_subset.city.json": 28992,
    "denhaag_DH_01_subs.city.json": 28992,
}
#: The layers' EPSG code per file.
EPSG = {
    "3dbag_multi_lod.city.json": 28992,
    "delft.city.json": 28992,  # declares the compound EPSG:7415
    "rotterdam_subset.city.json": 28992,
    "denhaag_DH_01_subs.city.json": 28992,
    "zurich_subset_lod2.city.json": 2056,
}

H_TOL = 1e-9
H_TOL_ROUND_TRIP = 1e-3
V_RTOL_EXACT = 1e-9
V_RTOL_NEWELL = 5e-4
V_RTOL_ROUND_TRIP = 1e-6

needs_data = pytest.mark.skipif(not FILES, reason=f"no CityJSON files in {DATA}")


# -- independent computations on the raw JSON -------------------------------------


def raw(path: Path) -> tuple[dict[str, Any], np.ndarray]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    v = np.asarray(doc["vertices"], dtype=float)
    t = doc.get("transform")
    if t:
        v = v * t["scale"] + np.asarray(t["translate"])
    return doc, v


def highest(geoms: list[dict[str, Any]]) -> dict[str, Any] | None:
    surf = [
        g for g in geoms if g["type"] in ("MultiSurface", "CompositeSurface", "Solid")
    ]
    return max(surf, key=lambda g: float(g["lod"])) if surf else None


def building_surfaces(
    doc: dict[str, Any], bid: str, lod: str | None = None
) -> list[tuple[list[list[int]], str | None]]:
    """(rings, semantic type) of a Building and its BuildingParts."""
    objs = doc["CityObjects"]
    members = [bid] + [
        c for c in objs[bid].get("children", []) if objs[c]["type"] == "BuildingPart"
    ]
    out = []
    for m in members:
        geoms = objs[m].get("geometry", [])
        if lod is not None:
            geoms = [g for g in geoms if float(g["lod"]) == float(lod)]
        g = highest(geoms)
        if g is None:
            continue
        sem = g.get("semantics") or {"surfaces": [], "values": None}
        types = [s["type"] for s in sem["surfaces"]]
        if g["type"] == "Solid":
            surfaces = [s for shell in g["boundaries"] for s in shell]
            values = [
                v
                for shell in (sem["values"] or [[None] * len(surfaces)])
                for v in shell
            ]
        else:
            surfaces = g["boundaries"]
            values = sem["values"] or [None] * len(surfaces)
        out += [
            (s, None if v is None else types[v])
            for s, v in zip(surfaces, values, strict=True)
        ]
    return out


def unmatched_edges(surfaces: list[tuple[list[list[int]], str | None]]) -> int:
    uses: Counter[tuple[int, int]] = Counter()
    for rings, _ in surfaces:
        for ring in rings:
            ring = [a for i, a in enumerate(ring) if a != ring[i - 1]]
            for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
                uses[(a, b)] += 1
    edges = {(min(a, b), max(a, b)) for a, b in uses}
    return sum(abs(uses[(a, b)] - uses[(b, a)]) for a, b in edges)


def newell(points: np.ndarray) -> np.ndarray:
    q = np.roll(points, -1, axis=0)
    return 0.5 * np.cross(points, q).sum(axis=0)


def face_vectors(v: np.ndarray, surfaces: list, origin: np.ndarray) -> list[tuple]:
    out = []
    for rings, _ in surfaces:
        n = sum((newell(v[r] - origin) for r in rings), np.zeros(3))
        out.append((v[rings[0]].mean(axis=0) - origin, n))
    return out


def newell_volume(v: np.ndarray, surfaces: list, origin: np.ndarray) -> float:
    return float(sum(c @ n for c, n in face_vectors(v, surfaces, origin)) / 3)


def z_flux_volume(v: np.ndarray, surfaces: list, z0: float) -> float:
    """Flux of (0, 0, z - z0) through the faces: exact for planar faces."""
    o = v[surfaces[0][0][0][0]]
    return float(
        sum(n[2] * (c[2] + o[2] - z0) for c, n in face_vectors(v, surfaces, o))
    )


def surface_indices(surfaces: list) -> np.ndarray:
    return np.unique([i for rings, _ in surfaces for r in rings for i in r])


# -- fixtures ----------------------------------------------------------------------


def read_recording(path: Path, **kwargs: Any) -> tuple[CityJSONData, list[Any]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = read_cityjson(path, **kwargs)
    return data, list(caught)


@pytest.fixture(scope="module")
def loaded() -> dict[str, tuple[CityJSONData, list[Any]]]:
    return {f.name: read_recording(f, crs=CRS_GIVEN.get(f.name)) for f in FILES}


@pytest.fixture(scope="module")
def round_trips(
    loaded: dict[str, tuple[CityJSONData, list[Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, CityJSONData]]:
    out = {}
    folder = tmp_path_factory.mktemp("cityjson")
    for name, (data, _) in loaded.items():
        path = write_cityjson(
            data.buildings, data.surfaces, folder / name, crs=data.crs
        )
        again, _ = read_recording(path)
        out[name] = (path, again)
    return out


# -- counts and layers ---------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_object_counts(name: str, loaded: dict) -> None:
    doc, _ = raw(DATA / name)
    data, _ = loaded[name]
    types = Counter(o["type"] for o in doc["CityObjects"].values())
    assert data.counts == dict(types)
    assert len(data.buildings) == types["Building"]
    assert data.buildings["parts"].sum() == types.get("BuildingPart", 0)
    other = Counter(data.other_objects["cityobject_type"])
    assert other == types - Counter(
        {"Building": types["Building"], "BuildingPart": types["BuildingPart"]}
    )
    assert data.version == doc["version"]
    ids = [k for k, o in doc["CityObjects"].items() if o["type"] == "Building"]
    assert data.buildings["building_id"].tolist() == ids


@needs_data
def test_delft_other_objects_have_footprints(loaded: dict) -> None:
    data, _ = loaded["delft.city.json"]
    other = data.other_objects
    assert len(other) == 410
    assert other.geometry.notna().all()
    assert other.geometry.is_valid.all()
    assert set(other.geom_type) <= {"Polygon", "MultiPolygon"}
    assert json.loads(other["attributes"].iloc[0])  # attributes kept as JSON text


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_layers_follow_the_twin_schema(name: str, loaded: dict) -> None:
    data, _ = loaded[name]
    b, s = data.buildings, data.surfaces
    assert b.crs.to_epsg() == EPSG[name] == data.crs.to_epsg()
    assert set(b.geom_type) <= {"Polygon", "MultiPolygon"}
    assert b.geometry.is_valid.all()
    assert b["building_id"].is_unique
    assert set(b["volume_source"]) <= set(VOLUME_SOURCES)
    assert (b["volume_m3"] > 0).all()
    assert (b["height_m"] > 0).all()
    assert (b["height_source"] == "measured").all()
    assert s["surface_id"].is_unique
    assert s["building_id"].isin(b["building_id"]).all()
    assert set(s["semantic"]) <= {"ground", "wall", "roof", "closure", "other"}
    assert s.geometry.has_z.all()
    assert (s.geom_type == "Polygon").all()
    assert all(type(x) is str for x in s["semantic"])


# -- heights and volumes -------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_heights_against_raw_json(name: str, loaded: dict) -> None:
    doc, v = raw(DATA / name)
    data, _ = loaded[name]
    for row in data.buildings.itertuples():
        surfaces = building_surfaces(doc, row.building_id)
        z = v[surface_indices(surfaces), 2]
        ground = [
            i for rings, t in surfaces if t == "GroundSurface" for r in rings for i in r
        ]
        z_ground = v[ground, 2].min() if ground else z.min()
        attrs = doc["CityObjects"][row.building_id].get("attributes", {})
        # 3D BAG's h_maaiveld is the ground level; Rotterdam's TerrainHeight is
        # 2.5-3.3 m while its ground surfaces are at 0.000: another datum.
        if "h_maaiveld" in attrs:
            z_ground = attrs["h_maaiveld"]
        assert_allclose(row.height_m, z.max() - z_ground, atol=H_TOL)
        assert_allclose(row.ground_z_m, z_ground, atol=H_TOL)


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_open_shells_counted_independently(name: str, loaded: dict) -> None:
    doc, _ = raw(DATA / name)
    data, caught = loaded[name]
    b = data.buildings
    is_open = np.array(
        [unmatched_edges(building_surfaces(doc, i)) > 0 for i in b["building_id"]]
    )
    expected = {
        "3dbag_multi_lod.city.json": 0,
        "delft.city.json": 160,  # LoD1 blocks without their ground face
        "denhaag_DH_01_subs.city.json": 0,
        "rotterdam_subset.city.json": 16,  # party walls left out
        "zurich_subset_lod2.city.json": 44,  # roofs on separate parts, T-junctions
    }
    assert int(is_open.sum()) == expected[name]
    assert ((b["volume_source"] != "closed").to_numpy() == is_open).all()
    repairs = [w for w in caught if issubclass(w.category, RepairWarning)]
    assert len(repairs) == len(caught)
    if not is_open.any():
        assert repairs == []
        return
    assert len(repairs) == 1
    msg = str(repairs[0].message)
    n_closed = int((b["volume_source"] == "closed_after_repair").sum())
    n_fallback = int((b["volume_source"] == "footprint_x_height").sum())
    assert f"{int(is_open.sum())} of {len(b)} buildings have open shells" in msg
    assert f"{n_closed} closed by" in msg
    assert f"{n_fallback} measured as footprint area x height" in msg
    assert msg.startswith(name)


@needs_data
def test_delft_open_shells_make_the_naive_volume_depend_on_the_origin() -> None:
    doc, v = raw(DATA / "delft.city.json")
    for bid, obj in doc["CityObjects"].items():
        if obj["type"] != "Building":
            continue
        surfaces = building_surfaces(doc, bid)
        idx = surface_indices(surfaces)
        lo, hi = v[idx].min(axis=0), v[idx].max(axis=0)
        a, b = newell_volume(v, surfaces, lo), newell_volume(v, surfaces, hi)
        assert abs(a - b) > 0.01 * max(abs(a), abs(b))


@needs_data
def test_delft_volumes_are_roof_area_times_height(loaded: dict) -> None:
    doc, v = raw(DATA / "delft.city.json")
    data, _ = loaded["delft.city.json"]
    b = data.buildings
    assert (b["volume_source"] == "closed_after_repair").all()
    for row in b.itertuples():
        surfaces = building_surfaces(doc, row.building_id)
        o = v[surfaces[0][0][0][0]]
        faces = face_vectors(v, surfaces, o)
        up = [i for i, (_, n) in enumerate(faces) if n[2] > 1e-9]
        z = v[surface_indices(surfaces), 2]
        roof_z = v[[k for i in up for k in surfaces[i][0][0]], 2]
        assert_allclose(roof_z, z.max(), atol=1e-9)  # flat blocks
        expected = sum(faces[i][1][2] for i in up) * (z.max() - z.min())
        assert_allclose(row.volume_m3, expected, rtol=V_RTOL_EXACT)
        assert_allclose(row.volume_m3, row.geometry.area * row.height_m, rtol=1e-6)


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_closed_volumes_by_newell_with_two_origins(name: str, loaded: dict) -> None:
    doc, v = raw(DATA / name)
    data, _ = loaded[name]
    closed = data.buildings[data.buildings["volume_source"] == "closed"]
    for row in closed.itertuples():
        surfaces = building_surfaces(doc, row.building_id)
        idx = surface_indices(surfaces)
        a = newell_volume(v, surfaces, v[idx].min(axis=0))
        b = newell_volume(v, surfaces, v[idx].max(axis=0))
        assert_allclose(a, b, rtol=1e-9)  # closed: the origin does not matter
        assert_allclose(row.volume_m3, a, rtol=V_RTOL_NEWELL)


@needs_data
def test_rotterdam_repaired_volumes_by_z_flux(loaded: dict) -> None:
    doc, v = raw(DATA / "rotterdam_subset.city.json")
    data, _ = loaded["rotterdam_subset.city.json"]
    repaired = data.buildings[data.buildings["volume_source"] == "closed_after_repair"]
    assert len(repaired) == 8
    for row in repaired.itertuples():
        surfaces = building_surfaces(doc, row.building_id)
        expected = z_flux_volume(v, surfaces, row.ground_z_m)
        # Walls up to a few mm off vertical add a little flux.
        assert_allclose(row.volume_m3, expected, rtol=1e-4)


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_repaired_and_fallback_volumes_are_bounded(name: str, loaded: dict) -> None:
    doc, v = raw(DATA / name)
    data, _ = loaded[name]
    for row in data.buildings.itertuples():
        surfaces = building_surfaces(doc, row.building_id)
        z = v[surface_indices(surfaces), 2]
        if row.volume_source == "footprint_x_height":
            assert_allclose(
                row.volume_m3, row.geometry.area * (z.max() - row.ground_z_m), rtol=1e-9
            )
        else:
            prism = shapely.union_all(
                [shapely.Polygon(v[rings[0], :2]).buffer(0) for rings, _ in surfaces]
            )
            assert 0 < row.volume_m3 <= prism.area * (z.max() - z.min()) * (1 + 1e-6)


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_surfaces_layer_gives_the_same_volumes(name: str, loaded: dict) -> None:
    # The twin's surfaces layer alone rebuilds the volumes, whatever the origin.
    data, _ = loaded[name]
    b, s = data.buildings, data.surfaces
    keep = b["volume_source"] != "footprint_x_height"
    index = pd.Index(b["building_id"])
    group = index.get_indexer(s["building_id"])
    meshes = mesh_from_surfaces(
        s.geometry.array, group=group, n=len(b), semantic=s["semantic"], repair=True
    )
    for k in np.flatnonzero(keep.to_numpy()):
        m = meshes[k]
        assert m is not None
        lo, hi = m.bounds
        v_lo = signed_volume(m.vertices, m.faces, origin=lo)[0]
        v_hi = signed_volume(m.vertices, m.faces, origin=hi)[0]
        assert_allclose([v_lo, v_hi], b["volume_m3"].iloc[k], rtol=1e-9)


@needs_data
def test_lod_selection(loaded: dict) -> None:
    path = DATA / "3dbag_multi_lod.city.json"
    doc, v = raw(path)
    top, _ = loaded[path.name]
    assert set(top.buildings["lod"]) == {"2.2"}
    volumes = {}
    for lod in ("1.2", "1.3", "2.2"):
        data, caught = read_recording(path, crs=28992, lod=lod)
        assert caught == []
        assert set(data.buildings["lod"]) == set(data.surfaces["lod"]) == {lod}
        for row in data.buildings.itertuples():
            surfaces = building_surfaces(doc, row.building_id, lod=lod)
            idx = surface_indices(surfaces)
            expected = newell_volume(v, surfaces, v[idx].min(axis=0))
            assert_allclose(row.volume_m3, expected, rtol=V_RTOL_NEWELL)
        volumes[lod] = data.buildings["volume_m3"].to_numpy()
    assert_allclose(volumes["2.2"], top.buildings["volume_m3"])
    assert not np.allclose(volumes["1.2"], volumes["2.2"])
    with pytest.raises(
        ValueError, match=r"no building has LoD 3; the file has LoD 1.2, 1.3, 2.2"
    ):
        read_cityjson(path, crs=28992, lod="3")


@needs_data
def test_building_parts_are_merged(loaded: dict) -> None:
    data, _ = loaded["zurich_subset_lod2.city.json"]
    doc, _ = raw(DATA / "zurich_subset_lod2.city.json")
    s = data.surfaces
    for row in data.buildings.itertuples():
        children = doc["CityObjects"][row.building_id]["children"]
        assert row.parts == len(children)
        parts = set(s.loc[s["building_id"] == row.building_id, "part_id"])
        assert parts == set(children)  # Zurich buildings hold no geometry themselves


@needs_data
def test_attributes_become_columns(loaded: dict) -> None:
    b = loaded["3dbag_multi_lod.city.json"][0].buildings
    doc, _ = raw(DATA / "3dbag_multi_lod.city.json")
    years = [
        o["attributes"]["oorspronkelijk_bouwjaar"] for o in doc["CityObjects"].values()
    ]
    assert b["year_built"].dtype == "Int64"
    assert b["year_built"].tolist() == years
    assert (
        b["identificatie"].iloc[0]
        == doc["CityObjects"]["6751773"]["attributes"]["identificatie"]
    )
    assert "dak_type" in b.columns


# -- twin --------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_twin_from_cityjson(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        twin = twin_from_cityjson(DATA / name, crs=CRS_GIVEN.get(name), estimate=False)
    assert isinstance(twin, cim.Twin)
    assert twin.crs.to_epsg() == EPSG[name]
    assert (
        len(twin.buildings)
        == Counter(o["type"] for o in raw(DATA / name)[0]["CityObjects"].values())[
            "Building"
        ]
    )
    assert len(twin.surfaces) > 0
    [source] = twin.metadata["sources"]
    assert source["file"] == name
    assert "volume_m3" in twin.buildings.columns
    assert twin.name == name.split(".")[0]


@needs_data
def test_twin_estimates_storeys_from_measured_heights() -> None:
    with pytest.warns(RepairWarning, match="storey counts from height"):
        twin = twin_from_cityjson(DATA / "3dbag_multi_lod.city.json", crs=28992)
    assert (twin.buildings["floors_source"] == "height").all()


# -- writing -------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name: str, loaded: dict, round_trips: dict) -> None:
    data, _ = loaded[name]
    _, again = round_trips[name]
    a, b = data.buildings, again.buildings
    assert b["building_id"].tolist() == a["building_id"].tolist()
    assert_allclose(b["height_m"], a["height_m"], atol=H_TOL_ROUND_TRIP)
    assert_allclose(b["ground_z_m"], a["ground_z_m"], atol=H_TOL_ROUND_TRIP)
    assert_allclose(b["volume_m3"], a["volume_m3"], rtol=V_RTOL_ROUND_TRIP)
    assert b["volume_source"].tolist() == a["volume_source"].tolist()
    assert b["parts"].tolist() == a["parts"].tolist()
    assert b["lod"].tolist() == a["lod"].tolist()
    assert_allclose(b.geometry.area, a.geometry.area, rtol=1e-9)
    assert Counter(again.surfaces["semantic"]) == Counter(data.surfaces["semantic"])
    assert Counter(again.surfaces["semantic_type"]) == Counter(
        data.surfaces["semantic_type"]
    )
    assert again.crs.equals(data.crs)
    assert again.version == "2.0"
    # Attributes come back, except those that were null everywhere.
    for col in a.columns:
        if col in ("geometry",) or a[col].isna().all():
            continue
        assert col in b.columns, col


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_written_files_are_valid(name: str, round_trips: dict) -> None:
    path, _ = round_trips[name]
    check_structure(json.loads(path.read_text(encoding="utf-8")))


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_written_files_pass_the_official_validator(
    name: str, round_trips: dict
) -> None:
    path, _ = round_trips[name]
    official_validate(path)


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_written_files_parse_with_an_independent_2_0_reader(
    name: str, round_trips: dict
) -> None:
    path, _ = round_trips[name]
    check_with_cityjson_lib(path)


def test_extruded_buildings_round_trip(
    measured_buildings: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    # Buildings without surfaces are written as LoD1 blocks: holes become
    # courtyard walls, MultiPolygons BuildingParts.
    b = measured_buildings
    path = write_cityjson(b, None, tmp_path / "district.city.json", crs=b.crs)
    doc = json.loads(path.read_text(encoding="utf-8"))
    check_structure(doc)
    check_with_cityjson_lib(path)
    assert doc["CityObjects"]["b2"]["children"] == ["b2-part1", "b2-part2"]
    data, caught = read_recording(path)
    assert caught == []
    r = data.buildings
    assert r["building_id"].tolist() == b["building_id"].tolist()
    assert (r["volume_source"] == "closed").all()
    assert_allclose(r["volume_m3"], b.geometry.area * b["height_m"], rtol=V_RTOL_EXACT)
    assert_allclose(r["height_m"], b["height_m"], atol=H_TOL_ROUND_TRIP)
    assert_allclose(r["ground_z_m"], 0.0)
    assert r.geometry.symmetric_difference(b.geometry.to_crs(r.crs)).area.max() < 1e-6
    assert r["parts"].tolist() == [0, 2, 0, 0]
    for col in ("floors", "year_built", "households", "name", "use", "owner"):
        left, right = b[col].astype(object), r[col].astype(object)
        assert [None if pd.isna(x) else x for x in left] == [
            None if pd.isna(x) else x for x in right
        ], col
    # b1: 4 + 4 courtyard walls, b2: 2 x 4, b3 and b4: 4 each; b2 has 2 caps.
    assert Counter(data.surfaces["semantic"]) == {"wall": 24, "ground": 5, "roof": 5}


def test_write_metadata_and_atomic_replace(
    measured_buildings: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "d.city.json"
    out.write_text("old", encoding="utf-8")
    write_cityjson(
        measured_buildings, None, out, crs=32650, metadata={"title": "测试社区"}
    )
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["metadata"]["title"] == "测试社区"
    assert (
        doc["metadata"]["referenceSystem"]
        == "https://www.opengis.net/def/crs/EPSG/0/32650"
    )
    assert doc["transform"]["scale"] == [0.001] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.city.json"]
    with pytest.raises(FileNotFoundError):
        write_cityjson(
            measured_buildings, None, tmp_path / "no" / "x.city.json", crs=32650
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.city.json"]


def test_write_failure_keeps_the_old_file(
    measured_buildings: gpd.GeoDataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "d.city.json"
    out.write_bytes(b"old")
    started: list[Path] = []

    def half_then_disk_full(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        started.append(self)
        with open(self, "w", encoding="utf-8") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_cityjson(measured_buildings, None, out, crs=32650)
    assert len(started) == 1 and started[0] != out  # a temporary file was written
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.city.json"]


def test_write_refuses_bad_input(
    measured_buildings: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "x.city.json"
    with pytest.raises(CRSError):
        write_cityjson(measured_buildings, None, out, crs=4326)
    dup = measured_buildings.copy()
    dup.loc[1, "building_id"] = "b1"
    with pytest.raises(ValueError, match="unique"):
        write_cityjson(dup, None, out, crs=32650)
    assert not out.exists()


# -- CRS ---------------------------------------------------------------------------


def minimal(
    reference: str | None = None, version: str = "2.0", **extra: Any
) -> dict[str, Any]:
    """A unit cube building at (85000, 447000) in RD New, quantised to 1 mm."""
    cube = [
        [0, 0, 0],
        [1, 0, 0],
        [1, 1, 0],
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 1],
        [1, 1, 1],
        [0, 1, 1],
    ]
    doc: dict[str, Any] = {
        "type": "CityJSON",
        "version": version,
        "transform": {"scale": [0.001] * 3, "translate": [85000.0, 447000.0, 0.0]},
        "CityObjects": {
            "c": {
                "type": "Building",
                "attributes": {
                    "yearOfConstruction": 1990,
                    "height_m": 7,
                    "owner": {"a": 1},
                },
                "geometry": [
                    {
                        "type": "Solid",
                        "lod": "1",
                        "boundaries": [
                            [
                                [[0, 3, 2, 1]],
                                [[4, 5, 6, 7]],
                                [[0, 1, 5, 4]],
                                [[1, 2, 6, 5]],
                                [[2, 3, 7, 6]],
                                [[3, 0, 4, 7]],
                            ]
                        ],
                        "semantics": {
                            "surfaces": [
                                {"type": "GroundSurface"},
                                {"type": "RoofSurface"},
                                {"type": "WallSurface"},
                                {"type": "Window"},
                            ],
                            "values": [[0, 1, 2, 2, 3, None]],
                        },
                    }
                ],
            }
        },
        "vertices": [[x * 1000, y * 1000, z * 1000] for x, y, z in cube],
    }
    if reference:
        doc["metadata"] = {"referenceSystem": reference}
    doc.update(extra)
    return doc


def dump(tmp_path: Path, doc: Any, name: str = "t.city.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "reference",
    [
        "https://www.opengis.net/def/crs/EPSG/0/7415",
        "http://www.opengis.net/def/crs/EPSG/0/7415",
        "urn:ogc:def:crs:EPSG::7415",
        "https://www.opengis.net/def/crs/EPSG/0/28992",
    ],
)
def test_reference_system_forms(reference: str, tmp_path: Path) -> None:
    data = read_cityjson(dump(tmp_path, minimal(reference)))
    assert data.crs.to_epsg() == 28992
    assert data.reference_system == reference


def test_small_file_details(tmp_path: Path) -> None:
    data = read_cityjson(dump(tmp_path, minimal("urn:ogc:def:crs:EPSG::7415")))
    b = data.buildings.iloc[0]
    assert_allclose([b["volume_m3"], b["height_m"]], [1.0, 1.0], rtol=1e-9)
    assert b["year_built"] == 1990
    assert b["cityjson_height_m"] == 7  # an attribute named like a derived column
    assert json.loads(b["owner"]) == {"a": 1}
    assert Counter(data.surfaces["semantic"]) == {
        "ground": 1,
        "roof": 1,
        "wall": 2,
        "other": 2,
    }
    assert Counter(data.surfaces["semantic_type"]) == {
        "GroundSurface": 1, "RoofSurface": 1, "WallSurface": 2, "Window": 1, "": 1
    }  # fmt: skip


def test_cityjson_1_0_without_transform(tmp_path: Path) -> None:
    doc = minimal("urn:ogc:def:crs:EPSG::28992", version="1.0")
    t = doc.pop("transform")
    doc["vertices"] = [
        [
            x * t["scale"][0] + t["translate"][0],
            y * 0.001 + t["translate"][1],
            z * 0.001,
        ]
        for x, y, z in doc["vertices"]
    ]
    doc["CityObjects"]["c"]["geometry"][0]["lod"] = 1  # a number in 1.0
    data = read_cityjson(dump(tmp_path, doc))
    assert data.version == "1.0"
    assert data.buildings["lod"].tolist() == ["1"]
    assert_allclose(data.buildings["volume_m3"], [1.0], rtol=1e-9)


def test_missing_crs_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    p = dump(tmp_path, minimal())
    with pytest.raises(CRSError, match=r"declares no CRS.*crs=28992") as err:
        read_cityjson(p)
    assert str(p) in str(err.value)
    assert read_cityjson(p, crs=28992).crs.to_epsg() == 28992
    assert read_cityjson(p, crs="EPSG:7415").crs.to_epsg() == 28992


@pytest.mark.parametrize("code", [4326, 4979])
def test_geographic_crs_is_an_error(code: int, tmp_path: Path) -> None:
    p = dump(tmp_path, minimal(f"https://www.opengis.net/def/crs/EPSG/0/{code}"))
    with pytest.raises(CRSError, match="geographic"):
        read_cityjson(p)
    with pytest.raises(CRSError, match="geographic"):
        read_cityjson(dump(tmp_path, minimal(), "none.city.json"), crs=code)


def test_conflicting_crs_is_an_error(tmp_path: Path) -> None:
    p = dump(tmp_path, minimal("https://www.opengis.net/def/crs/EPSG/0/7415"))
    with pytest.raises(CRSError, match="drop crs="):
        read_cityjson(p, crs=2056)


@needs_data
def test_delft_and_zurich_crs(loaded: dict) -> None:
    delft, _ = loaded["delft.city.json"]
    assert delft.reference_system == "https://www.opengis.net/def/crs/EPSG/0/7415"
    assert delft.crs.to_epsg() == 28992
    zurich, _ = loaded["zurich_subset_lod2.city.json"]
    assert zurich.crs.to_epsg() == 2056
    with pytest.raises(CRSError, match="declares no CRS"):
        read_cityjson(DATA / "3dbag_multi_lod.city.json")


# -- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"  \n ", "only white space"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"<CityModel/>", "not valid JSON"),
        (b'{"type": "CityJSON", "version": "2.0", "CityObj', "ends early"),
        (b"[1, 2, 3]", "not CityJSON"),
        (b'{"type": "FeatureCollection", "features": []}', "not CityJSON"),
        (b'{"type": "CityJSONFeature", "CityObjects": {}}', "Text Sequences"),
        (
            b'{"type": "CityJSON", "version": "3.0", "CityObjects": {}, '
            b'"vertices": []}',
            "version '3.0' is not supported",
        ),
        (b'{"type": "CityJSON", "version": "2.0", "CityObjects": {}}', "'vertices'"),
    ],
)
def test_bad_input_files(content: bytes, match: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.city.json"
    p.write_bytes(content)
    with pytest.raises(InputFileError, match=match) as err:
        read_cityjson(p, crs=28992)
    msg = str(err.value)
    assert msg.startswith(str(p)) and "\n" not in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_cityjson(tmp_path / "nope.city.json")


@needs_data
def test_truncated_real_file(tmp_path: Path) -> None:
    text = (DATA / "delft.city.json").read_bytes()
    p = tmp_path / "delft.city.json"
    p.write_bytes(text[: len(text) // 2])
    with pytest.raises(InputFileError, match=r"ends early|not valid JSON"):
        read_cityjson(p)


def test_damaged_geometry(tmp_path: Path) -> None:
    doc = minimal("urn:ogc:def:crs:EPSG::28992")
    doc["CityObjects"]["c"]["geometry"][0]["boundaries"][0][0] = [[0, 3, 2, 99]]
    with pytest.raises(InputFileError, match="refers to vertex 99"):
        read_cityjson(dump(tmp_path, doc))
    doc["CityObjects"]["c"]["geometry"][0]["boundaries"] = [[0, 1]]
    with pytest.raises(InputFileError, match="malformed Solid"):
        read_cityjson(dump(tmp_path, doc))


# -- validation helpers --------------------------------------------------------------

_LOD = {"type": "string", "pattern": r"^(\d\.)(\d)$|^(\d)$"}
_RING = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 3}
_SURFACE = {"type": "array", "items": _RING, "minItems": 1}
_SEMANTIC_TYPES = [
    "RoofSurface", "GroundSurface", "WallSurface", "ClosureSurface",
    "OuterCeilingSurface", "OuterFloorSurface", "Window", "Door",
    "InteriorWallSurface", "CeilingSurface", "FloorSurface",
]  # fmt: skip


def _semantics(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "surfaces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"type": {"enum": _SEMANTIC_TYPES}},
                    "required": ["type"],
                },
            },
            "values": values,
        },
        "required": ["surfaces", "values"],
    }


_NULLABLE_INT = {"type": ["integer", "null"]}
#: The parts of the CityJSON 2.0 schema that the files we write touch, as
#: published in cityjson.min.schema.json (types, required members, geometry
#: nesting, LoD pattern, semantic types, typed building attributes).
SUBSET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "version", "transform", "CityObjects", "vertices"],
    "properties": {
        "type": {"const": "CityJSON"},
        "version": {"const": "2.0"},
        "transform": {
            "type": "object",
            "required": ["scale", "translate"],
            "additionalProperties": False,
            "properties": {
                k: {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 3,
                    "maxItems": 3,
                }
                for k in ("scale", "translate")
            },
        },
        "metadata": {
            "type": "object",
            "properties": {
                "referenceSystem": {
                    "type": "string",
                    "pattern": "^(http|https)://www.opengis.net/def/crs/",
                },
                "geographicalExtent": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 6,
                    "maxItems": 6,
                },
                "title": {"type": "string"},
            },
        },
        "vertices": {
            "type": "array",
            "items": {
                "type": "array",
                "items": {"type": "integer"},
                "minItems": 3,
                "maxItems": 3,
            },
        },
        "CityObjects": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["type", "geometry"],
                "properties": {
                    "type": {"enum": ["Building", "BuildingPart"]},
                    "attributes": {
                        "type": "object",
                        "properties": {
                            "class": {"type": "string"},
                            "function": {"type": "string"},
                            "usage": {"type": "string"},
                            "storeysAboveGround": {"type": "integer"},
                            "storeysBelowGround": {"type": "integer"},
                        },
                    },
                    "parents": {"type": "array", "items": {"type": "string"}},
                    "children": {"type": "array", "items": {"type": "string"}},
                    "geometry": {
                        "type": "array",
                        "items": {
                            "oneOf": [
                                {
                                    "type": "object",
                                    "required": ["type", "lod", "boundaries"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "type": {"const": "Solid"},
                                        "lod": _LOD,
                                        "boundaries": {
                                            "type": "array",
                                            "items": {
                                                "type": "array",
                                                "items": _SURFACE,
                                            },
                                        },
                                        "semantics": _semantics(
                                            {
                                                "type": "array",
                                                "items": {
                                                    "type": "array",
                                                    "items": _NULLABLE_INT,
                                                },
                                            }
                                        ),
                                    },
                                },
                                {
                                    "type": "object",
                                    "required": ["type", "lod", "boundaries"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "type": {"const": "MultiSurface"},
                                        "lod": _LOD,
                                        "boundaries": {
                                            "type": "array",
                                            "items": _SURFACE,
                                        },
                                        "semantics": _semantics(
                                            {"type": "array", "items": _NULLABLE_INT}
                                        ),
                                    },
                                },
                            ]
                        },
                    },
                },
                "if": {"properties": {"type": {"const": "BuildingPart"}}},
                "then": {"required": ["parents"]},
            },
        },
    },
}


def check_structure(doc: dict[str, Any]) -> None:
    """The subset schema, plus cjval's checks beyond the schema."""
    jsonschema.Draft7Validator(SUBSET_SCHEMA).validate(doc)
    n = len(doc["vertices"])
    assert len({tuple(v) for v in doc["vertices"]}) == n, "duplicate vertices"
    used: set[int] = set()
    objects = doc["CityObjects"]
    for oid, obj in objects.items():
        for child in obj.get("children", []):
            assert oid in objects[child]["parents"]
        for parent in obj.get("parents", []):
            assert oid in objects[parent]["children"]
        for g in obj["geometry"]:
            surfaces = g["boundaries"][0] if g["type"] == "Solid" else g["boundaries"]
            for s in surfaces:
                for ring in s:
                    used.update(ring)
                    assert len(ring) >= 3
                    assert all(
                        a != b for a, b in zip(ring, ring[1:] + ring[:1], strict=True)
                    )
            if "semantics" in g:
                values = g["semantics"]["values"]
                values = values[0] if g["type"] == "Solid" else values
                assert len(values) == len(surfaces)
                k = len(g["semantics"]["surfaces"])
                assert all(x is None or 0 <= x < k for x in values)
    assert used == set(range(n)), "unused or missing vertices"


def official_validate(path: Path) -> None:
    """Validate with cjvalpy, or with the official schema if one is provided.

    cjvalpy has no wheel for Linux/CPython 3.11 and no sdist, and no package
    on the registries reachable here ships the 2.0 schema (the SchemaStore
    caches hold v1.1.1); the official
    schema (cityjson/specs, ``schemas/cityjson.min.schema.json`` of v2.0.x)
    may be given by the ``CITYJSON_SCHEMA`` environment variable or put at
    ``shared/data/cityjson/schemas/cityjson.min.schema.json``.
    """
    text = path.read_text(encoding="utf-8")
    try:
        import cjvalpy  # type: ignore[import-not-found]
    except ImportError:
        cjvalpy = None
    if cjvalpy is not None:
        try:
            validator = cjvalpy.CJValidator([text])
        except TypeError:
            validator = cjvalpy.CJValidator(text)
        assert validator.validate(), validator.get_report()
        return
    schema_path = Path(
        os.environ.get("CITYJSON_SCHEMA", DATA / "schemas" / "cityjson.min.schema.json")
    )
    if not schema_path.is_file():
        pytest.skip("official CityJSON 2.0 validator not available (cjvalpy or schema)")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(json.loads(text))


def check_with_cityjson_lib(path: Path) -> None:
    """Parse with cityjson-lib, 3DGI's strict CityJSON 2.0 reader, and compare.

    cityjson-lib (Rust, serde) is independent of our writer: it refuses
    unknown CityObject, geometry and semantic types, a numeric ``lod``,
    out-of-range vertex indices, unresolved parent/child links, malformed
    boundary depths and any version but 2.0. Its counts must equal the
    document's own.
    """
    cityjson_lib = pytest.importorskip("cityjson_lib")
    payload = path.read_bytes()
    model = cityjson_lib.CityModel.parse_document_bytes(payload)
    summary = model.summary()
    doc = json.loads(payload)
    objects = doc["CityObjects"].values()
    assert summary.version == cityjson_lib.Version.V2_0
    assert summary.has_transform
    assert summary.cityobject_count == len(doc["CityObjects"])
    assert summary.vertex_count == len(doc["vertices"])
    assert summary.geometry_count == sum(len(o.get("geometry", [])) for o in objects)


def test_the_independent_reader_refuses_broken_output(
    measured_buildings: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    # The check above can fail: corrupt a written file three ways.
    cityjson_lib = pytest.importorskip("cityjson_lib")
    b = measured_buildings
    path = write_cityjson(b, None, tmp_path / "ok.city.json", crs=b.crs)
    check_with_cityjson_lib(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    for what in ("index", "semantic", "version"):
        bad = json.loads(json.dumps(doc))
        obj = next(o for o in bad["CityObjects"].values() if o.get("geometry"))
        geom = obj["geometry"][0]
        if what == "index":
            geom["boundaries"][0][0][0][0] = 10**6
        elif what == "semantic":
            geom["semantics"]["surfaces"][0]["type"] = "RoofSurfac"
        else:
            bad["version"] = "1.1"
        p = dump(tmp_path, bad, f"{what}.city.json")
        with pytest.raises(RuntimeError, match=r"out of range|Semantic type|version"):
            cityjson_lib.CityModel.parse_document_bytes(p.read_bytes())


def test_subset_schema_rejects_what_the_official_one_rejects() -> None:
    doc = minimal("https://www.opengis.net/def/crs/EPSG/0/28992")
    check_structure(doc)
    bad = json.loads(json.dumps(doc))
    bad["CityObjects"]["c"]["geometry"][0]["lod"] = 2  # a number, as in 1.0
    with pytest.raises(jsonschema.ValidationError):
        check_structure(bad)
    bad = json.loads(json.dumps(doc))
    bad["CityObjects"]["c"]["geometry"][0]["type"] = "MultiSolid"
    with pytest.raises(jsonschema.ValidationError):
        check_structure(bad)
    bad = json.loads(json.dumps(doc))
    bad["CityObjects"]["p"] = {"type": "BuildingPart", "geometry": []}
    with pytest.raises(jsonschema.ValidationError):
        check_structure(bad)


@needs_data
def test_write_several_lods_and_select_one(tmp_path: Path) -> None:
    path = DATA / "3dbag_multi_lod.city.json"
    low = read_cityjson(path, crs=28992, lod="1.2")
    high = read_cityjson(path, crs=28992)
    surfaces = pd.concat([low.surfaces, high.surfaces], ignore_index=True)
    both = write_cityjson(
        high.buildings, surfaces, tmp_path / "both.city.json", crs=28992
    )
    doc = json.loads(both.read_text(encoding="utf-8"))
    check_structure(doc)
    assert [g["lod"] for g in doc["CityObjects"]["6751773"]["geometry"]] == [
        "1.2",
        "2.2",
    ]
    for lod, ref in ((None, high), ("1.2", low), ("2.2", high)):
        again = read_cityjson(both, lod=lod)
        assert_allclose(
            again.buildings["volume_m3"],
            ref.buildings["volume_m3"],
            rtol=V_RTOL_ROUND_TRIP,
        )
    only = write_cityjson(
        high.buildings, surfaces, tmp_path / "low.city.json", crs=28992, lod=1.2
    )
    assert set(read_cityjson(only).surfaces["lod"]) == {"1.2"}


# -- storeys from roofs ---------------------------------------------------------------
#
# Synthetic LoD2 buildings whose storeys and attic bands are worked out by hand.
# The gable house: 10 m along the ridge, 8 m across, eaves at 6 m, ridge at
# 9 m, so the roof rises 0.75 m per metre from each eave. With 3 m storeys it
# has round(6 / 3) = 2 storeys and an attic floored at the eave, whose clear
# height reaches 1.20 m 1.6 m in from each eave and 2.10 m 2.8 m in:
#   attic plan             10 x 8             = 80 m2
#   clear >= 1.20 m        10 x (8 - 2 x 1.6) = 48 m2
#   clear >= 2.10 m        10 x (8 - 2 x 2.8) = 24 m2
# and GB/T 50353-2013 counts 2 x 80 + 24 + (48 - 24) / 2 = 196 m2, where
# ridge / 3 m would have made it 3 x 80 = 240 m2.

ORIGIN = (85000.0, 447000.0)  # RD New, near Delft
GABLE_M2 = {"attic_area_m2": 80.0, "attic_area_clear120_m2": 48.0}
GABLE_M2["attic_area_clear210_m2"] = 24.0
A_TOL_M2 = 1e-6


def solid(
    vertices: list[tuple[float, float, float]], faces: list[tuple[list[int], str]]
) -> tuple[list[tuple[float, float, float]], dict[str, Any]]:
    """A Solid of outward faces (ring, semantic type), vertices local to it."""
    types = sorted({t for _, t in faces})
    geom = {
        "type": "Solid",
        "lod": "2.2",
        "boundaries": [[[ring] for ring, _ in faces]],
        "semantics": {
            "surfaces": [{"type": t} for t in types],
            "values": [[types.index(t) for _, t in faces]],
        },
    }
    return vertices, geom


def box(
    x0: float, y0: float, lx: float, wy: float, h: float
) -> tuple[list[tuple[float, float, float]], dict[str, Any]]:
    """A flat-roofed block."""
    v = [
        (x0 + dx, y0 + dy, z)
        for z in (0.0, h)
        for dx, dy in ((0, 0), (lx, 0), (lx, wy), (0, wy))
    ]
    g, w, r = "GroundSurface", "WallSurface", "RoofSurface"
    faces = [([0, 3, 2, 1], g), ([0, 1, 5, 4], w), ([1, 2, 6, 5], w)]
    faces += [([2, 3, 7, 6], w), ([3, 0, 4, 7], w), ([4, 5, 6, 7], r)]
    return solid(v, faces)


def gable(
    eave: float = 6.0, ridge: float = 9.0, overhang: float = 0.0
) -> tuple[list[tuple[float, float, float]], dict[str, Any]]:
    """The 10 x 8 m gable house, ridge along x; eaves ``overhang`` m out."""
    lx, wy = 10.0, 8.0
    slope = (ridge - eave) / (wy / 2)
    top = eave - overhang * slope  # wall top: the soffit under an overhang
    g, w, r = "GroundSurface", "WallSurface", "RoofSurface"
    v = [(0.0, 0.0, 0.0), (lx, 0.0, 0.0), (lx, wy, 0.0), (0.0, wy, 0.0)]
    v += [(0.0, 0.0, top), (lx, 0.0, top), (lx, wy, top), (0.0, wy, top)]
    faces = [([0, 3, 2, 1], g), ([0, 1, 5, 4], w), ([2, 3, 7, 6], w)]
    if overhang == 0:
        v += [(0.0, wy / 2, ridge), (lx, wy / 2, ridge)]
        faces += [([3, 0, 4, 8, 7], w), ([1, 2, 6, 9, 5], w)]
        faces += [([4, 5, 9, 8], r), ([6, 7, 8, 9], r)]
        return solid(v, faces)
    o = overhang
    v += [(0.0, -o, top), (lx, -o, top), (lx, wy + o, top), (0.0, wy + o, top)]
    v += [(0.0, wy / 2, ridge), (lx, wy / 2, ridge)]
    soffit = "OuterCeilingSurface"
    faces += [([4, 5, 9, 8], soffit), ([6, 7, 11, 10], soffit)]
    faces += [([3, 0, 4, 8, 12, 11, 7], w), ([1, 2, 6, 10, 13, 9, 5], w)]
    faces += [([8, 9, 13, 12], r), ([10, 11, 12, 13], r)]
    return solid(v, faces)


def hip(
    side: float = 10.0, eave: float = 3.0, apex: float = 9.0
) -> tuple[list[tuple[float, float, float]], dict[str, Any]]:
    """A square house under a pyramid roof."""
    v, _ = box(0.0, 0.0, side, side, eave)
    v = [*v, (side / 2, side / 2, apex)]
    g, w, r = "GroundSurface", "WallSurface", "RoofSurface"
    faces = [([0, 3, 2, 1], g), ([0, 1, 5, 4], w), ([1, 2, 6, 5], w)]
    faces += [([2, 3, 7, 6], w), ([3, 0, 4, 7], w)]
    faces += [([4, 5, 8], r), ([5, 6, 8], r), ([6, 7, 8], r), ([7, 4, 8], r)]
    return solid(v, faces)


def city(
    tmp_path: Path,
    buildings: dict[str, list[tuple[list[tuple[float, float, float]], dict]]],
    attributes: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A CityJSON 2.0 file in RD New; several solids make BuildingParts."""
    vertices: list[list[int]] = []
    objects: dict[str, Any] = {}

    def place(part: tuple[list[tuple[float, float, float]], dict]) -> dict:
        verts, geom = part
        base = len(vertices)
        vertices.extend([round(c * 1000) for c in p] for p in verts)
        geom = json.loads(json.dumps(geom))
        for shell in geom["boundaries"]:
            for face in shell:
                face[0] = [base + i for i in face[0]]
        return geom

    for bid, parts in buildings.items():
        obj: dict[str, Any] = {"type": "Building"}
        if attributes and bid in attributes:
            obj["attributes"] = attributes[bid]
        if len(parts) == 1:
            obj["geometry"] = [place(parts[0])]
        else:
            obj["geometry"] = []
            obj["children"] = [f"{bid}-{k}" for k in range(len(parts))]
            for k, part in enumerate(parts):
                objects[f"{bid}-{k}"] = {
                    "type": "BuildingPart",
                    "parents": [bid],
                    "geometry": [place(part)],
                }
        objects[bid] = obj
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [0.001] * 3, "translate": [*ORIGIN, 0.0]},
        "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/28992"},
        "CityObjects": objects,
        "vertices": vertices,
    }
    return dump(tmp_path, doc, "roofs.city.json")


def test_gable_house_has_two_storeys_and_an_attic_by_clear_height(
    tmp_path: Path,
) -> None:
    path = city(tmp_path, {"house": [gable()], "block": [box(30.0, 0.0, 20, 12, 18)]})
    data, caught = read_recording(path)
    assert caught == []  # closed, outward shells: nothing to repair
    b = data.buildings.set_index("building_id")
    assert_allclose(b.loc["house", "height_m"], 9.0, atol=H_TOL)  # still the ridge
    assert b["floors"].tolist() == [2, 6]
    assert b["floors_source"].tolist() == ["height", "height"]
    assert_allclose(b["storey_height_m"], [3.0, 3.0], atol=H_TOL)
    for col, m2 in GABLE_M2.items():
        assert_allclose(b.loc["house", col], m2, atol=A_TOL_M2)
        assert b.loc["block", col] == 0.0  # flat: no attic

    with pytest.warns(RepairWarning, match="estimated 2 storey counts from height"):
        twin = twin_from_cityjson(path)
    result = twin_takeoff(twin)
    bd = result.breakdown.set_index("element_id")
    house = bd[bd["building_id"] == "house"]
    assert list(house.index) == [
        "house/1F",
        "house/2F",
        "house/3F#0",
        "house/3F#1",
        "house/3F#2",
    ]
    assert_allclose(house["area_m2"], [80, 80, 32, 24, 24], atol=A_TOL_M2)
    assert list(house["gfa_rule_id"].iloc[2:]) == [
        "gbt50353-3.0.3-excluded",
        "gbt50353-3.0.3-half",
        "gbt50353-3.0.3-full",
    ]
    gfa = result.by_building["gross_floor_area_m2"]
    assert_allclose(gfa["house"], 2 * 80 + 24 / 2 + 24, atol=A_TOL_M2)
    assert_allclose(gfa["block"], 6 * 20 * 12, atol=A_TOL_M2)


def test_roof_overhangs_are_cut_at_the_walls(tmp_path: Path) -> None:
    # Eaves 0.8 m beyond the walls reach 0.6 m lower: the eave over the
    # footprint, and so the attic, stay those of the house without them.
    path = city(tmp_path, {"house": [gable(overhang=0.8)]})
    data, caught = read_recording(path)
    assert caught == []
    b = data.buildings.iloc[0]
    assert_allclose(data.buildings.geometry.area, 80.0, atol=A_TOL_M2)
    assert b["floors"] == 2
    for col, m2 in GABLE_M2.items():
        assert_allclose(b[col], m2, atol=A_TOL_M2)


def test_pyramid_roof_attic_has_two_levels(tmp_path: Path) -> None:
    # 10 x 10 m, eaves at 3 m, apex at 9 m: 1 storey, attic floored at 3 m.
    # Over a pyramid the plan above height t shrinks as the square of
    # (apex - t) / (apex - eave), so with the floor at 3 m:
    #   clear >= 1.20 m: 100 (4.8 / 6)^2 = 64, >= 2.10 m: 100 (3.9 / 6)^2 = 42.25;
    # one can stand in a second level floored at 3 + 3 = 6 m:
    #   plan 100 (3 / 6)^2 = 25, >= 1.20 m: 100 (1.8 / 6)^2 = 9,
    #   >= 2.10 m: 100 (0.9 / 6)^2 = 2.25 (>= 1 % of the roof's plan);
    # and not in a third, at 9 m.
    # With the apex at 8.2 m the second level has 2.10 m over only
    # 100 (0.1 / 5.2)^2 = 0.04 m2 (< 0.5 m2), so it is no level; the first
    # has 100 (4 / 5.2)^2 m2 from 1.20 m and 100 (3.1 / 5.2)^2 m2 from 2.10 m.
    low = ([(x + 30.0, y, z) for x, y, z in hip(apex=8.2)[0]], hip(apex=8.2)[1])
    path = city(tmp_path, {"house": [hip()], "low": [low]})
    data, caught = read_recording(path)
    assert caught == []
    b = data.buildings.set_index("building_id")
    assert b["floors"].tolist() == [1, 1]
    assert_allclose(b["attic_area_m2"], [100 + 25, 100], atol=A_TOL_M2)
    assert_allclose(
        b["attic_area_clear120_m2"], [64 + 9, 100 * (4 / 5.2) ** 2], atol=A_TOL_M2
    )
    assert_allclose(
        b["attic_area_clear210_m2"],
        [42.25 + 2.25, 100 * (3.1 / 5.2) ** 2],
        atol=A_TOL_M2,
    )


def test_low_pitched_roof_void_is_no_attic(tmp_path: Path) -> None:
    # Ridge 2 m above the eaves: nowhere 2.10 m of clear height.
    path = city(tmp_path, {"house": [gable(eave=6.0, ridge=8.0)]})
    b = read_recording(path)[0].buildings.iloc[0]
    assert b["floors"] == 2
    assert b["attic_area_m2"] == 0.0


def test_one_storey_annex_does_not_lower_the_eave(tmp_path: Path) -> None:
    # The gable house with a 10 x 4 m flat-roofed annex of 3 m on its north
    # side, as two BuildingParts. A rule taking the building's lowest roof
    # edge (3 m) would give 1 storey and an attic floored at 3 m. The annex
    # stands over 1 storey, the house over 2: the plan-weighted mean is
    # (80 x 2 + 40 x 1) / 120 = 1.67, so 2; the attic is the house's alone.
    annex = box(0.0, 8.0, 10, 4, 3)
    path = city(tmp_path, {"house": [gable(), annex]})
    b = read_recording(path)[0].buildings.iloc[0]
    assert b["parts"] == 2
    assert b["floors"] == 2
    assert_allclose(b["storey_height_m"], 3.0, atol=H_TOL)
    for col, m2 in GABLE_M2.items():
        assert_allclose(b[col], m2, atol=A_TOL_M2)


def house_with_annex() -> tuple[list[tuple[float, float, float]], dict[str, Any]]:
    """The gable house and a 4 x 5 m flat annex of 3 m on its east side, one Solid.

    Each wall plane is one face holding every corner on its edges, so that
    the shell closes without T-junctions.
    """
    v = [
        (0.0, 0.0, 0.0),  # 0-6: ground, g0 ... g6
        (10.0, 0.0, 0.0),
        (14.0, 0.0, 0.0),
        (14.0, 5.0, 0.0),
        (10.0, 5.0, 0.0),
        (10.0, 8.0, 0.0),
        (0.0, 8.0, 0.0),
        (10.0, 0.0, 3.0),  # 7-10: annex roof
        (14.0, 0.0, 3.0),
        (14.0, 5.0, 3.0),
        (10.0, 5.0, 3.0),
        (0.0, 0.0, 6.0),  # 11-14: the house's eaves
        (10.0, 0.0, 6.0),
        (10.0, 8.0, 6.0),
        (0.0, 8.0, 6.0),
        (0.0, 4.0, 9.0),  # 15-16: ridge
        (10.0, 4.0, 9.0),
    ]
    g, w, r = "GroundSurface", "WallSurface", "RoofSurface"
    faces = [
        ([0, 6, 5, 4, 3, 2, 1], g),
        ([0, 1, 2, 8, 7, 12, 11], w),  # south, y = 0
        ([2, 3, 9, 8], w),  # annex east, x = 14
        ([3, 4, 10, 9], w),  # annex north, y = 5
        ([4, 5, 13, 16, 12, 7, 10], w),  # house east above the annex, x = 10
        ([5, 6, 14, 13], w),  # house north, y = 8
        ([6, 0, 11, 15, 14], w),  # west gable, x = 0
        ([7, 8, 9, 10], r),
        ([11, 12, 16, 15], r),
        ([13, 14, 15, 16], r),
    ]
    return solid(v, faces)


#: The gable house (10 x 8 m, eaves 6 m, ridge 9 m) with its 4 x 5 m annex:
#: 1F over both (80 + 20 m2), 2F over the house (80 m2), storeys 3 m high
#: (6 m / 2 under the eave, 3 m / 1 under the annex); the attic floored at
#: the eave, at 6 m, in bands of GABLE_M2: 80 - 48 = 32 m2 below 1.20 m,
#: 48 - 24 = 24 m2 from 1.20 to 2.10 m, 24 m2 from 2.10 m.
ANNEX_ELEMENTS = pd.DataFrame(
    {
        "element_id": ["1F", "2F", "3F#0", "3F#1", "3F#2"],
        "kind": ["floor", "floor", "attic", "attic", "attic"],
        "level": [1, 2, 3, 3, 3],
        "area_m2": [100.0, 80.0, 32.0, 24.0, 24.0],
        "elevation_m": [0.0, 3.0, 6.0, 6.0, 6.0],
        "structural_height_m": [3.0, 3.0, np.nan, np.nan, np.nan],
        "clear_height_m": [np.nan, np.nan, 0.0, 1.2, 2.1],
    }
)


@pytest.mark.parametrize("model", ["building_parts", "one_solid"])
def test_annex_counts_for_its_own_storey(tmp_path: Path, model: str) -> None:
    # GFA (GB/T 50353-2013): 1F 100 + 2F 80 + attic 24 / 2 (1.20 to 2.10 m,
    # §3.0.3 half) + 24 (from 2.10 m, full) = 216 m2; the 32 m2 below 1.20 m
    # are excluded. Footprint x floors counted the annex twice: the mean
    # storey count (80 x 2 + 20 x 1) / 100 = 1.8 rounds to 2, 2 x 100 + 36
    # = 236 m2. The plain house beside it has one storey count and keeps
    # footprint x floors: 2 x 80 + 36 = 196 m2, with no elements.
    parts = (
        [gable(), box(10.0, 0.0, 4, 5, 3)]
        if model == "building_parts"
        else [house_with_annex()]
    )
    plain = ([(x + 30.0, y, z) for x, y, z in gable()[0]], gable()[1])
    path = city(tmp_path, {"house": parts, "plain": [plain]})
    data, caught = read_recording(path)
    assert caught == []  # closed, outward shells: nothing to repair
    b = data.buildings.set_index("building_id")
    assert b.loc["house", "parts"] == (2 if model == "building_parts" else 0)
    assert_allclose(b.loc["house"].geometry.area, 100.0, atol=A_TOL_M2)
    assert b["floors"].tolist() == [2, 2]
    for col, m2 in GABLE_M2.items():  # the house's attic; the annex has none
        assert_allclose(b[col], [m2, m2], atol=A_TOL_M2)

    el = data.elements
    assert set(el["building_id"]) == {"house"}
    assert el["element_id"].tolist() == [
        f"house/{e}" for e in ANNEX_ELEMENTS["element_id"]
    ]
    assert el["storey"].tolist() == ["1F", "2F", "3F", "3F", "3F"]
    assert el["kind"].tolist() == ANNEX_ELEMENTS["kind"].tolist()
    assert el["level"].tolist() == ANNEX_ELEMENTS["level"].tolist()
    for col in ("area_m2", "elevation_m", "structural_height_m", "clear_height_m"):
        assert_allclose(el[col], ANNEX_ELEMENTS[col], atol=A_TOL_M2, err_msg=col)
    assert (el["floors_source"] == "height").all()
    assert (el["storey_height_source"] == "estimated").all()

    with pytest.warns(RepairWarning, match="1 buildings have parts of different"):
        twin = twin_from_cityjson(path)
    pd.testing.assert_frame_equal(twin.elements, el)
    result = twin_takeoff(twin)
    gfa = result.by_building["gross_floor_area_m2"]
    assert_allclose(gfa["house"], 2 * 80 + 20 + 24 / 2 + 24, atol=A_TOL_M2)
    assert_allclose(gfa["plain"], 2 * 80 + 24 / 2 + 24, atol=A_TOL_M2)
    bd = result.breakdown
    house = bd[bd["building_id"] == "house"]
    assert (house["floors_source"] == "height").all()
    assert (house["storey_height_source"] == "estimated").all()
    assert house["gfa_rule_id"].tolist()[2:] == [
        "gbt50353-3.0.3-excluded",
        "gbt50353-3.0.3-half",
        "gbt50353-3.0.3-full",
    ]
    # The simple model on the same buildings: the annex on both storeys.
    simple = twin_takeoff(twin.with_layer("elements", twin.elements.iloc[:0]))
    assert_allclose(
        simple.by_building.loc["house", "gross_floor_area_m2"],
        2 * 100 + 24 / 2 + 24,
        atol=A_TOL_M2,
    )

    # The GeoPackage keeps the elements, and so the take-off.
    again = cim.read(twin.save(tmp_path / "twin.gpkg"))
    pd.testing.assert_frame_equal(again.elements, twin.elements)
    assert_allclose(
        twin_takeoff(again).by_building["gross_floor_area_m2"], gfa, atol=A_TOL_M2
    )


def lean_to(
    x0: float, y0: float, lx: float, wy: float, high: float, low: float
) -> tuple[list[tuple[float, float, float]], dict[str, Any]]:
    """A block under a roof sloping along x from ``high`` at x0 to ``low``."""
    v, geom = box(x0, y0, lx, wy, high)
    v = [(x, y, low if z > 0 and x > x0 else z) for x, y, z in v]
    return v, geom


def test_pitched_annex_part_has_its_own_eave_and_attic(tmp_path: Path) -> None:
    # A 4 x 8 m lean-to on the gable house's east end, a BuildingPart, its
    # roof from the house's eave corners (x = 10 m, 6 m) down to 3 m at
    # x = 14 m. Its roof shares those corners with the house's: taken as one
    # pitched roof, the eave would be 3 m, 1 storey for the whole building
    # and an attic floored at 3 m. Each part has its own: the lean-to 1
    # storey (3 m) and an attic floored at 3 m whose clear height falls from
    # 3 m at x = 10 m to 0 at x = 14 m, the plan with at least t of it
    # 8 x 4 (1 - t / 3): 32, from 1.20 m 19.2, from 2.10 m 9.6 m2; the house
    # 2 storeys and its attic at 6 m (GABLE_M2).
    # GFA: 1F 80 + 32, 2F 80 and the lean-to's attic 9.6 / 2 + 9.6, 3F the
    # house's attic 24 / 2 + 24: 112 + 80 + 14.4 + 36 = 242.4 m2.
    path = city(tmp_path, {"house": [gable(), lean_to(10.0, 0.0, 4, 8, 6, 3)]})
    data, caught = read_recording(path)
    assert caught == []
    b = data.buildings.iloc[0]
    assert b["floors"] == 2  # (80 x 2 + 32 x 1) / 112 = 1.71
    assert_allclose(b["attic_area_m2"], 80 + 32, atol=A_TOL_M2)
    assert_allclose(b["attic_area_clear120_m2"], 48 + 19.2, atol=A_TOL_M2)
    assert_allclose(b["attic_area_clear210_m2"], 24 + 9.6, atol=A_TOL_M2)
    el = data.elements.set_index("element_id")
    assert list(el.index) == [
        "house/1F",
        "house/2F",
        "house/2F#0",
        "house/2F#1",
        "house/2F#2",
        "house/3F#0",
        "house/3F#1",
        "house/3F#2",
    ]
    assert_allclose(el["area_m2"], [112, 80, 12.8, 9.6, 9.6, 32, 24, 24], atol=A_TOL_M2)
    assert_allclose(el["elevation_m"], [0, 3, 3, 3, 3, 6, 6, 6], atol=A_TOL_M2)
    with pytest.warns(RepairWarning, match="1 buildings have parts of different"):
        twin = twin_from_cityjson(path)
    gfa = twin_takeoff(twin).gross_floor_area_m2
    assert_allclose(gfa, 112 + 80 + 9.6 / 2 + 9.6 + 24 / 2 + 24, atol=A_TOL_M2)


@pytest.mark.parametrize(("lx", "wy", "stepped"), [(0.8, 0.5, False), (1.2, 1.0, True)])
def test_small_tops_make_no_part(
    tmp_path: Path, lx: float, wy: float, stepped: bool
) -> None:
    # A 10 x 8 m block, flat roof at 6 m (2 storeys), with a flat-topped part
    # of 9 m (3 storeys) standing on its roof. At 0.8 x 0.5 = 0.4 m2 (a
    # chimney, under 1 m2) it makes no part: the block keeps footprint x
    # floors, no elements. At 1.2 x 1.0 = 1.2 m2 (a stair head) it makes
    # one: 1F and 2F of 80 m2, 3F of 1.2 m2. The block's roof runs on under
    # the stair head; their plans are not added (81.2 m2 of roof would give
    # 80 x 1.2 / 81.2 m2 on 3F).
    top = box(2.0, 2.0, lx, wy, 9.0)
    path = city(tmp_path, {"block": [box(0.0, 0.0, 10, 8, 6), top]})
    data, _ = read_recording(path)
    assert data.buildings["floors"].tolist() == [2]
    el = data.elements
    if not stepped:
        assert len(el) == 0
        return
    assert el["element_id"].tolist() == ["block/1F", "block/2F", "block/3F"]
    assert_allclose(el["area_m2"], [80, 80, lx * wy], atol=A_TOL_M2)
    assert_allclose(el["structural_height_m"], 3.0, atol=A_TOL_M2)
    assert_allclose(el["elevation_m"], [0, 3, 6], atol=A_TOL_M2)


def test_storey_height_for_the_estimate(tmp_path: Path) -> None:
    path = city(tmp_path, {"block": [box(0.0, 0.0, 20, 12, 18)]})
    assert read_cityjson(path, storey_height_m=3.6).buildings["floors"][0] == 5
    with pytest.warns(RepairWarning, match=r"/ 3\.6 m"):
        twin = twin_from_cityjson(path, storey_height_m=3.6)
    assert twin.buildings["floors"].tolist() == [5]
    assert_allclose(twin.buildings["storey_height_m"], 3.6, atol=H_TOL)
    with pytest.raises(ValueError, match="invalid storey_height_m"):
        read_cityjson(path, storey_height_m=0)


def test_given_storeys_are_kept_and_estimates_not_written_as_data(
    tmp_path: Path,
) -> None:
    attrs = {"given": {"storeysAboveGround": 3, "b3_h_maaiveld": -0.25}}
    moved = gable()[0], gable()[1]
    moved = ([(x + 30.0, y, z) for x, y, z in moved[0]], moved[1])
    path = city(tmp_path, {"house": [gable()], "given": [moved]}, attrs)
    data, _ = read_recording(path)
    b = data.buildings.set_index("building_id")
    assert b["floors"].tolist() == [2, 3]
    assert b["floors_source"].tolist() == ["height", "measured"]
    # Measured storeys are the file's: no attic is added on top of them.
    assert np.isnan(b.loc["given", "attic_area_m2"])
    assert np.isnan(b.loc["given", "storey_height_m"])
    # The 3DBAG ground attribute is used (within 1 m of the ground surface).
    assert_allclose(b.loc["given", "ground_z_m"], -0.25, atol=H_TOL)
    assert_allclose(b.loc["given", "height_m"], 9.25, atol=H_TOL)

    out = write_cityjson(
        data.buildings, data.surfaces, tmp_path / "w.city.json", crs=28992
    )
    objects = json.loads(out.read_text(encoding="utf-8"))["CityObjects"]
    assert "storeysAboveGround" not in objects["house"].get("attributes", {})
    assert objects["given"]["attributes"]["storeysAboveGround"] == 3
    again = read_recording(out)[0].buildings.set_index("building_id")
    assert again["floors_source"].tolist() == ["height", "measured"]
    for col in GABLE_M2:
        assert_allclose(again.loc["house", col], b.loc["house", col], atol=1e-3)


@needs_data
def test_3dbag_storeys_at_lod2_agree_with_lod1() -> None:
    # LoD1.2 blocks (3DBAG: one height per building, no roof semantics) are
    # an independent reference: the twin counts their storeys as
    # round(height / 3 m). From the LoD2.2 roofs, ordinary houses (2 storeys
    # under a pitched roof, some with a 1-storey annex) must get the same
    # count. Where they differ, LoD1.2 counted the attic as a storey: it
    # is then one more than the LoD2.2 count, and that building has an attic
    # one can stand in. Storeys as ridge / 3 m differed for 5 of the 10.
    path = DATA / "3dbag_multi_lod.city.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        low = twin_from_cityjson(path, crs=28992, lod="1.2").buildings
        high = twin_from_cityjson(path, crs=28992, lod="2.2").buildings
    low, high = low.set_index("building_id"), high.set_index("building_id")
    assert (low["floors_source"] == "height").all()
    assert (high["floors_source"] == "height").all()
    f1, f2 = low["floors"], high["floors"].reindex(low.index)
    attic = high["attic_area_clear210_m2"].reindex(low.index) > 0
    assert ((f1 == f2) | ((f1 == f2 + 1) & attic)).all()
    # 1 storey + steep roof (eaves at 2.7-2.9 m, ridge 6.0-6.7 m), and a
    # 2-storey house under a 4.7 m high roof.
    assert sorted(f1.index[f1 != f2]) == ["596872", "7115146", "8049533"]
    ridge = np.maximum(1, np.round(high["height_m"] / 3)).reindex(low.index)
    assert int((ridge != f1).sum()) == 5


@needs_data
def test_3dbag_floor_area_counts_each_annex_once() -> None:
    # Total gross floor area (GB/T 50353) from LoD2.2 roofs, attics counted
    # by clear height (it was 1,354.9 m2 with storeys from the ridge). As
    # footprint x floors it was 1,060.7 m2, 1.7 % above the LoD1.2 blocks'
    # 1,043.4 m2; but both counted every one-storey annex of a two-storey
    # house on both storeys. Now each part's plan counts for its own storeys.
    # From the raw file, per building with the ground at h_maaiveld: a roof
    # face whose corners all lie below 4.5 m stands over 1 storey
    # (round(z / 3 m) = 1), a flat one (corners within 0.1 m) above 7.5 m
    # over 3. Against footprint x floors, a 2-storey building then loses the
    # plan of its 1-storey faces once and gains that of its 3-storey faces
    # once: 6751773 -31.394 (its annex), 3374155 -18.256 + 6.262 (a flat top
    # at the ridge), 2921895 -29.696, 8049533 -2.040 m2; 1 storey buildings
    # and those under one roof height are unchanged.
    path = DATA / "3dbag_multi_lod.city.json"
    gfa = {}
    for lod in ("1.2", "2.2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RepairWarning)
            twin = twin_from_cityjson(path, crs=28992, lod=lod)
        gfa[lod] = twin_takeoff(twin).by_building["gross_floor_area_m2"]
    simple = twin.with_layer("elements", twin.elements.iloc[:0])
    before = twin_takeoff(simple).by_building["gross_floor_area_m2"]
    assert_allclose(gfa["1.2"].sum(), 1043.4, atol=0.05)
    assert_allclose(before.sum(), 1060.7, atol=0.05)

    doc, v = raw(path)
    floors = twin.buildings.set_index("building_id")["floors"]
    change = {}
    for bid, f in floors.items():
        ground = doc["CityObjects"][bid]["attributes"]["h_maaiveld"]
        one = three = 0.0
        for rings, sem in building_surfaces(doc, bid, lod="2.2"):
            if sem != "RoofSurface":
                continue
            z = v[rings[0], 2] - ground
            plan = shapely.Polygon(v[rings[0], :2]).area
            one += plan if z.max() < 4.5 else 0.0
            three += plan if z.min() > 7.5 and np.ptp(z) < 0.1 else 0.0
        change[bid] = -one * (f - 1) + (three if f == 2 else 0.0)
    expected = before + pd.Series(change)
    assert_allclose(gfa["2.2"], expected.reindex(gfa["2.2"].index), atol=A_TOL_M2)
    assert sorted(twin.elements["building_id"].unique()) == sorted(
        b for b, c in change.items() if c != 0
    )
    assert_allclose(gfa["2.2"].sum(), 1060.7 - 75.1, atol=0.05)

    # 6751773: its annex's ground triangles lie under its two flat roof
    # triangles at about 3 m; 2F is the footprint without them.
    surfaces = building_surfaces(doc, "6751773", lod="2.2")
    ground_z = doc["CityObjects"]["6751773"]["attributes"]["h_maaiveld"]
    grounds = [
        shapely.Polygon(v[r[0], :2]) for r, t in surfaces if t == "GroundSurface"
    ]
    low = [
        shapely.Polygon(v[r[0], :2])
        for r, t in surfaces
        if t == "RoofSurface" and (v[r[0], 2] - ground_z).max() < 4.5
    ]
    annex = shapely.union_all(low)
    footprint = shapely.union_all(grounds)
    under = [g for g in grounds if g.intersection(annex).area > 1e-6]
    assert_allclose(annex.area, 31.394, atol=1e-3)
    assert_allclose(shapely.union_all(under).area, annex.area, atol=A_TOL_M2)
    el = twin.elements.set_index("element_id")
    floor = el.loc[["6751773/1F", "6751773/2F"], "area_m2"]
    assert_allclose(floor, [footprint.area, footprint.area - annex.area], atol=1e-6)
    assert_allclose(
        before["6751773"] - gfa["2.2"]["6751773"], annex.area, atol=A_TOL_M2
    )


@needs_data
def test_den_haag_storeys_and_attics_match_its_eave_and_ridge_attributes(
    loaded: dict,
) -> None:
    # The Den Haag parts carry RelativeEavesHeight and RelativeRidgeHeight,
    # an independent record of each roof. Storeys: round(eave / 3 m) per
    # part, weighted by the part's ground area. Attics of the gable parts
    # (roofType 1030): the plan with a clear height of at least t above the
    # eave is area x (1 - t / (ridge - eave)).
    doc, v = raw(DATA / "denhaag_DH_01_subs.city.json")
    data, _ = loaded["denhaag_DH_01_subs.city.json"]
    objs = doc["CityObjects"]
    checked = 0
    for row in data.buildings.itertuples():
        members = objs[row.building_id].get("children") or [row.building_id]
        area, storeys, gables = 0.0, 0.0, []
        for m in members:
            a = objs[m]["attributes"]
            ground = [
                shapely.Polygon(v[rings[0]][:, :2])
                for rings, sem in building_surfaces(doc, m)
                if sem == "GroundSurface"
            ]
            part_area = shapely.union_all(ground).area
            area += part_area
            storeys += part_area * max(1, np.floor(a["RelativeEavesHeight"] / 3 + 0.5))
            rise = a["RelativeRidgeHeight"] - a["RelativeEavesHeight"]
            if a["roofType"] == "1030":
                gables.append((part_area, rise))
        assert row.floors == max(1, np.floor(storeys / area + 0.5)), row.building_id
        assert row.floors_source == "height"
        if gables:
            [(part_area, rise)] = gables
            for col, t in (
                ("attic_area_clear120_m2", 1.2),
                ("attic_area_clear210_m2", 2.1),
            ):
                expected = part_area * (1 - t / rise)
                assert_allclose(getattr(row, col), expected, rtol=2e-3)
            checked += 1
    assert checked == 2
