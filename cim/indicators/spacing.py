"""Building spacing: distance from each building to the buildings due south of it.

Chinese spacing rules (e.g. Hangzhou's 2026 regulation, 三(一)) ask that a
dwelling keep a distance from the building to its south of at least a
multiple of that building's height, and at least a fixed minimum. This module
measures, for every building, the wall-to-wall distance to each building *due
south* of it: one whose footprint lies wholly south of the building's
southern edge and overlaps it in the east-west direction (by bounding
boxes), within a search distance. Grid north is taken as north and blocks as
parallel (azimuth factor 1.0); the caller decides which buildings the rule
covers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

__all__ = ["front_spacing"]


def front_spacing(
    buildings: gpd.GeoDataFrame,
    *,
    search_m: float = 150.0,
    max_south_height_m: float = np.inf,
    tolerance_m: float = 0.5,
) -> pd.DataFrame:
    """Spacing from each building to the buildings due south of it.

    Parameters
    ----------
    buildings
        Footprints with ``building_id`` and ``height_m``, in a metric CRS
        whose y axis points north.
    search_m
        How far south to look [m].
    max_south_height_m
        Only buildings at most this tall count as south buildings [m] (e.g.
        27 m, where taller ones follow a high-rise formula).
    tolerance_m
        Overlap allowed between the two footprints' north-south extents, and
        east-west overlap needed to count as "due south" [m].

    Returns
    -------
    pandas.DataFrame
        Indexed by ``building_id``: ``front_spacing_m`` (shortest distance to
        a south building [m]), ``front_spacing_ratio`` (smallest distance /
        south building height [-]), ``south_building_id`` (the building giving
        that ratio) and ``n_south``; NaN and 0 where no building is due south.

    Examples
    --------
    Two 9 m slabs 12 m apart, north-south:

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cim.indicators import front_spacing
    >>> b = gpd.GeoDataFrame({"building_id": ["s", "n"], "height_m": [9.0, 9.0]},
    ...     geometry=[box(0, 0, 60, 12), box(0, 24, 60, 36)], crs=4549)
    >>> sp = front_spacing(b)
    >>> sp.loc["n", ["front_spacing_m", "front_spacing_ratio"]].round(3).tolist()
    [12.0, 1.333]
    >>> sp.loc["n", ["nearest_south_building_id", "south_building_id"]].tolist()
    ['s', 's']
    >>> int(sp.loc["s", "n_south"])
    0
    """
    geoms = np.asarray(buildings.geometry.array, dtype=object)
    ids = pd.Index(buildings["building_id"].astype("str"), name="building_id")
    h = pd.to_numeric(buildings["height_m"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    n = len(geoms)
    dist = np.full(n, np.nan)
    ratio = np.full(n, np.nan)
    south = np.full(n, -1, dtype=np.intp)
    nearest = np.full(n, -1, dtype=np.intp)
    count = np.zeros(n, dtype=np.intp)
    if n:
        b = shapely.bounds(geoms)
        strips = shapely.box(b[:, 0], b[:, 1] - search_m, b[:, 2], b[:, 1])
        tree = shapely.STRtree(geoms)
        ni, si = tree.query(strips, predicate="intersects")
        overlap_x = np.minimum(b[ni, 2], b[si, 2]) - np.maximum(b[ni, 0], b[si, 0])
        keep = (
            (ni != si)
            & (b[si, 3] <= b[ni, 1] + tolerance_m)
            & (overlap_x > tolerance_m)
            & (h[si] > 0)
            & (h[si] <= max_south_height_m)
        )
        ni, si = ni[keep], si[keep]
        d = shapely.distance(geoms[ni], geoms[si])
        r = d / h[si]
        np.fmin.at(dist, ni, d)
        np.fmin.at(ratio, ni, r)
        count = np.bincount(ni, minlength=n)
        if len(ni):
            # Per north building, the south building of least ratio and the
            # nearest one (first in layer order on a tie).
            for key, out in ((r, south), (d, nearest)):
                order = np.lexsort((si, key, ni))
                first = np.ones(len(order), dtype=bool)
                first[1:] = ni[order][1:] != ni[order][:-1]
                out[ni[order][first]] = si[order][first]
    names = np.asarray(ids, dtype=object)

    def id_of(pos: NDArray[np.intp]) -> pd.api.extensions.ExtensionArray:
        out = np.full(n, None, dtype=object)
        out[pos >= 0] = names[pos[pos >= 0]]
        return pd.array(out, dtype="str")

    return pd.DataFrame(
        {
            "front_spacing_m": dist,
            "nearest_south_building_id": id_of(nearest),
            "front_spacing_ratio": ratio,
            "south_building_id": id_of(south),
            "n_south": count,
        },
        index=ids,
    )
