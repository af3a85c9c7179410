"""Sunlight check of a twin: hours of sun at ground-floor windows, by rulebook.

The sunlight standards (GB 50180-2018 §4.0.9 and the local rules that refine
it) ask for a number of hours of direct sun, on one day of the year, at the
ground-floor window sill of at least one main room of every dwelling. This
module turns a twin and the sunlight rules of a rulebook into those hours,
with the ray-casting engine of `geometry.sunlight`:

1. The sunlight rules are the rules of the rulebook's chain whose
   ``indicator`` is ``"sunlight_hours"``; how each is evaluated (the day, the
   window, which segments count, which buildings) comes from its ``params``
   table, read by `SunlightParams.from_rule`.
2. Sample points (`sample_points`) lie on every facade of the buildings a rule
   applies to, at the sill height above the building's base, every
   ``spacing_m`` along the walls, or are the twin's windows where they are
   given (``points=``). The obstructions are *all* buildings of the twin
   (`cim.meshes.twin_meshes`, LoD2 where the twin has surfaces).
3. The sun comes from the twin's own location: the centre of its site (or of
   its buildings) transformed to longitude and latitude, and the meridian
   convergence of its CRS there (`site_location`).
4. Each point gets its sunlit minutes, segments and the minutes the rule
   counts (the ``max_segments`` longest segments of at least
   ``min_segment_min``); it passes when the counted hours pass the rule's
   threshold. Buildings are summarised as below.

Rule parameters
---------------
Keys of a sunlight rule's ``params`` table, all optional (`SunlightParams`):

``day`` (``"great_cold"``)
    ``"great_cold"`` (大寒日, `geometry.solar.great_cold_day`) or
    ``"winter_solstice"`` (冬至日, `geometry.solar.winter_solstice`).
``window_h`` (8-16 h on the Great Cold day, 9-15 h on the Winter Solstice)
    ``[start, end]`` of the counted window in true solar time [h]; Hangzhou
    counts 9-15 h on both days.
``max_segments`` (all)
    Only the longest this many segments count, e.g. 2 for housing and 3 for
    kindergartens in Hangzhou.
``min_segment_min`` (0)
    Segments shorter than this do not count [min]; a [GAP] in the Zhejiang
    rules (Beijing drops segments under 5 min on the Great Cold day).
``applies_to`` (``["residential"]``)
    Building ``use`` values the rule applies to (`cim.layers.BUILDING_USES`);
    ``"residential"`` also covers housing of ``mixed`` or ``unknown`` use
    that has households (`cim.indicators.planning.is_housing`, the
    compliance check's dwelling scope).
``facilities`` (``[]``)
    Facility categories (`cim.layers.facility_categories`, e.g.
    ``"kindergarten"``): the rule also applies to buildings whose footprint
    holds such a facility point, whatever their use.
``sill_height_m`` (0.9)
    Height of the sample points above the building's base [m].
``spacing_m`` (1.0)
    Spacing of the sample points along the walls; Hangzhou's grid is 1 m
    [m].
``step_min`` (1.0)
    Time step of the sun's samples; Hangzhou asks for at most 5 min [min].
``min_incidence_deg`` (0)
    Smallest angle, in plan, between the sun and the facade that counts
    (最小扫略角) [deg].
``main_facade_deg`` (67.5)
    Facades facing within this angle of true south are *main* facades, on
    which the dwellings' main rooms are taken to lie [deg].
``min_pass_share`` (1.0)
    Share of a building's main-facade points that must pass for the building
    to pass [-]; see below.

Buildings
---------
The standard asks that every dwelling have at least one main room in the sun.
The twin knows neither dwellings nor windows, so a building is judged on the
points of its *main facades* (facing within ``main_facade_deg`` of true south;
all its points if it has none there), a conservative proxy: the building
passes when at least ``min_pass_share`` of those points pass, by default all
of them. A building that passes then passes whatever the layout of its
dwellings, as long as each has a main room on a main facade; one that fails
may still comply and needs its floor plans checked. Lower ``min_pass_share``
(e.g. 0.8) to screen out end bays and recesses. The building's indicator
value (`sunlight_indicator`) is consistent with this test: the counted hours
reached by at least ``min_pass_share`` of its main-facade points, the minimum
(the worst window) by default, so that the rule's threshold applied to it
gives the same verdict.

Sample points on a wall shared with, or covered by, another building (inside
that building's footprint) are dropped: no window opens there.

Thresholds
----------
A threshold table (keyed by ``development``, ``climate_zone``, ``city_size``
...) is looked up with the planning parameters the compliance check uses:
those given, else ``twin.metadata["planning"]``, else the defaults of
`cim.check.PARAMETERS`. A rule whose parameters are not all known, or whose
table has no entry for them (the renewal rule in new development), is skipped
and listed in `SunlightCheck.skipped`.

Impact of a proposal
--------------------
`sunlight_impact` checks the existing windows without and with a proposal
(new or changed buildings) and lists those that pass before and fail after,
blaming each lost stretch of sun on the proposed building its rays hit first.

The compliance check
--------------------
Importing this module registers `sunlight_indicator` as the
``sunlight_hours`` indicator of `cim.indicators`, which `cim.check.check`
imports when a rule needs it: the sunlight rows of the compliance report are
the building values of this module.

Results are advisory: compliance rulings need certified software.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from cim.errors import CIMError
from cim.io.results import write_sunlight_gpkg
from cim.layers import BUILDING_USES, facility_categories
from cim.meshes import twin_meshes
from cim.rules.rulebook import (
    Rule,
    Rulebook,
    RulebookError,
    ThresholdTable,
    compare,
    load_rulebook,
)
from geometry.facade import facade_points
from geometry.mesh import combine
from geometry.solar import great_cold_day, winter_solstice
from geometry.sunlight import (
    GREAT_COLD_WINDOW_H,
    WINTER_SOLSTICE_WINDOW_H,
    RayScene,
    SunlightResult,
    SunPath,
    ray_scene,
    sun_vectors,
    sunlight_hours,
)

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "DAYS",
    "SUNLIGHT_INDICATOR",
    "SiteLocation",
    "SunlightCheck",
    "SunlightError",
    "SunlightImpact",
    "SunlightParams",
    "clock",
    "day_name",
    "parse_day",
    "sample_points",
    "site_location",
    "sunlight_check",
    "sunlight_impact",
    "sunlight_indicator",
    "sunlight_rules",
    "write_sunlight",
]

_log = logging.getLogger(__name__)

#: Name of the indicator of sunlight rules.
SUNLIGHT_INDICATOR: Final = "sunlight_hours"
#: Days a sunlight rule may be evaluated on.
DAYS: Final = ("great_cold", "winter_solstice")
#: The days of `DAYS` in words, for reports, bases and pictures.
_DAY_NAMES: Final = {
    "great_cold": "Great Cold day",
    "winter_solstice": "Winter Solstice",
}
_DEFAULT_WINDOW: Final = {
    "great_cold": GREAT_COLD_WINDOW_H,
    "winter_solstice": WINTER_SOLSTICE_WINDOW_H,
}
_OPS: Final = (">=", ">")
_UNITS: Final = ("h",)
_F64 = npt.NDArray[np.float64]

Engine: TypeAlias = Literal["auto", "embree", "triangle"]
Rules: TypeAlias = "Rulebook | Rule | Sequence[Rule] | str | os.PathLike[str]"


class SunlightError(CIMError, ValueError):
    """A sunlight check cannot run: nothing to check, or a bad option."""


# --------------------------------------------------------------------------
# Parameters


def parse_day(day: object) -> str:
    """The canonical name of a sunlight day.

    Parameters
    ----------
    day
        ``"great_cold"`` or ``"winter_solstice"``, with ``-`` or ``_``
        (``"great-cold"``), in any case.

    Returns
    -------
    str
        One of `DAYS`.

    Raises
    ------
    SunlightError
        If the day is not one of them.

    Examples
    --------
    >>> parse_day("Great-Cold")
    'great_cold'
    """
    key = str(day).strip().lower().replace("-", "_") if isinstance(day, str) else ""
    if key not in DAYS:
        msg = (
            f"invalid day {day!r}; expected one of great-cold (大寒) or "
            "winter-solstice (冬至)"
        )
        raise SunlightError(msg)
    return key


def _fail(rule: Rule | None, key: str, expected: str, got: object) -> RulebookError:
    where = (
        f"rule {rule.id!r} (rulebook {rule.rulebook or '?'})"
        if rule is not None
        else "sunlight parameters"
    )
    msg = f"{where}: params.{key}: expected {expected}, got {got!r}"
    file = rule.rulebook if rule is not None and rule.rulebook else "(parameters)"
    return RulebookError(msg, file=file, key=f"params.{key}")


def _num(
    rule: Rule | None,
    key: str,
    v: object,
    *,
    lo: float,
    hi: float = math.inf,
    lo_open: bool = False,
    hi_open: bool = False,
    what: str,
) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        x = float(v)
        above = x > lo if lo_open else x >= lo
        below = x < hi if hi_open else x <= hi
        if math.isfinite(x) and above and below:
            return x
    raise _fail(rule, key, what, v)


def _names(
    rule: Rule | None, key: str, v: object, choices: Sequence[str], what: str
) -> tuple[str, ...]:
    if isinstance(v, str) or not isinstance(v, list | tuple):
        raise _fail(rule, key, f"a list of {what}, e.g. [{choices[0]!r}]", v)
    for item in v:
        if not isinstance(item, str) or item not in choices:
            close = difflib.get_close_matches(str(item), choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(rule, key, f"{what} from {', '.join(choices)}{hint}", item)
    return tuple(v)


@dataclass(frozen=True)
class SunlightParams:
    """How a sunlight rule is evaluated: the keys of its ``params`` table.

    See the module documentation for the meaning and defaults of each key;
    `from_rule` reads and checks them.

    Attributes
    ----------
    day : str
        ``"great_cold"`` or ``"winter_solstice"``.
    window_h : tuple of float
        Start and end of the window in true solar time [h].
    max_segments : int or None
        Number of longest segments that count; None for all.
    min_segment_min : float
        Shortest segment that counts [min].
    applies_to : tuple of str
        Building uses the rule applies to.
    facilities : tuple of str
        Facility categories whose buildings the rule applies to.
    sill_height_m : float
        Height of the points above the building's base [m].
    spacing_m : float
        Spacing of the points along the walls [m].
    step_min : float
        Largest time step of the sun's samples [min].
    min_incidence_deg : float
        Smallest plan angle between the sun and the facade that counts [deg].
    main_facade_deg : float
        Half-width of the sector of azimuths, around true south, of main
        facades [deg].
    min_pass_share : float
        Share of main-facade points that must pass for a building to pass
        [-].
    """

    day: str = "great_cold"
    window_h: tuple[float, float] = GREAT_COLD_WINDOW_H
    max_segments: int | None = None
    min_segment_min: float = 0.0
    applies_to: tuple[str, ...] = ("residential",)
    facilities: tuple[str, ...] = ()
    sill_height_m: float = 0.9
    spacing_m: float = 1.0
    step_min: float = 1.0
    min_incidence_deg: float = 0.0
    main_facade_deg: float = 67.5
    min_pass_share: float = 1.0

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """Names of the parameters, as written in a rule's ``params``.

        Returns
        -------
        tuple of str
        """
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_rule(cls, rule: Rule | None, **overrides: Any) -> SunlightParams:
        """Read and check the parameters of a sunlight rule.

        Parameters
        ----------
        rule
            A rule whose ``indicator`` is ``"sunlight_hours"``, ``op`` is
            ``">="`` or ``">"`` and ``unit`` is ``"h"``; None to build
            parameters from ``overrides`` alone.
        **overrides
            Values that replace the rule's, e.g. ``step_min=5`` (None values
            are ignored).

        Returns
        -------
        SunlightParams

        Raises
        ------
        RulebookError
            Naming the rule and the key, if the rule is not a sunlight rule, a
            key is unknown or a value is of the wrong type or out of range.

        Examples
        --------
        >>> p = SunlightParams.from_rule(None, day="winter_solstice", max_segments=3)
        >>> p.window_h, p.max_segments
        ((9.0, 15.0), 3)
        """
        raw: dict[str, Any] = {}
        if rule is not None:
            _check_rule(rule)
            raw.update(rule.params)
        raw.update({k: v for k, v in overrides.items() if v is not None})
        allowed = cls.keys()
        for key in raw:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                where = (
                    f"rule {rule.id!r} (rulebook {rule.rulebook or '?'})"
                    if rule is not None
                    else "sunlight parameters"
                )
                msg = (
                    f"{where}: params.{key}: unknown key{hint}; expected one of "
                    f"{', '.join(allowed)}"
                )
                file = rule.rulebook if rule is not None else "(parameters)"
                raise RulebookError(msg, file=file or "(rule)", key=f"params.{key}")

        out: dict[str, Any] = {}
        day = raw.get("day", "great_cold")
        try:
            out["day"] = parse_day(day)
        except SunlightError:
            raise _fail(rule, "day", "'great_cold' or 'winter_solstice'", day) from None
        window = raw.get("window_h", _DEFAULT_WINDOW[out["day"]])
        if not (isinstance(window, list | tuple) and len(window) == 2):
            raise _fail(rule, "window_h", "[start, end] in hours, e.g. [9, 15]", window)
        start = _num(rule, "window_h", window[0], lo=0, hi=24, what="hours in [0, 24]")
        end = _num(rule, "window_h", window[1], lo=0, hi=24, what="hours in [0, 24]")
        if not start < end:
            raise _fail(rule, "window_h", "start < end", list(window))
        out["window_h"] = (start, end)
        if "max_segments" in raw:
            v = raw["max_segments"]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise _fail(rule, "max_segments", "an integer >= 1", v)
            out["max_segments"] = int(v)
        specs: dict[str, dict[str, Any]] = {
            "min_segment_min": {"lo": 0.0, "what": "a number of minutes >= 0"},
            "sill_height_m": {"lo": 0.0, "what": "a height >= 0 [m]"},
            "spacing_m": {"lo": 0.0, "lo_open": True, "what": "a length > 0 [m]"},
            "step_min": {
                "lo": 0.0,
                "lo_open": True,
                "hi": 60.0,
                "what": "a step in (0, 60] [min]",
            },
            "min_incidence_deg": {
                "lo": 0.0,
                "hi": 90.0,
                "hi_open": True,
                "what": "an angle in [0, 90) [deg]",
            },
            "main_facade_deg": {
                "lo": 0.0,
                "lo_open": True,
                "hi": 180.0,
                "what": "an angle in (0, 180] [deg]",
            },
            "min_pass_share": {"lo": 0.0, "hi": 1.0, "what": "a share in [0, 1]"},
        }
        for key, spec in specs.items():
            if key in raw:
                out[key] = _num(rule, key, raw[key], **spec)
        if "applies_to" in raw:
            out["applies_to"] = _names(
                rule, "applies_to", raw["applies_to"], BUILDING_USES, "building uses"
            )
        if "facilities" in raw:
            cats = tuple(facility_categories().index)
            out["facilities"] = _names(
                rule, "facilities", raw["facilities"], cats, "facility categories"
            )
        params = cls(**out)
        if not params.applies_to and not params.facilities:
            raise _fail(
                rule,
                "applies_to",
                "at least one building use (or facility category in facilities)",
                list(params.applies_to),
            )
        return params

    def date(self, year: int) -> datetime.date:
        """The day of the rule in a year.

        Parameters
        ----------
        year
            Gregorian year.

        Returns
        -------
        datetime.date
            The Great Cold day (about 20 January) or the Winter Solstice
            (about 22 December) of that year.
        """
        return (
            great_cold_day(year) if self.day == "great_cold" else winter_solstice(year)
        )


def _check_rule(rule: Rule) -> None:
    problem = None
    if rule.indicator != SUNLIGHT_INDICATOR:
        problem = ("indicator", f"{SUNLIGHT_INDICATOR!r}", rule.indicator)
    elif rule.op not in _OPS:
        problem = ("op", "'>=' or '>' (hours of sun at least)", rule.op)
    elif rule.unit not in _UNITS:
        problem = ("unit", "'h' (the threshold is in hours)", rule.unit)
    if problem is not None:
        key, expected, got = problem
        msg = (
            f"rule {rule.id!r} (rulebook {rule.rulebook or '?'}): {key}: expected "
            f"{expected}, got {got!r}"
        )
        raise RulebookError(msg, file=rule.rulebook or "(rule)", key=key)


def _as_rules(rules: Rules) -> tuple[list[Rule], str]:
    """The sunlight rules in ``rules``, and a label of where they come from."""
    if isinstance(rules, Rule):
        return [rules], rules.rulebook or rules.id
    if isinstance(rules, str | os.PathLike):
        rules = load_rulebook(rules)
    if isinstance(rules, Rulebook):
        found = [r for r in rules.rules if r.indicator == SUNLIGHT_INDICATOR]
        return found, rules.id
    found = list(rules)
    return found, ", ".join(sorted({r.rulebook for r in found if r.rulebook}))


def sunlight_rules(
    rules: Rules, *, day: str | None = None, **overrides: Any
) -> list[tuple[Rule, SunlightParams]]:
    """The sunlight rules of a rulebook, with their checked parameters.

    Parameters
    ----------
    rules
        A rulebook, a bundled rulebook id or a ``.toml`` path, or rules.
    day
        Keep only the rules of this day (see `parse_day`).
    **overrides
        Parameter values that replace the rules' (see `SunlightParams`).

    Returns
    -------
    list of (Rule, SunlightParams)
        In the rulebook's precedence order; empty if it has no sunlight rule.

    Raises
    ------
    RulebookError
        If the rulebook cannot be loaded or a sunlight rule is malformed.
    SunlightError
        If ``day`` is invalid.
    """
    want = None if day is None else parse_day(day)
    found, _ = _as_rules(rules)
    out = []
    for rule in found:
        params = SunlightParams.from_rule(rule, **overrides)
        if want is None or params.day == want:
            out.append((rule, params))
    return out


# --------------------------------------------------------------------------
# Where the twin is


@dataclass(frozen=True)
class SiteLocation:
    """Where the twin lies, for the sun.

    Attributes
    ----------
    lon : float
        Longitude of the site's centre, east positive [deg].
    lat : float
        Latitude of the site's centre, north positive [deg].
    north_angle_deg : float
        Azimuth of true north clockwise from the CRS's grid north (+y) there,
        ``-meridian_convergence`` (see `geometry.measure`) [deg].
    """

    lon: float
    lat: float
    north_angle_deg: float


def site_location(twin: Twin) -> SiteLocation:
    """The longitude, latitude and grid-north correction of a twin's site.

    The centre is the centre of the bounds of the ``site`` layer, or of the
    buildings when there is no site, transformed from the twin's CRS to
    EPSG:4326; the north angle is minus the meridian convergence of the CRS
    there (pyproj ``Proj.get_factors``).

    Parameters
    ----------
    twin
        The twin.

    Returns
    -------
    SiteLocation

    Raises
    ------
    SunlightError
        If the twin has neither a site nor buildings.

    Examples
    --------
    >>> import cim
    >>> loc = site_location(cim.datasets.load("beijing_haidian_cau"))
    >>> round(loc.lon, 2), round(loc.lat, 2), round(loc.north_angle_deg, 2)
    (116.35, 40.0, 0.42)
    """
    from pyproj import Proj, Transformer

    layer = twin.site if len(twin.site) else twin.buildings
    if not len(layer):
        msg = "the twin has no site and no buildings: nothing to locate for the sun"
        raise SunlightError(msg)
    x0, y0, x1, y1 = (float(v) for v in layer.total_bounds)
    to_geo = Transformer.from_crs(twin.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_geo.transform((x0 + x1) / 2, (y0 + y1) / 2)
    factors = Proj(twin.crs).get_factors(lon, lat)
    return SiteLocation(
        lon=float(lon),
        lat=float(lat),
        north_angle_deg=-float(factors.meridian_convergence),
    )


def _sun(
    params: SunlightParams, year: int, loc: SiteLocation, step_min: float | None
) -> SunPath:
    start, end = params.window_h
    return sun_vectors(
        params.date(year),
        lat=loc.lat,
        lon=loc.lon,
        start_h=start,
        end_h=end,
        step_min=params.step_min if step_min is None else step_min,
        north_angle_deg=loc.north_angle_deg,
    )


# --------------------------------------------------------------------------
# Sample points


def _scope(twin: Twin, params: SunlightParams) -> npt.NDArray[np.bool_]:
    """Which buildings a rule applies to, by use or by facility.

    ``"residential"`` also takes in housing of mixed or unknown use (with
    households), as `cim.indicators.planning.is_housing` and the compliance
    check's dwelling scope do.
    """
    from cim.indicators.context import holds_facility
    from cim.indicators.planning import is_housing

    b = twin.buildings
    mask = np.array(b["use"].astype(str).isin(params.applies_to), dtype=bool)
    if "residential" in params.applies_to and len(b):
        mask |= is_housing(b)
    if params.facilities:
        mask |= holds_facility(b, twin.facilities, params.facilities)
    return mask


def _base_z(b: gpd.GeoDataFrame) -> _F64 | None:
    if "base_z_m" not in b.columns:
        return None
    base = pd.to_numeric(b["base_z_m"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    return np.where(np.isfinite(base), base, 0.0)


def sample_points(
    twin: Twin,
    *,
    buildings: Iterable[str] | None = None,
    sill_height_m: float = 0.9,
    spacing_m: float = 1.0,
    north_angle_deg: float | None = None,
) -> gpd.GeoDataFrame:
    """Window sample points on the ground-floor facades of buildings.

    Points lie on every wall of the footprints (`geometry.facade.facade_points`,
    1 cm off the wall), ``sill_height_m`` above each building's base
    (``base_z_m`` where the layer has it, else 0), every ``spacing_m``;
    points inside another building's footprint (party walls, walls covered
    by an attached building) are dropped.

    Parameters
    ----------
    twin
        The twin.
    buildings
        Ids of the buildings to sample; all by default.
    sill_height_m
        Height of the points above the base [m].
    spacing_m
        Spacing along the walls [m].
    north_angle_deg
        Azimuth of true north from grid north [deg]; by default from the
        twin's CRS (`site_location`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per point, 3D points in the twin's CRS, with ``point_id``
        (``"<building_id>/<n>"``), ``building_id``, ``use`` and
        ``facing_deg``, the compass azimuth of the wall's outward normal,
        clockwise from true north [deg]. This is also the form of a windows
        table that `sunlight_check` takes instead.

    Examples
    --------
    >>> import cim
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> pts = sample_points(twin, buildings=[twin.buildings["building_id"][0]])
    >>> list(pts.columns)
    ['point_id', 'building_id', 'use', 'facing_deg', 'geometry']
    """
    b = twin.buildings
    if north_angle_deg is None:
        north_angle_deg = site_location(twin).north_angle_deg if len(b) else 0.0
    ids = b["building_id"].astype(str).to_numpy()
    which = (
        np.arange(len(b))
        if buildings is None
        else np.flatnonzero(np.isin(ids, np.asarray(list(buildings), dtype=str)))
    )
    geoms = np.asarray(b.geometry.array, dtype=object)
    heights = b["height_m"].to_numpy(dtype=np.float64, na_value=np.nan)
    base = _base_z(b)
    fp = facade_points(
        geoms[which],
        heights[which],
        z_offsets=sill_height_m,
        spacing_m=spacing_m,
        base_z=None if base is None else base[which],
        north_angle_deg=north_angle_deg,
    )
    owner = which[fp.building]
    keep = np.ones(len(fp), dtype=bool)
    if len(fp):
        tree = shapely.STRtree(geoms)
        p, inside = tree.query(shapely.points(fp.xyz[:, :2]), predicate="within")
        covered = p[inside != owner[p]]
        keep[covered] = False
        if covered.size:
            _log.debug("%d sample points inside other buildings dropped", covered.size)
    owner = owner[keep]
    xyz = fp.xyz[keep]
    bid = ids[owner]
    # Running number of each point within its building (points are ordered
    # by building).
    first = np.r_[0, np.flatnonzero(owner[1:] != owner[:-1]) + 1]
    rank = np.arange(owner.shape[0]) - np.repeat(
        first, np.diff(np.r_[first, len(owner)])
    )
    point_id = [f"{a}/{n}" for a, n in zip(bid, rank, strict=True)]
    return gpd.GeoDataFrame(
        {
            "point_id": pd.array(point_id, dtype=object),
            "building_id": pd.array(bid, dtype=object),
            "use": b["use"].astype(str).to_numpy()[owner],
            "facing_deg": fp.azimuth_deg[keep],
        },
        geometry=shapely.points(xyz),
        crs=twin.crs,
    )


def _check_points(points: gpd.GeoDataFrame, twin: Twin) -> gpd.GeoDataFrame:
    """A windows table made ready: columns checked, ids and uses filled."""
    missing = [c for c in ("building_id", "facing_deg") if c not in points.columns]
    if missing:
        msg = (
            f"points (windows) lack column(s) {', '.join(missing)}; expected "
            "building_id and facing_deg (outward normal, clockwise from true "
            "north [deg]) and 3D points, as sample_points returns"
        )
        raise SunlightError(msg)
    if points.crs is None or not twin.crs.equals(points.crs):
        msg = (
            f"points (windows) are in {points.crs}, the twin in "
            f"{twin.crs.to_string()}; reproject them with .to_crs(twin.crs)"
        )
        raise SunlightError(msg)
    geoms = np.asarray(points.geometry.array)
    if len(geoms) and not (
        np.all(shapely.get_type_id(geoms) == 0) and np.all(shapely.has_z(geoms))
    ):
        msg = "points (windows) must be 3D points (x, y, z of the sill) [m]"
        raise SunlightError(msg)
    out = points.copy()
    out["building_id"] = out["building_id"].astype(str)
    unknown = ~out["building_id"].isin(twin.buildings["building_id"].astype(str))
    if unknown.any():
        ids = ", ".join(map(repr, pd.unique(out["building_id"][unknown])[:5]))
        msg = f"points (windows): building_id {ids} not in the twin's buildings"
        raise SunlightError(msg)
    if "point_id" not in out.columns:
        n = out.groupby("building_id").cumcount().astype(str)
        out["point_id"] = out["building_id"] + "/" + n
    uses = twin.buildings.set_index(twin.buildings["building_id"].astype(str))["use"]
    out["use"] = out["building_id"].map(uses).astype(str).to_numpy()
    return out


def _xyz_normals(points: gpd.GeoDataFrame, north_angle_deg: float) -> tuple[_F64, _F64]:
    xyz = shapely.get_coordinates(np.asarray(points.geometry.array), include_z=True)
    grid = np.radians(points["facing_deg"].to_numpy(dtype=np.float64) + north_angle_deg)
    normals = np.column_stack([np.sin(grid), np.cos(grid), np.zeros(len(grid))])
    return np.asarray(xyz, dtype=np.float64), normals


def _main_facade(
    points: gpd.GeoDataFrame, main_facade_deg: float
) -> npt.NDArray[np.bool_]:
    """Points on main facades; all of a building's if none of it faces south."""
    off = np.abs(
        (points["facing_deg"].to_numpy(dtype=np.float64) - 180.0 + 180.0) % 360.0
        - 180.0
    )
    main = off <= main_facade_deg + 1e-9
    has_main = (
        pd.Series(main).groupby(points["building_id"].to_numpy()).transform("any")
    )
    return np.asarray(main | ~has_main.to_numpy(dtype=bool), dtype=bool)


