"""Registrations of the built-in indicators (imported by :mod:`cim.indicators`).

Each function adapts a momepy-style indicator of :mod:`cim.indicators.planning`
or :mod:`cim.indicators.spacing` to the registry's signature: it takes the
check's :class:`~cim.indicators.context.Context`, the rule's scope and
``params``, reuses the context's overlays, and says which inputs behind each
value are unverified:

- values from floor area (``far``, ``average_storeys``): unverified take-off
  rules and estimated storeys or storey heights of the buildings behind them
  (:meth:`~cim.indicators.context.Context.unverified_floor_area`);
- values from heights (``max_height_m``, front spacing): estimated heights;
- values from dwellings (``dwellings``, per-household ratios) and residents:
  households estimated from floor area, and the persons per household if it
  is the default;
- footprint and green values (``building_density``, the green rates) rest on
  polygons only;
- the ground share of the green-rate target rests on the rule that set the
  target: flagged if that rule is not verified or its threshold was chosen
  by a class derived from estimates.

Ratios over land area (``far``, ``building_density``, the green rates),
``average_storeys``, ``max_height_m``, the ground share, ``residents`` and
``residential_land_per_capita_m2`` also give their ``basis``: the areas,
dwellings (or the building) that produced the value, e.g. ``"counted
24,000.0 m2 / parcel 10,000.0 m2"``.

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


def _aligned(ctx: Context, scope: str, values: pd.Series) -> pd.Series:
    return pd.Series(values.to_numpy(), index=ctx.ids(scope), name=values.name)


def _zonal(
    ctx: Context,
    rule: Rule,
    func: Callable[..., pd.Series],
    *,
    layer: str = "buildings",
    **kwargs: Any,
) -> pd.Series:
    """An indicator of :mod:`~cim.indicators.planning` on the rule's zones.

    Parameters
    ----------
    ctx
        The check's context.
    rule
        The rule evaluated; its scope is ``parcel`` or ``site``.
    func
        ``func(features, zones, *, shares, **kwargs)``, e.g.
        :func:`~cim.indicators.planning.far`.
    layer
        The features: ``"buildings"`` (with the take-off's floor areas) or
        ``"greens"``; their overlay on the zones is the context's.
    **kwargs
        Further keyword arguments of ``func``.

    Returns
    -------
    pandas.Series
        The values, indexed by the scope's feature ids.
    """
    scope = rule.scope
    features = ctx.buildings if layer == "buildings" else ctx.twin[layer]
    values = func(features, ctx.zones(scope), shares=ctx.shares(layer, scope), **kwargs)
    return _aligned(ctx, scope, values)


def _over_area(
    ctx: Context, scope: str, what: str, num: NDArray[np.float64]
) -> pd.Series:
    """Basis of a ratio over land area: ``"<what> <num> m2 / <scope> <area> m2"``.

    Parameters
    ----------
    ctx
        The check's context.
    scope
        ``"parcel"`` or ``"site"``.
    what
        What the numerator is, e.g. ``"counted"``.
    num
        Per zone, the numerator [m2], ``(n,)`` float.

    Returns
    -------
    pandas.Series
        Indexed by the scope's feature ids; areas to 0.1 m2.
    """
    area = shapely.area(np.asarray(ctx.zones(scope).geometry.array, dtype=object))
    text = [
        f"{what} {a:,.1f} m2 / {scope} {z:,.1f} m2"
        for a, z in zip(np.asarray(num, dtype="float64"), area, strict=True)
    ]
    return pd.Series(text, index=ctx.ids(scope), dtype="str")


def _weighted(ctx: Context, layer: str, scope: str, values: Any) -> NDArray[np.float64]:
    """Per zone, the sum of a per-feature quantity of ``layer`` by share [m2]."""
    return ctx.shares(layer, scope).sum(np.asarray(values, dtype="float64"))


def _people(
    ctx: Context, rule: Rule, values: pd.Series, basis: pd.Series | None = None
) -> Evaluation:
    """Values computed from residents, with their unverified inputs.

    Those are households estimated from floor area and a default persons per
    household (:meth:`~cim.indicators.context.Context.unverified_people`).
    """
    return Evaluation(values, unverified=ctx.unverified_people(rule.scope), basis=basis)


def _residents_of(ctx: Context, scope: str) -> tuple[NDArray[np.float64], float]:
    """Per zone, dwellings (households by footprint share), and persons each."""
    households = pd.to_numeric(ctx.buildings["households"], errors="coerce")
    d = _weighted(
        ctx, "buildings", scope, households.to_numpy(dtype="float64", na_value=np.nan)
    )
    return d, ctx.persons_per_household


def _per_dwelling(
    ctx: Context, rule: Rule, values: pd.Series, missing: str
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

    Returns
    -------
    Evaluation
        With the reason and the unverified dwellings behind each value.
    """
    scope = rule.scope
    reason = np.where(values.isna().to_numpy(), f"{missing} given, or no dwellings", "")
    return Evaluation(
        values,
        reason=ctx.series(scope, reason, "reason"),
        unverified=ctx.unverified_dwellings(scope),
    )


@register_indicator(
    "far",
    unit="-",
    scopes=_ZONES,
    description="plot ratio: FAR-counted floor area above ground / land area",
)
def _far(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    v = _zonal(ctx, rule, pl.far, floor_area="far_above_ground_m2")
    counted = _weighted(ctx, "buildings", scope, ctx.buildings["far_above_ground_m2"])
    return Evaluation(
        v,
        unverified=ctx.unverified_far(scope),
        basis=_over_area(ctx, scope, "counted", counted),
    )


@register_indicator(
    "building_density",
    unit="-",
    scopes=_ZONES,
    description="building footprint inside the zone / land area",
)
def _density(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    s = ctx.shares("buildings", scope)
    covered = np.asarray(
        np.bincount(s.zone, weights=s.area_m2, minlength=s.n_zones), dtype="float64"
    )
    return Evaluation(
        _zonal(ctx, rule, pl.building_density),
        basis=_over_area(ctx, scope, "footprint", covered),
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
    factors = rule.params.get("factors")
    greens = ctx.twin.greens
    counted = pl.planted_area(greens) * pl.green_factors(greens, factors)
    return Evaluation(
        _zonal(ctx, rule, pl.green_rate, layer="greens", factors=factors),
        basis=_over_area(
            ctx, scope, "counted green", _weighted(ctx, "greens", scope, counted)
        ),
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
    kinds = _kinds(rule.params, pl.GROUND_GREEN_KINDS)
    greens = ctx.twin.greens
    ground = np.where(
        np.isin(greens["kind"].astype("str").to_numpy(), kinds),
        pl.planted_area(greens),
        0.0,
    )
    return Evaluation(
        _zonal(ctx, rule, pl.ground_green_rate, layer="greens", kinds=kinds),
        basis=_over_area(
            ctx, scope, "ground green", _weighted(ctx, "greens", scope, ground)
        ),
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
    h = pd.to_numeric(ctx.buildings["height_m"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
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
    v = ctx.series(
        scope, ctx.classes(scope)["average_storeys"].to_numpy(), "average_storeys"
    )
    b = ctx.buildings
    housing = pl.is_housing(b)
    floor = _weighted(
        ctx, "buildings", scope, np.where(housing, b["gfa_above_ground_m2"], 0.0)
    )
    footprint = np.where(
        housing, shapely.area(np.asarray(b.geometry.array, dtype=object)), 0.0
    )
    foot = _weighted(ctx, "buildings", scope, footprint)
    basis = [
        f"housing floor area {a:,.1f} m2 / housing footprint {f:,.1f} m2"
        for a, f in zip(floor, foot, strict=True)
    ]
    return Evaluation(
        v,
        unverified=ctx.unverified_floor_area(scope, basis="gfa"),
        basis=pd.Series(basis, index=ctx.ids(scope), dtype="str"),
    )


@register_indicator(
    "dwellings",
    unit="dwellings",
    scopes=_ZONES,
    description="households, split by footprint share",
)
def _dwellings(ctx: Context, rule: Rule) -> Evaluation:
    v = _zonal(ctx, rule, pl.dwellings)
    return Evaluation(v, unverified=ctx.unverified_dwellings(rule.scope))


@register_indicator(
    "residents",
    unit="persons",
    scopes=_ZONES,
    description="dwellings x persons per household",
)
def _residents(ctx: Context, rule: Rule) -> Evaluation:
    pph = ctx.persons_per_household
    v = _zonal(ctx, rule, pl.residents, persons_per_household=pph)
    d, pph = _residents_of(ctx, rule.scope)
    basis = [f"{x:,.1f} dwellings x {pph:g} persons per household" for x in d]
    return _people(ctx, rule, v, pd.Series(basis, index=v.index, dtype="str"))


@register_indicator(
    "residential_land_per_capita_m2",
    unit="m2/person",
    scopes=_ZONES,
    description="land area / residents",
)
def _land_per_capita(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    pph = ctx.persons_per_household
    v = _zonal(ctx, rule, pl.residential_land_per_capita, persons_per_household=pph)
    d, pph = _residents_of(ctx, scope)
    area = shapely.area(np.asarray(ctx.zones(scope).geometry.array, dtype=object))
    basis = [
        f"{scope} {a:,.1f} m2 / {x * pph:,.1f} residents"
        for a, x in zip(area, d, strict=True)
    ]
    return _people(ctx, rule, v, pd.Series(basis, index=v.index, dtype="str"))


@register_indicator(
    "public_green_per_capita_m2",
    unit="m2/person",
    scopes=_ZONES,
    params=("kinds",),
    description="public green (kind park) / residents",
)
def _public_green(ctx: Context, rule: Rule) -> Evaluation:
    scope = rule.scope
    params = rule.params
    v = pl.public_green_per_capita(
        ctx.twin.greens,
        ctx.buildings,
        ctx.zones(scope),
        persons_per_household=ctx.persons_per_household,
        kinds=_kinds(params, ("park",)),
        green_shares=ctx.shares("greens", scope),
        building_shares=ctx.shares("buildings", scope),
    )
    return _people(ctx, rule, _aligned(ctx, scope, v))


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
    v = pl.concentrated_green_per_capita(
        ctx.twin.greens,
        ctx.buildings,
        ctx.zones(scope),
        persons_per_household=ctx.persons_per_household,
        min_width_m=width,
        kinds=_kinds(params, ("ground", "park")),
        building_shares=ctx.shares("buildings", scope),
    )
    return _people(ctx, rule, _aligned(ctx, scope, v))


@register_indicator(
    "service_space_per_100_households_m2",
    unit="m2/100 dwellings",
    scopes=_ZONES,
    description="community service floor area (buildings.service_space_m2) "
    "per 100 households",
)
def _service_space(ctx: Context, rule: Rule) -> Evaluation:
    v = _zonal(ctx, rule, pl.service_space_per_100_households)
    return _per_dwelling(ctx, rule, v, "no service_space_m2")


def _parking(
    func: Callable[..., pd.Series], column: str
) -> Callable[[Context, Rule], Evaluation]:
    """The indicator of a parking ratio of :mod:`~cim.indicators.planning`.

    Parameters
    ----------
    func
        ``func(parcels, buildings, zones, *, building_shares, parcel_shares)``,
        e.g. :func:`~cim.indicators.planning.parking_spaces_per_household`.
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
        v = func(
            ctx.twin.parcels,
            ctx.buildings,
            zones,
            building_shares=ctx.shares("buildings", scope),
            parcel_shares=None if zones is None else ctx.shares("parcels", scope),
        )
        return _per_dwelling(ctx, rule, _aligned(ctx, scope, v), f"no parcels.{column}")

    return evaluate


register_indicator(
    "parking_spaces_per_household",
    unit="spaces/dwelling",
    scopes=_ZONES,
    description="car spaces (parcels.parking_spaces) per household",
)(_parking(pl.parking_spaces_per_household, "parking_spaces"))

register_indicator(
    "surface_parking_per_household",
    unit="spaces/dwelling",
    scopes=_ZONES,
    description="ground-level car spaces (parcels.surface_parking_spaces) "
    "per household",
)(_parking(pl.surface_parking_per_household, "surface_parking_spaces"))


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
        return Evaluation(
            pd.Series(sub[column].to_numpy(), index=ids, name=column),
            applies=pd.Series(has, index=ids),
            reason=pd.Series(reason, index=ids),
            unverified=ctx.unverified_height(scope),
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
