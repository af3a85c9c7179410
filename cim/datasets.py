"""Bundled sample twins.

- ``beijing_haidian_cau``: a real OpenStreetMap extract (ODbL).
  ``assets/samples/`` ships the original extract and the twin GeoPackage built
  from it by ``cim import osm`` (so loading needs no optional dependency);
  ``tests/test_datasets.py`` rebuilds the GeoPackage and checks they agree.
- ``hangzhou_pilot``: an illustrative pilot design in Hangzhou (EPSG:4549),
  authored for demonstration (``assets/pilot/``, made by
  ``tools/make_pilot.py``); not a real scheme.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cim._assets import asset_path

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = ["available", "get_path", "load"]

_SAMPLES = {
    "beijing_haidian_cau": {
        "gpkg": "samples/beijing_haidian_cau.gpkg",
        "osm": "samples/beijing_haidian_cau.osm.bz2",
        "crs": 32650,
        "description": (
            "Beijing, Haidian: residential compounds and campus around China "
            "Agricultural University east campus (OSM, 2026-03)."
        ),
    },
    "hangzhou_pilot": {
        "gpkg": "pilot/hangzhou_pilot.gpkg",
        "crs": 4549,
        "description": (
            "An illustrative pilot design for a site in Hangzhou (EPSG:4549), "
            "authored for demonstration: six parcels, towers and slabs with "
            "balconies, bay windows and a stilt floor, a kindergarten, a "
            "neighbourhood centre, 3D greening and parking. Not a real scheme."
        ),
    },
}


def available() -> list[str]:
    """Names of the bundled samples."""
    return sorted(_SAMPLES)


def _entry(name: str) -> dict[str, object]:
    if name not in _SAMPLES:
        msg = f"no sample {name!r}; available: {', '.join(available())}"
        raise ValueError(msg)
    return _SAMPLES[name]


def get_path(name: str, *, kind: str = "gpkg") -> Path:
    """Path of a bundled sample file.

    Parameters
    ----------
    name
        Sample name, one of :func:`available`.
    kind
        ``"gpkg"`` (the twin) or ``"osm"`` (the original extract).

    Returns
    -------
    pathlib.Path
    """
    entry = _entry(name)
    if kind not in ("gpkg", "osm"):
        msg = f"invalid kind {kind!r}; expected 'gpkg' or 'osm'"
        raise ValueError(msg)
    if kind not in entry:
        msg = f"sample {name!r} has no {kind!r} file"
        raise ValueError(msg)
    return asset_path(str(entry[kind]))


def load(name: str = "beijing_haidian_cau") -> Twin:
    """Load a bundled sample community as a :class:`~cim.Twin`.

    Parameters
    ----------
    name
        Sample name, one of :func:`available`.

    Returns
    -------
    Twin

    Examples
    --------
    >>> import cim
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> twin.name
    'beijing_haidian_cau'
    """
    from cim.io.gpkg import read_gpkg

    return read_gpkg(get_path(name))
