"""Branches: scenarios saved in the baseline twin's GeoPackage, with their edit log.

A branch is a scenario kept beside the twin it edits: one row of the
attribute table ``cim_scenarios`` in the twin's GeoPackage, holding the
scenario's name, description, the content hash of the baseline
(:func:`twin_hash`), the edit log as TOML text (the planners' form, see
:mod:`scenarios.scenario`) and the time it was saved. The twin's own layers
are not touched, so QGIS and :func:`cim.read` still open the file as the
baseline.

Saving copies the GeoPackage to a temporary file next to it, writes the table
there and moves the copy over the original only when complete
(:func:`os.replace`), so a crash leaves the file as it was. Checking out a
branch (:func:`checkout`) reads the baseline and re-applies the edits, after
checking that the baseline's content hash is still the one the branch was
saved against (:class:`~scenarios.errors.BaselineChangedError` otherwise).
Re-saving the twin itself (:meth:`cim.Twin.save`) writes a fresh file without
the branches.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from scenarios._files import atomic_path
from scenarios.errors import BaselineChangedError, ScenarioError
from scenarios.scenario import Scenario

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "BRANCH_TABLE",
    "checkout",
    "delete_branch",
    "list_branches",
    "load_branch",
    "save_branch",
    "twin_hash",
]

#: Name of the attribute table of branches in the GeoPackage.
BRANCH_TABLE = "cim_scenarios"
#: Version of the branch table's layout.
BRANCH_FORMAT_VERSION = 1
_COLUMNS = (
    "name",
    "description",
    "base_hash",
    "edits_toml",
    "n_edits",
    "saved",
    "format_version",
)


# -- content hash -------------------------------------------------------------------


def _canonical_column(series: pd.Series) -> Any:
    """A column as an array hashable by pandas, independent of its storage dtype."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(
        series.dtype
    ):
        return pd.Series(series.to_numpy(dtype="float64", na_value=np.nan))
    if str(series.dtype) == "geometry":
        wkb = shapely.to_wkb(np.asarray(series.array, dtype=object), hex=True)
        return pd.Series(wkb, dtype=object).fillna("\x00")
    values = series.astype(object).where(series.notna(), None)
    return values.map(lambda v: "\x00" if v is None else repr(v))


def _hash_frame(h: Any, name: str, frame: pd.DataFrame) -> None:
    h.update(f"\x01{name}:{len(frame)}".encode())
    for col in sorted(frame.columns, key=str):
        canon = _canonical_column(frame[col])
        h.update(f"\x02{col}".encode())
        h.update(pd.util.hash_pandas_object(canon, index=False).to_numpy().tobytes())


def twin_hash(twin: Twin) -> str:
    """Content hash of a twin: its CRS, layers, element table and street network.

    Metadata (name, times, sources) is left out, so saving and re-reading a
    twin keeps its hash; any change of a value, a geometry, a row or a column
    changes it. Values are hashed by what they are, not how they are stored
    (an ``Int64`` 3 and a ``float64`` 3.0 hash alike).

    Parameters
    ----------
    twin
        The twin.

    Returns
    -------
    str
        SHA-256 hex digest.

    Examples
    --------
    >>> import cim
    >>> from scenarios.store import twin_hash
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> len(twin_hash(twin))
    64
    """
    from cim.network.graph import graph_to_gdfs

    h = hashlib.sha256()
    h.update(twin.crs.to_wkt().encode())
    for name, frame in twin.layers.items():
        _hash_frame(h, name, frame)
    _hash_frame(h, "elements", twin.elements)
    nodes, edges = graph_to_gdfs(twin.network)
    _hash_frame(h, "network_nodes", nodes)
    _hash_frame(h, "network_edges", edges)
    return h.hexdigest()


# -- the branch table ------------------------------------------------------------------


def _read_table(path: Path) -> pd.DataFrame:
    import pyogrio

    layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    if BRANCH_TABLE not in layers:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _COLUMNS})
    table = pyogrio.read_dataframe(path, layer=BRANCH_TABLE, read_geometry=False)
    return pd.DataFrame(table)


def _check_gpkg(path: str | os.PathLike[str]) -> Path:
    from cim.errors import InputFileError
    from cim.io.files import check_input_file

    p = check_input_file(path, what="GeoPackage")
    with open(p, "rb") as f:
        head = f.read(16)
    if head != b"SQLite format 3\x00":
        msg = f"{p}: not a GeoPackage (no SQLite header); give the twin's .gpkg file"
        raise InputFileError(msg)
    return p


