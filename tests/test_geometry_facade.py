"""Tests for :mod:`geometry.facade` (facade sample points), by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose, assert_array_equal
from shapely.geometry import MultiPolygon, Polygon, box

from geometry.facade import FacadePoints, facade_points

#: Tolerance for coordinates [m]: exact arithmetic up to rounding.
XY_ATOL = 1e-9
OFFSET = 0.01  # the default offset_m [m]


def on_wall(pts: FacadePoints) -> np.ndarray:
    """The points moved back onto their wall, ``(m, 2)``."""
    return pts.xyz[:, :2] - OFFSET * pts.normal[:, :2]


def test_box_one_level():
    # A 10 x 6 m box at a 1 m spacing: 10 + 6 + 10 + 6 points.
    pts = facade_points([box(0, 0, 10, 6)], [9.0], z_offsets=0.9)
    assert isinstance(pts, FacadePoints)
    assert len(pts) == 32
    for name in ("xyz", "normal"):
        assert getattr(pts, name).shape == (32, 3)
    for name in ("building", "ring", "edge", "z_offset", "azimuth_deg"):
        assert getattr(pts, name).shape == (32,)
    assert_array_equal(pts.building, 0)
    assert_array_equal(pts.ring, 0)
    assert_allclose(pts.xyz[:, 2], 0.9)
    assert_allclose(pts.z_offset, 0.9)

    # Normals are axis-aligned, unit, horizontal and point out of the box.
    normals = {tuple(n) for n in pts.normal.tolist()}
    assert normals == {
        (0.0, -1.0, 0.0),
        (1.0, 0.0, 0.0),
        (0.0, 1.0, 0.0),
        (-1.0, 0.0, 0.0),
    }
    xy = on_wall(pts)
    south = pts.normal[:, 1] == -1
    north = pts.normal[:, 1] == 1
    east = pts.normal[:, 0] == 1
    west = pts.normal[:, 0] == -1
    assert (south.sum(), north.sum(), east.sum(), west.sum()) == (10, 10, 6, 6)
    # Centres of 1 m pieces along each wall, 1 cm out from it.
    assert_allclose(np.sort(xy[south, 0]), np.arange(10) + 0.5, atol=XY_ATOL)
    assert_allclose(xy[south, 1], 0.0, atol=XY_ATOL)
    assert_allclose(pts.xyz[south, 1], -OFFSET, atol=XY_ATOL)
    assert_allclose(np.sort(xy[east, 1]), np.arange(6) + 0.5, atol=XY_ATOL)
    assert_allclose(pts.xyz[east, 0], 10 + OFFSET, atol=XY_ATOL)
    assert_allclose(pts.xyz[north, 1], 6 + OFFSET, atol=XY_ATOL)
    assert_allclose(pts.xyz[west, 0], -OFFSET, atol=XY_ATOL)
    assert_allclose(pts.azimuth_deg[north], 0.0)
    assert_allclose(pts.azimuth_deg[east], 90.0)
    assert_allclose(pts.azimuth_deg[south], 180.0)
    assert_allclose(pts.azimuth_deg[west], 270.0)
    # Outside the footprint, a ray-safe 1 cm from the wall.
    footprint = box(0, 0, 10, 6)
    assert not shapely.contains_xy(footprint, pts.xyz[:, 0], pts.xyz[:, 1]).any()
    assert_allclose(shapely.distance(footprint, shapely.points(pts.xyz[:, :2])), OFFSET)


def test_spacing_along_an_edge_is_1m():
    pts = facade_points([box(0, 0, 10, 6)], [9.0], z_offsets=0.9)
    for edge in np.unique(pts.edge):
        xy = on_wall(pts)[pts.edge == edge]
        steps = np.hypot(*np.diff(xy, axis=0).T)
        assert_allclose(steps, 1.0, atol=XY_ATOL)


def test_edge_of_2_5_m_gets_two_points():
    # L = 2.5 m at a 1 m spacing: floor(2.5) = 2 pieces of 1.25 m, points at
    # their centres, 0.625 m and 1.875 m along the edge.
    square = box(0, 0, 2.5, 2.5)
    pts = facade_points([square], [3.0], z_offsets=1.0, spacing_m=1.0)
    assert len(pts) == 8
    south = pts.normal[:, 1] == -1
    assert_allclose(np.sort(on_wall(pts)[south, 0]), [0.625, 1.875], atol=XY_ATOL)
    # An edge shorter than the spacing still gets its centre.
    short = facade_points([box(0, 0, 0.5, 3)], [3.0], z_offsets=1.0)
    south = short.normal[:, 1] == -1
    assert_allclose(on_wall(short)[south, 0], [0.25], atol=XY_ATOL)


def test_several_levels_and_heights():
    # Storeys of 3 m with sills at 0.9 m: 0.9, 3.9, 6.9, 9.9. The 9 m
    # building has the first three; the 6.9 m one only the first two, since
    # a point at its roof height is on no wall.
    levels = np.arange(4) * 3.0 + 0.9
    pts = facade_points(
        [box(0, 0, 10, 6), box(20, 0, 30, 6)], [9.0, 6.9], z_offsets=levels
    )
    assert len(pts) == 32 * 3 + 32 * 2
    assert_array_equal(np.bincount(pts.building), [96, 64])
    assert_allclose(np.unique(pts.z_offset[pts.building == 0]), levels[:3])
    assert_allclose(np.unique(pts.z_offset[pts.building == 1]), levels[:2])
    # Ordered by building, then level.
    assert_array_equal(np.diff(pts.building) >= 0, True)
    first = pts.building == 0
    assert_array_equal(np.diff(pts.z_offset[first]) >= 0, True)
    assert_allclose(pts.xyz[:, 2], pts.z_offset)


def test_base_z_and_missing_buildings():
    footprints = np.array(
        [None, box(0, 0, 10, 6), Polygon(), box(0, 0, 1, 1), box(0, 0, 1, 1)],
        dtype=object,
    )
    pts = facade_points(
        footprints,
        [3.0, 3.0, 3.0, np.nan, 0.0],
        z_offsets=[0.9],
        base_z=[0.0, 42.0, 0.0, 0.0, 0.0],
    )
    assert len(pts) == 32
    assert_array_equal(pts.building, 1)
    assert_allclose(pts.xyz[:, 2], 42.9)
    assert_allclose(pts.z_offset, 0.9)


def test_no_points():
    pts = facade_points([None], [3.0], z_offsets=0.9)
    assert len(pts) == 0
    assert pts.xyz.shape == (0, 3)
    assert pts.normal.shape == (0, 3)
    assert pts.building.shape == (0,)
    # Every level above the building.
    pts = facade_points([box(0, 0, 1, 1)], [3.0], z_offsets=[3.0, 5.0])
    assert len(pts) == 0


def test_courtyard_normals_point_into_the_courtyard():
    # A 20 x 20 m block around a 6 x 4 m courtyard at x 7..13, y 8..12.
    courtyard = box(7, 8, 13, 12)
    block = Polygon(box(0, 0, 20, 20).exterior, [courtyard.exterior])
    pts = facade_points([block], [6.0], z_offsets=0.9)
    assert len(pts) == 4 * 20 + 2 * 6 + 2 * 4
    inner = pts.ring == 1
    assert inner.sum() == 20
    # The courtyard's south wall (y = 8) faces north, into the courtyard.
    south_wall = np.isclose(on_wall(pts)[:, 1], 8.0) & inner
    assert south_wall.sum() == 6
    assert_allclose(pts.normal[south_wall], [[0, 1, 0]] * 6)
    assert_allclose(pts.azimuth_deg[south_wall], 0.0)
    # Every courtyard point lies in the courtyard, off the block.
    xyz = pts.xyz[inner]
    assert shapely.contains_xy(courtyard, xyz[:, 0], xyz[:, 1]).all()
    assert not shapely.contains_xy(block, xyz[:, 0], xyz[:, 1]).any()
    # And a step back against the normal enters the building.
    back = on_wall(pts) - 0.1 * pts.normal[:, :2]
    assert shapely.contains_xy(block, back[:, 0], back[:, 1]).all()


@pytest.mark.parametrize("reverse", [False, True], ids=["ccw", "cw"])
def test_ring_orientation_does_not_matter(reverse):
    block = Polygon(box(0, 0, 20, 20).exterior, [box(7, 8, 13, 12).exterior])
    if reverse:
        block = block.reverse()
    pts = facade_points([block], [6.0], z_offsets=0.9)
    back = on_wall(pts) - 0.1 * pts.normal[:, :2]
    assert shapely.contains_xy(block, back[:, 0], back[:, 1]).all()
    out = pts.xyz[:, :2]
    assert not shapely.contains_xy(block, out[:, 0], out[:, 1]).any()
    # Edge i joins the ring's points i and i + 1 as given.
    ring = np.asarray(block.exterior.coords)
    for edge in range(4):
        xy = on_wall(pts)[(pts.ring == 0) & (pts.edge == edge)]
        a, b = ring[edge], ring[edge + 1]
        cross = (b[0] - a[0]) * (xy[:, 1] - a[1]) - (b[1] - a[1]) * (xy[:, 0] - a[0])
        assert_allclose(cross, 0.0, atol=1e-9)


def test_multipolygon_rings_and_min_wall():
    footprint = MultiPolygon(
        [
            Polygon(box(0, 0, 10, 10).exterior, [box(4, 4, 6, 6).exterior]),
            box(20, 0, 20.5, 8),
        ]
    )
    pts = facade_points([footprint], [3.0], z_offsets=1.0, min_wall_m=1.0)
    # Ring 0: the first exterior; 1: its hole; 2: the second part, whose
    # 0.5 m ends are skipped.
    assert_array_equal(np.bincount(pts.ring), [40, 8, 16])
    part2 = pts.ring == 2
    assert_array_equal(np.abs(pts.normal[part2, 0]), 1.0)
    all_walls = facade_points([footprint], [3.0], z_offsets=1.0)
    assert_array_equal(np.bincount(all_walls.ring), [40, 8, 18])


def test_diagonal_wall_and_north_angle():
    # A right triangle: its hypotenuse faces north-east, azimuth 45°.
    triangle = Polygon([(0, 0), (10, 0), (0, 10)])
    pts = facade_points([triangle], [3.0], z_offsets=1.0, spacing_m=2.0)
    hyp = pts.edge == 1
    assert hyp.sum() == 7  # floor(14.14 / 2)
    assert_allclose(pts.normal[hyp], [[np.sqrt(0.5), np.sqrt(0.5), 0]] * 7)
    assert_allclose(pts.azimuth_deg[hyp], 45.0)
    # True north 60° east of grid north: the hypotenuse faces 345° true.
    turned = facade_points(
        [triangle], [3.0], z_offsets=1.0, spacing_m=2.0, north_angle_deg=60.0
    )
    assert_allclose(turned.azimuth_deg[hyp], 345.0)
    assert_allclose(turned.xyz, pts.xyz)  # only the azimuth changes
    assert ((turned.azimuth_deg >= 0) & (turned.azimuth_deg < 360)).all()


def test_offset_m():
    pts = facade_points([box(0, 0, 10, 6)], [3.0], z_offsets=1.0, offset_m=0.0)
    footprint = box(0, 0, 10, 6)
    gap = shapely.distance(footprint.exterior, shapely.points(pts.xyz[:, :2]))
    assert_allclose(gap, 0.0, atol=XY_ATOL)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"z_offsets": 0.9, "spacing_m": 0.0}, "spacing_m must be positive"),
        ({"z_offsets": [[0.9]]}, "z_offsets must be"),
        ({"z_offsets": [-1.0]}, "z_offsets must be"),
        ({"z_offsets": [np.nan]}, "z_offsets must be"),
    ],
)
def test_invalid_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        facade_points([box(0, 0, 1, 1)], [3.0], **kwargs)
