"""Estimates for missing building values, always flagged as estimates.

Heights, storeys and households are often missing from open data (most Chinese
OSM buildings have neither ``height`` nor ``building:levels``). The twin fills
them from documented defaults (``assets/defaults.toml``) and records how each
value was obtained in ``height_source``, ``floors_source`` and
``households_source``, so that no estimate is passed off as data.
"""

from __future__ import annotations

import tomllib
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from cim._assets import asset_path
from cim.errors import RepairWarning

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "ESTIMATE_PARAMETERS",
    "defaults",
    "dwelling_gfa",
    "estimate_parameter",
    "fill_building_estimates",
    "storey_height",
]

#: Parameters the twin estimates buildings with, which it keeps in
#: ``twin.metadata["estimates"]`` (set by ``Twin(storey_height_m=...,
#: dwelling_gfa_m2=...)``): the storey height [m], for heights from storeys
#: and back, and the gross floor area per dwelling [m2], for households from
#: floor area.
ESTIMATE_PARAMETERS: Final = ("storey_height_m", "dwelling_gfa_m2")


@cache
def _defaults() -> dict[str, Any]:
    with asset_path("defaults.toml").open("rb") as f:
        return tomllib.load(f)


def defaults() -> dict[str, Any]:
    """The documented defaults (``assets/defaults.toml``), as a new dict.

    Returns
    -------
    dict
        ``storey_height_m``, ``dwelling_gfa_m2``, ``persons_per_household``
        (each a dict with ``value``, ``unit``, ``verified``, ``source``) and
        ``default_floors_by_use``.
    """
    import copy

    return copy.deepcopy(_defaults())


def estimate_parameter(
    name: str, given: float | None = None, *, twin: Twin | None = None
) -> float:
    """An estimate parameter: the value given, else the twin's, else the default.

    Parameters
    ----------
    name
        One of :data:`ESTIMATE_PARAMETERS`.
    given
        The value to use, if any [m or m2, as ``name`` says]; it is returned
        as a float, unchecked.
    twin
        The twin whose ``metadata["estimates"]`` to look in, if any.

    Returns
    -------
    float
        ``given``, else ``twin.metadata["estimates"][name]``, else the default
        of ``assets/defaults.toml``.

    Raises
    ------
    ValueError
        If ``name`` is not an estimate parameter.

    Examples
    --------
    >>> from cim.estimate import estimate_parameter
    >>> estimate_parameter("storey_height_m")
    3.0
    >>> estimate_parameter("storey_height_m", 2.9)
    2.9
    """
    if name not in ESTIMATE_PARAMETERS:
        msg = (
            f"invalid estimate parameter {name!r}; expected one of "
            f"{', '.join(ESTIMATE_PARAMETERS)}"
        )
        raise ValueError(msg)
    if given is not None:
        return float(given)
    est = {} if twin is None else twin.metadata.get("estimates", {})
    return float(est.get(name, _defaults()[name]["value"]))


def storey_height(twin: Twin | None = None) -> float:
    """The storey height the twin estimates with [m], for heights from storeys.

    Parameters
    ----------
    twin
        The twin; without one, the default.

    Returns
    -------
    float
        ``twin.metadata["estimates"]["storey_height_m"]``, else the default
        of ``assets/defaults.toml`` (3.0 m, unverified).

    Examples
    --------
    >>> import cim
    >>> from cim.estimate import storey_height
    >>> storey_height(cim.datasets.load("hangzhou_pilot"))
    3.0
    """
    return estimate_parameter("storey_height_m", twin=twin)


def dwelling_gfa(twin: Twin | None = None) -> float:
    """The dwelling size the twin estimates with [m2], for households from area.

    Parameters
    ----------
    twin
        The twin; without one, the default.

    Returns
    -------
    float
        ``twin.metadata["estimates"]["dwelling_gfa_m2"]``, else the default
        of ``assets/defaults.toml`` (100 m2 of gross floor area per
        household, unverified).

    Examples
    --------
    >>> import cim
    >>> from cim.estimate import dwelling_gfa
    >>> dwelling_gfa(cim.datasets.load("hangzhou_pilot"))
    100.0
    """
    return estimate_parameter("dwelling_gfa_m2", twin=twin)


