"""Side-by-side comparison of plans: indicators with deltas, diffs and maps.

:func:`compare` applies each plan to the baseline, runs the indicator modules
(:mod:`scenarios.indicators`) on the baseline and on every plan, and returns
a :class:`Comparison`: a tidy table of metrics per plan with their deltas
against the baseline, the model compare (:func:`scenarios.diff`) of every
plan, and maps of the plans side by side.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scenarios.diffing import TwinDiff, diff
from scenarios.errors import ScenarioError
from scenarios.indicators import evaluate_indicators
from scenarios.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cim.twin import Twin

__all__ = ["BASELINE", "COMPARISON_COLUMNS", "Comparison", "compare"]

#: Name of the baseline in comparison tables.
BASELINE = "baseline"
#: Columns of :attr:`Comparison.table`.
COMPARISON_COLUMNS = (
    "plan",
    "indicator",
    "metric",
    "unit",
    "value",
    "baseline",
    "delta",
    "delta_pct",
)

Plan = Scenario | tuple[str, "Twin"]


@dataclass(frozen=True)
class Comparison:
    """Plans compared with their baseline.

    Parameters
    ----------
    table
        Tidy: one row per plan (the baseline first, as ``"baseline"``) and
        metric, with :data:`COMPARISON_COLUMNS`: ``value``, the baseline's
        ``baseline`` value, ``delta`` (value - baseline, in the metric's
        unit) and ``delta_pct`` (delta / |baseline| x 100 [%], NaN where the
        baseline is 0).
    twins
        The twin of each plan by name, the baseline first.
    diffs
        The model compare of each plan against the baseline.
    scenarios
        The scenario of each plan (None for plans given as twins).
    skipped
        Indicator modules that could not run, with the reason.
    """

    table: pd.DataFrame
    twins: Mapping[str, Twin]
    diffs: Mapping[str, TwinDiff]
    scenarios: Mapping[str, Scenario | None]
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def plans(self) -> list[str]:
        """Names of the plans (without the baseline)."""
        return [n for n in self.twins if n != BASELINE]

    def wide(self, values: str = "value") -> pd.DataFrame:
        """One row per metric, one column per plan (baseline first).

        Parameters
        ----------
        values
            ``"value"``, ``"delta"`` or ``"delta_pct"``.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``(indicator, metric, unit)``, in the table's order.
        """
        if values not in ("value", "delta", "delta_pct"):
            msg = f"invalid values {values!r}; expected 'value', 'delta' or 'delta_pct'"
            raise ValueError(msg)
        t = self.table
        keys = ["indicator", "metric", "unit"]
        wide = t.pivot_table(
            index=keys, columns="plan", values=values, sort=False, dropna=False
        )
        order = t[keys].drop_duplicates()
        wide = wide.reindex(pd.MultiIndex.from_frame(order))
        wide.columns.name = None
        return wide[[c for c in self.twins if c in wide.columns]]

    def metric(self, indicator: str, metric: str) -> pd.Series:
        """One metric's value per plan, the baseline first."""
        t = self.table
        sel = t[(t["indicator"] == indicator) & (t["metric"] == metric)]
        if not len(sel):
            msg = f"no metric {metric!r} of indicator {indicator!r} in the comparison"
            raise KeyError(msg)
        return sel.set_index("plan")["value"]

    def map_figure(
        self,
        *,
        column: str | None = "floors",
        cmap: str = "viridis",
        ncols: int | None = None,
        panel_size: tuple[float, float] = (5.0, 4.5),
    ) -> Figure:
        """The plans side by side in plan view, with their changes marked.

        Each panel draws one twin (:func:`cim.viz.plot_layers`), its
        buildings coloured by ``column`` on one scale shared by all panels.
        On a plan's panel, buildings it adds are outlined red, buildings it
        changes orange, buildings it removes dashed; facilities it adds are
        stars and gates it closes crosses. All panels share the baseline's
        extent.

        Parameters
        ----------
        column
            Numeric buildings column to colour by (default ``floors``); None
            for one neutral colour.
        cmap
            Matplotlib colormap of ``column``.
        ncols
            Panels per row; default all in one row (up to 4).
        panel_size
            Size of one panel [inches].

        Returns
        -------
        matplotlib.figure.Figure
            A bare figure (no pyplot state), for saving or display.
        """
        import matplotlib.colors as mcolors
        from matplotlib.cm import ScalarMappable
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        from cim.viz.maps import plot_layers

        names = list(self.twins)
        n = len(names)
        cols = ncols or min(n, 4)
        rows = math.ceil(n / cols)
        fig = Figure(
            figsize=(panel_size[0] * cols, panel_size[1] * rows), layout="constrained"
        )
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        bounds = _extent(self.twins[BASELINE])
        norm = None
        if column is not None:
            values = np.concatenate(
                [
                    pd.to_numeric(t.buildings[column], errors="coerce").to_numpy(
                        dtype="float64", na_value=np.nan
                    )
                    for t in self.twins.values()
                    if column in t.buildings.columns
                ]
                or [np.array([np.nan])]
            )
            if np.isfinite(values).any():
                norm = mcolors.Normalize(
                    vmin=float(np.nanmin(values)), vmax=float(np.nanmax(values))
                )
        for ax, name in zip(axes, names, strict=False):
            twin = self.twins[name]
            plot_layers(twin, ax=ax, legend=False, title=name, facilities=True)
            b = twin.buildings
            if norm is not None and column in b.columns and len(b):
                shade = b.assign(
                    _v=pd.to_numeric(b[column], errors="coerce").astype("float64")
                )
                shade = shade[shade["_v"].notna()]
                if len(shade):
                    shade.plot(
                        ax=ax,
                        column="_v",
                        cmap=cmap,
                        norm=norm,
                        edgecolor="#4d4d4d",
                        lw=0.3,
                        zorder=5.5,
                    )
            if name != BASELINE:
                self._mark_changes(ax, name)
            if bounds is not None:
                ax.set_xlim(bounds[0], bounds[2])
                ax.set_ylim(bounds[1], bounds[3])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
        for ax in axes[n:]:
            ax.set_visible(False)
        if norm is not None:
            fig.colorbar(
                ScalarMappable(norm=norm, cmap=cmap),
                ax=list(axes[:n]),
                shrink=0.8,
                label=str(column),
            )
        handles = [
            Line2D([], [], color=_ADDED, lw=2, label="building added"),
            Line2D([], [], color=_CHANGED, lw=2, label="building changed"),
            Line2D([], [], color=_REMOVED, lw=1, ls="--", label="building removed"),
            Line2D(
                [], [], color=_ADDED, marker="*", ls="", ms=9, label="facility added"
            ),
            Line2D([], [], color="black", marker="x", ls="", ms=7, label="gate closed"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=5, frameon=False)
        return fig

    def _mark_changes(self, ax: Any, name: str) -> None:
        from cim.network.modes import gate_overrides

        f = self.diffs[name].features
        twin = self.twins[name]
        fb = f[f["layer"] == "buildings"]
        b = twin.buildings
        for change, color in (("added", _ADDED), ("changed", _CHANGED)):
            sel = b[b["building_id"].isin(fb.loc[fb["change"] == change, "id"])]
            if len(sel):
                sel.boundary.plot(ax=ax, color=color, lw=1.6, zorder=7)
        b0 = self.twins[BASELINE].buildings
        gone = b0[b0["building_id"].isin(fb.loc[fb["change"] == "removed", "id"])]
        if len(gone):
            gone.boundary.plot(ax=ax, color=_REMOVED, linestyle="--", lw=0.8, zorder=7)
        ff = f[(f["layer"] == "facilities") & (f["change"] == "added")]
        fac = twin.facilities[twin.facilities["facility_id"].isin(ff["id"])]
        if len(fac):
            fac.plot(ax=ax, color=_ADDED, marker="*", markersize=90, zorder=8)
        G = twin.network
        closed = [
            (G.nodes[n]["x"], G.nodes[n]["y"])
            for n, is_open in gate_overrides(G).items()
            if not is_open
        ]
        if closed:
            xy = np.asarray(closed)
            ax.scatter(xy[:, 0], xy[:, 1], marker="x", color="black", s=40, zorder=8)

    def map_png(self, *, dpi: float = 110.0, **kwargs: Any) -> bytes:
        """:meth:`map_figure` as PNG bytes.

        Drawn by :func:`cim.viz.save_figure`: plan names and labels with
        Chinese characters fall back on a CJK font, and without one a single
        :class:`cim.errors.FontWarning` says so.
        """
        from cim.viz import save_figure

        fig = self.map_figure(**kwargs)
        buf = io.BytesIO()
        save_figure(fig, buf, format="png", dpi=dpi)
        return buf.getvalue()

    def to_html(self, path: Any = None, *, title: str | None = None) -> str:
        """A self-contained HTML report (see :func:`scenarios.report.html_report`)."""
        from scenarios.report import html_report, write_html

        text = html_report(self, title=title)
        if path is not None:
            write_html(path, text)
        return text


_ADDED = "#d62728"
_CHANGED = "#ff9f1c"
_REMOVED = "#7f0000"


def _extent(twin: Twin) -> tuple[float, float, float, float] | None:
    for layer in ("site", "parcels", "buildings"):
        frame = twin[layer]
        if len(frame):
            x0, y0, x1, y1 = (float(v) for v in frame.total_bounds)
            pad = 0.03 * max(x1 - x0, y1 - y0)
            return x0 - pad, y0 - pad, x1 + pad, y1 + pad
    return None


def _named(plans: Sequence[Plan]) -> list[tuple[str, Scenario | None, Twin | None]]:
    out: list[tuple[str, Scenario | None, Twin | None]] = []
    for p in plans:
        if isinstance(p, Scenario):
            out.append((p.name, p, None))
        elif isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
            out.append((p[0], None, p[1]))
        else:
            msg = (
                f"a plan must be a Scenario or a (name, Twin) pair, got "
                f"{type(p).__name__}"
            )
            raise TypeError(msg)
    names = [n for n, _, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup or BASELINE in names:
        bad = dup[0] if dup else BASELINE
        msg = f"plan name {bad!r} is used twice (or is reserved); name plans uniquely"
        raise ScenarioError(msg)
    return out


def compare(
    baseline: Twin,
    *plans: Plan,
    indicators: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Comparison:
    """Compare plans with their baseline: indicators, deltas, diffs and maps.

    Parameters
    ----------
    baseline
        The twin as it is; it is not changed.
    *plans
        Scenarios, or ``(name, twin)`` pairs for plans built otherwise.
    indicators
        Indicator modules to run (:func:`scenarios.available_indicators`);
        default every available default module. Modules whose engine is
        missing are skipped, with the reason in :attr:`Comparison.skipped`.
    options
        Keyword options per module, e.g. ``{"takeoff": {"rulebook":
        "gbt50353-2013"}, "circles": {"minutes": (5, 10)}}``.

    Returns
    -------
    Comparison

    Raises
    ------
    ScenarioError
        If a plan does not apply to the baseline (naming the plan and edit),
        or plan names repeat.

    Examples
    --------
    >>> import cim
    >>> from scenarios import Scenario, compare
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> bid = twin.buildings["building_id"].iloc[0]
    >>> cmp = compare(twin, Scenario("raise").add_floors([bid], 2),
    ...               indicators=["takeoff"])
    >>> float(cmp.wide("delta").loc[("takeoff", "buildings", "count"), "raise"])
    0.0
    """
    named = _named(plans)
    skipped: dict[str, str] = {}
    twins: dict[str, Twin] = {BASELINE: baseline}
    scenarios: dict[str, Scenario | None] = {BASELINE: None}
    diffs: dict[str, TwinDiff] = {}
    for name, scenario, twin in named:
        if scenario is not None:
            twin = scenario.apply(baseline)
        assert twin is not None
        twins[name] = twin
        scenarios[name] = scenario
        diffs[name] = diff(baseline, twin)
    frames = []
    for name, twin in twins.items():
        t = evaluate_indicators(
            twin,
            baseline=baseline,
            indicators=indicators,
            options=options,
            skipped=skipped,
        )
        t.insert(0, "plan", name)
        frames.append(t)
    table = pd.concat(frames, ignore_index=True)
    base = table[table["plan"] == BASELINE].set_index(["indicator", "metric"])["value"]
    key = pd.MultiIndex.from_frame(table[["indicator", "metric"]])
    table["baseline"] = base.reindex(key).to_numpy()
    table["delta"] = table["value"] - table["baseline"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * table["delta"].to_numpy() / np.abs(table["baseline"].to_numpy())
    table["delta_pct"] = np.where(table["baseline"].to_numpy() == 0, np.nan, pct)
    return Comparison(
        table=table[list(COMPARISON_COLUMNS)],
        twins=twins,
        diffs=diffs,
        scenarios=scenarios,
        skipped=skipped,
    )
