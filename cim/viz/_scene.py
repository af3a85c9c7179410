"""Shared pieces of the 3D pictures: pyvista import, fonts, camera, legends.

Used by `cim.viz.render3d` and `cim.viz.sunlight`; not a public API. Nothing
here imports pyvista, VTK or matplotlib at module level: `import_pyvista`
does, on first use, after choosing an EGL window where there is no display.

Text is drawn in DejaVu Sans, or wholly in a CJK font if it has Chinese
characters (VTK has no font fallback; see `cim.viz._fonts`).

Positions on the picture are given in normalised viewport coordinates, 0 at
the left (bottom) edge to 1 at the right (top) edge, as pyvista's scalar bar
arguments ``position_x`` and ``position_y`` are.
"""

from __future__ import annotations

import math
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cim.viz._fonts import font_file

__all__ = [
    "CAMERAS",
    "add_credit",
    "add_title",
    "anti_alias",
    "check_camera",
    "font_file",
    "headless",
    "import_pyvista",
    "nice_ticks",
    "place_camera",
    "save_screenshot",
    "screen_px",
    "set_font",
    "style_scalar_bar",
    "text_units",
    "text_width",
    "title_top",
]

#: Named camera views: direction from the scene's centre to the camera
#: (east, north, up), before zooming to fit.
CAMERAS: Final[dict[str, tuple[float, float, float]]] = {
    "iso": (0.55, -1.0, 0.9),
    "top": (0.0, 0.0, 1.0),
    "south": (0.0, -1.0, 0.45),
    "north": (0.0, 1.0, 0.45),
    "east": (1.0, 0.0, 0.45),
    "west": (-1.0, 0.0, 0.45),
}

#: VTK's supersampling (vtkSSAAPass) draws the scene at sqrt(5) times the
#: picture's width and height, then shrinks it: point sizes and line widths,
#: given in pixels of that larger image, come out sqrt(5) times smaller.
_SSAA: Final = math.sqrt(5.0)
_VTK_FONT_FILE: Final = 4  # vtkTextProperty font family "from a file"
#: Height of a title line at the top of the picture [pixels], and the margin
#: kept free around the drawing [-, share of the picture].
_TITLE_LINE_PX: Final = 30.0
_TITLE_PT: Final = 12  # pyvista font size of the title (24 in VTK)
_CREDIT_PT: Final = 7  # pyvista font size of a data credit
_MARGIN: Final = 0.02
#: Width of a wide (CJK) character, in average DejaVu Sans characters [-].
_WIDE: Final = 1.75


def set_font(prop: Any, font: str | None) -> None:
    """Draw the text of a VTK text property with the font file ``font``.

    Parameters
    ----------
    prop
        A ``vtkTextProperty``.
    font
        A ``.ttf``, ``.otf`` or ``.ttc`` file (see `font_file`, which
        chooses it for the text); None keeps VTK's font.
    """
    if font is not None:
        prop.SetFontFamily(_VTK_FONT_FILE)
        prop.SetFontFile(font)


