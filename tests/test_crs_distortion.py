"""Tests for :func:`cim.crs.check_distortion`: CRSs that measure areas wrongly.

A projected CRS in metres is not enough: Web Mercator, or a Gauss-Kruger zone
used far from its central meridian, enlarges every area, and with it FAR,
density and green rate. The factor the check reports is compared with an
independent measurement: the planar area of a footprint in the CRS over its
geodesic area (:meth:`pyproj.Geod.geometry_area_perimeter`).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Geod

from cim import Twin
from cim.crs import MAX_AREAL_DISTORTION, check_distortion
from cim.errors import CIMWarning, CRSError, CRSWarning
from cim.network.graph import validate_network

#: Shanghai Baoshan (Shanghai University), the OSM repro of the bug report.
BAOSHAN = (121.39, 31.32)
#: Hangzhou, inside CGCS2000 3-degree zone CM 120E (EPSG:4549).
HANGZHOU = (120.15, 30.28)
#: Pudong, just east of EPSG:4549's area of use (118.5E-121.5E).
PUDONG = (121.80, 31.22)
#: Chicago, the IFC duplex's site.
CHICAGO = (-87.6394, 41.8743)

IFC = Path(__file__).resolve().parents[2] / "shared" / "data" / "ifc" / "duplex.ifc"


def _box(lon: float, lat: float, crs: Any, size_deg: float = 0.002) -> shapely.Polygon:
    """A square of ``size_deg`` at (lon, lat), projected to ``crs``."""
    g = gpd.GeoSeries([shapely.box(lon, lat, lon + size_deg, lat + size_deg)], crs=4326)
    return g.to_crs(crs).iloc[0]


def _buildings(lon: float, lat: float, crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "building_id": ["b1"],
            "height_m": [18.0],
            "floors": pd.array([6], dtype="Int64"),
            "households": pd.array([0], dtype="Int64"),
        },
        geometry=[_box(lon, lat, crs)],
        crs=crs,
    )


def _parcels(lon: float, lat: float, crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"parcel_id": ["p1"]},
        geometry=[_box(lon - 0.001, lat - 0.001, crs, 0.004)],
        crs=crs,
    )


def _true_areal_factor(lon: float, lat: float, crs: Any) -> float:
    """Planar area in ``crs`` over geodesic area, measured independently."""
    square = shapely.box(lon, lat, lon + 0.002, lat + 0.002)
    geodesic, _ = Geod(ellps="WGS84").geometry_area_perimeter(square)
    planar = gpd.GeoSeries([square], crs=4326).to_crs(crs).area.iloc[0]
    return float(planar / abs(geodesic))


def _bounds(lon: float, lat: float, crs: Any) -> tuple[float, float, float, float]:
    b = _box(lon, lat, crs).bounds
    return (b[0], b[1], b[2], b[3])


# -- the factor ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "epsg"),
    [
        (BAOSHAN, 3857),
        (HANGZHOU, 3857),
        (CHICAGO, 4549),
        (HANGZHOU, 4549),
        (BAOSHAN, 4549),
        (HANGZHOU, 32651),
        (PUDONG, 4549),
    ],
)
def test_factor_matches_an_independent_area_measurement(
    where: tuple[float, float], epsg: int
) -> None:
    lon, lat = where
    expected = _true_areal_factor(lon, lat, epsg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRSWarning)
        try:
            got = check_distortion(_bounds(lon, lat, epsg), CRS.from_epsg(epsg))
        except CRSError as exc:
            got = float(str(exc).split("areas x")[1].split(" ")[0])
            assert abs(expected - 1) > MAX_AREAL_DISTORTION
            assert got == pytest.approx(expected, abs=1e-3)
            return
    assert abs(expected - 1) <= MAX_AREAL_DISTORTION
    assert got == pytest.approx(expected, rel=1e-4)


def test_web_mercator_factor_is_one_over_cos_squared_latitude() -> None:
    # On the sphere 1/cos^2(lat); on the WGS 84 ellipsoid about 0.3 % more.
    lon, lat = BAOSHAN
    with pytest.raises(CRSError) as info:
        check_distortion(_bounds(lon, lat, 3857), CRS.from_epsg(3857))
    factor = float(str(info.value).split("areas x")[1].split(" ")[0])
    sphere = 1 / math.cos(math.radians(lat)) ** 2
    assert sphere < factor < sphere * 1.004


def test_threshold_is_one_percent() -> None:
    assert MAX_AREAL_DISTORTION == 0.01
    crs = CRS.from_epsg(4549)  # CM 120E
    # 4.5 degrees from the central meridian at 31N: about +0.5 %, accepted ...
    with pytest.warns(CRSWarning):
        ok = check_distortion(_bounds(124.5, 31.0, crs), crs)
    assert 1.003 < ok < 1.01
    # ... 7 degrees: about +1.1 %, refused.
    with pytest.raises(CRSError, match=r"areas x1\.01"):
        check_distortion(_bounds(127.0, 31.0, crs), crs)


@pytest.mark.parametrize(
    ("where", "epsg"),
    [
        (HANGZHOU, 4549),
        (BAOSHAN, 4549),
        (HANGZHOU, 32651),  # inside UTM 51N, 0.85 degrees from its edge
        ((116.32, 40.00), 32650),  # Beijing
        ((117.01, 30.00), 32650),  # 3 degrees from CM 117E: the zone's edge
        ((4.9, 52.37), 28992),  # Amsterdam, RD New
        ((8.54, 47.37), 2056),  # Zurich, LV95
    ],
)
def test_crs_meant_for_the_place_is_accepted_silently(
    where: tuple[float, float], epsg: int
) -> None:
    lon, lat = where
    factor = check_distortion(_bounds(lon, lat, epsg), CRS.from_epsg(epsg))
    assert abs(factor - 1) < 0.003


def test_web_mercator_at_the_equator_is_accepted() -> None:
    # x1.0067 there (the sphere against the ellipsoid), within 1 %.
    factor = check_distortion((0.0, 0.0, 100.0, 100.0), CRS.from_epsg(3857))
    assert factor == pytest.approx(1.0067, abs=1e-4)


# -- the messages -------------------------------------------------------------
def test_web_mercator_is_refused_naming_layer_crs_factor_and_fix() -> None:
    with pytest.raises(CRSError) as info:
        Twin(crs=3857, buildings=_buildings(*BAOSHAN, 3857))
    msg = str(info.value)
    for phrase in (
        "layer 'buildings'",
        "EPSG:3857",
        "Pseudo-Mercator",
        "areas x1.37",
        "+37",
        "1 %",
        "FAR",
        "EPSG:4549",  # CGCS2000 3-degree Gauss-Kruger CM 120E
        "EPSG:32651",  # what utm_crs_for picks
        "gdf.to_crs(4549)",
        "command line: --crs 4549",
    ):
        assert phrase in msg, f"{phrase!r} not in {msg!r}"


def test_gauss_kruger_zone_on_another_continent_is_refused() -> None:
    # The IFC duplex (Chicago) put in CGCS2000 CM 120E: 157 m2 became 178 m2.
    with pytest.raises(CRSError) as info:
        Twin(crs=4549, buildings=_buildings(*CHICAGO, 4549))
    msg = str(info.value)
    assert "layer 'buildings'" in msg
    assert "EPSG:4549" in msg
    assert "areas x1.136" in msg
    assert "(87.64W 41.88N)" in msg  # the data's centre
    assert "EPSG:32616" in msg  # UTM 16N; no Gauss-Kruger zone outside China
    assert "Gauss-Kruger zone EPSG" not in msg
    assert "--crs 32616" in msg


def test_outside_area_of_use_warns_once_per_twin() -> None:
    crs = 4549
    with pytest.warns(CRSWarning) as record:
        twin = Twin(
            crs=crs,
            buildings=_buildings(*PUDONG, crs),
            parcels=_parcels(*PUDONG, crs),
        )
    crs_warnings = [w for w in record if issubclass(w.category, CRSWarning)]
    assert len(crs_warnings) == 1
    msg = str(crs_warnings[0].message)
    for phrase in (
        "EPSG:4549",
        "area of use",
        "118°30'E and 121°30'E",
        "121.80E 31.22N",
        "x1.000",
        "EPSG:4550",  # the Gauss-Kruger zone for 121.8E (CM 123E)
        "EPSG:32651",
        "--crs 4550",
    ):
        assert phrase in msg, f"{phrase!r} not in {msg!r}"
    assert issubclass(CRSWarning, CIMWarning)
    assert issubclass(CRSWarning, UserWarning)
    # Deriving a twin from one with data does not warn again.
    twin.with_layer("parcels", _parcels(*PUDONG, crs))


def test_first_data_entering_an_empty_twin_are_warned_about() -> None:
    twin = Twin(crs=4549)
    with pytest.warns(CRSWarning, match="area of use of EPSG:4549"):
        twin.with_layer("buildings", _buildings(*PUDONG, 4549))


def test_coordinates_the_projection_cannot_invert_are_not_judged() -> None:
    crs = CRS.from_epsg(4549)
    assert math.isnan(check_distortion((1e9, 1e9, 1e9 + 10, 1e9 + 10), crs))
    nan = float("nan")
    assert math.isnan(check_distortion((nan, nan, nan, nan), crs))


def test_reprojected_input_is_not_refused() -> None:
    # Layers in Web Mercator are fine as input: from_layers projects them.
    twin = Twin.from_layers(crs=4549, buildings=_buildings(*BAOSHAN, 3857))
    assert twin.crs.to_epsg() == 4549
    # Kept in Web Mercator (no crs=), they are refused.
    with pytest.raises(CRSError, match=r"areas x1\.37"):
        Twin.from_layers(buildings=_buildings(*BAOSHAN, 3857))


# -- every entry point --------------------------------------------------------
def test_network_in_web_mercator_is_refused() -> None:
    x0, y0, x1, y1 = _bounds(*BAOSHAN, 3857)
    G = nx.MultiDiGraph(crs="EPSG:3857")
    G.add_node(1, x=x0, y=y0)
    G.add_node(2, x=x1, y=y1)
    G.add_edge(1, 2, length_m=math.hypot(x1 - x0, y1 - y0))
    with pytest.raises(CRSError, match=r"layer 'network'.*areas x1\.37"):
        validate_network(G, crs=CRS.from_epsg(3857))


def test_cityjson_in_web_mercator_is_refused(tmp_path: Path) -> None:
    from cim.io.cityjson import read_cityjson

    x0, y0, _, _ = _bounds(*BAOSHAN, 3857)
    cube = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]
    cube += [[x, y, 1] for x, y, _ in cube]
    doc = {
        "type": "CityJSON",
        "version": "2.0",
        "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/3857"},
        "transform": {"scale": [1.0, 1.0, 1.0], "translate": [x0, y0, 0.0]},
        "CityObjects": {
            "c": {
                "type": "Building",
                "geometry": [
                    {
                        "type": "Solid",
                        "lod": "1",
                        "boundaries": [
                            [
                                [[0, 3, 2, 1]],
                                [[4, 5, 6, 7]],
                                [[0, 1, 5, 4]],
                                [[1, 2, 6, 5]],
                                [[2, 3, 7, 6]],
                                [[3, 0, 4, 7]],
                            ]
                        ],
                    }
                ],
            }
        },
        "vertices": cube,
    }
    p = tmp_path / "mercator.city.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CRSError, match=r"EPSG:3857.*areas x1\.37.*--crs 4549"):
        read_cityjson(p)


@pytest.mark.skipif(not IFC.is_file(), reason="IFC sample data not available")
def test_ifc_duplex_in_a_chinese_zone_is_refused() -> None:
    pytest.importorskip("ifcopenshell")
    from cim.io.ifc import twin_from_ifc

    with pytest.raises(CRSError, match=r"EPSG:4549.*areas x1\.13.*EPSG:32616"):
        twin_from_ifc(IFC, crs=4549)


def test_one_call_per_layer_not_per_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    import cim._validate

    calls: list[int] = []
    real = cim._validate.check_distortion

    def counting(*args: Any, **kwargs: Any) -> float:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cim._validate, "check_distortion", counting)
    b = pd.concat([_buildings(*HANGZHOU, 4549)] * 50, ignore_index=True)
    b["building_id"] = [f"b{i}" for i in range(len(b))]
    Twin(crs=4549, buildings=b, parcels=_parcels(*HANGZHOU, 4549))
    assert len(calls) == 2
    assert np.isfinite(real(tuple(b.total_bounds), CRS.from_epsg(4549)))
