"""Read IFC building models into storeys, area elements and a georeferenced footprint.

:func:`read_ifc` turns one IFC file (IFC2X3 or IFC4, read with ifcopenshell,
extra ``bim``) into the inputs of the floor-area take-off
(:func:`cim.takeoff.takeoff`) and of the twin's buildings layer;
:func:`twin_from_ifc` builds a :class:`~cim.Twin` from them.

Areas come from geometry, not from quantity sets
------------------------------------------------
Quantity sets (``Qto_*``, ``BaseQuantities``) are optional, often empty and
measured by each authoring tool's own convention, so every area here is
measured on the triangulated geometry (``ifcopenshell.geom``, world
coordinates, metres): the *plan area* of an element is the area of the union
of the horizontal projections of its non-vertical triangles, i.e. the area of
its shadow on the ground. For a closed solid that is the projection of its
upper (or, equally, its lower) faces; taking both makes it indifferent to
face orientation, which IFC surface models do not guarantee. Quantity-set
areas are reported beside the measured ones (``qto_*`` columns of
:attr:`IFCData.spaces` and :attr:`IFCData.slabs`) for comparison only.

Gross floor area of a storey: the outer structural outline
-----------------------------------------------------------
GB/T 50353-2013 §3.0.1 measures a storey by its *outer structural outline*
(外墙结构外围水平面积). Slabs alone do not give it: exporters often stop the
floor slab at the inner face or the core of the outer walls (in the Duplex
model the slabs end 0.42 m inside the wall's outer face). The outline of a
storey is therefore taken as the union of

- the plan of its walls and curtain walls (every wall present between 0.1 m
  and 1.0 m above the storey's floor, so that walls spanning several storeys
  count on each, and the low knee walls of an attic count too), and
- the plan of its *floor slabs inside the walls* (slabs of type FLOOR,
  BASESLAB, NOTDEFINED or user-defined whose top lies within 0.3 m of the
  storey's elevation, more than half inside the area the walls enclose, gaps
  up to 2 m between walls bridged, as doors or glazing modelled without a
  host wall leave them; with no walls at all, every floor slab),

keeping the parts that touch a floor slab (a detached garden wall does not
count). Slab openings are kept as holes, because a void over a double-height
room is not floor of the upper storey (GB/T 50353 counts a hall once, on its
lower storey: §3.0.8, clause number recalled, not checked). Two kinds of hole
are filled back: holes under 1 m² (slivers between slab edge and wall, pipe
shafts, which count on every storey by §3.0.19), and the part of a hole
covered by a stair or ramp serving the storey (stairwells count on every
storey, §3.0.19; the stair's plan is its convex hull, flights and landings
together). A courtyard is a hole in the walls' outline and is not filled.
The spaces (``IfcSpace``) are not used for the outline: they are net areas,
and authoring tools draw them over voids (FZK-Haus: the ``Galerie`` space
covers the whole attic, void included).

A storey without a floor slab at its elevation (a foundation level, a roof
level) gets no floor element.

Balconies, terraces and other slabs outside the outline
--------------------------------------------------------
A floor slab more than half outside the walls' enclosure is outside the main
structure. It becomes

- ``balcony`` (``inside_structure`` false, area the slab's projection, as
  §3.0.21 measures a balcony outside the main structure; ``projection_m`` its
  depth beyond the outline) if its name or object type says so (balcony,
  Balkon, loggia, 阳台 ...), or if it is above grade and a railing
  (``IfcRailing``) stands on it or within 0.3 m of it, or if it is above grade
  without any railing (noted, since an unguarded slab at a floor level is most
  often a balcony whose guard was not modelled);
- ``terrace`` (露台, not counted, §3.0.27) if its name says so, or it is at
  grade with a railing;
- nothing (role ``at_grade`` in :attr:`IFCData.slabs`) if it lies at grade
  without a railing: paving, porch slabs, patios.

A slab named as a balcony but inside the walls becomes a ``balcony`` with
``inside_structure`` true and its area is taken out of the floor element.
Bay windows are not detected (they are windows in IFC); add them by hand.

Pitched roofs: attic elements
-----------------------------
Roof slabs (type ROOF, or parts of an ``IfcRoof``) are never floor area. If a
storey lies under a sloped roof whose underside comes lower than 2.10 m above
its floor over part of the storey's outline, the storey is a pitched-roof
space (GB/T 50353 §3.0.3) and is split into up to three ``attic`` elements by
structural clear height (below 1.20 m, 1.20 m to 2.10 m, 2.10 m and above),
measured exactly on the roof's triangles: each triangle is a plane, clipped
at the break heights. ``clear_height_m`` is the band's lowest point, as the
rulebook expects (see :func:`cim.storeys.attic_elements`). The roof structure
is the roof slabs only: rafters and purlins below them are ignored.

Storeys and levels
------------------
``elevation_m`` is ``IfcBuildingStorey.Elevation`` in metres (the project's
length unit converted with ``ifcopenshell.util.unit``), or the storey's
placement height where it is missing; geometry is compared with the
placement height ``z_m`` (the same in both sample files), since the world
coordinates of the geometry follow the placements. The storey whose
elevation is closest to 0 is level 1 (the ground storey, ±0.00), storeys
above are 2, 3 ... and storeys below -1, -2 ... ``structural_height_m``
(结构层高) is the next storey's elevation minus this one's; for the top
storey, the highest geometry over its outline minus its elevation
(``structural_height_source = "geometry"``), else
``storey_height_fallback_m`` (``"fallback"``), else unknown. Storeys with a
floor below level 1 are ``basement`` elements.

Georeferencing
--------------
Geometry stays in the model's local engineering coordinates (metres) in
:attr:`IFCData.footprint`; :meth:`IFCData.georeferenced_footprint` places it
in a CRS. The reference, first found wins:

1. ``origin=(x, y)`` given with ``crs=``: the model's site origin is at
   ``(x, y)`` in ``crs``, and true north is applied (method ``"origin"``);
2. ``IfcMapConversion`` (IFC4) or the IFC2X3 ``ePSet_MapConversion`` property
   set with a map CRS: local x, y (project units) -> eastings, northings with
   the conversion's rotation and scale (method ``"map_conversion"``);
3. ``IfcSite.RefLatitude``/``RefLongitude`` (degrees, minutes, seconds,
   millionths of a second, WGS 84) at the site's placement origin, rotated by
   true north (``TrueNorth`` of the 3D model context, the direction of true
   north in local x, y; angle from the y axis, anticlockwise positive): local
   offsets become metres east and north in a transverse Mercator plane
   centred on the site (grid north = true north there, scale 1), then
   longitude/latitude and the target CRS (method ``"site"``).

The default target CRS is the map conversion's CRS if it is metric, else the
local UTM zone. A latitude and longitude both exactly 0 count as missing (a
common export default). Accuracy: a map conversion is as good as the survey
behind it; a site location is as good as the architect typed it, often to the
nearest second (about 30 m) or the authoring tool's default place (the Duplex
model sits at Revit's default, Chicago). The transformation itself adds
nothing measurable (millimetres over a building).

Performance: geometry is iterated twice with ``ifcopenshell.geom.iterator``:
slabs with their openings cut, the rest without (openings do not change a
plan outline and are the expensive part). ``threads`` sets the iterator's
threads (default: 1 below 500 elements, where thread start-up costs more
than it saves, else all cores). The two sample files (66 and 116 elements
triangulated) read in 1 to 2.5 s each on two shared cores, most of it in the
geometry kernel; two threads made no measurable difference at that size.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from cim._compat import import_optional_dependency
from cim.crs import check_metric_crs, is_metric, resolve_crs, utm_crs_for
from cim.errors import CRSError, InputFileError
from cim.io.files import check_input_file
from cim.storeys import ELEMENTS, validate_elements
from cim.twin import Twin

__all__ = ["Georeference", "IFCData", "read_ifc", "twin_from_ifc"]

_log = logging.getLogger(__name__)

#: Walls count for a storey if present between these heights above its floor [m].
WALL_BAND_M = (0.1, 1.0)
#: A slab belongs to the highest storey whose elevation is at most its top
#: plus this [m]; a floor slab's top must lie within this of the elevation.
SLAB_TOLERANCE_M = 0.3
#: Gaps between walls up to this wide still enclose (doors, windows or glazing
#: modelled without a host wall) [m].
GAP_M = 2.0
#: Holes of a storey outline smaller than this are filled [m2].
SMALL_HOLE_M2 = 1.0
#: A railing guards a slab if within this plan distance of it [m].
RAILING_DISTANCE_M = 0.3
#: Break heights of structural clear height in a pitched-roof space [m].
ATTIC_BREAKS_M = (1.20, 2.10)
#: Roof triangles steeper than this are "sloped" [degrees].
SLOPE_MIN_DEG = 5.0
#: Geometry precision for plan unions [m].
GRID_M = 1e-6

_FLOOR_TYPES = frozenset({"FLOOR", "BASESLAB", "NOTDEFINED", "USERDEFINED", ""})
_BALCONY = re.compile(r"balcon|balkon|loggia|阳台|陽台", re.IGNORECASE)
_TERRACE = re.compile(r"terrace|terrasse|露台", re.IGNORECASE)
_STAIRS = ("IfcStair", "IfcStairFlight", "IfcRamp", "IfcRampFlight")
_WALLS = ("IfcWall", "IfcCurtainWall")
# Element classes left out of the second geometry pass: not part of the
# building's body (openings, furniture, services, terrain), too costly and
# inside walls anyway (windows, doors), or read separately (spaces, slabs).
_NOT_PHYSICAL = (
    "IfcOpeningElement",
    "IfcFeatureElement",
    "IfcVirtualElement",
    "IfcFurnishingElement",
    "IfcDistributionElement",
    "IfcGeographicElement",
    "IfcCivilElement",
    "IfcWindow",
    "IfcDoor",
    "IfcSpace",
    "IfcSlab",
)

#: Columns of :attr:`IFCData.storeys` (plus ``geometry``, the outline).
STOREY_COLUMNS = (
    "storey",
    "guid",
    "name",
    "level",
    "elevation_m",
    "z_m",
    "structural_height_m",
    "structural_height_source",
    "above_ground",
    "kind",
    "floor_area_m2",
    "n_spaces",
    "note",
)
#: Columns of :attr:`IFCData.spaces`.
SPACE_COLUMNS = (
    "guid",
    "name",
    "long_name",
    "storey",
    "level",
    "area_m2",
    "qto_gross_floor_area_m2",
    "qto_net_floor_area_m2",
    "height_m",
    "qto_height_m",
    "z_bottom_m",
    "z_top_m",
)
#: Columns of :attr:`IFCData.slabs`.
SLAB_COLUMNS = (
    "guid",
    "name",
    "predefined_type",
    "storey",
    "level",
    "role",
    "area_m2",
    "qto_gross_area_m2",
    "qto_net_area_m2",
    "z_bottom_m",
    "z_top_m",
    "railing",
)


# --------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Georeference:
    """Where an IFC model's local engineering coordinates are on Earth.

    Parameters
    ----------
    method
        ``"origin"`` (given by the caller), ``"map_conversion"``
        (``IfcMapConversion`` or IFC2X3 ``ePSet_MapConversion``) or ``"site"``
        (``IfcSite`` latitude and longitude with true north).
    longitude_deg, latitude_deg
        WGS 84 position of the reference point [degrees].
    elevation_m
        Height of the reference point (``RefElevation`` or the conversion's
        ``OrthogonalHeight``) [m]; NaN if not given.
    true_north_deg
        Angle from the local y axis to true north, anticlockwise positive
        [degrees] (``TrueNorth`` of the model context; 0 if absent).
    reference_xy
        Local coordinates of the reference point (the site's placement
        origin), ``(x, y)`` [m].
    map_crs
        The map conversion's (or the caller's) CRS, if any.
    map_origin
        Map coordinates of the local origin (conversion ``Eastings``,
        ``Northings``) in ``map_crs`` units.
    x_axis
        Direction of the local x axis in map coordinates, unit vector.
    scale
        Map units per project length unit [-].
    unit_scale
        Metres per project length unit [-].
    """

    method: str
    longitude_deg: float
    latitude_deg: float
    elevation_m: float
    true_north_deg: float
    reference_xy: tuple[float, float] = (0.0, 0.0)
    map_crs: CRS | None = None
    map_origin: tuple[float, float] | None = None
    x_axis: tuple[float, float] = (1.0, 0.0)
    scale: float = 1.0
    unit_scale: float = 1.0

    def transformer(self, crs: Any) -> Callable[[Any, Any], tuple[Any, Any]]:
        """A function mapping local ``(x, y)`` [m] to coordinates in ``crs``.

        Parameters
        ----------
        crs
            Target CRS (anything :func:`cim.crs.resolve_crs` accepts).

        Returns
        -------
        callable
            ``f(x, y) -> (X, Y)``, vectorised over arrays.
        """
        target = resolve_crs(crs)
        if self.method == "map_conversion" and self.map_crs is not None:
            e0, n0 = self.map_origin or (0.0, 0.0)
            a, b = self.x_axis
            k = self.scale / self.unit_scale
            to_target = Transformer.from_crs(self.map_crs, target, always_xy=True)

            def by_map(x: Any, y: Any) -> tuple[Any, Any]:
                x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
                e = e0 + k * (a * x - b * y)
                n = n0 + k * (b * x + a * y)
                out: tuple[Any, Any] = to_target.transform(e, n)
                return out

            return by_map
        theta = math.radians(-self.true_north_deg)
        c, s = math.cos(theta), math.sin(theta)
        x0, y0 = self.reference_xy
        plane = CRS.from_proj4(
            f"+proj=tmerc +lat_0={self.latitude_deg!r} +lon_0={self.longitude_deg!r} "
            "+k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        to_target = Transformer.from_crs(plane, target, always_xy=True)

        def by_north(x: Any, y: Any) -> tuple[Any, Any]:
            dx = np.asarray(x, dtype="float64") - x0
            dy = np.asarray(y, dtype="float64") - y0
            out: tuple[Any, Any] = to_target.transform(c * dx - s * dy, s * dx + c * dy)
            return out

        return by_north

    def to_crs(self, geometry: Any, crs: Any) -> Any:
        """Place shapely geometries given in local coordinates [m] in ``crs``.

        Parameters
        ----------
        geometry
            Shapely geometry or array of them, local x, y [m].
        crs
            Target CRS.

        Returns
        -------
        shapely.Geometry or numpy.ndarray
        """
        f = self.transformer(crs)

        def apply(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            X, Y = f(xy[:, 0], xy[:, 1])
            return np.column_stack([X, Y])

        return shapely.transform(geometry, apply)


@dataclass(frozen=True)
class IFCData:
    """What :func:`read_ifc` reads from one IFC file.

    Parameters
    ----------
    path
        The file read.
    schema
        IFC schema of the file (``"IFC2X3"``, ``"IFC4"`` ...).
    building_id
        ``GlobalId`` of the ``IfcBuilding``.
    building_name
        Its name (``Name``, else ``LongName``, else ``""``).
    storeys
        One row per ``IfcBuildingStorey``, in elevation order, with the
        columns of :data:`STOREY_COLUMNS`: ``storey`` (unique label, the
        storey's name), ``guid``, ``name``, ``level`` (1 = ground storey),
        ``elevation_m`` [m], ``z_m`` (placement height used for geometry)
        [m], ``structural_height_m`` [m] and its ``structural_height_source``
        (``next_storey``, ``geometry``, ``fallback``, ``unknown``),
        ``above_ground``, ``kind`` (``floor``, ``attic``, ``basement`` or
        ``none`` without floor), ``floor_area_m2`` (area of the outline)
        [m2], ``n_spaces``, ``note``; geometry: the outline in local
        coordinates (no CRS).
    elements
        The element table (:data:`cim.storeys.ELEMENTS`, validated), with
        an extra ``note`` column.
    spaces
        One row per ``IfcSpace`` (:data:`SPACE_COLUMNS`): plan area from
        geometry [m2] beside the quantity-set gross and net floor areas [m2],
        heights [m].
    slabs
        One row per ``IfcSlab`` (:data:`SLAB_COLUMNS`): plan area from
        geometry [m2], quantity-set areas [m2], ``role`` (``floor``,
        ``balcony``, ``terrace``, ``at_grade``, ``roof``, ``stair``,
        ``other``), ``railing`` (a railing guards it).
    footprint
        Plan of the ground storey's outline (else the union of all outlines,
        else the plan of all physical elements), local coordinates [m].
    height_m
        Highest physical geometry above the ground storey's floor [m].
    georeference
        Where the model is (:class:`Georeference`).
    crs
        The CRS of :attr:`building`.
    building
        One-row buildings layer (``building_id``, ``name``, ``height_m``,
        ``height_source``, ``floors``, ``floors_source``) with the
        georeferenced footprint, ready for :class:`cim.Twin`.
    source
        Source metadata for the twin (``name``, ``licence``,
        ``attribution``).
    """

    path: Path
    schema: str
    building_id: str
    building_name: str
    storeys: gpd.GeoDataFrame
    elements: pd.DataFrame
    spaces: pd.DataFrame
    slabs: pd.DataFrame
    footprint: shapely.Geometry
    height_m: float
    georeference: Georeference
    crs: CRS
    building: gpd.GeoDataFrame
    source: dict[str, str] = field(default_factory=dict)

    def georeferenced_footprint(self, crs: Any = None) -> gpd.GeoSeries:
        """The footprint placed in ``crs`` (default :attr:`crs`).

        Parameters
        ----------
        crs
            Target CRS; any CRS pyproj knows, e.g. 4326 for lon/lat.

        Returns
        -------
        geopandas.GeoSeries
            One geometry, in ``crs``.
        """
        target = self.crs if crs is None else resolve_crs(crs)
        geom = self.georeference.to_crs(self.footprint, target)
        return gpd.GeoSeries([geom], crs=target)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------
@dataclass
class _Shape:
    """Triangulated geometry of one element, world coordinates [m]."""

    tris: NDArray[np.float64]  # (n, 3, 3)
    plan: shapely.Geometry
    zmin: float
    zmax: float


def _check_step(p: Path) -> None:
    """Refuse files that are not complete IFC-SPF (STEP) files."""
    with p.open("rb") as fh:
        head = fh.read(64)
        fh.seek(max(0, p.stat().st_size - 1024))
        tail = fh.read()
    if head.startswith(b"PK"):
        return  # ifcZIP, left to ifcopenshell
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"ISO-10303-21"):
        msg = (
            f"{p}: not an IFC file (no 'ISO-10303-21' STEP header); export the "
            "model as IFC (.ifc, IFC2X3 or IFC4)"
        )
        raise InputFileError(msg)
    if b"END-ISO-10303-21" not in tail:
        msg = (
            f"{p}: the IFC file is truncated (no 'END-ISO-10303-21;' at its end); "
            "copy or export it again"
        )
        raise InputFileError(msg)


def _open(p: Path, ifcopenshell: Any) -> Any:
    try:
        return ifcopenshell.open(str(p))
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = f"{p}: cannot read it as IFC ({first}); export it again as IFC2X3 or IFC4"
        raise InputFileError(msg) from exc


def _plan(tris: NDArray[np.float64]) -> shapely.Geometry:
    """Union of the horizontal projections of the non-vertical triangles."""
    if not len(tris):
        return shapely.Polygon()
    e1, e2 = tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
    nz = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    keep = np.abs(nz) > 1e-10
    if not keep.any():
        return shapely.Polygon()
    polys = shapely.polygons(tris[keep][:, :, :2])
    return _polygonal(shapely.union_all(polys, grid_size=GRID_M))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of ``geom`` (Polygon or MultiPolygon, maybe empty)."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _polygons(geom: shapely.Geometry) -> list[shapely.Polygon]:
    return [g for g in shapely.get_parts(_polygonal(geom)) if not g.is_empty]


def _fill(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` with every hole filled."""
    parts = [shapely.Polygon(p.exterior) for p in _polygons(geom)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _close(geom: shapely.Geometry) -> shapely.Geometry:
    """Morphological closing by :data:`GAP_M`: bridges door and window gaps."""
    if geom.is_empty:
        return geom
    grown = shapely.buffer(geom, GAP_M / 2, join_style="mitre")
    return _polygonal(shapely.buffer(grown, -GAP_M / 2, join_style="mitre"))


def _iterate(
    geom: Any, model: Any, entities: Sequence[Any], *, openings: bool, threads: int
) -> dict[int, _Shape]:
    """Triangulate ``entities`` in world coordinates, keyed by STEP id."""
    if not entities:
        return {}
    settings = geom.settings()
    settings.set("use-world-coords", True)
    settings.set("disable-opening-subtractions", not openings)
    it = geom.iterator(settings, model, threads, include=list(entities))
    out: dict[int, _Shape] = {}
    if not it.initialize():
        return out
    while True:
        shape = it.get()
        verts = np.asarray(shape.geometry.verts, dtype="float64").reshape(-1, 3)
        faces = np.asarray(shape.geometry.faces, dtype=np.intp).reshape(-1, 3)
        if len(faces):
            tris = verts[faces]
            out[int(shape.id)] = _Shape(
                tris=tris,
                plan=_plan(tris),
                zmin=float(verts[:, 2].min()),
                zmax=float(verts[:, 2].max()),
            )
        if not it.next():
            break
    return out


def _dms(value: Any) -> float:
    """Compound plane angle (deg, min, s[, millionths of s]) to degrees."""
    if value is None:
        return math.nan
    parts = [float(v) for v in value]
    if not parts:
        return math.nan
    nonzero = [v for v in parts if v != 0]
    sign = -1.0 if nonzero and nonzero[0] < 0 else 1.0
    weights = (1.0, 1 / 60, 1 / 3600, 1 / 3.6e9)
    return sign * sum(abs(v) * w for v, w in zip(parts, weights, strict=False))


def _true_north_deg(model: Any) -> float:
    """Angle from local y to true north, anticlockwise [deg], from the 3D context."""
    contexts = [
        c
        for c in model.by_type("IfcGeometricRepresentationContext")
        if not c.is_a("IfcGeometricRepresentationSubContext")
    ]
    contexts.sort(
        key=lambda c: (c.ContextType != "Model", c.CoordinateSpaceDimension != 3)
    )
    for c in contexts:
        tn = getattr(c, "TrueNorth", None)
        if tn is not None:
            x, y = [*tn.DirectionRatios, 0.0, 0.0][:2]
            if x or y:
                return math.degrees(math.atan2(-float(x), float(y)))
    return 0.0


def _map_conversion(model: Any, util: Any) -> dict[str, Any] | None:
    """Parameters of an IfcMapConversion (or the IFC2X3 property sets)."""
    if model.schema == "IFC2X3":
        projects = model.by_type("IfcProject")
        if not projects:
            return None
        conv = util.element.get_pset(projects[0], "ePSet_MapConversion")
        crs = util.element.get_pset(projects[0], "ePSet_ProjectedCRS")
        if not conv or not crs or not crs.get("Name"):
            return None
        return {
            "crs": crs.get("Name"),
            "e": conv.get("Eastings") or 0.0,
            "n": conv.get("Northings") or 0.0,
            "h": conv.get("OrthogonalHeight"),
            "a": conv.get("XAxisAbscissa"),
            "b": conv.get("XAxisOrdinate"),
            "scale": conv.get("Scale") or 1.0,
        }
    try:
        convs = model.by_type("IfcMapConversion")
    except RuntimeError:
        return None
    if not convs:
        return None
    c = convs[0]
    target = c.TargetCRS
    name = getattr(target, "Name", None) if target is not None else None
    if not name:
        return None
    return {
        "crs": name,
        "e": c.Eastings or 0.0,
        "n": c.Northings or 0.0,
        "h": c.OrthogonalHeight,
        "a": c.XAxisAbscissa,
        "b": c.XAxisOrdinate,
        "scale": c.Scale or 1.0,
    }


def _georeference(
    p: Path,
    model: Any,
    util: Any,
    unit_scale: float,
    *,
    crs: Any,
    origin: tuple[float, float] | None,
) -> Georeference:
    site = (model.by_type("IfcSite") or [None])[0]
    ref_xy = (0.0, 0.0)
    if site is not None and site.ObjectPlacement is not None:
        m = util.placement.get_local_placement(site.ObjectPlacement)
        ref_xy = (float(m[0, 3]) * unit_scale, float(m[1, 3]) * unit_scale)
    north = _true_north_deg(model)

    if origin is not None:
        if crs is None:
            msg = (
                f"origin={origin!r} needs crs=, the CRS its coordinates are in "
                "(e.g. crs=4549)"
            )
            raise CRSError(msg)
        ox, oy = (float(v) for v in origin)
        user = resolve_crs(crs)
        lon, lat = Transformer.from_crs(user, 4326, always_xy=True).transform(ox, oy)
        return Georeference(
            method="origin",
            longitude_deg=float(lon),
            latitude_deg=float(lat),
            elevation_m=math.nan,
            true_north_deg=north,
            reference_xy=ref_xy,
            map_crs=user,
            map_origin=(ox, oy),
            unit_scale=unit_scale,
        )

    conv = _map_conversion(model, util)
    if conv is not None:
        try:
            map_crs = resolve_crs(conv["crs"])
        except CRSError as exc:
            msg = (
                f"{p}: the map conversion's CRS {conv['crs']!r} is unknown; give "
                "crs= and origin=(x, y) instead"
            )
            raise CRSError(msg) from exc
        a, b = float(conv["a"] or 0.0), float(conv["b"] or 0.0)
        norm = math.hypot(a, b)
        a, b = (a / norm, b / norm) if norm > 0 else (1.0, 0.0)
        e0, n0 = float(conv["e"]), float(conv["n"])
        lon, lat = Transformer.from_crs(map_crs, 4326, always_xy=True).transform(e0, n0)
        h = conv["h"]
        return Georeference(
            method="map_conversion",
            longitude_deg=float(lon),
            latitude_deg=float(lat),
            elevation_m=math.nan if h is None else float(h),
            true_north_deg=north,
            map_crs=map_crs,
            map_origin=(e0, n0),
            x_axis=(a, b),
            scale=float(conv["scale"]),
            unit_scale=unit_scale,
        )

    lat = _dms(getattr(site, "RefLatitude", None)) if site is not None else math.nan
    lon = _dms(getattr(site, "RefLongitude", None)) if site is not None else math.nan
    if not (np.isfinite(lat) and np.isfinite(lon)) or (lat == 0 and lon == 0):
        msg = (
            f"{p}: the model has no site location (IfcSite RefLatitude/"
            "RefLongitude or IfcMapConversion); give crs= and origin=(x, y), "
            "the position of the model's site origin in that CRS"
        )
        raise CRSError(msg)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = (
            f"{p}: IfcSite location lat {lat:.6f}, lon {lon:.6f} is out of range; "
            "fix the site location or give crs= and origin=(x, y)"
        )
        raise CRSError(msg)
    elev = getattr(site, "RefElevation", None)
    return Georeference(
        method="site",
        longitude_deg=lon,
        latitude_deg=lat,
        elevation_m=math.nan if elev is None else float(elev) * unit_scale,
        true_north_deg=north,
        reference_xy=ref_xy,
        unit_scale=unit_scale,
    )


def _target_crs(geo: Georeference, crs: Any) -> CRS:
    if crs is not None:
        return check_metric_crs(resolve_crs(crs), layer="buildings")
    if geo.method == "map_conversion" and geo.map_crs is not None:
        if is_metric(geo.map_crs):
            return geo.map_crs
    return utm_crs_for(geo.longitude_deg, geo.latitude_deg)


def _label(name: Any, taken: set[str], fallback: str) -> str:
    base = str(name).strip() if name not in (None, "") else fallback
    label, k = base, 2
    while label in taken:
        label, k = f"{base} ({k})", k + 1
    taken.add(label)
    return label


def _qto(util: Any, entity: Any, names: Iterable[str], scale: float) -> float:
    """First quantity found among ``names`` in the entity's quantity sets."""
    try:
        qtos = util.element.get_psets(entity, qtos_only=True)
    except Exception:  # pragma: no cover - malformed relationships
        return math.nan
    for name in names:
        for props in qtos.values():
            v = props.get(name)
            if isinstance(v, int | float) and not isinstance(v, bool):
                return float(v) * scale
    return math.nan


def _predefined(util: Any, entity: Any) -> str:
    try:
        t = util.element.get_predefined_type(entity)
    except Exception:  # pragma: no cover
        t = getattr(entity, "PredefinedType", None)
    return "" if t is None else str(t).upper()


def _aggregate_root(util: Any, entity: Any, classes: Sequence[str]) -> Any:
    """The outermost aggregate of ``entity`` that is one of ``classes``."""
    root, parent = entity, util.element.get_aggregate(entity)
    while parent is not None and any(parent.is_a(c) for c in classes):
        root, parent = parent, util.element.get_aggregate(parent)
    return root


def _plane_z(tri: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Height of the plane through ``tri`` (3, 3) at points ``xy`` (n, 2)."""
    n = np.cross(tri[1] - tri[0], tri[2] - tri[0])
    d = xy - tri[0, :2]
    z: NDArray[np.float64] = tri[0, 2] - (n[0] * d[:, 0] + n[1] * d[:, 1]) / n[2]
    return z


def _clip_below(tri: NDArray[np.float64], t: float) -> shapely.Geometry:
    """Plan of the part of triangle ``tri`` (3, 3) lying at or below height ``t``."""
    pts: list[NDArray[np.float64]] = []
    for i in range(3):
        p, q = tri[i], tri[(i + 1) % 3]
        pin, qin = p[2] <= t, q[2] <= t
        if pin:
            pts.append(p[:2])
        if pin != qin:
            s = (t - p[2]) / (q[2] - p[2])
            pts.append(p[:2] + s * (q[:2] - p[:2]))
    if len(pts) < 3:
        return shapely.Polygon()
    poly = shapely.Polygon(pts)
    return poly if poly.is_valid and poly.area > 0 else shapely.make_valid(poly)


def _attic_bands(
    outline: shapely.Geometry, roof_tris: NDArray[np.float64], floor_z: float
) -> list[tuple[shapely.Geometry, float]] | None:
    """Clear-height bands of a storey under a sloped roof, or None if not an attic.

    Returns ``[(region, lowest clear height), ...]`` from the lowest band up,
    empty bands dropped.
    """
    if not len(roof_tris) or outline.is_empty:
        return None
    e1, e2 = roof_tris[:, 1] - roof_tris[:, 0], roof_tris[:, 2] - roof_tris[:, 0]
    n = np.cross(e1, e2)
    norm = np.linalg.norm(n, axis=1)
    flat = np.abs(n[:, 2])
    keep = (flat > 1e-10) & (roof_tris[:, :, 2].max(axis=1) > floor_z + 0.01)
    tris, cos = roof_tris[keep], flat[keep] / norm[keep]
    if not len(tris):
        return None
    plans = shapely.polygons(tris[:, :, :2])
    over = shapely.intersects(plans, outline) & (
        shapely.area(shapely.intersection(plans, outline)) > 1e-6
    )
    if not over.any():
        return None
    tris, cos = tris[over], cos[over]
    if not (tris[:, :, 2].min(axis=1) < floor_z + max(ATTIC_BREAKS_M)).any():
        return None  # the roof is high above: an ordinary storey
    sloped = bool((cos < math.cos(math.radians(SLOPE_MIN_DEG))).any())
    lows = []
    for t in ATTIC_BREAKS_M:
        pieces = [_clip_below(tri, floor_z + t) for tri in tris]
        region = shapely.union_all(
            [g for g in pieces if not g.is_empty], grid_size=GRID_M
        )
        lows.append(_polygonal(shapely.intersection(outline, region)))
    total = outline.area
    if not sloped or lows[-1].area <= max(0.5, 0.01 * total):
        return None
    # Lowest clear height over the outline: planes evaluated at the corners of
    # each triangle's plan clipped to the outline.
    zmin = math.inf
    for tri in tris:
        piece = shapely.intersection(shapely.Polygon(tri[:, :2]), outline)
        if piece.is_empty:
            continue
        xy = shapely.get_coordinates(piece)
        zmin = min(zmin, float(_plane_z(tri, xy).min()))
    bottom = max(0.0, zmin - floor_z)
    regions = [lows[0]]
    for lo, hi in itertools.pairwise(lows):
        regions.append(_polygonal(shapely.difference(hi, lo, grid_size=GRID_M)))
    regions.append(_polygonal(shapely.difference(outline, lows[-1], grid_size=GRID_M)))
    heights = [bottom, *ATTIC_BREAKS_M]
    return [(r, h) for r, h in zip(regions, heights, strict=True) if r.area > 1e-6]


def _threads(n: int, threads: int | None) -> int:
    if threads is not None:
        if threads < 1:
            msg = f"invalid threads {threads!r}; expected a positive number"
            raise ValueError(msg)
        return threads
    return 1 if n < 500 else max(1, os.cpu_count() or 1)


#: A floor slab: the entity, its shape and its name/object type (for hints).
_Slab = tuple[Any, _Shape, str]


@dataclass
class _Storeys:
    """The storeys of the model, sorted by height."""

    entities: list[Any]
    labels: list[str]
    levels: NDArray[np.int64]
    elevation: NDArray[np.float64]
    z: NDArray[np.float64]
    ground: int
    index_of: dict[int, int]

    def at(self, z: float) -> int:
        """Index of the storey a slab with its top at ``z`` belongs to."""
        i = int(np.searchsorted(self.z, z + SLAB_TOLERANCE_M, side="right")) - 1
        return max(i, 0)

    def of(self, util: Any, entity: Any, z: float) -> int:
        """Storey containing ``entity`` (directly or via aggregates), else ``at(z)``."""
        for getter in (util.element.get_container, util.element.get_aggregate):
            parent = getter(entity)
            while parent is not None:
                if parent.id() in self.index_of:
                    return self.index_of[parent.id()]
                if parent.is_a("IfcBuilding") or parent.is_a("IfcSite"):
                    break
                parent = util.element.get_aggregate(parent)
        return self.at(z) if np.isfinite(z) else self.ground


def _read_storeys(entities: Sequence[Any], util: Any, unit: float) -> _Storeys:
    rows = []
    for s in entities:
        z = 0.0
        if s.ObjectPlacement is not None:
            z = float(util.placement.get_local_placement(s.ObjectPlacement)[2, 3])
        z *= unit
        elev = z if s.Elevation is None else float(s.Elevation) * unit
        rows.append((z, elev, s))
    rows.sort(key=lambda r: (r[0], r[1]))
    elevation = np.array([r[1] for r in rows], dtype="float64")
    # Level 1 is the storey closest to +-0.00; on a tie, the higher one.
    ground = int(np.argmin(np.abs(elevation) - 1e-9 * elevation))
    offset = np.arange(len(rows)) - ground
    levels = np.where(offset >= 0, offset + 1, offset).astype(np.int64)
    taken: set[str] = set()
    labels = [
        _label(r[2].Name or getattr(r[2], "LongName", None), taken, f"L{lv}")
        for r, lv in zip(rows, levels, strict=True)
    ]
    return _Storeys(
        entities=[r[2] for r in rows],
        labels=labels,
        levels=levels,
        elevation=elevation,
        z=np.array([r[0] for r in rows], dtype="float64"),
        ground=ground,
        index_of={r[2].id(): i for i, r in enumerate(rows)},
    )


@dataclass
class _Geometry:
    """Triangulated elements, sorted by what they are for."""

    shapes: dict[int, _Shape]
    physical: list[_Shape]
    roofs: list[_Shape]
    roof_ids: set[int]
    stair_ids: set[int]
    stairs: list[tuple[shapely.Geometry, float, float]]
    walls: list[_Shape]
    railings: list[_Shape]


def _read_geometry(
    model: Any,
    geom: Any,
    util: Any,
    slabs: list[Any],
    spaces: list[Any],
    others: list[Any],
    threads: int,
) -> _Geometry:
    shapes = _iterate(geom, model, slabs, openings=True, threads=threads)
    shapes.update(
        _iterate(geom, model, others + spaces, openings=False, threads=threads)
    )
    missing = sum(1 for e in slabs + others + spaces if e.id() not in shapes)
    if missing:
        _log.info("%d elements have no body geometry", missing)
    with_shape = [e for e in others + slabs if e.id() in shapes]
    roofs = [
        e
        for e in with_shape
        if e.is_a("IfcRoof")
        or (e.is_a("IfcSlab") and _predefined(util, e) == "ROOF")
        or _aggregate_root(util, e, ("IfcRoof",)).is_a("IfcRoof")
    ]
    # Stairs and ramps: one convex hull per outermost stair/ramp aggregate,
    # flights, landings and railings together.
    groups: dict[int, list[_Shape]] = {}
    stair_ids = {e.id() for e in slabs if _predefined(util, e) == "LANDING"}
    for e in others + slabs:
        root = _aggregate_root(util, e, _STAIRS)
        if not any(root.is_a(c) for c in _STAIRS):
            continue
        if e.is_a("IfcSlab"):
            stair_ids.add(e.id())
        if e.id() in shapes:
            groups.setdefault(root.id(), []).append(shapes[e.id()])
    stairs = [
        (
            shapely.convex_hull(shapely.union_all([g.plan for g in group])),
            min(g.zmin for g in group),
            max(g.zmax for g in group),
        )
        for group in groups.values()
    ]
    walls = [
        shapes[e.id()]
        for e in others
        if e.id() in shapes
        and (
            any(e.is_a(c) for c in _WALLS)
            or _aggregate_root(util, e, ("IfcCurtainWall",)).is_a("IfcCurtainWall")
        )
    ]
    return _Geometry(
        shapes=shapes,
        physical=[shapes[e.id()] for e in with_shape],
        roofs=[shapes[e.id()] for e in roofs],
        roof_ids={e.id() for e in roofs},
        stair_ids=stair_ids,
        stairs=stairs,
        walls=walls,
        railings=[
            shapes[e.id()] for e in others if e.is_a("IfcRailing") and e.id() in shapes
        ],
    )


def _slab_table(
    slabs: list[Any],
    util: Any,
    st: _Storeys,
    g: _Geometry,
    area_unit: float,
) -> tuple[list[dict[str, Any]], dict[int, list[_Slab]]]:
    """One row per slab with its role, and the floor slabs of each storey."""
    rows: list[dict[str, Any]] = []
    floors: dict[int, list[_Slab]] = {}
    for e in slabs:
        sh = g.shapes.get(e.id())
        ptype = _predefined(util, e)
        i = st.at(sh.zmax) if sh is not None else st.of(util, e, math.nan)
        if sh is None:
            role = "no_geometry"
        elif e.id() in g.roof_ids:
            role = "roof"
        elif e.id() in g.stair_ids:
            role = "stair"
        elif ptype not in _FLOOR_TYPES or abs(sh.zmax - st.z[i]) > SLAB_TOLERANCE_M:
            role = "other"
        else:
            role = "floor"
            hint = " ".join(
                str(v) for v in (e.Name, getattr(e, "ObjectType", None)) if v
            )
            floors.setdefault(i, []).append((e, sh, hint))
        rows.append(
            {
                "id": e.id(),
                "guid": str(e.GlobalId),
                "name": str(e.Name or ""),
                "predefined_type": ptype,
                "storey": st.labels[i],
                "level": int(st.levels[i]),
                "role": role,
                "area_m2": sh.plan.area if sh is not None else math.nan,
                "qto_gross_area_m2": _qto(util, e, ("GrossArea",), area_unit),
                "qto_net_area_m2": _qto(util, e, ("NetArea",), area_unit),
                "z_bottom_m": sh.zmin if sh is not None else math.nan,
                "z_top_m": sh.zmax if sh is not None else math.nan,
                "railing": False,
            }
        )
    return rows, floors


def _outline(
    z: float,
    floor_slabs: list[_Slab],
    g: _Geometry,
) -> tuple[shapely.Geometry, list[_Slab], list[_Slab], str]:
    """Outer structural outline of the storey at ``z``; inside and outside slabs."""
    lo, hi = z + WALL_BAND_M[0], z + WALL_BAND_M[1]
    wall_union = shapely.union_all(
        [w.plan for w in g.walls if w.zmin < hi and w.zmax > lo], grid_size=GRID_M
    )
    enclosed = _fill(_close(wall_union))
    inside: list[_Slab] = []
    outside: list[_Slab] = []
    for item in floor_slabs:
        plan = item[1].plan
        share = (
            shapely.intersection(plan, enclosed).area / plan.area
            if plan.area > 0 and not enclosed.is_empty
            else 0.0
        )
        (inside if enclosed.is_empty or share >= 0.5 else outside).append(item)
    if not inside:
        note = "floor slabs only outside the walls: no outline" if outside else ""
        return shapely.Polygon(), inside, outside, note
    slab_union = shapely.union_all([it[1].plan for it in inside], grid_size=GRID_M)
    merged = shapely.union_all([wall_union, slab_union], grid_size=GRID_M)
    parts = [q for q in _polygons(merged) if q.intersection(slab_union).area > 1e-6]
    hulls = [h for h, z0, z1 in g.stairs if z0 - SLAB_TOLERANCE_M <= z <= z1]
    filled = []
    for poly in parts:
        out = shapely.Polygon(poly.exterior)
        for ring in poly.interiors:
            hole = shapely.Polygon(ring)
            if hole.area < SMALL_HOLE_M2:
                continue
            for hull in hulls:
                hole = hole.difference(hull)
            out = out.difference(hole)
        filled.append(out)
    outline = _polygonal(shapely.union_all(filled, grid_size=GRID_M))
    note = "no walls: outline of the floor slabs" if enclosed.is_empty else ""
    return outline, inside, outside, note


def _outside_element(
    e: Any,
    sh: _Shape,
    hint: str,
    outline: shapely.Geometry,
    g: _Geometry,
    *,
    at_grade: bool,
) -> tuple[str, bool, dict[str, Any] | None]:
    """Kind of a floor slab outside the walls, whether guarded, and its row."""
    top = sh.zmax
    guarded = any(
        r.plan.distance(sh.plan) <= RAILING_DISTANCE_M
        and top - 0.5 <= r.zmin <= top + 0.5
        for r in g.railings
    )
    if _TERRACE.search(hint) or (at_grade and guarded):
        kind, note = "terrace", "outside the walls, at grade with a railing or named"
    elif _BALCONY.search(hint):
        kind, note = "balcony", "outside the walls, named a balcony"
    elif at_grade:
        return "at_grade", guarded, None
    elif guarded:
        kind, note = "balcony", "outside the walls, with a railing"
    else:
        kind, note = "balcony", "outside the walls, no railing found: assumed a balcony"
    coords = shapely.get_coordinates(sh.plan)
    depth = (
        float(shapely.distance(shapely.points(coords), outline).max())
        if len(coords)
        else math.nan
    )
    row = {
        "kind": kind,
        "area_m2": sh.plan.area,
        "enclosed": False,
        "inside_structure": False,
        "projection_m": depth,
        "note": note,
        "guid": str(e.GlobalId),
    }
    return kind, guarded, row


def _top_height(st: _Storeys, outline: shapely.Geometry, g: _Geometry) -> float:
    """Highest geometry over the top storey's outline (roofs first) above its floor."""
    top = len(st.z) - 1
    z = float(st.z[top])
    for pool in (g.roofs, g.physical):
        tops = [
            s.zmax
            for s in pool
            if s.zmax > z + 0.01
            and (outline.is_empty or s.plan.intersection(outline).area > 1e-6)
        ]
        if tops:
            return max(tops) - z
    return math.nan


def _storey_parts(
    i: int,
    st: _Storeys,
    floor_slabs: list[_Slab],
    g: _Geometry,
    slab_row: dict[int, dict[str, Any]],
) -> tuple[shapely.Geometry, str, list[dict[str, Any]]]:
    """Outline of storey ``i``, its note, and its balcony/terrace rows.

    Updates the ``role`` and ``railing`` of the slabs in ``slab_row``.
    """
    outline, inside, outside, note = _outline(float(st.z[i]), floor_slabs, g)
    rows: list[dict[str, Any]] = []
    for e, sh, hint in inside:
        if not _BALCONY.search(hint) or outline.is_empty:
            continue
        # Named a balcony, inside the walls: its own element, out of the floor.
        piece = _polygonal(shapely.intersection(sh.plan, outline))
        outline = _polygonal(shapely.difference(outline, piece, grid_size=GRID_M))
        slab_row[e.id()]["role"] = "balcony"
        rows.append(
            {
                "kind": "balcony",
                "area_m2": piece.area,
                "enclosed": pd.NA,
                "inside_structure": True,
                "note": "named a balcony, inside the walls",
                "guid": str(e.GlobalId),
            }
        )
    ground_z = float(st.z[st.ground])
    for e, sh, hint in outside:
        at_grade = st.levels[i] <= 1 and abs(sh.zmax - ground_z) <= 0.5
        kind, guarded, row = _outside_element(
            e, sh, hint, outline, g, at_grade=bool(at_grade)
        )
        slab_row[e.id()].update(role=kind, railing=guarded)
        if row is not None:
            rows.append(row)
    return outline, note, rows


def _area_rows(
    base: dict[str, Any],
    outline: shapely.Geometry,
    roof_tris: NDArray[np.float64],
    z: float,
    note: str,
) -> tuple[str, list[dict[str, Any]]]:
    """The storey's kind and its floor, basement or attic element rows."""
    if outline.is_empty:
        return "none", []
    eid = f"{base['building_id']}/{base['storey']}"
    bands = _attic_bands(outline, roof_tris, z) if base["level"] >= 1 else None
    if bands is None:
        kind = "basement" if base["level"] < 0 else "floor"
        row = {
            **base,
            "element_id": eid,
            "kind": kind,
            "area_m2": outline.area,
            "enclosed": True,
            "inside_structure": True,
            "note": note,
        }
        return kind, [row]
    rows = [
        {
            **base,
            "element_id": f"{eid}#{b}",
            "kind": "attic",
            "area_m2": region.area,
            "clear_height_m": clear,
            "enclosed": True,
            "inside_structure": True,
            "note": "pitched-roof space: band of structural clear height from "
            f"{clear:.2f} m (roof geometry)",
        }
        for b, (region, clear) in enumerate(bands)
    ]
    return "attic", rows


def _space_table(
    spaces: list[Any],
    util: Any,
    st: _Storeys,
    g: _Geometry,
    unit: float,
    area_unit: float,
) -> pd.DataFrame:
    rows = []
    for e in spaces:
        space = g.shapes.get(e.id())
        i = st.of(util, e, space.zmin if space is not None else math.nan)
        rows.append(
            {
                "guid": str(e.GlobalId),
                "name": str(e.Name or ""),
                "long_name": str(getattr(e, "LongName", None) or ""),
                "storey": st.labels[i],
                "level": int(st.levels[i]),
                "area_m2": space.plan.area if space is not None else math.nan,
                "qto_gross_floor_area_m2": _qto(
                    util, e, ("GrossFloorArea",), area_unit
                ),
                "qto_net_floor_area_m2": _qto(util, e, ("NetFloorArea",), area_unit),
                "height_m": space.zmax - space.zmin if space is not None else math.nan,
                "qto_height_m": _qto(util, e, ("Height",), unit),
                "z_bottom_m": space.zmin if space is not None else math.nan,
                "z_top_m": space.zmax if space is not None else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(SPACE_COLUMNS))


def read_ifc(
    path: str | os.PathLike[str],
    *,
    crs: Any = None,
    origin: tuple[float, float] | None = None,
    storey_height_fallback_m: float | None = None,
    threads: int | None = None,
) -> IFCData:
    """Read storeys, area elements, spaces and a georeferenced footprint from IFC.

    See the module documentation for how areas, outlines, balconies, attics
    and the georeference are derived.

    Parameters
    ----------
    path
        An IFC-SPF file (``.ifc``), IFC2X3 or IFC4, holding one building.
    crs
        Target CRS of :attr:`IFCData.building` (metric); default the map
        conversion's CRS if metric, else the local UTM zone.
    origin
        Position ``(x, y)`` in ``crs`` of the model's site origin, for files
        without a site location (or to override it) [m].
    storey_height_fallback_m
        Structural height of the top storey where no geometry above it gives
        one [m].
    threads
        Threads of the geometry iterator; default 1 for models under 500
        elements, else all cores.

    Returns
    -------
    IFCData

    Raises
    ------
    InputFileError
        If the file is missing, empty, not IFC, truncated or unreadable, or has
        no ``IfcBuilding`` or no ``IfcBuildingStorey``, or several buildings.
    CRSError
        If the model has no site location and ``crs``/``origin`` are not
        given, or ``crs`` is not metric.
    ImportError
        If ifcopenshell is not installed (``pip install 'cim-twin[bim]'``).

    Examples
    --------
    >>> from cim.io.ifc import read_ifc
    >>> data = read_ifc("AC20-FZK-Haus.ifc")  # doctest: +SKIP
    >>> data.storeys[["storey", "level", "elevation_m", "kind"]]  # doctest: +SKIP
             storey  level  elevation_m   kind
    0   Erdgeschoss      1          0.0  floor
    1  Dachgeschoss      2          2.7  attic
    """
    p = check_input_file(path, what="IFC file")
    _check_step(p)
    if storey_height_fallback_m is not None and not (
        np.isfinite(storey_height_fallback_m) and storey_height_fallback_m > 0
    ):
        msg = (
            f"invalid storey_height_fallback_m {storey_height_fallback_m!r}; "
            "expected a positive number of metres"
        )
        raise ValueError(msg)
    ifcopenshell = import_optional_dependency("ifcopenshell", extra="bim")
    geom = import_optional_dependency("ifcopenshell.geom", extra="bim")
    util = import_optional_dependency("ifcopenshell.util", extra="bim")
    for sub in ("unit", "element", "placement"):
        import_optional_dependency(f"ifcopenshell.util.{sub}", extra="bim")
    model = _open(p, ifcopenshell)

    buildings = model.by_type("IfcBuilding")
    if not buildings:
        msg = f"{p}: no IfcBuilding in the model; export the building, not a fragment"
        raise InputFileError(msg)
    if len(buildings) > 1:
        msg = f"{p}: {len(buildings)} IfcBuilding in one file; export one per file"
        raise InputFileError(msg)
    storey_entities = model.by_type("IfcBuildingStorey")
    if not storey_entities:
        msg = (
            f"{p}: no IfcBuildingStorey in the model; export it with its storeys "
            "(levels) and its elements assigned to them"
        )
        raise InputFileError(msg)
    building = buildings[0]
    building_id = str(building.GlobalId)
    building_name = str(building.Name or getattr(building, "LongName", None) or "")
    unit = float(util.unit.calculate_unit_scale(model))
    area_unit = float(util.unit.calculate_unit_scale(model, "AREAUNIT"))

    geo = _georeference(p, model, util, unit, crs=crs, origin=origin)
    target = _target_crs(geo, crs)
    st = _read_storeys(storey_entities, util, unit)
    n = len(st.z)

    slabs = list(model.by_type("IfcSlab"))
    spaces = list(model.by_type("IfcSpace"))
    others = [
        e
        for e in model.by_type("IfcElement")
        if not any(e.is_a(c) for c in _NOT_PHYSICAL)
    ]
    n_threads = _threads(len(slabs) + len(spaces) + len(others), threads)
    g = _read_geometry(model, geom, util, slabs, spaces, others, n_threads)
    slab_rows, floor_slabs = _slab_table(slabs, util, st, g, area_unit)
    slab_row = {r["id"]: r for r in slab_rows}

    outlines: list[shapely.Geometry] = []
    notes: list[str] = []
    extra: list[list[dict[str, Any]]] = []
    for i in range(n):
        outline, note, rows_i = _storey_parts(
            i, st, floor_slabs.get(i, []), g, slab_row
        )
        outlines.append(outline)
        notes.append(note)
        extra.append(rows_i)

    # Structural heights: next storey's elevation; the top one from geometry.
    sh_m = np.full(n, np.nan)
    sh_src = ["unknown"] * n
    sh_m[:-1] = np.diff(st.elevation)
    sh_src[:-1] = ["next_storey"] * (n - 1)
    top_h = _top_height(st, outlines[-1], g)
    if np.isfinite(top_h):
        sh_m[-1], sh_src[-1] = top_h, "geometry"
    elif storey_height_fallback_m is not None:
        sh_m[-1], sh_src[-1] = float(storey_height_fallback_m), "fallback"

    roof_tris = (
        np.concatenate([s.tris for s in g.roofs]) if g.roofs else np.empty((0, 3, 3))
    )
    kinds = ["none"] * n
    elements: list[dict[str, Any]] = []
    for i in range(n):
        base = {
            "building_id": building_id,
            "storey": st.labels[i],
            "level": int(st.levels[i]),
            "elevation_m": float(st.elevation[i]),
            "structural_height_m": float(sh_m[i]),
        }
        kinds[i], rows_i = _area_rows(
            base, outlines[i], roof_tris, float(st.z[i]), notes[i]
        )
        elements += rows_i
        for row in extra[i]:
            guid = row.pop("guid")
            eid = f"{building_id}/{st.labels[i]}/{row['kind']}/{guid}"
            elements.append({**base, "element_id": eid, **row})
    columns = [c.name for c in ELEMENTS.columns]
    table = pd.DataFrame(elements, columns=[*columns, "note"])
    table["note"] = table["note"].fillna("").astype("str")
    table = validate_elements(table)

    space_table = _space_table(spaces, util, st, g, unit, area_unit)
    n_spaces = (
        space_table["storey"].value_counts().reindex(st.labels, fill_value=0)
    ).to_numpy()

    storeys = gpd.GeoDataFrame(
        {
            "storey": pd.array(st.labels, dtype="str"),
            "guid": [str(s.GlobalId) for s in st.entities],
            "name": [str(s.Name or "") for s in st.entities],
            "level": pd.array(st.levels, dtype="Int64"),
            "elevation_m": st.elevation,
            "z_m": st.z,
            "structural_height_m": sh_m,
            "structural_height_source": sh_src,
            "above_ground": st.levels >= 1,
            "kind": kinds,
            "floor_area_m2": [o.area for o in outlines],
            "n_spaces": n_spaces,
            "note": notes,
        },
        geometry=outlines,
        crs=None,
    )

    if not outlines[st.ground].is_empty:
        footprint = outlines[st.ground]
    elif any(not o.is_empty for o in outlines):
        footprint = _polygonal(shapely.union_all(outlines, grid_size=GRID_M))
    else:
        footprint = _polygonal(
            shapely.union_all([s.plan for s in g.physical], grid_size=GRID_M)
        )
    if footprint.is_empty:
        msg = f"{p}: no building geometry found; export the model with body geometry"
        raise InputFileError(msg)
    height = max(s.zmax for s in g.physical) - float(st.z[st.ground])
    floors = sum(1 for i in range(n) if kinds[i] != "none" and st.levels[i] >= 1)
    building_gdf = gpd.GeoDataFrame(
        {
            "building_id": [building_id],
            "name": [building_name],
            "height_m": [float(height)],
            "height_source": ["measured"],
            "floors": pd.array([floors or pd.NA], dtype="Int64"),
            "floors_source": ["measured"],
            # Enclosed volume by storey: outline area x structural height.
            "volume_m3": [_storey_volume(storeys)],
            "volume_source": ["storey_outlines"],
        },
        geometry=[geo.to_crs(footprint, target)],
        crs=target,
    )
    return IFCData(
        path=p,
        schema=str(model.schema),
        building_id=building_id,
        building_name=building_name,
        storeys=storeys,
        elements=table,
        spaces=space_table,
        slabs=pd.DataFrame(
            [{k: r[k] for k in SLAB_COLUMNS} for r in slab_rows],
            columns=list(SLAB_COLUMNS),
        ),
        footprint=footprint,
        height_m=float(height),
        georeference=geo,
        crs=target,
        building=building_gdf,
        source={"name": f"IFC model {p.name}", "licence": "unknown", "attribution": ""},
    )


def _storey_volume(storeys: pd.DataFrame) -> float:
    area = pd.to_numeric(storeys["floor_area_m2"], errors="coerce").fillna(0.0)
    height = pd.to_numeric(storeys["structural_height_m"], errors="coerce").fillna(0.0)
    return float((area * height).sum())


def twin_from_ifc(
    path: str | os.PathLike[str],
    *,
    crs: Any = None,
    origin: tuple[float, float] | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Twin:
    """A twin holding one building read from an IFC file, with its element table.

    Parameters
    ----------
    path
        The IFC file.
    crs
        The twin's metric CRS; default as in :func:`read_ifc`.
    origin
        Position of the model's site origin in ``crs`` (see :func:`read_ifc`).
    name
        Name of the twin; default the building's name, else the file's stem.
    **kwargs
        Passed to :func:`read_ifc` (``storey_height_fallback_m``,
        ``threads``).

    Returns
    -------
    Twin
        With the ``buildings`` layer (one building) and the element table.

    Raises
    ------
    InputFileError, CRSError
        As :func:`read_ifc`.

    Examples
    --------
    >>> from cim.io.ifc import twin_from_ifc
    >>> from cim.takeoff import takeoff
    >>> twin = twin_from_ifc("duplex.ifc")  # doctest: +SKIP
    >>> takeoff(twin.elements).gross_floor_area_m2  # doctest: +SKIP
    313.28
    """
    data = read_ifc(path, crs=crs, origin=origin, **kwargs)
    return Twin(
        crs=data.crs,
        name=name or data.building_name or data.path.stem,
        buildings=data.building,
        elements=data.elements,
        metadata={"sources": [data.source]},
    )
