"""Tests of cim.io.ifc on the two public IFC sample models and on small synthetic ones.

Expected storeys, elevations and space counts come from
``shared/data/README.md`` section 4 (checked there with ifcopenshell 0.9) and
are re-counted here with plain ``by_type``. Areas are recomputed
*independently of the reader's method*: the reader measures the shadow of the
triangulated geometry (``ifcopenshell.geom``); the checks here place each
element's own extrusion profile (``IfcExtrudedAreaSolid.SweptArea``) with the
placement chain, using only attribute access, numpy and shapely, and read the
pitched roof of FZK-Haus as the plane its profile lies in.

Synthetic models (written with ``ifcopenshell.api``) cover what the samples
lack: a basement, a low storey, a balcony with a railing, an unguarded
ledge, at-grade paving, millimetre units, no site location, no storeys, and
a rotated true north.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from numpy.testing import assert_allclose
from pyproj import Geod

from cim.errors import CRSError, InputFileError
from cim.storeys import ELEMENTS, validate_elements
from cim.takeoff import takeoff

ifcopenshell = pytest.importorskip("ifcopenshell")
ifcgeom = pytest.importorskip("ifcopenshell.geom")
ifcunit = pytest.importorskip("ifcopenshell.util.unit")

from cim.io.ifc import IFCData, read_ifc, twin_from_ifc  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ifc"
FZK = DATA / "AC20-FZK-Haus.ifc"
DUPLEX = DATA / "duplex.ifc"
needs_data = pytest.mark.skipif(
    not (FZK.is_file() and DUPLEX.is_file()), reason="shared IFC sample data absent"
)

# Tolerances, in one place.
#: Same polygon, two exact descriptions (profile vs triangulation); the reader
#: snaps unions to a 1 um grid, which moves an area by at most ~perimeter x 1 um.
AREA_ATOL_M2 = 1e-4
#: Quantity-set areas are stored rounded (to 1e-4 .. 1e-6 m2) by ArchiCAD.
QTO_ATOL_M2 = 1e-3
#: Lengths and heights [m].
LENGTH_ATOL_M = 1e-6
#: Geodetic checks [m], [deg].
GEO_ATOL_M = 0.05
AZIMUTH_ATOL_DEG = 1e-6

GEOD = Geod(ellps="WGS84")

# Written out from shared/data/README.md section 4.
README_STOREYS = {
    "AC20-FZK-Haus.ifc": [("Erdgeschoss", 0.0), ("Dachgeschoss", 2.7)],
    "duplex.ifc": [("T/FDN", -1.25), ("Level 1", 0.0), ("Level 2", 3.1), ("Roof", 6.0)],
}
README_SPACES = {"AC20-FZK-Haus.ifc": 7, "duplex.ifc": 21}
FZK_SPACE_NAMES = {"Flur", "Buero", "Bad", "Schlafzimmer", "Wohnen", "Küche", "Galerie"}


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fzk() -> IFCData:
    return read_ifc(FZK)


@pytest.fixture(scope="module")
def duplex() -> IFCData:
    return read_ifc(DUPLEX)


@pytest.fixture(scope="module")
def read(fzk: IFCData, duplex: IFCData) -> dict[str, IFCData]:
    return {FZK.name: fzk, DUPLEX.name: duplex}


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    return {p.name: ifcopenshell.open(str(p)) for p in (FZK, DUPLEX)}


# --------------------------------------------------------------------------
# Independent geometry: extrusion profiles placed by hand
# --------------------------------------------------------------------------
def _axis2placement(p: Any) -> np.ndarray:
    """4x4 matrix of an IfcAxis2Placement2D/3D."""
    m = np.eye(4)
    if p is None:
        return m
    loc = [*p.Location.Coordinates, 0.0, 0.0][:3]
    if p.is_a("IfcAxis2Placement2D"):
        z = np.array([0.0, 0.0, 1.0])
        ref = p.RefDirection.DirectionRatios if p.RefDirection else (1.0, 0.0)
        x = np.array([*ref, 0.0][:3], dtype=float)
    else:
        z = np.array(p.Axis.DirectionRatios if p.Axis else (0, 0, 1), dtype=float)
        ref = p.RefDirection.DirectionRatios if p.RefDirection else (1.0, 0.0, 0.0)
        x = np.array(ref, dtype=float)
    z /= np.linalg.norm(z)
    x = x - x.dot(z) * z
    x /= np.linalg.norm(x)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, np.cross(z, x), z, loc
    return m


def _object_placement(lp: Any) -> np.ndarray:
    m = _axis2placement(lp.RelativePlacement)
    if lp.PlacementRelTo is not None:
        m = _object_placement(lp.PlacementRelTo) @ m
    return m


def _profile(pd_: Any) -> shapely.Polygon | None:
    """A profile definition as a polygon in its own 2D coordinates."""
    if pd_.is_a("IfcRectangleProfileDef"):
        poly = shapely.box(-pd_.XDim / 2, -pd_.YDim / 2, pd_.XDim / 2, pd_.YDim / 2)
        m = _axis2placement(pd_.Position)
        return shapely.affinity.affine_transform(
            poly, [m[0, 0], m[0, 1], m[1, 0], m[1, 1], m[0, 3], m[1, 3]]
        )
    if pd_.is_a("IfcArbitraryClosedProfileDef") and pd_.OuterCurve.is_a("IfcPolyline"):
        holes = [
            [pt.Coordinates[:2] for pt in c.Points]
            for c in getattr(pd_, "InnerCurves", None) or ()
        ]
        return shapely.Polygon(
            [pt.Coordinates[:2] for pt in pd_.OuterCurve.Points], holes
        )
    return None


def _vertical_extrusion_plans(entity: Any) -> list[shapely.Polygon]:
    """World plans of the entity's vertically extruded body items."""
    placement = _object_placement(entity.ObjectPlacement)
    out = []
    for rep in entity.Representation.Representations:
        if rep.RepresentationIdentifier != "Body":
            continue
        for item in rep.Items:
            while item.is_a("IfcBooleanClippingResult"):
                item = item.FirstOperand
            if not item.is_a("IfcExtrudedAreaSolid"):
                continue
            m = placement @ _axis2placement(item.Position)
            d = m[:3, :3] @ np.array(item.ExtrudedDirection.DirectionRatios)
            poly = _profile(item.SweptArea)
            if poly is None or abs(d[0]) > 1e-9 or abs(d[1]) > 1e-9:
                continue
            out.append(
                shapely.affinity.affine_transform(
                    poly, [m[0, 0], m[0, 1], m[1, 0], m[1, 1], m[0, 3], m[1, 3]]
                )
            )
    return out


