"""Tests of cim.io.osm.read_osm on the real OpenStreetMap extracts.

Every count is checked against an independent count of the same file, made
here with plain osmium tag filters (``KeyFilter``/``TagFilter``) rather than
with the reader's own code. Numbers quoted from ``shared/data/README.md``
(counted independently with pyosmium) are extra checks.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import re
import warnings
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod

import cim
from cim._assets import asset_path
from cim.errors import (
    CIMWarning,
    CRSError,
    InputFileError,
    LayerSchemaError,
    RepairWarning,
)
from cim.io.osm import (
    OSMData,
    _match_facility,
    _oneway,
    _parse_height_m,
    _parse_levels,
    _parse_speed_kph,
    read_osm,
)

osmium = pytest.importorskip("osmium")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OSM = DATA / "osm"
CHINA = ("beijing_haidian_cau", "beijing_haidian_pku_tsinghua", "shanghai_baoshan_shu")
HELSINKI = OSM / "helsinki" / "Helsinki.osm.pbf"
ALL_FILES = (
    *(OSM / "china" / f"{n}.osm" for n in CHINA),
    *(OSM / "china" / f"{n}.osm.pbf" for n in CHINA),
    HELSINKI,
)

# Written out here from the brief, not imported from the module under test.
EXCLUDED_HIGHWAYS = {
    "proposed",
    "construction",
    "abandoned",
    "platform",
    "raceway",
    "bus_stop",
    "elevator",
}
AREA_RELATIONS = {"multipolygon", "boundary"}
PARCEL_TAGS = [
    *(
        ("landuse", v)
        for v in (
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
        )
    ),
    *(
        ("amenity", v)
        for v in ("school", "university", "college", "kindergarten", "hospital")
    ),
]
GREEN_TAGS = [
    *(("leisure", v) for v in ("park", "garden", "nature_reserve")),
    *(
        ("landuse", v)
        for v in (
            "grass",
            "forest",
            "meadow",
            "recreation_ground",
            "village_green",
            "flowerbed",
        )
    ),
    *(("natural", v) for v in ("wood", "scrub", "grassland")),
]

# From shared/data/README.md section 1 (independent pyosmium counts).
README_COUNTS = {
    "beijing_haidian_cau": (4347, 684, 194),
    "beijing_haidian_pku_tsinghua": (7450, 1360, 189),
    "shanghai_baoshan_shu": (3619, 393, 56),
    "Helsinki": (24260, 5130, 620),
}
README_NEWEST = {
    "beijing_haidian_cau": "2026-03-22",
    "beijing_haidian_pku_tsinghua": "2017-06-24",
    "shanghai_baoshan_shu": "2021-09-09",
    "Helsinki": "2019-04-21",
}
README_BOUNDS = {  # south, north, west, east
    "beijing_haidian_cau": (39.99767, 40.00888, 116.34403, 116.35974),
    "beijing_haidian_pku_tsinghua": (39.9905, 40.0123, 116.3084, 116.3320),
    "shanghai_baoshan_shu": (31.3098, 31.3235, 121.3817, 121.3973),
}
# SHA-256 of the original OSM XML export (shared/data/README.md).
SAMPLE_XML_SHA256 = "117b87a614f91eebedebdade3e88ae9f6437ccbe1023874d633cac648e131967"

REL = 1e-6  # relative tolerance of summed lengths [-]
ATOL_M = 1e-6  # absolute tolerance of one length [m]


def _param(path: Path) -> Any:
    return pytest.param(
        path,
        id=path.name,
        marks=pytest.mark.skipif(not path.exists(), reason=f"{path} not available"),
    )


FILES = [_param(p) for p in ALL_FILES]
PAIRS = [
    pytest.param(
        n,
        id=n,
        marks=pytest.mark.skipif(
            not (OSM / "china" / f"{n}.osm.pbf").exists(), reason="data not available"
        ),
    )
    for n in CHINA
]
needs_helsinki = pytest.mark.skipif(not HELSINKI.exists(), reason="no Helsinki")


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


@cache
def _read(path: Path) -> tuple[OSMData, tuple[warnings.WarningMessage, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = read_osm(path)
    return data, tuple(caught)


# -- independent counts with osmium filters ------------------------------------


def _fid(obj: Any) -> str:
    return f"{obj.type_str()}{obj.id}"


@cache
def _tagged(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Objects passing a plain osmium tag filter, with tags and structure."""
    filters = {
        "building": osmium.filter.KeyFilter("building"),
        "parcel": osmium.filter.TagFilter(*PARCEL_TAGS),
        "green": osmium.filter.TagFilter(*GREEN_TAGS),
        "highway": osmium.filter.KeyFilter("highway"),
        "facility": osmium.filter.KeyFilter(*_facility_alternatives().keys()),
    }
    out = {}
    for obj in osmium.FileProcessor(path).with_filter(filters[kind]):
        rec: dict[str, Any] = {"tags": dict(obj.tags), "type": obj.type_str()}
        if rec["type"] == "w":
            rec["refs"] = [n.ref for n in obj.nodes]
        elif rec["type"] == "r":
            rec["members"] = [m.ref for m in obj.members if m.type == "w"]
        out[_fid(obj)] = rec
    return out


@cache
def _file_index(
    path: Path,
) -> tuple[dict[int, tuple[float, float]], dict[int, list[int]]]:
    """Node locations and way node lists of the whole file."""
    nodes: dict[int, tuple[float, float]] = {}
    ways: dict[int, list[int]] = {}
    for obj in osmium.FileProcessor(path):
        if obj.type_str() == "n":
            nodes[obj.id] = (obj.location.lon, obj.location.lat)
        elif obj.type_str() == "w":
            ways[obj.id] = [n.ref for n in obj.nodes]
    return nodes, ways


def _is_area(rec: dict[str, Any]) -> bool:
    if rec["type"] == "w":
        return rec["refs"][0] == rec["refs"][-1]
    return rec["type"] == "r" and rec["tags"].get("type") in AREA_RELATIONS


def _skipped_ids(data: OSMData, layer: str) -> set[str]:
    s = data.skipped
    return set(s.loc[s["layer"] == layer, "feature_id"])


