"""Which zone each feature lies in, and how much of it: area-weighted overlay.

Buildings, greens and facilities are assigned to parcels (or to the site) by
spatial overlay. A polygon crossing a zone boundary is split by area: each
zone gets the share of the feature's area that lies inside it, and every
quantity of the feature (floor area, households, planted area ...) is
distributed by that share. A polygon of zero area (or a point) that touches
several zones is split equally between them. Parts of a feature outside every
zone are in none. Where zones overlap, a feature's shares may sum to more
than 1.

The work is vectorised: one :class:`shapely.STRtree` query for the candidate
(feature, zone) pairs, a prepared :func:`shapely.covers` test for the common
case of a feature wholly inside its only candidate zone, and
:func:`shapely.intersection` areas for the rest. Pairs come sorted by zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cim.errors import CRSError

__all__ = ["ZONE_ID_COLUMNS", "Shares", "check_same_crs", "overlay_shares", "zone_ids"]

#: Id columns of the layers that can be zones, in the order they are tried.
ZONE_ID_COLUMNS = ("parcel_id", "site_id")
_FEATURE_ID_COLUMNS = ("building_id", "green_id", "facility_id", "parcel_id", "site_id")


@dataclass(frozen=True)
class Shares:
    """(feature, zone) pairs of an overlay, by position in the two layers.

    Parameters
    ----------
    feature
        Position of the feature in its layer, ``(k,)`` int.
    zone
        Position of the zone in its layer, ``(k,)`` int.
    area_m2
        Area of the feature inside the zone, ``(k,)`` float [m2] (0 for points).
    share
        Share of the feature in the zone, ``(k,)`` float [-]; always > 0:
        the overlay keeps a pair only if the feature has area inside the
        zone, or no area at all (then it is split equally between the zones
        it touches).
    n_features
        Number of features in the feature layer.
    n_zones
        Number of zones.
    """

    feature: NDArray[np.intp]
    zone: NDArray[np.intp]
    area_m2: NDArray[np.float64]
    share: NDArray[np.float64]
    n_features: int
    n_zones: int

    def sum(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-zone sum of a per-feature quantity, weighted by share.

        Parameters
        ----------
        values
            One value per feature, ``(n_features,)`` float; NaN counts as 0.

        Returns
        -------
        numpy.ndarray
            ``(n_zones,)`` float.
        """
        v = np.nan_to_num(np.asarray(values, dtype="float64")[self.feature])
        out = np.bincount(self.zone, weights=v * self.share, minlength=self.n_zones)
        return np.asarray(out, dtype="float64")

    def any(self, mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Per zone: whether any feature with ``mask`` true has a share in it.

        Parameters
        ----------
        mask
            ``(n_features,)`` bool.

        Returns
        -------
        numpy.ndarray
            ``(n_zones,)`` bool.
        """
        hit = np.asarray(mask, dtype=bool)[self.feature] & (self.share > 0)
        return np.bincount(self.zone[hit], minlength=self.n_zones) > 0

    def main_zone(self) -> NDArray[np.intp]:
        """Per feature: the zone holding its largest share (-1 if none).

        Returns
        -------
        numpy.ndarray
            ``(n_features,)`` int.
        """
        out = np.full(self.n_features, -1, dtype=np.intp)
        if not len(self.feature):
            return out
        order = np.lexsort((-self.share, self.feature))
        first = np.ones(len(order), dtype=bool)
        first[1:] = self.feature[order][1:] != self.feature[order][:-1]
        out[self.feature[order][first]] = self.zone[order][first]
        return out


def zone_ids(zones: pd.DataFrame, *, id_column: str | None = None) -> pd.Index:
    """The ids of a zone layer: ``parcel_id`` or ``site_id``, else its index.

    Parameters
    ----------
    zones
        Parcels, the site, or any polygon layer.
    id_column
        Column holding the ids; default the first of ``parcel_id``, ``site_id``
        present.

    Returns
    -------
    pandas.Index
    """
    col = id_column or next((c for c in ZONE_ID_COLUMNS if c in zones.columns), None)
    if col is None:
        return pd.Index(zones.index, name="zone_id")
    return pd.Index(zones[col].astype("str"), name=col)


def _feature_ids(features: pd.DataFrame) -> pd.Index:
    col = next((c for c in _FEATURE_ID_COLUMNS if c in features.columns), None)
    if col is None:
        return pd.Index(features.index, name="feature_id")
    return pd.Index(features[col].astype("str"), name=col)


def check_same_crs(*layers: gpd.GeoDataFrame | gpd.GeoSeries) -> None:
    """Raise :class:`~cim.errors.CRSError` unless all layers share one CRS.

    Parameters
    ----------
    *layers
        GeoDataFrames or GeoSeries.
    """
    crss = [getattr(layer, "crs", None) for layer in layers]
    first = crss[0]
    for other in crss[1:]:
        if (first is None) != (other is None) or (
            first is not None and not first.equals(other)
        ):
            a = first.to_string() if first is not None else "none"
            b = other.to_string() if other is not None else "none"
            msg = (
                f"layers are in different CRSs ({a} and {b}); reproject one with "
                ".to_crs() so that areas are comparable"
            )
            raise CRSError(msg)


def _pairs(features: NDArray[np.object_], zones: NDArray[np.object_]) -> Shares:
    n, m = len(features), len(zones)
    empty = np.zeros(0, dtype=np.intp)
    if not n or not m:
        return Shares(empty, empty, np.zeros(0), np.zeros(0), n, m)
    # The zones are the query input, so that each is prepared once: a large
    # zone (a whole site) is then tested quickly against many features.
    tree = shapely.STRtree(features)
    zi, fi = tree.query(zones, predicate="intersects")
    fi = fi.astype(np.intp)
    zi = zi.astype(np.intp)
    farea = shapely.area(features)
    # A feature with one candidate zone that covers it lies wholly inside.
    count = np.bincount(fi, minlength=n)
    single = count[fi] == 1
    inside = np.zeros(len(fi), dtype=bool)
    if single.any():
        shapely.prepare(zones)
        inside[single] = shapely.covers(zones[zi[single]], features[fi[single]])
    area = np.where(inside, farea[fi], 0.0)
    rest = ~inside
    if rest.any():
        cut = shapely.intersection(features[fi[rest]], zones[zi[rest]])
        area[rest] = shapely.area(cut)
    flat = farea[fi] <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(flat, 1.0 / count[fi], area / farea[fi])
    keep = flat | (area > 0)
    return Shares(fi[keep], zi[keep], area[keep], share[keep], n, m)


def overlay_shares(
    features: gpd.GeoDataFrame | gpd.GeoSeries,
    zones: gpd.GeoDataFrame,
    *,
    zone_id: str | None = None,
) -> pd.DataFrame:
    """Area shares of features (buildings, greens ...) in zones (parcels, site).

    Parameters
    ----------
    features
        Polygons or points in a metric CRS.
    zones
        Polygons in the same CRS.
    zone_id
        Id column of ``zones``; default ``parcel_id`` or ``site_id``.

    Returns
    -------
    pandas.DataFrame
        One row per overlapping (feature, zone) pair with ``feature_id`` (the
        feature's ``building_id``, ``green_id`` ... or index), ``zone_id``,
        ``area_m2`` (the feature's area inside the zone [m2]) and ``share``
        (that area over the feature's area [-]; for points and zero-area
        polygons, 1 over the number of zones they touch).

    Raises
    ------
    CRSError
        If the layers' CRSs differ.

    Examples
    --------
    A 10 m x 10 m building across the line between two parcels:

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from cim.indicators import overlay_shares
    >>> parcels = gpd.GeoDataFrame({"parcel_id": ["p1", "p2"]},
    ...     geometry=[box(0, 0, 50, 50), box(50, 0, 100, 50)], crs=4549)
    >>> b = gpd.GeoDataFrame({"building_id": ["b1"]},
    ...     geometry=[box(45, 10, 55, 20)], crs=4549)
    >>> overlay_shares(b, parcels)
      feature_id zone_id  area_m2  share
    0         b1      p1     50.0    0.5
    1         b1      p2     50.0    0.5
    """
    check_same_crs(features, zones)
    geoms = np.asarray(features.geometry.array, dtype=object)
    zgeoms = np.asarray(zones.geometry.array, dtype=object)
    s = _pairs(geoms, zgeoms)
    fids = (
        _feature_ids(features)
        if isinstance(features, gpd.GeoDataFrame)
        else pd.Index(features.index)
    )
    zids = zone_ids(zones, id_column=zone_id)
    return pd.DataFrame(
        {
            "feature_id": np.asarray(fids)[s.feature],
            "zone_id": np.asarray(zids)[s.zone],
            "area_m2": s.area_m2,
            "share": s.share,
        }
    )