def _slab_plan(slab: Any) -> shapely.Geometry | None:
    """A flat slab's plan: its profile minus its openings' profiles."""
    plans = _vertical_extrusion_plans(slab)
    if not plans:
        return None
    plan = shapely.union_all(plans)
    for rel in slab.HasOpenings:
        for hole in _vertical_extrusion_plans(rel.RelatedOpeningElement):
            plan = plan.difference(hole)
    return plan


def _walls_outline(walls: list[Any]) -> shapely.Geometry:
    """Filled union of the walls' profiles: the outer wall outline."""
    plans = [p for w in walls for p in _vertical_extrusion_plans(w)]
    # Mitred wall ends meet on diagonals that rounding leaves 1e-15 m apart:
    # snap to 1 um so that they join.
    union = shapely.union_all(plans, grid_size=1e-6)
    return shapely.union_all(
        [shapely.Polygon(g.exterior) for g in shapely.get_parts(union)]
    )


def _world_settings() -> Any:
    settings = ifcgeom.settings()
    settings.set("use-world-coords", True)
    return settings


def _contained(model: Any, storey_name: str, cls: str) -> list[Any]:
    storey = next(
        s for s in model.by_type("IfcBuildingStorey") if s.Name == storey_name
    )
    return [
        e for rel in storey.ContainsElements for e in rel.RelatedElements if e.is_a(cls)
    ]


# --------------------------------------------------------------------------
# Storeys and spaces
# --------------------------------------------------------------------------
@needs_data
@pytest.mark.parametrize("name", list(README_STOREYS))
def test_storeys_match_readme(
    read: dict[str, IFCData], models: dict[str, Any], name: str
) -> None:
    data = read[name]
    expected = README_STOREYS[name]
    assert list(data.storeys["storey"]) == [n for n, _ in expected]
    assert_allclose(data.storeys["elevation_m"], [e for _, e in expected], atol=1e-9)
    # Independent count and names with plain by_type (Elevation is in metres:
    # both files use metres, checked).
    model = models[name]
    assert ifcunit.calculate_unit_scale(model) == 1.0
    plain = sorted((s.Elevation, s.Name) for s in model.by_type("IfcBuildingStorey"))
    assert len(data.storeys) == len(plain) == len(expected)
    assert [n for _, n in plain] == list(data.storeys["name"])
    assert_allclose([e for e, _ in plain], data.storeys["elevation_m"], atol=1e-9)


@needs_data
def test_levels_and_structural_heights(
    fzk: IFCData, duplex: IFCData, models: dict[str, Any]
) -> None:
    assert list(fzk.storeys["level"]) == [1, 2]
    assert list(duplex.storeys["level"]) == [-1, 1, 2, 3]
    s = duplex.storeys.set_index("storey")
    assert_allclose(s["structural_height_m"].iloc[:3], [1.25, 3.1, 2.9], atol=1e-9)
    assert list(s["structural_height_source"]) == ["next_storey"] * 3 + ["geometry"]
    # Only the two storeys with floor slabs have floor area.
    assert list(s["kind"]) == ["none", "floor", "floor", "none"]
    f = fzk.storeys.set_index("storey")
    assert f.loc["Erdgeschoss", "structural_height_m"] == pytest.approx(2.7)
    # The top storey: up to the ridge (the top of the roof slabs).
    model = models[FZK.name]
    ridge = max(
        max(ifcgeom.create_shape(_world_settings(), s).geometry.verts[2::3])
        for s in model.by_type("IfcSlab")
        if s.PredefinedType == "ROOF"
    )
    assert ridge == pytest.approx(6.3177, abs=1e-4)
    assert f.loc["Dachgeschoss", "structural_height_m"] == pytest.approx(
        ridge - 2.7, abs=LENGTH_ATOL_M
    )
    assert f.loc["Dachgeschoss", "structural_height_source"] == "geometry"
    assert list(f["kind"]) == ["floor", "attic"]


