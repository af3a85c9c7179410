"""Model compare: the features a plan adds, removes and changes, layer by layer.

:func:`diff` joins each layer of two twins on its id column (``building_id``,
``green_id`` ...; ``element_id`` for area elements, ``node_id`` and
``(u, v, key)`` for the street network) and compares the columns of the
features both have, vectorised per column: a feature is *changed* when any
value or its geometry differs (missing equals missing). This is the "model
compare" (模型比对) that CIM platform standards ask of a planning scheme
against the current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from cim.layers import SCHEMAS

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = ["DIFF_COLUMNS", "TwinDiff", "diff"]

#: Columns of :attr:`TwinDiff.features`.
DIFF_COLUMNS = ("layer", "id", "change", "columns")
#: The kinds of change, in display order.
CHANGES = ("added", "removed", "changed")
#: Tolerance of geometry equality [m].
GEOMETRY_TOLERANCE_M = 1e-9


@dataclass(frozen=True)
class TwinDiff:
    """What changed between two twins.

    Parameters
    ----------
    features
        One row per added, removed or changed feature: ``layer``, ``id``
        (as text; ``"u->v/key"`` for network edges), ``change`` (``added``,
        ``removed``, ``changed``) and ``columns`` (the changed columns,
        comma-separated, ``geometry`` included, in the baseline's column
        order and then new columns alphabetically; empty for added and
        removed features).
    """

    features: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Counts of added, removed and changed features per layer.

        Returns
        -------
        pandas.DataFrame
            Indexed by layer, one column per kind of change.
        """
        f = self.features
        table = pd.crosstab(f["layer"], f["change"]) if len(f) else pd.DataFrame()
        for c in CHANGES:
            if c not in table.columns:
                table[c] = 0
        return table[list(CHANGES)].astype("int64")

    def changed_columns(self, layer: str) -> pd.Series:
        """How many features of ``layer`` changed in each column."""
        f = self.features
        cols = f.loc[(f["layer"] == layer) & (f["change"] == "changed"), "columns"]
        return cols.str.split(", ").explode().value_counts()

    def __len__(self) -> int:
        return len(self.features)

    def __str__(self) -> str:
        if not len(self.features):
            return "no changes"
        lines = []
        for layer, row in self.summary().iterrows():
            parts = [f"{row[c]} {c}" for c in CHANGES if row[c]]
            lines.append(f"{layer}: {', '.join(parts)}")
        return "\n".join(lines)


def _equal(a: pd.Series, b: pd.Series) -> Any:
    """Elementwise equality of two aligned columns; missing equals missing."""
    if str(a.dtype) == "geometry" or str(b.dtype) == "geometry":
        ga = np.asarray(a.array, dtype=object)
        gb = np.asarray(b.array, dtype=object)
        na, nb = shapely.is_missing(ga), shapely.is_missing(gb)
        eq = shapely.equals_exact(ga, gb, tolerance=GEOMETRY_TOLERANCE_M)
        return np.where(na | nb, na & nb, eq)
    num = (
        pd.api.types.is_numeric_dtype(a.dtype) or pd.api.types.is_bool_dtype(a.dtype)
    ) and (
        pd.api.types.is_numeric_dtype(b.dtype) or pd.api.types.is_bool_dtype(b.dtype)
    )
    if num:
        x = a.to_numpy(dtype="float64", na_value=np.nan)
        y = b.to_numpy(dtype="float64", na_value=np.nan)
        return (x == y) | (np.isnan(x) & np.isnan(y))
    na, nb = a.isna().to_numpy(), b.isna().to_numpy()
    x = a.astype(object).map(repr).to_numpy()
    y = b.astype(object).map(repr).to_numpy()
    return np.where(na | nb, na & nb, x == y)


def _missing_like(n: int) -> pd.Series:
    return pd.Series([None] * n, dtype=object)


