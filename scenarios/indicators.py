"""Indicator modules: whole-plan metrics that :func:`scenarios.compare` runs.

An indicator module is a function ``func(twin, **options)`` returning either
a mapping ``{metric: value}`` or a tidy :class:`pandas.DataFrame` with
``metric`` and ``value`` columns (and optionally ``unit``). A *relative*
module also receives ``baseline=`` (the twin before the plan), for metrics
that only make sense against it, such as the sunlight neighbours lose.

Modules are registered by name, either in code::

    from scenarios.indicators import register_indicator

    @register_indicator("parking", description="supply against demand")
    def parking(twin, *, rulebook="zhejiang-future-community"):
        return {"parking_spaces": ..., "shortfall_spaces": ...}

or, from another package, through the ``cim_twin.scenario_indicators`` entry
point group (``name = "package.module:function"``, or an
:class:`IndicatorModule`), loaded the first time the registry is read. The
framework never needs editing: traffic, parking and energy modules plug in
this way.

These are scenario-level metrics. Per-feature indicators that compliance
rules test (``far``, ``green_rate`` ...) live in :mod:`cim.indicators`, with
a registry of their own.

Built-in modules
----------------
``takeoff``
    Floor-area take-off (:func:`cim.takeoff.twin_takeoff`): gross and
    FAR-counted floor area, residential floor area, site FAR, footprint,
    building coverage, buildings and households. Option ``rulebook``
    (default ``"zhejiang-future-community"``).
``compliance`` (relative)
    The compliance check (:func:`cim.check.check`): how many rules fail,
    how many checks fail, pass or are not evaluated, how many checks fail
    that did not fail in the baseline, and the failing checks of each rule.
    Options ``rulebook`` and ``params``. Each twin's check is computed once
    (cached while the twin lives).
``sunlight`` (relative)
    Sunlight impact on neighbours (:func:`cim.sunlight.sunlight_impact`):
    existing buildings and windows that lose compliance, buildings with
    less sun, the largest loss. Options as ``sunlight_impact`` (``rules``,
    default ``"hangzhou"``; ``step_min`` ...). Zero when no building is
    added, raised or moved.
``circles``
    Travel-circle coverage (:func:`cim.network.circles.travel_circles`):
    for each facility category with a life circle (5, 10 or 15 min in
    ``assets/facility_categories.csv``), the share of residents within that
    circle of one, and their mean. Gates closed or opened by the plan
    (``gate_closed`` node attribute) are closed or opened, as every mode
    graph does (:func:`cim.network.modes.mode_graph`). Options ``minutes``,
    ``mode``, ``categories``, and those of ``travel_circles`` (``time``,
    ``gates`` ...).

``compliance``, ``sunlight`` and ``circles`` need their engines; where one
is not importable the module is skipped, with the reason, by
:func:`evaluate_indicators`.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import json
import logging
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np
import pandas as pd

from scenarios.errors import IndicatorUnavailableError

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "ENTRY_POINT_GROUP",
    "INDICATOR_COLUMNS",
    "IndicatorModule",
    "available_indicators",
    "evaluate_indicators",
    "get_indicator",
    "register_indicator",
    "unit_of",
    "unregister_indicator",
]

_log = logging.getLogger(__name__)

#: Entry point group through which other packages register indicator modules.
ENTRY_POINT_GROUP = "cim_twin.scenario_indicators"
#: Columns of the tidy table :func:`evaluate_indicators` returns.
INDICATOR_COLUMNS = ("indicator", "metric", "unit", "value")

IndicatorFunc = Callable[..., Any]
_F = TypeVar("_F", bound=IndicatorFunc)


@dataclass(frozen=True)
class IndicatorModule:
    """A registered indicator module.

    Parameters
    ----------
    name
        Registry name.
    func
        ``func(twin, **options)`` (relative modules also get ``baseline=``)
        -> ``{metric: value}`` or a DataFrame with ``metric``, ``value`` and
        optionally ``unit``.
    description
        One line on what it measures.
    relative
        Whether it compares with the baseline (gets ``baseline=``).
    requires
        Modules it needs; where one cannot be imported the indicator is
        unavailable and skipped.
    default
        Run by :func:`scenarios.compare` when no indicators are named.
    units
        Units of metrics whose names do not carry them (see :func:`unit_of`).
    """

    name: str
    func: IndicatorFunc
    description: str = ""
    relative: bool = False
    requires: tuple[str, ...] = ()
    default: bool = True
    units: Mapping[str, str] = field(default_factory=dict)

    def unavailable_reason(self) -> str | None:
        """Why the module cannot run here, or None."""
        for module in self.requires:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                return f"needs {module} ({exc})"
        return None


_REGISTRY: dict[str, IndicatorModule] = {}
_ENTRY_POINTS_LOADED = False


@overload
def register_indicator(
    name: str,
    func: None = None,
    *,
    description: str = "",
    relative: bool = False,
    requires: Sequence[str] = (),
    default: bool = True,
    units: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> Callable[[_F], _F]: ...


@overload
def register_indicator(
    name: str,
    func: _F,
    *,
    description: str = "",
    relative: bool = False,
    requires: Sequence[str] = (),
    default: bool = True,
    units: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> _F: ...


def register_indicator(
    name: str,
    func: Any = None,
    *,
    description: str = "",
    relative: bool = False,
    requires: Sequence[str] = (),
    default: bool = True,
    units: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> Any:
    """Register an indicator module (usable as a decorator).

    Parameters
    ----------
    name
        Registry name, e.g. ``"parking"``.
    func
        The function; omit to use ``register_indicator(name, ...)`` as a
        decorator.
    description, relative, requires, default, units
        See :class:`IndicatorModule`.
    overwrite
        Replace a module of the same name.

    Returns
    -------
    callable
        ``func`` (or the decorator).

    Raises
    ------
    ValueError
        If the name is taken and ``overwrite`` is false.

    Examples
    --------
    >>> from scenarios.indicators import register_indicator, unregister_indicator
    >>> @register_indicator("n_buildings", description="buildings")
    ... def n_buildings(twin):
    ...     return {"buildings": len(twin.buildings)}
    >>> unregister_indicator("n_buildings")
    """

    def add(f: _F) -> _F:
        _load_entry_points()
        if name in _REGISTRY and not overwrite:
            msg = (
                f"indicator {name!r} is already registered; pass overwrite=True to "
                "replace it"
            )
            raise ValueError(msg)
        _REGISTRY[name] = IndicatorModule(
            name=name,
            func=f,
            description=description,
            relative=relative,
            requires=tuple(requires),
            default=default,
            units=dict(units or {}),
        )
        return f

    return add if func is None else add(func)


def unregister_indicator(name: str) -> None:
    """Remove an indicator module from the registry (no error if absent)."""
    _REGISTRY.pop(name, None)


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED  # noqa: PLW0603 - load once, on first use
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _REGISTRY:
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plug-in must not break the others
            _log.warning("indicator entry point %s failed to load: %s", ep.value, exc)
            continue
        if isinstance(obj, IndicatorModule):
            _REGISTRY[ep.name] = obj
        elif callable(obj):
            _REGISTRY[ep.name] = IndicatorModule(name=ep.name, func=obj)
        else:
            _log.warning("indicator entry point %s is not callable", ep.value)


def get_indicator(name: str) -> IndicatorModule:
    """The registered module ``name``.

    Raises
    ------
    KeyError
        Listing the registered names (and the closest one).
    """
    _load_entry_points()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        msg = (
            f"no indicator module {name!r}{hint}; registered: "
            f"{', '.join(sorted(_REGISTRY))}"
        )
        raise KeyError(msg)
    return _REGISTRY[name]


def available_indicators(*, include_all: bool = False) -> list[str]:
    """Names of the registered indicator modules.

    Parameters
    ----------
    include_all
        Include the modules that cannot run here (missing engine) and those
        not run by default.

    Returns
    -------
    list of str
        In registration order.
    """
    _load_entry_points()
    return [
        n
        for n, m in _REGISTRY.items()
        if include_all or (m.default and m.unavailable_reason() is None)
    ]


_UNIT_SUFFIXES = (
    ("_m2", "m2"),
    ("_m3", "m3"),
    ("_m", "m"),
    ("_s", "s"),
    ("_min", "min"),
    ("_h", "h"),
    ("_cny", "CNY"),
    ("_kwh", "kWh"),
    ("_pct", "%"),
)


def unit_of(metric: str) -> str:
    """The unit a metric's name carries (principle: units in names).

    ``*_m2`` -> m2, ``*_h`` -> h, ``*_cny`` -> CNY ...; shares, rates, ratios
    and FAR -> ``-``; anything else (counts) -> ``count``.

    Parameters
    ----------
    metric
        Metric name.

    Returns
    -------
    str
    """
    base = metric.rsplit(":", 1)[0]
    for suffix, unit in _UNIT_SUFFIXES:
        if base.endswith(suffix):
            return unit
    words = ("share", "rate", "ratio", "far", "coverage", "density")
    if any(w in base for w in words):
        return "-"
    return "count"


def _tidy(name: str, module: IndicatorModule, out: Any) -> pd.DataFrame:
    if isinstance(out, pd.DataFrame):
        if not {"metric", "value"} <= set(out.columns):
            msg = (
                f"indicator {name!r} returned a DataFrame without 'metric' and "
                f"'value' columns (it has {', '.join(map(str, out.columns))})"
            )
            raise TypeError(msg)
        frame = out[["metric", "value", *(["unit"] if "unit" in out.columns else [])]]
        frame = frame.copy()
    elif isinstance(out, Mapping):
        frame = pd.DataFrame({"metric": list(out), "value": list(out.values())})
    else:
        msg = (
            f"indicator {name!r} returned {type(out).__name__}; return a dict of "
            "metric -> number or a DataFrame with metric and value"
        )
        raise TypeError(msg)
    frame["metric"] = frame["metric"].astype(str)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    if "unit" not in frame.columns:
        frame["unit"] = [module.units.get(m, unit_of(m)) for m in frame["metric"]]
    frame.insert(0, "indicator", name)
    return frame[list(INDICATOR_COLUMNS)].reset_index(drop=True)


def evaluate_indicators(
    twin: Twin,
    *,
    baseline: Twin | None = None,
    indicators: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    skipped: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Run indicator modules on a twin and stack their metrics in one tidy table.

    Parameters
    ----------
    twin
        The twin (a plan's result, or the baseline itself).
    baseline
        The baseline, for relative modules (default ``twin``: no change).
    indicators
        Module names; default every available default module.
    options
        Keyword options per module, e.g. ``{"takeoff": {"rulebook": "..."}}``.
    skipped
        If given, filled with module -> reason for the modules that could not
        run here (missing engine); otherwise such a module named in
        ``indicators`` raises.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INDICATOR_COLUMNS`.

    Raises
    ------
    KeyError
        For an unknown module or an option for a module not run.
    IndicatorUnavailableError
        For a named module that cannot run, when ``skipped`` is None.
    """
    names = list(indicators) if indicators is not None else available_indicators()
    opts = dict(options or {})
    unknown_opts = [k for k in opts if k not in names]
    if unknown_opts:
        msg = (
            f"options given for {unknown_opts[0]!r}, which is not among the "
            f"indicators run ({', '.join(names)})"
        )
        raise KeyError(msg)
    base = twin if baseline is None else baseline
    frames = []
    for name in names:
        module = get_indicator(name)
        reason = module.unavailable_reason()
        kwargs = dict(opts.get(name, {}))
        if module.relative:
            kwargs["baseline"] = base
        if reason is None:
            try:
                out = module.func(twin, **kwargs)
            except IndicatorUnavailableError as exc:
                reason = str(exc)
        if reason is not None:
            if skipped is None:
                msg = f"indicator {name!r} cannot run here: {reason}"
                raise IndicatorUnavailableError(msg)
            skipped[name] = reason
            _log.info("indicator %s skipped: %s", name, reason)
            continue
        frames.append(_tidy(name, module, out))
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in INDICATOR_COLUMNS})
    return pd.concat(frames, ignore_index=True)


