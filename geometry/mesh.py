"""LoD1 building meshes: footprints extruded to prisms with semantic faces.

Every face carries a semantic code, stored per mesh in
``mesh.face_attributes["semantic"]`` as an ``(f,) int8`` array:

=========  ====  ============================================
constant   code  face
=========  ====  ============================================
`GROUND`   0     the footprint at the base, normal pointing down
`WALL`     1     a vertical wall, normal pointing away from the building
`ROOF`     2     the top, normal pointing up
`UNKNOWN`  -1    unclassified: `geometry.measure` goes by its normal
=========  ====  ============================================

``SEMANTICS[code]`` is the name of a code. Readers of LoD2 models (CityJSON)
use the same codes, so that `geometry.measure` treats both alike; other codes
they may add (closure surfaces, say) are left out of its surface areas.

The extrusion is vectorised over the whole batch: the caps are triangulated by
GEOS (`shapely.constrained_delaunay_triangles`, which keeps holes and adds no
vertices) and the walls are built from the ring coordinates with numpy, for
all buildings at once, into one vertex and one face array. `extrude` then only
splits these arrays into one `trimesh.Trimesh` per building, and
`extrude_arrays` returns them whole, e.g. for casting rays at a district in
one go. ``benchmarks/bench_extrusion.py`` compares this with calling
`trimesh.creation.extrude_polygon` once per building, 4.5 (`extrude`) to 15
(`extrude_arrays`) times slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
import shapely
import trimesh

__all__ = [
    "GROUND",
    "ROOF",
    "SEMANTICS",
    "UNKNOWN",
    "WALL",
    "MeshArrays",
    "combine",
    "extrude",
    "extrude_arrays",
]

#: Semantic code of a ground (bottom) face.
GROUND: Final = 0
#: Semantic code of a wall face.
WALL: Final = 1
#: Semantic code of a roof (top) face.
ROOF: Final = 2
#: Semantic code of a face whose kind is not known.
UNKNOWN: Final = -1
#: Names of the semantic codes, indexed by code.
SEMANTICS: Final = ("ground", "wall", "roof")

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon


class MeshArrays(NamedTuple):
    """A batch of building meshes as one set of arrays.

    Vertices and faces are grouped by building, in input order: building
    ``i`` owns a contiguous block of vertices and a contiguous block of faces,
    whose faces are ground first, then walls, then roof. The measures in
    `geometry.measure` accept it as well as a list of meshes.

    Attributes
    ----------
    vertices : (v, 3) float
        Vertex coordinates [m].
    faces : (f, 3) int
        Triangles as indices into `vertices`, counter-clockwise seen from
        outside (outward normals).
    semantic : (f,) int8
        Semantic code of each face (`GROUND`, `WALL` or `ROOF`).
    building : (f,) int
        Index of the input footprint that each face belongs to.
    n : int
        Number of input footprints, those without faces included.
    """

    vertices: npt.NDArray[np.float64]
    faces: npt.NDArray[np.int64]
    semantic: npt.NDArray[np.int8]
    building: npt.NDArray[np.intp]
    n: int


def _as_batch(
    footprints: npt.ArrayLike,
    heights: npt.ArrayLike,
    base_z: npt.ArrayLike | None,
) -> tuple[
    npt.NDArray[np.object_],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.bool_],
]:
    """Broadcast the inputs to ``(n,)`` and find the buildings to extrude."""
    geoms = np.asarray(footprints, dtype=object)
    if geoms.ndim == 0:
        geoms = geoms.reshape(1)
    if geoms.ndim != 1:
        msg = f"footprints must be a 1-D array of geometries, got shape {geoms.shape}"
        raise ValueError(msg)
    n = geoms.shape[0]
    h = np.broadcast_to(np.asarray(heights, dtype=np.float64), (n,))
    z0 = np.broadcast_to(
        np.asarray(0.0 if base_z is None else base_z, dtype=np.float64), (n,)
    )
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    wrong = present & ~np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        msg = (
            "footprints must be Polygons or MultiPolygons; item "
            f"{first} is a {geoms[first].geom_type}: drop it, or buffer it "
            "into a polygon first"
        )
        raise ValueError(msg)
    with np.errstate(invalid="ignore"):
        valid = present & np.isfinite(h) & (h > 0) & np.isfinite(z0)
    return geoms, h, z0, valid


class _Rings(NamedTuple):
    """The rings of a batch of footprints and their edges, oriented.

    Edges join the points ``tail -> head``, turned where needed so that the
    building is on the left of every edge: exteriors run counter-clockwise
    and holes clockwise, whatever the input's orientation.
    """

    xy: npt.NDArray[np.float64]  # (c, 2) ring coordinates, rings closed
    ring_offsets: npt.NDArray[np.intp]  # (r + 1,) first coordinate per ring
    ring_building: npt.NDArray[np.intp]  # (r,) input index of each ring
    ring_part: npt.NDArray[np.intp]  # (r,) polygon (part) of each ring
    part_building: npt.NDArray[np.intp]  # (p,) input index of each part
    ring_in_building: npt.NDArray[np.intp]  # (r,) exterior 0, then holes...
    edge_ring: npt.NDArray[np.intp]  # (e,) ring of each edge
    edge_index: npt.NDArray[np.intp]  # (e,) edge i joins ring points i, i+1
    tail: npt.NDArray[np.intp]  # (e,) index into xy
    head: npt.NDArray[np.intp]  # (e,) index into xy


def _rings(geoms: npt.NDArray[np.object_], which: npt.NDArray[np.intp]) -> _Rings:
    """Rings and oriented edges of the polygons ``geoms[which]``.

    Uses `shapely.to_ragged_array`, so no Python object is made per ring, and
    orients the edges from each ring's signed area (shoelace formula) rather
    than rewriting the geometries with `shapely.orient_polygons`.
    """
    if which.size:
        kind, xy, offsets = shapely.to_ragged_array(geoms[which], include_z=False)
    else:
        none = np.zeros(1, dtype=np.intp)
        kind, xy, offsets = shapely.GeometryType.POLYGON, np.empty((0, 2)), (none,) * 2
    if kind == shapely.GeometryType.POLYGON:
        ring_offsets, part_offsets = offsets
        geom_offsets = np.arange(part_offsets.shape[0])
    else:
        ring_offsets, part_offsets, geom_offsets = offsets
    ring_offsets = ring_offsets.astype(np.intp)
    part_offsets = part_offsets.astype(np.intp)
    n_rings = ring_offsets.shape[0] - 1
    ring_part = np.repeat(np.arange(part_offsets.shape[0] - 1), np.diff(part_offsets))
    part_geom = np.repeat(np.arange(geom_offsets.shape[0] - 1), np.diff(geom_offsets))
    ring_geom = part_geom[ring_part]
    exterior = np.arange(n_rings) == part_offsets[ring_part]
    first_ring = part_offsets[np.asarray(geom_offsets, dtype=np.intp)[ring_geom]]

    coord_ring = np.repeat(np.arange(n_rings), np.diff(ring_offsets))
    last = np.zeros(xy.shape[0], dtype=bool)
    last[ring_offsets[1:] - 1] = True
    start = np.flatnonzero(~last)
    edge_ring = coord_ring[start]
    # Twice the signed area of each ring, about its first point for precision
    # in projected coordinates.
    rel = xy - xy[ring_offsets[:-1]][coord_ring]
    cross = rel[start, 0] * rel[start + 1, 1] - rel[start + 1, 0] * rel[start, 1]
    ccw = np.bincount(edge_ring, weights=cross, minlength=n_rings) > 0
    turn = (ccw != exterior)[edge_ring]
    return _Rings(
        xy=xy,
        ring_offsets=ring_offsets,
        ring_building=which[ring_geom],
        ring_part=ring_part,
        part_building=which[part_geom],
        ring_in_building=np.arange(n_rings) - first_ring,
        edge_ring=edge_ring,
        edge_index=start - ring_offsets[edge_ring],
        tail=np.where(turn, start + 1, start),
        head=np.where(turn, start, start + 1),
    )


_HASH = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
)


def _distinct_points(
    part: npt.NDArray[np.intp], xy: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Number the distinct ``(part, x, y)`` points.

    Returns the id of each point and, per id, the index of its first
    occurrence; ids are ordered by `part`, then by first occurrence.
    Points are grouped by sorting a 64-bit hash of their bits, several times
    faster than `numpy.lexsort` on the three keys; a hash collision is
    detected and then the lexsort is used.
    """
    xy = xy + 0.0  # -0.0 -> 0.0, so equal coordinates have equal bits
    bits = xy.view(np.uint64)
    key = (
        bits[:, 0] * _HASH[0]
        ^ bits[:, 1] * _HASH[1]
        ^ part.astype(np.uint64) * _HASH[2]
    )
    order = np.argsort(key)
    sb, sxy = part[order], xy[order]
    new = np.ones(order.shape[0], dtype=bool)
    new[1:] = key[order][1:] != key[order][:-1]
    differ = (sb[1:] != sb[:-1]) | (sxy[1:] != sxy[:-1]).any(axis=1)
    if np.any(differ & ~new[1:]):  # a 64-bit hash collision: rare
        order = np.lexsort((xy[:, 1], xy[:, 0], part))
        sb, sxy = part[order], xy[order]
        new[1:] = (sb[1:] != sb[:-1]) | (sxy[1:] != sxy[:-1]).any(axis=1)
    group = np.cumsum(new) - 1
    first = np.minimum.reduceat(order, np.flatnonzero(new)) if order.size else order
    # Renumber the groups by (part, first occurrence).
    rank_order = np.argsort(part[first] * max(order.shape[0], 1) + first)
    rank = np.empty_like(rank_order)
    rank[rank_order] = np.arange(rank_order.shape[0])
    ids = np.empty(order.shape[0], dtype=np.intp)
    ids[order] = rank[group]
    return ids, first[rank_order].astype(np.intp)