def _check_skip_is_justified(path: Path, fid: str, rec: dict[str, Any]) -> None:
    """A skipped area really is broken: not closed, clipped or incomplete."""
    nodes, ways = _file_index(path)
    if rec["type"] == "w":
        refs = rec["refs"]
        assert (
            refs[0] != refs[-1] or any(r not in nodes for r in refs) or len(refs) < 4
        ), fid
    else:
        members = rec["members"]
        broken = (
            rec["tags"].get("type") not in AREA_RELATIONS
            or not members
            or any(m not in ways for m in members)
            or any(r not in nodes for m in members for r in ways[m])
        )
        assert broken, fid


def _check_polygon_layer(
    path: Path, layer: str, id_column: str, objects: dict[str, dict[str, Any]]
) -> None:
    data, _ = _read(path)
    gdf = getattr(data, layer)
    candidates = {k: v for k, v in objects.items() if v["type"] != "n"}
    areas = {k for k, v in candidates.items() if _is_area(v)}
    skipped = _skipped_ids(data, layer)
    assert skipped <= set(candidates)
    assert set(gdf[id_column]) == areas - skipped
    assert gdf[id_column].is_unique
    for fid in skipped:
        _check_skip_is_justified(path, fid, candidates[fid])
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert shapely.is_valid(gdf.geometry.array).all()


# -- layers against independent counts ------------------------------------------


@pytest.mark.parametrize("path", FILES)
def test_buildings_match_independent_count(path: Path) -> None:
    objs = {
        k: v
        for k, v in _tagged(path, "building").items()
        if v["tags"]["building"] != "no"
    }
    _check_polygon_layer(path, "buildings", "building_id", objs)
    data, _ = _read(path)
    parts = {
        k
        for k, v in _tagged(path, "building").items()
        if "building:part" in v["tags"] and v["type"] != "n"
    }
    # building:part outlines are not buildings unless also tagged building=*
    assert data.source["counts"]["building_parts"] >= len(parts)


@pytest.mark.parametrize("path", FILES)
def test_parcels_match_independent_count(path: Path) -> None:
    landuses = {v for k, v in PARCEL_TAGS if k == "landuse"}
    objs = {
        k: v
        for k, v in _tagged(path, "parcel").items()
        # amenity=school etc. on a building outline is a building, not a plot
        if v["tags"].get("landuse") in landuses
        or v["tags"].get("building", "no") == "no"
    }
    _check_polygon_layer(path, "parcels", "parcel_id", objs)
    data, _ = _read(path)
    for fid, use in zip(
        data.parcels["parcel_id"], data.parcels["land_use"], strict=True
    ):
        tags = objs[fid]["tags"]
        assert use in (tags.get("landuse"), tags.get("amenity"))


@pytest.mark.parametrize("path", FILES)
def test_greens_match_independent_count(path: Path) -> None:
    objs = _tagged(path, "green")
    _check_polygon_layer(path, "greens", "green_id", objs)
    data, _ = _read(path)
    for fid, kind in zip(data.greens["green_id"], data.greens["kind"], strict=True):
        tags = objs[fid]["tags"]
        if tags.get("leisure") in ("park", "garden"):
            assert kind == "park"
        elif tags.get("landuse") == "forest" or tags.get("natural") == "wood":
            assert kind == "forest"
        else:
            assert kind == "ground"


@cache
def _facility_alternatives() -> dict[str, list[tuple[str, list[tuple[str, str]]]]]:
    """Category table alternatives by main key, read with the csv module."""
    by_key: dict[str, list[tuple[str, list[tuple[str, str]]]]] = defaultdict(list)
    with open(
        asset_path("facility_categories.csv"), newline="", encoding="utf-8"
    ) as fh:
        for row in csv.DictReader(fh):
            for alt in row["osm_tags"].split(";"):
                terms = [tuple(t.split("=", 1)) for t in alt.split("+")]
                by_key[terms[0][0]].append((row["category"], terms))
    return dict(by_key)


def _matches(tags: dict[str, str], terms: list[tuple[str, str]]) -> bool:
    return all(k in tags and v in ("*", tags[k]) for k, v in terms)


@pytest.mark.parametrize("path", FILES)
def test_facilities_match_independent_count_per_key(path: Path) -> None:
    data, _ = _read(path)
    fac = data.facilities
    objs = _tagged(path, "facility")
    per_key: dict[str, set[str]] = defaultdict(set)
    for fid, rec in objs.items():
        for key, alts in _facility_alternatives().items():
            if any(_matches(rec["tags"], terms) for _, terms in alts):
                per_key[key].add(fid)
    matched = set().union(*per_key.values())
    skipped = _skipped_ids(data, "facilities")
    assert skipped <= matched
    assert set(fac["facility_id"]) == matched - skipped
    assert fac["facility_id"].is_unique
    for fid in skipped:  # only non-area relations or broken multipolygons
        assert objs[fid]["type"] == "r"
        _check_skip_is_justified(path, fid, objs[fid])
    for key, ids in per_key.items():
        ours = set(fac.loc[fac["osm_key"] == key, "facility_id"])
        assert ours <= ids, key
        only_this_key = {
            f for f in ids if all(f not in o for k, o in per_key.items() if k != key)
        }
        assert only_this_key - skipped <= ours, key
    # node facilities sit exactly on their node
    nodes, _ = _file_index(path)
    is_node = fac["osm_type"] == "node"
    xy = np.array([nodes[int(f[1:])] for f in fac.loc[is_node, "facility_id"]]).reshape(
        -1, 2
    )
    np.testing.assert_array_equal(shapely.get_coordinates(fac.geometry[is_node]), xy)
    assert (fac["osm_type"].str[0] == fac["facility_id"].str[0]).all()
    assert set(fac.geom_type) <= {"Point"}
    for key, value, fid in zip(
        fac["osm_key"], fac["osm_value"], fac["facility_id"], strict=True
    ):
        assert objs[fid]["tags"][key] == value


