"""The compliance report: rows, take-off breakdown, JSON and a self-contained HTML page.

:func:`cim.check.check` returns a :class:`ComplianceReport`. Its rows (one per
feature and rule, columns :data:`ROW_COLUMNS`) are the result;
:meth:`~ComplianceReport.to_json` writes them as a list of objects, with the
take-off breakdown behind each FAR value (infinite numbers as the strings
``"inf"`` and ``"-inf"``, missing ones as ``null``), and
:meth:`~ComplianceReport.to_html` writes a single HTML file a planner can
hand on: a pass/fail summary per parcel and rule, a map of parcels coloured by
result (inline SVG), the FAR breakdown tables, the values not evaluated and
every unverified value. The page has inline CSS only, loads nothing from the
network, and escapes all text.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from cim.io.files import atomic_path

if TYPE_CHECKING:
    from cim.indicators.context import Context
    from cim.rules.rulebook import Rulebook
    from cim.takeoff import TakeoffResult
    from cim.twin import Twin

__all__ = [
    "JSON_INFINITY",
    "ROW_COLUMNS",
    "SOURCE_TAGS",
    "STATUSES",
    "ComplianceReport",
]

#: What the source tags in clauses and notes mean (rulebooks in assets/rules).
SOURCE_TAGS = (
    "Source tags in clauses and notes: [V] checked in a retrieved copy of the "
    "source; [M] recalled or from one weak source; [clause no. M] the clause "
    "number is recalled (the value may still be [V]); [GAP] not found."
)

#: Columns of :attr:`ComplianceReport.rows`.
ROW_COLUMNS = (
    "feature_id",
    "scope",
    "rule_id",
    "indicator",
    "value",
    "op",
    "limit_min",
    "limit_max",
    "unit",
    "status",
    "passed",
    "margin",
    "basis",
    "clause",
    "verified",
    "inputs_verified",
    "unverified_inputs",
    "rulebook",
    "threshold_keys",
    "reason",
)

#: Row statuses, worst first.
STATUSES = ("fail", "not_evaluated", "pass", "not_applicable")

_BREAKDOWN_KEYS = (
    "building_id",
    "share",
    "kind",
    "rule_id",
    "clause",
    "verified",
    "rulebook",
    "elements",
    "area_m2",
    "factor",
    "counted_m2",
)


#: How :meth:`ComplianceReport.to_json` writes infinite numbers (JSON has
#: none): as these strings, which ``float()`` reads back. NaN (missing) is
#: ``null``. An infinite value is a result, e.g. a walking distance to a
#: facility category the twin lacks or cannot reach (the row's ``basis``
#: says which), not a missing one.
JSON_INFINITY = {math.inf: "inf", -math.inf: "-inf"}


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return JSON_INFINITY.get(v)  # None for NaN
    return v


@dataclass(frozen=True)
class ComplianceReport:
    """Result of :func:`cim.check.check`.

    Parameters
    ----------
    rows
        One row per (feature, rule), with the columns of :data:`ROW_COLUMNS`:

        - ``feature_id``, ``scope``: the parcel, site, building or dwelling;
        - ``rule_id``, ``indicator``, ``op``, ``unit``, ``clause``,
          ``verified``, ``rulebook``: the rule, its source and whether its
          value was confirmed from the primary text (planning conditions of
          parcels have ids ``planning-<column>`` and rulebook ``parcels``);
        - ``value`` [unit], ``limit_min``, ``limit_max`` [unit] (NaN where
          the op has no such bound), ``threshold_keys`` (the parameters that
          chose the threshold, e.g. ``climate_zone=III, storey_class=high_i``);
        - ``status`` (:data:`STATUSES`), ``passed`` (``<NA>`` unless
          evaluated), ``margin`` [unit] (how far inside the limit; negative
          when failing), ``reason`` (why not evaluated or not applicable;
          ``""`` on evaluated rows);
        - ``basis``: what produced an evaluated value, where the indicator
          says (e.g. ``counted 24,000.0 m2 / parcel 10,000.0 m2`` for FAR,
          ``set by toilet (nearest facility F9)`` for a walking distance);
          ``""`` on rows not evaluated;
        - ``inputs_verified``, ``unverified_inputs``: whether every input
          behind the value and the limit is verified (take-off rules,
          defaults such as persons per household, estimated households,
          storeys or heights, and a limit chosen by a class derived from
          estimates: ``limit chosen by storey_class=multi_i from storeys
          estimated ...``); ``"; "``-joined labels.

        ``value`` and ``margin`` may be infinite (a required facility
        unreachable), which is a value and not a missing one.
    takeoff
        The floor-area take-off behind every FAR value.
    rulebook
        The rulebook checked against.
    planning
        Planning parameters used.
    planning_sources
        Where each parameter came from (``params``, ``twin metadata``,
        ``default``).
    twin
        The twin checked.
    context
        The check's indicator context (overlays, derived classes).
    created
        When the report was made (UTC, ISO 8601).
    """

    rows: pd.DataFrame
    takeoff: TakeoffResult
    rulebook: Rulebook
    planning: Mapping[str, Any]
    planning_sources: Mapping[str, str]
    twin: Twin = field(repr=False)
    context: Context = field(repr=False)
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    )

    # -- tables -----------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The rows, with a ``limit`` column (a number, or ``(lo, hi)``).

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`rows` plus ``limit``.
        """
        out = self.rows.copy()
        out.insert(out.columns.get_loc("limit_min"), "limit", self._limits())
        return out

    def _limits(self) -> list[Any]:
        lo = self.rows["limit_min"].to_numpy(dtype="float64")
        hi = self.rows["limit_max"].to_numpy(dtype="float64")
        op = self.rows["op"].to_numpy(dtype=object)
        out: list[Any] = []
        for o, a, b in zip(op, lo, hi, strict=True):
            if o == "between":
                out.append(None if np.isnan(a) else (float(a), float(b)))
            elif o in (">=", ">", "=="):
                out.append(None if np.isnan(a) else float(a))
            else:
                out.append(None if np.isnan(b) else float(b))
        return out

    @property
    def passed(self) -> bool:
        """Whether no row failed."""
        return not bool((self.rows["status"] == "fail").any())

    def counts(self) -> dict[str, int]:
        """Number of rows by status.

        Returns
        -------
        dict
            Keys of :data:`STATUSES`.
        """
        vc = self.rows["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUSES}

    def failures(self) -> pd.DataFrame:
        """The failing rows.

        Returns
        -------
        pandas.DataFrame
        """
        return self.to_frame().loc[lambda f: f["status"] == "fail"]

    def summary(self, scope: str = "parcel") -> pd.DataFrame:
        """Result per feature of a scope.

        Parameters
        ----------
        scope
            ``parcel``, ``site``, ``building`` or ``dwelling``.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``feature_id`` (in layer order): a count per status and
            ``status``, the worst of ``fail``, ``not_evaluated``, ``pass``
            (``not_applicable`` if no rule applies).
        """
        rows = self.rows[self.rows["scope"] == scope]
        table = pd.crosstab(rows["feature_id"], rows["status"])
        table = table.reindex(columns=list(STATUSES), fill_value=0)
        ids = [i for i in self.context.ids(scope) if i in table.index]
        table = table.loc[ids]
        worst = np.full(len(table), "not_applicable", dtype=object)
        for s in reversed(STATUSES[:3]):
            worst = np.where(table[s].to_numpy() > 0, s, worst)
        table["status"] = pd.array(worst, dtype="str")
        table.columns.name = None
        return table

    def far_breakdown(self, scope: str = "parcel") -> pd.DataFrame:
        """The take-off behind each FAR value: element areas by building and rule.

        Parameters
        ----------
        scope
            ``"parcel"`` or ``"site"``.

        Returns
        -------
        pandas.DataFrame
            One row per (zone, building, element kind, FAR rule) of elements
            above ground: ``zone_id``, ``building_id``, ``share`` (of the
            building in the zone), ``kind``, ``rule_id``, ``clause``,
            ``verified``, ``rulebook``, ``elements`` (count), ``area_m2``,
            ``factor`` and ``counted_m2`` (FAR-counted area in the zone, i.e.
            x share) [m2]. Summed by zone, ``counted_m2`` / zone area is the
            FAR.
        """
        ctx = self.context
        s = ctx.shares("buildings", scope)
        bids = ctx.buildings["building_id"].astype("str").to_numpy(dtype=object)
        zids = np.asarray(ctx.ids(scope), dtype=object)
        pairs = pd.DataFrame(
            {
                "zone_id": zids[s.zone],
                "building_id": bids[s.feature],
                "share": s.share,
            }
        )
        bd = self.takeoff.breakdown
        bd = bd[bd["above_ground"].to_numpy(dtype=bool)]
        keys = [
            "building_id",
            "kind",
            "rule_id",
            "clause",
            "verified",
            "rulebook",
            "factor",
        ]
        elems = (
            bd.assign(building_id=bd["building_id"].astype("str"), elements=1)
            .groupby(keys, sort=False, dropna=False)[
                ["elements", "area_m2", "counted_m2"]
            ]
            .sum()
            .reset_index()
        )
        out = pairs.merge(elems, on="building_id", how="inner")
        out["area_m2"] = out["area_m2"] * out["share"]
        out["counted_m2"] = out["counted_m2"] * out["share"]
        cols = ["zone_id", *_BREAKDOWN_KEYS]
        return out[cols].reset_index(drop=True)

    def unverified(self) -> pd.DataFrame:
        """Rules behind evaluated rows whose values are not verified.

        Returns
        -------
        pandas.DataFrame
            One row per unverified compliance rule evaluated, and per
            unverified area rule that decided some element: ``kind``
            (``rule`` or ``area rule``), ``rule_id``, ``clause``,
            ``rulebook``, ``rows`` (rows or elements it decided), ``note``.
        """
        rows = self.rows[self.rows["status"].isin(["pass", "fail"])]
        rules = rows[~rows["verified"].to_numpy(dtype=bool)]
        out = []
        notes = {r.id: r.note for r in self.rulebook.rules}
        for rid, grp in rules.groupby("rule_id", sort=False):
            out.append(
                {
                    "kind": "rule",
                    "rule_id": rid,
                    "clause": grp["clause"].iloc[0],
                    "rulebook": grp["rulebook"].iloc[0],
                    "rows": len(grp),
                    "note": notes.get(str(rid), ""),
                }
            )
        bd = self.takeoff.breakdown
        area_notes = {r.id: r.note for r in self.rulebook.area_rules}
        for flag, rid, clause in (
            ("verified", "rule_id", "clause"),
            ("gfa_verified", "gfa_rule_id", "gfa_clause"),
        ):
            sel = bd[~bd[flag].to_numpy(dtype=bool)]
            for r, grp in sel.groupby(rid, sort=False):
                out.append(
                    {
                        "kind": "area rule",
                        "rule_id": r,
                        "clause": grp[clause].iloc[0],
                        "rulebook": grp["rulebook"].iloc[0]
                        if flag == "verified"
                        else "",
                        "rows": len(grp),
                        "note": area_notes.get(str(r), ""),
                    }
                )
        frame = pd.DataFrame(
            out, columns=["kind", "rule_id", "clause", "rulebook", "rows", "note"]
        )
        return frame.drop_duplicates(subset=["kind", "rule_id"]).reset_index(drop=True)

    # -- JSON ---------------------------------------------------------------------
    def to_records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts, FAR rows with their ``breakdown``.

        Returns
        -------
        list of dict
            Keys of :data:`ROW_COLUMNS` (NaN as ``None``, +-inf as
            ``"inf"`` / ``"-inf"``: :data:`JSON_INFINITY`) plus ``limit`` (a
            number, ``[lo, hi]`` or ``None``); rows of indicator ``far``
            have ``breakdown``: the records of :meth:`far_breakdown` for
            their zone.
        """
        frame = self.to_frame()
        breakdown: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for scope in ("parcel", "site"):
            if ((frame["indicator"] == "far") & (frame["scope"] == scope)).any():
                bd = self.far_breakdown(scope)
                for zid, grp in bd.groupby("zone_id", sort=False):
                    recs = grp.drop(columns="zone_id").to_dict(orient="records")
                    breakdown[(scope, str(zid))] = [
                        {k: _json_value(v) for k, v in r.items()} for r in recs
                    ]
        cols = [*ROW_COLUMNS[:5], "limit", *ROW_COLUMNS[5:]]
        records = []
        for rec in frame[cols].to_dict(orient="records"):
            out = {k: _json_value(v) for k, v in rec.items()}
            if isinstance(out["limit"], tuple):
                out["limit"] = list(out["limit"])
            if out["indicator"] == "far":
                out["breakdown"] = breakdown.get((out["scope"], out["feature_id"]), [])
            records.append(out)
        return records

    def to_json(
        self, path: str | os.PathLike[str] | None = None, *, indent: int | None = 1
    ) -> str:
        """The rows as a JSON list (see :meth:`to_records`).

        Parameters
        ----------
        path
            File to write (UTF-8), if any.
        indent
            JSON indentation.

        Returns
        -------
        str
        """
        text = json.dumps(self.to_records(), ensure_ascii=False, indent=indent)
        if path is not None:
            with atomic_path(Path(path)) as tmp:
                tmp.write_text(text + "\n", encoding="utf-8")
        return text

    # -- HTML ---------------------------------------------------------------------
    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """A self-contained HTML report (inline CSS and SVG map, no network).

        Parameters
        ----------
        path
            File to write (UTF-8), if any.

        Returns
        -------
        str
        """
        text = _render_html(self)
        if path is not None:
            with atomic_path(Path(path)) as tmp:
                tmp.write_text(text, encoding="utf-8")
        return text


# --------------------------------------------------------------------------
# HTML rendering

_E = html.escape

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",
sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}
h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.88em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{background:#d9f2d9}.fail{background:#f8d0d0;font-weight:bold}
.not_evaluated{background:#fff1c2}.not_applicable{color:#888}
.badge{display:inline-block;padding:.1em .5em;border-radius:.3em;margin-right:.4em}
.note{color:#555;font-size:.9em}.banner{background:#fff8e1;border:1px solid #e0c060;
padding:.6em 1em;margin:1em 0}.unverified{color:#9a3412}
svg{border:1px solid #ccc;background:#fafafa;max-width:100%;height:auto}
"""

_COLOURS = {
    "fail": "#e57373",
    "not_evaluated": "#ffd54f",
    "pass": "#81c784",
    "not_applicable": "#e0e0e0",
}
_LABELS = {
    "fail": "fail",
    "not_evaluated": "not evaluated",
    "pass": "pass",
    "not_applicable": "not applicable",
}


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        v = float(v)
        if np.isnan(v):
            return ""
        if np.isinf(v):
            return JSON_INFINITY[v]
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return (
            f"{v:.{digits}g}"
            if abs(v) < 1
            else f"{v:,.{digits}f}".rstrip("0").rstrip(".")
        )
    return str(v)


def _limit_text(op: str, lo: float, hi: float) -> str:
    if op == "between":
        return "" if np.isnan(lo) else f"{_fmt(lo)} – {_fmt(hi)}"
    if op in (">=", ">", "=="):
        return "" if np.isnan(lo) else f"{op} {_fmt(lo)}"
    return "" if np.isnan(hi) else f"{op} {_fmt(hi)}"


#: Columns of the HTML tables that hold numbers (right-aligned), by header.
_NUMERIC_COLUMNS = frozenset(
    {
        "value",
        "margin",
        "share",
        "elements",
        "area m2",
        "factor",
        "counted m2",
        "rows",
        "fail",
        "not evaluated",
        "pass",
        "not applicable",
    }
)


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    classes: Iterable[str] | None = None,
) -> str:
    """An HTML table; columns named in :data:`_NUMERIC_COLUMNS` are right-aligned."""
    num = [h in _NUMERIC_COLUMNS for h in header]
    out = ["<table><thead><tr>"]
    out += [f"<th>{_E(str(h))}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    cls_iter = iter(classes) if classes is not None else None
    for row in rows:
        cls = next(cls_iter) if cls_iter is not None else ""
        out.append(f'<tr class="{_E(cls)}">' if cls else "<tr>")
        for v, isnum in zip(row, num, strict=True):
            td = '<td class="num">' if isnum else "<td>"
            out.append(f"{td}{_E(_fmt(v))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _svg_paths(geoms: Any, x0: float, y1: float, k: float) -> list[str]:
    """SVG path data per polygon (y flipped), rounded to 0.1 px."""
    out = []
    for g in geoms:
        parts = []
        polys = getattr(g, "geoms", [g])
        for p in polys:
            if p.is_empty:
                continue
            for ring in [p.exterior, *p.interiors]:
                xy = np.asarray(ring.coords)[:, :2]
                px = (xy[:, 0] - x0) * k
                py = (y1 - xy[:, 1]) * k
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        out.append(" ".join(parts))
    return out


def _map_svg(report: ComplianceReport, status: pd.Series, width: int = 760) -> str:
    twin = report.twin
    parcels = twin.parcels
    if not len(parcels):
        return "<p>No parcels to map.</p>"
    layers = [parcels, twin.buildings, twin.greens]
    bounds = np.array([layer.total_bounds for layer in layers if len(layer)])
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    k = width / max(x1 - x0, 1e-9)
    height = max(1, round((y1 - y0) * k))
    ids = report.context.ids("parcel")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="parcels by result">'
    ]
    paths = _svg_paths(parcels.geometry.array, x0, y1, k)
    for pid, d in zip(ids, paths, strict=True):
        st = str(status.get(pid, "not_applicable"))
        out.append(
            f'<path d="{d}" fill="{_COLOURS[st]}" stroke="#555" stroke-width="1" '
            f'fill-rule="evenodd"><title>{_E(str(pid))}: {_E(_LABELS[st])}</title>'
            "</path>"
        )
    greens = twin.greens
    if len(greens):
        for d in _svg_paths(greens.geometry.array, x0, y1, k):
            out.append(
                f'<path d="{d}" fill="#2e7d32" fill-opacity="0.25" stroke="none" '
                'fill-rule="evenodd"/>'
            )
    for d in _svg_paths(twin.buildings.geometry.array, x0, y1, k):
        out.append(
            f'<path d="{d}" fill="#455a64" fill-opacity="0.55" stroke="#263238" '
            'stroke-width="0.6" fill-rule="evenodd"/>'
        )
    pts = shapely.point_on_surface(np.asarray(parcels.geometry.array))
    for pid, p in zip(ids, pts, strict=True):
        px, py = (p.x - x0) * k, (y1 - p.y) * k
        out.append(
            f'<text x="{px:.1f}" y="{py:.1f}" font-size="12" text-anchor="middle" '
            f'fill="#000" stroke="#fff" stroke-width="3" paint-order="stroke">'
            f"{_E(str(pid))}</text>"
        )
    # scale bar
    bar = 10 ** math.floor(math.log10(max((x1 - x0) / 4, 1.0)))
    out.append(
        f'<line x1="10" y1="{height - 12}" x2="{10 + bar * k:.1f}" y2="{height - 12}" '
        'stroke="#000" stroke-width="2"/>'
        f'<text x="10" y="{height - 16}" font-size="11">{bar:g} m</text>'
    )
    out.append("</svg>")
    legend = "".join(
        f'<span class="badge" style="background:{_COLOURS[s]}">{_E(_LABELS[s])}</span>'
        for s in STATUSES
    )
    return "".join(out) + f"<p>{legend} buildings dark grey, greens green.</p>"


def _render_html(report: ComplianceReport) -> str:
    twin = report.twin
    book = report.rulebook
    rows = report.rows
    counts = report.counts()
    meta = twin.metadata
    title = f"Compliance report: {twin.name} — {book.id}"
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_E(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_E(title)}</h1>",
        f'<p class="note">{_E(book.title)}. Chain: {_E(" > ".join(book.chain))}. '
        f"Made {_E(report.created)} by cim-twin; CRS {_E(twin.crs.to_string())}.</p>",
        '<div class="banner"><b>Advisory.</b> Computed from the twin\'s data with '
        "open methods; values marked <i>unverified</i> rest on figures not "
        "confirmed from the primary text of the standard. Compliance rulings "
        "need certified software and the authority's review.</div>",
    ]
    sources = meta.get("sources", [])
    if sources:
        items = "".join(
            f"<li>{_E(str(s.get('name', '')))}"
            + (f" — {_E(str(s['attribution']))}" if s.get("attribution") else "")
            + (f" ({_E(str(s['licence']))})" if s.get("licence") else "")
            + (f". {_E(str(s['note']))}" if s.get("note") else "")
            + "</li>"
            for s in sources
            if isinstance(s, Mapping)
        )
        parts.append(f"<p>Data:</p><ul>{items}</ul>")

    # Summary
    parts.append("<h2>Summary</h2><p>")
    parts += [
        f'<span class="badge {s}">{_E(_LABELS[s])}: {counts[s]:,}</span>'
        for s in STATUSES
    ]
    parts.append("</p>")
    plan = ", ".join(
        f"{k} = {v} ({report.planning_sources.get(k, '')})"
        for k, v in report.planning.items()
    )
    parts.append(f'<p class="note">Planning parameters: {_E(plan)}.</p>')
    if book.overrides:
        parts.append(
            "<p>Overrides of the rulebook:</p><ul>"
            + "".join(
                f"<li>{_E(o if len(o) <= 300 else o[:300] + ' …')}</li>"
                for o in book.overrides
            )
            + "</ul>"
        )

    names = dict(
        zip(
            report.context.ids("parcel"),
            twin.parcels["name"].astype("str").to_numpy()
            if "name" in twin.parcels.columns
            else [""] * len(twin.parcels),
            strict=True,
        )
    )
    land = dict(
        zip(
            report.context.ids("parcel"),
            twin.parcels["land_use"].astype("str").to_numpy(),
            strict=True,
        )
    )
    psum = report.summary("parcel")
    status_by_parcel = psum["status"] if len(psum) else pd.Series(dtype="str")
    parts.append("<h2>Parcels</h2>")
    parts.append(_map_svg(report, status_by_parcel))
    if len(psum):
        classes = report.context.classes("parcel")
        parts.append(
            _table(
                [
                    "parcel",
                    "name",
                    "land use",
                    "storey class",
                    "result",
                    "fail",
                    "not evaluated",
                    "pass",
                    "not applicable",
                ],
                (
                    [
                        pid,
                        names.get(pid, ""),
                        land.get(pid, ""),
                        classes.loc[pid, "storey_class"],
                        _LABELS[r["status"]],
                        r["fail"],
                        r["not_evaluated"],
                        r["pass"],
                        r["not_applicable"],
                    ]
                    for pid, r in psum.iterrows()
                ),
                classes=psum["status"].tolist(),
            )
        )

    # Rules per feature
    parts.append("<h2>Results by rule</h2>")
    shown = rows[rows["status"] != "not_applicable"]
    header = [
        "rule",
        "indicator",
        "value",
        "limit",
        "unit",
        "result",
        "margin",
        "basis",
        "clause",
        "verified",
        "inputs",
    ]
    for scope in ("site", "parcel", "building", "dwelling"):
        sub = shown[shown["scope"] == scope]
        if not len(sub):
            continue
        ids = [i for i in report.context.ids(scope) if i in set(sub["feature_id"])]
        parts.append(f"<h3>{_E(scope.capitalize())}s</h3>")
        if scope in ("building", "dwelling"):
            parts.append(_compact(sub, ids))
            continue
        grouped = dict(tuple(sub.groupby("feature_id", sort=False)))
        for fid in ids:
            g = grouped[fid]
            label = f"{fid} {names.get(fid, '')}".strip() if scope == "parcel" else fid
            parts.append(f"<h4>{_E(label)}</h4>")
            parts.append(
                _table(
                    header,
                    (
                        [
                            r.rule_id,
                            r.indicator,
                            r.value,
                            _limit_text(r.op, r.limit_min, r.limit_max),
                            r.unit,
                            _LABELS[r.status] + (f" ({r.reason})" if r.reason else ""),
                            r.margin,
                            r.basis,
                            r.clause,
                            r.verified,
                            r.unverified_inputs or "verified",
                        ]
                        for r in g.itertuples()
                    ),
                    classes=g["status"].tolist(),
                )
            )

    # FAR breakdown
    far_rows = rows[(rows["indicator"] == "far") & (rows["scope"] == "parcel")]
    if len(far_rows):
        parts.append("<h2>FAR breakdown</h2>")
        parts.append(
            '<p class="note">FAR-counted floor area above ground of each parcel, by '
            "building, element kind and the area rule that decided it; a building "
            "crossing a parcel line counts by the share of its footprint inside. "
            "Rows of unverified rules are marked.</p>"
        )
        bd = report.far_breakdown("parcel")
        area = dict(
            zip(
                report.context.ids("parcel"),
                shapely.area(np.asarray(twin.parcels.geometry.array)),
                strict=True,
            )
        )
        groups = dict(tuple(bd.groupby("zone_id", sort=False)))
        for pid in dict.fromkeys(far_rows["feature_id"]):
            g = groups.get(pid)
            if g is None:
                continue
            total = float(g["counted_m2"].sum())
            parts.append(
                f"<h4>{_E(str(pid))} {_E(names.get(pid, ''))}: "
                f"{total:,.1f} m2 / {area[pid]:,.1f} m2 = "
                f"FAR {total / area[pid]:.3f}</h4>"
            )
            parts.append(
                _table(
                    [
                        "building",
                        "share",
                        "kind",
                        "rule",
                        "clause",
                        "verified",
                        "elements",
                        "area m2",
                        "factor",
                        "counted m2",
                    ],
                    (
                        [
                            r.building_id,
                            r.share,
                            r.kind,
                            r.rule_id,
                            r.clause,
                            r.verified,
                            r.elements,
                            r.area_m2,
                            r.factor,
                            r.counted_m2,
                        ]
                        for r in g.itertuples()
                    ),
                    classes=["" if v else "unverified" for v in g["verified"]],
                )
            )

    # Not evaluated
    ne = rows[rows["status"] == "not_evaluated"]
    if len(ne):
        parts.append("<h2>Not evaluated</h2>")
        agg = (
            ne.groupby(["rule_id", "reason"], sort=False)
            .size()
            .reset_index(name="rows")
        )
        parts.append(
            _table(
                ["rule", "reason", "rows"],
                agg.itertuples(index=False),
            )
        )

    # Unverified
    parts.append("<h2>Unverified values</h2>")
    unv = report.unverified()
    if len(unv):
        parts.append(
            '<p class="note">Rules whose values were not confirmed from the primary '
            "text, used in this report. Treat their results as provisional.</p>"
        )
        parts.append(
            _table(
                ["kind", "rule", "clause", "rulebook", "rows", "note"],
                unv.itertuples(index=False),
            )
        )
    inputs = rows.loc[rows["unverified_inputs"] != "", "unverified_inputs"]
    if len(inputs):
        labels = sorted({p for s in inputs for p in str(s).split("; ") if p})
        parts.append(
            "<p>Unverified inputs behind some values:</p><ul>"
            + "".join(f"<li>{_E(x)}</li>" for x in labels)
            + "</ul>"
        )
    if not len(unv) and not len(inputs):
        parts.append("<p>None.</p>")
    parts.append(f'<p class="note">{_E(SOURCE_TAGS)}</p>')
    parts.append("</body></html>")
    return "".join(parts)


def _compact(sub: pd.DataFrame, ids: Sequence[str]) -> str:
    """Building-level rows: one table, one row per (building, rule).

    With the same basis and inputs columns as the parcel tables: what
    produced each value, and its unverified inputs (``verified`` if none).
    """
    order = {fid: i for i, fid in enumerate(ids)}
    sub = sub.assign(_o=sub["feature_id"].map(order)).sort_values(["_o", "rule_id"])
    return _table(
        [
            "building",
            "rule",
            "indicator",
            "value",
            "limit",
            "unit",
            "result",
            "margin",
            "basis",
            "verified",
            "inputs",
        ],
        (
            [
                r.feature_id,
                r.rule_id,
                r.indicator,
                r.value,
                _limit_text(r.op, r.limit_min, r.limit_max),
                r.unit,
                _LABELS[r.status] + (f" ({r.reason})" if r.reason else ""),
                r.margin,
                r.basis,
                r.verified,
                r.unverified_inputs or "verified",
            ]
            for r in sub.itertuples()
        ),
        classes=sub["status"].tolist(),
    )
