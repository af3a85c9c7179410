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
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cim._assets import asset_path
from cim.errors import RepairWarning

__all__ = ["defaults", "fill_building_estimates"]


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
    sh = float(
        d["storey_height_m"]["value"] if storey_height_m is None else storey_height_m
    )
    gfa = float(
        d["dwelling_gfa_m2"]["value"] if dwelling_gfa_m2 is None else dwelling_gfa_m2
    )
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
