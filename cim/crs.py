"""Coordinate reference systems: the twin works in one projected CRS in metres.

Compliance numbers (areas, distances, plot ratios) are only meaningful in a
metric projected CRS, so the twin refuses geographic or non-metre CRSs in its
layers (:class:`~cim.errors.CRSError`) and projects geographic input itself:
to the local UTM zone by default, or to any metric CRS given by EPSG code, such
as CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549) used in Hangzhou.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Proj, Transformer
from pyproj.exceptions import CRSError as _ProjCRSError
from pyproj.exceptions import ProjError

from cim.errors import CRSError, CRSWarning

__all__ = [
    "HANGZHOU_CRS",
    "MAX_AREAL_DISTORTION",
    "check_distortion",
    "check_metric_crs",
    "coords_look_geographic",
    "is_metric",
    "resolve_crs",
    "utm_crs_for",
]

#: CGCS2000 / 3-degree Gauss-Kruger CM 120E, the projected CRS used in Hangzhou.
HANGZHOU_CRS = 4549

#: Largest relative error of areas the twin accepts from its CRS at the data [-].
#: A 6-degree UTM or Gauss-Kruger zone stays within about 0.3 % inside its zone
#: at Chinese latitudes, a 3-degree zone within 0.1 %; Web Mercator enlarges
#: areas by 33 % at 30 N and 75 % at 41 N.
MAX_AREAL_DISTORTION = 0.01

#: Side of the square whose area is compared with its geodesic area [m].
_SQUARE_M = 100.0


def resolve_crs(crs: Any) -> CRS:
    """Turn an EPSG code, authority string, WKT or :class:`pyproj.CRS` into a CRS.

    Parameters
    ----------
    crs
        Anything :meth:`pyproj.CRS.from_user_input` accepts.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If the input does not describe a CRS.
    """
    if isinstance(crs, CRS):
        return crs
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:
        msg = f"{crs!r} is not a coordinate reference system; give an EPSG code"
        raise CRSError(msg + " such as 4549 or 'EPSG:32650'") from exc


def is_metric(crs: CRS) -> bool:
    """Whether ``crs`` is projected with both horizontal axes in metres."""
    if not crs.is_projected:
        return False
    units = {axis.unit_name for axis in crs.axis_info[:2]}
    return units == {"metre"}


def _name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def check_metric_crs(crs: Any, *, layer: str = "layer") -> CRS:
    """Return ``crs`` as a :class:`pyproj.CRS` if it is projected and in metres.

    Parameters
    ----------
    crs
        The CRS to check (anything :func:`resolve_crs` accepts).
    layer
        Layer name used in the error message.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If ``crs`` is missing, geographic or not in metres.
    """
    if crs is None:
        msg = (
            f"layer {layer!r} has no CRS; declare it, e.g. "
            "gdf.set_crs('EPSG:4326') for longitude/latitude"
        )
        raise CRSError(msg)
    crs = resolve_crs(crs)
    assert isinstance(crs, CRS)
    if crs.is_geographic:
        msg = (
            f"layer {layer!r} is in geographic CRS {_name(crs)} (degrees); "
            "the twin needs a projected CRS in metres: give one such as 4549 "
            "(command line: --crs 4549, or leave --crs out for the local UTM "
            "zone); in Python, build the twin with Twin.from_layers, which "
            "projects to local UTM, or reproject with gdf.to_crs(4549)"
        )
        raise CRSError(msg)
    if not is_metric(crs):
        units = ", ".join(a.unit_name for a in crs.axis_info[:2])
        msg = (
            f"layer {layer!r} is in CRS {_name(crs)} with units {units}; "
            "the twin needs a projected CRS in metres, e.g. EPSG:4549 "
            "(command line: --crs 4549; in Python gdf.to_crs(4549))"
        )
        raise CRSError(msg)
    return crs


def utm_crs_for(lon: float, lat: float) -> CRS:
    """Local UTM zone (WGS 84) for a longitude/latitude in degrees.

    Parameters
    ----------
    lon, lat
        Centre of the study area [degrees].

    Returns
    -------
    pyproj.CRS
    """
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    crs: CRS = CRS.from_epsg(epsg)
    return crs


def coords_look_geographic(bounds: tuple[float, float, float, float], crs: CRS) -> bool:
    """Whether coordinates declared in metric ``crs`` are really degrees.

    Longitude/latitude values stored under a metric CRS all fall in
    [-180, 180] x [-90, 90]; back-projected through ``crs`` they land far from
    the CRS's area of use (UTM and Gauss-Kruger false eastings are 500 km or
    more), or, for a layer spanning less than a metre, are implausibly small.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` of the layer in ``crs`` units.
    crs
        The declared metric CRS.

    Returns
    -------
    bool
    """
    minx, miny, maxx, maxy = bounds
    if not np.all(np.isfinite(bounds)):
        return False
    if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        return False
    if maxx - minx < 1.0 and maxy - miny < 1.0 and (maxx > minx or maxy > miny):
        return True
    aou = crs.area_of_use
    if aou is None:
        return False
    to_geo = Transformer.from_crs(crs, crs.geodetic_crs or 4326, always_xy=True)
    lon, lat = to_geo.transform((minx + maxx) / 2, (miny + maxy) / 2)
    return not _in_area_of_use(crs, lon, lat, margin=1.0)


def _in_area_of_use(crs: CRS, lon: float, lat: float, *, margin: float = 0.0) -> bool:
    """Whether ``(lon, lat)`` lies in the area of use of ``crs`` (+ ``margin`` deg).

    True where the CRS declares no area. An area crossing the antimeridian
    has ``west > east``.
    """
    aou = crs.area_of_use
    if aou is None:
        return True
    if not aou.south - margin <= lat <= aou.north + margin:
        return False
    west, east = aou.west - margin, aou.east + margin
    if aou.west > aou.east:
        return bool(lon >= west or lon <= east)
    return bool(west <= lon <= east)


def _gauss_kruger_3deg_for(lon: float, lat: float) -> CRS | None:
    """CGCS2000 3-degree Gauss-Kruger zone (EPSG:4534-4554) covering a point.

    None outside the zones' areas of use (they cover China only).
    """
    cm = 3 * round(lon / 3.0)
    if not 75 <= cm <= 135:
        return None
    crs: CRS = CRS.from_epsg(4534 + (cm - 75) // 3)
    return (
        crs if crs.area_of_use is not None and _in_area_of_use(crs, lon, lat) else None
    )


def _areal_factors(
    bounds: tuple[float, float, float, float], crs: CRS
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Longitude, latitude and areal scale factor at the centre and corners.

    The factor is the planar area, in ``crs``, of a 100 m square around each
    point divided by the geodesic area of its corners on the CRS's ellipsoid
    (:meth:`pyproj.Geod.polygon_area_perimeter`): what the twin measures over
    what is there. Unlike :meth:`pyproj.Proj.get_factors`, this also holds for
    Web Mercator, which PROJ evaluates on a sphere. Points the projection
    cannot take back to longitude/latitude (or not consistently: the round
    trip misses by more than a millimetre) get NaN.
    """
    minx, miny, maxx, maxy = bounds
    cx = np.array([(minx + maxx) / 2, minx, maxx, maxx, minx], dtype="float64")
    cy = np.array([(miny + maxy) / 2, miny, miny, maxy, maxy], dtype="float64")
    h = _SQUARE_M / 2
    # Counter-clockwise corners of a square around each point: (5, 4).
    xs = cx[:, None] + np.array([-h, h, h, -h])
    ys = cy[:, None] + np.array([-h, -h, h, h])
    nan = np.full(cx.shape, np.nan)
    try:
        proj = Proj(crs)
        geod = crs.get_geod()
        lon, lat = (
            np.asarray(v, dtype="float64").reshape(xs.shape)
            for v in proj(xs.ravel(), ys.ravel(), inverse=True)
        )
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)
            bx, by = (
                np.asarray(v, dtype="float64").reshape(xs.shape)
                for v in proj(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0))
            )
            ok &= (np.abs(bx - xs) < 1e-3) & (np.abs(by - ys) < 1e-3)
    except (ProjError, _ProjCRSError):
        return nan, nan, nan
    if geod is None:
        return nan, nan, nan
    ok = np.all(ok, axis=1)
    areal = nan.copy()
    for i in np.flatnonzero(ok):
        true_m2, _ = geod.polygon_area_perimeter(lon[i], lat[i])
        if true_m2 > 0:
            areal[i] = _SQUARE_M**2 / true_m2
    ok &= np.isfinite(areal)
    return (
        np.where(ok, lon.mean(axis=1), np.nan),
        np.where(ok, lat.mean(axis=1), np.nan),
        areal,
    )


def _fix(lon: float, lat: float) -> tuple[str, int]:
    """The reprojection to suggest at a point: (phrase, EPSG code to use)."""
    utm = utm_crs_for(lon, lat)
    utm_epsg = int(utm.to_epsg() or 0)
    gk = _gauss_kruger_3deg_for(lon, lat)
    phrase = f"the local UTM zone EPSG:{utm_epsg} ({utm.name})"
    if gk is None:
        return phrase, utm_epsg
    gk_epsg = int(gk.to_epsg() or 0)
    phrase = f"the CGCS2000 3-degree Gauss-Kruger zone EPSG:{gk_epsg} or {phrase}"
    return phrase, gk_epsg


def _lonlat(lon: float, lat: float) -> str:
    ew = "E" if lon >= 0 else "W"
    ns = "N" if lat >= 0 else "S"
    return f"{abs(lon):.2f}{ew} {abs(lat):.2f}{ns}"


def check_distortion(
    bounds: tuple[float, float, float, float],
    crs: CRS,
    *,
    layer: str = "layer",
    warn: bool = True,
) -> float:
    """Refuse a CRS that distorts areas where the data are; warn outside its area.

    A projected CRS in metres may still measure areas wrongly far from where
    it is meant to be used: Web Mercator (EPSG:3857) enlarges them by a factor
    1/cos^2(latitude), 33 % at 30 N, and a Gauss-Kruger zone used a continent
    away enlarges them without bound. The areal scale factor of ``crs`` (planar
    area over geodesic area on the CRS's ellipsoid) is computed with pyproj at
    the centre and the four corners of ``bounds``; one call per layer, not per
    feature.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` of the data in ``crs`` units [m].
    crs
        The data's projected metric CRS.
    layer
        Layer name for the messages.
    warn
        Issue :class:`~cim.errors.CRSWarning` when the centre of the data lies
        outside the CRS's area of use although areas are distorted less than
        :data:`MAX_AREAL_DISTORTION`; callers that check several layers of one
        twin warn once for all of them.

    Returns
    -------
    float
        The areal scale factor farthest from 1 [-], or NaN if it cannot be
        computed (non-finite bounds, or coordinates that the projection cannot
        take back to longitude/latitude); then nothing is checked.

    Raises
    ------
    CRSError
        If areas at the data are distorted by more than
        :data:`MAX_AREAL_DISTORTION` (1 %). The message names the layer, the
        CRS, the factor and the EPSG code to reproject to.
    """
    if not np.all(np.isfinite(bounds)):
        return float("nan")
    lon, lat, areal = _areal_factors(bounds, crs)
    if not np.isfinite(areal).any():
        return float("nan")
    worst = int(np.nanargmax(np.abs(areal - 1.0)))
    factor = float(areal[worst])
    # Where to reproject: the zone of the data's centre (else of a corner).
    at = 0 if np.isfinite(areal[0]) else worst
    c_lon, c_lat = float(lon[at]), float(lat[at])
    if abs(factor - 1.0) > MAX_AREAL_DISTORTION:
        phrase, epsg = _fix(c_lon, c_lat)
        msg = (
            f"layer {layer!r} is in {_name(crs)} ({crs.name}), which distorts "
            f"areas at the data ({_lonlat(c_lon, c_lat)}): areas x{factor:.3f} "
            f"({100 * (factor - 1):+.1f} %), beyond the "
            f"{100 * MAX_AREAL_DISTORTION:.0f} % the twin accepts, so areas, FAR, "
            f"densities and green rates would be wrong; reproject to {phrase}: "
            f"crs={epsg} or gdf.to_crs({epsg}) (command line: --crs {epsg})"
        )
        raise CRSError(msg)
    aou = crs.area_of_use
    if warn and aou is not None:
        if not _in_area_of_use(crs, c_lon, c_lat):
            phrase, epsg = _fix(c_lon, c_lat)
            msg = (
                f"layer {layer!r}: the data ({_lonlat(c_lon, c_lat)}) lie outside "
                f"the area of use of {_name(crs)} ({aou.name.rstrip('.')}); areas "
                f"are still within {100 * abs(factor - 1):.2f} % (x{factor:.4f}), "
                f"but a CRS meant for the place is safer: reproject to {phrase} "
                f"(crs={epsg}; command line: --crs {epsg})"
            )
            warnings.warn(msg, CRSWarning, stacklevel=3)
    return factor