def extrude_arrays(
    footprints: npt.ArrayLike,
    heights: npt.ArrayLike,
    *,
    base_z: npt.ArrayLike | None = None,
) -> MeshArrays:
    """Extrude footprints to LoD1 prisms, as one batch of arrays.

    The lower-level form of `extrude`, vectorised throughout: no
    `trimesh.Trimesh` is made, so it suits measuring a whole district at
    once (`geometry.measure` accepts the result) or making one mesh of it for
    ray casting (``trimesh.Trimesh(arrays.vertices, arrays.faces)``).

    Parameters
    ----------
    footprints : (n,) shapely.Polygon or shapely.MultiPolygon
        Building footprints, holes allowed. Ring orientation does not matter.
        Missing (None) and empty geometries make no faces.
    heights : (n,) float
        Height of each building above its base [m]. NaN or ``<= 0`` makes no
        faces.
    base_z : (n,) float, optional
        Elevation of each building's base [m]; 0 by default. NaN makes no
        faces.

    Returns
    -------
    MeshArrays
        ``(vertices, faces, semantic, building, n)`` of the whole batch; see
        `MeshArrays`.

    Raises
    ------
    ValueError
        If a footprint is neither a Polygon nor a MultiPolygon.

    See Also
    --------
    extrude : One `trimesh.Trimesh` per building.

    Examples
    --------
    >>> import shapely
    >>> arrays = extrude_arrays([shapely.box(0, 0, 10, 6)], [3.0])
    >>> arrays.vertices.shape, arrays.faces.shape
    ((8, 3), (12, 3))
    """
    geoms, h, z0, valid = _as_batch(footprints, heights, base_z)
    arrays, _ = _extrude(geoms, h, z0, valid)
    return arrays


