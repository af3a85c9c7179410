"""Read OpenStreetMap extracts (``.osm`` XML, ``.osm.pbf``) into twin layers.

:func:`read_osm` turns one extract into the five polygon/point layers of the
twin (buildings, parcels, greens, facilities, site) in EPSG:4326 and a street
graph following osmnx's model (``networkx.MultiDiGraph`` with ``x``/``y`` on
nodes and ``length_m``/``speed_kph`` on edges). Reprojection to the twin's
metric CRS and estimation of missing heights happen later, in
:class:`cim.Twin`.

Areas are assembled by osmium from closed ways and from ``multipolygon`` and
``boundary`` relations. Every object whose tags put it in a layer but that
cannot be built (an outline clipped at the extract's edge, an incomplete
relation, an unclosed outline...) is listed with the reason in
:attr:`OSMData.skipped`, and one :class:`~cim.errors.RepairWarning` counts
them. OSM data is © OpenStreetMap contributors under the ODbL 1.0; the
attribution travels in :attr:`OSMData.source`.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from cim._assets import asset_path
from cim._compat import import_optional_dependency
from cim.errors import (
    CIMWarning,
    InputFileError,
    LayerSchemaError,
    RepairWarning,
)
from cim.io.files import input_layer
from cim.layers import facility_categories

if TYPE_CHECKING:
    from cim.twin import Twin

__all__ = [
    "ATTRIBUTION",
    "LICENCE",
    "SITE_FROM",
    "OSMData",
    "read_osm",
    "twin_from_osm",
]

_log = logging.getLogger(__name__)

#: Licence of OpenStreetMap data.
LICENCE = "ODbL 1.0"
#: Attribution to show wherever OSM-derived data is displayed or shipped.
ATTRIBUTION = "© OpenStreetMap contributors, openstreetmap.org/copyright"

_CRS = "EPSG:4326"
_GEOD = Geod(ellps="WGS84")

#: ``highway=*`` values that are not part of the street network.
EXCLUDED_HIGHWAYS = frozenset(
    {
        "proposed",
        "construction",
        "abandoned",
        "platform",
        "raceway",
        "bus_stop",
        "elevator",
    }
)
#: Tags of ``barrier=*`` nodes kept on the street graph (raw OSM strings).
BARRIER_TAGS = ("barrier", "access", "opening_hours")
_NO_BARRIER = dict.fromkeys(BARRIER_TAGS, "")

#: Relation types osmium assembles into areas.
AREA_RELATION_TYPES = frozenset({"multipolygon", "boundary"})

_PARCEL_LANDUSE = frozenset(
    {
        "residential",
        "commercial",
        "retail",
        "industrial",
        "education",
        "religious",
        "construction",
        "military",
        "railway",
        "garages",
    }
)
_PARCEL_AMENITY = frozenset(
    {"school", "university", "college", "kindergarten", "hospital"}
)
_GREEN_LEISURE = frozenset({"park", "garden", "nature_reserve"})
_GREEN_LANDUSE = frozenset(
    {
        "grass",
        "forest",
        "meadow",
        "recreation_ground",
        "village_green",
        "flowerbed",
    }
)
_GREEN_NATURAL = frozenset({"wood", "scrub", "grassland"})

# Uses hinted by other tags on an untyped building (building=yes or a type
# missing from assets/building_types.csv), as (key, value or "*", use); the
# first match wins.
_USE_HINTS: tuple[tuple[str, str, str], ...] = (
    ("amenity", "school", "education"),
    ("amenity", "kindergarten", "education"),
    ("amenity", "childcare", "education"),
    ("amenity", "college", "education"),
    ("amenity", "university", "education"),
    ("amenity", "hospital", "health"),
    ("amenity", "clinic", "health"),
    ("amenity", "doctors", "health"),
    ("amenity", "dentist", "health"),
    ("healthcare", "*", "health"),
    ("amenity", "nursing_home", "elderly_care"),
    ("social_facility:for", "senior", "elderly_care"),
    ("amenity", "place_of_worship", "religious"),
    ("amenity", "library", "culture_sports"),
    ("amenity", "theatre", "culture_sports"),
    ("amenity", "cinema", "culture_sports"),
    ("amenity", "arts_centre", "culture_sports"),
    ("leisure", "sports_centre", "culture_sports"),
    ("leisure", "stadium", "culture_sports"),
    ("amenity", "community_centre", "public"),
    ("amenity", "social_centre", "public"),
    ("amenity", "townhall", "public"),
    ("amenity", "police", "public"),
    ("amenity", "fire_station", "public"),
    ("amenity", "post_office", "public"),
    ("amenity", "courthouse", "public"),
    ("office", "government", "public"),
    ("amenity", "parking", "ancillary"),
    ("amenity", "toilets", "ancillary"),
    ("amenity", "restaurant", "commercial"),
    ("amenity", "fast_food", "commercial"),
    ("amenity", "cafe", "commercial"),
    ("amenity", "food_court", "commercial"),
    ("amenity", "bank", "commercial"),
    ("amenity", "marketplace", "commercial"),
    ("tourism", "hotel", "commercial"),
    ("shop", "*", "commercial"),
    ("office", "*", "office"),
)

_FEET = 0.3048
_MPH = 1.609344
_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_RE_HEIGHT = re.compile(
    rf"^{_NUMBER}\s*(m|meters?|metres?|ft|feet|foot|')?$", re.IGNORECASE
)
_RE_FEET_INCHES = re.compile(rf"^{_NUMBER}\s*'\s*{_NUMBER}\s*\"$")
_RE_SPEED = re.compile(rf"^{_NUMBER}\s*(km/h|kmh|kph|mph|knots)?$", re.IGNORECASE)
_RE_YEAR = re.compile(r"\d{4}")

_TYPE_NAME = {"n": "node", "w": "way", "r": "relation"}
_TYPE_RANK = {"n": 0, "w": 1, "r": 2}

_SKIPPED_COLUMNS = ("feature_id", "osm_type", "osm_id", "layer", "reason")


@dataclass(frozen=True, repr=False)
class OSMData:
    """The layers, street graph and provenance read from one OSM extract.

    Layers are GeoDataFrames in EPSG:4326 (longitude, latitude) whose columns
    follow :data:`cim.layers.SCHEMAS`, plus ``osm_*`` columns with raw tags.

    Parameters
    ----------
    buildings
        Footprints (Polygon/MultiPolygon) of every area tagged ``building=*``
        (except ``building=no``): ``building_id``, ``height_m`` [m],
        ``height_source``, ``floors``, ``floors_source``,
        ``floors_underground``, ``use``, ``osm_building``, ``name``,
        ``name_en``, ``year_built`` [year], ``structure``, ``households``,
        ``osm_height_raw`` and ``osm_levels_raw`` (raw tags that were not a
        plain number).
    parcels
        Plots (``landuse=residential``, ``education``... or campus areas
        ``amenity=school``, ``hospital``... that are not building outlines):
        ``parcel_id``, ``land_use`` (the tag value), ``name``.
    greens
        Green areas: ``green_id``, ``kind`` (``park``, ``forest`` or
        ``ground``), ``name``.
    facilities
        One point per OSM object matching a category of
        ``assets/facility_categories.csv``: ``facility_id``, ``category``,
        ``name``, ``osm_type``, ``osm_key``, ``osm_value``.
    site
        The study area: the polygons given to :func:`read_osm`, else one
        polygon, the file's bounding box or, without one, the convex hull of
        its buildings (see ``source["site_from"]`` and :data:`SITE_FROM`);
        ``site_id``, ``name`` (and a given site's other columns).
    network
        Street graph: node ids are OSM node ids with ``x`` (longitude), ``y``
        (latitude), ``street_count`` and the raw ``barrier``, ``access`` and
        ``opening_hours`` tags of ``barrier=*`` nodes (``""`` elsewhere);
        edges carry ``osmid``, ``highway``, ``oneway``, ``reversed``,
        ``length_m`` [m], ``speed_kph`` [km/h], ``maxspeed``, ``name``,
        ``access``, ``foot``, ``bicycle``, ``barriers`` and ``geometry``.
        ``network.graph["crs"]`` is ``"EPSG:4326"``.
    source
        Provenance: ``name`` (file name), ``licence``, ``attribution``,
        ``newest_edit`` (ISO 8601), ``bounds`` (west, south, east, north or
        ``None``), ``site_from`` (a key of :data:`SITE_FROM`) and ``counts``.
    skipped
        One row per OSM object and layer it matched but could not be built:
        ``feature_id``, ``osm_type``, ``osm_id``, ``layer``, ``reason``.
    """

    buildings: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    greens: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    site: gpd.GeoDataFrame
    network: nx.MultiDiGraph
    source: dict[str, Any]
    skipped: pd.DataFrame

    @property
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The five GeoDataFrame layers by name."""
        return {
            "buildings": self.buildings,
            "parcels": self.parcels,
            "greens": self.greens,
            "facilities": self.facilities,
            "site": self.site,
        }

    def __repr__(self) -> str:
        parts = [f"{len(v)} {k}" for k, v in self.layers.items() if k != "site"]
        g = self.network
        parts.append(f"{g.number_of_nodes()} nodes/{g.number_of_edges()} edges")
        parts.append(f"{len(self.skipped)} skipped")
        return f"OSMData({self.source.get('name')!r}: {', '.join(parts)})"


# -- tag interpretation -------------------------------------------------------


def _name(tags: Mapping[str, str]) -> str:
    return tags.get("name:zh") or tags.get("name") or ""


def _is_building(tags: Mapping[str, str]) -> bool:
    value = tags.get("building")
    return value is not None and value != "no"


def _parcel_use(tags: Mapping[str, str]) -> str | None:
    landuse = tags.get("landuse")
    if landuse in _PARCEL_LANDUSE:
        return landuse
    amenity = tags.get("amenity")
    # amenity=school on a building outline is a school building, not its plot
    if amenity in _PARCEL_AMENITY and not _is_building(tags):
        return amenity
    return None


def _green_kind(tags: Mapping[str, str]) -> str | None:
    leisure = tags.get("leisure")
    landuse = tags.get("landuse")
    natural = tags.get("natural")
    if leisure in ("park", "garden"):
        return "park"
    if landuse == "forest" or natural == "wood":
        return "forest"
    if (
        leisure in _GREEN_LEISURE
        or landuse in _GREEN_LANDUSE
        or natural in _GREEN_NATURAL
    ):
        return "ground"
    return None


def _area_layers(tags: Mapping[str, str]) -> list[str]:
    """The polygon layers an area with ``tags`` belongs to."""
    layers = []
    if _is_building(tags):
        layers.append("buildings")
    if _parcel_use(tags) is not None:
        layers.append("parcels")
    if _green_kind(tags) is not None:
        layers.append("greens")
    return layers


@dataclass(frozen=True)
class _Alternative:
    category: str
    terms: tuple[tuple[str, str], ...]
    rank: tuple[int, int, int]


@cache
def _facility_rules() -> dict[str, tuple[_Alternative, ...]]:
    """Alternatives of the category table, grouped by their main key."""
    by_key: dict[str, list[_Alternative]] = defaultdict(list)
    table = facility_categories()
    for row, (category, spec) in enumerate(table["osm_tags"].items()):
        if pd.isna(spec):
            continue
        for alt, text in enumerate(str(spec).split(";")):
            terms = tuple(
                (key.strip(), value.strip())
                for key, _, value in (term.partition("=") for term in text.split("+"))
            )
            rank = (-len(terms), row, alt)
            by_key[terms[0][0]].append(_Alternative(str(category), terms, rank))
    return {k: tuple(v) for k, v in by_key.items()}


def _match_facility(tags: Mapping[str, str]) -> tuple[str, str, str] | None:
    """The facility category of an object: ``(category, key, value)`` or None.

    The most specific alternative (most ``+``-joined terms) over all
    categories wins; ties go to the earlier row of the table, then to the
    earlier alternative of that row. ``key`` and ``value`` are the matched
    main (first) tag.
    """
    rules = _facility_rules()
    best: _Alternative | None = None
    for key in tags.keys() & rules.keys():
        for alt in rules[key]:
            if best is not None and alt.rank >= best.rank:
                continue
            if all(k in tags and (v == "*" or tags[k] == v) for k, v in alt.terms):
                best = alt
    if best is None:
        return None
    key = best.terms[0][0]
    return best.category, key, tags[key]


@cache
def _building_uses() -> dict[str, str]:
    table = pd.read_csv(asset_path("building_types.csv"), dtype=str)
    return dict(zip(table["building"], table["use"], strict=True))


def _building_use(tags: Mapping[str, str]) -> str:
    uses = _building_uses()
    value = tags.get("building", "")
    use = uses.get(value)
    if use is not None and value != "yes":
        return use
    for key, hint, hinted in _USE_HINTS:
        if key in tags and (hint == "*" or tags[key] == hint):
            return hinted
    return use or "unknown"


def _parse_height_m(raw: str) -> float:
    """Metres from an OSM ``height`` value (``12``, ``12.5 m``, ``40 ft``...).

    Several values separated by ``;`` give the largest. NaN if any part cannot
    be read or the height is not positive.
    """
    values = []
    for part in raw.split(";"):
        text = part.strip().replace(",", ".") if "." not in part else part.strip()
        match = _RE_HEIGHT.match(text)
        if match:
            value = float(match.group(1))
            unit = (match.group(2) or "m").lower()
            values.append(
                value * _FEET if unit in ("ft", "feet", "foot", "'") else value
            )
            continue
        match = _RE_FEET_INCHES.match(text)
        if match:
            values.append(
                float(match.group(1)) * _FEET + float(match.group(2)) * _FEET / 12
            )
            continue
        return math.nan
    height = max(values, default=math.nan)
    return height if height > 0 else math.nan


def _parse_levels(raw: str, *, allow_zero: bool = False) -> int | None:
    """Storeys from an OSM ``building:levels`` value (``6``, ``6;7``, ``2.5``).

    Several values give the largest; a partial storey (``2.5``) counts as a
    storey (rounded up). None if unreadable, or zero unless ``allow_zero``.
    """
    values = []
    for part in raw.split(";"):
        try:
            value = float(part.strip())
        except ValueError:
            return None
        if not math.isfinite(value) or value < 0:
            return None
        values.append(math.ceil(value))
    if not values:
        return None
    levels = max(values)
    return levels if levels > 0 or allow_zero else None


def _is_plain_int(raw: str) -> bool:
    return raw.strip().isdigit()


def _parse_speed_kph(raw: str) -> float:
    """km/h from an OSM ``maxspeed`` (``50``, ``30 mph``, ``50;60`` -> mean)."""
    values = []
    for part in re.split(r"[;|]", raw):
        match = _RE_SPEED.match(part.strip())
        if not match:
            continue
        value = float(match.group(1))
        unit = (match.group(2) or "").lower()
        if unit == "mph":
            value *= _MPH
        elif unit == "knots":
            value *= 1.852
        values.append(value)
    return float(np.mean(values)) if values else math.nan


def _year(tags: Mapping[str, str]) -> int | None:
    for key in ("start_date", "building:start_date"):
        match = _RE_YEAR.search(tags.get(key, ""))
        if match:
            return int(match.group())
    return None


def _network_way(tags: Mapping[str, str]) -> bool:
    highway = tags.get("highway")
    return (
        highway is not None
        and highway not in EXCLUDED_HIGHWAYS
        and tags.get("area") != "yes"
    )


def _oneway(tags: Mapping[str, str]) -> int:
    """1 one-way along the nodes, -1 against them, 0 two-way."""
    value = tags.get("oneway", "").strip().lower()
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value in ("no", "false", "0"):
        return 0
    if tags.get("junction") in ("roundabout", "circular"):
        return 1
    if tags.get("highway") == "motorway":
        return 1
    return 0


# -- the input file -----------------------------------------------------------

_KIND_TEXT = {
    "pbf": "an OSM PBF file",
    "xml": "an XML file",
    "gzip": "a gzip-compressed file",
    "bzip2": "a bzip2-compressed file",
    "json": "JSON (e.g. GeoJSON)",
    "zip": "a ZIP archive",
    "unknown": "neither OSM XML nor PBF",
}
_OSMIUM_FORMAT = {"pbf": "pbf", "xml": "osm", "gzip": "osm.gz", "bzip2": "osm.bz2"}
_SUFFIX_KIND = {
    ".pbf": "pbf",
    ".osm": "xml",
    ".xml": "xml",
    ".gz": "gzip",
    ".bz2": "bzip2",
}
_SUFFIX_HINT = {
    "pbf": ".osm.pbf",
    "xml": ".osm",
    "gzip": ".osm.gz",
    "bzip2": ".osm.bz2",
}


def _sniff(head: bytes) -> str:
    """What the first bytes of a file look like."""
    if head[4:15] == b"\n\tOSMHeader":
        return "pbf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "xml"
    if text[:1] in (b"{", b"["):
        return "json"
    return "unknown"


def _check_file(path: Path) -> str:
    """Check that ``path`` is a readable OSM file; return its osmium format."""
    if not path.exists():
        msg = f"{path}: no such file; check the path of the OSM extract"
        raise InputFileError(msg)
    if not path.is_file():
        msg = f"{path}: is a directory, not an OSM file; give the .osm or .osm.pbf"
        raise InputFileError(msg)
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        msg = f"{path}: cannot be opened ({exc.strerror}); check its permissions"
        raise InputFileError(msg) from exc
    if not head:
        msg = f"{path}: the file is empty (0 bytes); re-download the extract"
        raise InputFileError(msg)
    kind = _sniff(head)
    expected = _SUFFIX_KIND.get(path.suffix.lower())
    if expected is not None and kind != expected:
        if kind in _OSMIUM_FORMAT:
            fix = f"rename it to end in {_SUFFIX_HINT[kind]}, or re-download it"
        else:
            fix = "re-download the extract (.osm or .osm.pbf from openstreetmap.org)"
        msg = (
            f"{path}: the name says {_KIND_TEXT[expected]} but the content is "
            f"{_KIND_TEXT[kind]}; {fix}"
        )
        raise InputFileError(msg)
    if kind not in _OSMIUM_FORMAT:
        msg = (
            f"{path}: the content is {_KIND_TEXT[kind]}, not OSM data; give an "
            ".osm (XML) or .osm.pbf extract"
        )
        raise InputFileError(msg)
    return _OSMIUM_FORMAT[kind]


def _read_error(path: Path, fmt: str, exc: Exception) -> InputFileError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if fmt == "pbf":
        what = "it is truncated or corrupt, or not PBF"
    else:
        what = "it is truncated or is not well-formed OSM XML"
    msg = (
        f"{path}: cannot be read as OSM data: {what} ({detail}); re-download the "
        "extract"
    )
    return InputFileError(msg)


def _guarded(path: Path, fmt: str, objects: Any) -> Iterator[Any]:
    """Iterate osmium objects, turning reading errors into InputFileError."""
    it = iter(objects)
    while True:
        try:
            obj = next(it)
        except StopIteration:
            return
        except RuntimeError as exc:
            raise _read_error(path, fmt, exc) from exc
        yield obj


# -- reading ------------------------------------------------------------------


@dataclass
class _Way:
    id: int
    tags: dict[str, str]
    refs: list[int]
    lons: list[float]
    lats: list[float]

    @property
    def closed(self) -> bool:
        return len(self.refs) > 1 and self.refs[0] == self.refs[-1]

    @property
    def n_missing(self) -> int:
        return sum(1 for x in self.lons if math.isnan(x))


@dataclass
class _Scan:
    """What the passes over the file collect."""

    n_nodes: int = 0
    n_ways: int = 0
    n_relations: int = 0
    n_parts: int = 0
    newest: datetime | None = None
    # all node coordinates, kept only when the site is the convex hull
    hull_lons: list[float] = field(default_factory=list)
    hull_lats: list[float] = field(default_factory=list)
    # nodes that are facilities: (id, tags, lon, lat)
    fac_nodes: list[tuple[int, dict[str, str], float, float]] = field(
        default_factory=list
    )
    area_tags_on_nodes: Counter[str] = field(default_factory=Counter)
    # nodes tagged barrier=*: id -> the tags kept on the street graph
    barriers: dict[int, dict[str, str]] = field(default_factory=dict)
    # ways matching a layer or used by a relation that does
    ways: dict[int, _Way] = field(default_factory=dict)
    # built areas: (type, id) -> WKB (hex), None where osmium failed
    areas: dict[tuple[str, int], str | None] = field(default_factory=dict)
    # relations matching a layer: id -> (tags, member way ids)
    relations: dict[int, tuple[dict[str, str], list[int]]] = field(default_factory=dict)
    # member ways of those relations that are in the file
    seen_members: set[int] = field(default_factory=set)


def _wants_way(tags: Mapping[str, str]) -> bool:
    return bool(
        _network_way(tags) or _area_layers(tags) or _match_facility(tags) is not None
    )


def _scan_relations(
    osmium: Any, src: Any, path: Path, fmt: str
) -> tuple[dict[int, tuple[dict[str, str], list[int]]], int, int]:
    """First pass: relations matching a layer, the relation and part counts."""
    relations: dict[int, tuple[dict[str, str], list[int]]] = {}
    n = parts = 0
    reader = osmium.FileProcessor(src, osmium.osm.RELATION)
    for rel in _guarded(path, fmt, reader):
        n += 1
        if not len(rel.tags):
            continue
        tags = {t.k: t.v for t in rel.tags}
        if "building:part" in tags:
            parts += 1
        if _area_layers(tags) or _match_facility(tags) is not None:
            members = [m.ref for m in rel.members if m.type == "w"]
            relations[rel.id] = (tags, members)
    return relations, n, parts


def _scan(
    osmium: Any, src: Any, path: Path, fmt: str, *, hull: bool, progress: bool
) -> _Scan:
    relations, n_rel, n_rel_parts = _scan_relations(osmium, src, path, fmt)
    members = {m for _, ms in relations.values() for m in ms}
    scan = _Scan(n_relations=n_rel, n_parts=n_rel_parts, relations=relations)
    factory = osmium.geom.WKBFactory()
    newest = 0.0
    processor = osmium.FileProcessor(src).with_areas()
    for obj in _guarded(path, fmt, processor):
        kind = obj.type_str()
        if kind != "a":
            stamp = obj.timestamp.timestamp()
            newest = max(newest, stamp)
        if kind == "n":
            scan.n_nodes += 1
            if progress and scan.n_nodes % 1_000_000 == 0:
                _log.info("%s: %d nodes read", path.name, scan.n_nodes)
            if hull:
                scan.hull_lons.append(obj.location.lon)
                scan.hull_lats.append(obj.location.lat)
            if not len(obj.tags):
                continue
            tags = {t.k: t.v for t in obj.tags}
            if _match_facility(tags) is not None:
                loc = obj.location
                scan.fac_nodes.append((obj.id, tags, loc.lon, loc.lat))
            if "barrier" in tags:
                scan.barriers[obj.id] = _barrier_tags(tags)
            for layer in _area_layers(tags):
                scan.area_tags_on_nodes[layer] += 1
        elif kind == "w":
            scan.n_ways += 1
            member = obj.id in members
            if member:
                scan.seen_members.add(obj.id)
            if not len(obj.tags) and not member:
                continue
            tags = {t.k: t.v for t in obj.tags}
            if "building:part" in tags:
                scan.n_parts += 1
            if not (member or _wants_way(tags)):
                continue
            refs, lons, lats = [], [], []
            for node in obj.nodes:
                refs.append(node.ref)
                loc = node.location
                if loc.valid():
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                else:
                    lons.append(math.nan)
                    lats.append(math.nan)
            scan.ways[obj.id] = _Way(obj.id, tags, refs, lons, lats)
        elif kind == "a":
            tags = {t.k: t.v for t in obj.tags}
            if not _area_layers(tags) and _match_facility(tags) is None:
                continue
            key = ("w" if obj.from_way() else "r", obj.orig_id())
            try:
                scan.areas[key] = factory.create_multipolygon(obj)
            except (RuntimeError, osmium.InvalidLocationError):
                scan.areas[key] = None
    if newest > 0:
        scan.newest = datetime.fromtimestamp(newest, tz=UTC)
    return scan


# -- building the layers ------------------------------------------------------


def _fid(kind: str, osm_id: int) -> str:
    return f"{kind}{osm_id}"


class _Skipped:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int, str, str]] = []

    def add(self, kind: str, osm_id: int, layer: str, reason: str) -> None:
        self.rows.append((_fid(kind, osm_id), _TYPE_NAME[kind], osm_id, layer, reason))

    def frame(self) -> pd.DataFrame:
        rows = sorted(self.rows, key=lambda r: (r[3], _TYPE_RANK[r[0][0]], r[2]))
        frame = pd.DataFrame(rows, columns=list(_SKIPPED_COLUMNS))
        frame = frame.astype(
            {
                "feature_id": "str",
                "osm_type": "str",
                "osm_id": "int64",
                "layer": "str",
                "reason": "str",
            }
        )
        return frame


