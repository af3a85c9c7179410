"""Planar 3D polygons: triangulation, closed-shell checks, volumes and repair.

Boundary surfaces of 3D city models (CityJSON, CityGML) are planar polygons
with holes, whose corners are shared between neighbouring surfaces. This
module turns a batch of them into triangles and measures the solids they
bound:

- `triangulate_rings` / `triangulate_polygons` project each polygon to the
  plane of its Newell normal, triangulate it in 2D with GEOS
  (`shapely.constrained_delaunay_triangles`, which keeps holes and adds no
  vertices), and lift the triangles back onto the original 3D corners. The
  whole batch goes to GEOS in one call; only invalid polygons (self-touching
  after projection) take a slower path through `shapely.make_valid`.
- `open_edge_counts` and `is_closed` check, per shell, that every edge is run
  along as often in one direction as in the other: the shell has no boundary
  and a consistent orientation, so that its volume is defined. Like
  `geometry.measure.is_closed`, this accepts solids touching themselves along
  an edge (four faces on one edge), which trimesh's ``is_watertight`` does not.
- `signed_volume` sums the divergence theorem's tetrahedra relative to an
  origin. For a closed shell the result does not depend on the origin; for an
  open one it does, which is why open shells must be detected first.
- `close_shells` repairs open shells where that is well defined (see its
  Notes): it splits faces at T-junctions and caps planar holes. It does not use
  `trimesh.repair.fill_holes`, which fills holes with fans, wrong for the
  non-convex holes left by a missing ground floor.
- `mesh_from_surfaces` makes one `trimesh.Trimesh` per building with the
  semantic face codes of `geometry.mesh` in ``face_attributes["semantic"]``.

Semantic codes follow `geometry.mesh`: `GROUND` 0, `WALL` 1, `ROOF` 2, plus
`CLOSURE` 3 (virtual surfaces closing a volume, e.g. caps added by repair)
and `OTHER` -1 (unclassified; `geometry.measure` goes by the face normal).

Rings are given as indices into a vertex array, CityJSON-style, and are not
closed (the first corner is not repeated at the end)::

    ring_vertices    (c,) int   corners of all rings, ring after ring
    ring_offsets     (r + 1,)   ring i is ring_vertices[ro[i]:ro[i + 1]]
    polygon_offsets  (p + 1,)   polygon j has the rings po[j]:po[j + 1], the
                                first its exterior, the others holes
"""

from __future__ import annotations

import itertools
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
import shapely
import trimesh

__all__ = [
    "CLOSURE",
    "GROUND",
    "OTHER",
    "ROOF",
    "SEMANTIC_CODES",
    "WALL",
    "ShellRepair",
    "Triangulation",
    "close_shells",
    "is_closed",
    "mesh_from_surfaces",
    "newell_normals",
    "open_edge_counts",
    "polygons_from_rings",
    "signed_volume",
    "triangulate_polygons",
    "triangulate_rings",
]

#: Semantic code of a ground surface (as `geometry.mesh.GROUND`).
GROUND: Final = 0
#: Semantic code of a wall surface (as `geometry.mesh.WALL`).
WALL: Final = 1
#: Semantic code of a roof surface (as `geometry.mesh.ROOF`).
ROOF: Final = 2
#: Semantic code of a closure surface: virtual, it closes a volume.
CLOSURE: Final = 3
#: Semantic code of any other or unknown surface (as `geometry.mesh.UNKNOWN`).
OTHER: Final = -1
#: Codes by the names used in the twin's ``surfaces`` layer.
SEMANTIC_CODES: Final = {
    "ground": GROUND,
    "wall": WALL,
    "roof": ROOF,
    "closure": CLOSURE,
    "other": OTHER,
}

#: Status codes of `close_shells`.
_EMPTY, _CLOSED, _REPAIRED, _OPEN = -1, 0, 1, 2

_IntArray = npt.NDArray[np.intp]
_FloatArray = npt.NDArray[np.float64]


class Triangulation(NamedTuple):
    """Triangles of a batch of polygons.

    Attributes
    ----------
    vertices : (v, 3) float
        The input vertices, followed by any vertex added to triangulate an
        invalid polygon [m].
    faces : (f, 3) int
        Triangles as indices into `vertices`, counter-clockwise seen from the
        side the polygon's Newell normal points to.
    owner : (f,) int
        Index of the polygon each triangle comes from.
    """

    vertices: _FloatArray
    faces: _IntArray
    owner: _IntArray


class ShellRepair(NamedTuple):
    """The result of `close_shells`.

    Attributes
    ----------
    vertices : (v, 3) float
        Vertices of the repaired faces; the input's come first [m].
    faces : (f, 3) int
        Faces after repair. Shells that could not be closed keep their input
        faces unchanged.
    group : (f,) int
        Shell of each face.
    source : (f,) int
        Input face each face comes from (a face split at a T-junction gives
        several), -1 for the faces of caps added to close a hole.
    status : (n,) int8
        Per shell: -1 no faces, 0 closed as given, 1 closed by the repair
        (T-junctions split, planar holes capped or inward faces flipped), 2
        still open.
    open_edges : (n,) int
        Unmatched edges of each shell as given (see `open_edge_counts`).
    """

    vertices: _FloatArray
    faces: _IntArray
    group: _IntArray
    source: _IntArray
    status: npt.NDArray[np.int8]
    open_edges: _IntArray


# -- normals and planes ----------------------------------------------------------