def list_branches(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The branches saved in a twin GeoPackage.

    Parameters
    ----------
    path
        The GeoPackage; it is only read.

    Returns
    -------
    pandas.DataFrame
        One row per branch: ``name``, ``description``, ``base_hash``,
        ``n_edits``, ``saved`` (ISO time, UTC) and ``edits_toml``.
    """
    p = _check_gpkg(path)
    table = _read_table(p)
    return table[[c for c in _COLUMNS if c in table.columns]].reset_index(drop=True)


def save_branch(
    path: str | os.PathLike[str],
    scenario: Scenario,
    *,
    overwrite: bool = False,
    validate: bool = True,
) -> Scenario:
    """Save a scenario as a branch in the GeoPackage of its baseline twin.

    The scenario is pinned to the twin in ``path`` (its ``base_hash`` set to
    the twin's content hash; a scenario pinned to another twin is refused)
    and, unless ``validate`` is false, applied once to check that its edits
    fit. The file is rewritten atomically; its layers are unchanged.

    Parameters
    ----------
    path
        A twin GeoPackage (written by :meth:`cim.Twin.save`).
    scenario
        The plan.
    overwrite
        Replace a branch of the same name.
    validate
        Apply the edits to the baseline before saving.

    Returns
    -------
    Scenario
        The scenario as saved (pinned).

    Raises
    ------
    ScenarioError
        If a branch of that name exists and ``overwrite`` is false, or an edit
        does not fit the baseline.
    BaselineChangedError
        If the scenario is pinned to a different baseline.
    """
    from cim.io.gpkg import read_gpkg

    p = _check_gpkg(path)
    baseline = read_gpkg(p)
    current = twin_hash(baseline)
    if scenario.base_hash is not None and scenario.base_hash != current:
        msg = (
            f"scenario {scenario.name!r} is pinned to baseline "
            f"{scenario.base_hash[:12]}, but the twin in {p.name} is {current[:12]}; "
            "save it with the twin it was written for, or re-pin it with "
            "scenario.pinned(twin)"
        )
        raise BaselineChangedError(msg)
    pinned = scenario.pinned(baseline) if scenario.base_hash is None else scenario
    if validate:
        pinned.apply(baseline, check_base=False)
    table = _read_table(p)
    if len(table) and (table["name"] == scenario.name).any():
        if not overwrite:
            msg = (
                f"{p.name} already has a branch {scenario.name!r}; pass "
                "overwrite=True to replace it, or choose another name"
            )
            raise ScenarioError(msg)
        table = table[table["name"] != scenario.name]
    row = {
        "name": pinned.name,
        "description": pinned.description,
        "base_hash": pinned.base_hash,
        "edits_toml": pinned.to_toml(),
        "n_edits": len(pinned.edits),
        "saved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "format_version": BRANCH_FORMAT_VERSION,
    }
    _write_table(p, pd.concat([table, pd.DataFrame([row])], ignore_index=True))
    return pinned


def _write_table(p: Path, table: pd.DataFrame) -> None:
    import pyogrio

    frame = pd.DataFrame(
        {
            c: table[c].astype("int64" if c in ("n_edits", "format_version") else str)
            for c in _COLUMNS
        }
    )
    with atomic_path(p, suffix=".tmp.gpkg") as tmp:
        shutil.copy2(p, tmp)
        if len(frame):
            pyogrio.write_dataframe(frame, tmp, layer=BRANCH_TABLE, driver="GPKG")
        else:
            _drop_table(tmp)


def _drop_table(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(f'DROP TABLE IF EXISTS "{BRANCH_TABLE}"')
            for t in ("gpkg_contents", "gpkg_ogr_contents"):
                con.execute(f"DELETE FROM {t} WHERE table_name = ?", (BRANCH_TABLE,))
    finally:
        con.close()


def _row(path: Path, name: str) -> pd.Series:
    table = _read_table(path)
    hit = table[table["name"] == name] if len(table) else table
    if not len(hit):
        known = ", ".join(repr(n) for n in table.get("name", [])) or "none"
        msg = f"{path.name} has no branch {name!r} (branches: {known})"
        raise ScenarioError(msg)
    return hit.iloc[0]


def load_branch(path: str | os.PathLike[str], name: str) -> Scenario:
    """The scenario of a branch, as saved (pinned to its baseline).

    Parameters
    ----------
    path
        The twin GeoPackage; it is only read.
    name
        The branch's name.

    Returns
    -------
    Scenario
    """
    p = _check_gpkg(path)
    row = _row(p, name)
    scenario = Scenario.from_toml(str(row["edits_toml"]), source=f"{p.name}:{name}")
    if scenario.base_hash != row["base_hash"]:
        msg = f"{p.name}: branch {name!r} is inconsistent (its hash columns differ)"
        raise ScenarioError(msg)
    return scenario


def checkout(path: str | os.PathLike[str], name: str) -> Twin:
    """The twin of a branch: the baseline in ``path`` with the branch's edits.

    Parameters
    ----------
    path
        The twin GeoPackage; it is only read.
    name
        The branch's name.

    Returns
    -------
    Twin

    Raises
    ------
    BaselineChangedError
        If the twin in ``path`` is no longer the baseline the branch was saved
        against.
    """
    from cim.io.gpkg import read_gpkg

    p = _check_gpkg(path)
    scenario = load_branch(p, name)
    baseline = read_gpkg(p)
    found = twin_hash(baseline)
    if found != scenario.base_hash:
        msg = (
            f"branch {name!r} in {p.name} was saved against baseline "
            f"{str(scenario.base_hash)[:12]}, but the twin there is now {found[:12]}: "
            "the baseline changed since. Check its edits still fit (load_branch), "
            "then save it again with overwrite=True"
        )
        raise BaselineChangedError(msg)
    return scenario.apply(baseline, check_base=False)


def delete_branch(path: str | os.PathLike[str], name: str) -> None:
    """Remove a branch from a twin GeoPackage, atomically.

    Parameters
    ----------
    path
        The twin GeoPackage.
    name
        The branch's name.
    """
    p = _check_gpkg(path)
    _row(p, name)
    table = _read_table(p)
    _write_table(p, table[table["name"] != name])


def branch_summary(path: str | os.PathLike[str]) -> str:
    """The branches of a GeoPackage as text, one line each."""
    table = list_branches(path)
    if not len(table):
        return "no branches"
    lines = []
    for _, r in table.iterrows():
        desc = f" - {r['description']}" if r["description"] else ""
        lines.append(
            f"{r['name']}: {r['n_edits']} edits, baseline {str(r['base_hash'])[:12]}, "
            f"saved {r['saved']}{desc}"
        )
    return "\n".join(lines)