# --------------------------------------------------------------------------
# The check


@dataclass(frozen=True)
class _Run:
    """One rule evaluated: its points and the engine's result."""

    rule: Rule
    params: SunlightParams
    threshold_h: float
    sun: SunPath
    points: gpd.GeoDataFrame
    result: SunlightResult


def _planning(twin: Twin, given: Mapping[str, object] | None) -> dict[str, object]:
    """Planning parameters for threshold tables, as the compliance check takes them.

    ``given``, else ``twin.metadata["planning"]``, else the defaults of
    `cim.check.PARAMETERS`.
    """
    out: dict[str, object] = {}
    try:
        from cim.check import PARAMETERS
    except ImportError:  # pragma: no cover - the check is part of cim
        PARAMETERS = {}
    out.update({k: p.default for k, p in PARAMETERS.items() if p.default is not None})
    meta = twin.metadata.get("planning", {})
    if isinstance(meta, Mapping):
        out.update({str(k): v for k, v in meta.items() if v is not None})
    out.update({k: v for k, v in (given or {}).items() if v is not None})
    return out


def _threshold(rule: Rule, planning: Mapping[str, object]) -> float | str:
    """The rule's threshold [h], or why it does not apply to this twin."""
    t = rule.threshold
    if isinstance(t, ThresholdTable):
        missing = [b for b in t.by if b not in planning]
        if missing:
            return (
                f"needs planning parameter {', '.join(missing)} (give it as a "
                "threshold parameter or in twin.metadata['planning'])"
            )
        try:
            value = t.lookup(**{b: planning[b] for b in t.by})
        except ValueError:
            combo = ", ".join(f"{b}={planning[b]}" for b in t.by)
            return f"not applicable: no threshold for {combo}"
    else:
        value = t
    if isinstance(value, tuple):  # cannot happen for >= and >, checked above
        return f"expected a single threshold [h], got {list(value)!r}"
    return float(value)


