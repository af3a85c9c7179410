"""Direct-sunlight duration at sample points, by ray casting.

The sunlight standards (GB 50180-2018 §4.0.9) count the hours of direct sun
on a window sill on one day, the 大寒 (Great Cold) or 冬至 (Winter Solstice)
day, within a window of true solar time: 8-16 h on the Great Cold day and
9-15 h on the Winter Solstice nationally, 9-15 h in Hangzhou. Two steps:

1. `sun_vectors` samples the window at a fixed step (1 min by default) and
   gives the sun's direction at each sample, from `geometry.solar`.
2. `sunlight_hours` decides for every point and sample whether the point is
   sunlit: the sun is above the horizon, in front of the facade (and, where a
   rule asks, at least ``min_incidence_deg`` off its plane), and the ray from
   the point toward the sun hits no triangle of the scene. The geometric
   tests run first over the whole ``(m, t)`` matrix with numpy, so that only
   the candidate rays are cast, in batches of a few million, through
   trimesh's Embree engine (``embreex``); the runs of sunlit samples are then
   found with `numpy.diff` over the matrix (`sunlight_summary`).

Time accounting
---------------
Samples are instants. Each stands for the part of the window nearer to it
than to its neighbours: a full step inside the window, half a step at its
ends, so that a point sunlit at every sample gets exactly the window's
length, and a segment of ``k`` consecutive sunlit samples lasts from the
boundary before the first to the boundary after the last. An analytic
duration is then matched within one step (half a step at each end of each
segment). A step that does not divide the window is shortened until it does
(7 min over 8 h gives 69 steps of 6.96 min), so that both ends are sampled.

Coordinates
-----------
Points, normals and meshes share one projected CRS in metres, ``x`` east
(grid), ``y`` north (grid), ``z`` up. Where grid north is not true north,
pass ``north_angle_deg`` to `sun_vectors`, as in `geometry.measure`: the
azimuth of true north clockwise from grid north.

A point's own building shades it like any other: facade points from
`geometry.facade.facade_points` sit 1 cm off their wall, so a ray toward a
sun in front of the wall leaves it, while rays through the wall are culled by
the normal test before casting. Back faces count as hits (Embree does not
cull them), so points inside a neighbouring building (on party walls) are
never sunlit. Rays are cast relative to the scene's centre (see `RayScene`):
trimesh's Embree wrapper would otherwise round their origins to float32 in
projected coordinates and move them by centimetres.

Performance
-----------
``benchmarks/bench_sunlight.py``: 1,000 buildings of 6-33 storeys, 96,646
facade points every 1 m at 0.9 m, the Great Cold day at Hangzhou at a
1-minute step (481 samples): half of the 46.5 million point-samples are
culled before casting, the 23.2 million candidate rays take 5.2-5.6 s in all
(4.1-4.4 million rays/s, one core), 1.2-1.4 times trimesh's bare Embree
``intersects_any`` of the same rays in the same run. The rest of that bare
cast is trimesh's nearest-hit query: Embree's any-hit (``OCCLUDED``) query
casts the same rays 2 to 3 times faster.
"""

from __future__ import annotations

import datetime
import importlib.util
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import trimesh

from geometry.mesh import MeshArrays, combine
from geometry.solar import solar_position, true_solar_to_utc

__all__ = [
    "GREAT_COLD_WINDOW_H",
    "WINTER_SOLSTICE_WINDOW_H",
    "RayEngineWarning",
    "RayScene",
    "SunPath",
    "SunlightResult",
    "ray_scene",
    "sun_vectors",
    "sunlight_hours",
    "sunlight_summary",
]

logger = logging.getLogger(__name__)

#: Window of the Great Cold day in GB 50180-2018 Table 4.0.9, true solar
#: time [h]. (Hangzhou uses 9-15 h on both days.)
GREAT_COLD_WINDOW_H: Final = (8.0, 16.0)
#: Window of the Winter Solstice in GB 50180-2018 Table 4.0.9, true solar
#: time [h].
WINTER_SOLSTICE_WINDOW_H: Final = (9.0, 15.0)