def _extrude(
    geoms: npt.NDArray[np.object_],
    h: npt.NDArray[np.float64],
    z0: npt.NDArray[np.float64],
    valid: npt.NDArray[np.bool_],
) -> tuple[MeshArrays, npt.NDArray[np.intp]]:
    """Extrude the valid footprints; also return vertices per building."""
    n = geoms.shape[0]
    which = np.flatnonzero(valid)
    rings = _rings(geoms, which)

    # Cap triangles from GEOS, per polygon part: (t, 3, 2) corners. Reading
    # the coordinates of the collections makes no Python object per triangle.
    parts = geoms[which]
    multi = shapely.get_type_id(parts) == shapely.GeometryType.MULTIPOLYGON
    if multi.any():
        n_parts = shapely.get_num_geometries(parts)
        exploded = np.repeat(parts, np.where(multi, n_parts, 1))
        exploded[np.repeat(multi, n_parts.clip(1))] = shapely.get_parts(parts[multi])
        parts = exploded
    tri_coords, tri_part = shapely.get_coordinates(
        shapely.constrained_delaunay_triangles(parts), return_index=True
    )
    tri_xy = tri_coords.reshape(-1, 4, 2)[:, :3]
    tri_part = tri_part[::4]
    tri_building = rings.part_building[tri_part]

    # One vertex per distinct point of each polygon part: the ring points
    # (less their closing points) and the cap corners, which GEOS takes from
    # the rings. Parts of a MultiPolygon that touch at a point get a vertex
    # each, so that each part is a closed shell of its own.
    xy = rings.xy
    closing = rings.ring_offsets[1:] - 1
    is_ring_pt = np.ones(xy.shape[0], dtype=bool)
    is_ring_pt[closing] = False
    coord_ring = np.repeat(np.arange(closing.shape[0]), np.diff(rings.ring_offsets))
    coord_part = rings.ring_part[coord_ring]
    n_ring_pts = int(is_ring_pt.sum())
    key_xy = np.concatenate([xy[is_ring_pt], tri_xy.reshape(-1, 2)])
    key_part = np.concatenate([coord_part[is_ring_pt], np.repeat(tri_part, 3)])
    vid, first = _distinct_points(key_part, key_xy)
    coord_vid = np.empty(xy.shape[0], dtype=np.intp)
    coord_vid[is_ring_pt] = vid[:n_ring_pts]
    coord_vid[closing] = coord_vid[rings.ring_offsets[:-1]]
    tri_vid = vid[n_ring_pts:].reshape(-1, 3)

    u_xy, u_b = key_xy[first], rings.part_building[key_part[first]]
    count = np.bincount(u_b, minlength=n)
    start = np.cumsum(count) - count
    # Building b holds 2 * count[b] vertices from 2 * start[b]: its bottom
    # vertices, then its top ones, in order of first occurrence.
    bottom = np.arange(u_b.shape[0]) + start[u_b]
    top = bottom + count[u_b]
    vertices = np.empty((2 * u_b.shape[0], 3), dtype=np.float64)
    vertices[bottom, :2] = u_xy
    vertices[bottom, 2] = z0[u_b]
    vertices[top, :2] = u_xy
    vertices[top, 2] = z0[u_b] + h[u_b]

    # Caps, counter-clockwise seen from above (about the first corner).
    d1 = tri_xy[:, 1] - tri_xy[:, 0]
    d2 = tri_xy[:, 2] - tri_xy[:, 0]
    cw = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0] < 0
    tri_vid[cw] = tri_vid[cw][:, ::-1]
    roof = top[tri_vid]
    ground = bottom[tri_vid][:, ::-1]

    # Walls: the building is on the left of every edge p -> q, so
    # (b_p, b_q, t_q) and (b_p, t_q, t_p) face away from it.
    p = coord_vid[rings.tail]
    q = coord_vid[rings.head]
    keep = p != q  # repeated points make no wall
    p, q = p[keep], q[keep]
    wall = np.concatenate(
        [
            np.stack([bottom[p], bottom[q], top[q]], axis=1),
            np.stack([bottom[p], top[q], top[p]], axis=1),
        ]
    )
    edge_building = rings.ring_building[rings.edge_ring[keep]]

    faces = np.concatenate([ground, wall, roof])
    semantic = np.concatenate(
        [
            np.full(ground.shape[0], GROUND, dtype=np.int8),
            np.full(wall.shape[0], WALL, dtype=np.int8),
            np.full(roof.shape[0], ROOF, dtype=np.int8),
        ]
    )
    owner = np.concatenate([tri_building, edge_building, edge_building, tri_building])
    by_building = np.argsort(owner, kind="stable")
    arrays = MeshArrays(
        vertices=vertices,
        faces=faces[by_building].astype(np.int64, copy=False),
        semantic=semantic[by_building],
        building=owner[by_building].astype(np.intp, copy=False),
        n=n,
    )
    return arrays, 2 * count


