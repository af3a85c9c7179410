"""Tests for :mod:`geometry.mesh` (LoD1 extrusion) and :mod:`geometry.measure`.

Expected values are computed by hand in each test from the footprint's edge
lengths; the meshes are checked against them, against trimesh's own
measures and against shapely.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from shapely.geometry import MultiPolygon, Polygon, box

from geometry.measure import (
    ORIENTATION_KEYS,
    footprint_area,
    is_closed,
    mesh_volume,
    surface_areas_by_orientation,
)
from geometry.mesh import (
    GROUND,
    ROOF,
    SEMANTICS,
    UNKNOWN,
    WALL,
    MeshArrays,
    combine,
    extrude,
    extrude_arrays,
)

#: Tolerances for areas [m2] and volumes [m3] computed two ways.
AREA_RTOL, AREA_ATOL = 1e-9, 1e-6
VOLUME_RTOL, VOLUME_ATOL = AREA_RTOL, AREA_ATOL
#: Projected coordinates like the test district's (UTM 50N, near Beijing).
X0, Y0 = 440_000.0, 4_428_000.0

# An L-shaped block with a 6 x 4 m courtyard, anticlockwise from the origin:
#
#   (0,30) +-----+ (12,30)
#          |     |
#          |     +-----------+ (30,12)
#          |  [ ]            |        courtyard [ ]: x 3..9, y 4..8
#   (0,0)  +-----------------+ (30,0)
L_SHELL = [(0, 0), (30, 0), (30, 12), (12, 12), (12, 30), (0, 30)]
L_HOLE = [(3, 4), (9, 4), (9, 8), (3, 8)]
L_AREA = 30 * 12 + 12 * 18 - 6 * 4  # 552 m2
L_HEIGHT = 18.0
# Wall lengths [m] by the way they face. Exterior: the 30 m south side, the
# 12 m east end of the wing, the 18 m north side of the wing, the 18 m east
# side of the tower, its 12 m north end and the 30 m west side. Courtyard:
# its walls face into it, so its south wall (y = 4, 6 m) faces north, its
# north wall faces south, its west wall (x = 3, 4 m) faces east, and so on.
L_WALL_LENGTH = {
    "wall_N": 18 + 12 + 6,
    "wall_E": 12 + 18 + 4,
    "wall_S": 30 + 6,
    "wall_W": 30 + 4,
}


def l_block(dx: float = 0.0, dy: float = 0.0) -> Polygon:
    return shapely.transform(
        Polygon(L_SHELL, [L_HOLE]), lambda c: c + np.array([dx, dy])
    )


def expected_l_areas(height: float = L_HEIGHT) -> dict[str, float]:
    out = {k: v * height for k, v in L_WALL_LENGTH.items()}
    out["roof"] = out["ground"] = L_AREA
    return out


def assert_areas(actual, expected, i=0):
    assert set(actual) == set(ORIENTATION_KEYS)
    for key in ORIENTATION_KEYS:
        assert_allclose(
            actual[key][i], expected[key], rtol=AREA_RTOL, atol=AREA_ATOL, err_msg=key
        )


def face_centroids_normals(mesh):
    return mesh.triangles_center, mesh.face_normals


# ---------------------------------------------------------------------------
# The L-shaped block with a courtyard, by hand
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [(0.0, 0.0), (X0, Y0)], ids=["origin", "utm"])
def test_l_block_volume_and_areas(origin):
    footprint = l_block(*origin)
    (mesh,) = extrude([footprint], [L_HEIGHT])

    assert mesh.is_watertight
    assert mesh.is_winding_consistent
    assert_array_equal(is_closed([mesh]), [True])
    volume = L_AREA * L_HEIGHT  # 9936 m3
    assert_allclose(mesh_volume([mesh]), [volume], rtol=VOLUME_RTOL, atol=VOLUME_ATOL)
    # trimesh agrees, and its signed volume is positive: normals point out.
    assert_allclose(mesh.volume, volume, rtol=1e-6)
    assert mesh.volume > 0
    assert_areas(surface_areas_by_orientation([mesh]), expected_l_areas())
    assert_allclose(footprint_area([footprint]), [L_AREA], rtol=AREA_RTOL)


def test_l_block_faces_and_semantics():
    footprint = l_block()
    (mesh,) = extrude([footprint], [L_HEIGHT], base_z=[50.0])
    semantic = mesh.face_attributes["semantic"]
    assert semantic.dtype == np.int8
    assert semantic.shape == (len(mesh.faces),)
    assert SEMANTICS[GROUND] == "ground"
    assert SEMANTICS[WALL] == "wall"
    assert SEMANTICS[ROOF] == "roof"
    # 6 + 4 edges -> 10 walls of two triangles; caps of n + 2h - 2 triangles.
    assert (semantic == WALL).sum() == 20
    assert (semantic == ROOF).sum() == (semantic == GROUND).sum() == 10 + 2 - 2
    # Faces come ground, walls, roof.
    assert_array_equal(np.diff(semantic) >= 0, True)

    centre, normal = face_centroids_normals(mesh)
    roof, ground, wall = (semantic == c for c in (ROOF, GROUND, WALL))
    assert_allclose(normal[roof], [[0, 0, 1]] * roof.sum(), atol=1e-12)
    assert_allclose(centre[roof, 2], 50 + L_HEIGHT)
    assert_allclose(normal[ground], [[0, 0, -1]] * ground.sum(), atol=1e-12)
    assert_allclose(centre[ground, 2], 50.0)
    assert_allclose(normal[wall, 2], 0.0, atol=1e-12)
    # Each wall's normal points away from the building: a step along it from
    # the face centre leaves the footprint, a step back enters it.
    eps = 1e-3
    out = centre[wall, :2] + eps * normal[wall, :2]
    back = centre[wall, :2] - eps * normal[wall, :2]
    assert not shapely.contains_xy(footprint, out[:, 0], out[:, 1]).any()
    assert shapely.contains_xy(footprint, back[:, 0], back[:, 1]).all()
    assert_allclose(mesh.bounds, [[0, 0, 50], [30, 30, 50 + L_HEIGHT]])


def test_l_block_orientation_of_input_does_not_matter():
    footprint = l_block()
    reversed_ = footprint.reverse()  # exterior clockwise, hole anticlockwise
    assert shapely.is_ccw(footprint.exterior) != shapely.is_ccw(reversed_.exterior)
    meshes = extrude([footprint, reversed_], [L_HEIGHT, L_HEIGHT])
    assert_array_equal(is_closed(meshes), [True, True])
    assert_allclose(mesh_volume(meshes), [L_AREA * L_HEIGHT] * 2, rtol=VOLUME_RTOL)
    areas = surface_areas_by_orientation(meshes)
    assert_areas(areas, expected_l_areas(), i=0)
    assert_areas(areas, expected_l_areas(), i=1)


def test_extrude_arrays_matches_extrude():
    footprints = [l_block(), None, box(40, 0, 50, 10)]
    heights = [L_HEIGHT, 3.0, 4.0]
    arrays = extrude_arrays(footprints, heights)
    assert isinstance(arrays, MeshArrays)
    meshes = extrude(footprints, heights)
    assert arrays.n == 3
    assert arrays.vertices.shape == (sum(len(m.vertices) for m in meshes if m), 3)
    assert_array_equal(
        arrays.building, np.repeat([0, 2], [len(meshes[0].faces), len(meshes[2].faces)])
    )
    mesh = trimesh.Trimesh(arrays.vertices, arrays.faces, process=False)
    assert_allclose(mesh.volume, L_AREA * L_HEIGHT + 400.0, rtol=1e-9)
    # The measures take the arrays as they take the meshes.
    assert_allclose(mesh_volume(arrays), mesh_volume(meshes), rtol=1e-12)
    assert_array_equal(is_closed(arrays), [True, False, True])
    by_arrays = surface_areas_by_orientation(arrays)
    by_meshes = surface_areas_by_orientation(meshes)
    for key in ORIENTATION_KEYS:
        assert_allclose(by_arrays[key], by_meshes[key], rtol=1e-12, err_msg=key)


# ---------------------------------------------------------------------------
# Other footprints and missing input
# ---------------------------------------------------------------------------


def test_multipolygon():
    footprint = MultiPolygon([box(0, 0, 10, 6), box(20, 0, 24, 5, ccw=False)])
    (mesh,) = extrude([footprint], [3.0])
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert len(mesh.split(only_watertight=True)) == 2
    assert_allclose(mesh_volume([mesh]), [(60 + 20) * 3.0], rtol=VOLUME_RTOL)
    areas = surface_areas_by_orientation([mesh])
    expected = {
        "wall_N": (10 + 4) * 3.0,
        "wall_S": (10 + 4) * 3.0,
        "wall_E": (6 + 5) * 3.0,
        "wall_W": (6 + 5) * 3.0,
        "roof": 80.0,
        "ground": 80.0,
    }
    assert_areas(areas, expected)


def test_mixed_batch_with_missing_entries():
    footprints = np.array(
        [
            box(0, 0, 10, 6),
            None,
            Polygon(),
            box(0, 0, 1, 1),
            box(0, 0, 1, 1),
            box(0, 0, 1, 1),
            MultiPolygon([box(0, 0, 2, 2)]),
            box(0, 0, 2, 1),
        ],
        dtype=object,
    )
    heights = [3.0, 3.0, 3.0, np.nan, 0.0, -1.0, 2.0, 5.0]
    base_z = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 10.0, np.nan]
    meshes = extrude(footprints, heights, base_z=base_z)
    assert len(meshes) == len(footprints)
    present = [m is not None for m in meshes]
    assert present == [True, False, False, False, False, False, True, False]
    expected_volume = [180.0] + [np.nan] * 5 + [8.0, np.nan]
    assert_allclose(mesh_volume(meshes), expected_volume, rtol=VOLUME_RTOL)
    assert_array_equal(is_closed(meshes), present)
    areas = surface_areas_by_orientation(meshes)
    assert_allclose(areas["roof"], [60.0] + [np.nan] * 5 + [4.0, np.nan])
    assert_allclose(areas["wall_E"], [18.0] + [np.nan] * 5 + [4.0, np.nan])
    assert meshes[6].bounds[0, 2] == 10.0
    assert_allclose(footprint_area(footprints)[:3], [60.0, np.nan, 0.0])


def test_empty_batch():
    assert extrude([], []) == []
    arrays = extrude_arrays([], [])
    assert arrays.vertices.shape == (0, 3)
    assert arrays.faces.shape == (0, 3)
    assert mesh_volume([]).shape == (0,)
    assert surface_areas_by_orientation([])["roof"].shape == (0,)
    assert extrude([None], [3.0]) == [None]


def test_non_polygon_raises():
    with pytest.raises(ValueError, match="Polygons or MultiPolygons; item 1 is a"):
        extrude([box(0, 0, 1, 1), shapely.Point(0, 0)], [3.0, 3.0])


def test_repeated_and_collinear_points_stay_watertight():
    footprint = Polygon(
        [(0, 0), (5, 0), (5, 0), (10, 0), (10, 6), (10, 6), (0, 6), (0, 3), (0, 0)]
    )
    (mesh,) = extrude([footprint], [3.0])
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert_allclose(mesh_volume([mesh]), [180.0], rtol=VOLUME_RTOL)
    areas = surface_areas_by_orientation([mesh])
    assert_allclose([areas[k][0] for k in ORIENTATION_KEYS[:4]], [30, 18, 30, 18])


@pytest.mark.parametrize(
    ("ring", "expected"),
    [
        # Right triangles whose hypotenuse faces exactly a bin boundary: 45°
        # is east, 135° south, 225° west and 315° north (bins are [a, b)).
        ([(0, 0), (10, 0), (0, 10)], {"wall_E": 10 * math.sqrt(2), "wall_S": 10,
                                      "wall_W": 10}),
        ([(0, 0), (10, 10), (0, 10)], {"wall_S": 10 * math.sqrt(2), "wall_N": 10,
                                       "wall_W": 10}),
        ([(10, 0), (10, 10), (0, 10)], {"wall_W": 10 * math.sqrt(2), "wall_E": 10,
                                        "wall_N": 10}),
        ([(0, 0), (10, 0), (10, 10)], {"wall_N": 10 * math.sqrt(2), "wall_S": 10,
                                       "wall_E": 10}),
    ],
    ids=["45-east", "135-south", "225-west", "315-north"],
)  # fmt: skip
def test_orientation_bin_boundaries(ring, expected):
    (mesh,) = extrude([Polygon(ring)], [2.0])
    areas = surface_areas_by_orientation([mesh])
    for key in ORIENTATION_KEYS[:4]:
        assert_allclose(
            areas[key][0],
            2.0 * expected.get(key, 0.0),
            rtol=AREA_RTOL,
            atol=AREA_ATOL,
            err_msg=key,
        )


@pytest.mark.parametrize(
    ("north_angle_deg", "expected"),
    [
        # True north along grid +x: the east wall (grid azimuth 90°) faces
        # true north, the north wall (0°) faces true west.
        (90.0, {"wall_N": 18.0, "wall_E": 30.0, "wall_S": 18.0, "wall_W": 30.0}),
        (-90.0, {"wall_N": 18.0, "wall_E": 30.0, "wall_S": 18.0, "wall_W": 30.0}),
        (30.0, {"wall_N": 30.0, "wall_E": 18.0, "wall_S": 30.0, "wall_W": 18.0}),
        (50.0, {"wall_N": 18.0, "wall_E": 30.0, "wall_S": 18.0, "wall_W": 30.0}),
    ],
)
def test_north_angle(north_angle_deg, expected):
    # A 10 x 6 m box, 3 m high: east and west walls 6 x 3 = 18 m2, north and
    # south walls 10 x 3 = 30 m2. A turn of 30° keeps each wall in its bin.
    (mesh,) = extrude([box(0, 0, 10, 6)], [3.0])
    areas = surface_areas_by_orientation([mesh], north_angle_deg=north_angle_deg)
    for key, value in expected.items():
        assert_allclose(areas[key][0], value, rtol=AREA_RTOL, err_msg=key)


def test_north_angle_tells_east_from_west():
    # A right triangle whose hypotenuse faces grid azimuth 45° (north-east).
    (mesh,) = extrude([Polygon([(0, 0), (10, 0), (0, 10)])], [1.0])
    hyp = 10 * math.sqrt(2)
    # True north at grid 20°: the hypotenuse faces true 25° -> N.
    areas = surface_areas_by_orientation([mesh], north_angle_deg=20.0)
    assert_allclose(areas["wall_N"][0], hyp, rtol=AREA_RTOL)
    # True north at grid -20°: the hypotenuse faces true 65° -> E.
    areas = surface_areas_by_orientation([mesh], north_angle_deg=-20.0)
    assert_allclose(areas["wall_E"][0], hyp, rtol=AREA_RTOL)


# ---------------------------------------------------------------------------
# Meshes not made here: normals, LoD2 roofs, open meshes, combine
# ---------------------------------------------------------------------------


def gable_house(ridge_rise: float) -> trimesh.Trimesh:
    """A 10 x 6 m house, eaves at 3 m, ridge along x at y = 3, as a hull."""
    eaves = [(0, 0, 3), (10, 0, 3), (10, 6, 3), (0, 6, 3)]
    ground = [(x, y, 0) for x, y, _ in eaves]
    ridge = [(0, 3, 3 + ridge_rise), (10, 3, 3 + ridge_rise)]
    return trimesh.convex.convex_hull(np.array(ground + eaves + ridge, float))


def test_lod2_gable_roof_by_normals():
    mesh = gable_house(2.0)
    assert "semantic" not in mesh.face_attributes
    slope = math.hypot(3.0, 2.0)
    # Volume: a 10 x 6 x 3 box and a prism of 10 m on a 6 x 2 m triangle.
    assert_allclose(mesh_volume([mesh]), [180.0 + 60.0], rtol=VOLUME_RTOL)
    expected = {
        "wall_N": 30.0,
        "wall_S": 30.0,
        "wall_E": 6 * 3 + 6 * 2 / 2,  # gable end: rectangle and triangle
        "wall_W": 6 * 3 + 6 * 2 / 2,
        "roof": 2 * 10 * slope,
        "ground": 60.0,
    }
    assert_areas(surface_areas_by_orientation([mesh]), expected)


def test_steep_roof_counts_as_wall_within_tolerance():
    # Roof planes rise 30 m over 3 m: their normals are atan(3/30) = 5.7°
    # off horizontal, so within the default 10° they count as walls.
    mesh = gable_house(30.0)
    slope = math.hypot(3.0, 30.0)
    by_default = surface_areas_by_orientation([mesh])
    assert_allclose(by_default["roof"][0], 0.0, atol=AREA_ATOL)
    assert_allclose(by_default["wall_N"][0], 30.0 + 10 * slope, rtol=AREA_RTOL)
    strict = surface_areas_by_orientation([mesh], wall_tol_deg=5.0)
    assert_allclose(strict["roof"][0], 2 * 10 * slope, rtol=AREA_RTOL)
    assert_allclose(strict["wall_N"][0], 30.0, rtol=AREA_RTOL)


def test_semantics_take_precedence_over_normals():
    (mesh,) = extrude([box(0, 0, 10, 6)], [3.0])
    semantic = mesh.face_attributes["semantic"].copy()
    # Call the roof a wall: with no horizontal normal it is in no wall bin.
    relabelled = trimesh.Trimesh(
        mesh.vertices,
        mesh.faces,
        process=False,
        face_attributes={"semantic": np.where(semantic == ROOF, WALL, semantic)},
    )
    unknown = trimesh.Trimesh(
        mesh.vertices,
        mesh.faces,
        process=False,
        face_attributes={"semantic": np.full_like(semantic, UNKNOWN)},
    )
    # Another code (a reader's closure surface, say) counts nowhere.
    closure = trimesh.Trimesh(
        mesh.vertices, mesh.faces, process=False,
        face_attributes={"semantic": np.where(semantic == ROOF, 3, semantic)},
    )  # fmt: skip
    areas = surface_areas_by_orientation([mesh, relabelled, unknown, closure])
    assert_allclose(areas["roof"], [60.0, 0.0, 60.0, 0.0])
    assert_allclose(areas["wall_N"], [30.0, 30.0, 30.0, 30.0])
    assert_allclose(mesh_volume([closure]), [180.0])


def test_open_and_inverted_meshes():
    (mesh,) = extrude([box(0, 0, 10, 6)], [3.0])
    open_ = trimesh.Trimesh(mesh.vertices, mesh.faces[:-1], process=False)
    flipped = mesh.faces.copy()
    flipped[0] = flipped[0, ::-1]
    inconsistent = trimesh.Trimesh(mesh.vertices, flipped, process=False)
    inverted = trimesh.Trimesh(mesh.vertices, mesh.faces[:, ::-1], process=False)
    unmerged = trimesh.Trimesh(
        mesh.vertices[mesh.faces].reshape(-1, 3),
        np.arange(3 * len(mesh.faces)).reshape(-1, 3),
        process=False,
    )
    meshes = [mesh, open_, inconsistent, inverted, unmerged]
    assert_array_equal(is_closed(meshes), [True, False, False, True, False])
    # On manifold meshes, closed is trimesh's watertight and consistent.
    assert [m.is_watertight and m.is_winding_consistent for m in meshes] == list(
        is_closed(meshes)
    )
    assert_allclose(
        mesh_volume(meshes), [180.0, np.nan, np.nan, -180.0, np.nan], rtol=1e-12
    )
    unmerged.merge_vertices()
    assert_allclose(mesh_volume([unmerged]), [180.0], rtol=1e-12)


def test_courtyard_touching_the_outline_at_a_corner():
    # Valid: the triangular courtyard touches the outline at (0, 0). Four wall
    # faces meet on the vertical edge there; the solid is still closed.
    footprint = Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(0, 0), (4, 2), (2, 4)]]
    )
    assert footprint.is_valid
    (mesh,) = extrude([footprint], [3.0])
    assert not mesh.is_watertight  # trimesh wants exactly two faces per edge
    assert_array_equal(is_closed([mesh]), [True])
    assert_allclose(mesh_volume([mesh]), [footprint.area * 3.0], rtol=VOLUME_RTOL)


def test_parts_touching_at_a_corner_are_closed_shells():
    footprint = MultiPolygon([box(0, 0, 1, 1), box(1, 1, 2, 2)])
    (mesh,) = extrude([footprint], [3.0])
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert_allclose(mesh_volume([mesh]), [6.0], rtol=VOLUME_RTOL)


def test_courtyard_touching_an_outline_edge_is_not_closed():
    # Known limitation: the courtyard touches the west wall at (0, 5), which
    # is no vertex of the outline, so the caps have a vertex the walls lack.
    footprint = Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(0, 5), (3, 4), (3, 6)]]
    )
    assert footprint.is_valid
    meshes = extrude([footprint], [3.0])
    assert_array_equal(is_closed(meshes), [False])
    assert_array_equal(np.isnan(mesh_volume(meshes)), [True])
    # Adding the vertex to the outline mends it.
    mended = Polygon([(0, 0), (10, 0), (10, 10), (0, 10), (0, 5)], footprint.interiors)
    assert_allclose(mesh_volume(extrude([mended], [3.0])), [footprint.area * 3.0])


def test_hash_collisions_fall_back_to_lexsort(monkeypatch):
    import geometry.mesh

    footprints = [l_block(), MultiPolygon([box(0, 0, 1, 1), box(1, 1, 2, 2)])]
    expected = extrude_arrays(footprints, [L_HEIGHT, 3.0])
    # Every point hashes alike: the collision check must catch it.
    monkeypatch.setattr(geometry.mesh, "_HASH", (np.uint64(0),) * 3)
    got = extrude_arrays(footprints, [L_HEIGHT, 3.0])
    for name in ("vertices", "faces", "semantic", "building"):
        assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


def test_combine():
    meshes = extrude([box(0, 0, 1, 1), None, l_block(5, 0)], [2.0, 1.0, L_HEIGHT])
    extra = trimesh.creation.box(extents=(1, 1, 1))
    combined, owner = combine([*meshes, extra])
    n_faces = [len(m.faces) for m in (meshes[0], meshes[2], extra)]
    assert_array_equal(owner, np.repeat([0, 2, 3], n_faces))
    assert len(combined.faces) == sum(n_faces)
    semantic = combined.face_attributes["semantic"]
    assert_array_equal(semantic[owner == 3], UNKNOWN)
    assert_array_equal(semantic[owner == 2], meshes[2].face_attributes["semantic"])
    assert_allclose(combined.volume, 2.0 + L_AREA * L_HEIGHT + 1.0, rtol=1e-9)
    empty, owner = combine([None])
    assert len(empty.faces) == 0 and owner.shape == (0,)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


#: Turns of the property tests' footprints [°]. A 45° turn puts walls on the
#: boundary between two bins, where a translation's rounding may flip them.
ANGLES = (0.0, 30.0, 90.0, 137.5, 200.0)


@st.composite
def footprints(draw, angles=ANGLES):
    """Rectangles and L shapes, some with a courtyard, turned by `angles`."""
    w = draw(st.integers(6, 60))
    d = draw(st.integers(6, 40))
    shell = [(0, 0), (w, 0), (w, d), (0, d)]
    inner_w, inner_d = w, d  # the part of the block that is whole
    if draw(st.booleans()):  # cut a corner off: an L
        cw = draw(st.integers(1, w - 3))
        cd = draw(st.integers(1, d - 3))
        shell = [(0, 0), (w, 0), (w, d - cd), (w - cw, d - cd), (w - cw, d), (0, d)]
        inner_w, inner_d = w - cw, d - cd
    holes = []
    if draw(st.booleans()):  # a courtyard, clear of the walls by 1 m or more
        hw, hd = max(1, (inner_w - 2) // 2), max(1, (inner_d - 2) // 2)
        holes = [[(1, 1), (1 + hw, 1), (1 + hw, 1 + hd), (1, 1 + hd)]]
    polygon = Polygon(shell, holes)
    assert polygon.is_valid, polygon
    angle = draw(st.sampled_from(angles))
    return shapely.affinity.rotate(polygon, angle, origin=(0, 0))


def rotate_90_clockwise(geom):
    # (x, y) -> (y, -x), exactly: what faced north now faces east.
    return shapely.transform(geom, lambda c: np.column_stack([c[:, 1], -c[:, 0]]))


def measures(footprint, height):
    meshes = extrude([footprint], [height])
    out = {k: v[0] for k, v in surface_areas_by_orientation(meshes).items()}
    out["volume"] = mesh_volume(meshes)[0]
    return out


heights = st.floats(1.0, 150.0)


@settings(max_examples=30, deadline=None)
@given(footprints(), heights, st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_property_translation_invariance(footprint, height, dx, dy):
    base = measures(footprint, height)
    moved = measures(
        shapely.transform(footprint, lambda c: c + np.array([dx, dy])), height
    )
    assert np.isfinite(base["volume"])
    assert_allclose(base["volume"], footprint.area * height, rtol=1e-9)
    for key, value in base.items():
        assert_allclose(moved[key], value, rtol=AREA_RTOL, atol=AREA_ATOL, err_msg=key)


@settings(max_examples=30, deadline=None)
@given(footprints(angles=(*ANGLES, 45.0)), heights)
def test_property_rotation_by_90_degrees_permutes_orientations(footprint, height):
    base = measures(footprint, height)
    turned = measures(rotate_90_clockwise(footprint), height)
    twice = measures(rotate_90_clockwise(rotate_90_clockwise(footprint)), height)
    cycle = ["wall_N", "wall_E", "wall_S", "wall_W"]
    for i, key in enumerate(cycle):
        nxt = cycle[(i + 1) % 4]
        opposite = cycle[(i + 2) % 4]
        assert_allclose(turned[nxt], base[key], rtol=AREA_RTOL, atol=AREA_ATOL)
        assert_allclose(twice[opposite], base[key], rtol=AREA_RTOL, atol=AREA_ATOL)
    for key in ("volume", "roof", "ground"):
        assert_allclose(turned[key], base[key], rtol=AREA_RTOL, atol=AREA_ATOL)


@settings(max_examples=30, deadline=None)
@given(footprints(), heights, st.floats(0.0, 360.0))
def test_property_total_wall_area_invariant_under_any_rotation(
    footprint, height, angle
):
    base = measures(footprint, height)
    turned = measures(shapely.affinity.rotate(footprint, angle, origin=(0, 0)), height)
    walls = ["wall_N", "wall_E", "wall_S", "wall_W"]
    total = sum(base[k] for k in walls)
    assert_allclose(sum(turned[k] for k in walls), total, rtol=AREA_RTOL)
    # All walls: the perimeter (outline and courtyard) times the height.
    assert_allclose(total, footprint.length * height, rtol=AREA_RTOL)
    assert_allclose(turned["volume"], base["volume"], rtol=AREA_RTOL)


@settings(max_examples=30, deadline=None)
@given(footprints(), heights, st.floats(0.1, 10.0))
def test_property_volume_scales_with_height(footprint, height, factor):
    base = measures(footprint, height)
    taller = measures(footprint, height * factor)
    assert_allclose(taller["volume"], factor * base["volume"], rtol=AREA_RTOL)
    for key in ("wall_N", "wall_E", "wall_S", "wall_W"):
        assert_allclose(taller[key], factor * base[key], rtol=AREA_RTOL, atol=AREA_ATOL)
    assert_allclose(taller["roof"], base["roof"], rtol=AREA_RTOL)
