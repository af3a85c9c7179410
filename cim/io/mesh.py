"""Writing the twin's buildings as a 3D mesh file: glTF (.glb, .gltf) or OBJ.

The file is written in a local frame, for the sake of viewers and of
precision: glTF stores 32-bit floats, which keep about half a metre at UTM
northings of 4.4e6 m but a fraction of a millimetre within a district. The
frame is

* **offset** to the twin's minimum corner (`cim.meshes.local_origin`), and
* **y up**, as glTF requires (and as most OBJ readers assume): the twin's
  ``(x, y, z)`` (east, north, up) is stored as ``(x - x0, z - z0, -(y -
  y0))``, a rotation by -90° about x, so that north is -z.

Back in the twin's CRS, a stored point ``(X, Y, Z)`` is ``(X + x0, -Z + y0,
Y + z0)``; ``to_crs`` below is that matrix. glTF files keep, in the extras of
their scene (which `trimesh.load` returns as ``scene.metadata``), a ``cim``
dict with ``crs``, ``crs_wkt``, ``offset_m`` (``[x0, y0, z0]``),
``up_axis`` (``"+Y"``), ``to_crs`` (4 x 4, row-major), the twin's ``name``,
``lod``, ``semantic_codes`` and ``attribution``; their ``asset.copyright``
carries the data's attribution. OBJ files state the same in comments at
their top. Each building is one node and mesh (glTF) or object (OBJ) named by
its ``building_id``; glTF meshes keep ``building_id``, ``lod`` and
``semantic_runs`` (``[[code, n_faces], ...]`` in face order) in their extras.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import trimesh

from cim.io.files import atomic_path
from cim.meshes import Lod, local_origin, twin_scene

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = ["MESH_FORMATS", "write_mesh"]

_log = logging.getLogger(__name__)

#: File extensions that `write_mesh` writes, and trimesh's name of the format.
MESH_FORMATS: Final = {".glb": "glb", ".gltf": "gltf", ".obj": "obj"}

#: Rotation from the twin's z-up frame to the file's y-up frame.
_Z_UP_TO_Y_UP: Final = np.array(
    [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, -1.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


#: The glTF material of all meshes: matte, white (so vertex colours show as
#: they are), two-sided.
_MATERIAL: Final = {
    "name": "cim-twin",
    "pbrMetallicRoughness": {
        "baseColorFactor": [1.0, 1.0, 1.0, 1.0],
        "metallicFactor": 0.0,
        "roughnessFactor": 0.9,
    },
    "doubleSided": True,
}


def _attribution(sources: Sequence[dict[str, Any]]) -> str:
    texts = [str(s.get("attribution", "")).strip() for s in sources]
    return "; ".join(dict.fromkeys(t for t in texts if t))


def _to_file_frame(
    origin: tuple[float, float, float],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Matrices from the twin's CRS to the file's frame and back."""
    shift = np.eye(4)
    shift[:3, 3] = -np.asarray(origin)
    forward = _Z_UP_TO_Y_UP @ shift
    return forward, np.asarray(np.linalg.inv(forward), dtype=np.float64)


