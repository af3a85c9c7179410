"""Conversion between WGS84 (EPSG:4326) and GCJ-02 ("Mars") coordinates.

GCJ-02 is the coordinate system mandated by the Chinese State Bureau of
Surveying and Mapping (国测局, hence "GCJ") for published maps of mainland
China. Web maps such as Amap/Gaode, Tencent Maps and Google Maps China
serve GCJ-02 coordinates, so a point picked on one of those maps has to be
converted before it can be combined with GPS or OpenStreetMap data (WGS84).

GCJ-02 is **not a geodetic datum**: it is a deliberate obfuscation of WGS84
latitude/longitude by a smooth, non-linear offset of roughly 100-700 m
(about 110-715 m east of 100 degrees E; it only drops below 100 m, to about
20 m, in a thin strip of the sparsely populated north-west around
92-99 degrees E, north of 35 degrees N). The official algorithm is
confidential; this module implements the reverse-engineered formula used by
the open-source converters (eviltransform, coordtransform, gcoord, ...): a
polynomial-plus-sine series evaluated on ``(lon - 105, lat - 35)`` and
scaled to degrees with the Krasovsky 1940 ellipsoid (``a = 6378245.0`` m,
``e**2 = 0.00669342162296594323``). It reproduces the published test
vectors of those libraries to full double precision; coordinate pairs read
from real map services agree with it to better than about 1 m.

The forward direction (:func:`wgs84_to_gcj02`) is closed-form. The inverse
(:func:`gcj02_to_wgs84`) has no closed form; it is solved by fixed-point
iteration ``w <- g - delta(w)``. Because the offset ``delta`` varies by only
a few thousandths of a degree per degree, every iteration shrinks the error
by a factor of more than 100, so the default tolerance (``tol_deg=1e-9``)
is reached in about 5 iterations and the round trip
``gcj02_to_wgs84(wgs84_to_gcj02(p))`` reproduces ``p`` to better than
1e-9 degrees (0.1 mm). Measured on a dense 1200 x 1200 grid over the whole
box, the worst round-trip error is about 1.5e-13 degrees; it grows to a few
1e-11 degrees only within 1e-8 degrees of the 105 degrees E meridian, where
the series has a ``sqrt(|lon - 105|)`` cusp. The common "one-step" inverse
(``g - delta(g)``) is only accurate to a few metres (up to about 5 m).

Points outside mainland China
-----------------------------
Like the published implementations, the offset is applied only inside the
rough rectangle 72.004 <= lon <= 137.8347, 0.8293 <= lat <= 55.8271
(:func:`in_china`); points outside it (and NaN input) are returned
unchanged. The rectangle is coarse: it contains all of mainland China but
also large parts of neighbouring countries and seas, and Hong Kong, Macau
and Taiwan are *not* special-cased (they are offset too, as in the
reference implementations). The inverse tests the rectangle on its
(GCJ-02) input, again as the reference implementations do, so the round
trip is exact for every point whose WGS84 and GCJ-02 positions both lie
inside the rectangle, i.e. everywhere except a band of at most about 1 km
along its edges.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import shapely

__all__ = [
    "CHINA_BBOX",
    "KRASOVSKY_A",
    "KRASOVSKY_EE",
    "gcj02_to_wgs84",
    "in_china",
    "transform_geometry_gcj02_to_wgs84",
    "transform_geometry_wgs84_to_gcj02",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]

#: Semi-major axis of the Krasovsky 1940 ellipsoid [m].
KRASOVSKY_A: float = 6378245.0
#: First eccentricity squared of the Krasovsky 1940 ellipsoid [-].
KRASOVSKY_EE: float = 0.00669342162296594323
#: Rough box of mainland China used by the published implementations,
#: ``(lon_min, lat_min, lon_max, lat_max)`` [degrees].
CHINA_BBOX: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)

_PI = math.pi


def _as_float_arrays(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Broadcast ``lon`` and ``lat`` to float64 arrays of a common shape.

    Parameters
    ----------
    lon : array_like
        Longitude [degrees].
    lat : array_like
        Latitude [degrees].

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        Freshly allocated arrays (never views of the input) [degrees].
    """
    lon_b, lat_b = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.array(lon_b, dtype=np.float64), np.array(lat_b, dtype=np.float64)