def _ring_index(ring_offsets: _IntArray) -> _IntArray:
    """Ring of each corner."""
    return np.repeat(np.arange(ring_offsets.shape[0] - 1), np.diff(ring_offsets))


def _next_corner(ring_offsets: _IntArray) -> _IntArray:
    """Index of the next corner of the same ring (cyclic), per corner."""
    n = int(ring_offsets[-1])
    nxt = np.arange(1, n + 1)
    last = ring_offsets[1:] - 1
    nonempty = np.diff(ring_offsets) > 0
    nxt[last[nonempty]] = ring_offsets[:-1][nonempty]
    return nxt


def newell_normals(
    vertices: npt.ArrayLike,
    ring_vertices: npt.ArrayLike,
    ring_offsets: npt.ArrayLike,
) -> _FloatArray:
    """Newell normal of each ring: its area vector.

    The sum over the ring's edges of the cross products of consecutive
    corners, halved, computed about the ring's first corner for precision in
    projected coordinates. Its direction is the normal of the ring's
    best-fit plane, counter-clockwise seen from its tip, and its length the
    ring's area; both are robust to slightly non-planar rings.

    Parameters
    ----------
    vertices : (v, 3) float
        Vertex coordinates [m].
    ring_vertices : (c,) int
        Corners of all rings, as indices into `vertices`, rings not closed.
    ring_offsets : (r + 1,) int
        Start of each ring in `ring_vertices`, and the end.

    Returns
    -------
    (r, 3) float
        Area vector of each ring [m²]; zero for degenerate rings.

    Examples
    --------
    >>> square = [[0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0]]
    >>> newell_normals(square, [0, 1, 2, 3], [0, 4]).tolist()
    [[0.0, 0.0, 4.0]]
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    rv = np.asarray(ring_vertices, dtype=np.intp)
    ro = np.asarray(ring_offsets, dtype=np.intp)
    n_rings = ro.shape[0] - 1
    if rv.shape[0] == 0:
        return np.zeros((n_rings, 3))
    ring = _ring_index(ro)
    first = v[rv[ro[:-1].clip(max=rv.shape[0] - 1)]]
    p = v[rv] - first[ring]
    q = p[_next_corner(ro)]
    cross = np.cross(p, q)
    out = np.zeros((n_rings, 3))
    np.add.at(out, ring, cross)
    return out / 2.0


def _plane_bases(normals: _FloatArray) -> tuple[_FloatArray, _FloatArray]:
    """Orthonormal ``(u, v)`` with ``u x v`` along each normal."""
    length = np.linalg.norm(normals, axis=1)
    unit = np.divide(
        normals,
        length[:, None],
        out=np.zeros_like(normals),
        where=length[:, None] > 0,
    )
    # Cross with the axis least aligned with the normal.
    axis = np.zeros_like(unit)
    axis[np.arange(unit.shape[0]), np.argmin(np.abs(unit), axis=1)] = 1.0
    u = np.cross(axis, unit)
    u /= np.linalg.norm(u, axis=1, keepdims=True).clip(min=1e-300)
    w = np.cross(unit, u)
    return u, w


# -- triangulation -----------------------------------------------------------------


def triangulate_rings(
    vertices: npt.ArrayLike,
    ring_vertices: npt.ArrayLike,
    ring_offsets: npt.ArrayLike,
    polygon_offsets: npt.ArrayLike,
) -> Triangulation:
    """Triangulate planar 3D polygons with holes, given as rings of vertex indices.

    Each polygon is projected to the plane of its exterior's Newell normal,
    triangulated in 2D by `shapely.constrained_delaunay_triangles` (all
    polygons in one call) and lifted back: the triangles' corners are the
    input vertices, so that faces of neighbouring polygons share vertices and
    edges. Triangles run counter-clockwise seen from the tip of the normal,
    whatever the orientation of the holes. Degenerate polygons (fewer than
    three corners, or no area) give no triangles. A polygon that is invalid
    in its plane (self-intersecting, or a hole crossing the exterior) is
    repaired with `shapely.make_valid` first, which may add vertices where
    rings cross; these are appended to the vertices, lifted to the plane.

    Parameters
    ----------
    vertices : (v, 3) float
        Vertex coordinates [m].
    ring_vertices : (c,) int
        Corners of all rings as indices into `vertices`; rings are not closed.
    ring_offsets : (r + 1,) int
        Start of each ring in `ring_vertices`, and the end.
    polygon_offsets : (p + 1,) int
        Start of each polygon's rings, and the end; the first ring of each
        polygon is its exterior.

    Returns
    -------
    Triangulation
        ``(vertices, faces, owner)``.

    Examples
    --------
    A unit square with the corners of a ring listed once:

    >>> tri = triangulate_rings(
    ...     [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [0, 1, 2, 3], [0, 4], [0, 1]
    ... )
    >>> tri.faces.shape, tri.owner.tolist()
    ((2, 3), [0, 0])
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    rv = np.asarray(ring_vertices, dtype=np.intp)
    ro = np.asarray(ring_offsets, dtype=np.intp)
    po = np.asarray(polygon_offsets, dtype=np.intp)
    n_poly = po.shape[0] - 1
    empty = Triangulation(v, np.empty((0, 3), np.intp), np.empty(0, np.intp))
    if n_poly == 0 or rv.shape[0] == 0:
        return empty

    rv, ro = _drop_repeats(rv, ro)
    ring_len = np.diff(ro)
    ring_poly = _ring_index(po)
    exterior = np.zeros(ro.shape[0] - 1, dtype=bool)
    exterior[po[:-1][np.diff(po) > 0]] = True
    # A polygon is usable if its exterior has three corners; holes with fewer
    # are dropped.
    good_poly = np.zeros(n_poly, dtype=bool)
    good_poly[ring_poly[exterior & (ring_len >= 3)]] = True
    keep_ring = good_poly[ring_poly] & (ring_len >= 3)

    ext_idx = po[:-1].clip(max=ro.shape[0] - 2)
    normals = newell_normals(v, rv, ro)[ext_idx]
    good_poly &= np.linalg.norm(normals, axis=1) > 0
    keep_ring &= good_poly[ring_poly]
    if not keep_ring.any():
        return empty
    u, w = _plane_bases(normals)
    origin = v[rv[ro[ext_idx]]]

    # Corners of the kept rings, projected to their polygon's plane.
    rings = np.flatnonzero(keep_ring)
    corner_ring = _ring_index(ro)
    corner_keep = keep_ring[corner_ring]
    c_vid = rv[corner_keep]
    c_ring = corner_ring[corner_keep]
    c_poly = ring_poly[c_ring]
    rel = v[c_vid] - origin[c_poly]
    xy = np.column_stack(
        [np.einsum("ij,ij->i", rel, u[c_poly]), np.einsum("ij,ij->i", rel, w[c_poly])]
    )
    # Renumber kept rings and polygons densely for shapely.
    ring_rank = np.full(ro.shape[0] - 1, -1, dtype=np.intp)
    ring_rank[rings] = np.arange(rings.shape[0])
    polys_kept = np.flatnonzero(good_poly)
    poly_rank = np.full(n_poly, -1, dtype=np.intp)
    poly_rank[polys_kept] = np.arange(polys_kept.shape[0])
    linear = shapely.linearrings(xy, indices=ring_rank[c_ring])
    polygons = np.asarray(
        shapely.polygons(linear, indices=poly_rank[ring_poly[rings]]), dtype=object
    )

    valid = shapely.is_valid(polygons)
    tri_xy_parts: list[_FloatArray] = []
    tri_poly_parts: list[_IntArray] = []
    if valid.any():
        txy, tpoly = _cdt(polygons[valid], polys_kept[valid])
        tri_xy_parts.append(txy)
        tri_poly_parts.append(tpoly)
    if (~valid).any():
        fixed = shapely.make_valid(polygons[~valid])
        parts, idx = shapely.get_parts(fixed, return_index=True)
        is_poly = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        is_poly &= shapely.area(parts) > 0
        if is_poly.any():
            txy, tpoly = _cdt(parts[is_poly], polys_kept[~valid][idx[is_poly]])
            tri_xy_parts.append(txy)
            tri_poly_parts.append(tpoly)
    if not tri_xy_parts:
        return empty
    tri_xy = np.concatenate(tri_xy_parts)  # (t, 3, 2)
    tri_poly = np.concatenate(tri_poly_parts)  # (t,)

    # Back to vertex indices: match (polygon, x, y) of each corner with the
    # projected ring corners; GEOS copies the coordinates, so they match
    # exactly. Corners made by make_valid get new vertices.
    corner_poly = np.repeat(tri_poly, 3)
    corner_xy = tri_xy.reshape(-1, 2)
    keys = np.concatenate(
        [
            np.column_stack([c_poly.astype(np.float64), xy]),
            np.column_stack([corner_poly.astype(np.float64), corner_xy]),
        ]
    )
    keys += 0.0  # -0.0 -> 0.0
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    n_ring_corners = c_vid.shape[0]
    group_vid = np.full(first.shape[0], -1, dtype=np.intp)
    from_ring = first < n_ring_corners
    group_vid[from_ring] = c_vid[first[from_ring]]
    new_groups = np.flatnonzero(~from_ring)
    out_v = v
    if new_groups.size:
        src = first[new_groups] - n_ring_corners
        p = corner_poly[src]
        lifted = origin[p] + corner_xy[src, :1] * u[p] + corner_xy[src, 1:2] * w[p]
        group_vid[new_groups] = v.shape[0] + np.arange(new_groups.size)
        out_v = np.concatenate([v, lifted])
    faces = group_vid[inverse[n_ring_corners:]].reshape(-1, 3)

    # Counter-clockwise in (u, w), i.e. seen from the normal's tip.
    d1 = tri_xy[:, 1] - tri_xy[:, 0]
    d2 = tri_xy[:, 2] - tri_xy[:, 0]
    cw = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0] < 0
    faces[cw] = faces[cw][:, ::-1]
    # Triangles that collapsed onto repeated vertices are dropped.
    ok = (
        (faces[:, 0] != faces[:, 1])
        & (faces[:, 1] != faces[:, 2])
        & (faces[:, 0] != faces[:, 2])
    )
    order = np.argsort(tri_poly[ok], kind="stable")
    return Triangulation(out_v, faces[ok][order], tri_poly[ok][order])


