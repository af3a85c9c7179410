"""The ``cim scenario`` commands (called lazily by :mod:`cim.cli`).

``cim scenario run PLAN.toml [...] --twin site.gpkg [--html compare.html]``
    Apply plans to the twin and compare them: indicator table, deltas, maps.
``cim scenario branches site.gpkg``
    List the branches saved in a twin GeoPackage.
``cim scenario checkout site.gpkg NAME -o plan.gpkg``
    Write the twin of a branch to a new GeoPackage.
``cim scenario renovate [site.gpkg] [--html renovation.html]``
    Classify the buildings and rank renovation packages (default: the sample
    old estate).

The functions return the text to print; :mod:`cim.cli` prints it and maps
errors to exit codes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

__all__ = ["scenario_command"]

Step = Callable[[str], AbstractContextManager[None]]


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _params(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            msg = f"invalid --param {item!r}; expected KEY=VALUE, e.g. climate_zone=III"
            raise ValueError(msg)
        out[key.strip()] = value.strip()
    return out


def _options(args: argparse.Namespace, indicators: list[str] | None) -> dict[str, Any]:
    from scenarios.indicators import available_indicators

    names = indicators if indicators is not None else available_indicators()
    opts: dict[str, dict[str, Any]] = {}
    if getattr(args, "rules", None):
        for n in ("takeoff", "compliance"):
            if n in names:
                opts.setdefault(n, {})["rulebook"] = args.rules
    params = _params(getattr(args, "param", []) or [])
    if params and "compliance" in names:
        opts.setdefault("compliance", {})["params"] = params
    return opts


def _table_text(wide: Any) -> str:
    from scenarios.report import fmt

    rows = [["indicator", "metric", "unit", *map(str, wide.columns)]]
    for (ind, metric, unit), values in wide.iterrows():
        rows.append([str(ind), str(metric), str(unit), *(fmt(v) for v in values)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _run(args: argparse.Namespace, step: Step) -> str:
    from cim.io.gpkg import read_gpkg
    from scenarios.comparison import compare
    from scenarios.scenario import load_scenario

    with step(f"reading {args.twin}"):
        baseline = read_gpkg(args.twin)
    plans = [load_scenario(p) for p in args.plans]
    indicators = _names(args.indicators)
    with step(f"applying and comparing {len(plans)} plans"):
        cmp = compare(
            baseline,
            *plans,
            indicators=indicators,
            options=_options(args, indicators),
        )
    out = [_table_text(cmp.wide("value"))]
    for name in cmp.plans:
        out.append(f"\n{name}: {cmp.diffs[name]}".replace("\n", "\n  ").lstrip("\n"))
    for k, v in cmp.skipped.items():
        out.append(f"skipped {k}: {v}")
    if args.save_branch:
        from scenarios.store import save_branch

        with step(f"saving {len(plans)} branches in {args.twin}"):
            for plan in plans:
                save_branch(args.twin, plan, overwrite=args.overwrite)
        out.append(f"saved branches {', '.join(p.name for p in plans)} in {args.twin}")
    if args.csv:
        from scenarios._files import write_text_atomic

        write_text_atomic(args.csv, cmp.table.to_csv(index=False))
        out.append(f"wrote {args.csv}")
    if args.html:
        with step(f"writing {args.html}"):
            cmp.to_html(args.html)
        out.append(f"wrote {args.html}")
    return "\n".join(out)


def _branches(args: argparse.Namespace, step: Step) -> str:
    from scenarios.store import branch_summary

    return branch_summary(args.twin)


def _checkout(args: argparse.Namespace, step: Step) -> str:
    from scenarios.store import checkout

    if Path(args.output).resolve() == Path(args.twin).resolve():
        msg = f"refusing to overwrite the baseline {args.twin}; give another -o file"
        raise ValueError(msg)
    with step(f"checking out {args.name!r}"):
        twin = checkout(args.twin, args.name)
    with step(f"writing {args.output}"):
        twin.save(args.output)
    return f"wrote {args.output}: {twin!r}"


def _renovate(args: argparse.Namespace, step: Step) -> str:
    from scenarios.renovation import RenovationConfig, compare_packages, sample_estate

    if args.twin:
        from cim.io.gpkg import read_gpkg

        with step(f"reading {args.twin}"):
            twin = read_gpkg(args.twin)
    else:
        twin = sample_estate()
    names = _names(args.indicators)
    params = _params(args.param or [])
    config = RenovationConfig(
        sale_price_cny_m2=args.sale_price,
        rulebook=args.rules or "zhejiang-future-community",
        indicators=None if names is None else tuple(names),
        options={"compliance": {"params": params}} if params else {},
        year=args.year,
    )
    packages = _names(args.packages) or ["comprehensive", "partial", "rebuild"]
    with step(f"classifying and evaluating {len(packages)} packages"):
        study = compare_packages(
            twin, packages, far_uplift=args.far_uplift, config=config
        )
    out = [study.ranking_text()]
    for k, v in study.comparison.skipped.items():
        out.append(f"skipped {k}: {v}")
    if args.html:
        with step(f"writing {args.html}"):
            study.to_html(args.html)
        out.append(f"wrote {args.html}")
    return "\n".join(out)


_ACTIONS = {
    "run": _run,
    "branches": _branches,
    "checkout": _checkout,
    "renovate": _renovate,
}


def scenario_command(args: argparse.Namespace, step: Step) -> str:
    """Run one ``cim scenario`` action; return the text to print.

    Parameters
    ----------
    args
        Parsed arguments (``args.action`` names the action).
    step
        Progress context manager factory (``progress.step`` of the CLI).

    Returns
    -------
    str
    """
    return _ACTIONS[args.action](args, step)