@needs_data
@pytest.mark.parametrize("name", list(README_SPACES))
def test_spaces_counted(
    read: dict[str, IFCData], models: dict[str, Any], name: str
) -> None:
    data = read[name]
    plain = models[name].by_type("IfcSpace")
    assert len(data.spaces) == len(plain) == README_SPACES[name]
    assert set(data.spaces["guid"]) == {s.GlobalId for s in plain}
    assert data.spaces["area_m2"].gt(0).all()
    assert data.storeys["n_spaces"].sum() == README_SPACES[name]


@needs_data
def test_fzk_space_areas_against_quantity_sets(fzk: IFCData) -> None:
    """Geometry areas equal ArchiCAD's GrossFloorArea (the room's polygon)."""
    sp = fzk.spaces.set_index("long_name")
    assert set(sp.index) == FZK_SPACE_NAMES
    assert_allclose(sp["area_m2"], sp["qto_gross_floor_area_m2"], atol=QTO_ATOL_M2)
    # Net floor areas are smaller (ArchiCAD deducts per its own rules); they
    # are reported, not used.
    assert (sp["qto_net_floor_area_m2"] <= sp["area_m2"] + QTO_ATOL_M2).all()
    assert sp.loc["Galerie", "storey"] == "Dachgeschoss"
    assert (sp.drop(index="Galerie")["storey"] == "Erdgeschoss").all()


@needs_data
def test_duplex_spaces_have_no_standard_quantities(duplex: IFCData) -> None:
    # Revit 2011 wrote only a "GSA Space Areas" set: no GrossFloorArea.
    assert duplex.spaces["qto_gross_floor_area_m2"].isna().all()
    by_storey = duplex.spaces.groupby("storey").size().to_dict()
    assert by_storey == {"Level 1": 10, "Level 2": 10, "Roof": 1}
    # The two hallways are surface models with inconsistent face orientation;
    # their plan area must still be found.
    hall = duplex.spaces.set_index("name").loc[["A201", "B201"], "area_m2"]
    assert (hall > 6.0).all()


# --------------------------------------------------------------------------
# Floor areas, two ways
# --------------------------------------------------------------------------
@needs_data
@pytest.mark.parametrize("name", list(README_STOREYS))
def test_slab_areas_against_profiles(
    read: dict[str, IFCData], models: dict[str, Any], name: str
) -> None:
    """Triangulated plan area == extrusion profile minus opening profiles."""
    model = models[name]
    slabs = read[name].slabs.set_index("guid")
    checked = 0
    for slab in model.by_type("IfcSlab"):
        plan = _slab_plan(slab)
        assert plan is not None, slab.Name
        assert slabs.loc[slab.GlobalId, "area_m2"] == pytest.approx(
            plan.area, abs=AREA_ATOL_M2
        ), slab.Name
        checked += 1
    # All slabs, FZK's pitched roof included: its slabs are 30-degree
    # profiles extruded vertically, so their plan is the profile's projection.
    assert checked == {"AC20-FZK-Haus.ifc": 4, "duplex.ifc": 21}[name]


@needs_data
def test_fzk_slab_quantities(fzk: IFCData) -> None:
    s = fzk.slabs.set_index("name")
    # ArchiCAD's NetArea deducts the opening, like the geometry.
    assert s.loc["Slab-033", "area_m2"] == pytest.approx(
        s.loc["Slab-033", "qto_net_area_m2"], abs=QTO_ATOL_M2
    )
    assert list(s["role"]) == ["floor", "floor", "roof", "roof"]