def _way_reason(way: _Way, built: bool) -> str:
    """Why a way that matched a polygon layer has no usable area."""
    n = len(way.refs)
    missing = way.n_missing
    if not way.closed:
        return (
            "way is not closed (first and last node differ), so it has no area; "
            "close the outline in an OSM editor"
        )
    if missing:
        return (
            f"{missing} of {n} nodes are not in the extract (the outline crosses "
            "its boundary); use an extract that keeps complete ways"
        )
    if n < 4:
        return f"closed way has only {n} nodes; a polygon needs at least 4"
    if built:
        return "osmium could not assemble a valid polygon from the outline"
    if way.tags.get("area") == "no":
        return "tagged area=no, so osmium builds no area from it"
    return "osmium built no area from this closed way"


def _relation_reason(
    tags: Mapping[str, str], members: list[int], scan: _Scan, built: bool
) -> str:
    """Why a relation that matched a layer has no usable area."""
    rtype = tags.get("type", "")
    if rtype not in AREA_RELATION_TYPES:
        return (
            f"relation type={rtype or '(none)'} is not an area; only multipolygon "
            "and boundary relations are"
        )
    if not members:
        return "relation has no member ways"
    absent = [m for m in members if m not in scan.seen_members]
    if absent:
        return (
            f"incomplete relation: {len(absent)} of {len(members)} member ways are "
            "not in the extract; use an extract that keeps complete relations"
        )
    clipped = [m for m in members if m in scan.ways and scan.ways[m].n_missing]
    if clipped:
        return (
            f"{len(clipped)} of {len(members)} member ways have nodes outside the "
            "extract; use an extract that keeps complete ways"
        )
    if built:
        return "osmium could not assemble valid rings from the member ways"
    return "osmium built no area from this relation"