def _is_scalar_input(lon: npt.ArrayLike, lat: npt.ArrayLike) -> bool:
    """Return True when both inputs are scalars (not arrays, not sequences).

    A 0-d :class:`numpy.ndarray` counts as an array, so it is returned as
    an array; Python and NumPy scalars (e.g. ``np.float64``) count as
    scalars.
    """
    return (
        not isinstance(lon, np.ndarray)
        and not isinstance(lat, np.ndarray)
        and np.ndim(lon) == 0
        and np.ndim(lat) == 0
    )


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Test whether points fall in the rough box where GCJ-02 offsets apply.

    The box is the one used by the published GCJ-02 implementations
    (:data:`CHINA_BBOX`): ``72.004 <= lon <= 137.8347`` and
    ``0.8293 <= lat <= 55.8271``. It is a coarse rectangle, not a country
    outline. NaN coordinates are reported as outside.

    Parameters
    ----------
    lon : array_like
        Longitude [degrees].
    lat : array_like
        Latitude [degrees].

    Returns
    -------
    numpy.ndarray of bool
        True where the point lies inside the box; shape is the broadcast
        shape of ``lon`` and ``lat`` (0-d for scalar input).
    """
    x, y = _as_float_arrays(lon, lat)
    lon_min, lat_min, lon_max, lat_max = CHINA_BBOX
    inside: npt.NDArray[np.bool_] = (
        (x >= lon_min) & (x <= lon_max) & (y >= lat_min) & (y <= lat_max)
    )
    return inside


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    """Latitude term of the GCJ-02 series.

    Parameters
    ----------
    x : numpy.ndarray of float64
        ``lon - 105`` [degrees].
    y : numpy.ndarray of float64
        ``lat - 35`` [degrees].

    Returns
    -------
    numpy.ndarray of float64
        Northward offset on the Krasovsky ellipsoid [m] (nominal).
    """
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
    ret = ret + 0.2 * np.sqrt(np.abs(x))
    ret = (
        ret + (20.0 * np.sin(6.0 * x * _PI) + 20.0 * np.sin(2.0 * x * _PI)) * 2.0 / 3.0
    )
    ret = ret + (20.0 * np.sin(y * _PI) + 40.0 * np.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    ret = (
        ret
        + (160.0 * np.sin(y / 12.0 * _PI) + 320.0 * np.sin(y * _PI / 30.0)) * 2.0 / 3.0
    )
    return ret


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    """Longitude term of the GCJ-02 series.

    Parameters
    ----------
    x : numpy.ndarray of float64
        ``lon - 105`` [degrees].
    y : numpy.ndarray of float64
        ``lat - 35`` [degrees].

    Returns
    -------
    numpy.ndarray of float64
        Eastward offset on the Krasovsky ellipsoid [m] (nominal).
    """
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
    ret = ret + 0.1 * np.sqrt(np.abs(x))
    ret = (
        ret + (20.0 * np.sin(6.0 * x * _PI) + 20.0 * np.sin(2.0 * x * _PI)) * 2.0 / 3.0
    )
    ret = ret + (20.0 * np.sin(x * _PI) + 40.0 * np.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    ret = (
        ret
        + (150.0 * np.sin(x / 12.0 * _PI) + 300.0 * np.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    )
    return ret


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS84 offset evaluated at a WGS84 position.

    The offset is applied unconditionally (no box test).

    Parameters
    ----------
    lon : numpy.ndarray of float64
        WGS84 longitude [degrees].
    lat : numpy.ndarray of float64
        WGS84 latitude [degrees].

    Returns
    -------
    dlon, dlat : numpy.ndarray of float64
        Offsets to add to ``lon`` and ``lat`` [degrees].
    """
    x = lon - 105.0
    y = lat - 35.0
    dlat = _transform_lat(x, y)
    dlon = _transform_lon(x, y)
    rad_lat = lat / 180.0 * _PI
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    # Meridian radius of curvature M and prime-vertical radius N (Krasovsky).
    dlat = (dlat * 180.0) / (
        (KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * _PI
    )
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * _PI)
    return dlon, dlat


