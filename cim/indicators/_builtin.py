"""Registrations of the built-in indicators (imported by :mod:`cim.indicators`).

Each function adapts a momepy-style indicator of :mod:`cim.indicators.planning`
or :mod:`cim.indicators.spacing` to the registry's signature: it takes the
check's :class:`~cim.indicators.context.Context`, the rule's scope and
``params``, reuses the context's overlays, and says which inputs behind each
value are unverified:

- values from floor area (``far``, ``average_storeys``): unverified take-off
  rules and estimated storeys or storey heights of the buildings behind them
  (:meth:`~cim.indicators.context.Context.unverified_floor_area`);
- values from heights (``max_height_m``, front spacing): estimated heights
  (for front spacing, the building's own and that of the south building
  that sets the value);
- values from dwellings (``dwellings``, per-household ratios) and residents:
  households estimated from floor area, and the persons per household if it
  is the default;
- footprint and green values (``building_density``, the green rates) rest on
  polygons only;
- the ground share of the green-rate target rests on the rule that set the
  target: flagged if that rule is not verified or its threshold was chosen
  by a class derived from estimates.

Every built-in also gives its ``basis``: the quantities, with units, whose
quotient (or product) is the value, or the building that sets a maximum or
minimum, for a reader to retrace the value by hand:

- ratios over land area (``far``, ``building_density``, the green rates):
  ``"counted 24,000.0 m2 / parcel 10,000.0 m2"``; the ground share:
  ``"ground green rate 0.25 (...) / target 0.3 from <rule>"``;
- ``average_storeys``: ``"housing floor area 24,000.0 m2 / housing footprint
  4,000.0 m2"``; ``max_height_m``: ``"tallest building s1 (18.9 m)"``;
- ``dwellings``: ``"412.5 households of 5 buildings, 1 split by footprint
  share"``; ``residents``: ``"400.0 dwellings x 2.8 persons per
  household"``;
- per capita: ``"parcel 10,000.0 m2 / 140.0 residents"``, ``"public green
  (park) 6,400.0 m2 / 1,260.0 residents"``, ``"green at least 8 m wide
  (ground, park) 2,500.0 m2 / 1,008.0 residents"``;
- per dwelling: ``"service space 36.0 m2 / 450.0 dwellings x 100"``,
  ``"480.0 spaces (parcels.parking_spaces) / 400.0 dwellings"``;
- front spacing: ``"15.00 m to s1, the nearest of 1 building due south"``,
  ``"15.00 m to s1 / its height 18.9 m, the smallest ratio of 1 building due
  south"``.

Areas, dwellings, residents and spaces are given to 0.1, distances to
0.01 m.

Which storey, land or dwelling-size class selects a rule's threshold, and
what those classes rest on, is the check's business (:func:`cim.check.check`),
not an indicator's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from cim.indicators import planning as pl
from cim.indicators.context import Context
from cim.indicators.registry import Evaluation, declare_indicator, register_indicator
from cim.indicators.spacing import front_spacing
from cim.layers import GREEN_KINDS
from cim.rules.rulebook import Rule

_ZONES = ("parcel", "site")
_BUILDINGS = ("building", "dwelling")
_SPACING_PARAMS = ("max_south_height_m", "search_m")
#: A building whose share in a zone is short of 1 by more than this is split
#: with other zones (in a dwellings basis) [-].
_WHOLE = 1e-6


def _kinds(params: Mapping[str, Any], default: Sequence[str]) -> list[str]:
    kinds = params.get("kinds", list(default))
    if (
        not isinstance(kinds, list | tuple)
        or not kinds
        or any(k not in GREEN_KINDS for k in kinds)
    ):
        msg = (
            f"params.kinds: invalid {kinds!r}; expected a list of green kinds "
            f"({', '.join(GREEN_KINDS)})"
        )
        raise ValueError(msg)
    return [str(k) for k in kinds]


def _number(params: Mapping[str, Any], key: str, default: float) -> float:
    v = params.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        raise ValueError(f"params.{key}: invalid {v!r}; expected a number")
    if v < 0:
        raise ValueError(f"params.{key}: invalid {v!r}; expected a number >= 0")
    return float(v)


def _zonal(
    ctx: Context, rule: Rule, func: Callable[..., pd.Series], **kwargs: Any
) -> pd.Series:
    """An indicator of :mod:`~cim.indicators.planning` on the rule's zones.

    Parameters
    ----------
    ctx
        The check's context.
    rule
        The rule evaluated; its scope is ``parcel`` or ``site``.
    func
        ``func(buildings, zones, *, shares, **kwargs)``, e.g.
        :func:`~cim.indicators.planning.dwellings`; the buildings are the
        context's (with the take-off's floor areas), and so is their
        overlay on the zones.
    **kwargs
        Further keyword arguments of ``func``.

    Returns
    -------
    pandas.Series
        The values, indexed by the scope's feature ids.
    """
    scope = rule.scope
    values = func(
        ctx.buildings,
        ctx.zones(scope),
        shares=ctx.shares("buildings", scope),
        **kwargs,
    )
    return ctx.series(scope, values.to_numpy(), str(values.name))


def _quotient(ctx: Context, scope: str, parts: pl._Parts, name: str) -> pd.Series:
    """The value of a ratio from its numerator and denominator, per zone.

    Parameters
    ----------
    ctx
        The check's context.
    scope
        ``"parcel"`` or ``"site"``.
    parts
        Per zone, numerator and denominator, as the planning indicator
        computes them (its ``_*_parts`` helper).
    name
        The indicator's name.

    Returns
    -------
    pandas.Series
        Indexed by the scope's feature ids; NaN where the denominator is 0.
    """
    return ctx.series(scope, pl._ratio(*parts), name)


def _text(ctx: Context, scope: str, text: Sequence[str]) -> pd.Series:
    """Basis texts, one per feature of the scope."""
    return pd.Series(text, index=ctx.ids(scope), dtype="str")


def _over_area(ctx: Context, scope: str, what: str, parts: pl._Parts) -> pd.Series:
    """Basis of a ratio over land area: ``"<what> <num> m2 / <scope> <area> m2"``.

    Parameters
    ----------
    ctx
        The check's context.
    scope
        ``"parcel"`` or ``"site"``.
    what
        What the numerator is, e.g. ``"counted"``.
    parts
        Per zone, the numerator [m2] and the land area [m2].

    Returns
    -------
    pandas.Series
        Indexed by the scope's feature ids; areas to 0.1 m2.
    """
    num, area = parts
    return _text(
        ctx,
        scope,
        [
            f"{what} {a:,.1f} m2 / {scope} {z:,.1f} m2"
            for a, z in zip(num, area, strict=True)
        ],
    )


def _people(
    ctx: Context, rule: Rule, values: pd.Series, basis: pd.Series | None = None
) -> Evaluation:
    """Values computed from residents, with their unverified inputs.

    Those are households estimated from floor area and a default persons per
    household (:meth:`~cim.indicators.context.Context.unverified_people`).
    """
    return Evaluation(values, unverified=ctx.unverified_people(rule.scope), basis=basis)


def _per_dwelling(
    ctx: Context, rule: Rule, values: pd.Series, missing: str, basis: pd.Series
) -> Evaluation:
    """Values per dwelling; where NaN, ``missing`` (an input) is the reason.

    Parameters
    ----------
    ctx
        The check's context.
    rule
        The rule evaluated.
    values
        The values, aligned to the scope's feature ids.
    missing
        What is missing where a value is NaN, e.g. ``"no service_space_m2"``.
    basis
        What produced each value, aligned to the scope's feature ids.

    Returns
    -------
    Evaluation
        With the reason, the unverified dwellings behind each value and the
        basis.
    """
    scope = rule.scope
    reason = np.where(values.isna().to_numpy(), f"{missing} given, or no dwellings", "")
    return Evaluation(
        values,
        reason=ctx.series(scope, reason, "reason"),
        unverified=ctx.unverified_dwellings(scope),
        basis=basis,
    )


def _per_residents(ctx: Context, scope: str, what: str, parts: pl._Parts) -> pd.Series:
    """Basis of a value per person: ``"<what> <num> m2 / <residents> residents"``.

    Parameters
    ----------
    ctx
        The check's context.
    scope
        ``"parcel"`` or ``"site"``.
    what
        What the numerator is, e.g. ``"public green (park)"``.
    parts
        Per zone, the numerator [m2] and the residents [persons].

    Returns
    -------
    pandas.Series
        Indexed by the scope's feature ids; to 0.1.
    """
    num, people = parts
    return _text(
        ctx,
        scope,
        [
            f"{what} {a:,.1f} m2 / {r:,.1f} residents"
            for a, r in zip(num, people, strict=True)
        ],
    )


@register_indicator(
    "far",
    unit="-",
    scopes=_ZONES,
    description="plot ratio: FAR-counted floor area above ground / land area",
)
def _far(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    parts = pl._far_parts(
        ctx.buildings,
        ctx.zones(scope),
        floor_area="far_above_ground_m2",
        shares=ctx.shares("buildings", scope),
    )
    return Evaluation(
        _quotient(ctx, scope, parts, "far"),
        unverified=ctx.unverified_far(scope),
        basis=_over_area(ctx, scope, "counted", parts),
    )


@register_indicator(
    "building_density",
    unit="-",
    scopes=_ZONES,
    description="building footprint inside the zone / land area",
)
def _density(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    parts = pl._density_parts(
        ctx.buildings, ctx.zones(scope), shares=ctx.shares("buildings", scope)
    )
    return Evaluation(
        _quotient(ctx, scope, parts, "building_density"),
        basis=_over_area(ctx, scope, "footprint", parts),
    )


@register_indicator(
    "green_rate",
    unit="-",
    scopes=_ZONES,
    params=("factors",),
    description="counted green area (3D greening by factors) / land area",
)
def _green_rate(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    parts = pl._green_rate_parts(
        ctx.twin.greens,
        ctx.zones(scope),
        factors=rule.params.get("factors"),
        shares=ctx.shares("greens", scope),
    )
    return Evaluation(
        _quotient(ctx, scope, parts, "green_rate"),
        basis=_over_area(ctx, scope, "counted green", parts),
    )


@register_indicator(
    "ground_green_rate",
    unit="-",
    scopes=_ZONES,
    params=("kinds",),
    description="ground-level green area (no 3D greening) / land area",
)
def _ground_green_rate(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    parts = pl._ground_green_parts(
        ctx.twin.greens,
        ctx.zones(scope),
        kinds=_kinds(rule.params, pl.GROUND_GREEN_KINDS),
        shares=ctx.shares("greens", scope),
    )
    return Evaluation(
        _quotient(ctx, scope, parts, "ground_green_rate"),
        basis=_over_area(ctx, scope, "ground green", parts),
    )


@register_indicator(
    "ground_green_share_of_target",
    unit="-",
    scopes=_ZONES,
    params=("kinds",),
    description="ground green rate / the zone's green-rate target",
)
def _ground_share(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    rate = _ground_green_rate(ctx, rule)
    ground = rate.values.to_numpy(dtype="float64")
    # NaN: no target applies; -inf: a green-rate rule applies, but its
    # threshold needs a planning parameter that was not given.
    of = ctx.target_provenance("green_rate", scope)
    target = of["target"].to_numpy(dtype="float64")
    ok = np.isfinite(target) & (target > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(ok, ground / np.where(ok, target, 1.0), np.nan)
    assert rate.basis is not None
    basis = [
        f"ground green rate {g:.4g} ({b}) / target {t:g} from {src}"
        for g, b, t, src in zip(ground, rate.basis, target, of["source"], strict=True)
    ]
    reason = np.select(
        [np.isnan(target), np.isneginf(target)],
        [
            "no green-rate target: no green_rate_min and no green_rate rule applies",
            "the green-rate target needs a planning parameter that was not given",
        ],
        "",
    )
    return Evaluation(
        ctx.series(scope, v, "ground_green_share_of_target"),
        applies=ctx.series(scope, ~np.isnan(target), "applies"),
        reason=ctx.series(scope, reason, "reason"),
        unverified=of["unverified"],
        basis=pd.Series(basis, index=ctx.ids(scope), dtype="str"),
    )


@register_indicator(
    "max_height_m",
    unit="m",
    scopes=_ZONES,
    params=("min_share",),
    description="height of the tallest building with >= 1% of its footprint "
    "in the zone",
)
def _max_height(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    min_share = _number(rule.params, "min_share", 0.01)
    v = _zonal(ctx, rule, pl.max_height, min_share=min_share)
    # The building that sets each zone's value: the tallest (first in layer
    # order on a tie) with at least min_share of its footprint in the zone.
    s = ctx.shares("buildings", scope)
    h = pl._numbers(ctx.buildings["height_m"])
    sel = (s.share >= min_share) & np.isfinite(h[s.feature])
    pairs = pd.DataFrame({"zone": s.zone[sel], "feature": s.feature[sel]})
    pairs["h"] = h[pairs["feature"].to_numpy()]
    top = pairs.sort_values(["zone", "h", "feature"], ascending=[True, False, True])
    top = top.drop_duplicates("zone")
    bids = ctx.buildings["building_id"].astype("str").to_numpy(dtype=object)
    basis = np.full(
        s.n_zones,
        f"no building with at least {min_share:g} of its footprint in the {scope}",
        dtype=object,
    )
    basis[top["zone"].to_numpy()] = [
        f"tallest building {bids[f]} ({hh:g} m)"
        for f, hh in zip(top["feature"], top["h"], strict=True)
    ]
    return Evaluation(
        v,
        unverified=ctx.unverified_height(scope),
        basis=ctx.series(scope, basis, "basis").astype("str"),
    )


@register_indicator(
    "average_storeys",
    unit="-",
    scopes=_ZONES,
    description="housing gross floor area above ground / housing footprint",
)
def _average_storeys(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    # The value and the sums behind it, as the storey class has them.
    v = ctx.series(
        scope, ctx.classes(scope)["average_storeys"].to_numpy(), "average_storeys"
    )
    h = ctx.housing(scope)
    basis = [
        f"housing floor area {a:,.1f} m2 / housing footprint {f:,.1f} m2"
        for a, f in zip(h["floor_area_m2"], h["footprint_m2"], strict=True)
    ]
    return Evaluation(
        v,
        unverified=ctx.unverified_floor_area(scope, basis="gfa"),
        basis=_text(ctx, scope, basis),
    )


@register_indicator(
    "dwellings",
    unit="dwellings",
    scopes=_ZONES,
    description="households, split by footprint share",
)
def _dwellings(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    v = _zonal(ctx, rule, pl.dwellings)
    # The buildings with households that have a share of their footprint in
    # the zone (every pair of the overlay has one), and those of them split
    # with other zones.
    s = ctx.shares("buildings", scope)
    counted = np.nan_to_num(pl._households(ctx.buildings)[s.feature]) > 0
    n = np.bincount(s.zone[counted], minlength=s.n_zones)
    split = np.bincount(s.zone[counted & (s.share < 1.0 - _WHOLE)], minlength=s.n_zones)
    d = v.to_numpy(dtype="float64")
    basis = [
        f"{x:,.1f} households of {k} building{'' if k == 1 else 's'}"
        + (f", {j} split by footprint share" if j else "")
        if k
        else f"no building with households in the {scope}"
        for x, k, j in zip(d, n, split, strict=True)
    ]
    return Evaluation(
        v, unverified=ctx.unverified_dwellings(scope), basis=_text(ctx, scope, basis)
    )


@register_indicator(
    "residents",
    unit="persons",
    scopes=_ZONES,
    description="dwellings x persons per household",
)
def _residents(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    pph = ctx.persons_per_household
    homes, people = pl._people(
        ctx.buildings,
        ctx.zones(scope),
        persons_per_household=pph,
        shares=ctx.shares("buildings", scope),
    )
    basis = [f"{x:,.1f} dwellings x {pph:g} persons per household" for x in homes]
    return _people(
        ctx, rule, ctx.series(scope, people, "residents"), _text(ctx, scope, basis)
    )


@register_indicator(
    "residential_land_per_capita_m2",
    unit="m2/person",
    scopes=_ZONES,
    description="land area / residents",
)
def _land_per_capita(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    parts = pl._land_per_capita_parts(
        ctx.buildings,
        ctx.zones(scope),
        persons_per_household=ctx.persons_per_household,
        shares=ctx.shares("buildings", scope),
    )
    v = _quotient(ctx, scope, parts, "residential_land_per_capita_m2")
    return _people(ctx, rule, v, _per_residents(ctx, scope, scope, parts))


@register_indicator(
    "public_green_per_capita_m2",
    unit="m2/person",
    scopes=_ZONES,
    params=("kinds",),
    description="public green (kind park) / residents",
)
def _public_green(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    kinds = _kinds(rule.params, ("park",))
    parts = pl._public_green_parts(
        ctx.twin.greens,
        ctx.buildings,
        ctx.zones(scope),
        persons_per_household=ctx.persons_per_household,
        kinds=kinds,
        green_shares=ctx.shares("greens", scope),
        building_shares=ctx.shares("buildings", scope),
    )
    v = _quotient(ctx, scope, parts, "public_green_per_capita_m2")
    what = f"public green ({', '.join(kinds)})"
    return _people(ctx, rule, v, _per_residents(ctx, scope, what, parts))


@register_indicator(
    "concentrated_green_per_capita_m2",
    unit="m2/person",
    scopes=_ZONES,
    params=("kinds", "min_width_m"),
    description="ground green at least min_width_m wide / residents",
)
def _concentrated_green(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    params = rule.params
    width = _number(params, "min_width_m", 8.0)
    if width <= 0:
        raise ValueError(f"params.min_width_m: invalid {width!r}; expected > 0")
    kinds = _kinds(params, ("ground", "park"))
    parts = pl._concentrated_green_parts(
        ctx.twin.greens,
        ctx.buildings,
        ctx.zones(scope),
        persons_per_household=ctx.persons_per_household,
        min_width_m=width,
        kinds=kinds,
        building_shares=ctx.shares("buildings", scope),
    )
    v = _quotient(ctx, scope, parts, "concentrated_green_per_capita_m2")
    what = f"green at least {width:g} m wide ({', '.join(kinds)})"
    return _people(ctx, rule, v, _per_residents(ctx, scope, what, parts))


@register_indicator(
    "service_space_per_100_households_m2",
    unit="m2/100 dwellings",
    scopes=_ZONES,
    description="community service floor area (buildings.service_space_m2) "
    "per 100 households",
)
def _service_space(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    space, homes = pl._service_space_parts(
        ctx.buildings, ctx.zones(scope), shares=ctx.shares("buildings", scope)
    )
    v = ctx.series(
        scope,
        pl._ratio(space, homes) * 100.0,
        "service_space_per_100_households_m2",
    )
    basis = [
        f"service space {a:,.1f} m2 / {d:,.1f} dwellings x 100"
        for a, d in zip(space, homes, strict=True)
    ]
    return _per_dwelling(ctx, rule, v, "no service_space_m2", _text(ctx, scope, basis))


def _parking(name: str, column: str) -> Callable[[Context, Rule], Evaluation]:
    """The indicator of a parking ratio of :mod:`~cim.indicators.planning`.

    Parameters
    ----------
    name
        The indicator, e.g. ``"parking_spaces_per_household"``
        (:func:`~cim.indicators.planning.parking_spaces_per_household`).
    column
        The column of ``parcels`` holding the spaces counted.

    Returns
    -------
    callable
        The indicator function, ``(ctx, rule) -> Evaluation``.
    """

    def evaluate(ctx: Context, rule: Rule) -> Evaluation:
        scope = rule.scope
        zones = None if scope == "parcel" else ctx.zones(scope)
        parcels = ctx.twin.parcels
        # The spaces counted (a parcel's own, or the parcels' split by area
        # share over a site) and the dwellings they serve.
        spaces, homes = pl._per_household_parts(
            parcels,
            ctx.buildings,
            zones,
            column,
            ctx.shares("buildings", scope),
            None if zones is None else ctx.shares("parcels", scope),
        )
        v = ctx.series(scope, pl._ratio(spaces, homes), name)
        if zones is None:
            source = np.full(len(spaces), f"parcels.{column}", dtype=object)
        else:
            # How many of the parcels in the site give spaces (every pair of
            # the overlay has a share > 0).
            ps = ctx.shares("parcels", scope)
            given = np.isfinite(pl._numbers(parcels[column]))
            k = np.bincount(ps.zone[given[ps.feature]], minlength=ps.n_zones)
            n = np.bincount(ps.zone, minlength=ps.n_zones)
            source = np.asarray(
                [
                    f"parcels.{column}, given for {a} of {b} "
                    f"parcel{'' if b == 1 else 's'}"
                    for a, b in zip(k, n, strict=True)
                ],
                dtype=object,
            )
        basis = [
            f"{x:,.1f} spaces ({src}) / {d:,.1f} dwellings"
            for x, src, d in zip(spaces, source, homes, strict=True)
        ]
        return _per_dwelling(
            ctx, rule, v, f"no parcels.{column}", _text(ctx, scope, basis)
        )

    return evaluate


register_indicator(
    "parking_spaces_per_household",
    unit="spaces/dwelling",
    scopes=_ZONES,
    description="car spaces (parcels.parking_spaces) per household",
)(_parking("parking_spaces_per_household", "parking_spaces"))

register_indicator(
    "surface_parking_per_household",
    unit="spaces/dwelling",
    scopes=_ZONES,
    description="ground-level car spaces (parcels.surface_parking_spaces) "
    "per household",
)(_parking("surface_parking_per_household", "surface_parking_spaces"))


def _spacing_provenance(
    ctx: Context, ids: pd.Index, table: pd.DataFrame, column: str
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Basis of front-spacing values and the estimated height behind them.

    Parameters
    ----------
    ctx
        The check's context.
    ids
        The building ids evaluated.
    table
        :func:`~cim.indicators.spacing.front_spacing` of the buildings,
        aligned to ``ids``.
    column
        ``"front_spacing_m"`` or ``"front_spacing_ratio"``.

    Returns
    -------
    basis : numpy.ndarray
        ``(n,)`` text: ``"15.00 m to s1, the nearest of 2 buildings due
        south"`` or ``"15.00 m to s1 / its height 18.9 m, the smallest ratio
        of 2 buildings due south"``; ``""`` where no building is due south.
    south : numpy.ndarray
        ``(n,)`` text: ``"height of south building s1 estimated
        (height_source=<source>)"`` where the height of the south building
        that sets the value (and so let it count as one) is estimated, else
        ``""``.
    """
    b = ctx.buildings
    geoms = np.asarray(b.geometry.array, dtype=object)
    h = pl._numbers(b["height_m"])
    src = b["height_source"].astype(object).fillna("unknown")
    src_arr = src.astype("str").to_numpy(dtype=object)
    index = pd.Index(b["building_id"].astype("str"))
    nearest = column == "front_spacing_m"
    by = "nearest_south_building_id" if nearest else "south_building_id"
    setter = table[by].astype(object).where(table[by].notna(), "")
    si = index.get_indexer(setter.to_numpy(dtype=object))
    ni = index.get_indexer(ids)
    count = table["n_south"].fillna(0).to_numpy(dtype="int64")
    basis = np.full(len(ids), "", dtype=object)
    south = np.full(len(ids), "", dtype=object)
    sel = np.flatnonzero((si >= 0) & (ni >= 0) & (count > 0))
    j = si[sel]
    sid = setter.to_numpy(dtype=object)[sel]
    dist = shapely.distance(geoms[ni[sel]], geoms[j])
    of = [f"of {k} building{'' if k == 1 else 's'} due south" for k in count[sel]]
    if nearest:
        text = [
            f"{d:.2f} m to {x}, the nearest {o}"
            for d, x, o in zip(dist, sid, of, strict=True)
        ]
    else:
        text = [
            f"{d:.2f} m to {x} / its height {hh:g} m, the smallest ratio {o}"
            for d, x, hh, o in zip(dist, sid, h[j], of, strict=True)
        ]
    basis[sel] = text
    est = src_arr[j] != "measured"
    south[sel[est]] = [
        f"height of south building {x} estimated (height_source={y})"
        for x, y in zip(sid[est], src_arr[j][est], strict=True)
    ]
    return basis, south