_F64 = npt.NDArray[np.float64]
_Scene = trimesh.Trimesh | MeshArrays | Sequence[trimesh.Trimesh | None]
_ENGINES: Final = ("auto", "embree", "triangle")
_INCIDENCE: Final = ("plan", "surface")
_TOL_MIN: Final = 1e-9  # slack on segment lengths when comparing [min]


class RayEngineWarning(UserWarning):
    """Embree is not available and a much slower ray engine is used."""


@dataclass(frozen=True)
class SunPath:
    """The sun's directions at the samples of a window of true solar time.

    Attributes
    ----------
    day : numpy.datetime64
        The local date [day].
    hours : (t,) float
        True solar time of each sample, from the window's start to its end
        inclusive [h].
    edges_h : (t + 1,) float
        Bounds of the time each sample stands for: the window's start, the
        midpoints between samples, the window's end [h].
    vectors : (t, 3) float
        Unit vectors toward the sun, ``x`` grid east, ``y`` grid north, ``z``
        up [-]; ``z <= 0`` when the sun is below the horizon.
    azimuth_deg : (t,) float
        Sun azimuth, clockwise from true north [deg].
    elevation_deg : (t,) float
        Sun elevation, geometric unless refraction was asked for [deg].
    times_utc : (t,) datetime64[ns]
        The samples as UTC instants.
    step_min : float
        Step between samples, at most the one asked for [min].
    """

    day: np.datetime64
    hours: _F64
    edges_h: _F64
    vectors: _F64
    azimuth_deg: _F64
    elevation_deg: _F64
    times_utc: npt.NDArray[np.datetime64]
    step_min: float

    def __len__(self) -> int:
        """Return the number of samples."""
        return int(self.hours.shape[0])

    @property
    def weights_min(self) -> _F64:
        """(t,) float: time each sample stands for [min]."""
        return np.diff(self.edges_h) * 60.0