def _drop_repeats(rv: _IntArray, ro: _IntArray) -> tuple[_IntArray, _IntArray]:
    """Drop corners equal to the previous one (cyclically) in each ring."""
    if rv.shape[0] == 0:
        return rv, ro
    nxt = _next_corner(ro)
    dup = rv == rv[nxt]
    # A ring whose corners are all equal keeps one.
    ring = _ring_index(ro)
    all_dup = np.bincount(ring, weights=~dup, minlength=ro.shape[0] - 1) == 0
    dup &= ~(all_dup[ring] & (np.arange(rv.shape[0]) == ro[:-1][ring]))
    if not dup.any():
        return rv, ro
    kept = np.bincount(ring[~dup], minlength=ro.shape[0] - 1)
    return rv[~dup], np.concatenate([[0], np.cumsum(kept)]).astype(np.intp)


def polygons_from_rings(
    vertices: npt.ArrayLike,
    ring_vertices: npt.ArrayLike,
    ring_offsets: npt.ArrayLike,
    polygon_offsets: npt.ArrayLike,
    *,
    include_z: bool = True,
) -> npt.NDArray[np.object_]:
    """Shapely polygons from rings of vertex indices.

    Corners repeating the previous one are dropped; holes with fewer than
    three corners are left out, and a polygon whose exterior has fewer than
    three corners is None.

    Parameters
    ----------
    vertices : (v, 3) float
        Vertex coordinates [m].
    ring_vertices : (c,) int
        Corners of all rings as indices into `vertices`; rings are not closed.
    ring_offsets : (r + 1,) int
        Start of each ring in `ring_vertices`, and the end.
    polygon_offsets : (p + 1,) int
        Start of each polygon's rings, and the end; exterior first.
    include_z : bool
        Make PolygonZ (True) or project to the xy plane (False).

    Returns
    -------
    (p,) object
        Polygons, None for degenerate ones.

    Examples
    --------
    >>> corners = [[0, 0, 5], [1, 0, 5], [1, 1, 5]]
    >>> polygons_from_rings(corners, [0, 1, 2, 2], [0, 4], [0, 1])[0].wkt
    'POLYGON Z ((0 0 5, 1 0 5, 1 1 5, 0 0 5))'
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    rv, ro = _drop_repeats(
        np.asarray(ring_vertices, dtype=np.intp),
        np.asarray(ring_offsets, dtype=np.intp),
    )
    po = np.asarray(polygon_offsets, dtype=np.intp)
    n_poly = po.shape[0] - 1
    out = np.full(n_poly, None, dtype=object)
    if n_poly == 0 or rv.shape[0] == 0:
        return out
    ring_len = np.diff(ro)
    ring_poly = _ring_index(po)
    exterior = np.zeros(ro.shape[0] - 1, dtype=bool)
    exterior[po[:-1][np.diff(po) > 0]] = True
    good = np.zeros(n_poly, dtype=bool)
    good[ring_poly[exterior & (ring_len >= 3)]] = True
    keep = good[ring_poly] & (ring_len >= 3)
    if not keep.any():
        return out
    rings = np.flatnonzero(keep)
    ring_rank = np.full(keep.shape[0], -1, dtype=np.intp)
    ring_rank[rings] = np.arange(rings.shape[0])
    kept_polys = np.flatnonzero(good)
    poly_rank = np.full(n_poly, -1, dtype=np.intp)
    poly_rank[kept_polys] = np.arange(kept_polys.shape[0])
    corner_ring = _ring_index(ro)
    corner_keep = keep[corner_ring]
    xyz = v[rv[corner_keep]]
    linear = shapely.linearrings(
        xyz if include_z else xyz[:, :2], indices=ring_rank[corner_ring[corner_keep]]
    )
    out[kept_polys] = shapely.polygons(linear, indices=poly_rank[ring_poly[rings]])
    return out


def _cdt(
    polygons: npt.NDArray[np.object_], poly_id: _IntArray
) -> tuple[_FloatArray, _IntArray]:
    """``(t, 3, 2)`` triangle corners and the polygon id of each triangle."""
    tris = shapely.constrained_delaunay_triangles(polygons)
    coords, idx = shapely.get_coordinates(tris, return_index=True)
    # Each triangle is a closed ring of four points.
    return coords.reshape(-1, 4, 2)[:, :3], poly_id[idx[::4]]


def _rings_of(
    polygons: npt.ArrayLike,
) -> tuple[_FloatArray, _IntArray, _IntArray, _IntArray, npt.NDArray[np.bool_]]:
    """Vertices (merged by coordinates) and rings of PolygonZ geometries.

    Returns vertices, ring_vertices, ring_offsets, polygon_offsets (one
    polygon per input, empty for missing, empty or non-polygon input) and a
    mask of the inputs that are polygons.
    """
    geoms = np.asarray(polygons, dtype=object).reshape(-1)
    n = geoms.shape[0]
    is_poly = np.zeros(n, dtype=bool)
    present = ~shapely.is_missing(geoms)
    is_poly[present] = (
        shapely.get_type_id(geoms[present]) == shapely.GeometryType.POLYGON
    ) & ~shapely.is_empty(geoms[present])
    which = np.flatnonzero(is_poly)
    if which.size == 0:
        zeros = np.zeros(n + 1, dtype=np.intp)
        return np.empty((0, 3)), np.empty(0, np.intp), zeros[:1], zeros, is_poly
    _, coords, (ring_offsets, poly_offsets) = shapely.to_ragged_array(
        geoms[which], include_z=True
    )
    coords = np.asarray(coords, dtype=np.float64)
    if coords.shape[1] == 2:
        coords = np.column_stack([coords, np.zeros(coords.shape[0])])
    ring_offsets = np.asarray(ring_offsets, dtype=np.intp)
    # Drop each ring's closing point.
    closing = np.zeros(coords.shape[0], dtype=bool)
    closing[ring_offsets[1:] - 1] = True
    coords = coords[~closing]
    ring_offsets = ring_offsets - np.arange(ring_offsets.shape[0])
    vertices, inverse = np.unique(coords + 0.0, axis=0, return_inverse=True)
    counts = np.zeros(n, dtype=np.intp)
    counts[which] = np.diff(np.asarray(poly_offsets, dtype=np.intp))
    polygon_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
    return (
        vertices,
        inverse.reshape(-1).astype(np.intp),
        ring_offsets,
        polygon_offsets,
        is_poly,
    )


def triangulate_polygons(polygons: npt.ArrayLike) -> Triangulation:
    """Triangulate PolygonZ geometries, merging equal vertices.

    Vertices with exactly equal coordinates are merged, so that neighbouring
    polygons share edges (as they do in a CityJSON file, whose vertices are
    quantised). See `triangulate_rings` for the method.

    Parameters
    ----------
    polygons : (p,) shapely.Polygon
        Planar polygons with z [m]; holes allowed. Missing, empty or other
        geometries give no triangles.

    Returns
    -------
    Triangulation
        ``(vertices, faces, owner)``, `owner` indexing `polygons`.

    Examples
    --------
    >>> import shapely
    >>> wall = shapely.Polygon([(0, 0, 0), (4, 0, 0), (4, 0, 3), (0, 0, 3)])
    >>> tri = triangulate_polygons([wall])
    >>> tri.vertices.shape, tri.faces.shape
    ((4, 3), (2, 3))
    """
    vertices, rv, ro, po, _ = _rings_of(polygons)
    return triangulate_rings(vertices, rv, ro, po)


# -- closure and volume ------------------------------------------------------------


def _groups(
    n_faces: int, group: npt.ArrayLike | None, n: int | None
) -> tuple[_IntArray, int]:
    if group is None:
        g = np.zeros(n_faces, dtype=np.intp)
        return g, 1 if n is None else int(n)
    g = np.asarray(group, dtype=np.intp).reshape(-1)
    if g.shape[0] != n_faces:
        msg = f"group has {g.shape[0]} entries for {n_faces} faces"
        raise ValueError(msg)
    size = int(g.max()) + 1 if g.size else 0
    return g, size if n is None else int(n)


def _edge_balance(
    faces: _IntArray, group: _IntArray
) -> tuple[_IntArray, _IntArray, _IntArray, _IntArray]:
    """Undirected edges per group and how often each direction is used.

    Returns ``(lo, hi, group, surplus)`` per distinct edge, ``surplus`` the
    uses ``lo -> hi`` minus the uses ``hi -> lo``.
    """
    u = faces.reshape(-1)
    v = np.roll(faces, -1, axis=1).reshape(-1)
    g = np.repeat(group, 3)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    forward = np.where(u < v, 1, -1)
    keys = np.column_stack([g, lo, hi])
    if keys.shape[0] == 0:
        e = np.empty(0, dtype=np.intp)
        return e, e, e, e
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    surplus = np.bincount(inverse.reshape(-1), weights=forward, minlength=uniq.shape[0])
    return uniq[:, 1], uniq[:, 2], uniq[:, 0], surplus.astype(np.intp)


def open_edge_counts(
    faces: npt.ArrayLike,
    *,
    group: npt.ArrayLike | None = None,
    n: int | None = None,
) -> _IntArray:
    """Number of unmatched edge uses of each shell.

    An edge used ``a`` times in one direction and ``b`` times in the other
    contributes ``|a - b|``: zero for an edge shared by two faces of
    opposite orientation, one for a boundary edge, two for an edge where
    two faces disagree on the orientation. Edges are matched by vertex index
    and only within the same group.

    Parameters
    ----------
    faces : (f, 3) int
        Triangles as vertex indices.
    group : (f,) int, optional
        Shell (building) of each face; all faces form one shell by default.
    n : int, optional
        Number of shells; default ``group.max() + 1``.

    Returns
    -------
    (n,) int
        Unmatched edge uses per shell; 0 for a closed shell.

    Examples
    --------
    A tetrahedron, closed, and the same without one face:

    >>> tet = [[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]]
    >>> open_edge_counts(tet).tolist(), open_edge_counts(tet[:3]).tolist()
    ([0], [3])
    """
    f = np.asarray(faces, dtype=np.intp).reshape(-1, 3)
    g, size = _groups(f.shape[0], group, n)
    _, _, eg, surplus = _edge_balance(f, g)
    return np.bincount(eg, weights=np.abs(surplus), minlength=size).astype(np.intp)


def is_closed(
    faces: npt.ArrayLike,
    *,
    group: npt.ArrayLike | None = None,
    n: int | None = None,
) -> npt.NDArray[np.bool_]:
    """Whether each shell is closed and consistently oriented.

    True when every edge of the shell is run along as often in one direction
    as in the other (see `open_edge_counts`) and the shell has faces.

    Parameters
    ----------
    faces : (f, 3) int
        Triangles as vertex indices.
    group : (f,) int, optional
        Shell of each face; one shell by default.
    n : int, optional
        Number of shells; default ``group.max() + 1``.

    Returns
    -------
    (n,) bool

    Examples
    --------
    >>> tet = [[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]]
    >>> is_closed(tet).tolist(), is_closed(tet[:3]).tolist()
    ([True], [False])
    """
    f = np.asarray(faces, dtype=np.intp).reshape(-1, 3)
    g, size = _groups(f.shape[0], group, n)
    has_faces = np.bincount(g, minlength=size) > 0
    closed: npt.NDArray[np.bool_] = has_faces & (
        open_edge_counts(f, group=g, n=size) == 0
    )
    return closed


def signed_volume(
    vertices: npt.ArrayLike,
    faces: npt.ArrayLike,
    *,
    group: npt.ArrayLike | None = None,
    n: int | None = None,
    origin: npt.ArrayLike | None = None,
) -> _FloatArray:
    """Signed volume of each shell by the divergence theorem.

    The sum over its faces of the signed volumes of the tetrahedra joining
    `origin` to each face: positive for a closed shell with outward normals.
    It does not depend on `origin` for a closed shell (see `is_closed`), and
    does for an open one, whose volume is undefined.

    Parameters
    ----------
    vertices : (v, 3) float
        Vertex coordinates [m].
    faces : (f, 3) int
        Triangles as vertex indices, counter-clockwise seen from outside.
    group : (f,) int, optional
        Shell of each face; one shell by default.
    n : int, optional
        Number of shells; default ``group.max() + 1``.
    origin : (3,) or (n, 3) float, optional
        Apex of the tetrahedra [m]; by default the first corner of each
        shell's first face, which keeps the sum exact to ~1e-9 relative in
        projected coordinates far from the CRS origin.

    Returns
    -------
    (n,) float
        Volume [m³]; 0 for shells without faces.

    Examples
    --------
    >>> tet = [[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]]
    >>> corners = [[0, 0, 0], [6, 0, 0], [0, 6, 0], [0, 0, 6]]
    >>> signed_volume(corners, tet).tolist()
    [36.0]
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    f = np.asarray(faces, dtype=np.intp).reshape(-1, 3)
    g, size = _groups(f.shape[0], group, n)
    tri = v[f]
    if origin is None:
        ref = np.zeros((size, 3))
        if f.shape[0]:
            first = np.full(size, -1, dtype=np.intp)
            first[g[::-1]] = np.arange(f.shape[0])[::-1]
            has = first >= 0
            ref[has] = tri[first[has], 0]
    else:
        ref = np.broadcast_to(np.asarray(origin, dtype=np.float64), (size, 3))
    tri = tri - ref[g][:, None, :]
    six_v = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2]))
    return np.bincount(g, weights=six_v / 6.0, minlength=size).astype(np.float64)