@pytest.mark.parametrize(
    ("tags", "category"),
    [
        ({"amenity": "school", "isced:level": "2"}, "middle_school"),
        ({"amenity": "school", "school": "secondary"}, "middle_school"),
        ({"amenity": "school", "school": "primary"}, "primary_school"),
        ({"amenity": "school"}, "primary_school"),
        ({"shop": "chemist"}, "pharmacy"),
        ({"shop": "supermarket"}, "supermarket"),
        ({"shop": "bakery"}, "shop"),
        ({"leisure": "garden"}, None),
        ({"leisure": "garden", "access": "yes"}, "park"),
        ({"public_transport": "platform", "bus": "yes"}, "bus_stop"),
        ({"public_transport": "platform"}, None),
        ({"office": "government", "government": "social_services"}, "community_centre"),
        ({"name": "x"}, None),
    ],
)
def test_facility_matching_prefers_the_most_specific_alternative(
    tags: dict[str, str], category: str | None
) -> None:
    match = _match_facility(tags)
    assert (match[0] if match else None) == category


# -- network ---------------------------------------------------------------------


def _network_ways(path: Path) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in _tagged(path, "highway").items()
        if v["type"] == "w"
        and v["tags"]["highway"] not in EXCLUDED_HIGHWAYS
        and v["tags"].get("area") != "yes"
    }


def _runs(refs: list[int], nodes: dict[int, tuple[float, float]]) -> list[list[int]]:
    """Stretches of at least two consecutive nodes present in the file."""
    runs, cur = [], []
    for r in [*refs, None]:
        if r is not None and r in nodes:
            cur.append(r)
            continue
        if len(cur) >= 2:
            runs.append(cur)
        cur = []
    return runs


@pytest.mark.parametrize("path", FILES)
def test_network_ways_match_independent_count(path: Path) -> None:
    data, _ = _read(path)
    expected = {int(k[1:]) for k in _network_ways(path)}
    skipped = {int(f[1:]) for f in _skipped_ids(data, "network")}
    osmids = {d["osmid"] for _, _, d in data.network.edges(data=True)}
    assert skipped <= expected
    assert osmids == expected - skipped
    assert data.source["counts"]["network_ways"] == len(osmids)
    nodes, _ = _file_index(path)
    for wid in skipped:
        assert not _runs(_network_ways(path)[f"w{wid}"]["refs"], nodes)


@pytest.mark.parametrize("path", FILES)
def test_network_lengths_agree_with_independent_geodesic_sum(path: Path) -> None:
    data, _ = _read(path)
    geod = Geod(ellps="WGS84")
    nodes, _ = _file_index(path)
    expected: dict[int, float] = {}
    for fid, rec in _network_ways(path).items():
        total = 0.0
        for run in _runs(rec["refs"], nodes):
            lon, lat = np.array([nodes[r] for r in run]).T
            total += geod.line_length(lon, lat)
        expected[int(fid[1:])] = total
    ours: dict[int, float] = defaultdict(float)
    for _, _, d in data.network.edges(data=True):
        if d["oneway"] or not d["reversed"]:  # one edge per stretch of street
            ours[d["osmid"]] += d["length_m"]
    kept = {w: v for w, v in expected.items() if w in ours}
    assert sum(ours.values()) == pytest.approx(sum(kept.values()), rel=REL)
    for wid, length in kept.items():
        assert ours[wid] == pytest.approx(length, rel=REL, abs=ATOL_M), wid


@pytest.mark.parametrize("path", FILES)
def test_two_way_edges_come_in_reversed_pairs(path: Path) -> None:
    g = _read(path)[0].network
    forward: Counter[tuple[Any, ...]] = Counter()
    backward: Counter[tuple[Any, ...]] = Counter()
    for u, v, d in g.edges(data=True):
        if d["oneway"]:
            continue
        coords = tuple(map(tuple, shapely.get_coordinates(d["geometry"])))
        if d["reversed"]:
            backward[(v, u, d["osmid"], d["length_m"], coords[::-1])] += 1
        else:
            forward[(u, v, d["osmid"], d["length_m"], coords)] += 1
    assert forward
    assert forward == backward


@pytest.mark.parametrize("path", FILES)
def test_oneway_edges_follow_the_tags(path: Path) -> None:
    g = _read(path)[0].network
    tags = {int(k[1:]): v["tags"] for k, v in _network_ways(path).items()}
    seen = Counter()
    for _, _, d in g.edges(data=True):
        t = tags[d["osmid"]]
        oneway = t.get("oneway")
        if oneway in ("yes", "true", "1"):
            assert d["oneway"] and not d["reversed"]
            seen["yes"] += 1
        elif oneway == "-1":
            assert d["oneway"] and d["reversed"]
        elif oneway in ("no", "false", "0"):
            assert not d["oneway"]
        elif t.get("junction") == "roundabout" or t["highway"] == "motorway":
            assert d["oneway"]
        else:
            assert not d["oneway"]
    assert seen["yes"] > 0


@pytest.mark.parametrize("path", FILES)
def test_network_topology(path: Path) -> None:
    """Nodes are OSM nodes: way ends and nodes shared by ways, nothing else."""
    g = _read(path)[0].network
    assert g.graph["crs"] == "EPSG:4326"
    nodes, _ = _file_index(path)
    uses: Counter[int] = Counter()
    ends: set[int] = set()
    inner: set[int] = set()
    for rec in _network_ways(path).values():
        uses.update(r for r in rec["refs"] if r in nodes)
        for run in _runs(rec["refs"], nodes):
            ends.update((run[0], run[-1]))
            inner.update(run[1:-1])
    assert set(g.nodes) == ends | {n for n in inner if uses[n] > 1}
    for n, d in g.nodes(data=True):
        assert (d["x"], d["y"]) == nodes[n]
    streets: Counter[int] = Counter()
    for u, v, d in g.edges(data=True):
        xy = shapely.get_coordinates(d["geometry"])
        assert tuple(xy[0]) == nodes[u]
        assert tuple(xy[-1]) == nodes[v]
        if d["oneway"] or not d["reversed"]:
            streets[u] += 1
            streets[v] += 1
        assert d["length_m"] >= 0
        assert isinstance(d["osmid"], int)
        assert math.isnan(d["speed_kph"]) or d["speed_kph"] > 0
    assert {n: d["street_count"] for n, d in g.nodes(data=True)} == dict(streets)


# -- formats, heights, provenance -----------------------------------------------


def _bounds_from_xml(path: Path) -> tuple[float, ...]:
    head = path.read_bytes()[:4096].decode()
    m = re.search(r"<bounds ([^>]*)/>", head)
    assert m
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
    return tuple(float(attrs[k]) for k in ("minlon", "minlat", "maxlon", "maxlat"))


