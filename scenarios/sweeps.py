"""Sweeps: many variants of a plan, evaluated in parallel on dask.distributed.

:func:`sweep` builds one plan per point of a parameter grid with
``make_plan(**params)``, evaluates each against the baseline, and collects
one row of metrics per variant. The baseline is sent to the workers once
(``Client.scatter``); each variant is one task. ``make_plan`` may return

- a :class:`~scenarios.Scenario`: it is applied and the indicator modules
  are run (``indicators``, ``options``, as :func:`scenarios.compare`);
- a scenario module's config with ``run(twin) -> result`` whose result has
  ``metrics() -> {name: value}``, e.g.
  :class:`scenarios.renovation.RenovationConfig` (its own settings decide
  what is computed).

Scheduler: ``None`` starts a :class:`distributed.LocalCluster` (``n_workers``
processes of one thread each) and closes it afterwards; an address
(``"tcp://10.0.0.5:8786"``) connects to a running scheduler; a
:class:`distributed.Client` is used as it is (and left open); ``"serial"``
runs the variants one after the other in this process, without dask. The
result does not depend on the scheduler: every variant is computed by the
same function on the same inputs (tested against the serial run).

``make_plan`` must be picklable for a cluster: a module-level function, a
class, or a function defined in a notebook or script (``__main__``, which
cloudpickle sends by value).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from scenarios.indicators import evaluate_indicators
from scenarios.scenario import Scenario

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = ["SweepResult", "evaluate_variant", "grid_points", "sweep"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    """Metrics of every variant of a sweep.

    Parameters
    ----------
    table
        One row per variant, in grid order: the parameters, then one column
        per metric (``"<indicator>.<metric>"`` for scenario plans, the
        result's own names for module configs).
    params
        Names of the parameter columns.
    scheduler
        Where it ran: ``"serial"``, ``"local"`` (a LocalCluster) or the
        scheduler's address.
    """

    table: pd.DataFrame
    params: tuple[str, ...]
    scheduler: str

    @property
    def metrics(self) -> list[str]:
        """Names of the metric columns."""
        return [c for c in self.table.columns if c not in self.params]

    def long(self) -> pd.DataFrame:
        """The table in long form: parameters, ``metric``, ``value``."""
        return self.table.melt(
            id_vars=list(self.params), var_name="metric", value_name="value"
        )


def grid_points(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The variants of a grid: the product of a mapping's values, or a list as is.

    Parameters
    ----------
    grid
        ``{"far_uplift": [0.2, 0.4], "package": ["partial", "rebuild"]}``
        (every combination, the last key varying fastest), or a list of
        parameter dicts.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> from scenarios.sweeps import grid_points
    >>> grid_points({"a": [1, 2], "b": ["x", "y"]})[:2]
    [{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}]
    """
    if isinstance(grid, Mapping):
        keys = list(grid)
        for k in keys:
            if isinstance(grid[k], (str, bytes)) or not isinstance(grid[k], Sequence):
                msg = f"grid values must be lists; {k!r} is {grid[k]!r}"
                raise ValueError(msg)
        return [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(grid[k] for k in keys))
        ]
    points = [dict(p) for p in grid]
    if not points:
        msg = "the grid is empty; give at least one variant"
        raise ValueError(msg)
    return points


def evaluate_variant(
    baseline: Twin,
    make_plan: Callable[..., Any],
    params: Mapping[str, Any],
    indicators: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, float]:
    """The metrics of one variant (the task each worker runs).

    Parameters
    ----------
    baseline
        The baseline twin.
    make_plan
        Builds the plan from the parameters.
    params
        This variant's parameters.
    indicators, options
        For scenario plans, as :func:`scenarios.compare`.

    Returns
    -------
    dict
        Metric name -> value.
    """
    try:
        plan = make_plan(**params)
        if isinstance(plan, Scenario):
            twin = plan.apply(baseline)
            t = evaluate_indicators(
                twin, baseline=baseline, indicators=indicators, options=options
            )
            return {
                f"{i}.{m}": float(v)
                for i, m, v in zip(t["indicator"], t["metric"], t["value"], strict=True)
            }
        if hasattr(plan, "run"):
            result = plan.run(baseline)
            return {str(k): float(v) for k, v in result.metrics().items()}
    except Exception as exc:
        exc.add_note(f"in sweep variant {dict(params)!r}")
        raise
    msg = (
        f"make_plan returned {type(plan).__name__}; return a Scenario or a config "
        "with run(twin) whose result has metrics()"
    )
    raise TypeError(msg)