@needs_data
def test_fzk_floor_areas_independent(fzk: IFCData, models: dict[str, Any]) -> None:
    model = models[FZK.name]
    # Ground storey: the base slab's profile is the outer wall outline, 12 x 10 m.
    eg_walls = _walls_outline(_contained(model, "Erdgeschoss", "IfcWall"))
    base = _slab_plan(
        next(s for s in model.by_type("IfcSlab") if s.Name == "Bodenplatte")
    )
    assert eg_walls.area == pytest.approx(120.0, abs=AREA_ATOL_M2)
    assert base.area == pytest.approx(120.0, abs=AREA_ATOL_M2)
    storeys = fzk.storeys.set_index("storey")
    assert storeys.loc["Erdgeschoss", "floor_area_m2"] == pytest.approx(
        120.0, abs=AREA_ATOL_M2
    )
    # Attic storey: the outer wall outline minus the slab opening over the
    # living room, except where the spiral stair stands in it (a stairwell
    # counts on every storey).
    dg_walls = _walls_outline(_contained(model, "Dachgeschoss", "IfcWall"))
    slab = next(s for s in model.by_type("IfcSlab") if s.Name == "Slab-033")
    opening = shapely.union_all(
        [
            p
            for rel in slab.HasOpenings
            for p in _vertical_extrusion_plans(rel.RelatedOpeningElement)
        ]
    )
    stair = model.by_type("IfcStair")[0]
    verts = np.asarray(
        ifcgeom.create_shape(_world_settings(), stair).geometry.verts
    ).reshape(-1, 3)
    hull = shapely.MultiPoint(verts[:, :2]).convex_hull
    expected = dg_walls.difference(opening.difference(hull)).area
    assert dg_walls.area == pytest.approx(120.0, abs=AREA_ATOL_M2)
    assert opening.area == pytest.approx(4.26 * 3.71, abs=0.01)
    assert storeys.loc["Dachgeschoss", "floor_area_m2"] == pytest.approx(
        expected, abs=1e-3
    )
    assert storeys.loc["Dachgeschoss", "floor_area_m2"] == pytest.approx(
        105.370, abs=1e-3
    )


@needs_data
def test_duplex_floor_areas_independent(
    duplex: IFCData, models: dict[str, Any]
) -> None:
    """Both storeys: the outer wall outline, 8.8 x 17.8 m (slabs stop inside it)."""
    model = models[DUPLEX.name]
    walls = _walls_outline(model.by_type("IfcWall"))
    assert walls.area == pytest.approx(8.8 * 17.8, abs=AREA_ATOL_M2)
    storeys = duplex.storeys.set_index("storey")
    for name in ("Level 1", "Level 2"):
        assert storeys.loc[name, "floor_area_m2"] == pytest.approx(
            walls.area, abs=AREA_ATOL_M2
        )
        # The structural slabs alone are smaller: they end inside the walls.
        slab_plans = [
            _slab_plan(s)
            for s in model.by_type("IfcSlab")
            if "Slab on Grade:14" in s.Name or "Wood Joist" in s.Name
        ]
        assert shapely.union_all(slab_plans).area < walls.area - 20
    # At-grade exterior slabs (porches) are not floor area.
    roles = duplex.slabs.set_index("name")["role"]
    assert (roles[roles.index.str.contains("Exterior Slab")] == "at_grade").all()
    assert (roles[roles.index.str.contains("Roof")] == "roof").all()


@needs_data
def test_fzk_attic_bands_against_roof_planes(
    fzk: IFCData, models: dict[str, Any]
) -> None:
    """Clear-height bands equal those of the roof slabs' underside planes.

    Each roof slab is a 30 degree slab whose profile lies in its underside
    plane; the plane is read from the placements (no triangulation), and the
    band edges are where it is 1.20 m and 2.10 m above the floor (2.7 m).
    """
    model = models[FZK.name]
    floor = 2.7
    outline = fzk.storeys.set_index("storey").loc["Dachgeschoss", "geometry"]
    low = {1.2: [], 2.1: []}
    for slab in model.by_type("IfcSlab"):
        if slab.PredefinedType != "ROOF":
            continue
        item = slab.Representation.Representations[0].Items[0]
        m = _object_placement(slab.ObjectPlacement) @ _axis2placement(item.Position)
        origin, normal = m[:3, 3], m[:3, 2]
        direction = m[:3, :3] @ np.array(item.ExtrudedDirection.DirectionRatios)
        assert direction[2] > 0  # extruded upwards: the profile plane is the underside
        assert abs(normal[0]) < 1e-12  # ridge along x: z depends on y only
        slope = -normal[1] / normal[2]  # z = origin_z + slope * (y - origin_y)
        assert abs(slope) == pytest.approx(math.tan(math.radians(30)))
        plan = shapely.affinity.affine_transform(
            _profile(item.SweptArea),
            [m[0, 0], m[0, 1], m[1, 0], m[1, 1], m[0, 3], m[1, 3]],
        )
        # The profile is in the sloped plane: its plan is the profile's
        # projection, whose y extent is scaled by cos 30.
        for t in low:
            y = origin[1] + (floor + t - origin[2]) / slope
            half = (
                shapely.box(-100, -100, 100, y)
                if slope > 0
                else shapely.box(-100, y, 100, 100)
            )
            low[t].append(plan.intersection(half))
    below_12 = outline.intersection(shapely.union_all(low[1.2]))
    below_21 = outline.intersection(shapely.union_all(low[2.1]))
    expected = [
        below_12.area,
        below_21.area - below_12.area,
        outline.area - below_21.area,
    ]
    attic = fzk.elements[fzk.elements["kind"] == "attic"].sort_values("element_id")
    assert_allclose(attic["area_m2"], expected, atol=1e-3)
    # Band edges by hand: clear height 0.5 + tan30 * y rises to 1.2 m at
    # y = 1.2124 m and to 2.1 m at y = 2.7713 m from the eaves walls.
    assert (1.2 - 0.5) / math.tan(math.radians(30)) == pytest.approx(1.2124, abs=1e-4)
    assert_allclose(attic["clear_height_m"], [0.5, 1.2, 2.1], atol=1e-6)
    assert attic["area_m2"].sum() == pytest.approx(outline.area, abs=1e-6)