def _polygon(wkb: str) -> shapely.Geometry:
    geom = shapely.from_wkb(wkb)
    if shapely.get_num_geometries(geom) == 1:
        geom = shapely.get_geometry(geom, 0)
    return geom


def _area_geometries(
    scan: _Scan, skipped: _Skipped
) -> list[tuple[str, int, dict[str, str], shapely.Geometry | None]]:
    """Every way or relation that matched a polygon layer, with its polygon.

    The polygon is None where it could not be built; the reason is recorded in
    ``skipped`` for each layer it matched.
    """
    out: list[tuple[str, int, dict[str, str], shapely.Geometry | None]] = []
    candidates: list[tuple[str, int, dict[str, str]]] = [
        ("w", w.id, w.tags) for w in scan.ways.values() if _area_layers(w.tags)
    ]
    candidates += [
        ("r", rid, tags)
        for rid, (tags, _) in scan.relations.items()
        if _area_layers(tags)
    ]
    for kind, osm_id, tags in candidates:
        key = (kind, osm_id)
        wkb = scan.areas.get(key)
        geom = _polygon(wkb) if wkb else None
        reason = None
        if geom is not None and not shapely.is_valid(geom):
            reason = f"assembled polygon is invalid ({shapely.is_valid_reason(geom)})"
            geom = None
        elif geom is not None and shapely.is_empty(geom):
            reason = "osmium assembled an empty polygon"
            geom = None
        elif geom is None:
            if kind == "w":
                reason = _way_reason(scan.ways[osm_id], key in scan.areas)
            else:
                reason = _relation_reason(
                    tags, scan.relations[osm_id][1], scan, key in scan.areas
                )
        if reason is not None:
            for layer in _area_layers(tags):
                skipped.add(kind, osm_id, layer, reason)
        out.append((kind, osm_id, tags, geom))
    return out