def _spacing(column: str) -> Callable[[Context, Rule], Evaluation]:
    """The indicator of a column of :func:`~cim.indicators.spacing.front_spacing`.

    Parameters
    ----------
    column
        ``"front_spacing_m"`` or ``"front_spacing_ratio"``.

    Returns
    -------
    callable
        The indicator function, ``(ctx, rule) -> Evaluation``; where no
        building is due south, the indicator does not apply.
    """

    def evaluate(ctx: Context, rule: Rule) -> Evaluation:
        scope = rule.scope
        params = rule.params
        tall = (
            _number(params, "max_south_height_m", 0.0)
            if "max_south_height_m" in params
            else float("inf")
        )
        search = _number(params, "search_m", 150.0)
        key = ("front_spacing", tall, search)
        table = ctx.cached(
            key,
            lambda: front_spacing(
                ctx.buildings, search_m=search, max_south_height_m=tall
            ),
        )
        ids = ctx.ids(scope)
        sub = table.reindex(ids)
        has = (sub["n_south"] > 0).to_numpy()
        reason = np.where(
            has,
            "",
            f"no building of at most {tall:g} m due south within {search:g} m",
        )
        basis, south = _spacing_provenance(ctx, ids, sub, column)
        own = ctx.unverified_height(scope).to_numpy(dtype=object)
        sep = np.where((own != "") & (south != ""), "; ", "")
        return Evaluation(
            pd.Series(sub[column].to_numpy(), index=ids, name=column),
            applies=pd.Series(has, index=ids),
            reason=pd.Series(reason, index=ids),
            unverified=pd.Series(own + sep + south, index=ids, dtype="str"),
            basis=pd.Series(basis, index=ids, dtype="str"),
        )

    return evaluate


register_indicator(
    "front_spacing_m",
    unit="m",
    scopes=_BUILDINGS,
    params=_SPACING_PARAMS,
    description="wall-to-wall distance to the nearest building due south",
)(_spacing("front_spacing_m"))

register_indicator(
    "front_spacing_ratio",
    unit="-",
    scopes=_BUILDINGS,
    params=_SPACING_PARAMS,
    description="smallest distance to a building due south / that building's height",
)(_spacing("front_spacing_ratio"))


# -- engines written elsewhere -------------------------------------------------

declare_indicator(
    "sunlight_hours",
    unit="h",
    scopes=("dwelling", "building"),
    provider="cim.sunlight",
    description="hours of direct sun on the window sill on the rule's day "
    "(params: day, window_h, max_segments), from the sunlight engine "
    "(geometry.sunlight)",
)

declare_indicator(
    "life_circle_walk_m",
    unit="m",
    scopes=("dwelling",),
    provider="cim.indicators.accessibility",
    description="walking distance along the street network from a dwelling to "
    "the facilities of its life circle",
)
