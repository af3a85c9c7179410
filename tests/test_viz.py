"""Tests for :mod:`cim.viz`: 3D renderings (pyvista) and 2D maps (matplotlib).

Pictures are checked for their size and for content: many distinct colours,
and the colours of the buildings' legend present in the image.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import cim
from cim.meshes import NAN_COLOR, _category_colors, building_colors
from cim.viz import plot_layers, render, save_map
from cim.viz._furniture import is_osm
from cim.viz.maps import OSM_ATTRIBUTION

#: A smaller picture than the default keeps the tests fast.
SIZE = (800, 600)
#: Largest per-channel difference for a pixel to match a colour [0-255];
#: shading changes wall colours, but lit roofs keep theirs closely.
COLOR_TOL = 40


@pytest.fixture(scope="module")
def sample() -> cim.Twin:
    return cim.datasets.load("beijing_haidian_cau")


def _pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _count_near(img: np.ndarray, rgb) -> int:
    diff = np.abs(img.astype(int) - np.asarray(rgb[:3], dtype=int)).max(axis=2)
    return int((diff <= COLOR_TOL).sum())


def _assert_not_blank(img: np.ndarray, *, min_colours: int = 200) -> None:
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colours) >= min_colours
    # Mostly-white background, but a good share of the picture is drawn.
    drawn = (img < 240).any(axis=2).mean()
    assert 0.1 < drawn < 0.95


# -- import weight -------------------------------------------------------------


def test_import_leaves_heavy_modules_out():
    code = (
        "import sys, cim, cim.viz, cim.viz.render3d, cim.viz.maps, cim.meshes, "
        "cim.io.mesh;"
        "print(','.join(m for m in ('pyvista', 'vtk', 'vtkmodules', 'matplotlib')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_render_stays_the_function_whatever_was_imported_first():
    # A submodule named like the function (cim/viz/render.py) replaced the
    # function on the package once anything imported it: `from cim.viz import
    # render` then gave a module ("'module' object is not callable").
    code = (
        "import cim.viz.sunlight, cim.viz.render3d;"
        "from cim.viz import render, render_sunlight, plot_layers;"
        "print(all(callable(f) for f in (render, render_sunlight, plot_layers)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"


# -- render --------------------------------------------------------------------


def test_render_height_png(sample, tmp_path):
    path = render(sample, path=tmp_path / "height.png", window_size=SIZE)
    assert path == tmp_path / "height.png"
    assert [p.name for p in tmp_path.iterdir()] == ["height.png"]
    img = _pixels(path)
    assert img.shape == (SIZE[1], SIZE[0], 3)
    _assert_not_blank(img)
    # The tallest building (42 m) is drawn in the top colour of viridis.
    assert _count_near(img, (253, 231, 37)) > 50


def test_render_categorical_column(sample, tmp_path):
    path = render(sample, color="use", path=tmp_path / "use.png", window_size=SIZE)
    img = _pixels(path)
    assert img.shape == (SIZE[1], SIZE[0], 3)
    _assert_not_blank(img)
    categories = sorted(sample.buildings["use"].unique())
    palette = _category_colors(categories)
    # Every category shows at least in the legend (a block of >= 200 pixels).
    for name, rgb in zip(categories, palette, strict=True):
        assert _count_near(img, rgb) > 200, name


def test_render_missing_values_are_grey(sample, tmp_path):
    b = sample.buildings.copy()
    b["score"] = np.where(np.arange(len(b)) % 3 == 0, np.nan, np.arange(len(b)))
    twin = sample.with_layer("buildings", b, estimate=False)
    assert (building_colors(twin, "score")[::3] == NAN_COLOR).all()
    path = render(
        twin, color="score", camera="top", path=tmp_path / "s.png", window_size=SIZE
    )
    img = _pixels(path)
    _assert_not_blank(img)
    assert _count_near(img, NAN_COLOR) > 500


def test_render_returns_plotter_without_path(sample):
    import pyvista as pv

    plotter = render(sample, color=None, window_size=(320, 240), title="")
    try:
        assert isinstance(plotter, pv.Plotter)
        assert plotter.window_size == [320, 240]
        assert len(plotter.scalar_bars) == 0
    finally:
        plotter.close()


def test_render_unknown_column(sample):
    with pytest.raises(KeyError, match=r"no buildings column 'heigth'.*height_m"):
        render(sample, color="heigth")


def test_render_unknown_camera(sample):
    with pytest.raises(ValueError, match="invalid camera 'side'"):
        render(sample, camera="side")


# -- maps ----------------------------------------------------------------------


def test_save_map_png(sample, tmp_path):
    path = save_map(
        sample, tmp_path / "map.png", column="height_m", figsize=(6, 5), dpi=100
    )
    img = _pixels(path)
    assert img.shape == (500, 600, 3)
    _assert_not_blank(img, min_colours=100)
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]
    # save_map leaves pyplot alone: no figure is left open.
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_plot_layers_categorical_with_attribution(sample):
    from matplotlib.figure import Figure

    ax = plot_layers(sample, column="use", ax=Figure().add_subplot())
    texts = [t.get_text() for t in ax.texts]
    assert OSM_ATTRIBUTION in texts
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_title().get_text() == "use"
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == sorted(sample.buildings["use"].unique())
    assert ax.get_title() == "beijing_haidian_cau: use"


def test_plot_layers_without_osm_has_no_attribution(measured_buildings, crs):
    from matplotlib.figure import Figure

    twin = cim.Twin(crs=crs, buildings=measured_buildings)
    ax = plot_layers(twin, ax=Figure().add_subplot())
    assert OSM_ATTRIBUTION not in [t.get_text() for t in ax.texts]
    with pytest.raises(KeyError, match=r"numeric columns: .*height_m"):
        plot_layers(twin, column="nope", ax=Figure().add_subplot())


def test_is_osm():
    assert is_osm([{"name": "x.osm.pbf"}])
    assert is_osm([{"name": "x", "licence": "ODbL 1.0"}])
    assert is_osm([{"attribution": "© OpenStreetMap 贡献者"}])
    assert not is_osm([{"name": "survey", "licence": "internal"}])
    assert not is_osm([])


# -- save_figure -----------------------------------------------------------------


def test_save_figure_writes_atomically_and_to_a_buffer(tmp_path):
    import io

    from matplotlib.figure import Figure

    from cim.viz import save_figure

    figure = Figure(figsize=(2, 1))
    figure.add_subplot().set_title("height_m [m]")
    # No suffix: PNG, written under a temporary name and moved over the target.
    out = tmp_path / "figure"
    out.write_bytes(b"old")
    assert save_figure(figure, out, dpi=40) == out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["figure"]
    assert save_figure(figure, tmp_path / "figure.svg").read_bytes()[:5] == b"<?xml"
    buffer = io.BytesIO()
    assert save_figure(figure, buffer, format="pdf") is None
    assert buffer.getvalue()[:5] == b"%PDF-"


def test_save_figure_gives_late_chinese_texts_the_cjk_font(tmp_path):
    # Texts added after the plotting functions ran (a suptitle, a legend)
    # fall back on the CJK font too: save_figure fits the whole figure.
    from matplotlib.figure import Figure

    from cim.viz import _fonts, save_figure

    font = _fonts.cjk_font()
    if font is None:
        pytest.skip("no CJK font: apt install fonts-wqy-microhei")
    figure = Figure(figsize=(2, 1))
    figure.add_subplot()
    title = figure.suptitle("总图 site plan")
    save_figure(figure, tmp_path / "zh.png", dpi=40)
    assert title.get_fontfamily()[-1] == font.family
