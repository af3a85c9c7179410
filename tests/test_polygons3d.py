"""Tests of geometry.polygons3d: triangulation, closure, volume and repair.

Tolerances: areas and volumes of exact inputs to rtol 1e-9 (float rounding of
coordinates up to 1e6 m); everything else is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import trimesh
from numpy.testing import assert_allclose
from shapely.geometry import Polygon

from geometry import polygons3d as P

RTOL = 1e-9

# A tetrahedron with outward faces, and a unit cube as six quads.
TET_VERTS = np.array([[0, 0, 0], [6, 0, 0], [0, 6, 0], [0, 0, 6]], float)
TET_FACES = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
CUBE_VERTS = np.array(
    [
        [0, 0, 0],
        [1, 0, 0],
        [1, 1, 0],
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 1],
        [1, 1, 1],
        [0, 1, 1],
    ],
    float,
)
CUBE_QUADS = [
    [0, 3, 2, 1],  # bottom, normal -z
    [4, 5, 6, 7],  # top
    [0, 1, 5, 4],
    [1, 2, 6, 5],
    [2, 3, 7, 6],
    [3, 0, 4, 7],
]


def rings_of(polys: list[list[list[int]]]) -> tuple[list[int], list[int], list[int]]:
    """Flatten polygons (lists of rings of vertex indices) to offsets."""
    rv: list[int] = []
    ro = [0]
    po = [0]
    for poly in polys:
        for ring in poly:
            rv.extend(ring)
            ro.append(len(rv))
        po.append(len(ro) - 1)
    return rv, ro, po


def tri_area(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    t = vertices[faces]
    return np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]) / 2


def rotation(seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))  # a proper rotation


def prism_surfaces(
    footprint: Polygon, z0: float, z1: float
) -> tuple[list[Polygon], list[str]]:
    """PolygonZ surfaces (outward) of a prism over a footprint with holes."""
    fp = shapely.orient_polygons(footprint)
    rings = [np.asarray(fp.exterior.coords)[:-1]] + [
        np.asarray(r.coords)[:-1] for r in fp.interiors
    ]

    def lift(ring: np.ndarray, z: float) -> np.ndarray:
        return np.column_stack([ring, np.full(len(ring), z)])

    roof = Polygon(lift(rings[0], z1), [lift(r, z1) for r in rings[1:]])
    ground = Polygon(lift(rings[0][::-1], z0), [lift(r[::-1], z0) for r in rings[1:]])
    walls = []
    for ring in rings:
        for j in range(len(ring)):
            p, q = ring[j], ring[(j + 1) % len(ring)]
            walls.append(Polygon([(*p, z0), (*q, z0), (*q, z1), (*p, z1)]))
    return [ground, *walls, roof], ["ground"] + ["wall"] * len(walls) + ["roof"]


# -- constants ---------------------------------------------------------------------


def test_semantic_codes_match_geometry_mesh() -> None:
    mesh = pytest.importorskip("geometry.mesh")
    assert (P.GROUND, P.WALL, P.ROOF) == (mesh.GROUND, mesh.WALL, mesh.ROOF)
    assert mesh.UNKNOWN == P.OTHER
    assert P.CLOSURE not in (mesh.GROUND, mesh.WALL, mesh.ROOF, mesh.UNKNOWN)


# -- newell normals and triangulation ----------------------------------------------


def test_newell_normal_is_area_vector_of_tilted_polygon() -> None:
    square = np.array([[0, 0, 0], [3, 0, 0], [3, 2, 0], [0, 2, 0]], float)
    r = rotation(1)
    pts = square @ r.T + [1e6, 4e6, 30.0]  # far from the origin
    n = P.newell_normals(pts, [0, 1, 2, 3], [0, 4])
    assert_allclose(n[0], 6.0 * r[:, 2], rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_triangulation_of_tilted_polygon_with_hole(seed: int) -> None:
    outer = [(0, 0), (10, 0), (10, 6), (4, 6), (4, 9), (0, 9)]  # non-convex
    hole = [(1, 1), (1, 3), (3, 3), (3, 1)]  # same orientation as outer
    flat = Polygon(outer, [hole])
    r = rotation(seed)
    pts2 = np.array(outer + hole, float)
    pts = np.column_stack([pts2, np.zeros(len(pts2))]) @ r.T + [5e5, 4.4e6, 12.0]
    rv, ro, po = rings_of([[list(range(6)), list(range(6, 10))]])
    tri = P.triangulate_rings(pts, rv, ro, po)
    a = tri_area(tri.vertices, tri.faces)
    normal = r[:, 2]
    # Every triangle faces along the Newell normal; the areas add up to the
    # polygon's, and no vertex is added.
    assert_allclose((a @ normal).sum(), flat.area, rtol=RTOL)
    assert np.all(a @ normal > 0)
    assert tri.vertices.shape == pts.shape
    assert set(np.unique(tri.faces)) == set(range(10))
    assert np.all(tri.owner == 0)


def test_triangulation_keeps_orientation_per_polygon() -> None:
    rv, ro, po = rings_of([[q] for q in CUBE_QUADS])
    tri = P.triangulate_rings(CUBE_VERTS, rv, ro, po)
    assert tri.faces.shape == (12, 3)
    assert np.bincount(tri.owner).tolist() == [2] * 6
    assert P.is_closed(tri.faces).tolist() == [True]
    assert_allclose(P.signed_volume(tri.vertices, tri.faces), [1.0], rtol=RTOL)


def test_degenerate_polygons_give_no_triangles() -> None:
    v = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]], float)
    polys = [
        [[0, 1]],  # two corners
        [[0, 1, 2]],  # collinear: no area
        [[0, 0, 1, 1]],  # repeated corners
        [[0, 1, 3]],  # a real triangle
    ]
    rv, ro, po = rings_of(polys)
    tri = P.triangulate_rings(v, rv, ro, po)
    assert tri.owner.tolist() == [3]
    out = P.polygons_from_rings(v, rv, ro, po)
    assert [g is None for g in out] == [True, False, True, False]


def test_invalid_polygon_is_triangulated_after_make_valid() -> None:
    # An uneven bow-tie: make_valid splits it where the edges cross, at
    # (8/3, 4/3), which becomes a new vertex lifted to the plane.
    xy = [(0, 0), (4, 2), (4, 0), (0, 4)]
    v = np.array([(x, y, 5.0) for x, y in xy])
    tri = P.triangulate_rings(v, [0, 1, 2, 3], [0, 4], [0, 1])
    assert tri.vertices.shape == (5, 3)
    assert_allclose(tri.vertices[4], [8 / 3, 4 / 3, 5], atol=1e-12)
    area = np.abs(tri_area(tri.vertices, tri.faces)[:, 2]).sum()
    assert_allclose(area, shapely.make_valid(Polygon(xy)).area, rtol=RTOL)
    # A symmetric bow-tie has no net area (its Newell normal is zero).
    v[1, 1], v[3, 1] = 4, 4
    assert P.triangulate_rings(v, [0, 1, 2, 3], [0, 4], [0, 1]).faces.size == 0


def test_triangulate_polygons_merges_equal_vertices() -> None:
    polys = [Polygon(CUBE_VERTS[q]) for q in CUBE_QUADS]
    tri = P.triangulate_polygons([*polys, None, shapely.Point(0, 0)])
    assert tri.vertices.shape == (8, 3)
    assert P.is_closed(tri.faces).tolist() == [True]
    assert_allclose(P.signed_volume(tri.vertices, tri.faces), [1.0], rtol=RTOL)


# -- closure and volume ------------------------------------------------------------


def test_open_edge_counts() -> None:
    assert P.open_edge_counts(TET_FACES).tolist() == [0]
    assert P.open_edge_counts(TET_FACES[:3]).tolist() == [3]
    flipped = TET_FACES.copy()
    flipped[0] = flipped[0, ::-1]
    # Each of the flipped face's edges is used twice in one direction.
    assert P.open_edge_counts(flipped).tolist() == [6]


def test_closure_is_judged_per_group() -> None:
    # Two tetrahedra sharing the vertex indices: each closed on its own.
    faces = np.concatenate([TET_FACES, TET_FACES[:3]])
    group = [0] * 4 + [1] * 3
    assert P.is_closed(faces, group=group, n=3).tolist() == [True, False, False]
    # Two open halves that only close together are still open each.
    assert P.is_closed(TET_FACES, group=[0, 0, 1, 1]).tolist() == [False, False]


def test_volume_does_not_depend_on_origin_for_closed_shells() -> None:
    far = TET_VERTS + np.array([6.5e5, 4.4e6, 20.0])
    for origin in (None, far.min(axis=0), far.max(axis=0), [6e5, 4e6, 0.0]):
        assert_allclose(
            P.signed_volume(far, TET_FACES, origin=origin), [36.0], rtol=1e-8
        )


def test_volume_of_open_shell_depends_on_origin() -> None:
    # Why open shells must be detected: the sum is not a volume.
    v0 = P.signed_volume(TET_VERTS, TET_FACES[:3], origin=[0, 0, 0])
    v1 = P.signed_volume(TET_VERTS, TET_FACES[:3], origin=[-10, 0, 0])
    assert abs(v0[0] - v1[0]) > 1.0


def test_volume_matches_trimesh() -> None:
    mesh = trimesh.creation.icosphere(subdivisions=2)
    vol = P.signed_volume(mesh.vertices, mesh.faces)
    assert_allclose(vol, [mesh.volume], rtol=RTOL)


# -- repair -------------------------------------------------------------------------


def box_without_bottom() -> tuple[np.ndarray, np.ndarray]:
    box = trimesh.creation.box(extents=(4, 3, 2))
    keep = box.face_normals[:, 2] > -0.5
    return np.asarray(box.vertices), np.asarray(box.faces)[keep]


def test_close_shells_caps_a_missing_ground() -> None:
    v, f = box_without_bottom()
    fixed = P.close_shells(v, f)
    assert fixed.status.tolist() == [1]
    assert fixed.open_edges.tolist() == [4]
    assert P.is_closed(fixed.faces).tolist() == [True]
    assert_allclose(P.signed_volume(fixed.vertices, fixed.faces), [24.0], rtol=RTOL)
    caps = fixed.faces[fixed.source < 0]
    assert_allclose(tri_area(fixed.vertices, caps).sum(axis=0), [0, 0, -12.0])


def test_close_shells_caps_non_convex_holes() -> None:
    # An L-shaped block with a courtyard, without its ground: a fan would get
    # this wrong, a constrained triangulation of the hole does not.
    fp = Polygon(
        [(0, 0), (20, 0), (20, 8), (8, 8), (8, 20), (0, 20)],
        [[(2, 2), (5, 2), (5, 5), (2, 5)]],
    )
    surfaces, semantic = prism_surfaces(fp, 3.0, 12.0)
    tri = P.triangulate_polygons(surfaces[1:])  # no ground
    fixed = P.close_shells(tri.vertices, tri.faces, owner=tri.owner)
    assert fixed.status.tolist() == [1]
    assert_allclose(
        P.signed_volume(fixed.vertices, fixed.faces), [fp.area * 9.0], rtol=RTOL
    )
    assert semantic[0] == "ground"


def test_close_shells_splits_t_junctions() -> None:
    # A box whose front wall is split in two along x, while the roof and the
    # ground keep their long edges: the wall's middle vertices are T-junctions.
    v = np.array(
        [
            [0, 0, 0], [4, 0, 0], [4, 3, 0], [0, 3, 0],
            [0, 0, 2], [4, 0, 2], [4, 3, 2], [0, 3, 2],
            [2, 0, 0], [2, 0, 2],
        ],
        float,
    )  # fmt: skip
    polys = [
        [[0, 3, 2, 1]],
        [[4, 5, 6, 7]],
        [[0, 8, 9, 4]],
        [[8, 1, 5, 9]],  # the split front wall
        [[1, 2, 6, 5]],
        [[2, 3, 7, 6]],
        [[3, 0, 4, 7]],
    ]
    tri = P.triangulate_rings(v, *rings_of(polys))
    assert P.is_closed(tri.faces).tolist() == [False]
    fixed = P.close_shells(tri.vertices, tri.faces, owner=tri.owner)
    assert fixed.status.tolist() == [1]
    assert (fixed.source < 0).sum() == 0  # no cap needed
    assert_allclose(P.signed_volume(fixed.vertices, fixed.faces), [24.0], rtol=RTOL)


def test_close_shells_does_not_cap_a_free_standing_face() -> None:
    # A closed box plus a roof plate floating above it: the plate's outline is
    # not a hole, so the shell stays open (and keeps its faces).
    box = trimesh.creation.box(extents=(2, 2, 2))
    plate = np.array(
        [[-1.5, -1.5, 1.5], [1.5, -1.5, 1.5], [1.5, 1.5, 1.5], [-1.5, 1.5, 1.5]]
    )
    v = np.concatenate([box.vertices, plate])
    n = len(box.vertices)
    faces = np.concatenate([box.faces, [[n, n + 1, n + 2], [n, n + 2, n + 3]]])
    owner = np.concatenate([np.arange(len(box.faces)), [99, 99]])
    fixed = P.close_shells(v, faces, owner=owner)
    assert fixed.status.tolist() == [2]
    assert fixed.faces.shape == faces.shape


def test_close_shells_leaves_non_planar_holes_open() -> None:
    # Two adjacent walls missing: the hole bends around a corner.
    box = trimesh.creation.box(extents=(4, 3, 2))
    n = box.face_normals
    keep = ~((n[:, 0] > 0.5) | (n[:, 1] > 0.5))
    fixed = P.close_shells(box.vertices, box.faces[keep])
    assert fixed.status.tolist() == [2]


def test_close_shells_turns_inside_out_shells() -> None:
    box = trimesh.creation.box(extents=(4, 3, 2))
    fixed = P.close_shells(box.vertices, box.faces[:, ::-1])
    assert fixed.status.tolist() == [1]
    assert_allclose(P.signed_volume(fixed.vertices, fixed.faces), [24.0], rtol=RTOL)


def test_close_shells_statuses_per_group() -> None:
    v, open_f = box_without_bottom()
    box = trimesh.creation.box(extents=(4, 3, 2))
    faces = np.concatenate([box.faces, open_f])
    group = np.r_[np.zeros(len(box.faces), int), np.full(len(open_f), 2)]
    fixed = P.close_shells(v, faces, group=group, n=4)
    assert fixed.status.tolist() == [0, -1, 1, -1]
    vol = P.signed_volume(fixed.vertices, fixed.faces, group=fixed.group, n=4)
    assert_allclose(vol, [24.0, 0.0, 24.0, 0.0], rtol=RTOL)


# -- meshes ------------------------------------------------------------------------


def test_mesh_from_surfaces_per_building_with_semantics() -> None:
    a, sem_a = prism_surfaces(shapely.box(0, 0, 10, 6), 0.0, 3.0)
    b, sem_b = prism_surfaces(shapely.box(20, 0, 25, 5), 1.0, 5.0)
    polys = a + b
    group = [0] * len(a) + [2] * len(b)
    meshes = P.mesh_from_surfaces(polys, group=group, n=3, semantic=sem_a + sem_b)
    assert meshes[1] is None
    m0, m2 = meshes[0], meshes[2]
    assert m0 is not None and m2 is not None
    assert_allclose([m0.volume, m2.volume], [180.0, 100.0], rtol=RTOL)
    assert m0.is_watertight and m0.is_winding_consistent
    codes = m0.face_attributes["semantic"]
    assert codes.dtype == np.int8
    normals_z = m0.face_normals[:, 2]
    assert np.all(normals_z[codes == P.ROOF] > 0.99)
    assert np.all(normals_z[codes == P.GROUND] < -0.99)
    assert np.all(np.abs(normals_z[codes == P.WALL]) < 1e-9)


def test_mesh_from_surfaces_repair_marks_caps_as_closure() -> None:
    surfaces, semantic = prism_surfaces(shapely.box(0, 0, 10, 6), 0.0, 3.0)
    [mesh] = P.mesh_from_surfaces(surfaces[1:], semantic=semantic[1:], repair=True)
    assert mesh is not None
    assert_allclose(mesh.volume, 180.0, rtol=RTOL)
    codes = mesh.face_attributes["semantic"]
    assert set(codes.tolist()) == {P.WALL, P.ROOF, P.CLOSURE}
    assert np.all(mesh.face_normals[codes == P.CLOSURE, 2] < -0.99)


def test_mesh_from_surfaces_rejects_mismatched_semantics() -> None:
    surfaces, _ = prism_surfaces(shapely.box(0, 0, 1, 1), 0.0, 1.0)
    with pytest.raises(ValueError, match="semantic has 1 entries"):
        P.mesh_from_surfaces(surfaces, semantic=["roof"])