def headless() -> bool:
    """Whether no display server is reachable (Linux and other X11 systems).

    Returns
    -------
    bool
        False on Windows and macOS, else True when neither ``DISPLAY`` nor
        ``WAYLAND_DISPLAY`` is set.
    """
    if sys.platform in ("win32", "darwin"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def import_pyvista() -> Any:
    """Import pyvista, choosing an EGL render window first if `headless`.

    ``VTK_DEFAULT_OPENGL_WINDOW`` is only set if it is not already, and only
    takes effect if VTK is not imported yet.

    Returns
    -------
    module
        The ``pyvista`` module.
    """
    if headless():
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista

    return pyvista


def check_camera(camera: str | Sequence[Any]) -> None:
    """Raise unless ``camera`` is a name of `CAMERAS` or a camera position.

    Parameters
    ----------
    camera
        A view name or a pyvista camera position.

    Raises
    ------
    ValueError
        If ``camera`` is a string that is not a key of `CAMERAS`.
    """
    if isinstance(camera, str) and camera not in CAMERAS:
        msg = (
            f"invalid camera {camera!r}; expected one of "
            f"{', '.join(map(repr, CAMERAS))} or a pyvista camera position"
        )
        raise ValueError(msg)


def _ndc(camera: Any, aspect: float, points: npt.NDArray[np.float64]) -> Any:
    """``(n, 2)`` normalised device coordinates (-1 to 1) of ``(n, 3)`` points."""
    m = camera.GetCompositeProjectionTransformMatrix(aspect, -1.0, 1.0)
    matrix = np.array([[m.GetElement(i, j) for j in range(4)] for i in range(4)])
    h = np.column_stack([points, np.ones(len(points))]) @ matrix.T
    return h[:, :2] / h[:, 3:4]


def place_camera(
    plotter: Any,
    camera: str | Sequence[Any],
    bounds: npt.NDArray[np.float64],
    *,
    right: float = 1.0,
    top: float = 1.0,
) -> None:
    """Look at ``bounds`` from a named view, filling the free part of the picture.

    The camera looks at the box's centre from the direction of `CAMERAS`,
    north up in plan (``"top"``, drawn without perspective) and up vertical
    otherwise. It is then zoomed and its window shifted so that the eight
    corners of the box, as projected, fill the picture left of ``right`` and
    below ``top`` (where legends and titles go), with a small margin.

    Parameters
    ----------
    plotter
        A :class:`pyvista.Plotter` of known ``window_size``.
    camera
        A name of `CAMERAS`; any other value is set as the plotter's camera
        position unchanged.
    bounds
        ``(2, 3) float``: lower and upper corner of the box to frame, in the
        plotter's coordinates [m].
    right
        Right edge of the free part of the picture, 0 to 1 [-].
    top
        Top edge of the free part of the picture, 0 to 1 [-].
    """
    if not isinstance(camera, str):
        plotter.camera_position = camera
        return
    (x0, y0, z0), (x1, y1, z1) = bounds
    plan = camera == "top"
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2])
    direction = np.asarray(CAMERAS[camera], dtype=np.float64)
    direction /= np.linalg.norm(direction)
    radius = 0.5 * float(np.linalg.norm([x1 - x0, y1 - y0, z1 - z0])) or 1.0
    view_up = (0.0, 1.0, 0.0) if plan else (0.0, 0.0, 1.0)
    # Three radii away, every corner is well in front of the camera.
    plotter.camera_position = [
        tuple(centre + direction * radius * 3.0),
        tuple(centre),
        view_up,
    ]
    cam = plotter.camera
    if plan:
        # A plan is a map: no perspective.
        plotter.enable_parallel_projection()
        cam.parallel_scale = radius
    cam.view_angle = 30.0
    cam.SetWindowCenter(0.0, 0.0)
    width, height = plotter.window_size
    aspect = width / height
    corners = np.array(
        [[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)],
        dtype=np.float64,
    )
    # The free rectangle in normalised device coordinates (-1 to 1).
    lo = np.array([-1.0 + 2 * _MARGIN, -1.0 + 2 * _MARGIN])
    hi = np.array([2.0 * right - 1.0 - 2 * _MARGIN, 2.0 * top - 1.0 - 2 * _MARGIN])
    for _ in range(3):
        ndc = _ndc(cam, aspect, corners)
        size = ndc.max(axis=0) - ndc.min(axis=0)
        scale = float(np.min((hi - lo) / np.maximum(size, 1e-9)))
        if plan:
            cam.parallel_scale = cam.parallel_scale / scale
        else:
            half = math.radians(cam.view_angle) / 2
            cam.view_angle = math.degrees(2 * math.atan(math.tan(half) / scale))
        ndc = _ndc(cam, aspect, corners)
        shift = (ndc.max(axis=0) + ndc.min(axis=0)) / 2 - (hi + lo) / 2
        wx, wy = cam.GetWindowCenter()
        cam.SetWindowCenter(wx + shift[0], wy + shift[1])
    plotter.renderer.ResetCameraClippingRange()


def title_top(text: str, window_height: int) -> float:
    """Bottom of a title of ``text`` at the top left, 0 to 1 of the picture.

    Parameters
    ----------
    text
        The title; one line per line break, none if empty.
    window_height
        Height of the picture [pixels].

    Returns
    -------
    float
        1.0 without a title.
    """
    if not text:
        return 1.0
    lines = text.count("\n") + 1
    return 1.0 - (lines * _TITLE_LINE_PX + 10.0) / window_height


def text_units(text: str) -> float:
    """Width of one line of text, in average DejaVu Sans characters.

    Wide characters (Chinese, fullwidth forms) count `_WIDE`.

    Parameters
    ----------
    text
        The text.

    Returns
    -------
    float
        [-]
    """
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
    return len(text) + (_WIDE - 1.0) * wide


def text_width(text: str, font_size: float, window_width: int) -> float:
    """Estimated width of one line of text, 0 to 1 of the picture.

    Parameters
    ----------
    text
        The text; Chinese characters are wider than Latin ones (see
        `text_units`).
    font_size
        Font size as given to pyvista [points].
    window_width
        Width of the picture [pixels].

    Returns
    -------
    float
    """
    return 0.58 * font_size * text_units(text) / window_width


def add_title(plotter: Any, text: str) -> Any:
    """Write ``text`` at the top left of the picture.

    The font is DejaVu Sans, or a CJK font if ``text`` has Chinese
    characters (see `font_file`).

    Unlike pyvista's corner text, which shrinks to fit, every line keeps the
    same size whatever the number of lines (see `title_top`).

    Parameters
    ----------
    plotter
        A :class:`pyvista.Plotter`.
    text
        The title; a line break starts a new line.

    Returns
    -------
    pyvista.Text
        The text actor.
    """
    actor = plotter.add_text(
        text,
        position=(0.006, 1.0 - 6.0 / plotter.window_size[1]),
        viewport=True,
        font_size=_TITLE_PT,
        color="black",
    )
    prop = actor.GetTextProperty()
    prop.SetVerticalJustificationToTop()
    prop.SetJustificationToLeft()
    set_font(prop, font_file(text))
    return actor