# -- built-in modules ------------------------------------------------------------------


@register_indicator(
    "takeoff",
    description="gross and FAR-counted floor area, site FAR, coverage, households",
)
def takeoff_indicator(
    twin: Twin, *, rulebook: str = "zhejiang-future-community"
) -> dict[str, float]:
    """Floor areas, site FAR and coverage of a twin (see the module doc).

    Parameters
    ----------
    twin
        The twin.
    rulebook
        Rulebook of the take-off.

    Returns
    -------
    dict
        ``gross_floor_area_m2``, ``far_area_m2``, ``residential_gfa_m2``
        [m2], ``site_far`` [-], ``footprint_m2`` [m2],
        ``building_coverage`` [-], ``buildings``, ``households``.
    """
    from cim.takeoff import twin_takeoff

    b = twin.buildings
    site = twin.site_area_m2()
    if len(b):
        result = twin_takeoff(twin, rulebook)
        by = result.by_building
        gfa, far = result.gross_floor_area_m2, result.far_area_m2
        res_ids = b.loc[b["use"] == "residential", "building_id"]
        residential = float(by["gross_floor_area_m2"].reindex(res_ids).sum())
    else:
        gfa = far = residential = 0.0
    footprint = float(b.geometry.area.sum())
    return {
        "gross_floor_area_m2": gfa,
        "far_area_m2": far,
        "residential_gfa_m2": residential,
        "site_far": far / site if site else math.nan,
        "footprint_m2": footprint,
        "building_coverage": footprint / site if site else math.nan,
        "buildings": float(len(b)),
        "households": float(b["households"].sum()),
    }


