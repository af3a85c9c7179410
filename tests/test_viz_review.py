"""Tests of what a reader of the pictures sees (:mod:`cim.viz`).

Each test checks one property a planner relies on, not pixels: the shared
helpers are public within `cim.viz`, the camera fills the picture, the colour
bar has round labels, near misses of a sunlight rule are plainly red and
near passes plainly blue, the 3D sunlight picture has a key and says which
day and rule, and the maps have a scale bar, facility dots unlike any
building colour and a key that hides nothing.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image

import cim
from cim.meshes import _category_colors
from cim.rules import Rule
from cim.sunlight import sunlight_check, sunlight_impact
from cim.viz import plot_layers, render, save_map
from cim.viz._furniture import scale_length
from cim.viz._scene import anti_alias, import_pyvista, nice_ticks, screen_px
from cim.viz.sunlight import (
    _hour_colors,
    plot_sunlight,
    render_sunlight,
    save_sunlight_map,
)

VIZ = Path(cim.__file__).parent / "viz"
#: A smaller picture than the default keeps the tests fast.
SIZE = (800, 600)
#: Colour of the site in the 3D pictures, and its tolerance [0-255].
SITE_RGB = (0xEC, 0xE8, 0xDF)
SITE_TOL = 6
#: Ground of the sunlight pictures [0-1].
GROUND = np.array([0xEC, 0xE8, 0xDF]) / 255

#: A residential slab and, due south at 30 m, a 100 m tower (EPSG:4549, in
#: Hangzhou): the middle of the slab's south facade fails a 2 h rule, its
#: ends pass.
X, Y = 516_000.0, 3_350_000.0
SLAB = (X - 30, Y, X + 30, Y + 12, 18.0)
TOWER = (X - 25, Y - 50, X + 25, Y - 30, 100.0)
THRESHOLD_H = 2.0


@pytest.fixture(scope="module")
def pilot() -> cim.Twin:
    return cim.datasets.load("hangzhou_pilot")


@pytest.fixture(scope="module")
def cau() -> cim.Twin:
    return cim.datasets.load("beijing_haidian_cau")


@pytest.fixture(scope="module")
def shaded() -> cim.Twin:
    boxes = [("slab", SLAB, "residential"), ("tower", TOWER, "commercial")]
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [b[0] for b in boxes],
            "height_m": [b[1][4] for b in boxes],
            "floors": pd.array([6, 33], dtype="Int64"),
            "use": [b[2] for b in boxes],
            "households": pd.array([10, 0], dtype="Int64"),
        },
        geometry=[shapely.box(*b[1][:4]) for b in boxes],
        crs=4549,
    )
    return cim.Twin(crs=4549, name="shaded", buildings=buildings)


@pytest.fixture(scope="module")
def rule() -> Rule:
    return Rule(
        id="hz-sunlight-housing",
        indicator="sunlight_hours",
        scope="building",
        op=">=",
        threshold=THRESHOLD_H,
        unit="h",
        clause="test",
        verified=True,
        rulebook="test",
        params={
            "day": "great_cold",
            "window_h": [9, 15],
            "max_segments": 2,
            "min_segment_min": 0,
            "applies_to": ["residential"],
            "sill_height_m": 0.9,
        },
    )


@pytest.fixture(scope="module")
def check(shaded, rule):
    return sunlight_check(shaded, rule, year=2026, step_min=5)


@pytest.fixture(scope="module")
def impact(shaded, rule):
    return sunlight_impact(shaded, ["tower"], rule, year=2026, step_min=5)


def _pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _props(plotter, kind: str) -> list:
    """The props of a pyvista plotter of one VTK class (``"vtkTextActor"``)."""
    props = plotter.renderer.GetViewProps()
    items = [props.GetItemAsObject(i) for i in range(props.GetNumberOfItems())]
    return [p for p in items if p.IsA(kind)]


def _texts(plotter) -> list[str]:
    """The 2D text of a pyvista plotter (titles), without its bars and keys."""
    return [a.GetInput() for a in _props(plotter, "vtkTextActor")]


def _key(plotter):
    keys = _props(plotter, "vtkLegendBoxActor")
    return keys[0] if keys else None


# -- design: no module reaches into another's privates -------------------------


@pytest.mark.parametrize("path", sorted(VIZ.glob("*.py")), ids=lambda p: p.name)
def test_no_private_imports_between_viz_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("cim.viz")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []


# -- 3D: framing and colour bar ---------------------------------------------------


def _site_box(img: np.ndarray) -> tuple[float, float, float, float]:
    """Left, right, top and bottom of the site's colour, 0 to 1 of the picture."""
    diff = np.abs(img.astype(int) - np.asarray(SITE_RGB)).max(axis=2)
    rows, cols = np.nonzero(diff <= SITE_TOL)
    height, width = img.shape[:2]
    return (
        cols.min() / width,
        cols.max() / width,
        rows.min() / height,
        rows.max() / height,
    )