# --------------------------------------------------------------------------
# Element table and take-off
# --------------------------------------------------------------------------
@needs_data
@pytest.mark.parametrize("name", list(README_STOREYS))
def test_elements_validate(read: dict[str, IFCData], name: str) -> None:
    elements = read[name].elements
    assert list(elements.columns[: len(ELEMENTS.columns)]) == [
        c.name for c in ELEMENTS.columns
    ]
    pd.testing.assert_frame_equal(validate_elements(elements), elements)
    assert (elements["building_id"] == read[name].building_id).all()


@needs_data
def test_takeoff_fzk_by_hand(fzk: IFCData) -> None:
    result = takeoff(fzk.elements, "gbt50353-2013")
    el = fzk.elements.set_index("element_id")
    b = fzk.building_id
    # By hand: Erdgeschoss, structural height 2.70 m >= 2.20 m: in full.
    # Dachgeschoss, a pitched-roof space: the band of clear height >= 2.10 m
    # in full, 1.20-2.10 m half, < 1.20 m not at all (GB/T 50353 3.0.3).
    by_hand = (
        el.loc[f"{b}/Erdgeschoss", "area_m2"]
        + el.loc[f"{b}/Dachgeschoss#2", "area_m2"]
        + 0.5 * el.loc[f"{b}/Dachgeschoss#1", "area_m2"]
    )
    assert result.gross_floor_area_m2 == pytest.approx(by_hand, rel=1e-12)
    assert result.gross_floor_area_m2 == pytest.approx(184.62, abs=0.01)
    assert result.far_area_m2 == pytest.approx(result.gross_floor_area_m2)


@needs_data
def test_takeoff_duplex_by_hand(duplex: IFCData) -> None:
    result = takeoff(duplex.elements, "gbt50353-2013")
    # Two storeys of 8.8 x 17.8 m, 3.1 m and 2.9 m structural height: in full.
    assert result.gross_floor_area_m2 == pytest.approx(2 * 8.8 * 17.8, abs=1e-3)
    assert list(result.breakdown["gfa_factor"]) == [1.0, 1.0]


# --------------------------------------------------------------------------
# Georeferencing
# --------------------------------------------------------------------------
@needs_data
def test_fzk_site_location(fzk: IFCData, models: dict[str, Any]) -> None:
    geo = fzk.georeference
    assert geo.method == "site"
    # By hand from IfcSite: (49, 6, 1, 566000) and (8, 26, 11, 540400).
    assert geo.latitude_deg == pytest.approx(49 + 6 / 60 + 1.566 / 3600, abs=1e-12)
    assert geo.longitude_deg == pytest.approx(8 + 26 / 60 + 11.5404 / 3600, abs=1e-12)
    assert geo.elevation_m == pytest.approx(110.0)
    assert fzk.crs.to_epsg() == 32632  # local UTM zone
    centroid = fzk.georeferenced_footprint(4326).iloc[0].centroid
    # README: "about 49.10 N, 8.44 E" (two decimals: within 0.005 degrees).
    assert abs(centroid.y - 49.10) < 0.005 and abs(centroid.x - 8.44) < 0.005
    # The centroid is the middle of the 12 x 10 m slab, 7.81 m from the site
    # origin (0, 0).
    _, _, dist = GEOD.inv(centroid.x, centroid.y, geo.longitude_deg, geo.latitude_deg)
    assert dist == pytest.approx(math.hypot(6, 5), abs=GEO_ATOL_M)
    assert dist < 100


@needs_data
def test_fzk_true_north_applied(fzk: IFCData, models: dict[str, Any]) -> None:
    model = models[FZK.name]
    ctx = next(
        c
        for c in model.by_type("IfcGeometricRepresentationContext")
        if c.ContextType == "Model"
        and not c.is_a("IfcGeometricRepresentationSubContext")
    )
    x, y = ctx.TrueNorth.DirectionRatios[:2]
    assert (x, y) == pytest.approx((0.766044443119, 0.642787609687))
    # Angle from the y axis to true north, anticlockwise: -50 degrees.
    assert fzk.georeference.true_north_deg == pytest.approx(
        math.degrees(math.atan2(-x, y)), abs=1e-9
    )
    assert fzk.georeference.true_north_deg == pytest.approx(-50.0, abs=1e-6)
    # So the local x axis (the 12 m eaves side) points 40 degrees east of
    # true north, and the local y axis 50 degrees west of it.
    to_lonlat = fzk.georeference.transformer(4326)
    lon, lat = to_lonlat(np.array([0.0, 12.0, 0.0]), np.array([0.0, 0.0, 10.0]))
    az_x, _, len_x = GEOD.inv(lon[0], lat[0], lon[1], lat[1])
    az_y, _, len_y = GEOD.inv(lon[0], lat[0], lon[2], lat[2])
    assert az_x == pytest.approx(40.0, abs=AZIMUTH_ATOL_DEG)
    assert az_y == pytest.approx(-50.0, abs=AZIMUTH_ATOL_DEG)
    assert (len_x, len_y) == pytest.approx((12.0, 10.0), abs=1e-6)
    # The footprint in UTM keeps its area (UTM scale factor ~0.9996 squared).
    assert fzk.building.geometry.iloc[0].area == pytest.approx(120.0, rel=1e-3)