def _run(
    rays: RayScene,
    points: gpd.GeoDataFrame,
    rule: Rule,
    params: SunlightParams,
    *,
    sun: SunPath,
    threshold_h: float,
    north_angle_deg: float,
    return_sunlit: bool = False,
) -> _Run:
    xyz, normals = _xyz_normals(points, north_angle_deg)
    result = sunlight_hours(
        xyz,
        normals,
        rays,
        sun,
        min_incidence_deg=params.min_incidence_deg,
        min_segment_min=params.min_segment_min,
        max_segments=params.max_segments,
        return_sunlit=return_sunlit,
    )
    return _Run(rule, params, threshold_h, sun, points, result)


def _point_table(run: _Run) -> gpd.GeoDataFrame:
    r = run.result
    pts = run.points
    counted_h = r.counted_min / 60.0
    out = gpd.GeoDataFrame(
        {
            "point_id": pts["point_id"].to_numpy(),
            "building_id": pts["building_id"].to_numpy(),
            "rule_id": run.rule.id,
            "use": pts["use"].to_numpy(),
            "facing_deg": pts["facing_deg"].to_numpy(dtype=np.float64),
            "main_facade": _main_facade(pts, run.params.main_facade_deg),
            "sunlit_min": r.sunlit_min,
            "segments": r.segments.astype(np.int64),
            "longest_min": r.longest_min,
            "counted_min": r.counted_min,
            "passed": _compare(counted_h, run.rule, run.threshold_h),
        },
        geometry=pts.geometry.to_numpy(),
        crs=pts.crs,
    )
    return out


