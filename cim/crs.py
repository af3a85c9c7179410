"""Coordinate reference systems: the twin works in one projected CRS in metres.

Compliance numbers (areas, distances, plot ratios) are only meaningful in a
metric projected CRS, so the twin refuses geographic or non-metre CRSs in its
layers (:class:`~cim.errors.CRSError`) and projects geographic input itself:
to the local UTM zone by default, or to any metric CRS given by EPSG code, such
as CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549) used in Hangzhou.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyproj import CRS, Transformer

from cim.errors import CRSError

__all__ = [
    "HANGZHOU_CRS",
    "check_metric_crs",
    "coords_look_geographic",
    "is_metric",
    "resolve_crs",
    "utm_crs_for",
]

#: CGCS2000 / 3-degree Gauss-Kruger CM 120E, the projected CRS used in Hangzhou.
HANGZHOU_CRS = 4549


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
            "the twin needs metres: build it with Twin.from_layers, which projects "
            "to local UTM, or reproject with gdf.to_crs(4549)"
        )
        raise CRSError(msg)
    if not is_metric(crs):
        units = ", ".join(a.unit_name for a in crs.axis_info[:2])
        msg = (
            f"layer {layer!r} is in CRS {_name(crs)} with units {units}; "
            "the twin needs a projected CRS in metres, e.g. EPSG:4549"
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
    margin = 1.0
    inside = (
        aou.west - margin <= lon <= aou.east + margin
        and aou.south - margin <= lat <= aou.north + margin
    )
    return not inside