def _edges(g: Any) -> list[tuple[Any, ...]]:
    return [
        (
            u,
            v,
            k,
            tuple(sorted((a, b.wkb if a == "geometry" else b) for a, b in d.items())),
        )
        for u, v, k, d in g.edges(keys=True, data=True)
    ]


@pytest.mark.parametrize("name", PAIRS)
def test_xml_and_pbf_give_identical_layers(name: str) -> None:
    xml, _ = _read(OSM / "china" / f"{name}.osm")
    pbf, _ = _read(OSM / "china" / f"{name}.osm.pbf")
    for layer in ("buildings", "parcels", "greens", "facilities"):
        assert_geodataframe_equal(getattr(xml, layer), getattr(pbf, layer))
    pd.testing.assert_frame_equal(xml.skipped, pbf.skipped)
    assert list(xml.network.nodes(data=True)) == list(pbf.network.nodes(data=True))
    assert _edges(xml.network) == _edges(pbf.network)
    assert xml.source["counts"] == pbf.source["counts"]
    assert xml.source["newest_edit"] == pbf.source["newest_edit"]
    # The site differs: the XML export has <bounds>, the converted PBF no header box.
    bounds = _bounds_from_xml(OSM / "china" / f"{name}.osm")
    assert xml.source["site_from"] == "header"
    assert shapely.equals(xml.site.geometry.iloc[0], shapely.box(*bounds))
    s, n, w, e = README_BOUNDS[name]
    assert bounds == pytest.approx((w, s, e, n))
    assert pbf.source["site_from"] == "buildings_hull"
    corners = shapely.get_coordinates(pbf.buildings.geometry.array)
    hull = shapely.convex_hull(shapely.multipoints(corners))
    assert shapely.equals(pbf.site.geometry.iloc[0], hull)


@pytest.mark.parametrize("path", FILES)
def test_source_counts_and_provenance(path: Path) -> None:
    data, _ = _read(path)
    src = data.source
    assert src["name"] == path.name
    assert src["licence"] == "ODbL 1.0"
    assert (
        src["attribution"]
        == "© OpenStreetMap contributors, openstreetmap.org/copyright"
    )
    counts = src["counts"]
    assert (counts["nodes"], counts["ways"], counts["relations"]) == README_COUNTS[
        _stem(path)
    ]
    newest = max(o.timestamp for o in osmium.FileProcessor(path))
    assert src["newest_edit"] == newest.isoformat()
    assert src["newest_edit"].startswith(README_NEWEST[_stem(path)])
    for layer in ("buildings", "parcels", "greens", "facilities"):
        assert counts[layer] == len(getattr(data, layer))
    assert counts["skipped"] == len(data.skipped)
    assert list(data.site["site_id"]) == ["site"]
    assert list(data.site["name"]) == [_stem(path)]


@pytest.mark.parametrize("path", FILES)
def test_exactly_one_repair_warning_when_objects_are_skipped(path: Path) -> None:
    data, caught = _read(path)
    repair = [w for w in caught if issubclass(w.category, RepairWarning)]
    assert len(caught) == len(repair)
    skips = [w for w in repair if "could not be built" in str(w.message)]
    sites = [w for w in repair if "so the site is the convex hull" in str(w.message)]
    assert len(repair) == len(skips) + len(sites)
    assert len(skips) == (1 if len(data.skipped) else 0)
    if skips:
        assert str(data.skipped["feature_id"].nunique()) in str(skips[0].message)
    # One more for a file without bounds, whose site is a hull.
    assert len(sites) == (0 if data.source["bounds"] else 1)


@pytest.mark.parametrize("path", FILES)
def test_layers_pass_the_twin_schema(path: Path) -> None:
    from cim._validate import validate_layer

    data, _ = _read(path)
    crs = data.site.estimate_utm_crs()
    for name, gdf in data.layers.items():
        validate_layer(name, gdf.to_crs(crs), crs=crs)


def _plain_height(raw: str) -> float:
    return float(raw.strip().removesuffix("m").strip())


@needs_helsinki
def test_helsinki_heights_and_levels_against_independent_count() -> None:
    data, _ = _read(HELSINKI)
    b = data.buildings
    objs = {
        k: v
        for k, v in _tagged(HELSINKI, "building").items()
        if v["tags"]["building"] != "no" and _is_area(v)
    }
    skipped = _skipped_ids(data, "buildings")
    with_height = {k for k, v in objs.items() if "height" in v["tags"]}
    with_levels = {k for k, v in objs.items() if "building:levels" in v["tags"]}
    assert len(with_height) == 17  # README: 17 with height
    # README's "275 with building:levels" counts every object with the tag,
    # building:part outlines included.
    levels_filter = osmium.filter.KeyFilter("building:levels")
    n_levels = sum(1 for _ in osmium.FileProcessor(HELSINKI).with_filter(levels_filter))
    assert n_levels == 275
    assert len(with_levels) < 275

    measured_h = set(b.loc[b["height_m"].notna(), "building_id"])
    raw_h = set(b.loc[b["osm_height_raw"].notna(), "building_id"])
    assert measured_h | raw_h == with_height - skipped
    for fid, h in zip(b["building_id"], b["height_m"], strict=True):
        if fid in measured_h:
            assert h == pytest.approx(_plain_height(objs[fid]["tags"]["height"]))
    assert (b.loc[b["height_m"].notna(), "height_source"] == "measured").all()
    assert b.loc[b["height_m"].isna(), "height_source"].isna().all()

    floors = set(b.loc[b["floors"].notna(), "building_id"])
    raw_f = set(b.loc[b["osm_levels_raw"].notna(), "building_id"])
    assert floors | raw_f == with_levels - skipped
    for fid, f in zip(b["building_id"], b["floors"], strict=True):
        raw = objs[fid]["tags"].get("building:levels", "")
        if raw.isdigit() and int(raw) > 0:
            assert f == int(raw)
        elif raw:
            assert pd.isna(f) or f == math.ceil(max(float(x) for x in raw.split(";")))
    assert (b.loc[b["floors"].notna(), "floors_source"] == "measured").all()
    assert b.loc[b["floors"].isna(), "floors_source"].isna().all()