def extrude(
    footprints: npt.ArrayLike,
    heights: npt.ArrayLike,
    *,
    base_z: npt.ArrayLike | None = None,
) -> list[trimesh.Trimesh | None]:
    """Extrude footprints to LoD1 prisms, one mesh per building.

    Each mesh is closed and consistently wound with outward normals; its
    ``face_attributes["semantic"]`` is an ``(f,) int8`` array of `GROUND`,
    `WALL` and `ROOF` codes. The roof is flat at ``base_z + height``, the
    ground at ``base_z``, and each ring edge (of exteriors and of holes) gives
    a vertical wall of two triangles.

    The work is done for the whole batch by `extrude_arrays` and the result
    then split; only making the `trimesh.Trimesh` objects loops in Python,
    and it takes two thirds of the time. On 100,000 footprints
    (``benchmarks/bench_extrusion.py``) this made about 15,000 meshes/s,
    4.5 times as many as `trimesh.creation.extrude_polygon` called per
    building (3,300/s, which also needs the optional ``mapbox_earcut`` and
    labels no faces), and `extrude_arrays` about 50,000 buildings/s: measure
    its result directly when no per-building mesh is needed.

    Parameters
    ----------
    footprints : (n,) shapely.Polygon or shapely.MultiPolygon
        Building footprints, holes allowed. Ring orientation does not matter.
        Footprints are trusted to be valid (validated when they entered the
        twin); an invalid one may give a mesh that is not watertight.
    heights : (n,) float
        Height of each building above its base [m].
    base_z : (n,) float, optional
        Elevation of each building's base [m]; 0 by default.

    Returns
    -------
    list of trimesh.Trimesh or None
        ``n`` meshes in input order, with coordinates in the footprints' CRS
        [m]. A slot is None where the footprint is missing or empty, or the
        height or base is NaN, or the height is ``<= 0``.

    Raises
    ------
    ValueError
        If a footprint is neither a Polygon nor a MultiPolygon.

    See Also
    --------
    extrude_arrays : The same as one batch of arrays.
    combine : Merge meshes back into one.

    Notes
    -----
    Vertices are shared within each polygon, so a mesh is watertight in
    trimesh's sense, except where a valid polygon's rings touch: a courtyard
    touching the outline at a common vertex gives four faces on one edge
    (still closed for `geometry.measure.is_closed`), and one touching the
    outline in the middle of an edge gives a cap vertex that the wall lacks
    (not closed: add the vertex to the outline). Parts of a MultiPolygon are
    separate shells, even where they touch.

    Examples
    --------
    >>> import shapely
    >>> meshes = extrude([shapely.box(0, 0, 10, 6), None], [3.0, 3.0])
    >>> float(meshes[0].volume), meshes[1]
    (180.0, None)
    """
    geoms, h, z0, valid = _as_batch(footprints, heights, base_z)
    if not valid.any():
        return [None] * geoms.shape[0]
    arrays, n_vertices = _extrude(geoms, h, z0, valid)
    n_faces = np.bincount(arrays.building, minlength=geoms.shape[0])
    # Make the faces local to each building's block of vertices.
    vertex_start = np.cumsum(n_vertices) - n_vertices
    faces = arrays.faces - vertex_start[arrays.building][:, None]
    v_split = np.split(arrays.vertices, np.cumsum(n_vertices)[:-1])
    f_bounds = np.cumsum(n_faces)[:-1]
    f_split = np.split(faces, f_bounds)
    s_split = np.split(arrays.semantic, f_bounds)
    # The loop only wraps ready arrays; it is the price of one object each.
    return [
        trimesh.Trimesh(
            vertices=v,
            faces=f,
            face_attributes={"semantic": s},
            process=False,
            validate=False,
        )
        if ok
        else None
        for ok, v, f, s in zip(valid, v_split, f_split, s_split, strict=True)
    ]


