"""Write assets/pilot/hangzhou_pilot.gpkg: an illustrative pilot design scheme.

The scheme is authored for demonstration (see assets/pilot/README.md): a
future-community site of six parcels in Hangzhou, in EPSG:4549 (CGCS2000 /
3-degree Gauss-Kruger CM 120E) near 120.169 E, 30.279 N. It exercises every
rule of the Zhejiang future-community rulebook, and parcel B-01 fails its
FAR range (a notebook fixes it by lowering one slab).

Run: ``.venv/bin/python tools/make_pilot.py`` (prints the check's summary).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cim.twin import Twin

OUT = Path(__file__).resolve().parents[1] / "assets" / "pilot" / "hangzhou_pilot.gpkg"
CRS = "EPSG:4549"
#: South-west corner of the site (EPSG:4549), about 120.1693 E, 30.2791 N.
X0, Y0 = 516_300.0, 3_351_000.0

PLANNING = {
    "climate_zone": "III",
    "city_size": "large",
    "development": "new",
    "life_circle": "5",
}


def b(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A box in site coordinates (metres from the south-west corner)."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def p(x: float, y: float) -> Point:
    """A point in site coordinates."""
    return Point(X0 + x, Y0 + y)


def parcels() -> gpd.GeoDataFrame:
    """Six parcels with land use, planning conditions and parking."""
    rows = [
        # id, land use, name, box, far_max, density_max, green_min, height_max,
        # parking, surface parking
        (
            "A-01",
            "0701",
            "高层住宅组团 A",
            (0, 0, 200, 145),
            2.5,
            0.25,
            0.35,
            54.0,
            880,
            40,
        ),
        (
            "B-01",
            "0701",
            "多层住宅组团 B",
            (220, 0, 380, 150),
            1.6,
            0.30,
            0.30,
            24.0,
            530,
            30,
        ),
        (
            "C-01",
            "0701",
            "高层住宅组团 C",
            (0, 170, 200, 320),
            2.6,
            0.25,
            0.35,
            54.0,
            960,
            45,
        ),
        (
            "D-01",
            "0702",
            "邻里中心",
            (220, 170, 300, 240),
            1.5,
            0.40,
            0.20,
            24.0,
            60,
            20,
        ),
        (
            "E-01",
            "080404",
            "幼儿园",
            (220, 250, 300, 320),
            0.8,
            0.35,
            0.35,
            15.0,
            10,
            10,
        ),
        (
            "F-01",
            "1401",
            "社区公园",
            (310, 170, 380, 320),
            np.nan,
            0.05,
            0.70,
            np.nan,
            None,
            None,
        ),
    ]
    return gpd.GeoDataFrame(
        {
            "parcel_id": [r[0] for r in rows],
            "land_use": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "far_max": [r[4] for r in rows],
            "density_max": [r[5] for r in rows],
            "green_rate_min": [r[6] for r in rows],
            "height_max_m": [r[7] for r in rows],
            "parking_spaces": pd.array([r[8] for r in rows], dtype="Int64"),
            "surface_parking_spaces": pd.array([r[9] for r in rows], dtype="Int64"),
        },
        geometry=[b(*r[3]) for r in rows],
        crs=CRS,
    )


#: Towers: 34 x 20 m, a stilt floor (3.3 m) and 16 residential storeys (2.9 m).
TOWER = (34.0, 20.0)
TOWER_HEIGHT = 3.3 + 16 * 2.9 + 1.2


def buildings() -> gpd.GeoDataFrame:
    """Towers, slabs, the neighbourhood centre and the kindergarten."""
    rows = []

    def add(
        bid: str,
        geom: Polygon,
        floors: int,
        height: float,
        use: str,
        households: int,
        name: str,
        service: float = np.nan,
    ) -> None:
        rows.append((bid, geom, floors, height, use, households, name, service))

    w, d = TOWER
    # A: six towers, detailed below (balconies, bay windows, stilt floor).
    for i, (x, y) in enumerate(
        [(15, 15), (83, 15), (151, 15), (15, 95), (83, 95), (151, 95)], start=1
    ):
        add(
            f"A-T{i}",
            b(x, y, x + w, y + d),
            17,
            TOWER_HEIGHT,
            "residential",
            112,
            f"A区{i}号楼",
        )
    # B: nine six-storey slabs, 45 x 16 m, in three rows 34 m apart.
    k = 0
    for y in (10, 60, 110):
        for x in (226, 278, 330):
            k += 1
            add(
                f"B-S{k}",
                b(x, y, x + 45, y + 16),
                6,
                6 * 3.0 + 1.2,
                "residential",
                45,
                f"B区{k}号楼",
            )
    # C: four towers of 17 storeys (no stilt floor) and three 11-storey slabs.
    for i, x in enumerate((15, 60, 106, 151), start=1):
        add(
            f"C-T{i}",
            b(x, 290, x + w, 290 + d),
            17,
            17 * 2.9 + 1.2,
            "residential",
            119,
            f"C区{i}号楼",
        )
    for i, x in enumerate((5, 71, 137), start=1):
        add(
            f"C-S{i}",
            b(x, 185, x + 58, 199),
            11,
            11 * 2.9 + 1.2,
            "residential",
            85,
            f"C区{4 + i}号楼",
        )
    # D: neighbourhood centre; E: kindergarten.
    add(
        "D-N1", b(240, 185, 280, 215), 3, 3 * 4.0 + 1.2, "public", 0, "邻里中心", 2400.0
    )
    add("E-K1", b(235, 290, 285, 312), 3, 3 * 3.6 + 1.2, "education", 0, "幼儿园")
    frame = pd.DataFrame(
        rows,
        columns=[
            "building_id",
            "geometry",
            "floors",
            "height_m",
            "use",
            "households",
            "name",
            "service_space_m2",
        ],
    )
    frame["floors"] = frame["floors"].astype("Int64")
    frame["households"] = frame["households"].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS)


def tower_elements(building_id: str) -> pd.DataFrame:
    """Storeys and area elements of one A tower.

    Level 1 is a stilt floor (架空层) around an enclosed entrance lobby;
    levels 2-17 each have the floor, two recessed balconies inside the main
    structure, two cantilevered balconies outside it, two bay windows with a
    0.40 m sill (counted half by GB/T 50353 §3.0.13) and two with a 0.60 m
    sill (not counted, §3.0.27-7).
    """
    w, d = TOWER
    foot = w * d
    ground = {
        "storey": "1F",
        "level": 1,
        "elevation_m": 0.0,
        "structural_height_m": 3.3,
    }
    rows = [
        {
            **ground,
            "element_id": f"{building_id}/1F/stilt",
            "kind": "stilt_floor",
            "area_m2": foot - 80.0,
            "enclosed": False,
            "inside_structure": True,
        },
        {
            **ground,
            "element_id": f"{building_id}/1F/lobby",
            "kind": "floor",
            "area_m2": 80.0,
            "enclosed": True,
            "inside_structure": True,
        },
    ]
    for level in range(2, 18):
        s = f"{level}F"
        z = 3.3 + (level - 2) * 2.9
        base = {
            "storey": s,
            "level": level,
            "elevation_m": z,
            "structural_height_m": 2.9,
        }
        key = f"{building_id}/{s}"
        rows.append(
            {
                **base,
                "element_id": f"{key}/floor",
                "kind": "floor",
                "area_m2": foot,
                "enclosed": True,
                "inside_structure": True,
            }
        )
        for j in (1, 2):
            balcony = {**base, "kind": "balcony", "enclosed": False}
            rows.append(
                {
                    **balcony,
                    "element_id": f"{key}/balcony-in-{j}",
                    "area_m2": 6.0,
                    "inside_structure": True,
                }
            )
            rows.append(
                {
                    **balcony,
                    "element_id": f"{key}/balcony-out-{j}",
                    "area_m2": 8.0,
                    "inside_structure": False,
                    "projection_m": 1.6,
                }
            )
            bay = {**base, "kind": "bay_window", "area_m2": 2.4, "projection_m": 0.6}
            rows.append(
                {
                    **bay,
                    "element_id": f"{key}/bay-low-{j}",
                    "sill_height_m": 0.40,
                    "clear_height_m": 2.20,
                }
            )
            rows.append(
                {
                    **bay,
                    "element_id": f"{key}/bay-high-{j}",
                    "sill_height_m": 0.60,
                    "clear_height_m": 1.80,
                }
            )
    out = pd.DataFrame(rows)
    out.insert(0, "building_id", building_id)
    return out


def greens() -> gpd.GeoDataFrame:
    """Ground, podium, roof and vertical greening, and a park."""
    rows = [
        # id, kind, box, soil depth, planted area, name
        ("G-A1", "ground", (40, 50, 160, 85), np.nan, np.nan, "A区中心绿地"),
        ("G-A2", "ground", (0, 120, 200, 145), np.nan, np.nan, "A区北侧绿带"),
        ("G-A3", "ground", (0, 12, 12, 118), np.nan, np.nan, "A区西侧绿带"),
        ("G-A4", "ground", (188, 12, 200, 118), np.nan, np.nan, "A区东侧绿带"),
        ("G-B1", "ground", (225, 28, 375, 53), np.nan, np.nan, "B区宅间绿地"),
        ("G-B2", "ground", (225, 78, 375, 103), np.nan, np.nan, "B区宅间绿地"),
        ("G-C1", "ground", (40, 220, 160, 270), np.nan, np.nan, "C区中心绿地"),
        ("G-C2", "ground", (0, 205, 30, 285), np.nan, np.nan, "C区西侧绿带"),
        ("G-C3", "podium", (165, 205, 200, 285), 1.2, np.nan, "C区地库顶板绿化"),
        ("G-D1", "ground", (222, 220, 298, 238), np.nan, np.nan, "邻里中心绿地"),
        ("G-E1", "ground", (225, 255, 295, 285), np.nan, np.nan, "幼儿园活动场地草坪"),
        ("G-F1", "park", (315, 175, 375, 315), np.nan, np.nan, "社区公园"),
    ]
    for i, x in enumerate((5, 71, 137), start=1):
        rows.append(
            (
                f"G-CR{i}",
                "roof",
                (x + 9, 187, x + 49, 197),
                0.6,
                np.nan,
                f"C区{4 + i}号楼屋顶花园",
            )
        )
    for i, x in enumerate((15, 60, 106, 151), start=1):
        rows.append(
            (
                f"G-CV{i}",
                "vertical",
                (x, 289.5, x + 34, 290),
                np.nan,
                300.0,
                f"C区{i}号楼南立面垂直绿化",
            )
        )
    return gpd.GeoDataFrame(
        {
            "green_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "soil_depth_m": [r[3] for r in rows],
            "area_m2": [r[4] for r in rows],
            "name": [r[5] for r in rows],
        },
        geometry=[b(*r[2]) for r in rows],
        crs=CRS,
    )


def facilities() -> gpd.GeoDataFrame:
    """Facility points of the 5-minute life circle."""
    rows = [
        ("F1", "kindergarten", (260, 301), "幼儿园"),
        ("F2", "community_centre", (260, 200), "社区服务站"),
        ("F3", "elderly_care", (250, 195), "老年人日间照料中心"),
        ("F4", "health_station", (270, 195), "社区卫生服务站"),
        ("F5", "culture", (255, 210), "文化活动站"),
        ("F6", "shop", (275, 210), "便利店"),
        ("F7", "park", (345, 245), "社区公园"),
        ("F8", "sports", (345, 200), "室外综合健身场地"),
        ("F9", "toilet", (340, 300), "公共厕所"),
        ("F10", "waste", (210, 160), "再生资源回收点"),
        ("F11", "bus_stop", (210, -8), "公交车站"),
    ]
    return gpd.GeoDataFrame(
        {
            "facility_id": [r[0] for r in rows],
            "category": [r[1] for r in rows],
            "name": [r[3] for r in rows],
        },
        geometry=[p(*r[2]) for r in rows],
        crs=CRS,
    )


def site() -> gpd.GeoDataFrame:
    """The site boundary, roads included."""
    return gpd.GeoDataFrame(
        {"site_id": ["pilot"], "name": ["杭州未来社区试点（示意方案）"]},
        geometry=[b(-10, -10, 390, 330)],
        crs=CRS,
    )


#: Streets (site coordinates): perimeter roads, the roads between parcels, and
#: estate paths into the larger compounds, with (x, y) polylines and class.
STREETS = [
    ([(-5, -5), (385, -5)], "secondary", "文一路（示意）"),
    ([(-5, 325), (385, 325)], "tertiary", "北侧道路"),
    ([(-5, -5), (-5, 325)], "tertiary", "西侧道路"),
    ([(385, -5), (385, 325)], "tertiary", "东侧道路"),
    ([(210, -5), (210, 325)], "residential", "邻里中心路"),
    ([(-5, 160), (385, 160)], "residential", "社区主路"),
    ([(305, 160), (305, 325)], "residential", "公园路"),
    ([(210, 245), (305, 245)], "living_street", "幼儿园前路"),
    ([(100, -5), (100, 160)], "footway", "A 组团步道"),
    ([(100, 160), (100, 325)], "footway", "C 组团步道"),
    ([(300, -5), (300, 160)], "footway", "B 组团步道"),
]
#: A compound gate on the A estate path (closed at night), as in many estates.
GATE = ((100, 0), "06:00-22:00")


def network() -> nx.MultiDiGraph:
    """A street graph noded at every crossing, two-way, with one timed gate."""
    lines = [LineString([(X0 + x, Y0 + y) for x, y in pts]) for pts, _, _ in STREETS]
    gate_xy = (X0 + GATE[0][0], Y0 + GATE[0][1])
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(lines)))
    ids: dict[tuple[float, float], int] = {}

    def node(xy: tuple[float, float]) -> int:
        key = (round(xy[0], 3), round(xy[1], 3))
        return ids.setdefault(key, len(ids) + 1)

    G = nx.MultiDiGraph(crs=CRS, name="hangzhou_pilot streets (illustrative)")
    for seg in noded:
        # Split the A estate path at the gate, so the gate is a node.
        pieces = [seg]
        if seg.distance(Point(gate_xy)) < 1e-6 and not any(
            Point(c).equals(Point(gate_xy)) for c in seg.coords
        ):
            pieces = list(shapely.get_parts(split(seg, Point(gate_xy).buffer(1e-9))))
            pieces = [g for g in pieces if g.length > 1e-3]
        for piece in pieces:
            c = list(piece.coords)
            u, v = node(c[0]), node(c[-1])
            info = next(
                (h, n)
                for (pts, h, n), ln in zip(STREETS, lines, strict=True)
                if ln.distance(piece.interpolate(0.5, normalized=True)) < 1e-6
            )
            for a, b_, geom, rev in (
                (u, v, piece, False),
                (v, u, piece.reverse(), True),
            ):
                G.add_edge(
                    a,
                    b_,
                    length_m=float(piece.length),
                    highway=info[0],
                    name=info[1],
                    oneway=False,
                    reversed=rev,
                    access="",
                    geometry=geom,
                )
    for (x, y), n in ids.items():
        attrs = {"x": x, "y": y, "barrier": "", "access": "", "opening_hours": ""}
        if abs(x - gate_xy[0]) < 1e-3 and abs(y - gate_xy[1]) < 1e-3:
            attrs.update(barrier="gate", opening_hours=GATE[1])
        G.add_node(n, **attrs)
    return G


def make_twin() -> Twin:
    """The pilot design as a twin."""
    elements = pd.concat(
        [tower_elements(f"A-T{i}") for i in range(1, 7)], ignore_index=True
    )
    metadata = {
        "sources": [
            {
                "name": "cim-twin pilot design scheme, Hangzhou (illustrative)",
                "licence": "MIT (as cim-twin)",
                "attribution": "authored for demonstration by the cim-twin developers",
                "note": "Not a real project: parcels, buildings and figures are "
                "invented to exercise the compliance rules; see "
                "assets/pilot/README.md.",
            }
        ],
        "planning": PLANNING,
        "illustrative": True,
    }
    return Twin(
        crs=CRS,
        name="hangzhou_pilot",
        buildings=buildings(),
        parcels=parcels(),
        greens=greens(),
        facilities=facilities(),
        site=site(),
        network=network(),
        elements=elements,
        metadata=metadata,
    )


def main() -> None:
    """Write the GeoPackage and print the check's summary."""
    twin = make_twin()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    twin.save(OUT)
    from cim.check import check

    report = check(twin, "zhejiang-future-community", skip=["sunlight_hours"])
    cols = ["feature_id", "rule_id", "value", "limit", "status"]
    frame = report.to_frame()
    shown = frame.loc[frame["status"].isin(["fail", "pass"]), cols].to_string()
    sys.stdout.write(
        f"wrote {OUT}\n{report.counts()}\n{report.summary('parcel')}\n{shown}\n"
    )


if __name__ == "__main__":
    main()
