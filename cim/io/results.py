"""GeoPackages of analysis results: sunlight checks and impacts, travel circles.

Each writer puts the tables of a result in the layers of one new GeoPackage
and moves it over the target only once it is complete
(`cim.io.files.atomic_path`): a failed write leaves an existing file as it was
and no temporary file behind.

- `write_sunlight_gpkg` writes `cim.sunlight.SunlightCheck.layers` and
  `cim.sunlight.SunlightImpact.layers` (``sun.gpkg`` of ``cim sunlight``).
- `write_circles_gpkg` writes the buildings, facilities and isochrones of
  `cim.network.circles.TravelCircles` (``circles.gpkg`` of ``cim circles``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio

from cim.io.files import atomic_path

if TYPE_CHECKING:
    from cim.network.circles import TravelCircles
    from cim.sunlight import SunlightCheck, SunlightImpact

__all__ = ["write_circles_gpkg", "write_sunlight_gpkg"]

# GDAL picks the driver by suffix; the temporary file must end in .gpkg.
_TMP_SUFFIX = ".tmp.gpkg"


def write_sunlight_gpkg(
    path: str | os.PathLike[str],
    *,
    check: SunlightCheck | None = None,
    impact: SunlightImpact | None = None,
) -> Path:
    """Write a sunlight check and/or impact to one GeoPackage, atomically.

    The layers are those of `cim.sunlight.SunlightCheck.layers` (``points``,
    ``buildings``, ``rules``, ``run``) and `cim.sunlight.SunlightImpact.layers`
    (``impact_points``, ``lost``, ``lost_segments``, ``impact_buildings``,
    ``impact_rules``, ``blockers``); tables without geometry become attribute
    tables. Point layers are ``Point Z`` where the points have heights; other
    geometry layers keep their Polygons and MultiPolygons as they are, in a
    generic geometry column.

    Unlike the other writers, which take their data first, this one takes
    the path first and the check and the impact by keyword: either may be
    left out.

    Parameters
    ----------
    path
        Target ``.gpkg``, replaced only once the new file is complete.
    check
        A sunlight check.
    impact
        A sunlight impact.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If neither is given.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pyogrio
    >>> import cim
    >>> from cim.rules import Rule
    >>> from cim.sunlight import sunlight_check
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> rule = Rule(id="demo", indicator="sunlight_hours", scope="building",
    ...             op=">=", threshold=2.0, unit="h", clause="GB 50180-2018 4.0.9",
    ...             verified=False, params={"step_min": 15, "spacing_m": 10})
    >>> check = sunlight_check(twin, rule, year=2026)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_sunlight_gpkg(pathlib.Path(tmp) / "sun.gpkg", check=check)
    ...     [name for name, _ in pyogrio.list_layers(out)]
    ['points', 'buildings', 'rules', 'run']
    """
    layers: dict[str, pd.DataFrame] = {}
    if check is not None:
        layers.update(check.layers())
    if impact is not None:
        layers.update(impact.layers())
    if not layers:
        msg = "nothing to write: give a check, an impact or both"
        raise ValueError(msg)
    target = Path(path)
    # GDAL creates the temporary file itself, with the first layer.
    with atomic_path(target, suffix=_TMP_SUFFIX) as tmp:
        for layer, frame in layers.items():
            _write_result_layer(tmp, layer, frame)
    return target


def _write_result_layer(path: Path, layer: str, frame: pd.DataFrame) -> None:
    """Add ``frame`` to the GeoPackage ``path`` (created if missing) as ``layer``."""
    kwargs: dict[str, Any] = {}
    if isinstance(frame, gpd.GeoDataFrame):
        # Points are "Point Z"; footprints mix Polygons and MultiPolygons,
        # kept as they are in a generic column.
        points = bool(len(frame)) and bool((frame.geom_type == "Point").all())
        kind = ("Point Z" if frame.has_z.any() else "Point") if points else "Unknown"
        kwargs.update(geometry_type=kind, promote_to_multi=False)
    pyogrio.write_dataframe(
        frame, path, layer=layer, driver="GPKG", append=path.exists(), **kwargs
    )


def write_circles_gpkg(circles: TravelCircles, path: str | os.PathLike[str]) -> Path:
    """Write travel circles to one GeoPackage, atomically.

    Layers ``buildings`` and ``facilities`` (`TravelCircles.buildings
    <cim.network.circles.TravelCircles>` and ``facilities``, with their
    columns as they are), and ``isochrones`` when the circles have them. The
    layers are written by `geopandas.GeoDataFrame.to_file` (engine pyogrio),
    which keeps a named or non-integer index as columns.

    Parameters
    ----------
    circles
        Travel circles of a twin (`cim.network.travel_circles`).
    path
        Target ``.gpkg``, replaced only once the new file is complete.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pyogrio
    >>> import cim
    >>> from cim.network import travel_circles
    >>> twin = cim.datasets.load("beijing_haidian_cau")
    >>> circles = travel_circles(twin, minutes=(5,))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_circles_gpkg(circles, pathlib.Path(tmp) / "circles.gpkg")
    ...     [name for name, _ in pyogrio.list_layers(out)]
    ['buildings', 'facilities']
    """
    layers: dict[str, gpd.GeoDataFrame] = {
        "buildings": circles.buildings,
        "facilities": circles.facilities,
    }
    if circles.isochrones is not None:
        layers["isochrones"] = circles.isochrones
    target = Path(path)
    with atomic_path(target, suffix=_TMP_SUFFIX) as tmp:
        for layer, frame in layers.items():
            frame.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
    return target