def fill_building_estimates(
    buildings: gpd.GeoDataFrame,
    *,
    storey_height_m: float | None = None,
    dwelling_gfa_m2: float | None = None,
    default_floors: pd.Series | None = None,
    warn: bool = True,
) -> gpd.GeoDataFrame:
    """Fill missing heights, storeys and households, flagging each estimate.

    Rules, in order:

    1. ``height_m`` missing, ``floors`` known: ``floors x storey_height_m``,
       ``height_source = "levels"``.
    2. Both missing: ``floors`` from ``default_floors`` (per feature, e.g. by
       OSM building type) or the default for the building's ``use``, both
       flagged ``"default"``, and height as in 1.
    3. ``floors`` missing, ``height_m`` known: ``max(1, round(height /
       storey_height_m))``, ``floors_source = "height"``.
    4. ``households`` missing on residential buildings: ``floor(footprint area
       x floors / dwelling_gfa_m2)``, at least 1, ``households_source =
       "estimated"``; other uses get 0 households, ``"none"``.

    Parameters
    ----------
    buildings
        A validated buildings layer (metric CRS).
    storey_height_m
        Storey height used to convert storeys to height and back [m]; default
        from ``assets/defaults.toml``.
    dwelling_gfa_m2
        Gross floor area per household [m2]; default from
        ``assets/defaults.toml``.
    default_floors
        Per-feature default storeys (aligned to ``buildings``), used before the
        per-use default.
    warn
        Emit a :class:`~cim.errors.RepairWarning` counting the estimates.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with estimates filled in.
    """
    d = _defaults()
    sh = estimate_parameter("storey_height_m", storey_height_m)
    gfa = estimate_parameter("dwelling_gfa_m2", dwelling_gfa_m2)
    if not (sh > 0 and gfa > 0):
        msg = f"storey_height_m ({sh}) and dwelling_gfa_m2 ({gfa}) must be > 0"
        raise ValueError(msg)
    by_use = d["default_floors_by_use"]
    out = buildings.copy()
    h = out["height_m"].to_numpy(dtype="float64").copy()
    floors = out["floors"].to_numpy(dtype="float64", na_value=np.nan).copy()
    hsrc = out["height_source"].to_numpy(dtype=object).copy()
    fsrc = out["floors_source"].to_numpy(dtype=object).copy()

    has_h, has_f = np.isfinite(h), np.isfinite(floors)
    # Sources of measured values stay as given; mark missing ones consistently.
    hsrc[has_h & pd.isna(hsrc)] = "measured"
    fsrc[has_f & pd.isna(fsrc)] = "measured"

    by_levels = ~has_h & has_f
    h[by_levels] = floors[by_levels] * sh
    hsrc[by_levels] = "levels"

    neither = ~has_h & ~has_f
    if neither.any():
        per_use = out["use"].map(by_use).fillna(by_use["unknown"]).to_numpy("float64")
        if default_floors is not None:
            given = default_floors.reindex(out.index).to_numpy(
                "float64", na_value=np.nan
            )
            per_use = np.where(np.isfinite(given), given, per_use)
        floors[neither] = per_use[neither]
        h[neither] = floors[neither] * sh
        hsrc[neither] = "default"
        fsrc[neither] = "default"

    from_h = has_h & ~has_f
    floors[from_h] = np.maximum(1.0, np.round(h[from_h] / sh))
    fsrc[from_h] = "height"

    out["height_m"] = h
    out["height_source"] = pd.array(hsrc, dtype="str")
    out["floors"] = pd.array(np.round(floors), dtype="Int64")
    out["floors_source"] = pd.array(fsrc, dtype="str")

    hh = out["households"].to_numpy(dtype="float64", na_value=np.nan).copy()
    hhsrc = out["households_source"].to_numpy(dtype=object).copy()
    has_hh = np.isfinite(hh)
    hhsrc[has_hh & ((hhsrc == "none") | pd.isna(hhsrc))] = "measured"
    res = out["use"].to_numpy() == "residential"
    est = ~has_hh & res
    area = out.geometry.area.to_numpy()
    hh[est] = np.maximum(1.0, np.floor(area[est] * floors[est] / gfa))
    hhsrc[est] = "estimated"
    none = ~has_hh & ~res
    hh[none] = 0.0
    hhsrc[none] = "none"
    out["households"] = pd.array(hh, dtype="float64").astype("Int64")
    out["households_source"] = pd.array(hhsrc, dtype="str")

    n_lv, n_def, n_fh, n_hh = (
        int(by_levels.sum()),
        int(neither.sum()),
        int(from_h.sum()),
        int(est.sum()),
    )
    if warn and (n_lv or n_def or n_fh or n_hh):
        warnings.warn(
            f"layer 'buildings': estimated {n_lv + n_def} heights "
            f"({n_lv} from floors x {sh:g} m, {n_def} from default storeys by "
            f"type), {n_fh} storey counts from height, and {n_hh} household "
            f"counts from floor area / {gfa:g} m2; see the *_source columns and "
            "assets/defaults.toml",
            RepairWarning,
            stacklevel=3,
        )
    return out