@pytest.mark.parametrize("camera", ["top", "iso", "south"])
def test_render_frames_the_site_without_clipping(pilot, tmp_path, camera):
    path = tmp_path / "p.png"
    render(pilot, color="use", camera=camera, path=path, window_size=SIZE)
    left, right, top, bottom = _site_box(_pixels(path))
    # Clear of the edges, of the title and of the legend on the right.
    assert left > 0.005
    assert top > 40 / SIZE[1]
    assert bottom < 0.995
    assert right < 0.8
    if camera == "top":
        # The plan fills the picture: it took 55 % of its width and 62 % of
        # its height, zoomed to fit a sphere around the site.
        assert max(right - left, bottom - top) > 0.75


def test_render_colour_bar_has_round_labels(pilot):
    plotter = render(pilot, color="floors", window_size=SIZE)
    try:
        bar = plotter.scalar_bar
        assert bar.GetUseCustomLabels()
        labels = bar.GetCustomLabels()
        values = [labels.GetValue(i) for i in range(labels.GetNumberOfTuples())]
        # Floors are counted: whole numbers (not 6.5 or 13.5), at least three.
        assert len(values) >= 3
        assert values == [round(v) for v in values]
        assert bar.GetLabelFormat() == "%.0f"
    finally:
        plotter.close()


def test_nice_ticks():
    ticks, fmt = nice_ticks(35.0, 49_246.0)
    assert fmt == "%.0f"
    assert list(ticks) == [10_000, 20_000, 30_000, 40_000]
    ticks, fmt = nice_ticks(3.0, 17.0, integer=True)
    assert np.all(ticks == np.round(ticks))
    assert ticks.min() >= 3
    assert ticks.max() <= 17
    ticks, fmt = nice_ticks(0.0, 4.0)
    assert fmt == "%.0f"
    ticks, fmt = nice_ticks(0.1, 0.9)
    assert fmt == "%.1f"
    assert list(nice_ticks(5.0, 5.0)[0]) == [5.0]


def test_supersampled_points_keep_their_size():
    """VTK draws sizes in pixels of a sqrt(5) larger image under SSAA."""
    pvm = import_pyvista()
    plotter = pvm.Plotter(off_screen=True, window_size=[200, 150])
    try:
        plotter.set_background("white")
        plotter.add_mesh(
            pvm.PolyData(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])),
            color="red",
            point_size=screen_px(12.0),
            render_points_as_spheres=True,
        )
        plotter.view_xy()
        anti_alias(plotter)
        img = plotter.screenshot(None, return_img=True)
    finally:
        plotter.close()
    red = (img[..., 0] > 150) & (img[..., 1] < 110) & (img[..., 2] < 110)
    disc = math.pi * 6.0**2  # one dot of 12 pixels across
    assert 0.5 * 2 * disc < red.sum() < 2.0 * 2 * disc


# -- 3D sunlight ------------------------------------------------------------------