@needs_data
def test_duplex_site_location(duplex: IFCData) -> None:
    geo = duplex.georeference
    # (41, 52, 27, 840000) and (-87, -38, -21, -839999): Chicago, Revit's
    # default project location, not the building's real place.
    assert geo.latitude_deg == pytest.approx(41 + 52 / 60 + 27.84 / 3600, abs=1e-9)
    assert geo.longitude_deg == pytest.approx(
        -(87 + 38 / 60 + 21.839999 / 3600), abs=1e-9
    )
    assert geo.true_north_deg == 0.0
    assert duplex.crs.to_epsg() == 32616
    assert duplex.building.geometry.iloc[0].area == pytest.approx(156.64, rel=1e-3)


@needs_data
def test_target_crs_and_twin() -> None:
    twin = twin_from_ifc(DUPLEX, crs=26916)  # NAD83 / UTM 16N
    assert twin.crs.to_epsg() == 26916
    assert len(twin.buildings) == 1
    b = twin.buildings.iloc[0]
    assert b["floors"] == 2 and b["height_source"] == "measured"
    assert b["height_m"] == pytest.approx(6.609, abs=1e-6)  # parapet top
    assert len(twin.elements) == 2
    assert takeoff(twin.elements).gross_floor_area_m2 == pytest.approx(313.28, abs=1e-3)


# --------------------------------------------------------------------------
# Synthetic models
# --------------------------------------------------------------------------
def _make_model(
    path: Path,
    *,
    site: bool = True,
    storeys: bool = True,
    true_north: tuple[float, float] | None = None,
    map_conversion: dict[str, float] | None = None,
) -> Path:
    """A 10 x 8 m house in millimetres: B1 (-2.0 m, 2.0 m high), 1F, 2F, RF.

    2F has a 4 x 1.5 m balcony with a railing on its edge and an unguarded
    1 x 2 m ledge; 1F has 4 x 2 m paving at grade; RF holds the flat roof.
    Walls are 0.2 m thick on the outline; floor slabs stop inside them.
    """
    import ifcopenshell.api

    for mod in (
        "project",
        "root",
        "unit",
        "context",
        "aggregate",
        "geometry",
        "spatial",
    ):
        __import__(f"ifcopenshell.api.{mod}")
    api = ifcopenshell.api
    f = api.project.create_file(version="IFC4")
    project = api.root.create_entity(f, ifc_class="IfcProject", name="tiny")
    api.unit.assign_unit(f)  # millimetres
    model = api.context.add_context(f, context_type="Model")
    body = api.context.add_context(
        f,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=model,
    )
    if true_north is not None:
        model.TrueNorth = f.createIfcDirection(true_north)
    if map_conversion is not None:
        target = f.createIfcProjectedCRS(Name="EPSG:32651")
        f.createIfcMapConversion(model, target, **map_conversion)
    s = api.root.create_entity(f, ifc_class="IfcSite", name="site")
    if site:
        s.RefLatitude = (30, 15, 0, 0)
        s.RefLongitude = (120, 10, 0, 0)
        s.RefElevation = 7000.0
    b = api.root.create_entity(f, ifc_class="IfcBuilding", name="tiny house")
    api.aggregate.assign_object(f, products=[s], relating_object=project)
    api.aggregate.assign_object(f, products=[b], relating_object=s)
    for e in (s, b):
        api.geometry.edit_object_placement(f, product=e)

    def solid(
        cls: str,
        name: str,
        xy: Any,
        z0: float,
        depth: float,
        container: Any,
        ptype: Any = None,
    ) -> None:
        e = api.root.create_entity(f, ifc_class=cls, name=name, predefined_type=ptype)
        m = np.eye(4)
        m[2, 3] = z0
        api.geometry.edit_object_placement(f, product=e, matrix=m)
        rep = api.geometry.add_slab_representation(f, body, depth=depth, polyline=xy)
        api.geometry.assign_representation(f, product=e, representation=rep)
        api.spatial.assign_container(f, products=[e], relating_structure=container)

    def rect(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]

    if not storeys:
        solid("IfcWall", "lonely wall", rect(0, 0, 10, 0.2), 0.0, 3.0, b)
        f.write(str(path))
        return path
    levels = {"B1": -2.0, "1F": 0.0, "2F": 3.0, "RF": 6.0}
    st = {}
    for name, z in levels.items():
        e = api.root.create_entity(f, ifc_class="IfcBuildingStorey", name=name)
        api.aggregate.assign_object(f, products=[e], relating_object=b)
        m = np.eye(4)
        m[2, 3] = z
        api.geometry.edit_object_placement(f, product=e, matrix=m)
        e.Elevation = z * 1000.0  # project units: millimetres
        st[name] = e
    for name, height in (("B1", 2.0), ("1F", 3.0), ("2F", 3.0)):
        z = levels[name]
        for k, r in enumerate(
            (
                rect(0, 0, 10, 0.2),
                rect(0, 7.8, 10, 8),
                rect(0, 0, 0.2, 8),
                rect(9.8, 0, 10, 8),
            )
        ):
            solid("IfcWall", f"{name} wall {k}", r, z, height, st[name])
        solid(
            "IfcSlab",
            f"{name} floor",
            rect(0.2, 0.2, 9.8, 7.8),
            z - 0.2,
            0.2,
            st[name],
            "FLOOR",
        )
    solid("IfcSlab", "Slab 7", rect(3, 8, 7, 9.5), 2.8, 0.2, st["2F"], "FLOOR")
    solid("IfcRailing", "guard", rect(3, 9.45, 7, 9.5), 3.0, 1.1, st["2F"], "GUARDRAIL")
    solid("IfcSlab", "Slab 8", rect(10, 2, 11, 4), 2.8, 0.2, st["2F"], "FLOOR")
    solid("IfcSlab", "paving", rect(0, -2, 4, 0), -0.15, 0.15, st["1F"], "FLOOR")
    solid("IfcSlab", "roof", rect(0, 0, 10, 8), 6.0, 0.2, st["RF"], "ROOF")
    f.write(str(path))
    return path


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_model(tmp_path_factory.mktemp("ifc") / "tiny.ifc")


