"""Chinese text in the pictures (:mod:`cim.viz._fonts`).

Planners name twins, buildings and facilities in Chinese. Without a CJK font
matplotlib draws each character as DejaVu Sans's "missing glyph" box (a frame
round a question mark) and VTK leaves it out. These tests draw a map and a 3D
picture of a twin named 杭州试点 coloured by Chinese building names, and
check the ink where the title and the category labels are:

- a box is a closed frame, so much of its area is background enclosed by ink
  (`_boxiness`); Chinese characters enclose little (口 in 号 is small). The
  same measure of the same map drawn with DejaVu Sans only must flag its
  boxes, so the check can tell them apart;
- VTK draws no box: the 3D picture must carry well more dark ink where the
  text is than the same picture drawn without a CJK font.

The tests that draw with a CJK font are skipped where none is installed
(``apt install fonts-wqy-microhei``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import warnings

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from scipy import ndimage

import cim
from cim.errors import FontWarning
from cim.viz import _fonts, plot_layers, render, save_map

NAME = "杭州试点"
SIZE = (800, 600)
#: Share of a text's box that is background enclosed by ink [-]: boxes of
#: the missing glyph measure 0.25 to 0.46, Chinese characters 0.02 to 0.07.
BOXY = 0.15


def _installed() -> bool:
    """Whether fontconfig or matplotlib knows a font with Chinese characters."""
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        out = subprocess.run(
            [fc_list, ":lang=zh"], capture_output=True, text=True, check=False
        )
        if out.stdout.strip():
            return True
    return any(e.name in _fonts.CJK_FAMILIES for e in font_manager.fontManager.ttflist)


needs_font = pytest.mark.skipif(
    not _installed(), reason="no CJK font: apt install fonts-wqy-microhei"
)


@pytest.fixture
def zh_twin(measured_buildings, crs) -> cim.Twin:
    # Buildings named 1号楼, 办公楼, 3号楼 and 商业楼 (tests/conftest.py).
    return cim.Twin(crs=crs, name=NAME, buildings=measured_buildings)


@pytest.fixture
def no_cjk_font(monkeypatch):
    """The font lookup finds nothing, and the warning is not yet given."""
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(_fonts, "_said", set())


def _ink(img: np.ndarray) -> np.ndarray:
    """Dark grey pixels: text, not the coloured buildings or the beige ground."""
    rgb = img[..., :3].astype(int)
    return (rgb.mean(axis=2) < 160) & (np.ptp(rgb, axis=2) < 30)


def _boxiness(ink: np.ndarray) -> float:
    """Share of the ink's bounding box that is background enclosed by ink."""
    rows, cols = np.nonzero(ink)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    holes = ndimage.binary_fill_holes(ink) & ~ink
    return float(holes.sum() / ink.size)


def _map_texts(twin: cim.Twin) -> dict[str, np.ndarray]:
    """The ink of a map's title and legend labels, by text."""
    figure = Figure(figsize=(6, 4), dpi=150, layout="constrained")
    ax = plot_layers(twin, column="name", ax=figure.add_subplot())
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())
    renderer = canvas.get_renderer()
    height = img.shape[0]
    legend = ax.get_legend()
    assert legend is not None
    crops = {}
    for text in [ax.title, *legend.get_texts()]:
        box = text.get_window_extent(renderer)
        rows = slice(int(height - box.y1), int(np.ceil(height - box.y0)))
        crops[text.get_text()] = _ink(img[rows, int(box.x0) : int(np.ceil(box.x1))])
    return crops


def _text_actors(plotter) -> list:
    """The 2D text actors of a pyvista plotter (its title)."""
    props = plotter.renderer.GetViewProps()
    items = [props.GetItemAsObject(i) for i in range(props.GetNumberOfItems())]
    return [p for p in items if p.IsA("vtkTextActor")]


# -- the lookup ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (NAME, True),
        ("1号楼", True),
        ("（北）", True),  # fullwidth parentheses
        ("ひらがな", True),
        ("sunlight [h] ≥ 2 h, 50 m², Zürich", False),
        ("", False),
    ],
)
def test_has_cjk(text, expected):
    assert _fonts.has_cjk(text) is expected


def test_candidates_are_taken_in_order_regular_first():
    entry = font_manager.FontEntry
    entries = [
        entry(fname="/f/simhei.ttf", name="SimHei"),
        entry(fname="/f/wqy-bold.ttc", name="WenQuanYi Micro Hei", weight=700),
        entry(fname="/f/wqy.ttc", name="WenQuanYi Micro Hei", weight=400),
        entry(fname="/f/noto.ttc", name="Noto Sans CJK JP"),  # not Chinese
        entry(fname="/f/dejavu.ttf", name="DejaVu Sans"),
    ]
    font = _fonts._from_matplotlib(entries)
    assert font == _fonts.CJKFont("WenQuanYi Micro Hei", "/f/wqy.ttc", 0)
    assert _fonts._from_matplotlib(entries[3:]) is None