@pytest.mark.parametrize(
    ("raw", "metres"),
    [
        ("12", 12.0),
        ("12 m", 12.0),
        ("12.5m", 12.5),
        ("40 ft", 12.192),
        ("12,5", 12.5),
        ("10'6\"", 3.2004),
        ("12;15", 15.0),
        ("tall", math.nan),
        ("0", math.nan),
        ("", math.nan),
    ],
)
def test_parse_height(raw: str, metres: float) -> None:
    assert _parse_height_m(raw) == pytest.approx(metres, nan_ok=True)


@pytest.mark.parametrize(
    ("raw", "levels"),
    [
        ("6", 6),
        ("6;7", 7),
        ("2.5", 3),
        (" 4 ", 4),
        ("0", None),
        ("six", None),
        ("-1", None),
    ],
)
def test_parse_levels(raw: str, levels: int | None) -> None:
    assert _parse_levels(raw) == levels


@pytest.mark.parametrize(
    ("raw", "kph"),
    [
        ("50", 50.0),
        ("30 mph", 48.28032),
        ("50;70", 60.0),
        ("walk", math.nan),
        ("", math.nan),
    ],
)
def test_parse_speed(raw: str, kph: float) -> None:
    assert _parse_speed_kph(raw) == pytest.approx(kph, nan_ok=True)


@pytest.mark.parametrize(
    ("tags", "direction"),
    [
        ({"highway": "residential"}, 0),
        ({"highway": "residential", "oneway": "yes"}, 1),
        ({"highway": "residential", "oneway": "-1"}, -1),
        ({"highway": "primary", "junction": "roundabout"}, 1),
        ({"highway": "motorway"}, 1),
        ({"highway": "motorway", "oneway": "no"}, 0),
    ],
)
def test_oneway(tags: dict[str, str], direction: int) -> None:
    assert _oneway(tags) == direction


