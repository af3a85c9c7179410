"""Tests for :mod:`cim.meshes` and :mod:`cim.io.mesh` (glTF / OBJ export).

The bundled Haidian sample is exported and read back with trimesh; volumes
are compared with footprint area x height, which an LoD1 prism has exactly.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import trimesh
from numpy.testing import assert_allclose

import cim
import cim.meshes
from cim.io.mesh import MESH_FORMATS, write_mesh
from cim.meshes import (
    NAN_COLOR,
    SEMANTIC_COLORS,
    building_colors,
    local_origin,
    twin_meshes,
    twin_scene,
)
from geometry.mesh import GROUND, ROOF, WALL

#: Tolerances of volumes read back from files [m3]. glTF stores float32: at
#: local coordinates up to about 2.2 km (the sample's extent) a coordinate is
#: off by up to 1.2e-4 m, a relative error of about 1e-5 in the volume of a
#: small building, far less over the whole district. OBJ keeps 8 decimals.
VOLUME_RTOL = {".glb": 1e-4, ".gltf": 1e-4, ".obj": 1e-7}
TOTAL_VOLUME_RTOL = {".glb": 1e-6, ".gltf": 1e-6, ".obj": 1e-9}
#: Tolerance of coordinates read back from glTF (float32) [m].
COORD_ATOL = 1e-3


@pytest.fixture(scope="module")
def sample() -> cim.Twin:
    return cim.datasets.load("beijing_haidian_cau")


def _load(path: Path) -> trimesh.Scene:
    if path.suffix == ".obj":
        scene = trimesh.load(path, split_objects=True, group_material=False)
    else:
        scene = trimesh.load(path)
    assert isinstance(scene, trimesh.Scene)
    return scene


def _glb_json(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    magic, _, _ = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF"
    length, kind = struct.unpack_from("<I4s", data, 12)
    assert kind == b"JSON"
    tree: dict[str, Any] = json.loads(data[20 : 20 + length])
    return tree


# -- twin_meshes ---------------------------------------------------------------


def test_twin_meshes_align_with_buildings(sample):
    meshes = twin_meshes(sample)
    b = sample.buildings
    assert len(meshes) == len(b) == 257
    assert all(m is not None for m in meshes)
    ids = [m.metadata["building_id"] for m in meshes]
    assert ids == b["building_id"].tolist()
    assert {m.metadata["lod"] for m in meshes} == {"1"}
    volumes = np.array([m.volume for m in meshes])
    assert_allclose(volumes, b.geometry.area * b["height_m"], rtol=1e-9)
    m = meshes[0]
    assert m.bounds[0, 2] == 0.0
    assert m.bounds[1, 2] == pytest.approx(b["height_m"].iloc[0])
    assert set(np.unique(m.face_attributes["semantic"])) == {GROUND, WALL, ROOF}


def test_twin_meshes_base_and_missing_height(sample):
    b = sample.buildings.copy()
    b["base_z_m"] = np.nan
    b.loc[0, "base_z_m"] = 50.0
    b.loc[1, "height_m"] = np.nan
    twin = sample.with_layer("buildings", b, estimate=False)
    meshes = twin_meshes(twin, lod="1")
    assert meshes[0].bounds[:, 2] == pytest.approx([50.0, 50.0 + b["height_m"][0]])
    assert meshes[1] is None
    assert meshes[2].bounds[0, 2] == 0.0  # unknown base: on the ground


def test_twin_meshes_invalid_lod(sample):
    with pytest.raises(ValueError, match=r"invalid lod '3'; expected one of"):
        twin_meshes(sample, lod="3")  # type: ignore[arg-type]


def test_twin_meshes_lod2_from_surfaces(twin):
    pytest.importorskip("geometry.polygons3d")
    ids = twin.buildings["building_id"].tolist()
    best = dict(zip(ids, twin_meshes(twin), strict=True))
    assert best["b1"].metadata["lod"] == "2"
    # The surfaces of b1 are a 10 m ground, roof and one wall at 18 m.
    assert best["b1"].bounds[:, 2].tolist() == [0.0, 18.0]
    assert len(best["b1"].faces) == 6
    assert best["b3"].metadata["lod"] == "1"
    lod1 = dict(zip(ids, twin_meshes(twin, lod="1"), strict=True))
    assert lod1["b1"].metadata["lod"] == "1"
    assert len(lod1["b1"].faces) > 6


def test_twin_meshes_fall_back_to_lod1(twin, monkeypatch, caplog):
    monkeypatch.setattr(cim.meshes, "_surface_mesher", lambda: None)
    with caplog.at_level(logging.WARNING, logger="cim.meshes"):
        meshes = twin_meshes(twin, lod="2")
    assert {m.metadata["lod"] for m in meshes} == {"1"}
    assert "LoD1 prisms" in caplog.text

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ValueError("bad surfaces")

    monkeypatch.setattr(cim.meshes, "_surface_mesher", lambda: refuse)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cim.meshes"):
        meshes = twin_meshes(twin)
    assert {m.metadata["lod"] for m in meshes} == {"1"}
    assert "bad surfaces" in caplog.text


# -- twin_scene ----------------------------------------------------------------


def test_twin_scene_nodes_and_metadata(sample):
    scene = twin_scene(sample)
    ids = sample.buildings["building_id"].tolist()
    assert sorted(scene.graph.nodes_geometry) == sorted(ids)
    assert sorted(scene.geometry) == sorted(ids)
    bid = ids[0]
    mesh = scene.geometry[bid]
    assert mesh.metadata["building_id"] == bid
    edge = scene.graph.transforms.edge_data[(scene.graph.base_frame, bid)]
    assert edge["metadata"] == {"building_id": bid, "lod": "1"}
    sem = mesh.face_attributes["semantic"]
    roof = np.asarray(mesh.visual.face_colors)[sem == ROOF]
    assert (roof == SEMANTIC_COLORS[ROOF]).all()
    assert scene.metadata["crs"] == "EPSG:32650"
    assert scene.metadata["semantic_codes"]["roof"] == ROOF


def test_twin_scene_colours(sample):
    by_use = twin_scene(sample, color="use")
    colors = building_colors(sample, "use")
    for i, bid in enumerate(sample.buildings["building_id"][:20]):
        assert (by_use.geometry[bid].visual.face_colors == colors[i]).all()
    # "unknown" use is grey like missing values.
    unknown = (sample.buildings["use"] == "unknown").to_numpy()
    assert (colors[unknown] == NAN_COLOR).all()
    red = twin_scene(sample, color=(1.0, 0.0, 0.0))
    first = next(iter(red.geometry.values()))
    assert (first.visual.face_colors == [255, 0, 0, 255]).all()
    with pytest.raises(ValueError, match="invalid color"):
        twin_scene(sample, color=(1, 2))
    with pytest.raises(KeyError, match=r"numeric columns: .*height_m"):
        twin_scene(sample, color="no_such_column")


def test_building_colors_nan_is_grey(sample):
    b = sample.buildings.copy()
    b["score"] = np.where(np.arange(len(b)) % 2 == 0, np.nan, np.arange(len(b)))
    b["score_int"] = pd.array([pd.NA, *range(1, len(b))], dtype="Int64")
    twin = sample.with_layer("buildings", b, estimate=False)
    colors = building_colors(twin, "score")
    assert (colors[::2] == NAN_COLOR).all()
    assert not (colors[1::2] == NAN_COLOR).all(axis=1).any()
    assert (building_colors(twin, "score_int")[0] == NAN_COLOR).all()


def test_local_origin_is_min_corner(sample):
    x0, y0, z0 = local_origin(sample)
    bounds = np.array([v.total_bounds for v in sample.layers.values() if len(v)])
    assert x0 == bounds[:, 0].min()
    assert y0 == bounds[:, 1].min()
    assert z0 == 0.0


# -- write_mesh ----------------------------------------------------------------


@pytest.mark.parametrize("ext", list(MESH_FORMATS))
def test_write_mesh_round_trip(sample, tmp_path, ext):
    path = write_mesh(sample, tmp_path / f"cau{ext}")
    assert path == tmp_path / f"cau{ext}"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp left
    scene = _load(path)
    b = sample.buildings
    assert len(scene.geometry) == len(b)
    assert sorted(scene.geometry) == sorted(b["building_id"])
    # Per-building volumes of the meshes read back vs footprint x height.
    volumes = np.array([scene.geometry[bid].volume for bid in b["building_id"]])
    expected = (b.geometry.area * b["height_m"]).to_numpy()
    assert_allclose(volumes, expected, rtol=VOLUME_RTOL[ext])
    assert_allclose(volumes.sum(), expected.sum(), rtol=TOTAL_VOLUME_RTOL[ext])
    # y is up: from the ground (0) to the tallest roof; north is -z.
    lo, hi = scene.bounds
    assert lo[1] == pytest.approx(0.0, abs=COORD_ATOL)
    assert hi[1] == pytest.approx(b["height_m"].max(), abs=COORD_ATOL)
    assert hi[2] <= COORD_ATOL and lo[0] >= -COORD_ATOL
    assert hi[0] < 3000 and -lo[2] < 3000  # local, not UTM, coordinates


@pytest.mark.parametrize("ext", [".glb", ".gltf"])
def test_gltf_records_offset_crs_and_attribution(sample, tmp_path, ext):
    path = write_mesh(sample, tmp_path / f"cau{ext}")
    scene = _load(path)
    info = scene.metadata["cim"]
    origin = local_origin(sample)
    assert info["offset_m"] == list(origin)
    assert info["crs"] == "EPSG:32650"
    assert info["up_axis"] == "+Y"
    assert "OpenStreetMap" in info["attribution"]
    # to_crs maps the file's vertices back onto the twin's meshes.
    bid = sample.buildings["building_id"].iloc[0]
    back = trimesh.transformations.transform_points(
        scene.geometry[bid].vertices, np.asarray(info["to_crs"])
    )
    original = twin_meshes(sample)[0]
    assert_allclose(
        np.sort(np.unique(back.round(2), axis=0), axis=0),
        np.sort(np.unique(np.asarray(original.vertices).round(2), axis=0), axis=0),
        atol=0.011,
    )
    assert_allclose(back.min(axis=0), original.bounds[0], atol=COORD_ATOL)
    edge = scene.graph.transforms.edge_data[(scene.graph.base_frame, bid)]
    assert edge["metadata"] == {"building_id": bid, "lod": "1"}  # node extras
    mesh_meta = scene.geometry[bid].metadata
    assert mesh_meta["building_id"] == bid
    runs = mesh_meta["semantic_runs"]
    assert [code for code, _ in runs] == [GROUND, WALL, ROOF]
    assert sum(n for _, n in runs) == len(scene.geometry[bid].faces)
    if ext == ".glb":
        asset = _glb_json(path)["asset"]
    else:
        asset = json.loads(path.read_text(encoding="utf-8"))["asset"]
    assert asset["version"] == "2.0"
    assert "OpenStreetMap" in asset["copyright"]


def test_obj_records_offset_in_comments(sample, tmp_path):
    path = write_mesh(sample, tmp_path / "cau.obj", color="height_m")
    head = path.read_text(encoding="utf-8").splitlines()[:8]
    x0, y0, _ = local_origin(sample)
    assert "# crs: EPSG:32650" in head
    assert f"# offset_m: {x0!r} {y0!r} 0.0" in head
    assert any(line.startswith("# to_crs: [[") for line in head)
    assert any("OpenStreetMap" in line for line in head)


def test_write_mesh_rejects_other_extensions(sample, tmp_path):
    with pytest.raises(ValueError, match=r"'\.stl'.*expected one of .glb, .gltf, .obj"):
        write_mesh(sample, tmp_path / "cau.stl")
    assert not list(tmp_path.iterdir())


def test_write_mesh_is_atomic(sample, tmp_path, monkeypatch):
    target = tmp_path / "cau.glb"
    target.write_bytes(b"previous")

    def fail(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_mesh(sample, target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["cau.glb"]
