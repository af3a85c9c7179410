"""What indicator functions see during a check: the twin, floor areas, overlays.

A :class:`Context` is built once per check (:func:`cim.check.check`) and
handed to every registered indicator function. It computes lazily, and
caches, what several indicators share: the floor-area take-off per building,
the overlays of buildings, greens and parcels on parcels and on the site,
and the derived planning parameters of each feature (storey class, land
class, dwelling-size class, building class) that select a rule's threshold.

Features of each scope:

- ``parcel``: the parcels layer;
- ``site``: the site layer, or, if it is empty, one feature ``"site"``, the
  union of the parcels;
- ``building``: the buildings layer;
- ``dwelling``: housing buildings (:func:`~cim.indicators.planning.is_housing`);
  until the twin has a dwelling layer, a dwelling-scope rule is evaluated once
  per housing building, for its worst dwelling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cim.indicators.overlay import Shares, _pairs, zone_ids
from cim.indicators.planning import (
    average_dwelling_area,
    average_storeys,
    dwelling_size_class,
    dwellings,
    is_housing,
    storey_class,
)

if TYPE_CHECKING:
    from cim.takeoff import TakeoffResult
    from cim.twin import Twin

__all__ = [
    "DERIVED_PARAMETERS",
    "RESIDENTIAL_LAND_USES",
    "Context",
    "building_class",
    "holds_facility",
]

#: Land-use values read as residential land (lower case): GB/T 21010 and the
#: 2023 land-use classification codes (07 居住用地, 0701 城镇住宅用地 ...),
#: the old GB 50137 R classes, and plain words. Parcels whose ``land_use`` is
#: ``unknown`` or empty are residential if they hold dwellings.
RESIDENTIAL_LAND_USES = frozenset(
    {
        "residential",
        "07",
        "0701",
        "070101",
        "070102",
        "070103",
        "r",
        "r1",
        "r2",
        "r3",
        "r4",
        "居住用地",
        "住宅用地",
        "城镇住宅用地",
    }
)
_UNKNOWN_LAND_USES = frozenset({"", "unknown", "nan", "none", "<na>"})

#: Planning parameters derived per feature, by scope, with their values.
DERIVED_PARAMETERS: Mapping[str, tuple[str, ...]] = {
    "storey_class": ("low", "multi_i", "multi_ii", "high_i", "high_ii", "over_26"),
    "land_class": ("residential", "other"),
    "dwelling_size_class": ("le60", "60-90", "90-140", "140-200", "gt200"),
    "building_class": ("housing", "elderly", "kindergarten", "school", "ward", "other"),
}

_KINDERGARTEN = ("kindergarten", "nursery")


def holds_facility(
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    categories: Sequence[str],
) -> NDArray[np.bool_]:
    """Which buildings hold a facility point of the given categories.

    Parameters
    ----------
    buildings
        Building footprints.
    facilities
        Facility points with ``category``, in the same CRS.
    categories
        Facility categories (``assets/facility_categories.csv``).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool aligned to ``buildings``.
    """
    out = np.zeros(len(buildings), dtype=bool)
    if facilities is None or not len(facilities) or not len(buildings):
        return out
    cats = facilities["category"].astype("str").to_numpy()
    sel = np.isin(cats, list(categories))
    if sel.any():
        pts = np.asarray(facilities.geometry.array, dtype=object)[sel]
        tree = shapely.STRtree(np.asarray(buildings.geometry.array, dtype=object))
        _, bi = tree.query(pts, predicate="intersects")
        out[bi] = True
    return out


def building_class(
    buildings: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame | None = None
) -> pd.Series:
    """The class of each building for sunlight and spacing rules.

    By ``use``: ``residential`` (or ``mixed``/``unknown`` with households)
    is ``housing``; ``elderly_care`` is ``elderly``; ``health`` is ``ward``;
    ``education`` is ``kindergarten`` if a ``kindergarten`` or ``nursery``
    facility point lies in it, else ``school``. Any other building holding
    such a point is a ``kindergarten``; the rest are ``other``.

    Parameters
    ----------
    buildings
        Buildings with ``use`` and ``households``.
    facilities
        Facility points with ``category``, in the same CRS.

    Returns
    -------
    pandas.Series
        ``building_class`` aligned to ``buildings``.
    """
    use = buildings["use"].astype("str").to_numpy()
    has_kg = holds_facility(buildings, facilities, _KINDERGARTEN)
    out = np.full(len(buildings), "other", dtype=object)
    out[has_kg] = "kindergarten"
    out[use == "education"] = np.where(
        has_kg[use == "education"], "kindergarten", "school"
    )
    out[use == "health"] = "ward"
    out[use == "elderly_care"] = "elderly"
    out[is_housing(buildings)] = "housing"
    return pd.Series(out, index=buildings.index, name="building_class", dtype="str")


class Context:
    """The inputs of indicator functions during one check.

    Parameters
    ----------
    twin
        The twin checked; it is not modified.
    takeoff
        Its floor-area take-off under the check's rulebook.
    planning
        Planning parameters given for the whole twin (``climate_zone``,
        ``development`` ...).
    persons_per_household
        Persons per household [persons].
    persons_per_household_note
        Why that value is unverified (``""`` if it was given).
    target
        ``target(indicator, scope)``: per-feature lower-bound targets of an
        indicator (set by the check; used by relative indicators).
    """

    def __init__(
        self,
        twin: Twin,
        *,
        takeoff: TakeoffResult,
        planning: Mapping[str, Any],
        persons_per_household: float,
        persons_per_household_note: str = "",
        target: Callable[[str, str], pd.Series] | None = None,
    ) -> None:
        self.twin = twin
        self.takeoff = takeoff
        self.planning = dict(planning)
        self.persons_per_household = float(persons_per_household)
        self.persons_per_household_note = persons_per_household_note
        self._target = target
        self._cache: dict[Any, Any] = {}

    def cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value computed once per check: ``make()``, kept under ``key``.

        Parameters
        ----------
        key
            Hashable key, e.g. ``("sunlight", "great_cold")``.
        make
            Computes the value.

        Returns
        -------
        object
        """
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # -- layers -----------------------------------------------------------------
    @property
    def buildings(self) -> gpd.GeoDataFrame:
        """Buildings with floor areas above ground from the take-off.

        Adds ``far_above_ground_m2`` (FAR-counted) and ``gfa_above_ground_m2``
        (gross floor area) [m2], 0 for buildings without elements above
        ground.
        """

        def make() -> gpd.GeoDataFrame:
            b = self.twin.buildings.copy()
            bd = self.takeoff.breakdown
            above = bd[bd["above_ground"].to_numpy(dtype=bool)]
            sums = above.groupby("building_id", sort=False)[
                ["counted_m2", "gfa_m2"]
            ].sum()
            ids = b["building_id"].astype("str")
            b["far_above_ground_m2"] = (
                ids.map(sums["counted_m2"]).fillna(0.0).to_numpy()
            )
            b["gfa_above_ground_m2"] = ids.map(sums["gfa_m2"]).fillna(0.0).to_numpy()
            return b

        out: gpd.GeoDataFrame = self.cached("buildings", make)
        return out

    def zones(self, scope: str) -> gpd.GeoDataFrame:
        """The zone layer of a scope: ``parcel`` or ``site``.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        geopandas.GeoDataFrame
        """
        if scope == "parcel":
            return self.twin.parcels
        if scope == "site":

            def make() -> gpd.GeoDataFrame:
                site = self.twin.site
                if len(site):
                    return site
                parcels = self.twin.parcels
                geoms = []
                if len(parcels):
                    # Parcels usually form a coverage (no overlaps), whose
                    # union is much faster; fall back where they overlap.
                    parts = np.asarray(parcels.geometry.array)
                    union = shapely.coverage_union_all(parts)
                    if not shapely.is_valid(union):
                        union = shapely.union_all(parts)
                    geoms = [union]
                return gpd.GeoDataFrame(
                    {"site_id": pd.array(["site"] * len(geoms), dtype="str")},
                    geometry=geoms,
                    crs=self.twin.crs,
                )

            out: gpd.GeoDataFrame = self.cached(("zones", "site"), make)
            return out
        msg = f"invalid zone scope {scope!r}; expected 'parcel' or 'site'"
        raise ValueError(msg)

    def features(self, scope: str) -> gpd.GeoDataFrame:
        """The features a rule of ``scope`` is evaluated for.

        Parameters
        ----------
        scope
            ``site``, ``parcel``, ``building`` or ``dwelling``.

        Returns
        -------
        geopandas.GeoDataFrame
        """
        if scope in ("parcel", "site"):
            return self.zones(scope)
        if scope == "building":
            return self.buildings
        if scope == "dwelling":

            def make() -> gpd.GeoDataFrame:
                b = self.buildings
                return b[is_housing(b)]

            out: gpd.GeoDataFrame = self.cached(("features", "dwelling"), make)
            return out
        msg = (
            f"invalid scope {scope!r}; expected one of site, parcel, building, dwelling"
        )
        raise ValueError(msg)

    def ids(self, scope: str) -> pd.Index:
        """Feature ids of a scope (``parcel_id``, ``site_id`` or ``building_id``).

        Parameters
        ----------
        scope
            ``site``, ``parcel``, ``building`` or ``dwelling``.

        Returns
        -------
        pandas.Index
        """
        f = self.features(scope)
        if scope in ("parcel", "site"):
            return zone_ids(f)
        return pd.Index(f["building_id"].astype("str"), name="building_id")

    def shares(self, layer: str, scope: str) -> Shares:
        """Overlay of a layer (buildings, greens, parcels) on a scope's zones.

        Parameters
        ----------
        layer
            ``"buildings"``, ``"greens"`` or ``"parcels"``.
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        Shares
        """

        def make() -> Shares:
            feats = self.buildings if layer == "buildings" else self.twin[layer]
            if scope == "site" and not len(self.twin.site):
                return self._site_from_parcels(layer, len(feats))
            zones = self.zones(scope)
            return _pairs(
                np.asarray(feats.geometry.array, dtype=object),
                np.asarray(zones.geometry.array, dtype=object),
            )

        out: Shares = self.cached(("shares", layer, scope), make)
        return out

    def _site_from_parcels(self, layer: str, n: int) -> Shares:
        """Shares in the site when the site is the union of the parcels.

        Summed from the shares in the parcels (exact where parcels do not
        overlap), without overlaying the features on one large union.
        """
        nz = len(self.zones("site"))
        if layer == "parcels":
            idx = np.arange(n if nz else 0, dtype=np.intp)
            area = np.asarray(shapely.area(self.twin.parcels.geometry.array))
            return Shares(
                idx, np.zeros(len(idx), np.intp), area[idx], np.ones(len(idx)), n, nz
            )
        s = self.shares(layer, "parcel")
        area = np.bincount(s.feature, weights=s.area_m2, minlength=n).astype("float64")
        share = np.minimum(np.bincount(s.feature, weights=s.share, minlength=n), 1.0)
        idx = np.unique(s.feature)
        return Shares(idx, np.zeros(len(idx), np.intp), area[idx], share[idx], n, nz)

    def series(self, scope: str, values: Any, name: str) -> pd.Series:
        """Values aligned to a scope's feature ids.

        Parameters
        ----------
        scope
            The scope.
        values
            One value per feature.
        name
            Name of the series.

        Returns
        -------
        pandas.Series
        """
        return pd.Series(np.asarray(values), index=self.ids(scope), name=name)

    # -- derived planning parameters ---------------------------------------------
    def classes(self, scope: str) -> pd.DataFrame:
        """Derived planning parameters of each feature of a scope.

        Parcels and the site get ``land_class``, ``storey_class`` and
        ``dwelling_size_class`` (``none`` where there is no housing);
        buildings get ``building_class``; dwellings are ``housing``.

        Parameters
        ----------
        scope
            The scope.

        Returns
        -------
        pandas.DataFrame
            Indexed by the scope's feature ids, one column per parameter,
            strings.
        """
        out: pd.DataFrame = self.cached(
            ("classes", scope), lambda: self._classes(scope)
        )
        return out

    def _classes(self, scope: str) -> pd.DataFrame:
        ids = self.ids(scope)
        if scope in ("building", "dwelling"):
            feats = self.features(scope)
            bc = (
                np.full(len(feats), "housing", dtype=object)
                if scope == "dwelling"
                else building_class(feats, self.twin.facilities).to_numpy()
            )
            return pd.DataFrame({"building_class": bc}, index=ids).astype("str")
        zones = self.zones(scope)
        b = self.buildings
        s = self.shares("buildings", scope)
        d = dwellings(b, zones, shares=s).to_numpy()
        if scope == "site":
            residential = d > 0
        else:
            lu = zones["land_use"].astype("str").str.strip().str.lower()
            unknown = lu.isin(_UNKNOWN_LAND_USES).to_numpy()
            residential = lu.isin(RESIDENTIAL_LAND_USES).to_numpy() | (
                unknown & (d > 0)
            )
        avg = average_storeys(b, zones, floor_area="gfa_above_ground_m2", shares=s)
        size = average_dwelling_area(
            b, zones, floor_area="gfa_above_ground_m2", shares=s
        )
        sc = storey_class(avg).to_numpy(dtype=object)
        dc = dwelling_size_class(size).to_numpy(dtype=object)
        return pd.DataFrame(
            {
                "land_class": np.where(residential, "residential", "other"),
                "storey_class": np.where(residential, sc, "none"),
                "dwelling_size_class": np.where(residential, dc, "none"),
                "average_storeys": avg.to_numpy(),
                "average_dwelling_area_m2": size.to_numpy(),
            },
            index=ids,
        )

    def target(self, indicator: str, scope: str) -> pd.Series:
        """Per-feature lower-bound target of an indicator (NaN where none).

        Parameters
        ----------
        indicator
            Indicator name, e.g. ``"green_rate"``.
        scope
            The scope.

        Returns
        -------
        pandas.Series
        """
        if self._target is None:
            return self.series(scope, np.full(len(self.ids(scope)), np.nan), indicator)
        return self._target(indicator, scope)

    # -- provenance ---------------------------------------------------------------
    def _join_by_zone(self, scope: str, feature: Any, labels: Any) -> pd.Series:
        """Per zone, the distinct labels of the buildings overlapping it."""
        s = self.shares("buildings", scope)
        ids = self.ids(scope)
        out = np.full(len(ids), "", dtype=object)
        feature = np.asarray(feature, dtype=np.intp)
        if len(feature):
            codes, names = pd.factorize(np.asarray(labels, dtype=object))
            k = len(names)
            fl = np.unique(feature * k + codes)  # distinct (building, label)
            has = np.zeros(s.n_features, dtype=bool)
            has[fl // k] = True
            sel = has[s.feature]
            # (zone, building) pairs of labelled buildings, then their labels
            zf = pd.DataFrame({"zone": s.zone[sel], "feature": s.feature[sel]})
            fl_frame = pd.DataFrame({"feature": fl // k, "code": fl % k})
            zl = zf.merge(fl_frame, on="feature")
            key = np.unique(zl["zone"].to_numpy() * k + zl["code"].to_numpy())
            zone, code = key // k, key % k
            text = np.asarray(names, dtype=object)[code]
            joined = pd.Series(text).groupby(zone, sort=True).agg("; ".join)
            out[joined.index.to_numpy()] = joined.to_numpy()
        return pd.Series(out, index=ids, dtype="str")

    def _label_zones(
        self, scope: str, flags: NDArray[np.bool_], label: str
    ) -> pd.Series:
        """Per zone, ``label`` where a building with ``flags`` true overlaps it."""
        pos = np.flatnonzero(flags)
        return self._join_by_zone(scope, pos, np.full(len(pos), label))

    def unverified_far(self, scope: str) -> pd.Series:
        """Per zone, the unverified area rules behind its FAR-counted area.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        pandas.Series
            ``"take-off rule <id>; ..."`` or ``""``.
        """

        def make() -> pd.Series:
            bd = self.takeoff.breakdown
            above = bd["above_ground"].to_numpy(dtype=bool)
            area = bd["area_m2"].to_numpy(dtype="float64") > 0
            pos = pd.Index(self.buildings["building_id"].astype("str"))
            parts = []
            for flag, rid in (("verified", "rule_id"), ("gfa_verified", "gfa_rule_id")):
                sel = above & area & ~bd[flag].to_numpy(dtype=bool)
                parts.append(
                    pd.DataFrame(
                        {
                            "feature": pos.get_indexer(bd["building_id"][sel]),
                            "label": "take-off rule " + bd[rid][sel].astype("str"),
                        }
                    )
                )
            p = pd.concat(parts, ignore_index=True)
            p = p[p["feature"] >= 0]
            return self._join_by_zone(scope, p["feature"], p["label"])

        out: pd.Series = self.cached(("unverified_far", scope), make)
        return out

    def unverified_people(self, scope: str) -> pd.Series:
        """Per feature, the unverified inputs behind dwellings and residents.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        pandas.Series
        """

        def make() -> pd.Series:
            out = self.unverified_dwellings(scope)
            note = self.persons_per_household_note
            if note:
                out = out.where(out == "", out + "; ") + note
            return out

        out: pd.Series = self.cached(("unverified_people", scope), make)
        return out

    def unverified_dwellings(self, scope: str) -> pd.Series:
        """Per zone, whether dwellings behind a value are estimated.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        pandas.Series
        """

        def make() -> pd.Series:
            est = self.buildings["households_source"].astype("str") == "estimated"
            return self._label_zones(
                scope, est.to_numpy(), "households estimated from floor area"
            )

        out: pd.Series = self.cached(("unverified_dwellings", scope), make)
        return out

    def unverified_height(self, scope: str) -> pd.Series:
        """Per feature, whether heights behind a value are estimated.

        Parameters
        ----------
        scope
            The scope.

        Returns
        -------
        pandas.Series
        """
        by_building = scope in ("building", "dwelling")
        f = self.features(scope) if by_building else self.buildings
        est = (f["height_source"].astype("str") != "measured").to_numpy()
        if by_building:
            return self.series(
                scope, np.where(est, "height estimated", ""), "unverified"
            ).astype("str")
        return self._label_zones(scope, est, "height estimated")