# -- repair ------------------------------------------------------------------------


def close_shells(
    vertices: npt.ArrayLike,
    faces: npt.ArrayLike,
    *,
    group: npt.ArrayLike | None = None,
    n: int | None = None,
    owner: npt.ArrayLike | None = None,
    tol: float = 1e-3,
    planar_tol: float = 0.01,
) -> ShellRepair:
    """Close open shells where a closed solid is implied, and orient them outward.

    Closed shells are kept as they are (but turned inside out when their
    volume is negative). Each open shell is repaired in two steps, and the
    repair is kept only if the shell ends up closed:

    1. *T-junctions*: a face edge along which a vertex of the neighbouring
       faces lies (within `tol`) is split there, so that both sides share the
       same edges.
    2. *Holes*: each remaining loop of boundary edges that is planar (every
       corner within `planar_tol` of its best-fit plane) and is not the
       outline of a single face (a free-standing face is not a hole) is
       capped with a polygon triangulated like the others, oriented to match
       its neighbours. A LoD1 block without its ground face, for instance,
       gets it back.

    Parameters
    ----------
    vertices : (v, 3) float
        Vertex coordinates [m].
    faces : (f, 3) int
        Triangles as vertex indices, counter-clockwise seen from outside.
    group : (f,) int, optional
        Shell (building) of each face; one shell by default.
    n : int, optional
        Number of shells; default ``group.max() + 1``.
    owner : (f,) int, optional
        Polygon each face comes from (see `Triangulation`), to recognise
        free-standing faces; without it every planar loop is capped.
    tol : float
        Distance within which a vertex is taken to lie on an edge [m].
    planar_tol : float
        Largest distance of a hole's corners from its plane for a cap [m].

    Returns
    -------
    ShellRepair
        The repaired faces and a status per shell.

    Notes
    -----
    Holes that are not planar (several missing walls meeting at a corner, a
    roof floating above the walls that carry it) are left open: capping them
    would need a guess at the missing geometry. Callers fall back to another
    estimate for those shells, e.g. footprint area x height. The repair loops
    over the open shells in Python, each step vectorised within a shell;
    closed shells, the common case, cost one vectorised edge count.

    Examples
    --------
    A cube without its bottom face is capped:

    >>> import trimesh
    >>> box = trimesh.creation.box()
    >>> top_only = box.faces[box.face_normals[:, 2] > -0.5]
    >>> fixed = close_shells(box.vertices, top_only)
    >>> volume = signed_volume(fixed.vertices, fixed.faces)
    >>> fixed.status.tolist(), round(float(volume[0]), 9)
    ([1], 1.0)
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    f = np.asarray(faces, dtype=np.intp).reshape(-1, 3)
    g, size = _groups(f.shape[0], group, n)
    own = (
        np.arange(f.shape[0], dtype=np.intp)
        if owner is None
        else np.asarray(owner, dtype=np.intp).reshape(-1)
    )
    open_edges = open_edge_counts(f, group=g, n=size)
    n_faces = np.bincount(g, minlength=size)
    status = np.where(n_faces > 0, _CLOSED, _EMPTY).astype(np.int8)
    status[(open_edges > 0) & (n_faces > 0)] = _OPEN

    out_v = v
    face_order = np.argsort(g, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(n_faces)])
    new_faces: list[_IntArray] = []
    new_group: list[_IntArray] = []
    new_source: list[_IntArray] = []
    for k in np.flatnonzero(status >= 0):
        idx = face_order[bounds[k] : bounds[k + 1]]
        fk, src = f[idx], idx
        if status[k] == _OPEN:
            repaired = _close_one(out_v, fk, own[idx], tol, planar_tol)
            if repaired is not None:
                out_v, fk, local_src = repaired
                src = np.where(local_src >= 0, idx[local_src.clip(min=0)], -1)
                status[k] = _REPAIRED
        if status[k] != _OPEN:
            vol = signed_volume(out_v, fk)[0]
            if vol < 0:
                fk = fk[:, ::-1]
                status[k] = _REPAIRED
        new_faces.append(fk)
        new_group.append(np.full(fk.shape[0], k, dtype=np.intp))
        new_source.append(np.asarray(src, dtype=np.intp))
    if new_faces:
        faces_out = np.concatenate(new_faces)
        group_out = np.concatenate(new_group)
        source_out = np.concatenate(new_source)
    else:
        faces_out = np.empty((0, 3), np.intp)
        group_out = source_out = np.empty(0, np.intp)
    return ShellRepair(out_v, faces_out, group_out, source_out, status, open_edges)


def _boundary(faces: _IntArray) -> _IntArray:
    """Unmatched directed edges ``(e, 2)`` of one shell, with multiplicity."""
    lo, hi, _, surplus = _edge_balance(faces, np.zeros(faces.shape[0], np.intp))
    fwd = surplus > 0
    back = surplus < 0
    return np.concatenate(
        [
            np.repeat(np.column_stack([lo[fwd], hi[fwd]]), surplus[fwd], axis=0),
            np.repeat(np.column_stack([hi[back], lo[back]]), -surplus[back], axis=0),
        ]
    )


def _split_t_junctions(
    v: _FloatArray, faces: _IntArray, source: _IntArray, tol: float
) -> tuple[_IntArray, _IntArray]:
    """Split faces whose boundary edges have boundary vertices lying on them."""
    for _ in range(16):
        edges = _boundary(faces)
        if edges.shape[0] == 0:
            break
        cand = np.unique(edges)
        a, b = v[edges[:, 0]], v[edges[:, 1]]
        ab = b - a
        length2 = np.einsum("ij,ij->i", ab, ab)
        rel = v[cand][None, :, :] - a[:, None, :]  # (e, m, 3)
        t = np.einsum("emk,ek->em", rel, ab) / length2.clip(min=1e-300)[:, None]
        dist = np.linalg.norm(rel - t[..., None] * ab[:, None, :], axis=2)
        on = (t > 1e-9) & (t < 1 - 1e-9) & (dist <= tol)
        if not on.any():
            break
        # Points to insert per undirected edge, ordered along lo -> hi.
        inserts: dict[tuple[int, int], list[int]] = {}
        for e, m in zip(*np.nonzero(on), strict=True):
            lo, hi = sorted((int(edges[e, 0]), int(edges[e, 1])))
            pts = inserts.setdefault((lo, hi), [])
            if int(cand[m]) not in pts:
                pts.append(int(cand[m]))
        out_f: list[list[int]] = []
        out_s: list[int] = []
        changed = False
        for face, s in zip(faces.tolist(), source.tolist(), strict=True):
            done = False
            for j in range(3):
                p, q, r = face[j], face[(j + 1) % 3], face[(j + 2) % 3]
                key = (min(p, q), max(p, q))
                if done or key not in inserts:
                    continue
                pts = inserts[key]
                d = v[q] - v[p]
                order = sorted(pts, key=lambda x: float(np.dot(v[x] - v[p], d)))
                chain = [p, *order, q]
                for x, y in itertools.pairwise(chain):
                    out_f.append([x, y, r])
                    out_s.append(s)
                done = changed = True
            if not done:
                out_f.append(face)
                out_s.append(s)
        faces = np.asarray(out_f, dtype=np.intp).reshape(-1, 3)
        source = np.asarray(out_s, dtype=np.intp)
        if not changed:
            break
    return faces, source


def _loops(edges: _IntArray) -> list[list[int]]:
    """Chain directed boundary edges into closed loops of vertices."""
    out: dict[int, list[int]] = {}
    for a, b in edges.tolist():
        out.setdefault(a, []).append(b)
    loops: list[list[int]] = []
    for start in list(out):
        while out.get(start):
            loop = [start]
            cur = start
            while True:
                nxt_list = out.get(cur)
                if not nxt_list:
                    return []  # an open chain: not a set of loops
                nxt = nxt_list.pop()
                if nxt == start:
                    break
                loop.append(nxt)
                cur = nxt
                if len(loop) > edges.shape[0]:
                    return []
            loops.append(loop)
    return loops


def _close_one(
    v: _FloatArray,
    faces: _IntArray,
    owner: _IntArray,
    tol: float,
    planar_tol: float,
) -> tuple[_FloatArray, _IntArray, _IntArray] | None:
    """Repair one open shell; None if it cannot be closed."""
    source = np.arange(faces.shape[0], dtype=np.intp)
    faces, source = _split_t_junctions(v, faces, source, tol)
    edges = _boundary(faces)
    if edges.shape[0] == 0:
        return v, faces, source
    loops = _loops(edges)
    if not loops:
        return None
    # The polygon owning each directed face edge, to spot free-standing faces.
    fe = np.stack([faces, np.roll(faces, -1, axis=1)], axis=2).reshape(-1, 2)
    fe_owner = np.repeat(owner[source], 3)
    edge_owner: dict[tuple[int, int], int] = {}
    for (a, b), o in zip(fe.tolist(), fe_owner.tolist(), strict=True):
        edge_owner.setdefault((a, b), o)
    caps: list[list[int]] = []
    for loop in loops:
        if len(loop) < 3:
            return None
        pts = v[loop]
        centred = pts - pts.mean(axis=0)
        normal = np.linalg.svd(centred, full_matrices=False)[2][-1]
        if np.abs(centred @ normal).max() > planar_tol:
            return None
        owners = {
            edge_owner.get((a, b), -1)
            for a, b in zip(loop, loop[1:] + loop[:1], strict=True)
        }
        if len(owners) == 1:
            return None  # the outline of one free-standing face
        caps.append(loop[::-1])
    rv = np.asarray([i for c in caps for i in c], dtype=np.intp)
    ro = np.concatenate([[0], np.cumsum([len(c) for c in caps])]).astype(np.intp)
    po = np.arange(len(caps) + 1, dtype=np.intp)
    tri = triangulate_rings(v, rv, ro, po)
    if tri.faces.shape[0] == 0:
        return None
    faces = np.concatenate([faces, tri.faces])
    source = np.concatenate([source, np.full(tri.faces.shape[0], -1, np.intp)])
    if not is_closed(faces)[0]:
        return None
    return tri.vertices, faces, source


# -- meshes ------------------------------------------------------------------------


def mesh_from_surfaces(
    polygons: npt.ArrayLike,
    *,
    group: npt.ArrayLike | None = None,
    n: int | None = None,
    semantic: npt.ArrayLike | None = None,
    repair: bool = False,
) -> list[trimesh.Trimesh | None]:
    """One triangle mesh per building from its 3D boundary surfaces.

    Parameters
    ----------
    polygons : (p,) shapely.Polygon
        Planar boundary surfaces with z [m], e.g. the twin's ``surfaces``
        layer. Vertices with equal coordinates are merged.
    group : (p,) int, optional
        Building (mesh) of each surface; one mesh by default.
    n : int, optional
        Number of meshes; default ``group.max() + 1``.
    semantic : (p,) int or str, optional
        Semantic code of each surface (`GROUND`, `WALL`, `ROOF`, `CLOSURE`,
        `OTHER`) or its name in `SEMANTIC_CODES`; `OTHER` by default.
    repair : bool
        Close open shells with `close_shells` where possible; added caps get
        the code `CLOSURE`.

    Returns
    -------
    list of trimesh.Trimesh or None
        ``n`` meshes (None where a building has no faces), not processed by
        trimesh, with ``face_attributes["semantic"]`` an ``(f,) int8`` array.

    Examples
    --------
    >>> import shapely
    >>> ground = shapely.Polygon([(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)])
    >>> [mesh] = mesh_from_surfaces([ground], semantic=["ground"])
    >>> mesh.face_attributes["semantic"].tolist()
    [0, 0]
    """
    geoms = np.asarray(polygons, dtype=object).reshape(-1)
    codes = _semantic_codes(semantic, geoms.shape[0])
    g_poly, size = _groups(geoms.shape[0], group, n)
    vertices, rv, ro, po, _ = _rings_of(geoms)
    tri = triangulate_rings(vertices, rv, ro, po)
    faces, fgroup = tri.faces, g_poly[tri.owner]
    face_codes = codes[tri.owner]
    verts = tri.vertices
    if repair:
        fixed = close_shells(verts, faces, group=fgroup, n=size, owner=tri.owner)
        verts, faces, fgroup = fixed.vertices, fixed.faces, fixed.group
        face_codes = np.where(
            fixed.source >= 0, face_codes[fixed.source.clip(min=0)], CLOSURE
        ).astype(np.int8)
    return _split_meshes(verts, faces, fgroup, face_codes, size)


def _semantic_codes(semantic: npt.ArrayLike | None, n: int) -> npt.NDArray[np.int8]:
    if semantic is None:
        return np.full(n, OTHER, dtype=np.int8)
    values = np.asarray(semantic).reshape(-1)
    if values.shape[0] != n:
        msg = f"semantic has {values.shape[0]} entries for {n} polygons"
        raise ValueError(msg)
    if values.dtype.kind in "iu":
        return values.astype(np.int8)
    out = np.full(n, OTHER, dtype=np.int8)
    for name, code in SEMANTIC_CODES.items():
        out[values == name] = code
    return out


def _split_meshes(
    vertices: _FloatArray,
    faces: _IntArray,
    group: _IntArray,
    codes: npt.NDArray[np.int8],
    n: int,
) -> list[trimesh.Trimesh | None]:
    order = np.argsort(group, kind="stable")
    faces, group, codes = faces[order], group[order], codes[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n))])
    meshes: list[trimesh.Trimesh | None] = []
    # The loop only wraps ready arrays, one mesh object per building.
    for k in range(n):
        fk = faces[bounds[k] : bounds[k + 1]]
        if fk.shape[0] == 0:
            meshes.append(None)
            continue
        used, local = np.unique(fk, return_inverse=True)
        meshes.append(
            trimesh.Trimesh(
                vertices=vertices[used],
                faces=local.reshape(-1, 3),
                face_attributes={"semantic": codes[bounds[k] : bounds[k + 1]]},
                process=False,
                validate=False,
            )
        )
    return meshes