def _compare_frames(
    layer: str,
    old: pd.DataFrame,
    new: pd.DataFrame,
    ids_old: pd.Series,
    ids_new: pd.Series,
) -> pd.DataFrame:
    """Added, removed and changed rows of one layer, joined on ids."""
    ids_old = ids_old.astype(str).reset_index(drop=True)
    ids_new = ids_new.astype(str).reset_index(drop=True)
    in_new = ids_old.isin(ids_new).to_numpy()
    in_old = ids_new.isin(ids_old).to_numpy()
    rows: list[pd.DataFrame] = [
        pd.DataFrame(
            {"layer": layer, "id": ids_new[~in_old], "change": "added", "columns": ""}
        ),
        pd.DataFrame(
            {"layer": layer, "id": ids_old[~in_new], "change": "removed", "columns": ""}
        ),
    ]
    common = ids_old[in_new]
    if len(common):
        pos_old = pd.Index(ids_old).get_indexer(common)
        pos_new = pd.Index(ids_new).get_indexer(common)
        a = old.reset_index(drop=True).iloc[pos_old].reset_index(drop=True)
        b = new.reset_index(drop=True).iloc[pos_new].reset_index(drop=True)
        # Columns in the baseline's order, then the new ones sorted (graph
        # attributes have no stable order).
        new_cols = sorted((c for c in b.columns if c not in a.columns), key=str)
        columns = [*a.columns, *new_cols]
        differs = np.zeros((len(common), len(columns)), dtype=bool)
        for j, c in enumerate(columns):
            ca = a[c] if c in a.columns else _missing_like(len(a))
            cb = b[c] if c in b.columns else _missing_like(len(b))
            differs[:, j] = ~np.asarray(_equal(ca, cb), dtype=bool)
        hit = differs.any(axis=1)
        if hit.any():
            names = np.array([str(c) for c in columns], dtype=object)
            listed = [", ".join(names[row]) for row in differs[hit]]
            rows.append(
                pd.DataFrame(
                    {
                        "layer": layer,
                        "id": common.to_numpy()[hit],
                        "change": "changed",
                        "columns": listed,
                    }
                )
            )
    return pd.concat([r for r in rows if len(r)] or rows[:1], ignore_index=True)


def _edge_ids(edges: pd.DataFrame) -> pd.Series:
    if not len(edges):
        return pd.Series([], dtype=str)
    return (
        edges["u"].astype(str)
        + "->"
        + edges["v"].astype(str)
        + "/"
        + edges["key"].astype(str)
    )


def diff(
    baseline: Twin, proposed: Twin, *, layers: Sequence[str] | None = None
) -> TwinDiff:
    """Added, removed and changed features of ``proposed`` against ``baseline``.

    Parameters
    ----------
    baseline
        The twin before.
    proposed
        The twin after (e.g. ``scenario.apply(baseline)``).
    layers
        Layers to compare; default all: the vector layers, ``elements``,
        ``network_nodes`` and ``network_edges``.

    Returns
    -------
    TwinDiff

    Examples
    --------
    >>> import cim
    >>> from scenarios import Scenario, diff
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> bid = twin.buildings["building_id"].iloc[0]
    >>> d = diff(twin, Scenario("p").demolish([bid]).apply(twin))
    >>> d.features[["layer", "change"]].value_counts().to_dict()
    {('buildings', 'removed'): 1}
    """
    from cim.network.graph import graph_to_gdfs

    names = (
        list(layers)
        if layers is not None
        else [
            *SCHEMAS,
            "elements",
            "network_nodes",
            "network_edges",
        ]
    )
    frames = []
    net: tuple[Any, Any] | None = None
    for name in names:
        if name in SCHEMAS:
            old, new = baseline[name], proposed[name]
            if old is new:  # copy-on-write: an untouched layer is shared
                continue
            id_col = SCHEMAS[name].id_column
            frames.append(_compare_frames(name, old, new, old[id_col], new[id_col]))
        elif name == "elements":
            old, new = baseline.elements, proposed.elements
            if old is new:
                continue
            frames.append(
                _compare_frames(name, old, new, old["element_id"], new["element_id"])
            )
        elif name in ("network_nodes", "network_edges"):
            if baseline.network is proposed.network:
                continue
            if net is None:
                net = (graph_to_gdfs(baseline.network), graph_to_gdfs(proposed.network))
            (n0, e0), (n1, e1) = net
            if name == "network_nodes":
                frames.append(
                    _compare_frames(name, n0, n1, n0["node_id"], n1["node_id"])
                )
            else:
                frames.append(
                    _compare_frames(name, e0, e1, _edge_ids(e0), _edge_ids(e1))
                )
        else:
            known = ", ".join([*SCHEMAS, "elements", "network_nodes", "network_edges"])
            msg = f"invalid layer {name!r}; expected one of {known}"
            raise ValueError(msg)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not len(out):
        out = pd.DataFrame({c: pd.Series([], dtype=str) for c in DIFF_COLUMNS})
    out = out[list(DIFF_COLUMNS)].astype(str)
    return TwinDiff(features=out.reset_index(drop=True))