def _compare(values: _F64, rule: Rule, threshold_h: float) -> npt.NDArray[np.bool_]:
    return compare(values, rule.op, threshold_h)


def _kth_best(hours: _F64, share: float) -> float:
    """The hours reached by at least ``share`` of the points (NaN fails)."""
    n = hours.shape[0]
    if n == 0:
        return math.nan
    ranked = np.sort(np.where(np.isnan(hours), -np.inf, hours))[::-1]
    k = max(1, math.ceil(share * n - 1e-9))
    value = float(ranked[k - 1])
    return value if math.isfinite(value) else math.nan


def _building_table(
    twin: Twin, run: _Run, points: gpd.GeoDataFrame, in_scope: Sequence[str]
) -> gpd.GeoDataFrame:
    """One row per building in scope: the summary of its points."""
    b = twin.buildings
    b_ids = b["building_id"].astype(str)
    frame = pd.DataFrame(
        {
            "building_id": points["building_id"].to_numpy(),
            "hours": points["counted_min"].to_numpy(dtype=np.float64) / 60.0,
            "main": points["main_facade"].to_numpy(dtype=bool),
            "passed": points["passed"].to_numpy(dtype=bool),
        }
    )
    share = run.params.min_pass_share
    rows = []
    groups = dict(tuple(frame.groupby("building_id", sort=False)))
    for bid in in_scope:
        g = groups.get(bid)
        if g is None or not len(g):
            rows.append({"building_id": bid, "n_points": 0, "n_main_points": 0})
            continue
        main = g[g["main"]]
        hours = main["hours"].to_numpy(dtype=np.float64)
        rows.append(
            {
                "building_id": bid,
                "n_points": len(g),
                "n_main_points": len(main),
                "min_h": float(np.nanmin(hours))
                if np.isfinite(hours).any()
                else math.nan,
                "median_h": float(np.nanmedian(hours))
                if np.isfinite(hours).any()
                else math.nan,
                "max_h": float(g["hours"].max()),
                "share_passed": float(g["passed"].mean()),
                "main_share_passed": float(main["passed"].mean()),
                SUNLIGHT_INDICATOR: _kth_best(hours, share),
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "building_id",
            "n_points",
            "n_main_points",
            "min_h",
            "median_h",
            "max_h",
            "share_passed",
            "main_share_passed",
            SUNLIGHT_INDICATOR,
        ],
    )
    table["n_points"] = table["n_points"].astype(np.int64)
    table["n_main_points"] = table["n_main_points"].astype(np.int64)
    table.insert(1, "rule_id", run.rule.id)
    lookup = pd.Series(np.arange(len(b)), index=b_ids.to_numpy())
    pos = lookup.loc[table["building_id"]].to_numpy()
    table.insert(2, "use", b["use"].astype(str).to_numpy()[pos])
    table["threshold_h"] = run.threshold_h
    table["passed"] = _compare(
        table[SUNLIGHT_INDICATOR].to_numpy(dtype=np.float64), run.rule, run.threshold_h
    )
    return gpd.GeoDataFrame(
        table, geometry=np.asarray(b.geometry.array)[pos], crs=twin.crs
    )


def _rule_row(
    run: _Run, points: pd.DataFrame, buildings: pd.DataFrame
) -> dict[str, Any]:
    p, r = run.params, run.rule
    return {
        "rule_id": r.id,
        "rulebook": r.rulebook,
        "clause": r.clause,
        "verified": r.verified,
        "day": p.day,
        "date": run.sun.day.astype("datetime64[D]").item().isoformat(),
        "window_start_h": p.window_h[0],
        "window_end_h": p.window_h[1],
        "step_min": run.sun.step_min,
        "max_segments": 0 if p.max_segments is None else p.max_segments,
        "min_segment_min": p.min_segment_min,
        "applies_to": ",".join(p.applies_to),
        "facilities": ",".join(p.facilities),
        "sill_height_m": p.sill_height_m,
        "spacing_m": p.spacing_m,
        "min_pass_share": p.min_pass_share,
        "op": r.op,
        "threshold_h": run.threshold_h,
        "n_buildings": len(buildings),
        "n_buildings_failed": int((~buildings["passed"]).sum()),
        "n_points": len(points),
        "n_points_failed": int((~points["passed"]).sum()),
    }