def _split_by_color(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The mesh with vertex colours, vertices split where face colours differ.

    File formats colour vertices, so a vertex shared by a wall and a roof is
    given once per colour; faces and their order are unchanged.
    """
    faces = np.asarray(mesh.faces, dtype=np.int64)
    visual = mesh.visual
    if isinstance(visual, trimesh.visual.ColorVisuals):
        colors = np.asarray(visual.face_colors, dtype=np.uint8)
    else:  # textured or no visual: trimesh's default grey
        colors = np.full((faces.shape[0], 4), [102, 102, 102, 255], dtype=np.uint8)
    palette, group = np.unique(colors, axis=0, return_inverse=True)
    group = group.reshape(-1)
    key = faces * palette.shape[0] + group[:, None]
    unique_key, inverse = np.unique(key.reshape(-1), return_inverse=True)
    return trimesh.Trimesh(
        vertices=np.asarray(mesh.vertices)[unique_key // palette.shape[0]],
        faces=inverse.reshape(-1, 3),
        vertex_colors=palette[unique_key % palette.shape[0]],
        metadata=dict(mesh.metadata),
        process=False,
        validate=False,
    )


def _semantic_runs(semantic: npt.NDArray[np.int8]) -> list[list[int]]:
    """Run-length code ``[[code, count], ...]`` of face semantics."""
    if semantic.shape[0] == 0:
        return []
    starts = np.flatnonzero(np.r_[True, semantic[1:] != semantic[:-1]])
    counts = np.diff(np.r_[starts, semantic.shape[0]])
    return [[int(semantic[s]), int(c)] for s, c in zip(starts, counts, strict=True)]


def _export_scene(
    scene: trimesh.Scene, forward: npt.NDArray[np.float64]
) -> trimesh.Scene:
    """A copy of the scene in the file's frame, coloured by vertex."""
    out = trimesh.Scene()
    for node in scene.graph.nodes_geometry:
        transform, geom_name = scene.graph[node]
        mesh = scene.geometry[geom_name]
        local = _split_by_color(mesh)
        # Offsetting before export keeps the precision of float64.
        local.apply_transform(forward @ transform)
        local.metadata["semantic_runs"] = _semantic_runs(
            np.asarray(mesh.face_attributes["semantic"], dtype=np.int8)
        )
        local.metadata.pop("units", None)
        parent = scene.graph.transforms.parents[node]
        edge = scene.graph.transforms.edge_data[(parent, node)]
        meta = edge.get("metadata", {})
        out.add_geometry(
            local, node_name=str(node), geom_name=str(geom_name), metadata=meta
        )
    return out


def write_mesh(
    twin: Twin,
    path: str | os.PathLike[str],
    *,
    lod: Lod = "best",
    color: str | Sequence[float] | None = None,
) -> Path:
    """Write the twin's buildings to a glTF or OBJ file, atomically.

    The format follows the extension: ``.glb`` (binary glTF, one file),
    ``.gltf`` (glTF with its buffers embedded, one file) or ``.obj``
    (Wavefront OBJ with vertex colours). Coordinates are in metres in a local
    y-up frame whose origin and CRS are recorded in the file (see the module
    notes); meshes are built by `cim.meshes.twin_scene`.

    Parameters
    ----------
    twin
        The twin.
    path
        Target file; an existing file is replaced only once the new one is
        completely written.
    lod
        Level of detail, see `cim.meshes.twin_meshes`.
    color
        Colouring, see `cim.meshes.twin_scene`: None by semantic (roofs,
        walls, grounds), a buildings column name, or one RGB(A) colour.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If the extension is not one of ``.glb``, ``.gltf``, ``.obj``, or
        ``lod`` or ``color`` is invalid.
    KeyError
        If ``color`` names no buildings column.

    Examples
    --------
    >>> import tempfile, pathlib, trimesh
    >>> import cim
    >>> from cim.io.mesh import write_mesh
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_mesh(twin, pathlib.Path(tmp) / "cau.glb")
    ...     scene = trimesh.load(out)
    >>> len(scene.geometry), scene.metadata["cim"]["crs"]
    (257, 'EPSG:32650')
    """
    target = Path(path)
    ext = target.suffix.lower()
    if ext not in MESH_FORMATS:
        msg = (
            f"invalid mesh file extension {target.suffix!r} of {target.name!r}; "
            f"expected one of {', '.join(MESH_FORMATS)}"
        )
        raise ValueError(msg)
    scene = twin_scene(twin, color=color, lod=lod)
    origin = local_origin(twin)
    forward, inverse = _to_file_frame(origin)
    out = _export_scene(scene, forward)
    sources = scene.metadata.get("sources", [])
    attribution = _attribution(sources)
    info: dict[str, Any] = {
        "name": twin.name,
        "crs": scene.metadata["crs"],
        "crs_wkt": scene.metadata["crs_wkt"],
        "offset_m": list(origin),
        "up_axis": "+Y",
        "to_crs": (inverse + 0.0).tolist(),  # no -0.0
        "lod": str(lod),
        "semantic_codes": scene.metadata["semantic_codes"],
        "attribution": attribution,
    }
    out.metadata["cim"] = info
    data = _encode(out, MESH_FORMATS[ext], info)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    _log.info("wrote %d buildings to %s", len(out.geometry), target)
    return target


def _encode(scene: trimesh.Scene, fmt: str, info: dict[str, Any]) -> bytes:
    """The file's bytes in format ``fmt``."""
    if fmt == "obj":
        lines = [
            f"cim-twin mesh of {info['name']!r}; units: metres",
            f"crs: {info['crs']}",
            "offset_m: {} {} {}".format(*(repr(float(v)) for v in info["offset_m"])),
            "up_axis: +Y (file x, y, z = x - x0, z - z0, -(y - y0))",
            "to_crs: " + json.dumps(info["to_crs"]),
            f"attribution: {info['attribution']}",
        ]
        text = trimesh.exchange.obj.export_obj(  # type: ignore[no-untyped-call]
            scene, include_normals=False, header="\n# ".join(lines)
        )
        return str(text).encode("utf-8")

    def finish(tree: dict[str, Any]) -> None:
        asset = tree.setdefault("asset", {})
        asset["generator"] = "cim-twin (trimesh)"
        if info["attribution"]:
            asset["copyright"] = info["attribution"]
        # glTF's default material is fully metallic, which most viewers draw
        # near black without an environment map: use a matte one instead,
        # tinted by the vertex colours, and two-sided for open LoD2 shells.
        materials = tree.setdefault("materials", [])
        materials.append(_MATERIAL)
        for mesh in tree.get("meshes", []):
            for primitive in mesh.get("primitives", []):
                primitive.setdefault("material", len(materials) - 1)

    if fmt == "glb":
        glb: bytes = trimesh.exchange.gltf.export_glb(  # type: ignore[no-untyped-call]
            scene, include_normals=False, tree_postprocessor=finish
        )
        return glb
    files = trimesh.exchange.gltf.export_gltf(  # type: ignore[no-untyped-call]
        scene, include_normals=False, embed_buffers=True, tree_postprocessor=finish
    )
    gltf: bytes = files["model.gltf"]
    return gltf