def add_credit(plotter: Any, text: str) -> Any:
    """Write a data credit (``text``) small at the bottom right of the picture.

    Parameters
    ----------
    plotter
        A :class:`pyvista.Plotter`.
    text
        The credit, e.g. ``"© OpenStreetMap contributors"``.

    Returns
    -------
    pyvista.Text
        The text actor.
    """
    actor = plotter.add_text(
        text,
        position=(1.0 - 4.0 / plotter.window_size[0], 4.0 / plotter.window_size[1]),
        viewport=True,
        font_size=_CREDIT_PT,
        color="#333333",
    )
    prop = actor.GetTextProperty()
    prop.SetVerticalJustificationToBottom()
    prop.SetJustificationToRight()
    set_font(prop, font_file(text))
    return actor


def nice_ticks(
    lo: float, hi: float, *, integer: bool = False, n: int = 5
) -> tuple[npt.NDArray[np.float64], str]:
    """Round tick values between ``lo`` and ``hi``, and a printf format for them.

    Ticks are multiples of 1, 2, 2.5 or 5 times a power of ten, as
    matplotlib's `~matplotlib.ticker.MaxNLocator` chooses them, kept within
    the range; whole numbers only if ``integer``.

    Parameters
    ----------
    lo, hi
        Range of the values.
    integer
        Whether the values are whole numbers (counts, floors).
    n
        Most ticks wanted.

    Returns
    -------
    ticks : ndarray
        ``(k,) float``, ascending; ``[lo]`` if ``lo == hi``.
    fmt : str
        A printf format (``"%.0f"``, ``"%.1f"`` ...) that writes every tick
        exactly.
    """
    from matplotlib.ticker import MaxNLocator

    if not hi > lo:
        ticks = np.array([lo], dtype=np.float64)
    else:
        locator = MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10], integer=integer)
        values = np.asarray(locator.tick_values(lo, hi), dtype=np.float64)
        tol = 1e-9 * (hi - lo)
        ticks = values[(values >= lo - tol) & (values <= hi + tol)]
        if len(ticks) < 2:
            ticks = np.array([lo, hi], dtype=np.float64)
    decimals = 0
    while decimals < 6 and not np.allclose(
        np.round(ticks, decimals), ticks, rtol=0, atol=1e-9 * max(1.0, abs(hi))
    ):
        decimals += 1
    return ticks, f"%.{decimals}f"


def style_scalar_bar(
    actor: Any,
    *,
    ticks: npt.NDArray[np.float64] | None = None,
    fmt: str | None = None,
) -> None:
    """Set a scalar bar's fonts, and its labels at ``ticks``.

    Each of its title, labels and annotations (the names of a category
    legend, "no data") is drawn in DejaVu Sans, or in a CJK font if it has
    Chinese characters (see `font_file`). Call it once they are set.

    Parameters
    ----------
    actor
        A ``vtkScalarBarActor`` (``plotter.scalar_bar``).
    ticks
        ``(k,) float`` values to label (see `nice_ticks`); None keeps the
        evenly spaced labels.
    fmt
        printf format of the labels.
    """
    table = actor.GetLookupTable()
    annotations = [str(actor.GetNanAnnotation() or "")]
    if table is not None:
        annotations += [
            str(table.GetAnnotation(i))
            for i in range(table.GetNumberOfAnnotatedValues())
        ]
    set_font(actor.GetTitleTextProperty(), font_file(str(actor.GetTitle() or "")))
    set_font(actor.GetLabelTextProperty(), font_file())
    set_font(actor.GetAnnotationTextProperty(), font_file(*annotations))
    actor.SetVerticalTitleSeparation(12)
    if ticks is not None:
        from vtkmodules.vtkCommonCore import vtkDoubleArray

        labels = vtkDoubleArray()
        for value in ticks:
            labels.InsertNextValue(float(value))
        actor.SetCustomLabels(labels)
        actor.SetUseCustomLabels(True)
    if fmt is not None:
        actor.SetLabelFormat(fmt)


def anti_alias(plotter: Any) -> None:
    """Smooth the edges of the picture by supersampling (SSAA).

    Draw points and lines with sizes from `screen_px`, or they come out
    more than twice too thin.

    Parameters
    ----------
    plotter
        A :class:`pyvista.Plotter`.
    """
    plotter.enable_anti_aliasing("ssaa")


def screen_px(size: float) -> float:
    """A point size or line width to give VTK for ``size`` pixels on the picture.

    Parameters
    ----------
    size
        Wanted size on the anti-aliased picture (see `anti_alias`) [pixels].

    Returns
    -------
    float
        The size in pixels of the supersampled image [pixels].
    """
    return size * _SSAA


def save_screenshot(plotter: Any, path: str | os.PathLike[str]) -> Path:
    """Write a plotter's picture to ``path`` atomically, then close the plotter.

    Parameters
    ----------
    plotter
        An off-screen :class:`pyvista.Plotter`.
    path
        Target image (``.png``).

    Returns
    -------
    pathlib.Path
    """
    from cim.io.files import atomic_path

    target = Path(path)
    try:
        with atomic_path(target, suffix=target.suffix or ".png") as tmp:
            plotter.screenshot(str(tmp))
    finally:
        plotter.close()
    return target