@pytest.fixture(scope="module")
def tiny(tiny_path: Path) -> IFCData:
    return read_ifc(tiny_path)


def test_synthetic_storeys_in_millimetres(tiny: IFCData) -> None:
    s = tiny.storeys
    assert list(s["storey"]) == ["B1", "1F", "2F", "RF"]
    assert list(s["level"]) == [-1, 1, 2, 3]
    assert_allclose(s["elevation_m"], [-2.0, 0.0, 3.0, 6.0], atol=LENGTH_ATOL_M)
    assert_allclose(s["structural_height_m"], [2.0, 3.0, 3.0, 0.2], atol=LENGTH_ATOL_M)
    assert list(s["kind"]) == ["basement", "floor", "floor", "none"]
    assert_allclose(s["floor_area_m2"], [80.0, 80.0, 80.0, 0.0], atol=AREA_ATOL_M2)
    assert tiny.georeference.unit_scale == 0.001
    assert tiny.georeference.elevation_m == pytest.approx(7.0)
    assert tiny.height_m == pytest.approx(6.2)
    assert tiny.building["floors"].iloc[0] == 2


def test_synthetic_balcony_and_paving(tiny: IFCData) -> None:
    slabs = tiny.slabs.set_index("name")
    assert slabs.loc["Slab 7", "role"] == "balcony"
    assert bool(slabs.loc["Slab 7", "railing"])
    assert slabs.loc["Slab 8", "role"] == "balcony"
    assert not bool(slabs.loc["Slab 8", "railing"])
    assert slabs.loc["paving", "role"] == "at_grade"
    assert slabs.loc["roof", "role"] == "roof"
    el = tiny.elements[tiny.elements["kind"] == "balcony"].set_index("area_m2")
    assert not el["inside_structure"].any()
    assert el.loc[6.0, "projection_m"] == pytest.approx(1.5)
    assert el.loc[2.0, "projection_m"] == pytest.approx(1.0)
    assert "no railing" in el.loc[2.0, "note"]


def test_synthetic_takeoff_by_hand(tiny: IFCData) -> None:
    result = takeoff(tiny.elements, "gbt50353-2013")
    # By hand: B1 is 2.0 m high (< 2.20 m): half of 80; 1F and 2F in full;
    # balconies outside the main structure: half of 6 and of 2 m2.
    assert result.gross_floor_area_m2 == pytest.approx(
        0.5 * 80 + 80 + 80 + 0.5 * 6 + 0.5 * 2, abs=AREA_ATOL_M2
    )


def test_synthetic_threads_agree(tiny_path: Path, tiny: IFCData) -> None:
    again = read_ifc(tiny_path, threads=2)
    pd.testing.assert_frame_equal(again.elements, tiny.elements)


def test_rotated_true_north(tmp_path: Path) -> None:
    # True north along local -x: the local x axis points south, y points east.
    data = read_ifc(_make_model(tmp_path / "north.ifc", true_north=(-1.0, 0.0)))
    assert data.georeference.true_north_deg == pytest.approx(90.0)
    lon, lat = data.georeference.transformer(4326)(
        np.array([0.0, 10.0, 0.0]), np.array([0.0, 0.0, 8.0])
    )
    az_x = GEOD.inv(lon[0], lat[0], lon[1], lat[1])[0]
    az_y = GEOD.inv(lon[0], lat[0], lon[2], lat[2])[0]
    assert abs(az_x) == pytest.approx(180.0, abs=AZIMUTH_ATOL_DEG)
    assert az_y == pytest.approx(90.0, abs=AZIMUTH_ATOL_DEG)


