"""Per-building measures of footprints and meshes: areas and volumes.

The mesh measures take a sequence of `trimesh.Trimesh` (or None), such as
`geometry.mesh.extrude` returns, or the `geometry.mesh.MeshArrays` of
`geometry.mesh.extrude_arrays`. They gather all triangles into one array and
compute with numpy over the whole batch; results are ``(n,)`` arrays in input
order, NaN for None (or for a building without faces in `MeshArrays`).
Passing `MeshArrays` skips making one trimesh per building, the costliest
step of a take-off (see ``benchmarks/bench_extrusion.py``).

Orientation follows the compass with the CRS's grid north: +y is north (0°)
and +x east (90°), azimuths growing clockwise. Where grid north is not true
north (a rotated site grid, or the meridian convergence of a projection) pass
``north_angle_deg``, the azimuth of true north measured clockwise from grid
north; a face whose normal has grid azimuth ``a`` then faces ``a -
north_angle_deg``. For a pyproj CRS this is ``-Proj(crs).get_factors(lon,
lat).meridian_convergence`` (e.g. about -1° in UTM 50N at 118.5°E, 40°N,
east of the central meridian, where true north points west of grid north).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
import trimesh

from geometry.mesh import GROUND, ROOF, UNKNOWN, WALL, MeshArrays

__all__ = [
    "ORIENTATION_KEYS",
    "footprint_area",
    "is_closed",
    "mesh_volume",
    "surface_areas_by_orientation",
]

#: Keys of `surface_areas_by_orientation`, in order.
ORIENTATION_KEYS: Final = (
    "wall_N",
    "wall_E",
    "wall_S",
    "wall_W",
    "roof",
    "ground",
)


_Meshes = Sequence[trimesh.Trimesh | None] | MeshArrays


class _Batch:
    """All triangles of a sequence of meshes, with their owner."""

    def __init__(self, meshes: _Meshes) -> None:
        if isinstance(meshes, MeshArrays):
            self.n = meshes.n
            self.vertices = np.asarray(meshes.vertices, dtype=np.float64)
            self.faces = np.asarray(meshes.faces, dtype=np.int64)
            self.semantic = np.asarray(meshes.semantic, dtype=np.int8)
            self.owner = np.asarray(meshes.building, dtype=np.intp)
            self.n_faces = np.bincount(self.owner, minlength=self.n)
            self.present = self.n_faces > 0
            return
        self.n = len(meshes)
        vertices: list[npt.NDArray[np.float64]] = []
        faces: list[npt.NDArray[np.int64]] = []
        semantic: list[npt.NDArray[np.int8]] = []
        n_faces = np.zeros(self.n, dtype=np.intp)
        self.present = np.zeros(self.n, dtype=bool)
        offset = 0
        # Only gathers arrays; all arithmetic is done once over the batch.
        for i, m in enumerate(meshes):
            if m is None:
                continue
            self.present[i] = True
            v = np.asarray(m.vertices, dtype=np.float64).reshape(-1, 3)
            f = np.asarray(m.faces, dtype=np.int64).reshape(-1, 3)
            vertices.append(v)
            faces.append(f + offset)
            sem = m.face_attributes.get("semantic")
            sem = None if sem is None else np.asarray(sem, dtype=np.int8).reshape(-1)
            semantic.append(
                sem
                if sem is not None and sem.shape[0] == len(f)
                else np.full(len(f), UNKNOWN, dtype=np.int8)
            )
            n_faces[i] = len(f)
            offset += len(v)
        self.n_faces = n_faces
        self.owner = np.repeat(np.arange(self.n), n_faces)
        self.vertices = (
            np.concatenate(vertices) if vertices else np.empty((0, 3), np.float64)
        )
        self.faces = np.concatenate(faces) if faces else np.empty((0, 3), np.int64)
        self.semantic = (
            np.concatenate(semantic) if semantic else np.empty(0, dtype=np.int8)
        )

    def triangles(self) -> npt.NDArray[np.float64]:
        """``(f, 3, 3)`` corners, relative to the first vertex of each mesh.

        Moving each mesh near the origin keeps volumes of buildings in
        projected coordinates (10⁶ m from the origin) exact to ~1e-9.
        """
        tri = self.vertices[self.faces]
        if tri.shape[0]:
            first_face = np.cumsum(self.n_faces) - self.n_faces
            ref = tri[np.minimum(first_face, tri.shape[0] - 1), 0]
            tri = tri - ref[self.owner][:, None, :]
        return tri

    def sum(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Sum per-face values per mesh; NaN for None."""
        out = np.bincount(self.owner, weights=values, minlength=self.n).astype(
            np.float64, copy=False
        )
        out[~self.present] = np.nan
        return out


