"""Locate the bundled ``assets/`` folder, in a checkout or an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["asset_path"]


@cache
def _root() -> Path:
    here = Path(__file__).resolve().parent
    # A wheel ships assets/ inside the package as cim/_assets; a checkout
    # (editable install) keeps them at the repository's top level.
    for candidate in (here / "_assets", here.parent / "assets"):
        if candidate.is_dir():
            return candidate
    msg = f"cim-twin assets not found next to {here}; reinstall cim-twin"
    raise FileNotFoundError(msg)


def asset_path(*parts: str) -> Path:
    """Path of a bundled asset, e.g. ``asset_path("facility_categories.csv")``.

    Parameters
    ----------
    *parts
        Path components below ``assets/``.

    Returns
    -------
    pathlib.Path
    """
    return _root().joinpath(*parts)