# -- bad input -----------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("path", FILES)
def test_input_file_is_not_modified(path: Path) -> None:
    before = _sha256(path)
    stat = path.stat()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        read_osm(path)
    assert _sha256(path) == before
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def _bad_file(tmp_path: Path, case: str) -> Path:
    if case == "missing":
        return tmp_path / "missing.osm.pbf"
    if case == "directory":
        d = tmp_path / "folder.osm"
        d.mkdir()
        return d
    if case == "empty pbf":
        p = tmp_path / "empty.osm.pbf"
        p.write_bytes(b"")
        return p
    if case == "empty xml":
        p = tmp_path / "empty.osm"
        p.write_bytes(b"")
        return p
    if case == "truncated pbf":
        if not HELSINKI.exists():
            pytest.skip("no Helsinki extract")
        data = HELSINKI.read_bytes()
        p = tmp_path / "half.osm.pbf"
        p.write_bytes(data[: len(data) // 2])
        return p
    if case == "truncated xml":
        src = OSM / "china" / "shanghai_baoshan_shu.osm"
        if not src.exists():
            pytest.skip("no Shanghai extract")
        data = src.read_bytes()
        p = tmp_path / "half.osm"
        p.write_bytes(data[: len(data) // 2])
        return p
    if case == "text as pbf":
        p = tmp_path / "notes.osm.pbf"
        p.write_text("this is not OSM data\n")
        return p
    if case == "geojson as pbf":
        p = tmp_path / "roads.osm.pbf"
        p.write_text('{"type": "FeatureCollection", "features": []}')
        return p
    if case == "xml as pbf":
        p = tmp_path / "xml.osm.pbf"
        p.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
        return p
    if case == "gpx as osm":
        p = tmp_path / "track.osm"
        p.write_text('<?xml version="1.0"?><gpx version="1.1"></gpx>')
        return p
    if case == "no data":
        p = tmp_path / "nothing.osm"
        p.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
        return p
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("empty pbf", "empty"),
        ("empty xml", "empty"),
        ("truncated pbf", "truncated"),
        ("truncated xml", "truncated"),
        ("text as pbf", "neither OSM XML nor PBF"),
        ("geojson as pbf", "JSON"),
        ("xml as pbf", "rename it"),
        ("gpx as osm", "gpx"),
        ("no data", "contains no nodes"),
    ],
)
def test_bad_input_raises_input_file_error(
    tmp_path: Path, case: str, says: str
) -> None:
    path = _bad_file(tmp_path, case)
    with pytest.raises(InputFileError) as info:
        read_osm(path)
    message = str(info.value)
    assert path.name in message
    assert says in message
    assert "\n" not in message
    assert ";" in message  # what is wrong; how to fix it


@pytest.mark.parametrize("compression", ["gz", "bz2"])
def test_compressed_xml_reads_like_plain_xml(tmp_path: Path, compression: str) -> None:
    import bz2
    import gzip

    src = OSM / "china" / "shanghai_baoshan_shu.osm"
    if not src.exists():
        pytest.skip("no Shanghai extract")
    path = tmp_path / f"{src.name}.{compression}"
    packer = gzip if compression == "gz" else bz2
    path.write_bytes(packer.compress(src.read_bytes()))
    data = read_osm(path)
    plain, _ = _read(src)
    for layer in ("buildings", "parcels", "greens", "facilities", "site"):
        assert_geodataframe_equal(getattr(data, layer), getattr(plain, layer))
    assert _edges(data.network) == _edges(plain.network)


def test_progress_is_logged_not_printed(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    path = asset_path("samples", "beijing_haidian_cau.osm.bz2")
    with caplog.at_level(logging.INFO, logger="cim.io.osm"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        read_osm(path, progress=True)
    assert any(r.name == "cim.io.osm" for r in caplog.records)
    assert capsys.readouterr() == ("", "")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="cim.io.osm"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        read_osm(path)
    assert not caplog.records


# -- a small hand-made file with known answers -----------------------------------

_T = 'version="1" timestamp="2020-01-01T00:00:00Z"'
SYNTHETIC = f"""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
 <bounds minlat="0" minlon="0" maxlat="0.01" maxlon="0.02"/>
 <node id="1" {_T} lat="0.000" lon="0.000"/>
 <node id="2" {_T} lat="0.000" lon="0.001"/>
 <node id="3" {_T} lat="0.001" lon="0.001"/>
 <node id="4" {_T} lat="0.001" lon="0.000"/>
 <node id="5" {_T} lat="0.002" lon="0.000"/>
 <node id="6" {_T} lat="0.002" lon="0.001"/>
 <node id="7" {_T} lat="0.002" lon="0.002"/>
 <node id="8" {_T} lat="0.003" lon="0.001"/>
 <node id="9" {_T} lat="0.000" lon="0.003"/>
 <node id="30" version="1" timestamp="2021-05-06T07:08:09Z" lat="0.005" lon="0.005">
  <tag k="amenity" v="school"/><tag k="isced:level" v="2"/><tag k="name" v="Mid"/>
 </node>
 <node id="31" {_T} lat="0.005" lon="0.006"><tag k="shop" v="bakery"/></node>
 <way id="10" {_T}>
  <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="building" v="yes"/><tag k="amenity" v="school"/><tag k="height" v="40 ft"/>
  <tag k="building:levels" v="2.5"/><tag k="name" v="Jia"/><tag k="name:zh" v="甲"/>
  <tag k="start_date" v="1987-09"/>
 </way>
 <way id="11" {_T}>
  <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="building" v="no"/>
 </way>
 <way id="12" {_T}>
  <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="building:part" v="yes"/>
 </way>
 <way id="13" {_T}>
  <nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="building" v="house"/>
 </way>
 <way id="14" {_T}>
  <nd ref="5"/><nd ref="6"/><nd ref="7"/>
  <tag k="highway" v="residential"/><tag k="oneway" v="-1"/>
  <tag k="maxspeed" v="30 mph"/>
 </way>
 <way id="15" {_T}>
  <nd ref="6"/><nd ref="8"/><tag k="highway" v="footway"/><tag k="access" v="private"/>
 </way>
 <way id="16" {_T}><nd ref="7"/><nd ref="8"/><tag k="highway" v="platform"/></way>
 <way id="17" {_T}>
  <nd ref="5"/><nd ref="6"/><nd ref="8"/><nd ref="5"/>
  <tag k="highway" v="pedestrian"/><tag k="area" v="yes"/>
 </way>
 <way id="18" {_T}>
  <nd ref="5"/><nd ref="6"/><nd ref="999"/><nd ref="5"/><tag k="building" v="yes"/>
 </way>
 <way id="19" {_T}>
  <nd ref="2"/><nd ref="9"/><nd ref="7"/><nd ref="6"/><nd ref="2"/>
 </way>
 <way id="22" {_T}>
  <nd ref="1"/><nd ref="3"/><nd ref="2"/><nd ref="4"/><nd ref="1"/>
  <tag k="building" v="yes"/>
 </way>
 <relation id="20" {_T}>
  <member type="way" ref="19" role="outer"/>
  <tag k="type" v="multipolygon"/><tag k="building" v="apartments"/>
  <tag k="leisure" v="garden"/>
 </relation>
 <relation id="21" {_T}>
  <member type="way" ref="19" role="outer"/><member type="way" ref="998" role="outer"/>
  <tag k="type" v="multipolygon"/><tag k="landuse" v="residential"/>
 </relation>
</osm>
"""


def test_synthetic_file_gives_the_known_answers(tmp_path: Path) -> None:
    path = tmp_path / "hand.osm"
    path.write_text(SYNTHETIC, encoding="utf-8")
    with pytest.warns(RepairWarning, match="4 OSM objects") as record:
        data = read_osm(path)
    assert len(record) == 1

    b = data.buildings.set_index("building_id")
    # not building=no (w11), building:part (w12), unclosed (w13), clipped (w18)
    # or self-intersecting (w22)
    assert sorted(b.index) == ["r20", "w10"]
    assert b.loc["w10", "height_m"] == pytest.approx(40 * 0.3048)
    assert b.loc["w10", "height_source"] == "measured"
    assert b.loc["w10", "floors"] == 3
    assert b.loc["w10", "osm_levels_raw"] == "2.5"
    assert b.loc["w10", "use"] == "education"
    assert b.loc["w10", "osm_building"] == "yes"
    assert b.loc["w10", "name"] == "甲"
    assert b.loc["w10", "year_built"] == 1987
    assert b.loc["r20", "use"] == "residential"
    assert pd.isna(b.loc["r20", "height_m"])
    assert pd.isna(b.loc["r20", "height_source"])
    assert b.loc["r20", "structure"] == "unknown"
    assert data.source["counts"]["building_parts"] == 1
    assert list(data.greens["green_id"]) == ["r20"]
    assert list(data.greens["kind"]) == ["park"]
    assert data.parcels.empty  # w10 is a school building, not a school plot

    skipped = data.skipped[["feature_id", "layer", "reason"]].to_numpy()
    reasons = {(fid, layer): why for fid, layer, why in skipped}
    assert set(reasons) == {
        ("w13", "buildings"),
        ("w18", "buildings"),
        ("w22", "buildings"),
        ("r21", "parcels"),
    }
    assert "not closed" in reasons["w13", "buildings"]
    assert "1 of 4 nodes are not in the extract" in reasons["w18", "buildings"]
    assert "1 of 2 member ways are not in the extract" in reasons["r21", "parcels"]
    assert "could not assemble" in reasons["w22", "buildings"]

    f = data.facilities.set_index("facility_id")
    assert sorted(f.index) == ["n30", "n31", "w10"]
    assert f.loc["n30", "category"] == "middle_school"
    assert f.loc["n31", "category"] == "shop"
    assert f.loc["w10", "category"] == "primary_school"
    assert shapely.within(f.loc["w10", "geometry"], b.loc["w10", "geometry"])

    g = data.network
    edges = sorted((u, v, d["osmid"], d["reversed"]) for u, v, d in g.edges(data=True))
    # way 14 is oneway=-1, split at node 6 which it shares with the two-way way 15
    assert edges == [
        (6, 5, 14, True),
        (6, 8, 15, False),
        (7, 6, 14, True),
        (8, 6, 15, True),
    ]
    counts = {n: d["street_count"] for n, d in g.nodes(data=True)}
    assert counts == {5: 1, 6: 3, 7: 1, 8: 1}
    e = g.get_edge_data(7, 6)[0]
    assert e["speed_kph"] == pytest.approx(30 * 1.609344)
    assert e["oneway"] is True
    assert list(shapely.get_coordinates(e["geometry"])[0]) == [0.002, 0.002]
    assert g.get_edge_data(6, 8)[0]["access"] == "private"
    assert g.get_edge_data(6, 8)[0]["bicycle"] == ""

    assert data.source["newest_edit"] == "2021-05-06T07:08:09+00:00"
    assert data.source["bounds"] == (0.0, 0.0, 0.02, 0.01)
    assert shapely.equals(data.site.geometry.iloc[0], shapely.box(0, 0, 0.02, 0.01))


# -- bundled sample ---------------------------------------------------------------


def test_bundled_sample_is_the_unchanged_extract() -> None:
    import bz2

    sample = asset_path("samples", "beijing_haidian_cau.osm.bz2")
    xml = bz2.decompress(sample.read_bytes())
    assert hashlib.sha256(xml).hexdigest() == SAMPLE_XML_SHA256
    text = asset_path("samples", "ATTRIBUTION.md").read_text(encoding="utf-8")
    for needle in (
        "ODbL 1.0",
        "© OpenStreetMap contributors",
        "https://www.openstreetmap.org/copyright",
        "4e853ecee2b78425f894a34d7515b2e98ed1aefe",
        "2026-03-22",
    ):
        assert needle in text


def test_bundled_sample_reads() -> None:
    path = asset_path("samples", "beijing_haidian_cau.osm.bz2")
    with pytest.warns(RepairWarning, match="1 OSM objects"):
        data = read_osm(path)
    assert isinstance(data.buildings, gpd.GeoDataFrame)
    assert len(data.buildings) > 0
    assert data.network.number_of_edges() > 0
    assert "OSMData('beijing_haidian_cau.osm.bz2'" in repr(data)
    assert data.source["site_from"] == "header"


# -- the site ------------------------------------------------------------------------


def _area_m2(gdf: gpd.GeoDataFrame, crs: Any) -> float:
    return float(gdf.to_crs(crs).area.sum())


def _site_warnings(record: Any) -> list[str]:
    return [
        str(w.message) for w in record if "site is the convex hull" in str(w.message)
    ]


@pytest.mark.parametrize("name", PAIRS)
def test_site_without_bounds_is_the_hull_of_the_buildings(name: str) -> None:
    # Fails on the old fallback, the hull of every node of the file: 80.8,
    # 59.6 and 176.0 km2 here against export boxes of 1.67, 4.88 and 2.26 km2
    # (relation members kilometres away), and when it is not warned about.
    xml, _ = _read(OSM / "china" / f"{name}.osm")
    pbf_path = OSM / "china" / f"{name}.osm.pbf"
    pbf, caught = _read(pbf_path)
    crs = xml.site.estimate_utm_crs()
    box_m2 = _area_m2(xml.site, crs)
    site_m2 = _area_m2(pbf.site, crs)
    nodes, _ = _file_index(pbf_path)
    every_node = gpd.GeoSeries(
        [shapely.convex_hull(shapely.multipoints(list(nodes.values())))], crs=4326
    )
    assert _area_m2(every_node, crs) > 10 * box_m2
    # The buildings' hull: 2.02, 4.44 and 1.08 km2.
    assert 0.45 * box_m2 < site_m2 < 1.25 * box_m2
    assert pbf.source["site_from"] == "buildings_hull"
    (msg,) = _site_warnings(caught)
    assert f"its {len(pbf.buildings):,} buildings" in msg
    m = re.search(r"([\d,.]+) ha", msg)
    assert m
    ha = float(m.group(1).replace(",", ""))
    assert ha == pytest.approx(site_m2 / 1e4, rel=2e-3)  # ellipsoid vs UTM
    assert "--site FILE" in msg
    assert "--set-bounds" in msg


def _bounds_file(tmp_path: Path, bounds: tuple[float, ...], **columns: Any) -> Path:
    path = tmp_path / "site.geojson"
    gpd.GeoDataFrame(
        {k: [v] for k, v in columns.items()}, geometry=[shapely.box(*bounds)], crs=4326
    ).to_crs("EPSG:32650").to_file(path)
    return path


CAU = OSM / "china" / "beijing_haidian_cau"
needs_cau = pytest.mark.skipif(
    not Path(f"{CAU}.osm.pbf").exists(), reason="data not available"
)


@needs_cau
def test_given_site_replaces_the_hull(tmp_path: Path) -> None:
    # The export box of the XML, given as a projected file to the PBF without
    # bounds: the same site as the XML's, no hull warning.
    bounds = _bounds_from_xml(Path(f"{CAU}.osm"))
    site_file = _bounds_file(tmp_path, bounds, name="中国农业大学东校区")
    before = _sha256(site_file)
    xml, _ = _read(Path(f"{CAU}.osm"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = read_osm(Path(f"{CAU}.osm.pbf"), site=site_file)
    assert not _site_warnings(caught)
    assert all(issubclass(w.category, RepairWarning) for w in caught)  # skips only
    assert data.source["site_from"] == "given"
    assert data.source["bounds"] is None
    assert data.site["site_id"].tolist() == ["site"]
    assert data.site["name"].tolist() == ["中国农业大学东校区"]
    crs = "EPSG:32650"
    assert _area_m2(data.site, crs) == pytest.approx(_area_m2(xml.site, crs), rel=1e-9)
    for layer in ("buildings", "parcels", "greens", "facilities"):
        assert_geodataframe_equal(getattr(data, layer), getattr(xml, layer))
    assert _sha256(site_file) == before


def test_given_site_wins_over_bounds_and_is_warned_where_beyond(
    tmp_path: Path,
) -> None:
    # The hand-made file's bounds are lon 0 .. 0.02, lat 0 .. 0.01.
    path = tmp_path / "hand.osm"
    path.write_text(SYNTHETIC, encoding="utf-8")
    inside = gpd.GeoSeries([shapely.box(0.001, 0.001, 0.01, 0.009)], crs=4326)
    with pytest.warns(RepairWarning, match="4 OSM objects") as record:
        data = read_osm(path, site=inside)
    assert len(record) == 1  # the skipped objects; the site is inside
    assert data.source["site_from"] == "given"
    assert data.source["bounds"] == (0.0, 0.0, 0.02, 0.01)
    assert shapely.equals(data.site.geometry.iloc[0], inside.iloc[0])
    two = gpd.GeoDataFrame(
        {"site_id": ["north", "south"]},
        geometry=[shapely.box(0, 0.005, 0.02, 0.01), shapely.box(0, 0, 0.04, 0.005)],
        crs=4326,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = read_osm(path, site=two)
    # outside: lon 0.02 .. 0.04 x lat 0 .. 0.005 at the equator, 2,226 m x 553 m
    beyond = [str(w.message) for w in caught if w.category is CIMWarning]
    assert len(beyond) == 1
    assert (
        "33% of the given site (123.1 ha) lies outside the extract's bounds"
        in (beyond[0])
    )
    assert data.site["site_id"].tolist() == ["north", "south"]
    assert data.site["name"].tolist() == ["hand", "hand"]
    unnamed = gpd.GeoDataFrame(geometry=list(two.geometry), crs=4326)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CIMWarning)
        data = read_osm(path, site=unnamed)
    assert data.site["site_id"].tolist() == ["site-1", "site-2"]


@pytest.mark.parametrize(
    ("site", "error", "match"),
    [
        (
            gpd.GeoSeries([shapely.box(10, 10, 10.01, 10.01)], crs=4326),
            LayerSchemaError,
            "does not overlap the bounds of hand.osm",
        ),
        (
            gpd.GeoSeries([shapely.Point(0.001, 0.001)], crs=4326),
            LayerSchemaError,
            "feature\\(s\\) 0 are Point, not polygons",
        ),
        (gpd.GeoSeries([], crs=4326), LayerSchemaError, "has no features"),
        (gpd.GeoSeries([shapely.box(0, 0, 0.01, 0.01)]), CRSError, "has no CRS"),
        (
            gpd.GeoSeries([shapely.box(0, 0, 0.01, 0.01)], crs=32650),
            CRSError,
            "look like longitude/latitude",
        ),
        ("nope.gpkg", InputFileError, "nope.gpkg"),
        (shapely.box(0, 0, 0.01, 0.01), LayerSchemaError, "GeoDataFrame, a GeoSeries"),
    ],
    ids=["far", "point", "empty", "no-crs", "degrees-as-metres", "missing", "type"],
)
def test_bad_site_is_refused(
    tmp_path: Path, site: Any, error: type[Exception], match: str
) -> None:
    path = tmp_path / "hand.osm"
    path.write_text(SYNTHETIC, encoding="utf-8")
    if isinstance(site, str):
        site = tmp_path / site
    with pytest.raises(error, match=match):
        read_osm(path, site=site)


@needs_cau
def test_given_site_must_overlap_the_data_of_a_file_without_bounds(
    tmp_path: Path,
) -> None:
    far = gpd.GeoSeries([shapely.box(117.0, 27.1, 117.01, 27.11)], crs=4326)
    with pytest.raises(LayerSchemaError, match=r"data \(convex hull\)"):
        read_osm(Path(f"{CAU}.osm.pbf"), site=far)


@needs_cau
def test_twin_from_osm_with_a_site(tmp_path: Path) -> None:
    from cim.io.osm import twin_from_osm

    bounds = _bounds_from_xml(Path(f"{CAU}.osm"))
    site_file = _bounds_file(tmp_path, bounds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CIMWarning)
        twin = twin_from_osm(Path(f"{CAU}.osm.pbf"), site=site_file, crs=4549)
        expected = cim.Twin.from_osm(Path(f"{CAU}.osm"), crs=4549)
    assert twin.crs.to_epsg() == 4549
    assert twin.metadata["sources"][0]["site_from"] == "given"
    assert twin.site_area_m2() == pytest.approx(expected.site_area_m2(), rel=1e-9)
    assert len(twin.buildings) == len(expected.buildings)
    # Twin.from_osm takes the site too and is the same import.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CIMWarning)
        same = cim.Twin.from_osm(Path(f"{CAU}.osm.pbf"), site=site_file, crs=4549)
    assert same.metadata["sources"][0]["site_from"] == "given"
    assert same.site_area_m2() == twin.site_area_m2()
    assert (
        same.buildings["building_id"].tolist() == twin.buildings["building_id"].tolist()
    )


def _nodes_xml(body: str) -> str:
    nodes = "".join(
        f' <node id="{i}" {_T} lat="{lat}" lon="{lon}"/>\n'
        for i, (lon, lat) in enumerate(
            [(0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01), (0.5, 0.5)], 1
        )
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="hand">\n'
        f"{nodes}{body}</osm>\n"
    )


_SQUARE = '<nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>'


@pytest.mark.parametrize(
    ("body", "site_from", "bounds", "note"),
    [
        (
            f'<way id="10" {_T}>{_SQUARE}<tag k="building" v="yes"/></way>\n'
            f'<way id="11" {_T}><nd ref="1"/><nd ref="5"/>'
            '<tag k="highway" v="residential"/></way>\n',
            "buildings_hull",
            (0.0, 0.0, 0.01, 0.01),
            "its 1 buildings",
        ),
        (
            f'<way id="10" {_T}>{_SQUARE}<tag k="leisure" v="park"/></way>\n',
            "features_hull",
            (0.0, 0.0, 0.01, 0.01),
            "its 2 parcels, greens and facilities",  # a green and a facility
        ),
        (
            f'<way id="11" {_T}><nd ref="1"/><nd ref="3"/><nd ref="5"/>'
            '<tag k="highway" v="residential"/></way>\n',
            "streets_hull",
            (0.0, 0.0, 0.5, 0.5),
            "its street network",
        ),
        ("", "nodes_hull", (0.0, 0.0, 0.5, 0.5), "all its 5 nodes"),
    ],
    ids=["buildings", "features", "streets", "nodes"],
)
def test_site_fallbacks_without_bounds(
    tmp_path: Path, body: str, site_from: str, bounds: tuple[float, ...], note: str
) -> None:
    # Node 5 lies far off: only the last resorts reach it.
    path = tmp_path / "hand.osm"
    path.write_text(_nodes_xml(body), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = read_osm(path)
    assert data.source["site_from"] == site_from
    assert data.source["bounds"] is None
    # (a hull in a line is widened by 1e-6 deg into a polygon)
    site = data.site.geometry.iloc[0]
    assert site.geom_type == "Polygon"
    assert shapely.bounds(site) == pytest.approx(bounds, abs=2e-6)
    (msg,) = _site_warnings(caught)
    assert f"the convex hull of {note}" in msg
