"""Shared fixtures: a tiny synthetic district in real projected coordinates.

The district lies in EPSG:32650 (WGS 84 / UTM zone 50N) near Beijing, at
about x = 440 000 m, y = 4 428 000 m, so that the twin's "looks like
longitude/latitude" check never fires on it. Every fixture returns fresh
objects, so tests may modify them.

Layout (metres from ``X0, Y0``)::

    4 ---------- 5 ---------- 3      network: 1<->2 (two parallel edges),
    |  b3   b4   |            |      2->3, 3<->5, 5->4, 4->1 (one-way)
    |  b1   b2   |            |
    1 ------------------------2
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

import cim
from cim.errors import RepairWarning

#: The district's CRS and origin.
CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_428_000.0


def _buildings(x: float, y: float) -> gpd.GeoDataFrame:
    # b1: Polygon with a courtyard (hole); height and floors measured.
    b1 = Polygon(
        [(x, y), (x + 30, y), (x + 30, y + 12), (x, y + 12)],
        [[(x + 10, y + 4), (x + 14, y + 4), (x + 14, y + 8), (x + 10, y + 8)]],
    )
    # b2: MultiPolygon (two wings); floors known, height missing.
    b2 = MultiPolygon([box(x + 40, y, x + 50, y + 10), box(x + 55, y, x + 65, y + 10)])
    # b3: height known, floors missing; households measured.
    b3 = box(x, y + 30, x + 20, y + 45)
    # b4: neither height nor floors.
    b4 = box(x + 40, y + 30, x + 60, y + 42)
    return gpd.GeoDataFrame(
        {
            "building_id": ["b1", "b2", "b3", "b4"],
            "height_m": [18.0, np.nan, 30.0, np.nan],
            "floors": pd.array([6, 4, pd.NA, pd.NA], dtype="Int64"),
            "use": ["residential", "office", "residential", "commercial"],
            "households": pd.array([pd.NA, pd.NA, 24, pd.NA], dtype="Int64"),
            "year_built": pd.array([1998, pd.NA, 2005, pd.NA], dtype="Int64"),
            "name": ["1号楼", "办公楼", "3号楼", "商业楼"],
            # Extra user columns, not in the schema: kept as they are.
            "owner": ["中国农业大学", None, "海淀区房管局", "某公司"],
            "roof_area_m2": [300.0, np.nan, 250.5, 240.0],
        },
        geometry=[b1, b2, b3, b4],
        crs=CRS,
    )


def _parcels(x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["p1", "p2"],
            "land_use": ["0701", "commercial"],
            "far_max": [2.5, np.nan],
            "density_max": [0.35, 0.5],
            "green_rate_min": [0.30, np.nan],
            "height_max_m": [60.0, 45.0],
            "name": ["南地块", "北地块"],
        },
        geometry=[
            box(x - 20, y - 20, x + 70, y + 20),
            box(x - 20, y + 20, x + 70, y + 60),
        ],
        crs=CRS,
    )


def _greens(x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "green_id": ["g1", "g2", "g3", "g4"],
            "kind": ["ground", "park", "roof", "vertical"],
            "soil_depth_m": [np.nan, np.nan, 0.6, np.nan],
            "area_m2": [np.nan, np.nan, np.nan, 120.0],
            "name": ["", "小游园", "屋顶花园", "垂直绿化"],
        },
        geometry=[
            box(x - 15, y + 15, x + 35, y + 25),
            Polygon([(x + 70, y - 10), (x + 100, y - 10), (x + 85, y + 15)]),
            box(x + 2, y + 32, x + 18, y + 43),
            box(x + 60, y + 30, x + 60.5, y + 42),
        ],
        crs=CRS,
    )


def _facilities(x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "facility_id": ["f1", "f2", "f3", "f4", "f5"],
            "category": [
                "kindergarten",
                "primary_school",
                "pharmacy",
                "bus_stop",
                "supermarket",
            ],
            "name": ["幼儿园", "小学", "药店", "公交站", "超市"],
        },
        geometry=[
            Point(x + 5, y + 50),
            Point(x + 80, y + 50),
            Point(x + 35, y + 5),
            Point(x - 35, y - 35),
            Point(x + 120, y + 80),
        ],
        crs=CRS,
    )


def _site(x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": ["s1"], "name": ["测试社区"]},
        geometry=[box(x - 50, y - 50, x + 150, y + 100)],
        crs=CRS,
    )


def _network(x: float, y: float) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs=CRS, simplified=True, name="测试路网")
    xy = {
        1: (x - 40, y - 40),
        2: (x + 140, y - 40),
        3: (x + 140, y + 90),
        4: (x - 40, y + 90),
        5: (x + 50, y + 90),
    }
    for n, (nx_, ny_) in xy.items():
        G.add_node(n, x=nx_, y=ny_, street_count=3 if n in (1, 2, 3) else 2)

    def line(u: int, v: int) -> LineString:
        return LineString([xy[u], xy[v]])

    def add(u: int, v: int, geom: LineString | None = None, **attrs: Any) -> None:
        g = line(u, v) if geom is None else geom
        attrs["length_m"] = float(g.length)
        if geom is not None:
            attrs["geometry"] = geom
        G.add_edge(u, v, **attrs)

    road = {"highway": "residential", "name": "学院路", "speed_kph": 30.0}
    # Two-way street: one edge each way (the 2->1 edge has no geometry; the
    # twin adds a straight line, as osmnx does).
    add(1, 2, line(1, 2), oneway=False, surface="asphalt", **road)
    add(2, 1, None, oneway=False, surface="asphalt", **road)
    # A parallel service road 1->2 (key 1), speed unknown.
    bend = LineString([xy[1], (x + 50, y - 45), xy[2]])
    add(1, 2, bend, oneway=True, highway="service", name="辅路", speed_kph=np.nan)
    # One-way primary 2->3, speed unknown, no surface.
    add(
        2,
        3,
        line(2, 3),
        oneway=True,
        highway="primary",
        name="清华东路",
        speed_kph=np.nan,
    )
    add(
        3,
        5,
        line(3, 5),
        oneway=False,
        highway="tertiary",
        name="北路",
        speed_kph=40.0,
        surface="concrete",
    )
    add(
        5,
        3,
        line(5, 3),
        oneway=False,
        highway="tertiary",
        name="北路",
        speed_kph=40.0,
        surface="concrete",
    )
    add(5, 4, line(5, 4), oneway=True, highway="tertiary", name="北路", speed_kph=40.0)
    add(
        4,
        1,
        line(4, 1),
        oneway=True,
        highway="residential",
        name="西路",
        speed_kph=20.0,
        surface="paving_stones",
    )
    return G


def _surfaces(x: float, y: float) -> gpd.GeoDataFrame:
    """LoD2-like surfaces of building b1: a ground, a vertical wall, a roof."""
    ground = Polygon([(x, y, 0), (x, y + 10, 0), (x + 10, y + 10, 0), (x + 10, y, 0)])
    wall = Polygon([(x, y, 0), (x + 10, y, 0), (x + 10, y, 18), (x, y, 18)])
    roof = Polygon([(x, y, 18), (x + 10, y, 18), (x + 10, y + 10, 18), (x, y + 10, 18)])
    return gpd.GeoDataFrame(
        {
            "surface_id": ["s1", "s2", "s3"],
            "building_id": ["b1", "b1", "b1"],
            "semantic": ["ground", "wall", "roof"],
            "lod": ["2.2", "2.2", "2.2"],
        },
        geometry=[ground, wall, roof],
        crs=CRS,
    )


def _district(dx: float = 0.0, dy: float = 0.0) -> dict[str, Any]:
    x, y = X0 + dx, Y0 + dy
    return {
        "buildings": _buildings(x, y),
        "parcels": _parcels(x, y),
        "greens": _greens(x, y),
        "facilities": _facilities(x, y),
        "site": _site(x, y),
        "surfaces": _surfaces(x, y),
        "network": _network(x, y),
    }


SOURCES = [
    {
        "name": "OpenStreetMap",
        "licence": "ODbL-1.0",
        "attribution": "© OpenStreetMap 贡献者",
    },
    {
        "name": "海淀区规划图",
        "licence": "internal",
        "attribution": "北京市规划和自然资源委员会",
    },
]


def _build_twin(layers: dict[str, Any], **kwargs: Any) -> cim.Twin:
    # The buildings have missing heights, storeys and households: the twin
    # estimates them and says so.
    with pytest.warns(RepairWarning, match="layer 'buildings': estimated"):
        # A fresh copy of the sources: the twin must not share the constant.
        meta = {"sources": copy.deepcopy(SOURCES)}
        return cim.Twin(crs=CRS, name="cau_test", metadata=meta, **layers, **kwargs)


@pytest.fixture(scope="session")
def make_district() -> Callable[..., dict[str, Any]]:
    """Factory of fresh district layers, translated by ``(dx, dy)`` metres."""
    return _district


@pytest.fixture(scope="session")
def make_twin() -> Callable[..., cim.Twin]:
    """Factory: ``make_twin(layers, **kwargs)`` builds the twin, expecting estimates."""
    return _build_twin


@pytest.fixture
def crs() -> str:
    return CRS


@pytest.fixture
def origin() -> tuple[float, float]:
    return X0, Y0


@pytest.fixture
def layers() -> dict[str, Any]:
    return _district()


@pytest.fixture
def buildings() -> gpd.GeoDataFrame:
    return _buildings(X0, Y0)


@pytest.fixture
def parcels() -> gpd.GeoDataFrame:
    return _parcels(X0, Y0)


@pytest.fixture
def greens() -> gpd.GeoDataFrame:
    return _greens(X0, Y0)


@pytest.fixture
def facilities() -> gpd.GeoDataFrame:
    return _facilities(X0, Y0)


@pytest.fixture
def site() -> gpd.GeoDataFrame:
    return _site(X0, Y0)


@pytest.fixture
def network() -> nx.MultiDiGraph:
    return _network(X0, Y0)


@pytest.fixture
def sources() -> list[dict[str, str]]:
    return copy.deepcopy(SOURCES)


@pytest.fixture
def twin(layers: dict[str, Any]) -> cim.Twin:
    """The valid district as a twin (estimates filled and flagged)."""
    return _build_twin(layers)


@pytest.fixture
def measured_buildings(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Buildings with every value given, which the twin takes without warning."""
    b = buildings.copy()
    b["height_m"] = [18.0, 12.0, 30.0, 9.0]
    b["floors"] = pd.array([6, 4, 10, 3], dtype="Int64")
    b["households"] = pd.array([20, 0, 24, 0], dtype="Int64")
    return b


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        return (
            isinstance(a, shapely.Geometry)
            and isinstance(b, shapely.Geometry)
            and bool(shapely.equals_exact(a, b, tolerance=0.0))
        )
    return type(a) is type(b) and a == b


def _assert_graphs_equal(G: nx.MultiDiGraph, H: nx.MultiDiGraph) -> None:
    """Same nodes, edges, keys and attributes; NaN equals NaN, None only None."""
    assert type(G) is type(H)
    assert list(G.nodes) == list(H.nodes)
    assert sorted(G.edges(keys=True)) == sorted(H.edges(keys=True))
    for n in G.nodes:
        a, b = G.nodes[n], H.nodes[n]
        assert set(a) == set(b), (n, set(a) ^ set(b))
        for k in a:
            assert _same_value(a[k], b[k]), (n, k, a[k], b[k])
    for e in G.edges(keys=True):
        a, b = G.edges[e], H.edges[e]
        assert set(a) == set(b), (e, set(a) ^ set(b))
        for k in a:
            assert _same_value(a[k], b[k]), (e, k, a[k], b[k])


@pytest.fixture(scope="session")
def assert_graphs_equal() -> Callable[[nx.MultiDiGraph, nx.MultiDiGraph], None]:
    """Compare two street graphs exactly (values and their Python types)."""
    return _assert_graphs_equal