def _frame(columns: dict[str, Any], geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(columns)
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(np.array(geoms, dtype=object), crs=_CRS)
    )


def _str(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype="str")


def _buildings(areas: list[tuple[str, int, dict[str, str], Any]]) -> gpd.GeoDataFrame:
    rows = [(k, i, t, g) for k, i, t, g in areas if g is not None and _is_building(t)]
    ids, heights, h_src, h_raw = [], [], [], []
    floors, f_src, f_raw, under = [], [], [], []
    uses, osm_b, names, names_en, years = [], [], [], [], []
    for kind, osm_id, tags, _ in rows:
        ids.append(_fid(kind, osm_id))
        raw_h = tags.get("height")
        height = _parse_height_m(raw_h) if raw_h is not None else math.nan
        heights.append(height)
        h_src.append("measured" if math.isfinite(height) else None)
        h_raw.append(raw_h if raw_h is not None and math.isnan(height) else None)
        raw_f = tags.get("building:levels")
        levels = _parse_levels(raw_f) if raw_f is not None else None
        floors.append(levels)
        f_src.append("measured" if levels is not None else None)
        f_raw.append(raw_f if raw_f is not None and not _is_plain_int(raw_f) else None)
        raw_u = tags.get("building:levels:underground")
        under.append(_parse_levels(raw_u, allow_zero=True) if raw_u else None)
        uses.append(_building_use(tags))
        osm_b.append(tags["building"])
        names.append(_name(tags))
        names_en.append(tags.get("name:en"))
        years.append(_year(tags))
    n = len(rows)
    columns = {
        "building_id": _str(ids),
        "height_m": pd.Series(heights, dtype="float64"),
        "height_source": _str(h_src),
        "floors": pd.array(floors, dtype="Int64"),
        "floors_source": _str(f_src),
        "floors_underground": pd.array(under, dtype="Int64"),
        "use": _str(uses),
        "households": pd.array([None] * n, dtype="Int64"),
        "year_built": pd.array(years, dtype="Int64"),
        "structure": _str(["unknown"] * n),
        "name": _str(names),
        "name_en": _str(names_en),
        "osm_building": _str(osm_b),
        "osm_height_raw": _str(h_raw),
        "osm_levels_raw": _str(f_raw),
    }
    return _frame(columns, [g for *_, g in rows])


