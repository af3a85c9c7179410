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
    _housing_sums,
    _ratio,
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
        indicator (set by the check; used by relative indicators), as a
        frame indexed by the scope's ids with columns ``target`` [the
        indicator's unit], ``source`` (the rule id or ``parcels.<column>``
        that set it) and ``unverified`` (unverified inputs behind it).
    """

    def __init__(
        self,
        twin: Twin,
        *,
        takeoff: TakeoffResult,
        planning: Mapping[str, Any],
        persons_per_household: float,
        persons_per_household_note: str = "",
        target: Callable[[str, str], pd.DataFrame] | None = None,
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
        from_dwellings = self.land_class_from_dwellings(scope)
        if scope == "site":
            residential = d > 0
        else:
            lu = zones["land_use"].astype("str").str.strip().str.lower()
            residential = lu.isin(RESIDENTIAL_LAND_USES).to_numpy() | (
                from_dwellings & (d > 0)
            )
        h = self.housing(scope)
        floor = h["floor_area_m2"].to_numpy()
        avg = pd.Series(
            _ratio(floor, h["footprint_m2"].to_numpy()),
            index=ids,
            name="average_storeys",
        )
        size = pd.Series(
            _ratio(floor, h["dwellings"].to_numpy()),
            index=ids,
            name="average_dwelling_area_m2",
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

    def housing(self, scope: str) -> pd.DataFrame:
        """Per zone, the housing sums behind its storey and dwelling-size class.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        pandas.DataFrame
            Indexed by the scope's ids; sums over the housing buildings
            (:func:`~cim.indicators.planning.is_housing`) by footprint share:
            ``floor_area_m2``, their gross floor area above ground from the
            take-off [m2]; ``footprint_m2`` [m2]; and ``dwellings``. Average
            storeys are floor area / footprint, the average dwelling area
            floor area / dwellings (:meth:`classes`).
        """

        def make() -> pd.DataFrame:
            floor, footprint, homes = _housing_sums(
                self.buildings,
                self.zones(scope),
                floor_area="gfa_above_ground_m2",
                shares=self.shares("buildings", scope),
            )
            return pd.DataFrame(
                {"floor_area_m2": floor, "footprint_m2": footprint, "dwellings": homes},
                index=self.ids(scope),
            )

        out: pd.DataFrame = self.cached(("housing", scope), make)
        return out

    def land_class_from_dwellings(self, scope: str) -> NDArray[np.bool_]:
        """Per zone, whether its land class is read from the dwellings in it.

        The site's always is (residential if it holds dwellings), and so is
        that of a parcel whose ``land_use`` is unknown or empty; other
        parcels' land class comes from their given ``land_use``.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        numpy.ndarray
            ``(n,)`` bool aligned to the scope's ids.
        """
        n = len(self.ids(scope))
        if scope == "site":
            return np.ones(n, dtype=bool)
        lu = self.zones(scope)["land_use"].astype("str").str.strip().str.lower()
        return np.asarray(lu.isin(_UNKNOWN_LAND_USES).to_numpy(), dtype=bool)

    def class_inputs(self, scope: str) -> pd.DataFrame:
        """Per feature, the unverified inputs its derived classes rest on.

        A rule's threshold chosen by a storey, dwelling-size or land class
        (:meth:`classes`) is only as sure as the class:

        - the storey class comes from housing floor area over footprint, so
          from the storeys, storey heights and take-off rules behind that
          floor area (:meth:`unverified_floor_area` with ``basis="gfa"``);
        - the dwelling-size class comes from the same floor area over
          dwellings, so also from estimated households
          (:meth:`unverified_dwellings`);
        - the land class of the site, and of a parcel of unknown land use,
          is read from the dwellings in it
          (:meth:`land_class_from_dwellings`), so from estimated households
          there; that of a parcel with a given ``land_use`` rests on that
          attribute only. A storey class exists only on residential land, so
          where the land class is read from estimated households the storey
          class also names it (``"land_class=residential from households
          estimated ..."``); the dwelling-size class names those households
          already.

        Building classes rest on given attributes only.

        Parameters
        ----------
        scope
            The scope.

        Returns
        -------
        pandas.DataFrame
            Indexed by the scope's ids; for zones, columns ``storey_class``,
            ``dwelling_size_class`` and ``land_class``: ``"; "``-joined
            labels, ``""`` where none is unverified, the class is ``none``
            (no housing land), or the land class comes from a given land
            use. No columns for buildings and dwellings.
        """

        def make() -> pd.DataFrame:
            ids = self.ids(scope)
            if scope not in ("parcel", "site"):
                return pd.DataFrame(index=ids)
            classes = self.classes(scope)
            area = self.unverified_floor_area(scope, basis="gfa")
            people = self.unverified_dwellings(scope)
            land = pd.Series(
                np.where(
                    self.land_class_from_dwellings(scope),
                    people.to_numpy(dtype=object),
                    "",
                ),
                index=ids,
                dtype=object,
            )
            residential = classes["land_class"].to_numpy(dtype=object) == "residential"
            on_land = pd.Series(
                np.where(
                    residential & (land != ""),
                    "land_class=residential from " + land,
                    "",
                ),
                index=ids,
                dtype=object,
            )
            out = {}
            for name, text in (
                ("storey_class", _joined(area, on_land)),
                ("dwelling_size_class", _joined(area, people)),
            ):
                none = classes[name].to_numpy(dtype=object) == "none"
                out[name] = np.where(none, "", text)
            out["land_class"] = land.to_numpy(dtype=object)
            return pd.DataFrame(out, index=ids).astype("str")

        out: pd.DataFrame = self.cached(("class_inputs", scope), make)
        return out

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
            ``-inf`` where a rule applies but its threshold needs a planning
            parameter that was not given.
        """
        return self.target_provenance(indicator, scope)["target"].rename(
            f"{indicator}_target"
        )

    def target_provenance(self, indicator: str, scope: str) -> pd.DataFrame:
        """Per-feature target of an indicator, where it came from and its inputs.

        Parameters
        ----------
        indicator
            Indicator name, e.g. ``"green_rate"``.
        scope
            The scope.

        Returns
        -------
        pandas.DataFrame
            Indexed by the scope's ids: ``target`` (as :meth:`target`),
            ``source`` (the rule id or ``parcels.<column>`` that set it,
            ``""`` where none) and ``unverified`` (``"; "``-joined: the rule
            not confirmed from the primary text, the estimated class that
            chose its threshold; ``""`` if none).
        """
        if self._target is None:
            n = len(self.ids(scope))
            return pd.DataFrame(
                {"target": np.full(n, np.nan), "source": "", "unverified": ""},
                index=self.ids(scope),
            )
        return self._target(indicator, scope)

    # -- provenance ---------------------------------------------------------------
    def _labels_by_zone(
        self,
        scope: str,
        labels: Any,
        *,
        feature: Any = None,
        counts: bool = True,
        among: NDArray[np.bool_] | None = None,
        noun: str = "building",
    ) -> pd.Series:
        """Per feature of a scope, the distinct labels of its buildings.

        Parameters
        ----------
        scope
            The scope.
        labels
            ``(k,)`` text: what is estimated or unverified about a building,
            ``""`` where nothing is.
        feature
            ``(k,)`` int: the position in :attr:`buildings` of the building
            each label is about (a building may have several); default one
            label per building, aligned to :attr:`buildings`.
        counts
            Whether a zone's labels say how many of its buildings carry them.
        among
            ``(n,)`` bool aligned to :attr:`buildings`: the buildings counted
            (e.g. housing only); default all.
        noun
            What the buildings counted are called, singular.

        Returns
        -------
        pandas.Series
            Indexed by the scope's ids, ``"; "``-joined. For a zone, the
            distinct labels of the buildings with a share of their footprint
            in it: with ``counts``, in sorted order, each as ``"<label> for
            <k> of <n> <noun>s"``, where ``n`` counts those buildings and
            ``k`` those carrying the label; else as given, in order of first
            appearance. For a building, its own labels. ``""`` where none
            applies.
        """
        ids = self.ids(scope)
        nb = len(self.buildings)
        lab = np.asarray(labels, dtype=object)
        feat = (
            np.arange(nb, dtype=np.intp)
            if feature is None
            else np.asarray(feature, dtype=np.intp)
        )
        use = lab != ""
        if among is not None:
            use &= np.asarray(among, dtype=bool)[feat]
        codes, uniques = pd.factorize(lab[use], sort=counts)
        names = np.asarray(uniques, dtype=object)
        k = max(len(names), 1)
        fl = np.unique(feat[use] * k + codes)  # distinct (building, label)
        if scope in ("building", "dwelling"):
            own = _join_groups(fl // k, names[fl % k], nb)
            pos = pd.Index(self.buildings["building_id"].astype("str")).get_indexer(ids)
            return pd.Series(own[pos], index=ids, dtype="str")
        # Every pair of an overlay has a share > 0 (Shares.share): each
        # building of a pair has a share of its footprint in the zone.
        s = self.shares("buildings", scope)
        sel = np.ones(len(s.zone), dtype=bool)
        if among is not None:
            sel = np.asarray(among, dtype=bool)[s.feature]
        pairs = pd.DataFrame({"zone": s.zone[sel], "feature": s.feature[sel]})
        labelled = pd.DataFrame({"feature": fl // k, "code": fl % k})
        zl = pairs.merge(labelled, on="feature")
        key, carry = np.unique(
            zl["zone"].to_numpy() * k + zl["code"].to_numpy(), return_counts=True
        )
        zone = key // k
        text = names[key % k]
        if counts:
            n = np.bincount(s.zone[sel], minlength=len(ids))[zone]
            plural = np.where(n == 1, noun, noun + "s")
            text = text + " for " + carry.astype("str") + " of "
            text = text + n.astype("str") + " " + plural
        return pd.Series(_join_groups(zone, text, len(ids)), index=ids, dtype="str")

    def _takeoff_source(self, column: str) -> NDArray[np.object_]:
        """Per building, an estimated provenance value of its take-off elements.

        Parameters
        ----------
        column
            ``"floors_source"`` or ``"storey_height_source"``
            (:data:`cim.takeoff.SOURCE_COLUMNS`).

        Returns
        -------
        numpy.ndarray
            ``(n,)`` text aligned to :attr:`buildings`: the value of the
            first of its elements above ground with area whose value is
            neither ``measured`` nor ``elements`` (given element by element);
            ``""`` where there is none.
        """

        def make() -> NDArray[np.object_]:
            from cim.takeoff import GIVEN_SOURCE

            bd = self.takeoff.breakdown
            ids = self.buildings["building_id"].astype("str")
            if column not in bd.columns:
                return np.full(len(ids), "", dtype=object)
            est = ~bd[column].astype("str").isin(["measured", GIVEN_SOURCE])
            sel = (
                bd["above_ground"].to_numpy(dtype=bool)
                & (bd["area_m2"].to_numpy(dtype="float64") > 0)
                & est.to_numpy(dtype=bool)
            )
            rows = bd[sel]
            first = (
                rows[column]
                .astype("str")
                .groupby(rows["building_id"].astype("str"), sort=False)
                .first()
            )
            vals = first.reindex(ids.to_numpy()).to_numpy(dtype=object)
            return np.where(pd.isna(vals), "", vals).astype(object)

        out: NDArray[np.object_] = self.cached(("takeoff_source", column), make)
        return out

    def unverified_floor_area(self, scope: str, *, basis: str = "far") -> pd.Series:
        """Per zone, the unverified inputs behind its floor area above ground.

        Three kinds of input, in this order:

        - ``"take-off rule <id>"``: an area rule not confirmed from the
          primary text decided an element's area (for ``basis="far"`` the
          rules of either quantity, since FAR-counted area falls back on the
          gross-floor-area rules);
        - ``"storeys estimated (floors_source=<source>) for <k> of <n>
          buildings"``: buildings taken as footprint x storeys whose storey
          count was estimated (``height`` or ``default``, see
          :mod:`cim.estimate`), so their floor area is;
        - ``"storey height estimated (storey_height_source=<source>) for <k>
          of <n> buildings"``: the structural height that the take-off tests
          (GB/T 50353-2013 §3.0.1, 2.20 m) is the default storey height or
          a measured height over estimated storeys. Flagged whether or not
          the rulebook's rules test it, so never understated.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.
        basis
            ``"far"``: the FAR-counted area of every building (plot ratio);
            ``"gfa"``: the gross floor area of housing (average storeys).

        Returns
        -------
        pandas.Series
            ``"; "``-joined labels, or ``""``.
        """
        if basis not in ("far", "gfa"):
            msg = f"invalid basis {basis!r}; expected 'far' or 'gfa'"
            raise ValueError(msg)

        def make() -> pd.Series:
            b = self.buildings
            among = None if basis == "far" else is_housing(b)
            noun = "building" if basis == "far" else "housing building"
            bd = self.takeoff.breakdown
            above = bd["above_ground"].to_numpy(dtype=bool)
            area = bd["area_m2"].to_numpy(dtype="float64") > 0
            pos = pd.Index(b["building_id"].astype("str"))
            flags = [("gfa_verified", "gfa_rule_id")]
            if basis == "far":
                flags.insert(0, ("verified", "rule_id"))
            parts = []
            for flag, rid in flags:
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
            rules = self._labels_by_zone(
                scope, p["label"], feature=p["feature"], counts=False, among=among
            )
            out = rules.to_numpy(dtype=object)
            for column, what in (
                ("floors_source", "storeys"),
                ("storey_height_source", "storey height"),
            ):
                src = self._takeoff_source(column)
                labels = np.where(
                    src != "", f"{what} estimated ({column}=" + src + ")", ""
                )
                counted = self._labels_by_zone(scope, labels, among=among, noun=noun)
                out = _joined(out, counted)
            return pd.Series(out, index=self.ids(scope), dtype=object)

        out: pd.Series = self.cached(("unverified_floor_area", scope, basis), make)
        return out

    def unverified_far(self, scope: str) -> pd.Series:
        """Per zone, the unverified inputs behind its FAR-counted area.

        :meth:`unverified_floor_area` with ``basis="far"``.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        pandas.Series
            ``"take-off rule <id>; ...; storeys estimated ..."`` or ``""``.
        """
        return self.unverified_floor_area(scope, basis="far")

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
            ``"households estimated from floor area (households_source=
            estimated) for <k> of <n> buildings"`` or ``""``.
        """

        def make() -> pd.Series:
            est = self.buildings["households_source"].astype("str") == "estimated"
            labels = np.where(
                est.to_numpy(),
                "households estimated from floor area (households_source=estimated)",
                "",
            )
            return self._labels_by_zone(scope, labels)

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
            ``"height estimated (height_source=<source>)"`` for a building,
            ``"... for <k> of <n> buildings"`` for a zone, or ``""``.
        """
        src = self.buildings["height_source"].astype(object).fillna("unknown")
        src = src.astype("str").to_numpy(dtype=object)
        labels = np.where(
            src != "measured", "height estimated (height_source=" + src + ")", ""
        )
        return self._labels_by_zone(scope, labels)


def _joined(a: Any, b: Any) -> NDArray[np.object_]:
    """Element-wise ``"a; b"``, leaving out empty parts.

    Parameters
    ----------
    a, b
        ``(n,)`` text (arrays or Series, aligned by position), ``""`` where
        empty.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` object.
    """
    left = np.asarray(a, dtype=object)
    right = np.asarray(b, dtype=object)
    sep = np.where((left != "") & (right != ""), "; ", "")
    return np.asarray(left + sep + right, dtype=object)


def _join_groups(group: Any, text: Any, n: int) -> NDArray[np.object_]:
    """Per group ``0 .. n-1``, its texts ``"; "``-joined in order (``""`` if none).

    Parameters
    ----------
    group
        ``(k,)`` int: the group of each text.
    text
        ``(k,)`` text.
    n
        Number of groups.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` object.
    """
    out = np.full(n, "", dtype=object)
    g = np.asarray(group, dtype=np.intp)
    if len(g):
        joined = pd.Series(np.asarray(text, dtype=object)).groupby(g).agg("; ".join)
        out[joined.index.to_numpy()] = joined.to_numpy()
    return out