def _wrap_result(
    lon: FloatArray, lat: FloatArray, scalar: bool
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Return Python floats for scalar input, arrays otherwise."""
    if scalar:
        return float(lon), float(lat)
    return lon, lat


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Convert WGS84 coordinates to GCJ-02.

    Points outside :func:`in_china` (and NaN) are returned unchanged, as in
    the published implementations.

    Parameters
    ----------
    lon : float or array_like
        WGS84 longitude [degrees].
    lat : float or array_like
        WGS84 latitude [degrees]; broadcast against ``lon``.

    Returns
    -------
    lon, lat : float or numpy.ndarray of float64
        GCJ-02 longitude and latitude [degrees]. Python floats when both
        inputs are scalars, otherwise new float64 arrays of the broadcast
        shape.

    See Also
    --------
    gcj02_to_wgs84 : Iterative inverse.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410244, 39.916404)
    """
    scalar = _is_scalar_input(lon, lat)
    x, y = _as_float_arrays(lon, lat)
    mask = in_china(x, y)
    if np.any(mask):
        dlon, dlat = _offset(x[mask], y[mask])
        x[mask] += dlon
        y[mask] += dlat
    return _wrap_result(x, y, scalar)


@overload
def gcj02_to_wgs84(
    lon: float, lat: float, *, tol_deg: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tol_deg: float = ...,
    max_iter: int = ...,
) -> tuple[FloatArray, FloatArray]: ...
def gcj02_to_wgs84(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tol_deg: float = 1e-9,
    max_iter: int = 30,
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 coordinates to WGS84 by fixed-point iteration.

    Solves ``w + delta(w) = g`` for the WGS84 position ``w`` with the
    iteration ``w_{k+1} = g - delta(w_k)``, starting from ``w_0 = g``. The
    iteration is a contraction (the Jacobian of ``delta`` is of order
    1e-3), so each step gains more than 2 significant digits; iteration stops
    once every point moved by less than ``tol_deg`` in the last step, which
    bounds the remaining error well below ``tol_deg``.

    Points outside :func:`in_china` (tested on the GCJ-02 input, as in the
    published implementations) and NaN are returned unchanged.

    Parameters
    ----------
    lon : float or array_like
        GCJ-02 longitude [degrees].
    lat : float or array_like
        GCJ-02 latitude [degrees]; broadcast against ``lon``.
    tol_deg : float, default 1e-9
        Convergence threshold on the largest coordinate update of the last
        iteration [degrees]. Must be positive.
    max_iter : int, default 30
        Maximum number of iterations. Must be at least 1.

    Returns
    -------
    lon, lat : float or numpy.ndarray of float64
        WGS84 longitude and latitude [degrees]. Python floats when both
        inputs are scalars, otherwise new float64 arrays of the broadcast
        shape.

    Raises
    ------
    ValueError
        If ``tol_deg`` is not positive or ``max_iter`` is less than 1.

    Warns
    -----
    RuntimeWarning
        If some points have not converged to ``tol_deg`` after ``max_iter``
        iterations (the best estimate is still returned).

    See Also
    --------
    wgs84_to_gcj02 : Closed-form forward conversion.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(116.404, 39.915))
    >>> abs(lon - 116.404) < 1e-9 and abs(lat - 39.915) < 1e-9
    True
    """
    if not tol_deg > 0.0:
        raise ValueError(f"tol_deg must be positive, got {tol_deg!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}")
    scalar = _is_scalar_input(lon, lat)
    x, y = _as_float_arrays(lon, lat)
    mask = in_china(x, y)
    if np.any(mask):
        g_lon = x[mask]
        g_lat = y[mask]
        w_lon = g_lon.copy()
        w_lat = g_lat.copy()
        converged = False
        for _ in range(max_iter):
            dlon, dlat = _offset(w_lon, w_lat)
            new_lon = g_lon - dlon
            new_lat = g_lat - dlat
            step = np.maximum(np.abs(new_lon - w_lon), np.abs(new_lat - w_lat))
            w_lon, w_lat = new_lon, new_lat
            if float(np.max(step)) < tol_deg:
                converged = True
                break
        if not converged:
            warnings.warn(
                f"gcj02_to_wgs84 did not converge to tol_deg={tol_deg:g} "
                f"within max_iter={max_iter} iterations",
                RuntimeWarning,
                stacklevel=2,
            )
        x[mask] = w_lon
        y[mask] = w_lat
    return _wrap_result(x, y, scalar)


def _coords_gcj02_to_wgs84(coords: FloatArray) -> FloatArray:
    """Convert an ``(N, 2)`` or ``(N, 3)`` coordinate array GCJ-02 -> WGS84."""
    out = np.array(coords, dtype=np.float64)
    lon, lat = gcj02_to_wgs84(out[:, 0], out[:, 1])
    out[:, 0] = lon
    out[:, 1] = lat
    return out


def _coords_wgs84_to_gcj02(coords: FloatArray) -> FloatArray:
    """Convert an ``(N, 2)`` or ``(N, 3)`` coordinate array WGS84 -> GCJ-02."""
    out = np.array(coords, dtype=np.float64)
    lon, lat = wgs84_to_gcj02(out[:, 0], out[:, 1])
    out[:, 0] = lon
    out[:, 1] = lat
    return out


def transform_geometry_gcj02_to_wgs84(geom: Any) -> Any:
    """Convert shapely geometries from GCJ-02 to WGS84.

    Every vertex is converted with :func:`gcj02_to_wgs84` (default
    tolerance) through :func:`shapely.transform`, which is vectorized over
    all coordinates at once. Coordinates are interpreted as ``x = lon``,
    ``y = lat``; a Z coordinate, if present, is kept unchanged.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of shapely.Geometry
        Geometry or geometries in GCJ-02 [degrees]. ``None`` entries are
        passed through.

    Returns
    -------
    shapely.Geometry or numpy.ndarray of shapely.Geometry
        Geometry (or object array of geometries, same shape as the input)
        in WGS84 [degrees]. Vertex count and topology are unchanged; the
        offset field is smooth at the scale of a city, so straight segments
        are not densified.
    """
    return shapely.transform(geom, _coords_gcj02_to_wgs84, include_z=True)


def transform_geometry_wgs84_to_gcj02(geom: Any) -> Any:
    """Convert shapely geometries from WGS84 to GCJ-02.

    The inverse of :func:`transform_geometry_gcj02_to_wgs84`, e.g. to
    overlay WGS84 planning data on an Amap or Tencent base map.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of shapely.Geometry
        Geometry or geometries in WGS84 [degrees]. ``None`` entries are
        passed through.

    Returns
    -------
    shapely.Geometry or numpy.ndarray of shapely.Geometry
        Geometry (or object array of geometries) in GCJ-02 [degrees]; a Z
        coordinate, if present, is kept unchanged.
    """
    return shapely.transform(geom, _coords_wgs84_to_gcj02, include_z=True)