@needs_font
def test_lookup_finds_a_font_missing_from_matplotlibs_cache(monkeypatch):
    # matplotlib lists the fonts installed when it made its cache; a font
    # installed since is found through fontconfig and added for the process.
    manager = font_manager.fontManager
    if shutil.which("fc-list") is None:
        pytest.skip("needs fontconfig's fc-list")
    stale = [e for e in manager.ttflist if e.name not in _fonts.CJK_FAMILIES]
    monkeypatch.setattr(manager, "ttflist", stale)
    font = _fonts.cjk_font.__wrapped__()
    assert font is not None
    assert any(e.name == font.family for e in manager.ttflist)
    found = manager.findfont(
        font_manager.FontProperties(family=font.family), fallback_to_default=False
    )
    assert str(found) == font.path


# -- pictures with a CJK font ------------------------------------------------------


@needs_font
def test_map_draws_chinese_title_and_labels(zh_twin, monkeypatch):
    rc = dict(mpl.rcParams)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Glyph ... missing from font"
        drawn = _map_texts(zh_twin)
    assert dict(mpl.rcParams) == rc  # the fallback is on the texts only
    # The same map with DejaVu Sans only: boxes.
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(_fonts, "_said", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # and matplotlib's, drawn by the test
        boxes = _map_texts(zh_twin)
    assert [w.category for w in caught].count(FontWarning) == 1
    title = f"{NAME}: name"
    assert set(drawn) == set(boxes) == {title, "1号楼", "3号楼", "办公楼", "商业楼"}
    for text, ink in drawn.items():
        assert ink.sum() > 100, text
        assert _boxiness(ink) < BOXY, text
        assert _boxiness(boxes[text]) > BOXY, text  # the measure sees boxes


@needs_font
def test_render_draws_chinese_title_and_labels(zh_twin, tmp_path, monkeypatch):
    def draw(path):
        plotter = render(zh_twin, color="name", window_size=SIZE)
        try:
            bar = plotter.scalar_bar
            (title_actor,) = _text_actors(plotter)
            fonts = {
                "title": title_actor.GetTextProperty().GetFontFile(),
                "annotations": bar.GetAnnotationTextProperty().GetFontFile(),
                "labels": bar.GetLabelTextProperty().GetFontFile(),
                "bar title": bar.GetTitleTextProperty().GetFontFile(),
            }
            plotter.screenshot(str(path))
        finally:
            plotter.close()
        with Image.open(path) as im:
            img = np.asarray(im.convert("RGB"))
        width, height = SIZE
        title = _ink(img[:40, : width // 2])
        # The names stand left of the colour blocks, at 0.92 of the width.
        names = _ink(img[height // 5 : height * 4 // 5, int(0.75 * width) : 730])
        return fonts, title, names

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fonts, title, names = draw(tmp_path / "cjk.png")
    cjk = _fonts.cjk_font()
    assert cjk is not None
    dejavu = _fonts.dejavu_file()
    assert fonts == {
        "title": cjk.path,
        "annotations": cjk.path,
        "labels": dejavu,
        "bar title": dejavu,  # "name": Latin text keeps DejaVu Sans
    }
    # Without a CJK font VTK leaves the characters out.
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(_fonts, "_said", set())
    with pytest.warns(FontWarning):
        _, bare_title, bare_names = draw(tmp_path / "bare.png")
    assert title.sum() > 2.0 * bare_title.sum()
    assert names.sum() > 2.5 * bare_names.sum()
    assert _boxiness(title) < BOXY
    assert _boxiness(names) < BOXY


# -- without a CJK font --------------------------------------------------------------


def test_without_cjk_font_one_clear_warning(zh_twin, tmp_path, no_cjk_font):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_map(zh_twin, tmp_path / "a.png", column="name", dpi=50)
        save_map(zh_twin, tmp_path / "b.png", title="另一张图", dpi=50)
        render(zh_twin, color="name", path=tmp_path / "c.png", window_size=(300, 200))
    font = [w for w in caught if issubclass(w.category, FontWarning)]
    assert len(font) == 1
    message = str(font[0].message)
    assert f"'{NAME}: name'" in message
    assert "apt install fonts-wqy-microhei" in message
    assert "Noto Sans CJK" in message
    assert font[0].filename == __file__  # points at the caller
    # matplotlib's warnings of each missing character are left out.
    assert [str(w.message) for w in caught if w not in font] == []


def test_quiet_missing_glyphs_keeps_other_warnings(no_cjk_font):
    with pytest.warns(UserWarning) as caught, _fonts.quiet_missing_glyphs():
        warnings.warn(
            "Glyph 26477 (\\N{CJK UNIFIED IDEOGRAPH-676D}) missing from font(s) "
            "DejaVu Sans.",
            UserWarning,
            stacklevel=1,
        )
        warnings.warn(
            "Glyph 128512 (\\N{GRINNING FACE}) missing from font(s) DejaVu Sans.",
            UserWarning,
            stacklevel=1,
        )
    assert [str(w.message)[:12] for w in caught] == ["Glyph 128512"]


def test_latin_text_needs_no_cjk_font(no_cjk_font):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _fonts.font_file("height_m [m]", "≥ 2 h") == _fonts.dejavu_file()
        assert _fonts.cjk_font_for("residential") is None