@dataclass(frozen=True)
class SunlightCheck:
    """The result of `sunlight_check`.

    Attributes
    ----------
    points : geopandas.GeoDataFrame
        One row per sample point and rule, 3D points: ``point_id``,
        ``building_id``, ``rule_id``, ``use``, ``facing_deg`` (outward
        normal, from true north [deg]), ``main_facade``, ``sunlit_min`` (all
        sun in the window [min]), ``segments`` (number of sunlit segments),
        ``longest_min`` (longest segment [min]), ``counted_min`` (the sun the
        rule counts [min]) and ``passed``.
    buildings : geopandas.GeoDataFrame
        One row per building and rule, footprints: ``building_id``,
        ``rule_id``, ``use``, ``n_points``, ``n_main_points``, ``min_h``,
        ``median_h`` (over the main-facade points [h]), ``max_h`` (over all
        [h]), ``share_passed``, ``main_share_passed`` [-],
        ``sunlight_hours`` (the indicator, see the module notes [h]),
        ``threshold_h`` and ``passed``.
    rules : pandas.DataFrame
        One row per rule checked: its parameters, the date, the step used,
        the threshold and the counts of buildings and points, failed or not.
    skipped : pandas.DataFrame
        Sunlight rules not checked, with the ``reason``: a threshold
        parameter is not given, the rule's threshold table has no entry for
        the twin (e.g. the renewal rule in new development), or no building
        is in its scope.
    location : SiteLocation
        Where the sun was computed for.
    year : int
        The year of the days.
    engine : str
        The ray engine used.
    n_rays : int
        Rays cast in all.
    """

    points: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    rules: pd.DataFrame
    skipped: pd.DataFrame
    location: SiteLocation
    year: int
    engine: str
    n_rays: int

    @property
    def failed_points(self) -> gpd.GeoDataFrame:
        """geopandas.GeoDataFrame: the rows of `points` that fail."""
        return self.points[~self.points["passed"]]

    @property
    def failed_buildings(self) -> gpd.GeoDataFrame:
        """geopandas.GeoDataFrame: the rows of `buildings` that fail."""
        return self.buildings[~self.buildings["passed"]]

    def report(self) -> pd.DataFrame:
        """The building results as compliance-report rows.

        Returns
        -------
        pandas.DataFrame
            One row per building and rule: ``rule_id``, ``indicator``,
            ``scope`` (``"building"``), ``feature_id``, ``value`` [h],
            ``op``, ``threshold``, ``unit``, ``passed``, ``clause``,
            ``verified``, ``rulebook``.
        """
        info = self.rules.set_index("rule_id")
        b = self.buildings
        rid = b["rule_id"]
        return pd.DataFrame(
            {
                "rule_id": rid.to_numpy(),
                "indicator": SUNLIGHT_INDICATOR,
                "scope": "building",
                "feature_id": b["building_id"].to_numpy(),
                "value": b[SUNLIGHT_INDICATOR].to_numpy(dtype=np.float64),
                "op": rid.map(info["op"]).to_numpy(),
                "threshold": b["threshold_h"].to_numpy(dtype=np.float64),
                "unit": "h",
                "passed": b["passed"].to_numpy(dtype=bool),
                "clause": rid.map(info["clause"]).to_numpy(),
                "verified": rid.map(info["verified"]).to_numpy(dtype=bool),
                "rulebook": rid.map(info["rulebook"]).to_numpy(),
            }
        )

    def _run_table(self) -> pd.DataFrame:
        rows = {
            "year": self.year,
            "lon": round(self.location.lon, 6),
            "lat": round(self.location.lat, 6),
            "north_angle_deg": round(self.location.north_angle_deg, 6),
            "engine": self.engine,
            "n_rays": self.n_rays,
        }
        return pd.DataFrame(
            {"key": list(rows), "value": [str(v) for v in rows.values()]}
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the results to a GeoPackage, atomically.

        Layers: ``points`` and ``buildings`` (as the attributes of the same
        names), ``rules`` and ``run`` (key/value: year, location, engine)
        attribute tables.

        Parameters
        ----------
        path
            Target ``.gpkg``, replaced only once the new file is complete.

        Returns
        -------
        pathlib.Path
            The written file.
        """
        return write_sunlight_gpkg(path, check=self)

    def layers(self) -> dict[str, pd.DataFrame]:
        """The tables of the check, by GeoPackage layer name.

        Returns
        -------
        dict of str to DataFrame
        """
        return {
            "points": self.points,
            "buildings": self.buildings,
            "rules": self.rules,
            "run": self._run_table(),
        }


def write_sunlight(
    path: str | os.PathLike[str],
    check: SunlightCheck | None = None,
    impact: SunlightImpact | None = None,
) -> Path:
    """Write a sunlight check and/or impact to one GeoPackage, atomically.

    .. deprecated:: 0.1.0
        Use `cim.io.results.write_sunlight_gpkg` (``check`` and ``impact``
        by keyword), or `SunlightCheck.save` and `SunlightImpact.save`.
        This alias calls it and is kept for existing code.

    The layers are those of `SunlightCheck.layers` (``points``,
    ``buildings``, ``rules``, ``run``) and `SunlightImpact.layers`
    (``impact_points``, ``lost``, ``lost_segments``, ``impact_buildings``,
    ``impact_rules``, ``blockers``). The file is written next to ``path``
    under a temporary name and moved over it when complete.

    Parameters
    ----------
    path
        Target ``.gpkg``.
    check
        A sunlight check.
    impact
        A sunlight impact.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If neither is given.
    """
    return write_sunlight_gpkg(path, check=check, impact=impact)


def _default_year(year: int | None) -> int:
    return datetime.date.today().year if year is None else int(year)


@dataclass(frozen=True)
class _Plan:
    """A rule to evaluate: its parameters, threshold and buildings."""

    rule: Rule
    params: SunlightParams
    threshold_h: float
    buildings: npt.NDArray[np.str_]


def _plans(
    twin: Twin,
    rules: Rules,
    *,
    day: str | None,
    step_min: float | None,
    threshold_params: Mapping[str, object] | None,
    among: npt.NDArray[np.bool_] | None = None,
) -> tuple[list[_Plan], pd.DataFrame]:
    """The sunlight rules that apply to the twin, and those skipped, with why."""
    want = None if day is None else parse_day(day)
    found, label = _as_rules(rules)
    selected = sunlight_rules(found, day=want, step_min=step_min)
    book = label or "(rules)"
    if not selected:
        which = f" for the day {want}" if want is not None else ""
        msg = (
            f"rulebook {book} has no sunlight rule{which} (a [[rules]] entry with "
            f"indicator = {SUNLIGHT_INDICATOR!r}); add one or choose another rulebook"
        )
        raise SunlightError(msg)
    planning = _planning(twin, threshold_params)
    ids = twin.buildings["building_id"].astype(str).to_numpy()
    plans, skipped = [], []
    for rule, params in selected:
        threshold = _threshold(rule, planning)
        if isinstance(threshold, str):
            skipped.append((rule.id, threshold))
            continue
        mask = _scope(twin, params)
        if among is not None:
            mask &= among
        if not mask.any():
            what = ", ".join(
                [*params.applies_to, *(f"{f} facility" for f in params.facilities)]
            )
            skipped.append((rule.id, f"no building of the twin is {what}"))
            continue
        plans.append(_Plan(rule, params, threshold, ids[mask]))
    table = pd.DataFrame(skipped, columns=["rule_id", "reason"])
    for rid, why in skipped:
        _log.info("sunlight rule %s skipped: %s", rid, why)
    if not plans:
        reasons = "; ".join(f"{rid}: {why}" for rid, why in skipped)
        if all(why.startswith("no building") for _, why in skipped):
            uses = sorted({u for _, p in selected for u in p.applies_to})
            cats = sorted({f for _, p in selected for f in p.facilities})
            kinds = " or ".join(
                [", ".join(uses) + " buildings"] * bool(uses)
                + [", ".join(cats) + " facilities"] * bool(cats)
            )
            msg = (
                f"no building of the twin is in the scope of the sunlight rules of "
                f"{book}: it has no {kinds}; check the buildings' use"
            )
        else:
            msg = f"no sunlight rule of {book} applies to the twin ({reasons})"
        raise SunlightError(msg)
    return plans, table


def sunlight_check(
    twin: Twin,
    rules: Rules = "hangzhou",
    *,
    day: str | None = None,
    year: int | None = None,
    step_min: float | None = None,
    threshold_params: Mapping[str, object] | None = None,
    points: gpd.GeoDataFrame | None = None,
    engine: Engine = "auto",
    progress: bool = False,
) -> SunlightCheck:
    """Check the sunlight of a twin's windows against a rulebook's rules.

    Parameters
    ----------
    twin
        The twin.
    rules
        A rulebook, a bundled rulebook id or ``.toml`` path, or sunlight
        rules; every rule whose indicator is ``"sunlight_hours"`` is checked.
    day
        Check only the rules of this day (``"great-cold"`` or
        ``"winter-solstice"``).
    year
        Year of the days; the current year by default.
    step_min
        Time step, instead of the rules' ``step_min`` [min].
    threshold_params
        Planning parameters of rules whose threshold is a table, e.g.
        ``{"climate_zone": "III", "city_size": "large"}``; by default those
        of ``twin.metadata["planning"]`` and the defaults of
        `cim.check.PARAMETERS`, as for the compliance check. A rule whose
        parameters are not all known, or whose table has no entry for them,
        is skipped (see `SunlightCheck.skipped`).
    points
        Windows to check instead of sample points on the facades: 3D points
        (the sill) in the twin's CRS with ``building_id`` and ``facing_deg``
        (outward normal, from true north [deg]), optionally ``point_id``; each
        rule checks those of the buildings it applies to.
    engine : {"auto", "embree", "triangle"}
        Ray engine, see `geometry.sunlight.ray_scene`.
    progress
        Log each rule at INFO level (DEBUG otherwise).

    Returns
    -------
    SunlightCheck
        Points, buildings and rules.

    Raises
    ------
    RulebookError
        If the rulebook cannot be loaded or a sunlight rule is malformed.
    SunlightError
        If no sunlight rule is selected, none applies (see
        ``threshold_params``), no building is in the scope of any, or an
        option is invalid.

    Examples
    --------
    >>> import cim
    >>> from cim.rules import Rule
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> rule = Rule(id="demo", indicator="sunlight_hours", scope="building",
    ...             op=">=", threshold=2.0, unit="h", clause="GB 50180-2018 4.0.9",
    ...             verified=False, params={"step_min": 5})
    >>> check = sunlight_check(twin, rule, year=2026)
    >>> row = check.rules.iloc[0]
    >>> row["date"], int(row["n_buildings"]), int(row["n_buildings_failed"])
    ('2026-01-20', 58, 18)
    """
    level = logging.INFO if progress else logging.DEBUG
    plans, skipped = _plans(
        twin, rules, day=day, step_min=step_min, threshold_params=threshold_params
    )
    year_ = _default_year(year)
    loc = site_location(twin)
    windows = None if points is None else _check_points(points, twin)
    ids = twin.buildings["building_id"].astype(str).to_numpy()
    _log.log(level, "sunlight: building the ray scene of %d buildings", len(ids))
    rays = ray_scene(twin_meshes(twin), engine=engine)
    point_tables, building_tables, rule_rows = [], [], []
    n_rays = 0
    for plan in plans:
        rule, params, in_scope = plan.rule, plan.params, plan.buildings
        if windows is None:
            pts = sample_points(
                twin,
                buildings=in_scope,
                sill_height_m=params.sill_height_m,
                spacing_m=params.spacing_m,
                north_angle_deg=loc.north_angle_deg,
            )
        else:
            pts = windows[windows["building_id"].isin(in_scope)]
        run = _run(
            rays,
            pts,
            rule,
            params,
            sun=_sun(params, year_, loc, None),
            threshold_h=plan.threshold_h,
            north_angle_deg=loc.north_angle_deg,
        )
        n_rays += run.result.n_rays
        ptable = _point_table(run)
        btable = _building_table(twin, run, ptable, list(in_scope))
        point_tables.append(ptable)
        building_tables.append(btable)
        rule_rows.append(_rule_row(run, ptable, btable))
        _log.log(
            level,
            "sunlight %s on %s: %d points of %d buildings, %d buildings fail",
            rule.id,
            rule_rows[-1]["date"],
            len(ptable),
            len(btable),
            rule_rows[-1]["n_buildings_failed"],
        )
    return SunlightCheck(
        points=_concat(point_tables),
        buildings=_concat(building_tables),
        rules=pd.DataFrame(rule_rows),
        skipped=skipped,
        location=loc,
        year=year_,
        engine=rays.engine,
        n_rays=n_rays,
    )


def _concat(frames: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frames[0].crs)


def sunlight_indicator(twin: Twin, rule: Rule, **params: Any) -> pd.Series:
    """Hours of sun of each building a sunlight rule applies to.

    The ``sunlight_hours`` indicator, as a compliance check calls it: the
    hours counted by ``rule`` (its ``params``: day, window, segments, which
    buildings) reached by at least ``min_pass_share`` of the sample points of
    each building's main facades; with the default share (1.0), the minimum
    over those points, the worst window. ``rule.check(values)`` then says
    which buildings pass. See the module documentation for the points and
    the parameters.

    Parameters
    ----------
    twin
        The twin.
    rule
        A sunlight rule (``indicator = "sunlight_hours"``).
    **params
        Values that replace the rule's parameters (e.g. ``step_min=5``), and
        ``year`` (the current year by default) and ``engine``.

    Returns
    -------
    pandas.Series
        Hours [h] indexed by ``building_id``, named ``"sunlight_hours"``, for
        the buildings the rule applies to (empty if none); NaN for a building
        without sample points (lower than the sill).

    Raises
    ------
    RulebookError
        If the rule is not a sunlight rule or a parameter is invalid, naming
        the rule and the key.

    Examples
    --------
    >>> import cim
    >>> from cim.rules import Rule
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> rule = Rule(id="demo", indicator="sunlight_hours", scope="building",
    ...             op=">=", threshold=2.0, unit="h", clause="GB 50180-2018 4.0.9",
    ...             verified=False, params={"step_min": 5})
    >>> hours = sunlight_indicator(twin, rule, year=2026)
    >>> hours.name, len(hours), bool(hours.max() <= 8)
    ('sunlight_hours', 58, True)
    """
    return _indicator_values(twin, rule, **params)[0]


def _indicator_values(
    twin: Twin, rule: Rule, **params: Any
) -> tuple[pd.Series, pd.Series]:
    """`sunlight_indicator`'s hours, and per building the basis of each value.

    The basis names the rule's day, date and window, the number of
    main-facade sill points and the worst of them (its id, facing and hours),
    so a reader can find the window that decides the building.
    """
    year = params.pop("year", None)
    engine = params.pop("engine", "auto")
    sp = SunlightParams.from_rule(rule, **params)
    if not _scope(twin, sp).any():
        empty = pd.Index([], dtype=object, name="building_id")
        return (
            pd.Series([], index=empty, dtype=np.float64, name=SUNLIGHT_INDICATOR),
            pd.Series([], index=empty, dtype=object, name="basis"),
        )
    # The hours do not depend on the threshold: a tabled threshold is replaced
    # by one of its values, so that no threshold parameter is needed here.
    threshold = rule.threshold
    if isinstance(threshold, ThresholdTable):
        leaves = [*threshold.values.values(), threshold.default]
        threshold = next(v for v in leaves if v is not None)
    fixed = dataclasses.replace(
        rule, params={**rule.params, **params}, threshold=threshold
    )
    result = sunlight_check(twin, fixed, year=year, engine=engine)
    b = result.buildings
    index = pd.Index(b["building_id"].to_numpy(), name="building_id")
    hours = pd.Series(
        b[SUNLIGHT_INDICATOR].to_numpy(dtype=np.float64),
        index=index,
        name=SUNLIGHT_INDICATOR,
    )
    return hours, _basis(result, sp).reindex(index).fillna("").rename("basis")


def _basis(result: SunlightCheck, sp: SunlightParams) -> pd.Series:
    """Per building, the day, window and main-facade sill point that decide it."""
    p = result.points
    main = p[p["main_facade"].to_numpy(dtype=bool)]
    if not len(main) or not len(result.rules):
        return pd.Series([], dtype=object)
    r = result.rules.iloc[0]
    when = (
        f"{day_name(str(r['day']))} {r['date']}, "
        f"{clock(float(r['window_start_h']))}-{clock(float(r['window_end_h']))} "
        "true solar time"
    )
    n = main.groupby("building_id", sort=False).size()
    worst = main.loc[main.groupby("building_id", sort=False)["counted_min"].idxmin()]
    share = (
        ""
        if sp.min_pass_share >= 1.0
        else f"; the value is reached by {sp.min_pass_share:.0%} of them"
    )
    text = [
        f"{when}: {n[bid]} main-facade sill points at {sp.sill_height_m:g} m; "
        f"worst {pid} facing {facing:.0f} deg, {minutes / 60:.2f} h{share}"
        for bid, pid, facing, minutes in zip(
            worst["building_id"],
            worst["point_id"],
            worst["facing_deg"],
            worst["counted_min"],
            strict=True,
        )
    ]
    return pd.Series(text, index=worst["building_id"].to_numpy(), dtype=object)


def day_name(day: str) -> str:
    """A rule's day for people: ``"great_cold"`` as ``"Great Cold day"``.

    Parameters
    ----------
    day
        ``"great_cold"``, ``"winter_solstice"`` (other keys are spelled out).

    Returns
    -------
    str
    """
    return _DAY_NAMES.get(day, day.replace("_", " "))


def clock(hours: float) -> str:
    """Hours of a day as a clock time: ``9.5`` as ``"9:30"``.

    Parameters
    ----------
    hours
        Hours after midnight.

    Returns
    -------
    str
    """
    minutes = round(hours * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


# --------------------------------------------------------------------------
# Impact of a proposed design on its neighbours


@dataclass(frozen=True)
class SunlightImpact:
    """The result of `sunlight_impact`: what a proposal does to existing windows.

    Attributes
    ----------
    points : geopandas.GeoDataFrame
        One row per existing sample point and rule: ``point_id``,
        ``building_id``, ``rule_id``, ``facing_deg``, ``main_facade``,
        ``before_min`` and ``after_min`` (counted sun [min]),
        ``passed_before``, ``passed_after``, ``lost_min`` (sun lost to the
        proposal [min]), ``status`` (``"lost"``: passes before, fails after;
        ``"worse"``: less sun, same verdict; ``"unchanged"``; ``"better"``)
        and ``blocked_by`` (the proposed building that blocks the most of the
        lost sun, ``""`` if none).
    lost : geopandas.GeoDataFrame
        The rows of `points` whose status is ``"lost"``: the existing
        windows that lose compliance.
    segments : pandas.DataFrame
        Every run of consecutive samples a point loses: ``point_id``,
        ``rule_id``, ``start_h``, ``end_h`` (true solar time [h]),
        ``minutes`` and ``blocked_by``, the building hit first by most of
        its rays.
    buildings : geopandas.GeoDataFrame
        Existing buildings in the rules' scope: ``building_id``, ``rule_id``,
        ``before_h``, ``after_h`` (the indicator [h]), ``passed_before``,
        ``passed_after``, ``status``.
    rules : pandas.DataFrame
        One row per rule, as `SunlightCheck.rules`, with the counts after
        the proposal.
    blockers : pandas.DataFrame
        One row per proposed building that blocks any lost sun, the worst
        first: ``building_id``; ``n_buildings_lost`` and ``buildings_lost``,
        the buildings that lose compliance with a lost point it is blamed
        for; ``n_points_lost``, the points that lose compliance and whose
        ``blocked_by`` it is; ``n_points_shaded``, the points of which it
        blocks any lost segment; ``lost_min``, the minutes it takes in all
        (summed over points and rules).
    proposed : tuple of str
        Ids of the proposed (new or changed) buildings.
    """

    points: gpd.GeoDataFrame
    lost: gpd.GeoDataFrame
    segments: pd.DataFrame
    buildings: gpd.GeoDataFrame
    rules: pd.DataFrame
    blockers: pd.DataFrame
    proposed: tuple[str, ...]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the impact to a GeoPackage, atomically.

        Layers ``impact_points``, ``lost``, ``lost_segments``,
        ``impact_buildings``, ``impact_rules`` and ``blockers``.

        Parameters
        ----------
        path
            Target ``.gpkg``.

        Returns
        -------
        pathlib.Path
        """
        return write_sunlight_gpkg(path, impact=self)

    def layers(self) -> dict[str, pd.DataFrame]:
        """The tables of the impact, by GeoPackage layer name.

        Returns
        -------
        dict of str to DataFrame
        """
        return {
            "impact_points": self.points,
            "lost": self.lost,
            "lost_segments": self.segments,
            "impact_buildings": self.buildings,
            "impact_rules": self.rules,
            "blockers": self.blockers,
        }


def _changed(before: Twin, after: Twin) -> tuple[str, ...]:
    """Ids of buildings of ``after`` that are new or differ from ``before``."""
    a = after.buildings
    b = before.buildings.set_index(before.buildings["building_id"].astype(str))
    out = []
    cols = [c for c in ("height_m", "base_z_m") if c in a.columns]
    for i, bid in enumerate(a["building_id"].astype(str)):
        if bid not in b.index:
            out.append(bid)
            continue
        old = b.loc[bid]
        same = bool(shapely.equals_exact(a.geometry.array[i], old.geometry, 1e-6))
        for c in cols:
            x, y = a[c].iloc[i], old.get(c, math.nan)
            same &= bool((pd.isna(x) and pd.isna(y)) or x == y)
        if not same:
            out.append(bid)
    return tuple(out)


def _scenarios(
    baseline: Twin, proposed: Twin | Iterable[str]
) -> tuple[Twin, Twin, tuple[str, ...]]:
    from cim.twin import Twin as _Twin

    if isinstance(proposed, _Twin):
        if not baseline.crs.equals(proposed.crs):
            msg = (
                f"the proposal is in {proposed.crs.to_string()}, the baseline in "
                f"{baseline.crs.to_string()}; reproject one"
            )
            raise SunlightError(msg)
        new = _changed(baseline, proposed)
        if not new:
            msg = "the proposal has no building that is new or changed"
            raise SunlightError(msg)
        return baseline, proposed, new
    if isinstance(proposed, str):
        proposed = [proposed]
    wanted = tuple(dict.fromkeys(str(i) for i in proposed))
    ids = baseline.buildings["building_id"].astype(str)
    unknown = [i for i in wanted if i not in set(ids)]
    if unknown or not wanted:
        msg = (
            f"proposed building id(s) {', '.join(map(repr, unknown))} not in the "
            "twin's buildings"
            if unknown
            else "no proposed building id given"
        )
        raise SunlightError(msg)
    # Match the stored ids (the check above compares them as text).
    stored = baseline.buildings["building_id"]
    gone = stored[stored.astype(str).isin(wanted)]
    return baseline.without_buildings(gone), baseline, wanted


def _runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], ...]:
    """Row, first and last+1 column of every run of True in a 2D mask."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    row, start = np.nonzero(change == 1)
    stop = np.nonzero(change == -1)[1]
    return row, start, stop


def sunlight_impact(
    baseline: Twin,
    proposed: Twin | Iterable[str],
    rules: Rules = "hangzhou",
    *,
    day: str | None = None,
    year: int | None = None,
    step_min: float | None = None,
    threshold_params: Mapping[str, object] | None = None,
    engine: Engine = "auto",
    progress: bool = False,
) -> SunlightImpact:
    """Which existing windows lose their sunlight compliance to a proposal.

    The existing windows (sample points of the buildings the rules apply to,
    in both situations and unchanged) are checked twice, without and with the
    proposed buildings. The sun a point loses is blamed on the proposed
    buildings: every lost ray (a sample that was sunlit before and is not
    after) is cast again against the proposed buildings alone
    (`geometry.sunlight.ray_scene`, first hit), and each lost segment (run of
    lost samples) goes to the building hit first by most of its rays.

    Parameters
    ----------
    baseline
        The existing situation; or, with building ids as ``proposed``, the
        twin with the proposal in it.
    proposed
        The twin with the proposal (new or changed buildings, by
        ``building_id``, geometry and height); or ids of the buildings of
        ``baseline`` that are the proposal, compared with ``baseline``
        without them.
    rules
        A rulebook, a bundled rulebook id or ``.toml`` path, or sunlight
        rules.
    day, year, step_min, threshold_params, engine, progress
        As for `sunlight_check`.

    Returns
    -------
    SunlightImpact

    Raises
    ------
    SunlightError
        If nothing is proposed, the ids are unknown, or nothing is checked.
    RulebookError
        If a sunlight rule is malformed.
    """
    level = logging.INFO if progress else logging.DEBUG
    before, after, new = _scenarios(baseline, proposed)
    new_set = set(new)
    after_ids = set(after.buildings["building_id"].astype(str))
    before_ids = before.buildings["building_id"].astype(str).to_numpy()
    existing = np.asarray(
        [(i in after_ids) and (i not in new_set) for i in before_ids], dtype=bool
    )
    plans, _ = _plans(
        before,
        rules,
        day=day,
        step_min=step_min,
        threshold_params=threshold_params,
        among=existing,
    )
    year_ = _default_year(year)
    loc = site_location(after)

    _log.log(
        level, "sunlight impact: ray scenes without and with %d buildings", len(new)
    )
    rays_before = ray_scene(twin_meshes(before), engine=engine)
    after_meshes = twin_meshes(after)
    rays_after = ray_scene(after_meshes, engine=engine)
    a_ids = after.buildings["building_id"].astype(str).to_numpy()
    new_idx = [i for i, bid in enumerate(a_ids) if bid in new_set]
    blocker_mesh, owner = combine([after_meshes[i] for i in new_idx])
    blocker_ids = a_ids[np.asarray(new_idx, dtype=np.intp)]
    blockers = ray_scene(blocker_mesh, engine=engine)
    face_owner = np.asarray(owner, dtype=np.intp)

    point_tables, seg_tables, building_tables, rule_rows = [], [], [], []
    for plan in plans:
        rule, params, in_scope = plan.rule, plan.params, plan.buildings
        pts = sample_points(
            before,
            buildings=in_scope,
            sill_height_m=params.sill_height_m,
            spacing_m=params.spacing_m,
            north_angle_deg=loc.north_angle_deg,
        )
        sun = _sun(params, year_, loc, None)
        threshold = plan.threshold_h
        r0, r1 = (
            _run(
                rays,
                pts,
                rule,
                params,
                sun=sun,
                threshold_h=threshold,
                north_angle_deg=loc.north_angle_deg,
                return_sunlit=True,
            )
            for rays in (rays_before, rays_after)
        )
        p0, p1 = _point_table(r0), _point_table(r1)
        b0 = _building_table(before, r0, p0, list(in_scope))
        b1 = _building_table(before, r1, p1, list(in_scope))
        lit0, lit1 = r0.result.sunlit, r1.result.sunlit
        assert lit0 is not None and lit1 is not None
        lost_mask = lit0 & ~lit1
        # First proposed building hit by every lost ray.
        pi, ti = np.nonzero(lost_mask)
        xyz, _ = _xyz_normals(pts, loc.north_angle_deg)
        local = (xyz[pi] - blockers.origin).astype(np.float64)
        hit = np.full(pi.shape[0], -1, dtype=np.intp)
        if pi.size and blockers.n_faces:
            tri = np.asarray(
                blockers.intersector.intersects_first(local, sun.vectors[ti]),
                dtype=np.intp,
            )
            hit = np.where(tri >= 0, face_owner[np.maximum(tri, 0)], -1)
        weights = sun.weights_min
        # Lost segments and the building that blocks most of each.
        hit_grid = np.full(lost_mask.shape, -1, dtype=np.intp)
        hit_grid[pi, ti] = hit
        row, start, stop = _runs(lost_mask)
        seg_blocker = []
        for r, s, e in zip(row, start, stop, strict=True):
            h = hit_grid[r, s:e]
            w = weights[s:e]
            known = h >= 0
            if known.any():
                score = np.bincount(h[known], weights=w[known])
                seg_blocker.append(str(blocker_ids[int(np.argmax(score))]))
            else:
                seg_blocker.append("")
        edges = sun.edges_h
        seg = pd.DataFrame(
            {
                "point_id": pts["point_id"].to_numpy()[row],
                "building_id": pts["building_id"].to_numpy()[row],
                "rule_id": rule.id,
                "start_h": edges[start],
                "end_h": edges[stop],
                "minutes": (edges[stop] - edges[start]) * 60.0,
                "blocked_by": pd.array(seg_blocker, dtype=object),
            }
        )
        # Per point: the building blocking the most lost minutes.
        blocked_by = np.full(len(pts), "", dtype=object)
        if len(seg):
            top = (
                seg.groupby(["point_id", "blocked_by"], sort=False)["minutes"]
                .sum()
                .reset_index()
                .sort_values(["point_id", "minutes"], ascending=[True, False])
                .drop_duplicates("point_id")
                .set_index("point_id")["blocked_by"]
            )
            blocked_by = pts["point_id"].map(top).fillna("").to_numpy(dtype=object)
        lost_min = (lost_mask * weights[None, :]).sum(axis=1)
        passed0 = p0["passed"].to_numpy(dtype=bool)
        passed1 = p1["passed"].to_numpy(dtype=bool)
        before_min = p0["counted_min"].to_numpy(dtype=np.float64)
        after_min = p1["counted_min"].to_numpy(dtype=np.float64)
        status = np.select(
            [
                passed0 & ~passed1,
                after_min < before_min - 1e-9,
                after_min > before_min + 1e-9,
            ],
            ["lost", "worse", "better"],
            default="unchanged",
        )
        table = p0[
            ["point_id", "building_id", "rule_id", "use", "facing_deg", "main_facade"]
        ].copy()
        table["before_min"] = before_min
        table["after_min"] = after_min
        table["passed_before"] = passed0
        table["passed_after"] = passed1
        table["lost_min"] = lost_min
        table["status"] = status
        table["blocked_by"] = blocked_by
        table = gpd.GeoDataFrame(table, geometry=p0.geometry.to_numpy(), crs=p0.crs)
        point_tables.append(table)
        seg_tables.append(seg)
        bt = b0[["building_id", "rule_id", "use", "geometry"]].copy()
        bt["before_h"] = b0[SUNLIGHT_INDICATOR].to_numpy()
        bt["after_h"] = b1[SUNLIGHT_INDICATOR].to_numpy()
        bt["passed_before"] = b0["passed"].to_numpy()
        bt["passed_after"] = b1["passed"].to_numpy()
        bt["status"] = np.select(
            [
                bt["passed_before"] & ~bt["passed_after"],
                bt["after_h"] < bt["before_h"] - 1e-9,
                bt["after_h"] > bt["before_h"] + 1e-9,
            ],
            ["lost", "worse", "better"],
            default="unchanged",
        )
        building_tables.append(
            gpd.GeoDataFrame(bt, geometry="geometry", crs=before.crs)
        )
        rule_rows.append(_rule_row(r1, p1, b1))
        _log.log(
            level,
            "sunlight impact %s: %d of %d points lose compliance",
            rule.id,
            int((status == "lost").sum()),
            len(pts),
        )
    points = _concat(point_tables)
    segments = pd.concat(seg_tables, ignore_index=True)
    buildings = _concat(building_tables)
    lost = points[points["status"] == "lost"].reset_index(drop=True)
    return SunlightImpact(
        points=points,
        lost=gpd.GeoDataFrame(lost, geometry="geometry", crs=points.crs),
        segments=segments,
        buildings=buildings,
        rules=pd.DataFrame(rule_rows),
        blockers=_blocker_table(points, segments, buildings, new),
        proposed=new,
    )


def _blocker_table(
    points: pd.DataFrame,
    segments: pd.DataFrame,
    buildings: pd.DataFrame,
    new: Sequence[str],
) -> pd.DataFrame:
    """One row per proposed building that blocks lost sun, worst first."""
    key = points["point_id"] + "\x00" + points["rule_id"]
    seg_key = segments["point_id"] + "\x00" + segments["rule_id"]
    lost = points[points["status"] == "lost"]
    lost_b = buildings[buildings["status"] == "lost"]
    lost_b_keys = set(lost_b["building_id"] + "\x00" + lost_b["rule_id"])
    rows = []
    for bid in new:
        mine = segments["blocked_by"] == bid
        if not mine.any():
            continue
        shaded = points[key.isin(set(seg_key[mine]))]
        blamed = lost[lost["blocked_by"] == bid]
        b_keys = blamed["building_id"] + "\x00" + blamed["rule_id"]
        hit = sorted(set(blamed["building_id"][b_keys.isin(lost_b_keys)]))
        rows.append(
            {
                "building_id": bid,
                "n_buildings_lost": len(hit),
                "buildings_lost": ",".join(hit),
                "n_points_lost": len(blamed),
                "n_points_shaded": len(shaded),
                "lost_min": float(segments["minutes"][mine].sum()),
            }
        )
    columns = [
        "building_id",
        "n_buildings_lost",
        "buildings_lost",
        "n_points_lost",
        "n_points_shaded",
        "lost_min",
    ]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(
        ["n_buildings_lost", "n_points_lost", "lost_min"],
        ascending=False,
        ignore_index=True,
    )


# --------------------------------------------------------------------------
# The indicator of the compliance check (cim.check)

#: Lowest sun elevation taken to reach a window, for which buildings may shade
#: it: a building of height h reaches h / tan(10 deg) = 5.7 h [deg].
_SHADE_ELEVATION_DEG: Final = 10.0


def _estimated_shading(twin: Twin, ids: pd.Index) -> pd.Series:
    """Per building, whether its height or a possible obstruction's is estimated."""
    b = twin.buildings
    est = (b["height_source"].astype(str) != "measured").to_numpy()
    out = pd.Series("", index=ids, dtype=object)
    if not est.any() or not len(ids):
        return out
    geoms = np.asarray(b.geometry.array, dtype=object)
    heights = b["height_m"].to_numpy(dtype=np.float64, na_value=0.0)
    reach = np.nan_to_num(heights) / math.tan(math.radians(_SHADE_ELEVATION_DEG))
    pos = pd.Index(b["building_id"].astype(str)).get_indexer(ids)
    tree = shapely.STRtree(geoms[est])
    src = np.flatnonzero(est)
    me, other = tree.query(
        geoms[pos], predicate="dwithin", distance=float(reach[est].max())
    )
    near = shapely.distance(geoms[pos][me], geoms[src][other]) <= reach[src][other]
    flagged = np.zeros(len(ids), dtype=bool)
    flagged[me[near]] = True
    flagged |= est[pos]
    out[flagged] = "heights estimated (the building's or a shading building's)"
    return out