def test_map_conversion_takes_precedence(tmp_path: Path) -> None:
    a = math.radians(30.0)
    conversion = {
        "Eastings": 227_000.0,
        "Northings": 3_349_000.0,
        "OrthogonalHeight": 7.5,
        "XAxisAbscissa": math.cos(a),
        "XAxisOrdinate": math.sin(a),
        "Scale": 0.001,  # millimetres to metres
    }
    path = _make_model(tmp_path / "map.ifc", map_conversion=conversion)
    data = read_ifc(path)
    geo = data.georeference
    assert geo.method == "map_conversion"
    assert data.crs.to_epsg() == 32651  # the map CRS, metric: the default
    assert geo.elevation_m == pytest.approx(7.5)
    # By hand: local (10 m, 0) and (0, 8 m), rotated 30 degrees anticlockwise.
    X, Y = geo.transformer(32651)(np.array([0.0, 10.0, 0.0]), np.array([0.0, 0.0, 8.0]))
    assert_allclose(
        X,
        [227_000.0, 227_000.0 + 10 * math.cos(a), 227_000.0 - 8 * math.sin(a)],
        atol=1e-6,
    )
    assert_allclose(
        Y,
        [3_349_000.0, 3_349_000.0 + 10 * math.sin(a), 3_349_000.0 + 8 * math.cos(a)],
        atol=1e-6,
    )
    assert data.building.geometry.iloc[0].area == pytest.approx(80.0, abs=AREA_ATOL_M2)
    # An explicit origin wins over the map conversion.
    data = read_ifc(path, crs=32651, origin=(300_000.0, 3_300_000.0))
    assert data.georeference.method == "origin"


def test_no_site_location_needs_origin(tmp_path: Path) -> None:
    path = _make_model(tmp_path / "nosite.ifc", site=False)
    with pytest.raises(CRSError, match=r"nosite\.ifc: .*no site location.*origin="):
        read_ifc(path)
    with pytest.raises(CRSError, match="needs crs="):
        read_ifc(path, origin=(440_000.0, 4_428_000.0))
    data = read_ifc(path, crs=32650, origin=(440_000.0, 4_428_000.0))
    assert data.georeference.method == "origin"
    assert data.crs.to_epsg() == 32650
    minx, miny, maxx, maxy = data.building.total_bounds
    # True north = grid north only up to the meridian convergence (about
    # -0.45 degrees here): corners move by under 0.1 m over 10 m.
    assert_allclose([minx, miny], [440_000.0, 4_428_000.0], atol=0.1)
    assert_allclose([maxx - minx, maxy - miny], [10.0, 8.0], atol=0.1)


def test_no_storeys(tmp_path: Path) -> None:
    path = _make_model(tmp_path / "flat.ifc", storeys=False)
    with pytest.raises(InputFileError, match=r"flat\.ifc: no IfcBuildingStorey"):
        read_ifc(path)


# --------------------------------------------------------------------------
# Bad files
# --------------------------------------------------------------------------
def _one_line(exc: pytest.ExceptionInfo[BaseException], name: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    assert name in msg
    return msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as exc:
        read_ifc(tmp_path / "nothing.ifc")
    assert "check the path" in _one_line(exc, "nothing.ifc")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.ifc").write_bytes(b"")
    with pytest.raises(InputFileError) as exc:
        read_ifc(tmp_path / "empty.ifc")
    assert "empty" in _one_line(exc, "empty.ifc")


def test_not_ifc(tmp_path: Path) -> None:
    (tmp_path / "plan.ifc").write_text("<svg>not a model</svg>")
    with pytest.raises(InputFileError) as exc:
        read_ifc(tmp_path / "plan.ifc")
    assert "not an IFC file" in _one_line(exc, "plan.ifc")


def test_truncated(tmp_path: Path, tiny_path: Path) -> None:
    raw = tiny_path.read_bytes()
    (tmp_path / "cut.ifc").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputFileError) as exc:
        read_ifc(tmp_path / "cut.ifc")
    assert "truncated" in _one_line(exc, "cut.ifc")


def test_garbled_body(tmp_path: Path) -> None:
    (tmp_path / "bad.ifc").write_text(
        "ISO-10303-21;\nHEADER;\nthis is not step\nEND-ISO-10303-21;\n"
    )
    with pytest.raises(InputFileError) as exc:
        read_ifc(tmp_path / "bad.ifc")
    assert "cannot read it as IFC" in _one_line(exc, "bad.ifc")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError):
        read_ifc(tmp_path)


def test_bad_options(tiny_path: Path) -> None:
    with pytest.raises(ValueError, match="storey_height_fallback_m"):
        read_ifc(tiny_path, storey_height_fallback_m=-1)
    with pytest.raises(ValueError, match="threads"):
        read_ifc(tiny_path, threads=0)
    with pytest.raises(CRSError):
        read_ifc(tiny_path, crs=4326)
