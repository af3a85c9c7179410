"""Sample points on building facades, e.g. windows for sunlight analysis.

Points are laid along every edge of every ring of the footprints (exteriors
and courtyard holes alike) at chosen heights above the ground, each with the
outward horizontal normal of its wall, for all buildings at once with numpy.

A wall shared by two touching footprints (a party wall) gets points from
both, each just inside the other building: a ray caster should count any hit,
back faces included, as an obstruction, or drop such points first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geometry.mesh import _as_batch, _rings

__all__ = ["FacadePoints", "facade_points"]


@dataclass(frozen=True)
class FacadePoints:
    """Facade sample points with the wall they lie on.

    Points are ordered by building, then by height in the order of
    ``z_offsets``, then by ring, by edge and along the edge.

    Attributes
    ----------
    xyz : (m, 3) float
        Point coordinates [m], already moved ``offset_m`` off the wall.
    normal : (m, 3) float
        Outward unit normal of the wall, horizontal (``z == 0``) [-].
    building : (m,) int
        Index of the footprint in the input.
    ring : (m,) int
        Index of the ring within its building: each polygon's exterior then
        its holes, polygon after polygon of a MultiPolygon.
    edge : (m,) int
        Index of the edge within its ring as given: edge ``i`` joins the
        ring's points ``i`` and ``i + 1`` (`shapely.get_coordinates` order),
        whatever the ring's orientation.
    z_offset : (m,) float
        Height of the point above the building's base [m].
    azimuth_deg : (m,) float
        Compass azimuth of `normal`, clockwise from north in ``[0, 360)`` [°].
    """

    xyz: npt.NDArray[np.float64]
    normal: npt.NDArray[np.float64]
    building: npt.NDArray[np.intp]
    ring: npt.NDArray[np.intp]
    edge: npt.NDArray[np.intp]
    z_offset: npt.NDArray[np.float64]
    azimuth_deg: npt.NDArray[np.float64]

    def __len__(self) -> int:
        """Return the number of points."""
        return int(self.xyz.shape[0])


def facade_points(
    footprints: npt.ArrayLike,
    heights: npt.ArrayLike,
    *,
    z_offsets: npt.ArrayLike,
    spacing_m: float = 1.0,
    base_z: npt.ArrayLike | None = None,
    min_wall_m: float = 0.0,
    offset_m: float = 0.01,
    north_angle_deg: float = 0.0,
) -> FacadePoints:
    """Lay sample points on the walls of extruded footprints.

    Each ring edge of length ``L`` (``L >= min_wall_m``) is cut into
    ``max(1, floor(L / spacing_m))`` equal pieces and gets a point at the
    centre of each: an edge of 2.5 m at a 1 m spacing has points at 0.625 m
    and 1.875 m. The points are repeated at every height in `z_offsets` that
    is below the building's height, and moved `offset_m` outwards, so that
    rays cast from them miss their own wall. Normals point away from the
    building's interior: out of exterior rings, and into courtyards for holes.

    Parameters
    ----------
    footprints : (n,) shapely.Polygon or shapely.MultiPolygon
        Building footprints in a projected CRS, holes allowed, any ring
        orientation. Missing and empty geometries give no points.
    heights : (n,) float
        Height of each building [m]. NaN or ``<= 0`` gives no points.
    z_offsets : float or (k,) float
        Heights of the points above the base [m], e.g. 0.9 for a ground-floor
        window sill, or storey floor levels plus 0.9. Must be ``>= 0``;
        those not below a building's height are dropped for it.
    spacing_m
        Target distance between points along an edge [m].
    base_z : (n,) float, optional
        Elevation of each building's base [m]; 0 by default. NaN gives no
        points.
    min_wall_m
        Edges shorter than this get no points [m].
    offset_m
        Distance the points are moved along the normal, off the wall [m].
    north_angle_deg
        Azimuth of true north clockwise from grid north (+y) [°]; it only
        changes `FacadePoints.azimuth_deg` (see `geometry.measure`).

    Returns
    -------
    FacadePoints
        The points, their walls' normals and where they come from.

    Raises
    ------
    ValueError
        If `spacing_m` is not positive, `z_offsets` is not a finite scalar or
        1-D array of values ``>= 0``, or a footprint is not polygonal.

    Examples
    --------
    >>> import shapely
    >>> pts = facade_points([shapely.box(0, 0, 10, 6)], [6.0], z_offsets=[0.9, 3.9])
    >>> len(pts), pts.xyz[0].round(2).tolist(), pts.normal[0].tolist()
    (64, [10.01, 0.5, 0.9], [1.0, 0.0, 0.0])
    """
    if not spacing_m > 0:
        msg = f"spacing_m must be positive, got {spacing_m!r}"
        raise ValueError(msg)
    levels = np.asarray(z_offsets, dtype=np.float64)
    if levels.ndim > 1 or not np.all(np.isfinite(levels)) or np.any(levels < 0):
        msg = (
            "z_offsets must be a height or a 1-D array of heights >= 0 above "
            f"the base [m], got {z_offsets!r}"
        )
        raise ValueError(msg)
    levels = levels.reshape(-1)
    geoms, h, z0, valid = _as_batch(footprints, heights, base_z)

    rings = _rings(geoms, np.flatnonzero(valid))
    a = rings.xy[rings.tail]
    d = rings.xy[rings.head] - a
    length = np.hypot(d[:, 0], d[:, 1])
    keep = (length > 0) & (length >= min_wall_m)
    a, d, length = a[keep], d[keep], length[keep]
    edge_ring = rings.edge_ring[keep]
    edge_index = rings.edge_index[keep]
    edge_building = rings.ring_building[edge_ring]

    # The building is on the left of every edge, so the outward normal is
    # the edge's direction turned clockwise.
    unit = d / length[:, None]
    normal2 = np.stack([unit[:, 1], -unit[:, 0]], axis=1) + 0.0  # no -0.0

    azimuth = np.mod(
        np.degrees(np.arctan2(normal2[:, 0], normal2[:, 1])) - north_angle_deg, 360.0
    )
    azimuth[azimuth >= 360.0] = 0.0  # mod of a tiny negative rounds up to 360

    # Points along the edges: edge pe, piece `along` of count[pe].
    count = np.maximum(1, np.floor(length / spacing_m)).astype(np.intp)
    pe = np.repeat(np.arange(count.shape[0]), count)
    along = np.arange(pe.shape[0]) - np.repeat(np.cumsum(count) - count, count)

    # Every point at every height below its building's height, ordered by
    # building, then height, then position along the rings. np.nonzero gives
    # (level, point) order, k runs sorted by building, which a stable sort by
    # building merges cheaply.
    point_height = h[edge_building][pe]
    if levels.shape[0] == 1:
        point = np.flatnonzero(levels[0] < point_height)
        level = np.zeros(point.shape[0], dtype=np.intp)
    else:
        level, point = np.nonzero(levels[:, None] < point_height[None, :])
        order = np.argsort(edge_building[pe[point]], kind="stable")
        point, level = point[order], level[order]

    e = pe[point]
    t = (along[point] + 0.5) / count[e]
    building = edge_building[e]
    xyz = np.empty((point.shape[0], 3), dtype=np.float64)
    xyz[:, :2] = a[e] + t[:, None] * d[e] + offset_m * normal2[e]
    xyz[:, 2] = z0[building] + levels[level]
    normal = np.zeros((point.shape[0], 3), dtype=np.float64)
    normal[:, :2] = normal2[e]
    return FacadePoints(
        xyz=xyz,
        normal=normal,
        building=building.astype(np.intp, copy=False),
        ring=rings.ring_in_building[edge_ring[e]],
        edge=edge_index[e],
        z_offset=levels[level],
        azimuth_deg=azimuth[e],
    )