def _register_indicator() -> None:
    from cim.indicators.registry import Evaluation, register_indicator

    if TYPE_CHECKING:
        from cim.indicators.context import Context

    @register_indicator(
        SUNLIGHT_INDICATOR,
        unit="h",
        scopes=("dwelling", "building"),
        params=SunlightParams.keys(),
        description="hours of direct sun on the rule's day at the worst "
        "main-facade ground-floor window sill (cim.sunlight)",
    )
    def _sunlight_hours(ctx: Context, rule: Rule) -> Evaluation:
        """Hours of sun per building, from `sunlight_indicator`."""
        params = SunlightParams.from_rule(rule)
        hours, basis = ctx.cached(
            (SUNLIGHT_INDICATOR, params),
            lambda: _indicator_values(ctx.twin, rule),
        )
        ids = ctx.ids(rule.scope)
        values = hours.reindex(ids)
        evaluated = ids.isin(hours.index)
        reason = np.where(
            evaluated,
            np.where(values.isna(), "no window sample point (lower than the sill)", ""),
            "not a building the rule's applies_to or facilities cover",
        )
        return Evaluation(
            pd.Series(
                values.to_numpy(dtype=np.float64), index=ids, name=rule.indicator
            ),
            reason=pd.Series(reason, index=ids),
            unverified=_estimated_shading(ctx.twin, ids),
            basis=basis.reindex(ids).fillna(""),
        )


_register_indicator()