def test_sunlight_near_misses_are_red_and_near_passes_blue():
    colors, clim, n, ticks = _hour_colors(THRESHOLD_H, "RdYlBu")
    assert clim == (0.0, 2 * THRESHOLD_H)
    # A band edge on the threshold: half the bands below, half above.
    assert n % 2 == 0
    edges = np.linspace(*clim, n + 1)
    assert np.isclose(edges, THRESHOLD_H).any()
    assert THRESHOLD_H in ticks
    below = np.asarray(colors((THRESHOLD_H - 0.1) / clim[1]))[:3]
    above = np.asarray(colors((THRESHOLD_H + 0.1) / clim[1]))[:3]
    # Plainly red and plainly blue, not the pale middle of the colormap ...
    assert below[0] - below[2] > 0.35
    assert above[2] - above[0] > 0.25
    # ... and neither lost on the ground.
    assert np.abs(below - GROUND).max() > 0.3
    assert np.abs(above - GROUND).max() > 0.3


def test_sunlight_failing_windows_drawn_red(shaded, check):
    pts = check.points
    main = pts["main_facade"].to_numpy(dtype=bool)
    passed = pts["passed"].to_numpy(dtype=bool)
    hours = pts["counted_min"].to_numpy(dtype=float) / 60
    assert (main & ~passed).any()
    assert (main & passed).any()
    plotter = render_sunlight(shaded, check, window_size=SIZE)
    try:
        lut = plotter.scalar_bar.GetLookupTable()
        rgb = np.empty((int(main.sum()), 3))
        for i, h in enumerate(hours[main]):
            lut.GetColor(h, rgb[i])
        red = rgb[:, 0] - rgb[:, 2] > 0.3
        blue = rgb[:, 2] - rgb[:, 0] > 0.2
        np.testing.assert_array_equal(red, ~passed[main])
        np.testing.assert_array_equal(blue, passed[main])
        assert "sunlight [h]" in plotter.scalar_bar.GetTitle()
        # The check's failing windows are explained in the key.
        key = _key(plotter)
        assert key is not None
        labels = [key.GetEntryString(i) for i in range(key.GetNumberOfEntries())]
        assert f"large: below {THRESHOLD_H:g} h" in labels
    finally:
        plotter.close()


def test_sunlight_3d_title_and_key_of_an_impact(shaded, impact):
    plotter = render_sunlight(shaded, impact, window_size=SIZE)
    try:
        title = "\n".join(_texts(plotter))
        assert "hz-sunlight-housing" in title
        assert "with the proposal (tower)" in title
        assert "≥ 2 h of sun between 9:00 and 15:00 true solar time" in title
        assert "Great Cold day 2026-01-20" in title
        assert plotter.scalar_bar.GetTitle() == "sunlight after [h]"
        key = _key(plotter)
        assert key is not None
        labels = [key.GetEntryString(i) for i in range(key.GetNumberOfEntries())]
        assert "proposed building" in labels
        assert f"large: now below {THRESHOLD_H:g} h" in labels
        # Black labels, legible whatever the colour of the entry.
        assert key.GetEntryTextProperty().GetColor() == (0.0, 0.0, 0.0)
    finally:
        plotter.close()


def test_sunlight_3d_shows_the_whole_shading_tower(shaded, check, tmp_path):
    """The tower south of the frame is drawn whole, not cut by the picture."""
    img = _pixels(render_sunlight(shaded, check, path=tmp_path / "s.png"))
    # Off-white: ground, buildings, dots (not the white background).
    drawn = (img < 235).any(axis=2)
    width = img.shape[1]
    for edge in (drawn[:, 0], drawn[-1, : int(0.8 * width)], drawn[0, :]):
        assert not edge.any()


# -- 2D maps ----------------------------------------------------------------------