def is_closed(meshes: _Meshes) -> npt.NDArray[np.bool_]:
    """Whether each mesh is closed and consistently wound.

    A mesh is closed when each edge is run along by as many faces in one
    direction as in the other: it has no boundary and its faces agree on
    which side is out, so that its enclosed volume is defined. In a manifold
    mesh this is trimesh's ``is_watertight`` and ``is_winding_consistent``
    together; unlike those, it also accepts solids that touch themselves
    along an edge or at a vertex (four faces on one edge), as LoD2 models
    and footprints whose courtyard touches the outline at a corner do.
    Edges are matched by vertex index, as in trimesh, so meshes whose faces
    do not share vertices must have them merged first
    (`trimesh.Trimesh.merge_vertices`). The whole batch is judged with one
    sort.

    Parameters
    ----------
    meshes : (n,) trimesh.Trimesh or None, or MeshArrays
        Meshes, e.g. from `geometry.mesh.extrude`.

    Returns
    -------
    (n,) bool
        False for None and for meshes without faces.

    Examples
    --------
    >>> import shapely
    >>> from geometry.mesh import extrude
    >>> is_closed(extrude([shapely.box(0, 0, 2, 2), None], [3.0, 3.0])).tolist()
    [True, False]
    """
    return _is_closed(_Batch(meshes))


def _is_closed(batch: _Batch) -> npt.NDArray[np.bool_]:
    f = batch.faces
    n_vertices = max(int(batch.vertices.shape[0]), 1)
    # Each directed edge u -> v of every face as 2 * (min * nv + max) + (u > v),
    # sorted: runs of equal key >> 1 are the uses of one edge, balanced when
    # as many keys are odd as even. Vertex indices are global, so the key
    # implies the mesh.
    u = f.reshape(-1)
    v = np.roll(f, -1, axis=1).reshape(-1)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = np.sort(2 * (lo * n_vertices + hi) + (u > v))
    edge = key >> 1
    starts = np.flatnonzero(np.r_[True, edge[1:] != edge[:-1]]) if key.size else key
    size = np.diff(np.r_[starts, key.shape[0]])
    backward = np.add.reduceat(key & 1, starts) if key.size else key
    good = 2 * backward == size
    # The owner of an edge is the owner of its lower vertex.
    vertex_owner = np.zeros(n_vertices, dtype=np.intp)
    vertex_owner[f.reshape(-1)] = np.repeat(batch.owner, 3)
    owner = vertex_owner[edge[starts] // n_vertices]
    bad = np.bincount(owner, weights=~good, minlength=batch.n)
    closed: npt.NDArray[np.bool_] = batch.present & (batch.n_faces > 0) & (bad == 0)
    return closed


def mesh_volume(meshes: _Meshes) -> npt.NDArray[np.float64]:
    """Enclosed volume of each mesh.

    The signed volume of the tetrahedra from each face to a point of the
    mesh, summed per mesh. Its sign is negative for a closed mesh whose
    normals point inwards.

    Parameters
    ----------
    meshes : (n,) trimesh.Trimesh or None, or MeshArrays
        Meshes, e.g. from `geometry.mesh.extrude` [m].

    Returns
    -------
    (n,) float
        Volume [m³]; NaN for None and for meshes that are not closed (see
        `is_closed`), whose volume is undefined: callers decide whether to
        repair them (`trimesh.repair`) or take the convex hull.

    Examples
    --------
    >>> import shapely
    >>> from geometry.mesh import extrude
    >>> mesh_volume(extrude([shapely.box(0, 0, 10, 6), None], [3.0, 3.0]))
    array([180.,  nan])
    """
    batch = _Batch(meshes)
    tri = batch.triangles()
    six_v = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2]))
    volume = batch.sum(six_v / 6.0)
    volume[~_is_closed(batch)] = np.nan
    return volume