def _client(distributed: Any, scheduler: Any, n_workers: int) -> tuple[Any, Any, str]:
    """A dask client, the cluster it started (or None), and a label."""
    if isinstance(scheduler, distributed.Client):
        return scheduler, None, str(scheduler.scheduler.address)
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        return distributed.Client(cluster), cluster, "local"
    if isinstance(scheduler, str):
        return distributed.Client(scheduler), None, scheduler
    msg = (
        f"invalid scheduler {scheduler!r}; expected None (a local cluster), "
        "'serial', a scheduler address or a distributed.Client"
    )
    raise ValueError(msg)


def _has_widgets() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None


def sweep(
    baseline: Twin,
    make_plan: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    *,
    indicators: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    scheduler: Any = None,
    n_workers: int = 2,
    progress: bool = False,
) -> SweepResult:
    """Evaluate every variant of a plan over a parameter grid, in parallel.

    Parameters
    ----------
    baseline
        The baseline twin; it is not changed.
    make_plan
        ``make_plan(**params)`` -> a Scenario, or a module config with
        ``run(twin)`` (see the module doc).
    grid
        Parameter values (every combination) or a list of parameter dicts
        (see :func:`grid_points`).
    indicators, options
        Indicator modules and their options, for scenario plans (default
        every available default module).
    scheduler
        ``None`` (a local cluster, closed afterwards), a scheduler address,
        a :class:`distributed.Client`, or ``"serial"`` (no dask).
    n_workers
        Worker processes of the local cluster.
    progress
        Show dask's progress bar (:func:`distributed.progress`).

    Returns
    -------
    SweepResult

    Raises
    ------
    ImportError
        If dask.distributed is not installed (``pip install 'cim-twin[dist]'``)
        and the scheduler is not ``"serial"``.

    Examples
    --------
    >>> import cim
    >>> from scenarios import Scenario, sweep
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> bid = twin.buildings["building_id"].iloc[0]
    >>> def raise_by(n):
    ...     return Scenario(f"+{n}").add_floors([bid], n)
    >>> result = sweep(twin, raise_by, {"n": [1, 2]}, indicators=["takeoff"],
    ...                scheduler="serial")
    >>> result.table["n"].tolist()
    [1, 2]
    """
    points = grid_points(grid)
    names = tuple(dict.fromkeys(k for p in points for k in p))
    if isinstance(scheduler, str) and scheduler == "serial":
        rows = [
            evaluate_variant(baseline, make_plan, p, indicators, options)
            for p in points
        ]
        label = "serial"
    else:
        from cim._compat import import_optional_dependency

        distributed = import_optional_dependency("distributed", extra="dist")
        client, cluster, label = _client(distributed, scheduler, n_workers)
        try:
            base = client.scatter(baseline, broadcast=True)
            futures = [
                client.submit(
                    evaluate_variant,
                    base,
                    make_plan,
                    p,
                    indicators,
                    options,
                    pure=False,
                )
                for p in points
            ]
            if progress:
                show: Callable[..., Any] = distributed.progress
                # A widget in notebooks that have ipywidgets, a text bar
                # otherwise (it returns when the futures are done).
                show(futures, notebook=None if _has_widgets() else False)
            rows = client.gather(futures)
        finally:
            if cluster is not None:
                client.close()
                cluster.close()
    _log.info("sweep of %d variants on %s done", len(points), label)
    params = pd.DataFrame(points, columns=list(names))
    metrics = pd.DataFrame(rows)
    # A metric named like a parameter keeps both, the metric marked.
    metrics = metrics.rename(columns={n: f"{n} (result)" for n in names})
    table = pd.concat([params, metrics], axis=1)
    return SweepResult(table=table, params=names, scheduler=label)