def sun_vectors(
    day: str | datetime.date | np.datetime64,
    *,
    lat: float,
    lon: float,
    start_h: float,
    end_h: float,
    step_min: float = 1.0,
    north_angle_deg: float = 0.0,
    refraction: bool = False,
    altitude_m: float = 0.0,
    delta_t_s: float | None = None,
) -> SunPath:
    """Sample the sun's direction over a window of true solar time.

    Parameters
    ----------
    day : str or datetime.date or numpy.datetime64
        Local date, e.g. `geometry.solar.great_cold_day` of a year.
    lat
        Latitude, north positive [deg].
    lon
        Longitude, east positive [deg].
    start_h
        Start of the window in true solar time, e.g. 8 (`GREAT_COLD_WINDOW_H`)
        [h].
    end_h
        End of the window in true solar time, ``>= start_h`` [h].
    step_min
        Largest step between samples [min]; the step used divides the window
        exactly (see `SunPath.step_min`).
    north_angle_deg
        Azimuth of true north clockwise from grid north (+y) [deg], as in
        `geometry.measure`.
    refraction
        Use the apparent (refracted) elevation instead of the geometric one,
        which the standards use.
    altitude_m
        Height of the site above sea level [m]; changes the parallax only.
    delta_t_s
        TT - UT [s]; by default `geometry.solar.delta_t`.

    Returns
    -------
    SunPath
        Sample times, their time bounds and the sun's unit vectors.

    Raises
    ------
    ValueError
        If the window or the step is not finite, ``end_h < start_h``, the
        window leaves ``[0, 24]`` h or ``step_min <= 0``.

    Examples
    --------
    The Great Cold day in Hangzhou, 8-16 h at a 1-minute step:

    >>> from geometry.solar import great_cold_day
    >>> sun = sun_vectors(great_cold_day(2025), lat=30.25, lon=120.17,
    ...                   start_h=8, end_h=16)
    >>> len(sun), sun.step_min, round(float(sun.elevation_deg.max()), 1)
    (481, 1.0, 39.7)
    """
    values = np.array([start_h, end_h, step_min], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        msg = f"start_h, end_h and step_min must be finite, got {values.tolist()}"
        raise ValueError(msg)
    if not 0.0 <= start_h <= end_h <= 24.0:
        msg = (
            "the window must satisfy 0 <= start_h <= end_h <= 24 [h], got "
            f"start_h={start_h!r}, end_h={end_h!r}"
        )
        raise ValueError(msg)
    if not step_min > 0:
        msg = f"step_min must be positive [min], got {step_min!r}"
        raise ValueError(msg)
    span_min = (end_h - start_h) * 60.0
    n_steps = int(np.ceil(span_min / step_min - 1e-9)) if span_min > 0 else 0
    if n_steps:
        hours = start_h + (end_h - start_h) * np.arange(n_steps + 1) / n_steps
        step = span_min / n_steps
    else:
        hours = np.array([float(start_h)])
        step = 0.0
    edges = np.concatenate([[start_h], (hours[1:] + hours[:-1]) / 2, [end_h]])

    times = true_solar_to_utc(day, hours, lon, delta_t_s=delta_t_s)
    pos = solar_position(
        times, lat=lat, lon=lon, altitude_m=altitude_m, delta_t_s=delta_t_s
    )
    elevation = pos.apparent_elevation_deg if refraction else pos.elevation_deg
    grid_az = np.radians(pos.azimuth_deg + north_angle_deg)
    el = np.radians(elevation)
    vectors = np.stack(
        [np.cos(el) * np.sin(grid_az), np.cos(el) * np.cos(grid_az), np.sin(el)],
        axis=1,
    )
    return SunPath(
        day=np.datetime64(np.asarray(day, dtype="datetime64[D]").item(), "D"),
        hours=hours,
        edges_h=edges.astype(np.float64),
        vectors=vectors,
        azimuth_deg=pos.azimuth_deg,
        elevation_deg=elevation,
        times_utc=times,
        step_min=float(step),
    )


@dataclass(frozen=True)
class RayScene:
    """A triangle scene ready for ray casting, and the engine that casts.

    Made by `ray_scene`; pass it to `sunlight_hours` to reuse one
    acceleration structure for several days or windows.

    The scene is stored relative to `origin`, and rays are moved by the same
    amount before casting. trimesh's Embree wrapper rounds ray origins to
    float32 *before* taking its own origin off them, which at projected
    coordinates of millions of metres (UTM northings) moves them by up to
    25 cm, enough to put a facade point 1 cm off its wall inside its own
    building; relative to the scene's centre the rounding is below a
    millimetre for a district of a few kilometres.

    Attributes
    ----------
    intersector : object
        trimesh's ``RayMeshIntersector`` of the chosen engine, over the
        scene moved by ``-origin``.
    engine : str
        ``"embree"`` (``trimesh.ray.ray_pyembree``) or ``"triangle"``
        (``trimesh.ray.ray_triangle``, pure numpy, much slower).
    n_faces : int
        Number of triangles.
    origin : (3,) float
        Where the scene's local coordinates start, the centre of its
        bounding box [m].
    """

    intersector: Any
    engine: str
    n_faces: int
    origin: _F64

    def intersects_any(
        self,
        origins: npt.ArrayLike,
        directions: npt.ArrayLike,
    ) -> npt.NDArray[np.bool_]:
        """Whether each ray hits any triangle.

        Parameters
        ----------
        origins : (k, 3) float
            Ray origins, in the coordinates of the scene as given [m].
        directions : (k, 3) float
            Ray directions, unit or not [-].

        Returns
        -------
        (k,) bool
            True where the ray hits the scene.
        """
        local = np.asarray(origins, dtype=np.float64) - self.origin
        return self.intersects_any_local(local, np.asarray(directions))

    def intersects_any_local(
        self,
        origins: npt.NDArray[np.floating[Any]],
        directions: npt.NDArray[np.floating[Any]],
    ) -> npt.NDArray[np.bool_]:
        """`intersects_any` for origins already relative to `origin`.

        Parameters
        ----------
        origins : (k, 3) float
            Ray origins minus `origin`, float32 or float64 [m].
        directions : (k, 3) float
            Ray directions, unit or not [-].

        Returns
        -------
        (k,) bool
            True where the ray hits the scene.
        """
        if self.n_faces == 0 or origins.shape[0] == 0:
            return np.zeros(origins.shape[0], dtype=bool)
        hit = self.intersector.intersects_any(origins, directions)
        return np.asarray(hit, dtype=bool)


def _local_trimesh(scene: _Scene) -> tuple[trimesh.Trimesh, _F64]:
    """One mesh of the scene, moved to the centre of its bounding box."""
    if isinstance(scene, trimesh.Trimesh):
        vertices = np.asarray(scene.vertices, dtype=np.float64)
        faces = np.asarray(scene.faces)
    elif isinstance(scene, MeshArrays):
        vertices, faces = scene.vertices, scene.faces
    else:
        mesh, _ = combine(list(scene))
        vertices, faces = np.asarray(mesh.vertices, dtype=np.float64), mesh.faces
    used = vertices[np.unique(faces)] if len(faces) else np.zeros((1, 3))
    origin = (used.min(axis=0) + used.max(axis=0)) / 2
    local = trimesh.Trimesh(
        vertices=vertices - origin, faces=faces, process=False, validate=False
    )
    return local, origin


def ray_scene(
    scene: _Scene,
    *,
    engine: Literal["auto", "embree", "triangle"] = "auto",
) -> RayScene:
    """Prepare meshes for ray casting with Embree, or trimesh's own engine.

    Parameters
    ----------
    scene : trimesh.Trimesh or MeshArrays or sequence of trimesh.Trimesh
        The obstructions: one mesh, the arrays of
        `geometry.mesh.extrude_arrays`, or meshes (None skipped) as
        `geometry.mesh.extrude` returns.
    engine : {"auto", "embree", "triangle"}
        ``"auto"`` uses Embree (``embreex``) when it can be imported and
        otherwise falls back to ``"triangle"`` with a `RayEngineWarning`;
        ``"embree"`` raises instead of falling back.

    Returns
    -------
    RayScene
        The intersector and the name of the engine actually used.

    Raises
    ------
    ValueError
        If `engine` is not one of the names above.
    ImportError
        If ``"embree"`` is asked for and ``embreex`` cannot be imported, or
        trimesh's own engine is needed and ``rtree`` cannot be imported.

    Examples
    --------
    >>> import shapely
    >>> from geometry.mesh import extrude_arrays
    >>> rs = ray_scene(extrude_arrays([shapely.box(0, 0, 10, 10)], [5.0]))
    >>> rs.engine, rs.n_faces
    ('embree', 12)
    """
    if engine not in _ENGINES:
        msg = f"invalid engine {engine!r}; expected one of {', '.join(_ENGINES)}"
        raise ValueError(msg)
    mesh, origin = _local_trimesh(scene)
    n_faces = len(mesh.faces)
    if engine in ("auto", "embree"):
        from trimesh import ray as tray

        if tray.has_embree:
            intersector = tray.ray_pyembree.RayMeshIntersector(mesh)
            return RayScene(
                intersector=intersector, engine="embree", n_faces=n_faces, origin=origin
            )
        if engine == "embree":
            msg = (
                "the Embree ray engine is not available: install embreex "
                "(pip install embreex), or pass engine='triangle'"
            )
            raise ImportError(msg)
        warnings.warn(
            "embreex is not importable: casting rays with trimesh's own engine, "
            "which is much slower; install embreex (pip install embreex)",
            RayEngineWarning,
            stacklevel=2,
        )
    if importlib.util.find_spec("rtree") is None:  # trimesh's engine needs it
        msg = (
            "trimesh's own ray engine needs rtree (pip install rtree); better, "
            "install embreex (pip install embreex) for the Embree engine"
        )
        raise ImportError(msg)
    from trimesh.ray import ray_triangle

    return RayScene(
        intersector=ray_triangle.RayMeshIntersector(mesh),  # type: ignore[no-untyped-call]
        engine="triangle",
        n_faces=n_faces,
        origin=origin,
    )


@dataclass(frozen=True)
class SunlightResult:
    """Direct-sunlight durations per point, and optionally the details.

    Segments are maximal runs of consecutive sunlit samples; see the module
    notes for how samples are turned into time. Points whose coordinates or
    normal are not finite, or whose normal is zero, get NaN durations and no
    segments.

    Attributes
    ----------
    sunlit_min : (m,) float
        Total sunlit time in the window [min].
    segments : (m,) int
        Number of sunlit segments, however short.
    longest_min : (m,) float
        Length of the longest segment, 0 when there is none [min].
    counted_min : (m,) float
        Sunlit time as a rule counts it: the sum of the ``max_segments``
        longest segments that last at least ``min_segment_min`` [min]. Equal
        to `sunlit_min` with the defaults.
    n_rays : int
        Number of rays cast (candidates after the geometric tests).
    engine : str
        Ray engine used: ``"embree"``, ``"triangle"``, or ``"none"`` when no
        ray was cast by this function.
    sunlit : (m, t) bool or None
        Whether each point is sunlit at each sample, if asked for.
    segment_point : (s,) int or None
        Point of each segment, if asked for; segments are ordered by point,
        then by time.
    segment_start_h : (s,) float or None
        Start of each segment in true solar time [h].
    segment_end_h : (s,) float or None
        End of each segment in true solar time [h].
    segment_counted : (s,) bool or None
        Whether the segment is part of `counted_min`.
    """

    sunlit_min: _F64
    segments: npt.NDArray[np.intp]
    longest_min: _F64
    counted_min: _F64
    n_rays: int = 0
    engine: str = "none"
    sunlit: npt.NDArray[np.bool_] | None = None
    segment_point: npt.NDArray[np.intp] | None = None
    segment_start_h: _F64 | None = None
    segment_end_h: _F64 | None = None
    segment_counted: npt.NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        """Return the number of points."""
        return int(self.sunlit_min.shape[0])

    @property
    def segment_min(self) -> _F64 | None:
        """(s,) float or None: length of each segment [min]."""
        if self.segment_start_h is None or self.segment_end_h is None:
            return None
        return (self.segment_end_h - self.segment_start_h) * 60.0


def _check_segment_options(min_segment_min: float, max_segments: int | None) -> None:
    if not (np.isfinite(min_segment_min) and min_segment_min >= 0):
        msg = f"min_segment_min must be finite and >= 0 [min], got {min_segment_min!r}"
        raise ValueError(msg)
    if max_segments is not None and (
        isinstance(max_segments, bool)
        or not isinstance(max_segments, int | np.integer)
        or max_segments < 1
    ):
        msg = f"max_segments must be None or an integer >= 1, got {max_segments!r}"
        raise ValueError(msg)


def sunlight_summary(
    sunlit: npt.ArrayLike,
    edges_h: npt.ArrayLike,
    *,
    min_segment_min: float = 0.0,
    max_segments: int | None = None,
    return_sunlit: bool = False,
    return_segments: bool = False,
    valid: npt.ArrayLike | None = None,
) -> SunlightResult:
    """Durations and segments from a matrix of sunlit samples.

    The runs of True in each row are found at once for the whole matrix,
    from the sign changes of `numpy.diff` along the time axis.

    Parameters
    ----------
    sunlit : (m, t) bool
        Whether each point is sunlit at each sample.
    edges_h : (t + 1,) float
        Bounds of the time each sample stands for (`SunPath.edges_h`) [h].
    min_segment_min
        Segments shorter than this do not count toward `counted_min` (e.g. 5
        in Beijing on the Great Cold day) [min].
    max_segments
        At most this many segments, the longest, count toward `counted_min`
        (e.g. 2 for housing in Hangzhou, 3 for kindergartens); None for all.
    return_sunlit
        Keep the ``(m, t)`` matrix in the result.
    return_segments
        Return every segment's point, start, end and whether it counted.
    valid : (m,) bool, optional
        Points to report; the others get NaN durations and no segments.

    Returns
    -------
    SunlightResult
        Per-point totals (``n_rays`` 0, ``engine`` ``"none"``).

    Raises
    ------
    ValueError
        If the shapes do not match or an option is out of range.

    Examples
    --------
    Three segments of 2, 1 and 3 samples at a 10-minute step:

    >>> lit = [[1, 1, 0, 1, 0, 1, 1, 1]]
    >>> edges = [0, 5, 15, 25, 35, 45, 55, 65, 70]  # minutes, here as hours
    >>> r = sunlight_summary(lit, [e / 60 for e in edges], max_segments=2)
    >>> r.sunlit_min.tolist(), r.segments.tolist(), r.counted_min.tolist()
    ([50.0], [3], [40.0])
    """
    _check_segment_options(min_segment_min, max_segments)
    lit = np.asarray(sunlit, dtype=bool)
    edges = np.asarray(edges_h, dtype=np.float64)
    if lit.ndim != 2 or edges.shape != (lit.shape[1] + 1,):
        msg = (
            "sunlit must be (m, t) and edges_h (t + 1,), got shapes "
            f"{lit.shape} and {edges.shape}"
        )
        raise ValueError(msg)
    m = lit.shape[0]
    ok = np.ones(m, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if ok.shape != (m,):
        msg = f"valid must have shape ({m},), got {ok.shape}"
        raise ValueError(msg)
    if not ok.all():
        lit = lit & ok[:, None]

    padded = np.zeros((m, lit.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = lit
    change = np.diff(padded, axis=1)
    row, start = np.nonzero(change == 1)  # run covers samples start..stop-1
    stop = np.nonzero(change == -1)[1]  # row-major: pairs with `start`
    length = (edges[stop] - edges[start]) * 60.0

    sunlit_min = np.bincount(row, weights=length, minlength=m).astype(np.float64)
    segments = np.bincount(row, minlength=m).astype(np.intp)
    longest = np.zeros(m)
    np.maximum.at(longest, row, length)

    counted = length >= min_segment_min - _TOL_MIN
    if max_segments is not None and row.size:
        order = np.lexsort((-length, row))  # by point, longest first
        row_s = row[order]
        first = np.flatnonzero(np.r_[True, row_s[1:] != row_s[:-1]])
        rank = np.arange(row_s.shape[0]) - np.repeat(
            first, np.diff(np.r_[first, row_s.shape[0]])
        )
        top = np.empty_like(counted)
        top[order] = rank < max_segments
        counted &= top
    counted_min = np.bincount(
        row, weights=np.where(counted, length, 0.0), minlength=m
    ).astype(np.float64)

    nan = ~ok
    for arr in (sunlit_min, longest, counted_min):
        arr[nan] = np.nan
    return SunlightResult(
        sunlit_min=sunlit_min,
        segments=segments,
        longest_min=longest,
        counted_min=counted_min,
        sunlit=lit if return_sunlit else None,
        segment_point=row.astype(np.intp) if return_segments else None,
        segment_start_h=edges[start] if return_segments else None,
        segment_end_h=edges[stop] if return_segments else None,
        segment_counted=counted if return_segments else None,
    )


def _candidates(
    normals: _F64,
    sun: _F64,
    *,
    min_incidence_deg: float,
    incidence: str,
) -> npt.NDArray[np.bool_]:
    """``(c, t)`` mask: the sun is up and in front of each unit normal."""
    dot = normals @ sun.T
    cand = (dot > 0.0) & (sun[:, 2] > 0.0)[None, :]
    if min_incidence_deg > 0:
        limit = np.sin(np.radians(min_incidence_deg))
        if incidence == "surface":
            cand &= dot > limit
        else:
            # Plan angle between the sun's azimuth and the facade line, for
            # facades whose normal has a horizontal part; the surface angle
            # for horizontal surfaces.
            nh = np.hypot(normals[:, 0], normals[:, 1])
            sh = np.hypot(sun[:, 0], sun[:, 1])
            plan_dot = normals[:, :2] @ sun[:, :2].T
            with np.errstate(invalid="ignore", divide="ignore"):
                plan = plan_dot / (nh[:, None] * sh[None, :])
            vertical_normal = (nh < 1e-9)[:, None]
            zenith_sun = (sh < 1e-12)[None, :]
            cand &= np.where(vertical_normal, dot > limit, zenith_sun | (plan > limit))
    return cand


def sunlight_hours(
    points: npt.ArrayLike,
    normals: npt.ArrayLike,
    scene: _Scene | RayScene,
    sun: SunPath,
    *,
    min_incidence_deg: float = 0.0,
    incidence: Literal["plan", "surface"] = "plan",
    min_segment_min: float = 0.0,
    max_segments: int | None = None,
    return_sunlit: bool = False,
    return_segments: bool = False,
    batch_rays: int = 2_000_000,
    engine: Literal["auto", "embree", "triangle"] = "auto",
) -> SunlightResult:
    """Direct-sunlight duration at points on facades (or anywhere).

    A point is sunlit at a sample when the sun is above the horizon
    (elevation of its centre ``> 0``), in front of the point
    (``normal . sun > 0``; with `min_incidence_deg`, at least that far off the
    facade) and the ray from the point toward the sun hits no triangle of
    `scene`. Points are processed in chunks: the geometric tests for a chunk
    leave the candidate rays, at most `batch_rays` of them, which are cast in
    one call of the engine's ``intersects_any``.

    Parameters
    ----------
    points : (m, 3) float
        Sample points, e.g. `geometry.facade.FacadePoints.xyz` [m].
    normals : (m, 3) float
        Outward normals of the surfaces the points lie on, unit or not [-].
    scene : trimesh.Trimesh or MeshArrays or sequence of trimesh.Trimesh or RayScene
        Obstructions, the points' own buildings included; a `RayScene` from
        `ray_scene` is reused as is (and `engine` ignored).
    sun : SunPath
        Sun directions from `sun_vectors`.
    min_incidence_deg
        Smallest angle between the sun's ray and the facade that counts
        (最小扫略角, e.g. 15 where a rule sets one; 0 counts any sun in
        front) [deg].
    incidence : {"plan", "surface"}
        How that angle is measured: ``"plan"`` in plan, between the sun's
        azimuth and the facade line, as the window-reveal rules do
        (``arctan(wall thickness / window width)``); ``"surface"`` in 3D,
        between the ray and the facade plane. Horizontal surfaces always use
        the 3D angle.
    min_segment_min
        Segments shorter than this do not count toward
        `SunlightResult.counted_min` [min].
    max_segments
        Only the longest this many segments count toward
        `SunlightResult.counted_min` (2 for housing in Hangzhou); None for
        all.
    return_sunlit
        Return the ``(m, t)`` sunlit matrix.
    return_segments
        Return every segment (point, start, end, counted).
    batch_rays
        Largest number of rays per call of the ray engine; memory grows by
        about 200 bytes per ray.
    engine : {"auto", "embree", "triangle"}
        Ray engine, see `ray_scene`.

    Returns
    -------
    SunlightResult
        Sunlit minutes, segment counts, longest segment and counted minutes
        per point, plus the requested details.

    Raises
    ------
    ValueError
        If the shapes do not match or an option is out of range.

    See Also
    --------
    sun_vectors : The sun's directions over a window.
    sunlight_summary : The same totals from a ready sunlit matrix.

    Examples
    --------
    A south-facing point at 0.9 m, 20 m north of a long wall 15 m high, on
    the Great Cold day in Hangzhou (8-16 h): the wall shades it while the
    sun's profile angle (its elevation seen in the vertical plane of the
    normal) is below atan(14.1 / 20) = 35.2 degrees, before 9:32 and after
    14:28.

    >>> import shapely
    >>> from geometry.mesh import extrude_arrays
    >>> from geometry.solar import great_cold_day
    >>> wall = extrude_arrays([shapely.box(-500, -21, 500, -20)], [15.0])
    >>> sun = sun_vectors(great_cold_day(2025), lat=30.25, lon=120.17,
    ...                   start_h=8, end_h=16)
    >>> r = sunlight_hours([[0, 0.01, 0.9]], [[0, -1, 0]], wall, sun,
    ...                    return_segments=True)
    >>> r.engine, r.segments.tolist(), r.sunlit_min.tolist()
    ('embree', [1], [296.0])
    >>> r.segment_start_h.round(3).tolist(), r.segment_end_h.round(3).tolist()
    ([9.542], [14.475])
    """
    if incidence not in _INCIDENCE:
        msg = (
            f"invalid incidence {incidence!r}; expected one of {', '.join(_INCIDENCE)}"
        )
        raise ValueError(msg)
    if not (np.isfinite(min_incidence_deg) and 0.0 <= min_incidence_deg < 90.0):
        msg = f"min_incidence_deg must be in [0, 90) [deg], got {min_incidence_deg!r}"
        raise ValueError(msg)
    if int(batch_rays) < 1:
        msg = f"batch_rays must be a positive integer, got {batch_rays!r}"
        raise ValueError(msg)
    _check_segment_options(min_segment_min, max_segments)
    pts = np.asarray(points, dtype=np.float64)
    nrm = np.asarray(normals, dtype=np.float64)
    if pts.ndim == 1 and pts.shape[0] == 0:
        pts = pts.reshape(0, 3)
    if nrm.ndim == 1 and nrm.shape[0] == 0:
        nrm = nrm.reshape(0, 3)
    if pts.ndim != 2 or pts.shape[1] != 3 or nrm.shape != pts.shape:
        msg = (
            "points and normals must both be (m, 3) arrays, got shapes "
            f"{pts.shape} and {nrm.shape}"
        )
        raise ValueError(msg)

    rays = scene if isinstance(scene, RayScene) else ray_scene(scene, engine=engine)
    m, t = pts.shape[0], len(sun)
    length = np.linalg.norm(nrm, axis=1)
    valid = np.isfinite(pts).all(axis=1) & np.isfinite(length) & (length > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(valid[:, None], nrm / length[:, None], 0.0)
    sun_dir = np.asarray(sun.vectors, dtype=np.float64)
    # The engine works in float32 anyway: gather the rays in float32, with
    # origins relative to the scene's centre (see `RayScene`).
    local32 = (pts - rays.origin).astype(np.float32)
    sun32 = sun_dir.astype(np.float32)
    n_up = max(1, int(np.count_nonzero(sun_dir[:, 2] > 0)))
    chunk = max(1, int(batch_rays) // n_up)

    parts: list[SunlightResult] = []
    n_rays = 0
    for lo in range(0, m, chunk):
        hi = min(m, lo + chunk)
        cand = _candidates(
            unit[lo:hi],
            sun_dir,
            min_incidence_deg=float(min_incidence_deg),
            incidence=incidence,
        )
        cand &= valid[lo:hi, None]
        flat = np.flatnonzero(cand)  # point-major, as the matrix
        pi, ti = np.divmod(flat, t)
        hit = rays.intersects_any_local(local32[lo + pi], sun32[ti])
        cand.reshape(-1)[flat[hit]] = False  # now: sunlit
        n_rays += flat.shape[0]
        logger.debug("points %d-%d: %d rays, %d hit", lo, hi, flat.shape[0], hit.sum())
        parts.append(
            sunlight_summary(
                cand,
                sun.edges_h,
                min_segment_min=min_segment_min,
                max_segments=max_segments,
                return_sunlit=return_sunlit,
                return_segments=return_segments,
                valid=valid[lo:hi],
            )
        )
    if not parts:
        parts.append(
            sunlight_summary(
                np.zeros((0, t), dtype=bool),
                sun.edges_h,
                return_sunlit=return_sunlit,
                return_segments=return_segments,
            )
        )
    return _concat(parts, chunk, n_rays=n_rays, engine=rays.engine)


def _concat(
    parts: list[SunlightResult], chunk: int, *, n_rays: int, engine: str
) -> SunlightResult:
    """Join the results of consecutive chunks of ``chunk`` points."""
    first = parts[0]
    seg_point = None
    if first.segment_point is not None:
        shifted = [
            np.asarray(p.segment_point, dtype=np.intp) + i * chunk
            for i, p in enumerate(parts)
        ]
        seg_point = np.concatenate(shifted)

    def cat(name: str) -> Any:
        if getattr(first, name) is None:
            return None
        if len(parts) == 1:
            return getattr(first, name)
        return np.concatenate([getattr(p, name) for p in parts])

    return SunlightResult(
        sunlit_min=cat("sunlit_min"),
        segments=cat("segments"),
        longest_min=cat("longest_min"),
        counted_min=cat("counted_min"),
        n_rays=n_rays,
        engine=engine,
        sunlit=cat("sunlit"),
        segment_point=seg_point,
        segment_start_h=cat("segment_start_h"),
        segment_end_h=cat("segment_end_h"),
        segment_counted=cat("segment_counted"),
    )