def _parcels(areas: list[tuple[str, int, dict[str, str], Any]]) -> gpd.GeoDataFrame:
    rows = [
        (k, i, t, g)
        for k, i, t, g in areas
        if g is not None and _parcel_use(t) is not None
    ]
    columns = {
        "parcel_id": _str([_fid(k, i) for k, i, _, _ in rows]),
        "land_use": _str([_parcel_use(t) for _, _, t, _ in rows]),
        "name": _str([_name(t) for _, _, t, _ in rows]),
    }
    return _frame(columns, [g for *_, g in rows])


def _greens(areas: list[tuple[str, int, dict[str, str], Any]]) -> gpd.GeoDataFrame:
    rows = [
        (k, i, t, g)
        for k, i, t, g in areas
        if g is not None and _green_kind(t) is not None
    ]
    columns = {
        "green_id": _str([_fid(k, i) for k, i, _, _ in rows]),
        "kind": _str([_green_kind(t) for _, _, t, _ in rows]),
        "name": _str([_name(t) for _, _, t, _ in rows]),
    }
    return _frame(columns, [g for *_, g in rows])


def _facilities(scan: _Scan, skipped: _Skipped) -> gpd.GeoDataFrame:
    rows: list[tuple[str, int, dict[str, str], shapely.Geometry]] = [
        ("n", nid, tags, shapely.Point(lon, lat))
        for nid, tags, lon, lat in scan.fac_nodes
    ]
    for way in scan.ways.values():
        if _match_facility(way.tags) is None:
            continue
        wkb = scan.areas.get(("w", way.id))
        if wkb:
            rows.append(("w", way.id, way.tags, _polygon(wkb).representative_point()))
            continue
        coords = [
            (x, y) for x, y in zip(way.lons, way.lats, strict=True) if not math.isnan(x)
        ]
        if len(set(coords)) >= 2:
            point = shapely.LineString(coords).representative_point()
        elif coords:
            point = shapely.Point(coords[0])
        else:
            skipped.add(
                "w",
                way.id,
                "facilities",
                f"all {len(way.refs)} nodes are outside the extract",
            )
            continue
        rows.append(("w", way.id, way.tags, point))
    for rid, (tags, members) in scan.relations.items():
        if _match_facility(tags) is None:
            continue
        wkb = scan.areas.get(("r", rid))
        if wkb:
            rows.append(("r", rid, tags, _polygon(wkb).representative_point()))
        else:
            reason = _relation_reason(tags, members, scan, ("r", rid) in scan.areas)
            skipped.add("r", rid, "facilities", reason)
    matches = [_match_facility(t) for _, _, t, _ in rows]
    columns = {
        "facility_id": _str([_fid(k, i) for k, i, _, _ in rows]),
        "category": _str([m[0] for m in matches if m]),
        "name": _str([_name(t) for _, _, t, _ in rows]),
        "osm_type": _str([_TYPE_NAME[k] for k, _, _, _ in rows]),
        "osm_key": _str([m[1] for m in matches if m]),
        "osm_value": _str([m[2] for m in matches if m]),
    }
    return _frame(columns, [g for *_, g in rows])


#: Where the site polygon of :func:`read_osm` comes from, by the value of
#: ``OSMData.source["site_from"]``, first choice first.
SITE_FROM = {
    "given": "the study area given with site= (cim import osm --site FILE)",
    "header": "the bounding box in the file's header (<bounds> of an export)",
    "buildings_hull": "the convex hull of the buildings (the file has no bounds)",
    "features_hull": (
        "the convex hull of the parcels, greens and facilities (the file has no "
        "bounds and no buildings)"
    ),
    "streets_hull": (
        "the convex hull of the street network (the file has no bounds, "
        "buildings, parcels, greens or facilities)"
    ),
    "nodes_hull": "the convex hull of all nodes of the file (nothing else to go by)",
}


def _area_m2(geom: shapely.Geometry) -> float:
    """Geodesic area of a longitude/latitude (multi)polygon [m2]."""
    return abs(float(_GEOD.geometry_area_perimeter(geom)[0]))


def _hull(coords: np.ndarray) -> shapely.Geometry:
    """Convex hull of ``(n, 2)`` points, as a polygon even when degenerate."""
    geom = shapely.convex_hull(shapely.multipoints(coords))
    if shapely.get_type_id(geom) != 3:  # fewer than 3 points not in a line
        geom = shapely.box(*shapely.bounds(geom)).buffer(1e-6, join_style="mitre")
    return geom


def _coords(geoms: Any) -> np.ndarray:
    return np.asarray(shapely.get_coordinates(np.asarray(geoms, dtype=object)))


def _street_coords(network: nx.MultiDiGraph) -> np.ndarray:
    nodes = [(d["x"], d["y"]) for _, d in network.nodes(data=True)]
    lines = [d["geometry"] for *_, d in network.edges(data=True) if "geometry" in d]
    return np.concatenate(
        [np.asarray(nodes, dtype=float).reshape(-1, 2), _coords(lines)]
    )


