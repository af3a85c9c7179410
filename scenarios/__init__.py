"""Scenarios: plans as edits on a baseline twin, compared, swept and saved.

Scenarios orchestrate :mod:`cim` and :mod:`geometry`; they never mutate the
baseline twin (every edit derives a new twin, copy-on-write).

- :class:`Scenario`: a named, ordered list of edits (:mod:`scenarios.edits`),
  written in Python (fluent, immutable) or TOML (:func:`load_scenario`);
  ``scenario.apply(baseline)`` gives the plan's twin.
- :func:`diff`: the model compare, features added, removed and changed.
- :func:`compare`: indicator modules (:mod:`scenarios.indicators`) on the
  baseline and every plan, with deltas and side-by-side maps;
  :func:`register_indicator` plugs in new modules.
- :func:`sweep`: variants over a parameter grid on dask.distributed.
- :func:`save_branch` / :func:`checkout`: plans saved in the twin's
  GeoPackage with their edit log (:mod:`scenarios.store`).
- :mod:`scenarios.renovation`: renovate-or-rebuild classification and
  renovation packages with costs and the fund balance.

Names are imported on first use, so ``import scenarios`` stays light.

Examples
--------
>>> import cim
>>> from scenarios import Scenario
>>> twin = cim.datasets.load("beijing_haidian_cau")
>>> bid = twin.buildings["building_id"].iloc[0]
>>> plan = Scenario("plan A").add_floors([bid], 2)
>>> plan.apply(twin).buildings["floors"].iloc[0] - twin.buildings["floors"].iloc[0]
np.int64(2)
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BaselineChangedError",
    "Comparison",
    "IndicatorUnavailableError",
    "Scenario",
    "ScenarioError",
    "SweepResult",
    "TwinDiff",
    "available_indicators",
    "checkout",
    "compare",
    "delete_branch",
    "diff",
    "evaluate_indicators",
    "list_branches",
    "load_branch",
    "load_scenario",
    "register_indicator",
    "save_branch",
    "sweep",
    "twin_hash",
]

_WHERE = {
    "BaselineChangedError": "scenarios.errors",
    "IndicatorUnavailableError": "scenarios.errors",
    "ScenarioError": "scenarios.errors",
    "Scenario": "scenarios.scenario",
    "load_scenario": "scenarios.scenario",
    "TwinDiff": "scenarios.diffing",
    "diff": "scenarios.diffing",
    "Comparison": "scenarios.comparison",
    "compare": "scenarios.comparison",
    "SweepResult": "scenarios.sweeps",
    "sweep": "scenarios.sweeps",
    "available_indicators": "scenarios.indicators",
    "evaluate_indicators": "scenarios.indicators",
    "register_indicator": "scenarios.indicators",
    "checkout": "scenarios.store",
    "delete_branch": "scenarios.store",
    "list_branches": "scenarios.store",
    "load_branch": "scenarios.store",
    "save_branch": "scenarios.store",
    "twin_hash": "scenarios.store",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    msg = f"module 'scenarios' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