def _compass_bin(
    nx: npt.NDArray[np.float64], ny: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    """Compass quadrant of horizontal directions: 0 N, 1 E, 2 S, 3 W, -1 none.

    N is [315°, 45°), E [45°, 135°), S [135°, 225°), W [225°, 315°). The bins
    are decided by comparisons, not by an arctangent, so that swapping and
    negating components (a rotation by 90°) moves a direction to the next bin
    exactly, even on a boundary.
    """
    out = np.full(nx.shape, -1, dtype=np.intp)
    # E: [45°, 135°) is x > 0, -x < y <= x; the others are its rotations.
    out[(nx > 0) & (ny <= nx) & (ny > -nx)] = 1
    out[(ny < 0) & (nx <= -ny) & (nx > ny)] = 2
    out[(nx < 0) & (ny >= nx) & (ny < -nx)] = 3
    out[(ny > 0) & (nx >= -ny) & (nx < ny)] = 0
    return out


def surface_areas_by_orientation(
    meshes: _Meshes,
    *,
    north_angle_deg: float = 0.0,
    wall_tol_deg: float = 10.0,
) -> dict[str, npt.NDArray[np.float64]]:
    """Wall areas by compass orientation, and roof and ground areas.

    Faces are classified by their ``face_attributes["semantic"]`` codes when
    the mesh has them (`geometry.mesh.GROUND`, ``WALL``, ``ROOF``), so the
    sloped roof faces of an LoD2 model count as roof. Faces without codes,
    or coded ``UNKNOWN``, go by their normal: a face whose normal is within
    `wall_tol_deg` of horizontal is a wall, otherwise an upward one is roof
    and a downward one ground. Faces with any other code (say, a reader's
    closure surfaces, which close a solid but are not built) count in no
    key. A wall counts towards the quadrant of the azimuth of its outward
    normal: N is [315°, 45°), E [45°, 135°), S [135°, 225°) and W [225°,
    315°).

    Parameters
    ----------
    meshes : (n,) trimesh.Trimesh or None, or MeshArrays
        Meshes with outward normals, e.g. from `geometry.mesh.extrude`, in a
        projected CRS [m].
    north_angle_deg
        Azimuth of true north, clockwise from the CRS's grid north (+y) [°].
        The default 0 takes grid north as north; see the module notes for
        projections.
    wall_tol_deg
        Largest angle between an unclassified face's normal and the
        horizontal plane for it to count as a wall [°].

    Returns
    -------
    dict of str to (n,) float
        Areas [m²] under the keys ``wall_N``, ``wall_E``, ``wall_S``,
        ``wall_W``, ``roof`` and ``ground``; NaN for None. A wall face whose
        normal has no horizontal part (a degenerate one) is in no wall key.

    Examples
    --------
    >>> import shapely
    >>> from geometry.mesh import extrude
    >>> meshes = extrude([shapely.box(0, 0, 10, 6), None], [3.0, 3.0])
    >>> areas = surface_areas_by_orientation(meshes)
    >>> areas["wall_N"], areas["wall_E"], areas["roof"]
    (array([30., nan]), array([18., nan]), array([60., nan]))
    """
    batch = _Batch(meshes)
    # Edge vectors straight from the vertices: turning a mesh by 90° then
    # swaps and negates their components exactly, and the bins follow.
    tri = batch.vertices[batch.faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.sqrt(np.einsum("ij,ij->i", cross, cross))
    area = 0.5 * norm
    with np.errstate(invalid="ignore", divide="ignore"):
        normal = cross / norm[:, None]

    kind = batch.semantic.astype(np.intp)
    unknown = kind == UNKNOWN
    nz = normal[:, 2]
    steep = np.abs(nz) < np.sin(np.radians(wall_tol_deg))
    kind[unknown] = np.where(steep, WALL, np.where(nz > 0, ROOF, GROUND))[unknown]
    # Degenerate unknown faces (NaN normal) have no area; keep them nowhere.
    kind[unknown & ~np.isfinite(nz)] = UNKNOWN

    nx, ny = cross[:, 0], cross[:, 1]
    if north_angle_deg != 0.0:
        theta = np.radians(north_angle_deg)
        c, s = np.cos(theta), np.sin(theta)
        nx, ny = nx * c - ny * s, ny * c + nx * s
    compass = np.where(kind == WALL, _compass_bin(nx, ny), -1)

    out: dict[str, npt.NDArray[np.float64]] = {}
    for i, key in enumerate(ORIENTATION_KEYS[:4]):
        out[key] = batch.sum(np.where(compass == i, area, 0.0))
    out["roof"] = batch.sum(np.where(kind == ROOF, area, 0.0))
    out["ground"] = batch.sum(np.where(kind == GROUND, area, 0.0))
    return out


def footprint_area(footprints: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Area of each footprint.

    Parameters
    ----------
    footprints : (n,) shapely.Geometry
        Building footprints in a projected CRS [m].

    Returns
    -------
    (n,) float
        Area [m²]; NaN for missing footprints.

    Examples
    --------
    >>> import shapely
    >>> footprint_area([shapely.box(0, 0, 10, 6), None])
    array([60., nan])
    """
    return np.asarray(shapely.area(np.asarray(footprints, dtype=object)), np.float64)