def _hull_site(
    scan: _Scan, layers: Mapping[str, gpd.GeoDataFrame], network: nx.MultiDiGraph
) -> tuple[shapely.Geometry, str, str]:
    """The site of a file without bounds: the hull of what was imported.

    The first of: the buildings; the parcels, greens and facilities; the
    streets; all nodes of the file. Not the hull of every kept feature: an
    extract holds relation members far outside the area it was cut to (the
    metro stations of a subway line, a whole park crossing its edge), and
    those would stretch the site by kilometres; buildings are only there
    because they are in or at the area.
    """
    b = layers["buildings"].geometry.array
    if len(b):
        return _hull(_coords(b)), "buildings_hull", f"its {len(b):,} buildings"
    kept = [
        g for k in ("parcels", "greens", "facilities") for g in layers[k].geometry.array
    ]
    if kept:
        return (
            _hull(_coords(kept)),
            "features_hull",
            f"its {len(kept):,} parcels, greens and facilities (it has no buildings)",
        )
    if network.number_of_nodes():
        return (
            _hull(_street_coords(network)),
            "streets_hull",
            "its street network (it has no buildings, parcels, greens or facilities)",
        )
    coords = np.column_stack([scan.hull_lons, scan.hull_lats])
    return _hull(coords), "nodes_hull", f"all its {scan.n_nodes:,} nodes"


def _header_bounds(box: Any) -> tuple[float, float, float, float] | None:
    if not box.valid():
        return None
    return (
        box.bottom_left.lon,
        box.bottom_left.lat,
        box.top_right.lon,
        box.top_right.lat,
    )


def _given_site(site: Any, name: str) -> tuple[gpd.GeoDataFrame, str]:
    """The study area given to `read_osm`, checked and in EPSG:4326.

    Returns the site layer (``site_id``, ``name``, the given columns) and how
    to name it in messages.
    """
    where = (
        f"site file {os.fspath(site)}"
        if isinstance(site, (str, os.PathLike))
        else "the given site"
    )
    frame = input_layer(site, layer="site", what=where)
    if not len(frame):
        msg = f"{where} has no features; give the study area as polygons"
        raise LayerSchemaError(msg, layer="site")
    geoms = frame.geometry.array
    kinds = shapely.get_type_id(geoms)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms) | ~np.isin(kinds, (3, 6))
    if bad.any():
        rows = np.flatnonzero(bad)
        types = sorted(
            {"empty" if g is None or g.is_empty else g.geom_type for g in geoms[bad]}
        )
        msg = (
            f"{where}: feature(s) {', '.join(map(str, rows[:5]))} are "
            f"{', '.join(types)}, not polygons; give the study area as polygons"
        )
        raise LayerSchemaError(msg, layer="site", feature_id=rows.tolist())
    frame = frame.to_crs(_CRS)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    frame = frame.reset_index(drop=True)
    if "site_id" in frame.columns:
        ids = frame["site_id"]
    elif len(frame) == 1:
        ids = _str(["site"])
    else:
        ids = _str([f"site-{i + 1}" for i in range(len(frame))])
    names = frame["name"] if "name" in frame.columns else _str([name] * len(frame))
    rest = frame.drop(columns=[c for c in ("site_id", "name") if c in frame.columns])
    out = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame({"site_id": ids, "name": names}), rest], axis=1),
        geometry="geometry",
        crs=_CRS,
    )
    return out, where


#: Share of a given site outside the extract's bounds that is warned about [-].
_SITE_OUTSIDE_SHARE = 0.01


def _check_given_site(
    site: gpd.GeoDataFrame,
    where: str,
    bounds: tuple[float, float, float, float] | None,
    data: shapely.Geometry | None,
    path: Path,
) -> None:
    """Refuse a site away from the extract; warn where it reaches beyond it."""
    area = shapely.union_all(site.geometry.array)
    reference = shapely.box(*bounds) if bounds is not None else data
    if reference is None:
        return
    what = "bounds" if bounds is not None else "data (convex hull)"
    if not shapely.intersects(area, reference):
        w, s, e, n = (round(float(v), 5) for v in shapely.bounds(area))
        msg = (
            f"{where} (lon {w} .. {e}, lat {s} .. {n}) does not overlap the "
            f"{what} of {path.name}; check its CRS, or give the study area of "
            "this extract"
        )
        raise LayerSchemaError(msg, layer="site")
    if bounds is None:
        return
    outside = _area_m2(shapely.difference(area, reference))
    share = outside / _area_m2(area)
    if share > _SITE_OUTSIDE_SHARE:
        warnings.warn(
            f"{path.name}: {share:.0%} of {where} ({outside / 1e4:,.1f} ha) lies "
            "outside the extract's bounds, where the file has only the parts of "
            "features that cross them; buildings, streets and facilities there "
            "are missing, so export the extract over the whole site",
            CIMWarning,
            stacklevel=3,
        )


def _network(scan: _Scan, skipped: _Skipped, name: str) -> tuple[nx.MultiDiGraph, int]:
    """The street graph, split at junctions and way ends (osmnx topology)."""
    ways = [w for w in scan.ways.values() if _network_way(w.tags)]
    uses: Counter[int] = Counter()
    for way in ways:
        uses.update(
            r for r, x in zip(way.refs, way.lons, strict=True) if not math.isnan(x)
        )
    coords: dict[int, tuple[float, float]] = {}
    street_count: Counter[int] = Counter()
    # way, i_u, i_v, length, barriers along and against the way
    segments: list[tuple[_Way, int, int, float, tuple[str, str]]] = []
    lines: list[np.ndarray] = []
    clipped = 0
    for way in ways:
        lons = np.asarray(way.lons, dtype="float64")
        lats = np.asarray(way.lats, dtype="float64")
        valid = ~np.isnan(lons)
        if not valid.all():
            clipped += 1
        # consecutive pairs with both ends known
        pair = valid[:-1] & valid[1:]
        dist = np.zeros(max(len(lons) - 1, 0))
        if pair.any():
            idx = np.flatnonzero(pair)
            dist[idx] = _GEOD.inv(lons[idx], lats[idx], lons[idx + 1], lats[idx + 1])[2]
        cum = np.concatenate([[0.0], np.cumsum(dist)])
        runs = _runs(valid)
        if not runs:
            skipped.add(
                "w",
                way.id,
                "network",
                f"fewer than 2 of its {len(way.refs)} nodes are in the extract"
                if len(way.refs) > 1
                else "way has fewer than 2 nodes",
            )
            continue
        for start, stop in runs:
            cuts = [i for i in range(start + 1, stop) if uses[way.refs[i]] > 1]
            bounds = [start, *cuts, stop]
            for i, j in itertools.pairwise(bounds):
                u, v = way.refs[i], way.refs[j]
                coords[u] = (lons[i], lats[i])
                coords[v] = (lons[j], lats[j])
                street_count[u] += 1
                street_count[v] += 1
                inner = _inner_barriers(way, i, j, cum, scan)
                segments.append((way, i, j, float(cum[j] - cum[i]), inner))
                lines.append(np.column_stack([lons[i : j + 1], lats[i : j + 1]]))
    geoms = _linestrings(lines)
    graph = nx.MultiDiGraph(crs=_CRS, name=name)
    graph.add_nodes_from(
        (
            n,
            {
                "x": float(coords[n][0]),
                "y": float(coords[n][1]),
                "street_count": street_count[n],
                **scan.barriers.get(n, _NO_BARRIER),
            },
        )
        for n in sorted(coords)
    )
    edges: list[tuple[int, int, dict[str, Any]]] = []
    for (way, i, j, length, (along, against)), geom in zip(
        segments, geoms, strict=True
    ):
        tags = way.tags
        u, v = way.refs[i], way.refs[j]
        direction = _oneway(tags)
        attrs = {
            "osmid": way.id,
            "highway": tags["highway"],
            "oneway": direction != 0,
            "reversed": False,
            "length_m": length,
            "name": _name(tags),
            "maxspeed": tags.get("maxspeed", ""),
            "speed_kph": _parse_speed_kph(tags.get("maxspeed", "")),
            "access": tags.get("access", ""),
            "foot": tags.get("foot", ""),
            "bicycle": tags.get("bicycle", ""),
            "barriers": along,
            "geometry": geom,
        }
        if direction >= 0:
            edges.append((u, v, attrs))
        if direction <= 0:
            back = dict(
                attrs, reversed=True, barriers=against, geometry=shapely.reverse(geom)
            )
            edges.append((v, u, back))
    graph.add_edges_from(edges)
    return graph, clipped