def combine(
    meshes: Sequence[trimesh.Trimesh | None],
) -> tuple[trimesh.Trimesh, npt.NDArray[np.intp]]:
    """Merge meshes into one, remembering which mesh each face came from.

    Parameters
    ----------
    meshes : (n,) trimesh.Trimesh or None
        Meshes, e.g. from `extrude`; None slots are skipped.

    Returns
    -------
    mesh : trimesh.Trimesh
        All faces in one mesh (vertices are not merged). Its
        ``face_attributes["semantic"]`` holds the inputs' codes, `UNKNOWN`
        for meshes without them.
    owner : (f,) int
        Index into `meshes` of the mesh each face of `mesh` came from, e.g. to
        map ray hits back to buildings.

    Examples
    --------
    >>> import shapely
    >>> meshes = extrude([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)], [1, 2])
    >>> mesh, owner = combine(meshes)
    >>> len(mesh.faces), owner.tolist()[::12]
    (24, [0, 1])
    """
    vertices: list[npt.NDArray[np.float64]] = []
    faces: list[npt.NDArray[np.int64]] = []
    semantic: list[npt.NDArray[np.int8]] = []
    owner: list[npt.NDArray[np.intp]] = []
    offset = 0
    for i, m in enumerate(meshes):
        if m is None:
            continue
        f = np.asarray(m.faces, dtype=np.int64)
        vertices.append(np.asarray(m.vertices, dtype=np.float64))
        faces.append(f + offset)
        sem = m.face_attributes.get("semantic")
        sem = None if sem is None else np.asarray(sem, dtype=np.int8).reshape(-1)
        semantic.append(
            sem
            if sem is not None and sem.shape[0] == len(f)
            else np.full(len(f), UNKNOWN, dtype=np.int8)
        )
        owner.append(np.full(len(f), i, dtype=np.intp))
        offset += len(m.vertices)
    if not faces:
        empty = trimesh.Trimesh(
            vertices=np.empty((0, 3)),
            faces=np.empty((0, 3), dtype=np.int64),
            face_attributes={"semantic": np.empty(0, dtype=np.int8)},
            process=False,
        )
        return empty, np.empty(0, dtype=np.intp)
    mesh = trimesh.Trimesh(
        vertices=np.concatenate(vertices),
        faces=np.concatenate(faces),
        face_attributes={"semantic": np.concatenate(semantic)},
        process=False,
        validate=False,
    )
    return mesh, np.concatenate(owner)
