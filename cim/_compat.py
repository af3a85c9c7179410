"""Lazy import of optional dependencies with an actionable error."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional_dependency"]


def import_optional_dependency(name: str, *, extra: str) -> ModuleType:
    """Import an optional dependency or explain which extra installs it.

    Parameters
    ----------
    name
        Module name, e.g. ``"osmium"``.
    extra
        The ``cim-twin`` extra that provides it, e.g. ``"osm"``.

    Returns
    -------
    ModuleType
        The imported module.

    Raises
    ------
    ImportError
        If the module is not installed; the message names the extra.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - exercised via monkeypatch
        msg = (
            f"{name!r} is needed for this and is not installed; "
            f"install it with: pip install 'cim-twin[{extra}]'"
        )
        raise ImportError(msg) from exc