def _barrier_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags of a barrier node kept on the street graph ("" where absent)."""
    return {key: tags.get(key, "") for key in BARRIER_TAGS}


def _inner_barriers(
    way: _Way, i: int, j: int, cum: np.ndarray, scan: _Scan
) -> tuple[str, str]:
    """Barriers strictly inside the edge from node ``i`` to ``j`` of ``way``.

    Returns the ``barriers`` attribute of the edge along the way and of the
    edge against it: JSON lists (``""`` when there are none) of objects with
    the barrier's OSM ``node`` id, its ``offset_m`` [m] from the edge's first
    node along the edge, and :data:`BARRIER_TAGS`.
    """
    found = [k for k in range(i + 1, j) if way.refs[k] in scan.barriers]
    if not found:
        return "", ""
    length = float(cum[j] - cum[i])
    along = [(way.refs[k], float(cum[k] - cum[i])) for k in found]
    against = [(ref, length - off) for ref, off in reversed(along)]

    def dump(items: list[tuple[int, float]]) -> str:
        return json.dumps(
            [
                {"node": ref, "offset_m": off, **scan.barriers[ref]}
                for ref, off in items
            ],
            ensure_ascii=False,
        )

    return dump(along), dump(against)


def _runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of the runs of at least 2 consecutive True."""
    runs = []
    start = None
    for i, ok in enumerate(valid.tolist()):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if i - 1 > start:
                runs.append((start, i - 1))
            start = None
    if start is not None and len(valid) - 1 > start:
        runs.append((start, len(valid) - 1))
    return runs


def _linestrings(lines: list[np.ndarray]) -> list[shapely.Geometry]:
    if not lines:
        return []
    sizes = np.array([len(c) for c in lines])
    index = np.repeat(np.arange(len(lines)), sizes)
    return list(shapely.linestrings(np.concatenate(lines), indices=index))


def _sort(gdf: gpd.GeoDataFrame, id_column: str) -> gpd.GeoDataFrame:
    """Rows in OSM order: nodes, ways, relations, each by id."""
    ids = [str(v) for v in gdf[id_column]]
    order = sorted(
        range(len(ids)), key=lambda i: (_TYPE_RANK[ids[i][0]], int(ids[i][1:]))
    )
    return gdf.iloc[order].reset_index(drop=True)