def test_map_facilities_unlike_any_building_colour(cau):
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure

    ax = plot_layers(cau, column="use", ax=Figure().add_subplot())
    (dots,) = [c for c in ax.collections if c.get_zorder() == 6]
    face = np.asarray(dots.get_facecolor())[0, :3]
    edge = np.asarray(dots.get_edgecolor())[0, :3]
    categories = sorted(cau.buildings["use"].unique())
    palette = _category_colors(categories)[:, :3] / 255
    # Unlike every category ("health" is tab10 red, as the dots were).
    assert np.abs(palette - face).max(axis=1).min() > 0.3
    assert np.abs(edge - np.asarray(to_rgb("#1a1a1a"))).max() < 0.05


def test_map_scale_bar_and_no_bare_coordinates(pilot):
    from matplotlib.figure import Figure

    ax = plot_layers(pilot, column="height_m", ax=Figure().add_subplot())
    # No ticks, so no "Easting [metre]" either: a scale bar gives the scale.
    assert ax.get_xlabel() == ""
    assert ax.get_ylabel() == ""
    (bar,) = [a for a in ax.artists if a.get_gid() == "scale_bar"]
    label = bar.txt_label.get_text()
    assert label.endswith((" m", " km"))
    x0, x1 = ax.get_xlim()
    length = float(label.split()[0]) * (1000 if label.endswith("km") else 1)
    assert 0.08 < length / (x1 - x0) <= 0.2


def test_scale_length():
    assert scale_length(1000.0) == 200.0
    assert scale_length(370.0) == 50.0
    assert scale_length(12_000.0) == 2000.0
    assert scale_length(2.0) == 1.0


def test_saved_map_key_is_under_the_map_and_whole(pilot, tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

    figure = Figure(figsize=(6, 5), dpi=100, layout="constrained")
    ax = plot_layers(pilot, column="use", ax=figure.add_subplot())
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    keys = [a for a in ax.artists if isinstance(a, Legend)]
    assert len(keys) == 1
    key = keys[0].get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    # Under the map (covering none of it) and inside the picture.
    assert key.y1 <= frame.y0 + 1
    assert key.y0 >= 0
    assert key.x0 >= 0
    assert key.x1 <= figure.bbox.x1
    # The same layout when saved: the picture keeps its size.
    img = _pixels(save_map(pilot, tmp_path / "m.png", figsize=(6, 5), dpi=100))
    assert img.shape == (500, 600, 3)


def test_sunlight_map_title_says_what_fails_and_when(shaded, check, impact, tmp_path):
    from matplotlib.figure import Figure

    ax = plot_sunlight(shaded, impact, ax=Figure().add_subplot())
    title = ax.get_title()
    n_lost = int((impact.points["status"] == "lost").sum())
    assert f"{n_lost:,} windows fall below 2 h with the proposal (tower)" in title
    assert "Great Cold day 2026-01-20" in title
    assert "9:00 and 15:00" in title
    assert ax.get_xlabel() == ""
    assert [a for a in ax.artists if a.get_gid() == "scale_bar"]
    ax = plot_sunlight(shaded, check, ax=Figure().add_subplot())
    assert "main-facade windows below 2 h" in ax.get_title()
    png = save_sunlight_map(shaded, check, tmp_path / "m.png")
    assert png.stat().st_size > 10_000


def test_3d_pictures_of_osm_data_credit_openstreetmap():
    # ODbL 1.0 §4.3: a picture made from OSM data names its source, as the 2D
    # map does; the invented pilot gets no such credit.
    import cim
    from cim.viz import render
    from cim.viz._furniture import OSM_ATTRIBUTION

    def texts(name):
        plotter = render(cim.datasets.load(name), window_size=(400, 300))
        try:
            actors = plotter.renderer.actors.values()
            return [a.GetInput() for a in actors if hasattr(a, "GetInput")]
        finally:
            plotter.close()

    assert OSM_ATTRIBUTION in texts("beijing_haidian_cau")
    assert OSM_ATTRIBUTION not in texts("hangzhou_pilot")
