"""Reading and writing CityJSON 3D city models (versions 1.0, 1.1 and 2.0).

`read_cityjson` turns a CityJSON file into the twin's ``buildings`` layer (2D
footprints with heights and volumes) and ``surfaces`` layer (the 3D boundary
surfaces, PolygonZ, with their semantics), and lists every other city object
(roads, land use, vegetation ...) with its footprint. `write_cityjson` writes
the two layers back as CityJSON 2.0, and `twin_from_cityjson` builds a
:class:`~cim.Twin` from a file.

Volumes come from the divergence theorem over each building's closed shell
(`geometry.polygons3d`). Real files often have open shells: the LoD1 blocks
of 3dfier lack their ground face, LoD2 models leave out party walls, let
roofs float above their walls or meet neighbouring faces at T-junctions.
Such a shell's divergence "volume" changes with the origin of the
tetrahedra, so it is never used as is: the shell is closed where a closed
solid is implied (T-junctions split, planar holes capped), else the volume is
the footprint area times the modelled height. ``volume_source`` says which,
and one :class:`~cim.errors.RepairWarning` per file counts the repairs.

Storeys are estimated from the roof surfaces (semantic ``RoofSurface``),
not from the roof top, where the file does not give ``storeysAboveGround``;
see `read_cityjson`. Under a pitched roof, the storeys stop at the eave and
the roof space above becomes an attic, which the floor-area take-off counts
by clear height (GB/T 50353-2013 §3.0.3, via the ``attic_*`` columns and
:func:`cim.storeys.storeys_from_buildings`) rather than as a full storey.
A building whose parts stand over different storey counts (a house and its
one-storey annex) gets its storeys part by part as an element table, which
`twin_from_cityjson` puts into the twin's ``elements``, so that the
take-off counts each part's plan for its own storeys.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS
from scipy.sparse.csgraph import connected_components

from cim.crs import (
    check_distortion,
    check_metric_crs,
    coords_look_geographic,
    resolve_crs,
)
from cim.errors import CRSError, InputFileError, RepairWarning
from cim.estimate import estimate_parameter
from cim.io.files import atomic_path, check_input_file
from cim.storeys import (
    ATTIC_BREAKS_M,
    ATTIC_COLUMNS,
    ELEMENTS,
    attic_band_rows,
    validate_elements,
)
from geometry.polygons3d import (
    close_shells,
    is_closed,
    polygons_from_rings,
    signed_volume,
    triangulate_rings,
)

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "SUPPORTED_VERSIONS",
    "VOLUME_SOURCES",
    "CityJSONData",
    "read_cityjson",
    "twin_from_cityjson",
    "write_cityjson",
]

#: CityJSON versions `read_cityjson` accepts; `write_cityjson` writes 2.0.
SUPPORTED_VERSIONS: Final = ("1.0", "1.1", "2.0")

#: Values of ``volume_source``: the shell was closed as given, was closed by
#: the repair, or the volume is footprint area x height.
VOLUME_SOURCES: Final = ("closed", "closed_after_repair", "footprint_x_height")

#: CityJSON semantic surface types -> the twin's ``semantic`` values.
_SEMANTICS: Final = {
    "GroundSurface": "ground",
    "WallSurface": "wall",
    "RoofSurface": "roof",
    "ClosureSurface": "closure",
}
_CITYJSON_SEMANTIC: Final = {v: k for k, v in _SEMANTICS.items()}
#: Semantic surface types allowed on buildings by the CityJSON 2.0 schema.
_BUILDING_SURFACE_TYPES: Final = (
    *_SEMANTICS,
    "OuterCeilingSurface",
    "OuterFloorSurface",
    "Window",
    "Door",
    "InteriorWallSurface",
    "CeilingSurface",
    "FloorSurface",
)

_SURFACE_GEOMETRIES: Final = (
    "MultiSurface",
    "CompositeSurface",
    "Solid",
    "MultiSolid",
    "CompositeSolid",
)
_BUILDING_TYPES: Final = ("Building", "BuildingPart")

#: Attributes giving the elevation of the ground around a building [m].
_GROUND_ATTRIBUTES: Final = ("h_maaiveld", "b3_h_maaiveld", "TerrainHeight")
#: An attribute ground farther than this from the ground surfaces is taken to
#: be in another vertical datum and is not used [m].
_GROUND_ATTRIBUTE_TOL_M: Final = 1.0
#: Attributes read into schema columns, first match wins.
_YEAR_ATTRIBUTES: Final = (
    "oorspronkelijkbouwjaar",
    "oorspronkelijk_bouwjaar",
    "yearOfConstruction",
)
_FLOORS_ATTRIBUTES: Final = ("storeysAboveGround",)

#: Columns `read_cityjson` derives from the geometry; attributes of the same
#: name are renamed with the prefix ``cityjson_``, and `write_cityjson` does
#: not write these columns as attributes.
_DERIVED: Final = (
    "building_id",
    "height_m",
    "height_source",
    "year_built",
    "floors",
    "floors_source",
    "storey_height_m",
    *ATTIC_COLUMNS,
    "lod",
    "parts",
    "volume_m3",
    "volume_source",
    "ground_z_m",
)

#: Roof faces sloping less than this are flat [deg] (as in cim.io.ifc).
_FLAT_ROOF_DEG: Final = 5.0
#: Least structural height of a storey that counts in full, GB/T 50353-2013
#: §3.0.1 [m]: the full storeys under an attic are given at least this.
_FULL_STOREY_M: Final = 2.20
#: A pitched roof holds an attic if at least this much of its plan [m2], and
#: this share of it, has a clear height of 2.10 m or more (a space one can
#: stand in; a lower roof void is not a storey).
_ATTIC_MIN_M2: Final = 0.5
_ATTIC_MIN_SHARE: Final = 0.01
#: The roof plan of a building over one storey count must be at least this
#: [m2] to make a part with that many storeys: chimneys and slivers of a roof
#: model do not (a one-storey lean-to of 2 m2 does).
_PART_MIN_M2: Final = 1.0

#: Quantisation of written coordinates [m].
_SCALE: Final = 0.001
#: Level of detail given to footprints written as extruded blocks.
_EXTRUDED_LOD: Final = "1"

_EPSG = re.compile(r"EPSG.*?(\d+)\s*/?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class CityJSONData:
    """The content of a CityJSON file, as twin layers.

    Attributes
    ----------
    buildings : geopandas.GeoDataFrame
        One row per Building (its BuildingParts merged into it): 2D footprint,
        ``building_id`` (the CityObject id), ``height_m`` [m] (roof top minus
        ground, ``height_source`` ``"measured"``), ``ground_z_m`` [m] (the
        ground elevation used), ``volume_m3`` [m³] with ``volume_source``
        (one of `VOLUME_SOURCES`), ``year_built``, ``lod``, ``parts`` (number
        of BuildingParts) and the CityObject's attributes (nested values as
        JSON text). Where any building has storeys, ``floors`` with
        ``floors_source`` (``"measured"`` from ``storeysAboveGround``,
        ``"height"`` when estimated from the roofs); where any are estimated,
        also ``storey_height_m`` [m] (their mean structural storey height)
        and the attic columns :data:`cim.storeys.ATTIC_COLUMNS` [m²] (0 for
        buildings without an attic), NaN for the other buildings. See
        `read_cityjson`.
    surfaces : geopandas.GeoDataFrame
        The buildings' 3D boundary surfaces (PolygonZ) at the selected LoD:
        ``surface_id``, ``building_id``, ``part_id`` (the BuildingPart, or
        ``""``), ``semantic`` (ground, wall, roof, closure or other), ``lod``
        and ``semantic_type`` (the CityJSON semantic type, or ``""``).
    other_objects : geopandas.GeoDataFrame
        Every other city object (roads, land use, vegetation, bridges ...):
        ``object_id``, ``cityobject_type``, ``lod``, ``attributes`` (JSON
        text) and its 2D footprint (None for objects without surfaces).
    counts : dict of str to int
        Number of city objects of each type in the file.
    crs : pyproj.CRS
        The horizontal, metric CRS of the layers.
    reference_system : str or None
        ``metadata.referenceSystem`` as written in the file.
    version : str
        The file's CityJSON version.
    metadata : dict
        The file's ``metadata`` member.
    source : dict
        ``name``, ``file``, ``licence`` and ``attribution`` for the twin's
        metadata.
    elements : pandas.DataFrame
        The storeys, part by part, of the buildings whose parts stand over
        different storey counts (estimated from their roofs), as an element
        table (:data:`cim.storeys.ELEMENTS`, with ``floors_source`` and
        ``storey_height_source``); empty if there are none. See
        `read_cityjson`.
    """

    buildings: gpd.GeoDataFrame
    surfaces: gpd.GeoDataFrame
    other_objects: gpd.GeoDataFrame
    counts: dict[str, int]
    crs: CRS
    reference_system: str | None
    version: str
    metadata: dict[str, Any] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    elements: pd.DataFrame = field(
        default_factory=lambda: validate_elements(
            pd.DataFrame({c: [] for c in ELEMENTS.required})
        )
    )


# -- reading ---------------------------------------------------------------------


def _load_json(p: Path) -> Any:
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = (
            f"{p}: not a CityJSON file (not UTF-8 text: {exc.reason} at byte "
            f"{exc.start})"
        )
        raise InputFileError(msg) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            msg = f"{p}: the file holds only white space; re-export the CityJSON file"
        elif exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated"):
            msg = (
                f"{p}: the JSON ends early at line {exc.lineno} (truncated "
                f"file?); re-download or re-export it"
            )
        else:
            msg = (
                f"{p}: not valid JSON ({exc.msg} at line {exc.lineno}, column "
                f"{exc.colno}); give a CityJSON file"
            )
        raise InputFileError(msg) from exc


def _check_document(p: Path, doc: Any) -> str:
    """Check that ``doc`` is a supported CityJSON object; return its version."""
    if not isinstance(doc, dict):
        msg = (
            f"{p}: JSON but not CityJSON (a JSON {type(doc).__name__}, not an object "
            'with "type": "CityJSON"); give a .city.json file'
        )
        raise InputFileError(msg)
    if doc.get("type") != "CityJSON":
        kind = doc.get("type")
        if kind == "CityJSONFeature":
            msg = (
                f"{p}: a CityJSONFeature (a line of CityJSON Text Sequences), not a "
                "CityJSON file; merge the sequence into one file, e.g. with "
                "`cjseq collect`"
            )
        else:
            msg = (
                f"{p}: JSON but not CityJSON (its 'type' is {kind!r}, expected "
                "'CityJSON'); give a .city.json file"
            )
        raise InputFileError(msg)
    version = str(doc.get("version", ""))
    short = ".".join(version.split(".")[:2])
    if short not in SUPPORTED_VERSIONS:
        msg = (
            f"{p}: CityJSON version {version!r} is not supported (supported: "
            f"{', '.join(SUPPORTED_VERSIONS)}); upgrade it with "
            "`cjio FILE upgrade save OUT.city.json`"
        )
        raise InputFileError(msg)
    for key, kind_ in (("CityObjects", dict), ("vertices", list)):
        if not isinstance(doc.get(key), kind_):
            msg = f"{p}: CityJSON without a valid {key!r} member; the file is damaged"
            raise InputFileError(msg)
    return short


def _vertices(p: Path, doc: Mapping[str, Any]) -> npt.NDArray[np.float64]:
    try:
        v = np.asarray(doc["vertices"], dtype=np.float64).reshape(-1, 3)
        if len(doc["vertices"]) and v.shape[0] != len(doc["vertices"]):
            raise ValueError("vertices must have three coordinates")
        transform = doc.get("transform")
        if transform is not None:
            scale = np.asarray(transform["scale"], dtype=np.float64).reshape(3)
            translate = np.asarray(transform["translate"], dtype=np.float64).reshape(3)
            v = v * scale + translate
    except (ValueError, TypeError, KeyError) as exc:
        msg = f"{p}: invalid 'vertices' or 'transform' ({exc}); the file is damaged"
        raise InputFileError(msg) from exc
    if not np.isfinite(v).all():
        msg = f"{p}: some vertices are not finite numbers; the file is damaged"
        raise InputFileError(msg)
    return v


def _parse_epsg(reference: str) -> int | None:
    m = _EPSG.search(reference.strip())
    return int(m.group(1)) if m else None


def _horizontal(crs: CRS) -> CRS:
    """The horizontal part of a compound CRS (the CRS itself otherwise)."""
    if crs.is_compound:
        for sub in crs.sub_crs_list:
            if not sub.is_vertical:
                return sub
    return crs


def _layer_crs(p: Path, reference: str | None, crs: Any) -> CRS:
    declared: CRS | None = None
    if reference:
        code = _parse_epsg(reference)
        try:
            declared = CRS.from_epsg(code) if code else CRS.from_user_input(reference)
        except Exception as exc:
            msg = (
                f"{p}: metadata.referenceSystem {reference!r} is not a known CRS; "
                "pass the right one with crs=, e.g. crs=28992"
            )
            raise CRSError(msg) from exc
    given = None if crs is None else resolve_crs(crs)
    if declared is None and given is None:
        msg = (
            f"{p}: the file declares no CRS (no metadata.referenceSystem); pass "
            "it, e.g. read_cityjson(path, crs=28992) for Dutch RD New or crs=2056 "
            "for Swiss LV95"
        )
        raise CRSError(msg)
    if declared is not None and given is not None:
        if not _horizontal(declared).equals(_horizontal(given)):
            msg = (
                f"{p}: the file declares {reference} but crs={crs!r} was given; "
                "drop crs= (CityJSON is not reprojected on reading)"
            )
            raise CRSError(msg)
    chosen = given if given is not None else declared
    assert chosen is not None  # one of them is set, see above
    try:
        return check_metric_crs(_horizontal(chosen), layer="buildings")
    except CRSError as exc:
        msg = f"{p}: {exc}; CityJSON coordinates must be projected, in metres"
        raise CRSError(msg) from exc


def _lod_key(lod: Any) -> float:
    try:
        return float(lod)
    except (TypeError, ValueError):
        return math.nan


def _lod_str(lod: Any) -> str:
    if isinstance(lod, float) and lod.is_integer():
        return str(int(lod))
    return str(lod)


def _select(geoms: Any, lod: Any) -> dict[str, Any] | None:
    """The surface geometry of an object at ``lod`` (default: highest)."""
    if not isinstance(geoms, list):
        return None
    cands = [
        g for g in geoms if isinstance(g, dict) and g.get("type") in _SURFACE_GEOMETRIES
    ]
    if lod is not None:
        want = _lod_key(lod)
        cands = [g for g in cands if _lod_key(g.get("lod")) == want]
        return cands[0] if cands else None
    if not cands:
        return None
    keys = [_lod_key(g.get("lod")) for g in cands]
    best = max(
        range(len(cands)), key=lambda i: -math.inf if math.isnan(keys[i]) else keys[i]
    )
    return cands[best]


def _flatten(geom: Mapping[str, Any]) -> tuple[list[Any], list[str | None]]:
    """Surfaces (lists of rings) of a geometry and their semantic types."""
    kind = geom["type"]
    bnd = geom["boundaries"]
    sem = geom.get("semantics") or {}
    types = [
        s.get("type") if isinstance(s, dict) else None for s in sem.get("surfaces", [])
    ]
    values = sem.get("values")

    def name(v: Any) -> str | None:
        return types[v] if isinstance(v, int) and 0 <= v < len(types) else None

    if kind in ("MultiSurface", "CompositeSurface"):
        vals = values if isinstance(values, list) else [None] * len(bnd)
        return list(bnd), [name(v) for v in vals]
    if kind == "Solid":
        shells, svals = [bnd], [values]
    else:  # MultiSolid, CompositeSolid
        shells = list(bnd)
        svals = values if isinstance(values, list) else [None] * len(shells)
    surfaces: list[Any] = []
    sems: list[str | None] = []
    for solid, sv in zip(shells, svals, strict=True):
        sv = sv if isinstance(sv, list) else [None] * len(solid)
        for shell, shv in zip(solid, sv, strict=True):
            shv = shv if isinstance(shv, list) else [None] * len(shell)
            surfaces.extend(shell)
            sems.extend(name(v) for v in shv)
    return surfaces, sems


class _Rings:
    """Surfaces gathered as rings of vertex indices, with their labels."""

    def __init__(self) -> None:
        self.rv: list[int] = []
        self.ro: list[int] = [0]
        self.po: list[int] = [0]
        self.owner: list[int] = []
        self.part: list[str] = []
        self.sem: list[str] = []
        self.lod: list[str] = []

    def add(
        self, geom: Mapping[str, Any], owner: int, part: str, oid: str, p: Path
    ) -> None:
        try:
            surfaces, sems = _flatten(geom)
            lod = _lod_str(geom.get("lod", ""))
            for surface, sem in zip(surfaces, sems, strict=True):
                for ring in surface:
                    self.rv.extend(int(i) for i in ring)
                    self.ro.append(len(self.rv))
                self.po.append(len(self.ro) - 1)
                self.owner.append(owner)
                self.part.append(part)
                self.sem.append(sem or "")
                self.lod.append(lod)
        except (TypeError, ValueError, KeyError) as exc:
            msg = (
                f"{p}: city object {oid!r} has a malformed {geom.get('type')} "
                f"geometry ({exc}); the file is damaged"
            )
            raise InputFileError(msg) from exc

    def arrays(self) -> tuple[npt.NDArray[np.intp], ...]:
        return (
            np.asarray(self.rv, dtype=np.intp),
            np.asarray(self.ro, dtype=np.intp),
            np.asarray(self.po, dtype=np.intp),
            np.asarray(self.owner, dtype=np.intp),
        )


def _attr_value(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return v


def _as_int(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) else None


def _as_float(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _union_by_group(
    polys: npt.NDArray[np.object_], group: npt.NDArray[np.intp], n: int
) -> npt.NDArray[np.object_]:
    """Union of the polygons of each group, made valid; None for empty groups."""
    out = np.full(n, None, dtype=object)
    present = np.array([g is not None for g in polys], dtype=bool)
    if not present.any():
        return out
    polys, group = polys[present], group[present]
    area = shapely.area(polys)
    keep = area > 1e-9
    polys, group = polys[keep], group[keep]
    bad = ~shapely.is_valid(polys)
    if bad.any():
        polys = polys.copy()
        polys[bad] = shapely.make_valid(polys[bad])
    order = np.argsort(group, kind="stable")
    polys, group = polys[order], group[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n))])
    # One GEOS union per group; there is no vectorised grouped union.
    for k in np.flatnonzero(np.diff(bounds)):
        u = shapely.union_all(polys[bounds[k] : bounds[k + 1]])
        out[k] = _polygonal(u)
    return out


def _polygonal(geom: Any) -> Any:
    """The polygonal part of a geometry, valid; None if it has no area."""
    if geom is None or shapely.is_empty(geom):
        return None
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom if geom.area > 0 else None
    parts = [
        g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not parts:
        return None
    u = shapely.union_all(parts)
    return u if u.area > 0 else None


def read_cityjson(
    path: str | os.PathLike[str],
    *,
    crs: Any = None,
    lod: str | float | None = None,
    storey_height_m: float | None = None,
) -> CityJSONData:
    """Read a CityJSON 1.0, 1.1 or 2.0 file into building and surface layers.

    Each Building becomes one row of ``buildings``; its BuildingParts are
    merged into it. The footprint is the union of the ground surfaces
    projected to the plane (of all surfaces where there are no ground
    surfaces), made valid. ``height_m`` is the roof top (the highest vertex)
    minus the ground: the attribute ``h_maaiveld``, ``b3_h_maaiveld`` or
    ``TerrainHeight`` where present and within 1 m of the lowest ground
    surface, else that lowest ground surface (or lowest vertex). The volume
    is that of the closed shell of all the building's surfaces; see the
    module docstring for open shells.

    ``floors`` is the attribute ``storeysAboveGround`` where given
    (``floors_source`` ``"measured"``). Otherwise, for a building with roof
    surfaces, it is estimated from them (``"height"``); the roof is taken
    over the footprint only, so overhangs beyond the walls do not count, and
    ``round`` rounds halves up:

    1. A flat roof face (sloping less than 5°) stands over ``round(h / s)``
       storeys, at least 1, where ``h`` is its height above the ground and
       ``s`` is ``storey_height_m``.
    2. Sloped roof faces of one city object (the Building or one of its
       BuildingParts) sharing corners form a pitched roof. Its eave ``e``
       is its lowest point over the footprint: the storeys under it are
       ``round(e / s)``, at least 1, and the attic floor is at the eave (at
       least 2.20 m per storey below, the GB/T 50353-2013 §3.0.1 height of a
       storey counted in full). The roof space above is an attic, not a
       storey, if one can stand in it: if the roof is 2.10 m or more above
       the attic floor over at least 0.5 m² and 1 % of the roof's plan (a
       lower void is no storey). A further attic level follows every storey
       height while the same holds above its floor.
    3. ``floors`` is the plan-weighted mean of these storey counts over the
       roof, rounded, at least 1. ``storey_height_m`` is the mean structural
       storey height (``e / round(e / s)`` under pitched roofs,
       ``h / round(h / s)`` under flat ones).
    4. The attics' plan [m²] goes into ``attic_area_m2``, the part with a
       structural clear height (roof above the attic floor) of at least
       1.20 m into ``attic_area_clear120_m2`` and of at least 2.10 m into
       ``attic_area_clear210_m2``, summed over attic levels:
       :func:`cim.storeys.storeys_from_buildings` makes them ``attic``
       elements above the storeys, which GB/T 50353-2013 §3.0.3 counts by
       those clear-height bands.
    5. Where the roof stands over several storey counts (at least 1 m² of
       its plan over each: chimneys and slivers do not count), e.g. a
       two-storey house with a one-storey annex, footprint x floors would
       count the annex on every storey. Such a building's storeys go into
       ``elements`` instead (:data:`cim.storeys.ELEMENTS`): on level ``k``
       one ``floor`` element of the footprint's area times the share of the
       roof's plan over ``k`` storeys or more (level 1: the whole footprint),
       of that share's mean storey height, and the attic bands of each
       pitched roof on the level above its storeys, ids and clear heights as
       :func:`cim.storeys.storeys_from_buildings` makes them;
       ``floors_source`` ``"height"`` and ``storey_height_source``
       ``"estimated"`` say they are estimates. The take-off uses these
       elements instead of footprint x floors, so each part's plan counts
       for its own storeys.

    A gable house with eaves at 6 m and its ridge at 9 m thus has 2 storeys
    and an attic (not 3 storeys), an 18 m flat-roofed block 6 storeys; with
    a 20 m² flat one-storey annex of 3 m, the building has 2 storeys over
    the house's 80 m² and 1 over the annex (100 + 80 m² and the attic), not
    2 over the whole footprint (2 x 100 m²). The
    attic floor at the eave ignores knee walls, which would raise the clear
    heights: the attic's counted area is then on the low side. Buildings
    without roof surfaces (LoD1 blocks without semantics ...) get no
    ``floors`` here; the twin estimates them from ``height_m``.

    Parameters
    ----------
    path
        The ``.city.json`` file.
    crs
        The file's CRS when it declares none (``metadata.referenceSystem``),
        e.g. ``28992``. A compound CRS (e.g. EPSG:7415, RD New + NAP height)
        gives the layers its horizontal part (EPSG:28992); z stays in metres.
    lod
        Level of detail to read, e.g. ``"1.2"`` or ``2``; by default the
        highest of each city object. Buildings without it are left out.
    storey_height_m
        Storey height for the storey estimates [m]; default from
        ``assets/defaults.toml`` (3.0 m).

    Returns
    -------
    CityJSONData

    Raises
    ------
    InputFileError
        If the file is missing, empty, not JSON, truncated, not CityJSON, of
        an unsupported version or damaged.
    CRSError
        If the file declares no CRS and ``crs`` is not given, the CRS is
        geographic or not in metres, or ``crs`` contradicts the file.
    ValueError
        If ``lod`` is given and no building has geometry at that LoD, or
        ``storey_height_m`` is not a positive number.

    Warns
    -----
    RepairWarning
        Once per file, if shells were open (saying how many were closed and
        how many measured as footprint x height), shells were inside out,
        buildings had no usable geometry, or a ground attribute was ignored.

    Examples
    --------
    >>> from cim.io.cityjson import read_cityjson
    >>> data = read_cityjson("3dbag_multi_lod.city.json", crs=28992)  # doctest: +SKIP
    >>> data.buildings[["building_id", "height_m", "volume_m3"]]  # doctest: +SKIP
    """
    sh = _storey_height(storey_height_m)
    p = check_input_file(path, what="CityJSON file")
    doc = _load_json(p)
    version = _check_document(p, doc)
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    reference = metadata.get("referenceSystem")
    reference = reference if isinstance(reference, str) and reference else None
    layer_crs = _layer_crs(p, reference, crs)
    vertices = _vertices(p, doc)
    objects: dict[str, Any] = doc["CityObjects"]
    counts = dict(sorted(Counter(str(o.get("type")) for o in objects.values()).items()))

    # Which objects are buildings (rows) and which parts belong to them.
    def parts_of(oid: str, seen: set[str]) -> list[str]:
        out: list[str] = []
        for c in objects.get(oid, {}).get("children") or []:
            child = objects.get(c)
            if c in seen or not isinstance(child, dict):
                continue
            if child.get("type") == "BuildingPart":
                seen.add(c)
                out.append(c)
                out.extend(parts_of(c, seen))
        return out

    rows: list[str] = []
    row_parts: list[list[str]] = []
    in_building: set[str] = set()
    for oid, obj in objects.items():
        if obj.get("type") == "Building":
            rows.append(oid)
            ps = parts_of(oid, {oid})
            row_parts.append(ps)
            in_building.update([oid, *ps])
    for oid, obj in objects.items():  # parts whose parent is missing
        if obj.get("type") == "BuildingPart" and oid not in in_building:
            rows.append(oid)
            ps = parts_of(oid, {oid})
            row_parts.append(ps)
            in_building.update([oid, *ps])

    bld = _Rings()
    no_lod: list[str] = []
    for k, (oid, parts) in enumerate(zip(rows, row_parts, strict=True)):
        found = False
        for member in (oid, *parts):
            g = _select(objects[member].get("geometry"), lod)
            if g is not None:
                bld.add(g, k, "" if member == oid else member, member, p)
                found = True
        if not found:
            no_lod.append(oid)

    others = [oid for oid in objects if oid not in in_building]
    oth = _Rings()
    other_lod: list[str] = []
    for k, oid in enumerate(others):
        g = _select(objects[oid].get("geometry"), None)
        other_lod.append("" if g is None else _lod_str(g.get("lod", "")))
        if g is not None:
            oth.add(g, k, "", oid, p)

    # Vertices: merge exact duplicates, so that shells share edges.
    vertices, inverse = np.unique(vertices + 0.0, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for rings in (bld, oth):
        if rings.rv:
            idx = np.asarray(rings.rv, dtype=np.intp)
            bad = (idx < 0) | (idx >= inverse.shape[0])
            if bad.any():
                msg = (
                    f"{p}: a geometry refers to vertex {int(idx[bad][0])}, but the "
                    f"file has {inverse.shape[0]} vertices; the file is damaged"
                )
                raise InputFileError(msg)
            rings.rv = inverse[idx].tolist()

    if lod is not None and rows and len(no_lod) == len(rows):
        have = sorted(
            {
                _lod_str(g.get("lod"))
                for oid in in_building
                for g in objects[oid].get("geometry") or []
                if isinstance(g, dict) and "lod" in g
            },
            key=_lod_key,
        )
        msg = (
            f"{p}: no building has LoD {lod}; the file has LoD "
            f"{', '.join(have) or 'none'}"
        )
        raise ValueError(msg)
    buildings, surfaces, elements, notes = _building_layers(
        p, vertices, bld, rows, row_parts, objects, layer_crs, storey_height_m=sh
    )
    if no_lod:
        what = f"LoD {lod} geometry" if lod is not None else "surface geometry"
        shown = ", ".join(repr(i) for i in no_lod[:3])
        more = " ..." if len(no_lod) > 3 else ""
        notes.append(
            f"{len(no_lod)} buildings have no {what} and were left out ({shown}{more})"
        )
    other_objects = _other_layer(vertices, oth, others, objects, other_lod, layer_crs)

    if len(buildings):
        b = buildings.total_bounds
        if coords_look_geographic((b[0], b[1], b[2], b[3]), layer_crs):
            msg = (
                f"{p}: declares {layer_crs.to_string()} (metres) but its coordinates "
                "look like longitude/latitude degrees; give the right crs="
            )
            raise CRSError(msg)
        # Refuses only; the twin warns about the CRS's area of use.
        check_distortion(
            (b[0], b[1], b[2], b[3]), layer_crs, layer="buildings", warn=False
        )
    if notes:
        warnings.warn(f"{p.name}: " + "; ".join(notes), RepairWarning, stacklevel=2)

    source = {
        "name": str(metadata.get("title") or p.name),
        "file": p.name,
        "format": f"CityJSON {version}",
        "licence": str(metadata.get("license") or metadata.get("licence") or ""),
        "attribution": _attribution(metadata),
    }
    return CityJSONData(
        buildings=buildings,
        surfaces=surfaces,
        other_objects=other_objects,
        counts=counts,
        crs=layer_crs,
        reference_system=reference,
        version=version,
        metadata=json.loads(json.dumps(metadata)),
        source=source,
        elements=elements,
    )


def _storey_height(storey_height_m: float | None) -> float:
    """The storey height for estimates: the argument, else the default [m]."""
    if storey_height_m is None:
        return estimate_parameter("storey_height_m")
    sh = _as_float(storey_height_m)
    if sh is None or sh <= 0:
        msg = (
            f"invalid storey_height_m {storey_height_m!r}; expected a positive "
            "number of metres"
        )
        raise ValueError(msg)
    return sh


def _attribution(metadata: Mapping[str, Any]) -> str:
    contact = metadata.get("pointOfContact") or metadata.get("datasetPointOfContact")
    if isinstance(contact, dict):
        for key in ("organization", "contactName"):
            if contact.get(key):
                return str(contact[key])
    return ""


# -- storeys from LoD2 roofs -------------------------------------------------------


@dataclass(frozen=True)
class _RoofStoreys:
    """Storeys and attic of each building estimated from its roof surfaces.

    Per building, ``(n,)`` float, NaN for buildings without roof surfaces:
    the rounded plan-weighted mean storey count, the mean structural storey
    height [m] and the attic bands [m2] (see `read_cityjson`). Per (building,
    storey count) over the roof, ``(k,)`` each: the ``profile_*`` arrays,
    the roof plan over that many storeys [m2], its plan-weighted mean
    structural storey height [m] and, for buildings over several storey
    counts, that plan as a (Multi)Polygon (else None). Per (building, attic
    level), ``(j,)``: the ``attic_*`` arrays, the level (storey number), the
    attic plan above its floor, above it + 1.20 m and above it + 2.10 m
    ``(j, 3)`` [m2], and the floor's plan-weighted height above the ground
    [m].
    """

    floors: npt.NDArray[np.float64]
    storey_height_m: npt.NDArray[np.float64]
    attic_area_m2: npt.NDArray[np.float64]
    attic_clear120_m2: npt.NDArray[np.float64]
    attic_clear210_m2: npt.NDArray[np.float64]
    profile_building: npt.NDArray[np.intp]
    profile_storeys: npt.NDArray[np.intp]
    profile_area_m2: npt.NDArray[np.float64]
    profile_height_m: npt.NDArray[np.float64]
    profile_plan: npt.NDArray[np.object_]
    attic_building: npt.NDArray[np.intp]
    attic_level: npt.NDArray[np.intp]
    attic_plan_m2: npt.NDArray[np.float64]
    attic_floor_m: npt.NDArray[np.float64]


def _share_above(z: npt.NDArray[np.float64], t: npt.NDArray[np.float64]) -> Any:
    """Share of each triangle's plan where its plane is at or above height ``t``.

    ``z`` (k, 3) float, the corner heights; ``t`` (k,) float. The height is
    linear over a triangle, so the share below ``t`` grows as a square from
    the lowest corner to the middle one, and the share above shrinks as a
    square from the middle corner to the highest.
    """
    lo, mid, hi = np.sort(z, axis=1).T
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = 1.0 - (t - lo) ** 2 / ((mid - lo) * (hi - lo))
        falling = (hi - t) ** 2 / ((hi - lo) * (hi - mid))
    inner = np.where(t <= mid, rising, falling)
    return np.where(t <= lo, 1.0, np.where(t >= hi, 0.0, inner))


def _clip_to_footprints(
    tris: npt.NDArray[np.float64],
    owner: npt.NDArray[np.intp],
    footprint: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """The parts of 3D triangles over their building's footprint, as triangles.

    Roof overhangs and eaves beyond the walls are cut off, so that the roof
    heights are those over the building. Returns the triangles ``(k, 3, 3)``
    and, for each, the index of the triangle it comes from. Triangles must
    not be vertical.
    """
    plans = shapely.polygons(tris[:, :, :2])
    fps = footprint[owner]
    have = np.array([f is not None for f in fps], dtype=bool)
    shapely.prepare(fps[have])  # each footprint is tested against many triangles
    inside = np.zeros(len(tris), dtype=bool)
    inside[have] = shapely.covers(fps[have], plans[have])
    cut = np.flatnonzero(have & ~inside)
    out, src = [tris[inside]], [np.flatnonzero(inside)]
    if cut.size:
        pieces = shapely.intersection(plans[cut], fps[cut])
        parts, which = shapely.get_parts(pieces, return_index=True)
        poly = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (
            shapely.area(parts) > 1e-9
        )
        parts, which = parts[poly], which[poly]
        triangles, piece = shapely.get_parts(
            shapely.constrained_delaunay_triangles(parts), return_index=True
        )
        ok = shapely.area(triangles) > 1e-9
        origin = cut[which[piece[ok]]]
        xy = shapely.get_coordinates(shapely.get_exterior_ring(triangles[ok]))
        xy = xy.reshape(-1, 4, 2)[:, :3]
        # Lift the corners to the plane of the triangle they come from.
        p0 = tris[origin, 0]
        normal = np.cross(tris[origin, 1] - p0, tris[origin, 2] - p0)
        dz = (
            normal[:, None, 0] * (xy[..., 0] - p0[:, None, 0])
            + normal[:, None, 1] * (xy[..., 1] - p0[:, None, 1])
        ) / normal[:, None, 2]
        zs = tris[origin, :, 2]
        z = np.clip(
            p0[:, None, 2] - dz, zs.min(axis=1)[:, None], zs.max(axis=1)[:, None]
        )
        out.append(np.concatenate([xy, z[..., None]], axis=2))
        src.append(origin)
    return np.concatenate(out), np.concatenate(src).astype(np.intp)


def _roof_storeys(
    vertices: npt.NDArray[np.float64],
    faces: npt.NDArray[np.intp],
    owner: npt.NDArray[np.intp],
    piece: npt.NDArray[np.intp],
    footprint: npt.NDArray[np.object_],
    ground_z: npt.NDArray[np.float64],
    storey_height_m: float,
) -> _RoofStoreys:
    """Storeys and pitched-roof attics of buildings from their roof triangles.

    See `read_cityjson` for the rule. ``faces`` (m, 3) int index ``vertices``;
    ``owner`` (m,) int gives each roof triangle's building and ``piece`` (m,)
    int its city object (the Building or one of its BuildingParts): pitched
    roofs do not reach across BuildingParts.
    """
    n = len(footprint)
    nan = np.full(n, np.nan)
    corners = vertices[faces]
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    norm = np.linalg.norm(normal, axis=1)
    keep = np.abs(normal[:, 2]) > 1e-6 * norm  # vertical triangles have no plan
    faces, owner, piece, corners = faces[keep], owner[keep], piece[keep], corners[keep]
    if not len(faces):
        none_i, none_f = np.empty(0, np.intp), np.empty(0)
        return _RoofStoreys(
            nan,
            nan.copy(),
            nan.copy(),
            nan.copy(),
            nan.copy(),
            none_i,
            none_i.copy(),
            none_f,
            none_f.copy(),
            np.empty(0, dtype=object),
            none_i.copy(),
            none_i.copy(),
            np.empty((0, 3)),
            none_f.copy(),
        )
    sloped = np.abs(normal[keep, 2]) < norm[keep] * math.cos(
        math.radians(_FLAT_ROOF_DEG)
    )

    # Pitched roof parts: sloped triangles of a city object sharing a corner.
    part = np.full(len(faces), -1, dtype=np.intp)
    s_idx = np.flatnonzero(sloped)
    n_parts = 0
    if s_idx.size:
        key = piece[s_idx, None].astype(np.int64) * len(vertices) + faces[s_idx]
        _, corner_id = np.unique(key, return_inverse=True)
        corner_id = corner_id.reshape(-1)
        m = s_idx.size
        n_nodes = m + int(corner_id.max()) + 1
        graph = sp.coo_matrix(
            (
                np.ones(corner_id.size, dtype=np.int8),
                (np.repeat(np.arange(m), 3), m + corner_id),
            ),
            shape=(n_nodes, n_nodes),
        )
        _, labels = connected_components(graph, directed=False)
        _, part[s_idx] = np.unique(labels[:m], return_inverse=True)
        n_parts = int(part.max()) + 1

    tris, src = _clip_to_footprints(corners, owner, footprint)
    b = owner[src]
    z = tris[:, :, 2] - ground_z[b, None]
    e1, e2 = tris[:, 1, :2] - tris[:, 0, :2], tris[:, 2, :2] - tris[:, 0, :2]
    area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    tp = part[src]
    pitched = tp >= 0
    sh = storey_height_m

    # Flat triangles: storeys up to their own height.
    z_mid = np.maximum(z.mean(axis=1), 0.0)
    storeys = np.maximum(1.0, np.floor(z_mid / sh + 0.5))
    height = z_mid / storeys
    # Pitched parts: storeys up to the eave, the part's lowest point over the
    # footprint; the attic floor is there, each storey >= 2.20 m high.
    eave = np.full(n_parts, np.inf)
    np.minimum.at(eave, tp[pitched], z[pitched].min(axis=1))
    eave = np.where(np.isfinite(eave), np.maximum(eave, 0.0), 0.0)  # inf: no plan
    part_area = np.bincount(tp[pitched], weights=area[pitched], minlength=n_parts)
    part_storeys = np.maximum(1.0, np.floor(eave / sh + 0.5))
    attic_floor = np.maximum(eave, part_storeys * _FULL_STOREY_M)
    part_height = attic_floor / part_storeys
    storeys[pitched] = part_storeys[tp[pitched]]
    height[pitched] = part_height[tp[pitched]]
    part_b = np.zeros(n_parts, dtype=np.intp)
    part_b[tp[pitched]] = b[pitched]

    # Attic levels, one storey height apart, while one can stand in the next:
    # the plan of each above its floor, and above it + 1.20 m and + 2.10 m.
    pz, pt, pa = z[pitched], tp[pitched], area[pitched]
    least = np.maximum(_ATTIC_MIN_M2, _ATTIC_MIN_SHARE * part_area)
    level_floor = attic_floor.copy()
    active = np.ones(n_parts, dtype=bool)
    attic = np.zeros((3, n_parts))
    found: list[tuple[npt.NDArray[Any], ...]] = [
        (np.empty(0, np.intp), np.empty(0), np.empty((0, 3)), np.empty(0))
    ]
    above = 1
    while active.any():
        on = active[pt]
        level = np.stack(
            [
                np.bincount(
                    pt[on],
                    weights=_share_above(pz[on], level_floor[pt[on]] + clear) * pa[on],
                    minlength=n_parts,
                )
                for clear in (0.0, *ATTIC_BREAKS_M)
            ]
        )
        active &= (level[-1] >= least) & (level[-1] > 0)  # > 0: ends the loop
        attic += np.where(active, level, 0.0)
        p_on = np.flatnonzero(active)
        found.append(
            (p_on, part_storeys[p_on] + above, level[:, p_on].T, level_floor[p_on])
        )
        level_floor += part_height
        above += 1

    def per_building(weights: npt.NDArray[np.float64], group: Any) -> Any:
        return np.bincount(group, weights=weights, minlength=n)

    roof_area = per_building(area, b)
    storey_area = per_building(area * storeys, b)
    has_roof = roof_area > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_storeys = storey_area / roof_area
        mean_height = per_building(area * storeys * height, b) / storey_area
    floors = np.where(has_roof, np.maximum(1.0, np.floor(mean_storeys + 0.5)), np.nan)
    attic_bands = [np.where(has_roof, per_building(a, part_b), np.nan) for a in attic]

    # The roof plan per (building, storey count) and per (building, attic level).
    s_max = int(storeys.max()) + 1
    pairs, pair = np.unique(b * s_max + storeys.astype(np.intp), return_inverse=True)
    pair_area = np.bincount(pair, weights=area).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pair_height = np.bincount(pair, weights=area * height) / pair_area
    # Their plans where a building stands over several storey counts: a part
    # may stand on another (a stair head on a flat roof), so their plan
    # areas do not simply add up.
    pair_b = (pairs // s_max).astype(np.intp)
    several = (np.bincount(pair_b, minlength=n) >= 2)[pair_b]
    pair_plan = np.full(len(pairs), None, dtype=object)
    if several.any():
        which = np.flatnonzero(several)
        on = several[pair]
        pair_plan[which] = _union_by_group(
            shapely.polygons(tris[on][:, :, :2]),
            np.searchsorted(which, pair[on]).astype(np.intp),
            len(which),
        )
    p_on = np.concatenate([f[0] for f in found])
    a_level = np.concatenate([f[1] for f in found]).astype(np.intp)
    a_plan = np.concatenate([f[2] for f in found])
    a_floor = np.concatenate([f[3] for f in found])
    l_max = int(a_level.max(initial=0)) + 1
    levels, at = np.unique(part_b[p_on] * l_max + a_level, return_inverse=True)
    plan = np.column_stack(
        [np.bincount(at, weights=a_plan[:, k], minlength=len(levels)) for k in range(3)]
    ).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        floor_m = np.bincount(at, weights=a_plan[:, 0] * a_floor) / plan[:, 0]
    return _RoofStoreys(
        floors,
        np.where(has_roof, mean_height, np.nan),
        attic_bands[0],
        attic_bands[1],
        attic_bands[2],
        pair_b,
        (pairs % s_max).astype(np.intp),
        pair_area,
        pair_height,
        pair_plan,
        (levels // l_max).astype(np.intp),
        (levels % l_max).astype(np.intp),
        plan,
        floor_m,
    )


def _part_elements(
    roof: _RoofStoreys,
    rows: list[str],
    footprint_area: npt.NDArray[np.float64],
    candidate: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    """The storeys, part by part, of buildings whose parts differ in storeys.

    A building's roof stands over a storey count if at least
    :data:`_PART_MIN_M2` of its plan does. Of the ``candidate`` buildings
    (storeys estimated from the roofs), those whose roof stands over two
    storey counts or more get an element table: on each level ``k`` a
    ``floor`` element of the footprint's area times the share of the roof's
    plan (the union of the parts', which may stand on one another) over
    ``k`` storeys or more (level 1: the whole footprint), with the
    plan-weighted mean storey height of that share, and the attic bands of
    the pitched roofs whose attic is on level ``k``
    (:func:`cim.storeys.attic_band_rows`, as for
    :func:`cim.storeys.storeys_from_buildings`). Its
    ``floors_source`` is ``"height"`` and ``storey_height_source``
    ``"estimated"``: storeys estimated from measured heights.
    """
    n = len(rows)
    part = roof.profile_area_m2 >= _PART_MIN_M2
    chosen = candidate & (np.bincount(roof.profile_building[part], minlength=n) >= 2)
    part &= chosen[roof.profile_building]
    pb, ps = roof.profile_building[part], roof.profile_storeys[part]
    pa, ph = roof.profile_area_m2[part], roof.profile_height_m[part]
    plans = roof.profile_plan[part]

    # Each (building, storey count) stands over levels 1 ... count; pairs are
    # sorted by building, then storey count.
    lb = np.repeat(pb, ps)
    lv = np.arange(int(ps.sum())) - np.repeat(np.cumsum(ps) - ps, ps) + 1
    l_max = int(lv.max(initial=0)) + 1
    keys, at = np.unique(lb * l_max + lv, return_inverse=True)
    f_b, f_level = keys // l_max, keys % l_max
    share = np.bincount(at, weights=np.repeat(pa, ps), minlength=len(keys))
    f_moment = np.bincount(at, weights=np.repeat(pa * ph, ps), minlength=len(keys))
    f_height = f_moment / share
    first = np.flatnonzero(np.diff(f_b, prepend=-1))  # level 1 of each building
    size = np.diff(np.r_[first, len(f_b)])
    # The plan over k storeys or more: the union of the parts' plans, from the
    # highest part down, so that a part standing on another (a stair head on
    # a flat roof) is not counted twice. One GEOS union per part.
    cover = np.zeros(len(keys))
    starts = np.flatnonzero(np.diff(pb, prepend=-1))
    ends = np.r_[starts, len(pb)][1:]
    for start, lo, hi in zip(first, starts, ends, strict=True):
        union = None
        for j in range(hi - 1, lo - 1, -1):
            union = plans[j] if union is None else shapely.union(union, plans[j])
            below = int(ps[j - 1]) if j > lo else 0
            cover[start + below : start + int(ps[j])] = shapely.area(union)
    f_area = footprint_area[f_b] * cover / np.repeat(cover[first], size)
    # Elevation: the storey heights below, summed within each building.
    below_m = np.cumsum(f_height) - f_height
    f_elevation = below_m - np.repeat(below_m[first], size)

    ids = np.asarray(rows, dtype=object)
    on = chosen[roof.attic_building]
    a_b = roof.attic_building[on]
    attics = attic_band_rows(
        ids[a_b],
        level=roof.attic_level[on],
        plan_m2=roof.attic_plan_m2[on],
        elevation_m=roof.attic_floor_m[on],
    )
    storey = np.array([f"{k}F" for k in f_level.tolist()], dtype=object)
    n_f = len(f_b)
    true = pd.array(np.ones(n_f, dtype=bool), dtype="boolean")
    floors = pd.DataFrame(
        {
            "building_id": pd.array(ids[f_b], dtype="str"),
            "storey": pd.array(storey, dtype="str"),
            "level": pd.array(f_level, dtype="Int64"),
            "element_id": pd.array(ids[f_b] + "/" + storey, dtype="str"),
            "kind": pd.array(["floor"] * n_f, dtype="str"),
            "area_m2": f_area,
            "elevation_m": f_elevation,
            "structural_height_m": f_height,
            "clear_height_m": np.nan,
            "enclosed": true,
            "inside_structure": true.copy(),
            "sill_height_m": np.nan,
            "projection_m": np.nan,
        }
    )
    table = pd.concat([floors, attics], ignore_index=True) if len(attics) else floors
    table["floors_source"] = pd.array(["height"] * len(table), dtype="str")
    table["storey_height_source"] = pd.array(["estimated"] * len(table), dtype="str")
    # Building by building, level by level, the floor before the attic bands.
    b_all = np.r_[f_b, a_b[attics.index.to_numpy()]]
    band = np.searchsorted(ATTIC_BREAKS_M, attics["clear_height_m"], side="right")
    level = table["level"].to_numpy(dtype=np.intp)
    order = np.lexsort((np.r_[np.full(n_f, -1), band], level, b_all))
    return validate_elements(table.iloc[order])


def _building_layers(
    p: Path,
    vertices: npt.NDArray[np.float64],
    bld: _Rings,
    rows: list[str],
    row_parts: list[list[str]],
    objects: Mapping[str, Any],
    layer_crs: CRS,
    *,
    storey_height_m: float,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, list[str]]:
    """The buildings and surfaces layers, the element table and the notes."""
    n = len(rows)
    rv, ro, po, owner = bld.arrays()
    notes: list[str] = []
    sem_types = np.asarray(bld.sem, dtype=object)
    semantic = np.array([_SEMANTICS.get(t, "other") for t in bld.sem], dtype=object)
    is_ground = semantic == "ground"

    polys3d = polygons_from_rings(vertices, rv, ro, po)
    usable = np.array([g is not None for g in polys3d], dtype=bool)
    n_degenerate = int((~usable).sum())
    if n_degenerate:
        notes.append(f"{n_degenerate} degenerate surfaces (< 3 corners) were dropped")

    # Heights from the corners of each building's usable surfaces.
    ring_poly = np.repeat(np.arange(po.shape[0] - 1), np.diff(po))
    corner_poly = np.repeat(ring_poly, np.diff(ro))
    corner_ok = usable[corner_poly] if corner_poly.size else np.zeros(0, bool)
    corner_b = owner[corner_poly][corner_ok] if corner_poly.size else corner_poly
    corner_z = vertices[rv[corner_ok], 2] if rv.size else np.zeros(0)
    corner_ground = is_ground[corner_poly][corner_ok] if corner_poly.size else corner_ok
    top = np.full(n, -np.inf)
    low = np.full(n, np.inf)
    ground = np.full(n, np.inf)
    np.maximum.at(top, corner_b, corner_z)
    np.minimum.at(low, corner_b, corner_z)
    np.minimum.at(ground, corner_b[corner_ground], corner_z[corner_ground])
    geo_ground = np.where(np.isfinite(ground), ground, low)
    has_geom = np.isfinite(top)

    # Footprints: ground surfaces, else all surfaces, projected.
    polys2d = polygons_from_rings(vertices, rv, ro, po, include_z=False)
    has_ground = np.bincount(owner[is_ground & usable], minlength=n) > 0
    use = usable & (is_ground | ~has_ground[owner])
    footprint = _union_by_group(polys2d[use], owner[use], n)
    all_fp: npt.NDArray[np.object_] | None = None

    def all_footprints() -> npt.NDArray[np.object_]:
        nonlocal all_fp
        if all_fp is None:
            all_fp = _union_by_group(polys2d[usable], owner[usable], n)
        return all_fp

    lacking = has_geom & np.array([f is None for f in footprint], dtype=bool)
    if lacking.any():
        footprint[lacking] = all_footprints()[lacking]

    # Volumes of the closed shells.
    tri = triangulate_rings(vertices, rv, ro, po)
    fgroup = owner[tri.owner]
    fixed = close_shells(tri.vertices, tri.faces, group=fgroup, n=n, owner=tri.owner)
    volume = signed_volume(fixed.vertices, fixed.faces, group=fixed.group, n=n)
    status = fixed.status.copy()
    repaired = np.flatnonzero(status == 1)
    if repaired.size:
        # A repaired solid must fit in the prism of its surfaces' projection.
        fps = all_footprints()
        for k in repaired:
            bound = (0.0 if fps[k] is None else fps[k].area) * (top[k] - low[k])
            if not 0 < volume[k] <= bound * (1 + 1e-6) + 1e-6:
                status[k] = 2
    fallback = (status == 2) | (status == -1)
    area = np.array([0.0 if f is None else f.area for f in footprint])
    fallback_geom = fallback & has_geom
    volume[fallback] = np.nan
    volume[fallback_geom] = area[fallback_geom] * (top - geo_ground)[fallback_geom]
    was_open = fixed.open_edges > 0
    n_open = int((was_open & has_geom).sum())
    n_closed_open = int((was_open & (status == 1)).sum())
    n_flipped = int((~was_open & (status == 1)).sum())
    n_fallback = int((fallback & has_geom).sum())
    if n_open or n_flipped:
        msg = (
            f"{n_open} of {int(has_geom.sum())} buildings have open shells "
            f"(edges not shared by two faces of opposite orientation): "
            f"{n_closed_open} closed by splitting T-junctions and capping planar "
            f"holes (volume_source 'closed_after_repair'), {n_fallback} measured "
            "as footprint area x height ('footprint_x_height')"
        )
        if n_flipped:
            msg += f"; {n_flipped} closed shells were inside out and were turned"
        notes.append(msg)

    # Attributes and the ground elevation.
    records: list[dict[str, Any]] = []
    ground_z = geo_ground.copy()
    ignored: list[str] = []
    for row, oid in enumerate(rows):
        attrs = objects[oid].get("attributes") or {}
        rec: dict[str, Any] = {}
        year = next(
            (y for a in _YEAR_ATTRIBUTES if (y := _as_int(attrs.get(a))) is not None),
            None,
        )
        floors = next(
            (y for a in _FLOORS_ATTRIBUTES if (y := _as_int(attrs.get(a))) is not None),
            None,
        )
        for a in _GROUND_ATTRIBUTES:
            z = _as_float(attrs.get(a))
            if z is None or not has_geom[row]:
                continue
            if abs(z - geo_ground[row]) <= _GROUND_ATTRIBUTE_TOL_M:
                ground_z[row] = z
            else:
                ignored.append(f"{a}={z:g} vs {geo_ground[row]:.2f}")
            break
        rec["year_built"] = year
        rec["floors"] = floors
        for key, value in attrs.items():
            name = f"cityjson_{key}" if key in _DERIVED or key == "geometry" else key
            rec[name] = _attr_value(value)
        records.append(rec)
    if ignored:
        notes.append(
            f"{len(ignored)} buildings have a ground elevation attribute more than "
            f"{_GROUND_ATTRIBUTE_TOL_M:g} m from their ground surfaces, e.g. "
            f"{ignored[0]} m (another vertical datum?); heights are measured from "
            "the ground surfaces"
        )
    height = top - ground_z
    height = np.where(np.isfinite(height) & (height > 0), height, np.nan)
    on_roof = (semantic == "roof")[tri.owner] & usable[tri.owner]
    # The city object (Building or BuildingPart) of each surface.
    part_code = pd.factorize(pd.Series(bld.part, dtype=object))[0]
    piece = owner.astype(np.int64) * (int(part_code.max(initial=0)) + 1) + part_code
    roof = _roof_storeys(
        tri.vertices,
        tri.faces[on_roof],
        owner[tri.owner[on_roof]],
        piece[tri.owner[on_roof]],
        footprint,
        ground_z,
        storey_height_m,
    )
    lod_sets: list[set[str]] = [set() for _ in range(n)]
    for o, lo in zip(bld.owner, bld.lod, strict=True):
        lod_sets[o].add(lo)
    lods = [",".join(sorted(s, key=_lod_key)) for s in lod_sets]

    attrs_df = (
        pd.DataFrame.from_records(records, index=range(n)) if n else pd.DataFrame()
    )
    keep = has_geom & np.array([f is not None for f in footprint], dtype=bool)
    if (has_geom & ~keep).any():
        notes.append(
            f"{int((has_geom & ~keep).sum())} buildings have no footprint area "
            "(only vertical surfaces) and were left out"
        )
    frame = pd.DataFrame(
        {
            "building_id": pd.Series(rows, dtype=object),
            "height_m": height,
            "height_source": "measured",
            "ground_z_m": np.where(has_geom, ground_z, np.nan),
            "volume_m3": volume,
            "volume_source": np.array(VOLUME_SOURCES, dtype=object)[
                np.where(fallback, 2, np.where(status == 1, 1, 0))
            ],
            "lod": lods,
            "parts": np.array([len(ps) for ps in row_parts], dtype=np.int64),
        }
    )
    stepped = np.zeros(n, dtype=bool)  # buildings whose parts may differ in storeys
    if n:
        frame["year_built"] = pd.array(attrs_df.pop("year_built"), dtype="Int64")
        given = pd.to_numeric(attrs_df.pop("floors")).to_numpy(
            dtype="float64", na_value=np.nan
        )
        # Storeys from the roofs where the file does not give them.
        estimated = np.isnan(given) & np.isfinite(roof.floors)
        if np.isfinite(given).any() or estimated.any():
            frame["floors"] = pd.array(
                np.where(estimated, roof.floors, given), dtype="Int64"
            )
            source = np.full(n, None, dtype=object)
            source[np.isfinite(given)] = "measured"
            source[estimated] = "height"
            frame["floors_source"] = pd.Series(source, dtype=object)
        if estimated.any():
            stepped = estimated & keep
            frame["storey_height_m"] = np.where(estimated, roof.storey_height_m, np.nan)
            attic = (roof.attic_area_m2, roof.attic_clear120_m2, roof.attic_clear210_m2)
            for col, values in zip(ATTIC_COLUMNS, attic, strict=True):
                frame[col] = np.where(estimated, values, np.nan)
        frame = pd.concat([frame, attrs_df], axis=1)
    else:
        frame["year_built"] = pd.array([], dtype="Int64")
    elements = _part_elements(roof, rows, area, stepped)
    buildings = gpd.GeoDataFrame(
        frame[keep].reset_index(drop=True),
        geometry=gpd.GeoSeries(footprint[keep], crs=layer_crs),
        crs=layer_crs,
    )

    # Surfaces of the kept buildings.
    kept_rows = np.flatnonzero(keep)
    in_kept = np.isin(owner, kept_rows) & usable
    ids = np.asarray(rows, dtype=object)[owner[in_kept]] if n else np.empty(0, object)
    parts = np.asarray(bld.part, dtype=object)[in_kept]
    local = _running_index(owner[in_kept])
    surface_ids = [
        f"{b}/{part}/{i}" if part else f"{b}/{i}"
        for b, part, i in zip(ids, parts, local, strict=True)
    ]
    surfaces = gpd.GeoDataFrame(
        {
            "surface_id": pd.Series(surface_ids, dtype=object),
            "building_id": pd.Series(list(ids), dtype=object),
            "part_id": pd.Series(list(parts), dtype=object),
            "semantic": pd.Series(list(semantic[in_kept]), dtype=object),
            "lod": pd.Series(
                list(np.asarray(bld.lod, dtype=object)[in_kept]), dtype=object
            ),
            "semantic_type": pd.Series(list(sem_types[in_kept]), dtype=object),
        },
        geometry=gpd.GeoSeries(polys3d[in_kept], crs=layer_crs),
        crs=layer_crs,
    )
    return buildings, surfaces, elements, notes


def _running_index(group: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """0, 1, 2 ... within each run of equal values of a grouped array."""
    if group.size == 0:
        return group
    order = np.argsort(group, kind="stable")
    g = group[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    idx = np.arange(g.size) - np.repeat(starts, np.diff(np.r_[starts, g.size]))
    out: npt.NDArray[np.intp] = np.empty(g.size, dtype=np.intp)
    out[order] = idx
    return out


def _other_layer(
    vertices: npt.NDArray[np.float64],
    oth: _Rings,
    others: list[str],
    objects: Mapping[str, Any],
    other_lod: list[str],
    layer_crs: CRS,
) -> gpd.GeoDataFrame:
    rv, ro, po, owner = oth.arrays()
    polys2d = polygons_from_rings(vertices, rv, ro, po, include_z=False)
    footprint = _union_by_group(polys2d, owner, len(others))
    attrs = [
        json.dumps(
            objects[o].get("attributes") or {}, ensure_ascii=False, sort_keys=True
        )
        for o in others
    ]
    return gpd.GeoDataFrame(
        {
            "object_id": pd.Series(others, dtype=object),
            "cityobject_type": pd.Series(
                [str(objects[o].get("type")) for o in others], dtype=object
            ),
            "lod": pd.Series(other_lod, dtype=object),
            "attributes": pd.Series(attrs, dtype=object),
        },
        geometry=gpd.GeoSeries(footprint, crs=layer_crs),
        crs=layer_crs,
    )


def twin_from_cityjson(
    path: str | os.PathLike[str],
    *,
    crs: Any = None,
    lod: str | float | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Twin:
    """Build a twin from a CityJSON file: buildings, surfaces and the CRS.

    Parameters
    ----------
    path
        The ``.city.json`` file.
    crs
        The file's CRS when it declares none; see `read_cityjson`.
    lod
        Level of detail to read; by default the highest of each object.
    name
        Name of the twin; default: the file name without ``.city.json``.
    **kwargs
        Passed to :class:`~cim.Twin` (``storey_height_m``, ``estimate`` ...);
        ``storey_height_m`` also to `read_cityjson`, for the storeys it
        estimates from roofs.

    Returns
    -------
    cim.Twin
        In the horizontal part of the file's CRS, with the file as a source
        in ``metadata["sources"]``, and as ``elements`` the storeys, part by
        part, of buildings whose parts differ in storey count (see
        `read_cityjson`).

    Warns
    -----
    RepairWarning
        As `read_cityjson`, and counting the storeys estimated from roofs,
        the attics found and the buildings whose storeys are listed part by
        part, if any.
    """
    from cim.twin import Twin

    sh = kwargs.get("storey_height_m")
    data = read_cityjson(path, crs=crs, lod=lod, storey_height_m=sh)
    b = data.buildings
    if "floors_source" in b.columns:
        estimated = (b["floors_source"] == "height").to_numpy(dtype=bool)
        if estimated.any():
            attics = int((b[ATTIC_COLUMNS[0]].to_numpy()[estimated] > 0).sum())
            stepped = data.elements["building_id"].nunique()
            parts = (
                f"; {stepped} buildings have parts of different storey counts, "
                "whose storeys the twin's elements list part by part"
                if stepped
                else ""
            )
            warnings.warn(
                f"{Path(path).name}: estimated {int(estimated.sum())} storey counts "
                f"from height, the eaves of pitched roofs and the height of flat "
                f"ones / {_storey_height(sh):g} m (floors_source 'height'); "
                f"{attics} buildings have a pitched-roof attic above their storeys "
                f"(attic_area_m2), which the take-off counts by clear height{parts}",
                RepairWarning,
                stacklevel=2,
            )
    stem = Path(path).name.split(".")[0]
    meta = {
        "sources": [data.source],
        "cityjson": {
            "version": data.version,
            "reference_system": data.reference_system,
            "counts": data.counts,
        },
    }
    return Twin(
        crs=data.crs,
        name=name or stem,
        buildings=data.buildings,
        surfaces=data.surfaces,
        elements=data.elements,
        metadata=meta,
        **kwargs,
    )


# -- writing ---------------------------------------------------------------------


def _epsg_url(crs: Any) -> str:
    c = resolve_crs(crs)
    check_metric_crs(_horizontal(c), layer="buildings")
    code = c.to_epsg()
    if code is None:
        msg = (
            f"CRS {c.name!r} has no EPSG code; CityJSON needs one, give e.g. "
            "crs=28992 or crs=7415"
        )
        raise CRSError(msg)
    return f"https://www.opengis.net/def/crs/EPSG/0/{code}"


def _json_value(v: Any) -> Any:
    """A JSON-ready attribute value; None for missing values."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if isinstance(v, (list, dict)):
        return v
    return str(v)


#: Attributes whose type the CityJSON schema fixes for buildings.
_STRING_ATTRIBUTES: Final = ("class", "function", "usage")
_INTEGER_ATTRIBUTES: Final = ("storeysAboveGround", "storeysBelowGround")


def _typed_attribute(name: str, value: Any) -> Any:
    """Coerce attributes the schema types (``class`` is a string ...)."""
    if value is None:
        return None
    if name in _STRING_ATTRIBUTES and not isinstance(value, str):
        return json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    if name in _INTEGER_ATTRIBUTES and not isinstance(value, int):
        number = _as_float(value)
        if number is None or not number.is_integer():
            msg = f"attribute {name!r} must be a whole number, got {value!r}"
            raise ValueError(msg)
        return int(number)
    return value


class _VertexPool:
    """Coordinates gathered for quantising and deduplicating at the end."""

    def __init__(self) -> None:
        self.chunks: list[npt.NDArray[np.float64]] = []
        self.size = 0

    def add(self, xyz: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
        xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        self.chunks.append(xyz)
        ids = np.arange(self.size, self.size + xyz.shape[0], dtype=np.intp)
        self.size += xyz.shape[0]
        return ids


def _prism(poly: Any, z0: float, z1: float, pool: _VertexPool) -> list[Any]:
    """Boundaries of one Solid (LoD1 block): ground, walls, roof."""
    poly = shapely.orient_polygons(poly)  # exterior ccw, holes cw
    rings = [np.asarray(poly.exterior.coords)[:-1, :2]] + [
        np.asarray(r.coords)[:-1, :2] for r in poly.interiors
    ]
    bottom = [pool.add(np.column_stack([r, np.full(len(r), z0)])) for r in rings]
    top = [pool.add(np.column_stack([r, np.full(len(r), z1)])) for r in rings]
    ground = [[int(i) for i in b[::-1]] for b in bottom]
    roof = [[int(i) for i in t] for t in top]
    walls: list[Any] = []
    for b, t in zip(bottom, top, strict=True):
        m = len(b)
        for j in range(m):
            q = (j + 1) % m
            walls.append([[int(b[j]), int(b[q]), int(t[q]), int(t[j])]])
    return [ground, *walls, roof]


def write_cityjson(
    buildings: gpd.GeoDataFrame,
    surfaces: gpd.GeoDataFrame | None,
    path: str | os.PathLike[str],
    *,
    crs: Any,
    lod: str | float | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write buildings as a CityJSON 2.0 file.

    A building with rows in ``surfaces`` gets them as its geometry, per LoD:
    a ``Solid`` where they close (see `geometry.polygons3d.is_closed`), else
    a ``MultiSurface``, with their semantics; surfaces with a ``part_id``
    become BuildingParts. A building without surfaces gets an LoD1 ``Solid``
    (``MultiSolid`` for MultiPolygons) extruded from its footprint by
    ``height_m`` from ``ground_z_m`` (0 if absent), holes included. The
    buildings' other columns become attributes, missing values left out;
    columns derived from the geometry on reading (``volume_m3`` ...) are not
    written, ``year_built`` is written as ``yearOfConstruction`` and
    ``floors`` as ``storeysAboveGround`` unless the frame has those
    attributes already; estimated floors (``floors_source`` other than
    ``"measured"``) are left out, so that they are not read back as data.
    Vertices are deduplicated and quantised to 1 mm.

    Parameters
    ----------
    buildings
        Buildings layer (``building_id``, footprint, ``height_m`` ...).
    surfaces
        Surfaces layer (PolygonZ with ``building_id``, ``semantic`` ...) or None.
    path
        Output file; it is replaced only once the new one is written.
    crs
        CRS of the coordinates, with an EPSG code (e.g. ``28992``, or the
        compound ``7415`` to state the NAP heights).
    lod
        Write only the surfaces of this LoD; default all.
    metadata
        Extra CityJSON metadata (``title``, ``pointOfContact`` ...);
        ``referenceSystem`` and ``geographicalExtent`` are set from the data.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    CRSError
        If ``crs`` is not metric or has no EPSG code.
    ValueError
        If building ids are missing or not unique, or a ``part_id`` is also
        a building id.
    """
    out = Path(path)
    reference = _epsg_url(crs)
    if "building_id" not in buildings.columns:
        msg = "buildings need a 'building_id' column for the CityObject ids"
        raise ValueError(msg)
    bid = buildings["building_id"].astype(str)
    if buildings["building_id"].isna().any() or bid.duplicated().any():
        msg = "building_id must be present and unique to write CityJSON"
        raise ValueError(msg)

    pool = _VertexPool()
    cityobjects: dict[str, dict[str, Any]] = {}
    children: dict[str, list[str]] = {}
    by_building: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    surf = None
    if surfaces is not None and len(surfaces):
        surf = surfaces
        if lod is not None:
            keep = surf["lod"].map(_lod_key) == _lod_key(lod)
            surf = surf[keep.to_numpy()]
        by_building = _surface_geometries(surf, pool, bid)
    building_ids = set(bid)
    for key, part_geoms in by_building.items():
        for part_id, geom in part_geoms:
            if part_id:
                if part_id in building_ids:
                    msg = (
                        f"part_id {part_id!r} is also a building_id; CityJSON ids "
                        "must be unique"
                    )
                    raise ValueError(msg)
                part = cityobjects.setdefault(
                    part_id, {"type": "BuildingPart", "parents": [key], "geometry": []}
                )
                part["geometry"].append(geom)
                if part_id not in children.setdefault(key, []):
                    children[key].append(part_id)

    columns = [c for c in buildings.columns if c != buildings.geometry.name]
    attr_cols = [c for c in columns if c not in _DERIVED]
    year_alias = not any(a in buildings.columns for a in _YEAR_ATTRIBUTES)
    floors_alias = not any(a in buildings.columns for a in _FLOORS_ATTRIBUTES)
    if floors_alias and "floors_source" in buildings.columns:
        # Estimated storeys are not written as data.
        src = buildings["floors_source"]
        floors_written = (src.isna() | (src == "measured")).to_numpy(dtype=bool)
    else:
        floors_written = np.ones(len(buildings), dtype=bool)
    heights = (
        pd.to_numeric(buildings["height_m"], errors="coerce").to_numpy(dtype=float)
        if "height_m" in buildings.columns
        else np.full(len(buildings), np.nan)
    )
    base = (
        pd.to_numeric(buildings["ground_z_m"], errors="coerce").to_numpy(dtype=float)
        if "ground_z_m" in buildings.columns
        else np.zeros(len(buildings))
    )
    records = buildings[attr_cols].to_dict(orient="records") if attr_cols else None
    for i, (key, geom) in enumerate(zip(bid, buildings.geometry.array, strict=True)):
        attrs: dict[str, Any] = {}
        if records is not None:
            for c, v in records[i].items():
                jv = _typed_attribute(str(c), _json_value(v))
                if jv is not None:
                    attrs[str(c)] = jv
        if year_alias and "year_built" in buildings.columns:
            y = _json_value(buildings["year_built"].iloc[i])
            if y is not None:
                attrs["yearOfConstruction"] = int(y)
        if floors_alias and "floors" in buildings.columns and floors_written[i]:
            fl = _json_value(buildings["floors"].iloc[i])
            if fl is not None:
                attrs["storeysAboveGround"] = int(fl)
        obj: dict[str, Any] = {"type": "Building"}
        if attrs:
            obj["attributes"] = attrs
        geoms = [g for part_id, g in by_building.get(key, []) if not part_id]
        if key not in by_building:
            z0 = base[i] if np.isfinite(base[i]) else 0.0
            h = heights[i]
            if geom is not None and not geom.is_empty and np.isfinite(h) and h > 0:
                geoms = _extruded(geom, z0, z0 + h, pool)
            if len(geoms) > 1:
                # Buildings may not hold a MultiSolid: each polygon of a
                # MultiPolygon footprint becomes a BuildingPart.
                for k, g in enumerate(geoms, start=1):
                    part_id = f"{key}-part{k}"
                    while part_id in building_ids or part_id in cityobjects:
                        part_id += "_"
                    cityobjects[part_id] = {
                        "type": "BuildingPart",
                        "parents": [key],
                        "geometry": [g],
                    }
                    children.setdefault(key, []).append(part_id)
                geoms = []
        obj["geometry"] = geoms
        if key in children:
            obj["children"] = children[key]
        cityobjects[key] = obj
    # Buildings first, then their parts.
    ordered = {k: cityobjects[k] for k in bid if k in cityobjects}
    ordered.update({k: v for k, v in cityobjects.items() if k not in ordered})

    verts, remap, translate = _quantise(pool)
    for obj in ordered.values():
        for g in obj.get("geometry", []):
            g["boundaries"] = _remap(g["boundaries"], remap)
    meta: dict[str, Any] = dict(json.loads(json.dumps(metadata or {})))
    meta["referenceSystem"] = reference
    if len(verts):
        real = verts * _SCALE + translate
        meta["geographicalExtent"] = [
            *(float(x) for x in real.min(axis=0)),
            *(float(x) for x in real.max(axis=0)),
        ]
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {
            "scale": [_SCALE] * 3,
            "translate": [float(t) for t in translate],
        },
        "metadata": meta,
        "CityObjects": ordered,
        "vertices": verts.tolist(),
    }
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # Like a plain open(), a missing folder is an error (no folder is created).
    with atomic_path(out, parents=False) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def _extruded(
    geom: Any, z0: float, z1: float, pool: _VertexPool
) -> list[dict[str, Any]]:
    """LoD1 Solids extruded from a footprint, one per polygon."""
    surfaces = [
        {"type": "GroundSurface"},
        {"type": "WallSurface"},
        {"type": "RoofSurface"},
    ]
    out = []
    for poly in shapely.get_parts(geom):
        shell = _prism(poly, z0, z1, pool)
        out.append(
            {
                "type": "Solid",
                "lod": _EXTRUDED_LOD,
                "boundaries": [shell],
                "semantics": {
                    "surfaces": surfaces,
                    "values": [[0] + [1] * (len(shell) - 2) + [2]],
                },
            }
        )
    return out


def _surface_geometries(
    surf: gpd.GeoDataFrame, pool: _VertexPool, bid: pd.Series
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """CityJSON geometries per building from its surfaces: (part_id, geometry)."""
    geoms = np.asarray(surf.geometry.array, dtype=object)
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    ok[ok] = shapely.get_type_id(geoms[ok]) == shapely.GeometryType.POLYGON
    surf, geoms = surf[ok], geoms[ok]
    if len(surf) == 0:
        return {}
    b = surf["building_id"].astype(str).to_numpy()
    unknown = ~np.isin(b, bid.to_numpy())
    if unknown.any():
        msg = (
            "surfaces refer to buildings not in the buildings layer: "
            f"{', '.join(repr(x) for x in pd.unique(b[unknown])[:5])}"
        )
        raise ValueError(msg)

    def column(name: str, default: str) -> npt.NDArray[np.object_]:
        if name not in surf.columns:
            return np.full(len(surf), default, dtype=object)
        values = surf[name].astype(object).where(surf[name].notna(), default)
        result: npt.NDArray[np.object_] = values.astype(str).to_numpy(dtype=object)
        return result

    part = column("part_id", "")
    lods = column("lod", "")
    lods[lods == ""] = "2"
    semantic = column("semantic", "other")
    stype = column("semantic_type", "")
    cj_type = [
        t
        if t in _BUILDING_SURFACE_TYPES or t.startswith("+")
        else _CITYJSON_SEMANTIC.get(s)
        for t, s in zip(stype, semantic, strict=True)
    ]

    # All ring corners into the pool at once, rings not closed.
    _, coords, (ring_offsets, poly_offsets) = shapely.to_ragged_array(
        geoms, include_z=True
    )
    coords = np.asarray(coords, dtype=np.float64)
    if coords.shape[1] == 2:
        coords = np.column_stack([coords, np.zeros(coords.shape[0])])
    ring_offsets = np.asarray(ring_offsets, dtype=np.intp)
    poly_offsets = np.asarray(poly_offsets, dtype=np.intp)
    closing = np.zeros(coords.shape[0], dtype=bool)
    closing[ring_offsets[1:] - 1] = True
    coords = coords[~closing]
    ro = ring_offsets - np.arange(ring_offsets.shape[0])
    ids = pool.add(coords)

    # Group surfaces by (building, part, lod), in order of first appearance.
    groups: dict[tuple[str, str, str], int] = {}
    gi = np.array(
        [groups.setdefault(k, len(groups)) for k in zip(b, part, lods, strict=True)],
        dtype=np.intp,
    )
    # Which groups close: vertices merged on the 1 mm grid, one triangulation.
    q = np.rint(coords / _SCALE)
    _, first, vid = np.unique(q, axis=0, return_index=True, return_inverse=True)
    tri = triangulate_rings(coords[first], vid.reshape(-1), ro, poly_offsets)
    closed = is_closed(tri.faces, group=gi[tri.owner], n=len(groups))

    members: list[list[int]] = [[] for _ in groups]
    for j, g in enumerate(gi.tolist()):
        members[g].append(j)
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for (building, part_id, lod), g in groups.items():
        boundaries = [
            [
                ids[ro[r] : ro[r + 1]].tolist()
                for r in range(poly_offsets[j], poly_offsets[j + 1])
            ]
            for j in members[g]
        ]
        types = [cj_type[j] for j in members[g]]
        names = sorted({t for t in types if t})
        values: list[Any] = [names.index(t) if t else None for t in types]
        geom: dict[str, Any] = {"lod": lod}
        if closed[g]:
            geom["type"] = "Solid"
            geom["boundaries"] = [boundaries]
            values = [values]
        else:
            geom["type"] = "MultiSurface"
            geom["boundaries"] = boundaries
        if names:
            geom["semantics"] = {
                "surfaces": [{"type": t} for t in names],
                "values": values,
            }
        out.setdefault(building, []).append((part_id, geom))
    return out


def _quantise(
    pool: _VertexPool,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Quantised, deduplicated vertices, the index map and the translation."""
    if not pool.chunks:
        return np.empty((0, 3), np.int64), np.empty(0, np.intp), np.zeros(3)
    coords = np.concatenate(pool.chunks)
    # Translating by the minimum keeps coordinates that lie on a 1 mm grid
    # (like those read from a CityJSON file) exactly on it.
    translate = coords.min(axis=0)
    q = np.rint((coords - translate) / _SCALE).astype(np.int64)
    verts, remap = np.unique(q, axis=0, return_inverse=True)
    return verts, remap.reshape(-1).astype(np.intp), translate


def _remap(boundaries: Any, remap: npt.NDArray[np.intp]) -> Any:
    """Map pool indices to vertex indices; drop repeated corners and rings < 3."""
    if boundaries and isinstance(boundaries[0], int):
        ring: list[int] = []
        for i in boundaries:
            j = int(remap[i])
            if not ring or ring[-1] != j:
                ring.append(j)
        while len(ring) > 1 and ring[0] == ring[-1]:
            ring.pop()
        return ring
    return [_remap(b, remap) for b in boundaries]