def read_osm(
    path: str | os.PathLike[str],
    *,
    site: gpd.GeoDataFrame | gpd.GeoSeries | str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> OSMData:
    """Read an OpenStreetMap extract into twin layers and a street graph.

    Parameters
    ----------
    path
        An OSM XML (``.osm``, also ``.osm.gz``/``.osm.bz2``) or PBF
        (``.osm.pbf``) file, e.g. an openstreetmap.org export. It is only read.
    site
        The study area: polygons in any declared CRS, or a polygon layer file
        (GeoPackage, GeoJSON, Shapefile ...; only read). It becomes the site
        layer instead of the file's bounds (see Notes); default: the bounds.
    progress
        Log the steps of the import with :mod:`logging` (logger
        ``cim.io.osm``, level INFO).

    Returns
    -------
    OSMData
        Layers in EPSG:4326, the street graph, provenance and the objects that
        were skipped, with reasons.

    Raises
    ------
    InputFileError
        If the file is missing, empty, truncated, not OSM XML/PBF, or its
        content does not match its extension; or the site file cannot be read.
    LayerSchemaError
        If the given site is empty, not polygons, or does not overlap the
        extract.
    CRSError
        If the given site has no CRS, or its coordinates contradict it.
    ImportError
        If pyosmium is not installed (``pip install 'cim-twin[osm]'``).

    Warns
    -----
    RepairWarning
        Once, if some objects matched a layer but could not be built (e.g.
        outlines clipped at the extract's edge); see :attr:`OSMData.skipped`.
        Once, with its area, if no site is given and the file has no bounds,
        so that the site is the hull of what was imported.
    CIMWarning
        If more than 1 % of the given site lies outside the file's bounds,
        where the extract has no complete data.

    Notes
    -----
    The site (``source["site_from"]``, :data:`SITE_FROM`) is the ``site``
    given, else the bounding box of the file's header (the ``<bounds>`` of an
    openstreetmap.org or Overpass export, the header box of a PBF written with
    ``osmium extract --set-bounds``). A file without bounds gets the convex
    hull of its buildings, else of its parcels, greens and facilities, else
    of its streets, else of all its nodes, with a warning: not the hull of
    every node, because an extract also holds the far-away members of the
    relations it touches (e.g. a subway line's stations kilometres away).
    The hull of the buildings is close to, but not, the area the extract was
    cut to: buildings crossing its edge stretch it, open land at its edge
    shrinks it. A given site is reprojected to EPSG:4326 here and to the
    twin's CRS, and validated, when it enters the twin; it must overlap the
    file's bounds (or, without bounds, its data), and is warned about where
    it reaches beyond the bounds.

    Buildings are areas tagged ``building=*`` (not ``building=no``);
    ``building:part`` areas duplicate the outline and are only counted. Heights
    (``height``) are converted to metres and storeys (``building:levels``)
    rounded up to whole storeys; where a tag cannot be read the raw value is
    kept in ``osm_height_raw``/``osm_levels_raw``, and the ``*_source`` column
    is missing so that the twin estimates the value.

    Street network: ways tagged ``highway=*`` except
    :data:`EXCLUDED_HIGHWAYS` and ``area=yes``, split at way ends and at nodes
    shared by several ways (or used twice by one way). Two-way streets get an
    edge in each direction; the one against the way's node order has
    ``reversed=True`` (as does the only edge of an ``oneway=-1`` way).
    Ways crossing the edge of the extract keep their parts inside it.

    Gates and other ``barrier=*`` nodes on streets are kept for
    :func:`cim.network.mode_graph`, which opens or closes them by mode, access
    and time of day. A barrier at a junction or way end is a graph node and
    carries its ``barrier``, ``access`` and ``opening_hours`` tags. A barrier
    inside an edge (the usual compound gate, mid-way on a service road) is
    listed in the edge's ``barriers`` attribute, a JSON list of
    ``{"node": id, "offset_m": metres from the edge's first node, "barrier",
    "access", "opening_hours"}`` (``""`` when there are none), so that the
    graph keeps osmnx's topology. Walls and fences (``barrier=wall|fence``
    ways) are not streets: they block passage by leaving no edge across them.

    Facilities are nodes, ways and multipolygon relations matching
    ``assets/facility_categories.csv``; the most specific alternative (most
    ``+``-joined tags) wins, ties going to the earlier row. Areas are placed at
    their ``representative_point``. A node and an area for the same facility
    give two rows.

    Examples
    --------
    >>> import warnings
    >>> from cim._assets import asset_path
    >>> from cim.errors import RepairWarning
    >>> from cim.io.osm import read_osm
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", RepairWarning)
    ...     data = read_osm(asset_path("samples", "beijing_haidian_cau.osm.bz2"))
    >>> data.source["licence"], data.network.graph["crs"]
    ('ODbL 1.0', 'EPSG:4326')
    >>> data.skipped[["feature_id", "layer"]].to_numpy().tolist()
    [['r14400092', 'parcels']]
    """
    osmium = import_optional_dependency("osmium", extra="osm")
    path = Path(path)
    fmt = _check_file(path)
    src = osmium.io.File(str(path), fmt)
    name = path.name.split(".")[0]
    given = None if site is None else _given_site(site, name)
    if progress:
        _log.info("%s: reading %s", path.name, fmt)
    try:
        box = osmium.FileProcessor(src).header.box()
    except RuntimeError as exc:
        raise _read_error(path, fmt, exc) from exc
    bounds = _header_bounds(box)
    hull = bounds is None and given is None
    scan = _scan(osmium, src, path, fmt, hull=hull, progress=progress)
    if scan.n_nodes == 0:
        msg = (
            f"{path}: contains no nodes ({scan.n_ways} ways, {scan.n_relations} "
            "relations); export the area again (a failed download may leave only "
            "the header)"
        )
        raise InputFileError(msg)
    if progress:
        _log.info(
            "%s: %d nodes, %d ways, %d relations read; building layers",
            path.name,
            scan.n_nodes,
            scan.n_ways,
            scan.n_relations,
        )

    skipped = _Skipped()
    areas = _area_geometries(scan, skipped)
    buildings = _sort(_buildings(areas), "building_id")
    parcels = _sort(_parcels(areas), "parcel_id")
    greens = _sort(_greens(areas), "green_id")
    facilities = _sort(_facilities(scan, skipped), "facility_id")
    if progress:
        _log.info("%s: building the street network", path.name)
    network, clipped = _network(scan, skipped, name)
    skipped_frame = skipped.frame()
    layers = {
        "buildings": buildings,
        "parcels": parcels,
        "greens": greens,
        "facilities": facilities,
    }
    hull_note = None
    if given is not None:
        site_layer, where = given
        data = None
        if bounds is None:
            kept = [_coords(lyr.geometry.array) for lyr in layers.values()]
            coords = np.concatenate([*kept, _street_coords(network)])
            data = _hull(coords) if len(coords) else None
        _check_given_site(site_layer, where, bounds, data, path)
        site_from = "given"
    elif bounds is not None:
        site_layer = _frame(
            {"site_id": _str(["site"]), "name": _str([name])}, [shapely.box(*bounds)]
        )
        site_from = "header"
    else:
        geom, site_from, hull_note = _hull_site(scan, layers, network)
        site_layer = _frame({"site_id": _str(["site"]), "name": _str([name])}, [geom])

    edges_osmids = {d["osmid"] for _, _, d in network.edges(data=True)}
    counts: dict[str, Any] = {
        "nodes": scan.n_nodes,
        "ways": scan.n_ways,
        "relations": scan.n_relations,
        "buildings": len(buildings),
        "building_parts": scan.n_parts,
        "parcels": len(parcels),
        "greens": len(greens),
        "facilities": len(facilities),
        "network_ways": len(edges_osmids),
        "network_ways_clipped": clipped,
        "network_nodes": network.number_of_nodes(),
        "network_edges": network.number_of_edges(),
        "area_tags_on_nodes": dict(sorted(scan.area_tags_on_nodes.items())),
        "skipped": len(skipped_frame),
    }
    source: dict[str, Any] = {
        "name": path.name,
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "newest_edit": scan.newest.isoformat() if scan.newest else None,
        "bounds": bounds,
        "site_from": site_from,
        "counts": counts,
    }
    if len(skipped_frame):
        by_layer = skipped_frame["layer"].value_counts().sort_index()
        detail = ", ".join(f"{n} {layer}" for layer, n in by_layer.items())
        n_objects = skipped_frame["feature_id"].nunique()
        warnings.warn(
            f"{path.name}: {n_objects} OSM objects matched a layer but "
            f"could not be built ({detail}); see OSMData.skipped for the reasons",
            RepairWarning,
            stacklevel=2,
        )
    if hull_note is not None:
        area = _area_m2(site_layer.geometry.iloc[0])
        warnings.warn(
            f"{path.name}: the file has no bounds, so the site is the convex hull "
            f"of {hull_note}, {area / 1e4:,.1f} ha ({area:,.0f} m2 on the ellipsoid); "
            "give the "
            "study area with site= (cim import osm --site FILE), or export the "
            "extract with its bounds (openstreetmap.org export, osmium extract "
            "--set-bounds)",
            RepairWarning,
            stacklevel=2,
        )
    if progress:
        _log.info(
            "%s: %d buildings, %d parcels, %d greens, %d facilities, %d edges; "
            "%d skipped",
            path.name,
            len(buildings),
            len(parcels),
            len(greens),
            len(facilities),
            network.number_of_edges(),
            len(skipped_frame),
        )
    return OSMData(
        buildings=buildings,
        parcels=parcels,
        greens=greens,
        facilities=facilities,
        site=site_layer,
        network=network,
        source=source,
        skipped=skipped_frame,
    )


def twin_from_osm(
    path: str | os.PathLike[str],
    *,
    site: gpd.GeoDataFrame | gpd.GeoSeries | str | os.PathLike[str] | None = None,
    crs: Any = None,
    name: str | None = None,
    progress: bool = False,
    **kwargs: Any,
) -> Twin:
    """Build a twin from an OpenStreetMap file, optionally with its study area.

    As :meth:`cim.Twin.from_osm`, with the site given (see :func:`read_osm`).

    Parameters
    ----------
    path
        The ``.osm`` or ``.osm.pbf`` file; it is only read.
    site
        The study area (polygons, or a polygon layer file); default: the
        file's bounds.
    crs
        Target metric CRS; default: local UTM zone.
    name
        Name of the twin; default: the file's stem.
    progress
        Log progress of the import.
    **kwargs
        Passed to :class:`cim.Twin` (``storey_height_m`` ...).

    Returns
    -------
    cim.Twin
    """
    from cim.io.osm_defaults import default_floors_for
    from cim.twin import Twin

    data = read_osm(path, site=site, progress=progress)
    b = data.buildings
    default_floors = None
    if "osm_building" in b.columns and len(b):
        default_floors = default_floors_for(b["osm_building"])
    return Twin.from_layers(
        crs=crs,
        name=name or Path(path).name.split(".")[0],
        buildings=b,
        parcels=data.parcels,
        greens=data.greens,
        facilities=data.facilities,
        site=data.site,
        network=data.network,
        metadata={"sources": [data.source]},
        default_floors=default_floors,
        **kwargs,
    )