_CHECKS: weakref.WeakKeyDictionary[Any, dict[str, pd.DataFrame]] = (
    weakref.WeakKeyDictionary()
)


def _check_rows(
    twin: Twin, rulebook: str, params: Mapping[str, Any] | None
) -> pd.DataFrame:
    """The compliance rows of a twin, cached per twin object (baselines recur)."""
    from cim.check import check

    key = json.dumps([str(rulebook), params], sort_keys=True, default=str)
    cache = _CHECKS.setdefault(twin, {})
    if key not in cache:
        cache[key] = check(twin, rulebook, params=params).to_frame()
    return cache[key]


@register_indicator(
    "compliance",
    description="failing rules and checks of the compliance check, new failures",
    relative=True,
    requires=("cim.check",),
)
def compliance_indicator(
    twin: Twin,
    *,
    baseline: Twin,
    rulebook: str = "zhejiang-future-community",
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Counts of the compliance check's statuses, and what the plan newly fails.

    Parameters
    ----------
    twin
        The twin.
    baseline
        The twin before the plan.
    rulebook
        Rulebook id or path.
    params
        Planning parameters (see :func:`cim.check.check`).

    Returns
    -------
    pandas.DataFrame
        Metrics ``failing_rules`` (rules with a failing check),
        ``failing_checks``, ``passing_checks``, ``not_evaluated_checks``;
        ``newly_failing_checks`` (checks, by feature and rule, that fail
        and did not fail in the baseline, including those it could not
        evaluate) and ``newly_passing_checks`` (that pass and did not pass);
        and ``failing:<rule_id>`` for every rule with a verdict.
    """
    rows = _check_rows(twin, rulebook, params)
    status = rows["status"].astype(str)
    fails = rows.loc[status == "fail", "rule_id"].astype(str)
    judged = rows.loc[status.isin(["pass", "fail"]), "rule_id"].astype(str)
    per_rule = fails.value_counts().reindex(pd.unique(judged), fill_value=0)
    if baseline is twin:
        newly_failing = newly_passing = 0
    else:
        keys = ["feature_id", "rule_id"]
        before = _check_rows(baseline, rulebook, params)[[*keys, "status"]]
        now = rows[keys].assign(status=status.to_numpy())
        both = now.merge(before, on=keys, how="left", suffixes=("", "_before"))
        was = both["status_before"].astype(str)
        newly_failing = int(((both["status"] == "fail") & (was != "fail")).sum())
        newly_passing = int(((both["status"] == "pass") & (was != "pass")).sum())
    metrics = [
        ("failing_rules", float(fails.nunique())),
        ("failing_checks", float((status == "fail").sum())),
        ("passing_checks", float((status == "pass").sum())),
        ("not_evaluated_checks", float((status == "not_evaluated").sum())),
        ("newly_failing_checks", float(newly_failing)),
        ("newly_passing_checks", float(newly_passing)),
    ]
    metrics += [(f"failing:{r}", float(n)) for r, n in sorted(per_rule.items())]
    return pd.DataFrame(
        {
            "metric": [m for m, _ in metrics],
            "value": [v for _, v in metrics],
            "unit": "count",
        }
    )


def _moved_or_raised(baseline: Twin, twin: Twin) -> bool:
    """Whether any building is new, or differs in footprint or height."""
    from scenarios.diffing import diff

    if twin.buildings is baseline.buildings:
        return False
    f = diff(baseline, twin, layers=["buildings"]).features
    if (f["change"] == "added").any():
        return True
    changed = f.loc[f["change"] == "changed", "columns"].str.split(", ")
    return bool(changed.map(lambda cs: "geometry" in cs or "height_m" in cs).any())


@register_indicator(
    "sunlight",
    description="sunlight neighbours lose (windows and buildings losing compliance)",
    relative=True,
    requires=("cim.sunlight",),
)
def sunlight_indicator(
    twin: Twin, *, baseline: Twin, rules: str = "hangzhou", **options: Any
) -> dict[str, float]:
    """Sunlight that existing buildings lose to a plan.

    Parameters
    ----------
    twin
        The plan's twin.
    baseline
        The twin before the plan.
    rules
        Rulebook with the sunlight rules.
    **options
        Passed to :func:`cim.sunlight.sunlight_impact` (``step_min``,
        ``day``, ``year`` ...).

    Returns
    -------
    dict
        ``neighbours_losing_compliance`` (existing buildings that pass before
        and fail after), ``neighbours_with_less_sun``,
        ``windows_losing_compliance`` (sample points) and ``max_loss_h``
        [h] (largest drop of a building's indicator).
    """
    zero = {
        "neighbours_losing_compliance": 0.0,
        "neighbours_with_less_sun": 0.0,
        "windows_losing_compliance": 0.0,
        "max_loss_h": 0.0,
    }
    if twin is baseline or not _moved_or_raised(baseline, twin):
        return zero
    from cim.sunlight import sunlight_impact

    impact = sunlight_impact(baseline, twin, rules, **options)
    b = impact.buildings
    if not len(b):
        return zero
    status = b["status"].astype(str)
    lost_ids = b.loc[status == "lost", "building_id"].astype(str)
    worse_ids = b.loc[status.isin(["lost", "worse"]), "building_id"].astype(str)
    drop = pd.to_numeric(b["before_h"], errors="coerce") - pd.to_numeric(
        b["after_h"], errors="coerce"
    )
    return {
        "neighbours_losing_compliance": float(lost_ids.nunique()),
        "neighbours_with_less_sun": float(worse_ids.nunique()),
        "windows_losing_compliance": float(len(impact.lost)),
        "max_loss_h": float(max(0.0, np.nanmax(drop.to_numpy()))) if len(drop) else 0.0,
    }


def closed_gates(twin: Twin) -> dict[Any, bool]:
    """The gates a plan decided (``gate_closed`` node attribute): node -> open.

    Only a listing: the mode graphs of :mod:`cim.network` apply
    ``gate_closed`` themselves (see :func:`cim.network.gate_overrides`).

    Parameters
    ----------
    twin
        The twin.

    Returns
    -------
    dict
        For every node whose ``gate_closed`` is True or False, whether it is
        open (the form of ``gates=`` in :mod:`cim.network`).
    """
    from cim.network.modes import gate_overrides

    return gate_overrides(twin.network)


@register_indicator(
    "circles",
    description="share of residents within each facility's life circle",
    requires=("cim.network.circles",),
)
def circles_indicator(
    twin: Twin,
    *,
    minutes: Sequence[float] = (5, 10, 15),
    mode: str = "walk",
    categories: Sequence[str] | None = None,
    **options: Any,
) -> dict[str, float]:
    """Travel-circle coverage per facility category, at its life circle.

    Parameters
    ----------
    twin
        The twin.
    minutes
        Circles computed [min].
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    categories
        Categories reported; default those whose life circle (5, 10 or 15
        min) is among ``minutes``.
    **options
        Passed to :func:`cim.network.circles.travel_circles` (``time`` ...).

    Returns
    -------
    dict
        ``<category>_share_<N>min`` [-] (share of residents with one within
        its circle) and ``mean_share`` [-].
    """
    from cim.layers import facility_categories
    from cim.network.circles import travel_circles

    if twin.network.number_of_nodes() == 0:
        msg = "the twin has no street network"
        raise IndicatorUnavailableError(msg)
    table = facility_categories()
    circle = pd.to_numeric(table["life_circle"], errors="coerce")
    wanted = {float(m) for m in minutes}
    chosen = {
        str(c): float(circle[c])
        for c in (categories if categories is not None else table.index)
        if c in circle.index and float(circle[c]) in wanted
    }
    # Gates closed or opened by the plan (gate_closed) are applied by the mode
    # graph itself; a gates= option overrides them.
    tc = travel_circles(
        twin,
        minutes=tuple(sorted(wanted)),
        mode=mode,
        categories=list(chosen),
        **options,
    )
    out: dict[str, float] = {}
    for cat, m in chosen.items():
        out[f"{cat}_share_{m:g}min"] = float(tc.coverage.loc[cat, f"share_{m:g}min"])
    values = [v for v in out.values() if not math.isnan(v)]
    out["mean_share"] = float(np.mean(values)) if values else math.nan
    return out
