"""A small TOML writer for scenario files (the standard library only reads TOML).

Scenario files hold strings, numbers, booleans, arrays and inline tables;
this writer emits those, with top-level scalars first and ``[[edits]]``-style
arrays of tables after. Output is read back by :mod:`tomllib` to the same
values (tested).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["dumps"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _key(k: str) -> str:
    return k if _BARE.match(k) else _string(k)


def _string(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, Mapping):
        inner = ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(v, Sequence):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if hasattr(v, "item"):  # numpy scalars
        return _value(v.item())
    msg = f"cannot write {type(v).__name__} {v!r} to TOML"
    raise TypeError(msg)


def _is_table_array(v: Any) -> bool:
    return (
        isinstance(v, Sequence)
        and not isinstance(v, str)
        and len(v) > 0
        and all(isinstance(x, Mapping) for x in v)
    )


def dumps(data: Mapping[str, Any], *, header: str = "") -> str:
    """A TOML document of ``data``.

    Parameters
    ----------
    data
        Top-level keys: scalars, arrays and inline tables, and arrays of tables
        (lists of mappings, written as ``[[key]]`` sections).
    header
        Comment lines put first (without the ``#``).

    Returns
    -------
    str
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    arrays = {k: v for k, v in data.items() if _is_table_array(v)}
    for k, v in data.items():
        if k in arrays or v is None:
            continue
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, tables in arrays.items():
        for table in tables:
            lines.append("")
            lines.append(f"[[{_key(k)}]]")
            for kk, vv in table.items():
                if vv is None:
                    continue
                lines.append(f"{_key(str(kk))} = {_value(vv)}")
    return "\n".join(lines) + "\n"
