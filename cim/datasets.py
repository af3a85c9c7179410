"""Bundled sample twins.

- ``beijing_haidian_cau``: a real OpenStreetMap extract (ODbL).
  ``assets/samples/`` ships the original extract and the twin GeoPackage built
  from it by ``cim import osm`` (so loading needs no optional dependency);
  ``tests/test_datasets.py`` rebuilds the GeoPackage and checks they agree.
- ``hangzhou_pilot``: an illustrative pilot design in Hangzhou (EPSG:4549),
  authored for demonstration (``assets/pilot/``, made by
  ``tools/make_pilot.py``); not a real scheme.
- ``nl_3dbag_houses``: ten Dutch houses of the 3D BAG as CityJSON 2.0 at LoD
  1.2, 1.3 and 2.2 (cjio test data, MIT; 3D BAG, CC BY 4.0), read by
  `cim.io.cityjson.twin_from_cityjson` on loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    "nl_3dbag_houses": {
        "cityjson": "samples/3dbag_multi_lod.city.json",
        "crs": 28992,
        "description": (
            "Ten Dutch houses of the 3D BAG (CityJSON 2.0, RD New), each at "
            "LoD 1.2, 1.3 and 2.2: pitched roofs, attics and annexes for the "
            "LoD2 take-off (cjio test data, MIT; 3D BAG, CC BY 4.0)."
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
        ``"gpkg"`` (the twin), ``"osm"`` (the original extract) or
        ``"cityjson"`` (a CityJSON sample).

    Returns
    -------
    pathlib.Path
    """
    entry = _entry(name)
    if kind not in ("gpkg", "osm", "cityjson"):
        msg = f"invalid kind {kind!r}; expected 'gpkg', 'osm' or 'cityjson'"
        raise ValueError(msg)
    if kind not in entry:
        msg = f"sample {name!r} has no {kind!r} file"
        raise ValueError(msg)
    return asset_path(str(entry[kind]))


def load(name: str = "beijing_haidian_cau", **kwargs: Any) -> Twin:
    """Load a bundled sample community as a :class:`~cim.Twin`.

    Parameters
    ----------
    name
        Sample name, one of :func:`available`.
    **kwargs
        For a CityJSON sample, passed to :func:`cim.io.cityjson.twin_from_cityjson`
        (e.g. ``lod="1.2"``; default the highest LoD).

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
    entry = _entry(name)
    if "gpkg" not in entry:
        from cim.io.cityjson import twin_from_cityjson

        kwargs.setdefault("crs", entry["crs"])
        kwargs.setdefault("name", name)
        return twin_from_cityjson(get_path(name, kind="cityjson"), **kwargs)
    from cim.io.gpkg import read_gpkg

    if kwargs:
        msg = f"sample {name!r} is a stored twin; it takes no options"
        raise TypeError(msg)
    return read_gpkg(get_path(name))
