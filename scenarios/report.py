"""The comparison report: one self-contained HTML page a planner can hand on.

Inline CSS, pictures embedded as base64 PNG, nothing loaded from the network,
and every piece of text escaped (plan names, descriptions, ids and values come
from users' files).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from scenarios._files import write_text_atomic

if TYPE_CHECKING:
    from scenarios.comparison import Comparison

__all__ = ["Section", "html_report", "is_year_column", "table_html", "write_html"]

#: An extra section of a report: a title and an HTML fragment (already escaped).
Section = tuple[str, str]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;
margin:2em auto;max-width:1200px;color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;
border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #d8d8d8;padding:.25em .55em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.t,th.t{text-align:left}
.up{color:#1a7f37}.down{color:#b42318}.muted{color:#777}.note{font-size:.85em;color:#555}
img{max-width:100%;border:1px solid #eee}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
.rank1{background:#eef8ee}
"""


def _esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def fmt(v: Any, digits: int = 3, *, grouping: bool = True) -> str:
    """A number for display: thousands separators, ``digits`` significant places.

    Parameters
    ----------
    v
        The value; None, NaN and NA show as "–", booleans as yes/no.
    digits
        Significant places of numbers under 1000 that are not whole.
    grouping
        Separate thousands in whole numbers; False for calendar years
        (``1975``, not ``1,975``), see :func:`is_year_column`.

    Returns
    -------
    str
    """
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "–"
    if isinstance(v, (bool,)):
        return "yes" if v else "no"
    if isinstance(v, (int,)) or (
        isinstance(v, float) and v.is_integer() and abs(v) < 1e15
    ):
        return f"{int(v):,}" if grouping else str(int(v))
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    return str(v)


def is_year_column(name: object) -> bool:
    """Whether a column holds calendar years, shown without thousands separators.

    Decided by the name, as the twin's columns are named (``year_built``): a
    column is a calendar year when one of its ``_``-separated words is
    ``year`` (``year``, ``year_built``, ``reference_year``). Durations in
    years are plural by the units convention (``age_years``,
    ``payback_years``) and keep their separators. The dtype cannot tell: a
    year is stored as a plain integer (``Int64``) like any count.

    Parameters
    ----------
    name
        The column name.

    Returns
    -------
    bool
    """
    return "year" in str(name).lower().split("_")


def table_html(
    frame: pd.DataFrame,
    *,
    index: bool = False,
    text_columns: Sequence[str] = (),
    row_class: Sequence[str] | None = None,
) -> str:
    """An escaped HTML table of a DataFrame.

    Parameters
    ----------
    frame
        The table.
    index
        Show the index (its levels become the first columns).
    text_columns
        Columns aligned left (text); other columns are numbers, those of
        calendar years (:func:`is_year_column`) without thousands separators.
    row_class
        A CSS class per row, or None.

    Returns
    -------
    str
    """
    df = frame.reset_index() if index else frame
    text = set(text_columns) | {
        str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c].dtype)
    }
    head = "".join(
        f'<th class="{"t" if str(c) in text else ""}">{_esc(c)}</th>'
        for c in df.columns
    )
    rows = []
    for i, (_, r) in enumerate(df.iterrows()):
        cls = f' class="{_esc(row_class[i])}"' if row_class and row_class[i] else ""
        cells = "".join(
            f'<td class="t">{_esc(r[c])}</td>'
            if str(c) in text
            else f"<td>{_esc(fmt(r[c], grouping=not is_year_column(c)))}</td>"
            for c in df.columns
        )
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def png_img(data: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as base64."""
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{b64}">'


def _indicator_table(cmp: Comparison) -> str:
    wide = cmp.wide("value")
    delta = cmp.wide("delta")
    plans = list(wide.columns)
    head = (
        '<th class="t">indicator</th><th class="t">metric</th><th class="t">unit</th>'
        + "".join(f"<th>{_esc(p)}</th>" for p in plans)
    )
    rows = []
    for key, values in wide.iterrows():
        ind, metric, unit = key
        cells = [f'<td class="t">{_esc(x)}</td>' for x in (ind, metric, unit)]
        for p in plans:
            v = values[p]
            cell = _esc(fmt(v))
            d = delta.loc[key, p]
            if p != "baseline" and isinstance(d, float) and not math.isnan(d) and d:
                cls = "up" if d > 0 else "down"
                sign = "+" if d > 0 else "−"
                cell += f' <span class="{cls}">({sign}{_esc(fmt(abs(d)))})</span>'
            cells.append(f"<td>{cell}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _plans_section(cmp: Comparison) -> str:
    parts = []
    for name in cmp.plans:
        sc = cmp.scenarios.get(name)
        parts.append(f"<h3>{_esc(name)}</h3>")
        if sc is None:
            parts.append('<p class="muted">given as a twin (no edit log)</p>')
        else:
            if sc.description:
                parts.append(f"<p>{_esc(sc.description)}</p>")
            items = "".join(f"<li>{_esc(e.describe())}</li>" for e in sc.edits)
            parts.append(f"<ol>{items}</ol>")
        summary = cmp.diffs[name].summary()
        if len(summary):
            parts.append(table_html(summary, index=True))
            f = cmp.diffs[name].features
            changed = f[f["change"] == "changed"].head(40)
            if len(changed):
                parts.append(
                    "<details><summary>changed features and columns</summary>"
                    + table_html(changed)
                    + "</details>"
                )
        else:
            parts.append('<p class="muted">no changes</p>')
    return "".join(parts)


def html_report(
    cmp: Comparison,
    *,
    title: str | None = None,
    sections: Sequence[Section] = (),
    maps: bool = True,
    map_column: str | None = None,
) -> str:
    """The comparison as a self-contained HTML page.

    Parameters
    ----------
    cmp
        The comparison (:func:`scenarios.compare`).
    title
        Page title; default from the baseline's name.
    sections
        Extra sections after the indicators, as ``(title, html)`` with the
        HTML already escaped (e.g. a renovation ranking).
    maps
        Embed the side-by-side map (needs matplotlib).
    map_column
        Buildings column the maps colour by.

    Returns
    -------
    str
    """
    base = cmp.twins["baseline"]
    heading = title or f"Plans for {base.name}"
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    body = [
        f"<h1>{_esc(heading)}</h1>",
        f'<p class="note">baseline {_esc(base.name)} ({_esc(base.crs.to_string())}); '
        f"{len(cmp.plans)} plans; generated {_esc(now)} by cim-twin.</p>",
    ]
    for sec_title, fragment in sections:
        body.append(f"<h2>{_esc(sec_title)}</h2>{fragment}")
    body.append("<h2>Indicators</h2>")
    body.append(
        '<p class="note">Values per plan, with the change against the baseline in '
        "brackets. Units: see the unit column (count: a number of things).</p>"
    )
    body.append(_indicator_table(cmp))
    if cmp.skipped:
        items = "".join(
            f"<li><b>{_esc(k)}</b>: {_esc(v)}</li>" for k, v in cmp.skipped.items()
        )
        body.append(f'<p class="note">Indicator modules not run:</p><ul>{items}</ul>')
    if maps:
        body.append("<h2>Maps</h2>")
        body.append(png_img(cmp.map_png(column=map_column), "plans side by side"))
    body.append("<h2>Plans and what they change (model compare)</h2>")
    body.append(_plans_section(cmp))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(heading)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def write_html(path: str | os.PathLike[str], text: str) -> Path:
    """Write a report atomically; return the path."""
    return write_text_atomic(path, text)
