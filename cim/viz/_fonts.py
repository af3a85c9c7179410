"""Fonts of the pictures: DejaVu Sans, and a CJK font for Chinese text.

Used by the 2D maps (matplotlib) and `cim.viz._scene` (VTK); not a public
API. Nothing here imports matplotlib or VTK at module level.

Names of twins, buildings and facilities are often Chinese. DejaVu Sans,
matplotlib's default font, has no CJK characters: matplotlib draws them as
empty boxes (and warns once per character), VTK leaves them out. `cjk_font`
finds an installed CJK font, once per process:

- **matplotlib** draws a text from a list of fonts, each character from the
  first font of the list that has it (font fallback, matplotlib 3.6+).
  `fit_figure_fonts` appends the CJK font to the family list of each text of
  a figure that has CJK characters: Latin letters stay in DejaVu Sans and
  Chinese comes from the CJK font. No rcParams are changed, not even in an
  ``rc_context``: one around our drawing code would miss the axes' title,
  which is made with the axes, before that code runs, and keeps the font
  family of that moment.
- **VTK** draws a text with one font file and no fallback. `font_file` gives
  the CJK font's file for a text with CJK characters and DejaVu Sans's
  otherwise, so that pictures without Chinese text look as they did. Of a
  font collection (``.ttc``) VTK reads the first face: for Noto Sans CJK's
  collection that is the Japanese one, whose ideographs differ from the
  Chinese ones in a few details.

Without a CJK font, the first text that needs one brings a `FontWarning`
(once per process) naming the text and the fix, and `quiet_missing_glyphs`
drops matplotlib's per-character warnings while `cim.viz.save_figure`, which
writes every matplotlib picture of the project, draws.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cim.errors import FontWarning

if TYPE_CHECKING:
    from matplotlib.artist import Artist

__all__ = [
    "CJK_FAMILIES",
    "CJKFont",
    "cjk_font",
    "cjk_font_for",
    "dejavu_file",
    "fit_figure_fonts",
    "font_file",
    "has_cjk",
    "quiet_missing_glyphs",
]

_log = logging.getLogger(__name__)

#: Fonts with Chinese characters, most wanted first: Simplified Chinese faces
#: of the open Noto/Source Han family, the small WenQuanYi fonts of Linux
#: distributions, then those of Windows and macOS.
CJK_FAMILIES: Final = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Heiti SC",
)

#: Characters no Latin font has: CJK ideographs (with extensions and
#: compatibility forms), radicals, CJK punctuation, kana, bopomofo, hangul,
#: enclosed and fullwidth forms.
_CJK: Final = re.compile(
    "[\u2e80-\u2fdf\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f"
    "\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]"
)
#: matplotlib's warning of a character its fonts lack.
_GLYPH_WARNING: Final = re.compile(r"Glyph (\d+) \(.*\) missing from font")
_INSTALL: Final = (
    "install a CJK font, e.g. `apt install fonts-wqy-microhei` (Debian, "
    "Ubuntu) or Noto Sans CJK SC, and restart Python"
)
#: Messages already given in this process.
_said: set[str] = set()


@dataclass(frozen=True)
class CJKFont:
    """An installed font with Chinese characters.

    Parameters
    ----------
    family
        Family name, as matplotlib's font manager knows it.
    path
        The font file (``.ttf``, ``.otf`` or a ``.ttc`` collection).
    index
        Face of the family within a collection; 0 for a single font.
    """

    family: str
    path: str
    index: int = 0


def has_cjk(text: str) -> bool:
    """Whether ``text`` has a Chinese, Japanese or Korean character.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    bool

    Examples
    --------
    >>> has_cjk("杭州试点: height_m [m]"), has_cjk("≥ 2 h of sun")
    (True, False)
    """
    return _CJK.search(text) is not None


def _rank(names: Iterable[str]) -> int:
    """Place of the first of ``names`` in `CJK_FAMILIES`; its length if none."""
    return min(
        (CJK_FAMILIES.index(n) for n in names if n in CJK_FAMILIES),
        default=len(CJK_FAMILIES),
    )


def _is_regular(weight: object, style: str) -> bool:
    return str(weight).lower() in ("400", "normal", "regular", "book") and (
        style.lower() == "normal"
    )


def _from_matplotlib(entries: Iterable[Any]) -> CJKFont | None:
    """The best font of `CJK_FAMILIES` in matplotlib's font list, regular first."""
    known = [e for e in entries if e.name in CJK_FAMILIES]
    if not known:
        return None
    best = min(
        known,
        key=lambda e: (_rank([e.name]), not _is_regular(e.weight, e.style), e.fname),
    )
    return CJKFont(best.name, str(best.fname), int(getattr(best, "index", 0)))


def _from_fontconfig(manager: Any) -> CJKFont | None:
    """The best Chinese font fontconfig lists, added to matplotlib's fonts.

    matplotlib keeps its list of fonts in a cache made when it first ran; a
    font installed since is missing from it until that cache is deleted.
    fontconfig (``fc-list``) knows it: the file is added to ``manager`` for
    this process. Fonts of `CJK_FAMILIES` come first, then any other font
    fontconfig says covers Chinese.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    fields = "%{file}\t%{index}\t%{family}\t%{style}\n"
    try:
        listed = subprocess.run(
            [fc_list, "--format", fields, ":lang=zh"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    rows: list[tuple[int, bool, str, int, str]] = []
    for line in listed.splitlines():
        file, index, families, style = [*line.split("\t"), "", "", ""][:4]
        names = families.split(",")
        if file and Path(file).is_file():
            regular = not style or "Regular" in style.split(",")
            face_index = int(index) if index.isdigit() else 0
            rows.append((_rank(names), not regular, file, face_index, names[0]))
    for _, _, path, face_index, name in sorted(rows):
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue
        faces = [e for e in manager.ttflist if e.fname == path]
        face = next((e for e in faces if getattr(e, "index", 0) == face_index), None)
        if face is None and faces:
            face = faces[0]
        return CJKFont(name if face is None else face.name, path, face_index)
    return None


@functools.cache
def cjk_font() -> CJKFont | None:
    """The installed CJK font to draw Chinese text with, looked up once.

    matplotlib's font list is searched first for the families of
    `CJK_FAMILIES`, in that order, then fontconfig (``fc-list :lang=zh``),
    which also knows fonts installed after matplotlib made its font cache.
    A font found only by fontconfig is added to matplotlib's font manager
    for this process (its ``rcParams`` are left alone).

    Returns
    -------
    CJKFont or None
        None if no font with Chinese characters is installed.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    font = _from_matplotlib(manager.ttflist) or _from_fontconfig(manager)
    if font is None:
        _log.debug("no CJK font found")
    else:
        _log.debug("CJK text drawn with %s (%s)", font.family, font.path)
    return font


def _outside_cim() -> int:
    """Stack level of the first caller outside the ``cim`` package, for `warn`."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None:
        if not str(frame.f_globals.get("__name__", "")).startswith("cim."):
            break
        frame = frame.f_back
        level += 1
    return level


def cjk_font_for(*texts: str) -> CJKFont | None:
    """The CJK font ``texts`` need, if any has CJK characters.

    If one has but no CJK font is installed, a `FontWarning` names the text
    and the fix, the first time in the process.

    Parameters
    ----------
    *texts
        Texts to be drawn.

    Returns
    -------
    CJKFont or None
        None if no text has CJK characters, or no CJK font is installed.
    """
    needing = [t for t in texts if has_cjk(t)]
    if not needing:
        return None
    font = cjk_font()
    if font is None and "no-cjk-font" not in _said:
        _said.add("no-cjk-font")
        msg = (
            f"cannot draw the Chinese characters of {needing[0]!r}: no CJK font "
            "is installed, so 2D maps show them as empty boxes and 3D pictures "
            f"leave them out (in every picture of this session); {_INSTALL}"
        )
        warnings.warn(msg, FontWarning, stacklevel=_outside_cim())
    return font


def dejavu_file() -> str | None:
    """Path of DejaVu Sans, shipped with matplotlib.

    VTK's own sans-serif font draws ``[`` and ``]`` like parentheses and
    lacks many characters (``²``, ``≥``); DejaVu Sans has Latin, Greek and
    Cyrillic (not CJK).

    Returns
    -------
    str or None
        The ``.ttf`` file, or None if matplotlib's copy is missing.
    """
    import matplotlib as mpl

    path = Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return str(path) if path.is_file() else None


def font_file(*texts: str) -> str | None:
    """The font file for VTK to draw ``texts`` with, all in one font.

    VTK has no font fallback: texts with CJK characters are drawn wholly in
    the CJK font (`cjk_font`), others in DejaVu Sans (`dejavu_file`).

    Parameters
    ----------
    *texts
        The texts of one VTK text property (a title, a legend's labels).

    Returns
    -------
    str or None
        A font file; None leaves VTK's own font (no DejaVu Sans either).
    """
    font = cjk_font_for(*texts)
    return dejavu_file() if font is None else font.path


def fit_figure_fonts(figure: Artist) -> None:
    """Let every text of ``figure`` with CJK characters fall back on a CJK font.

    The CJK font's family is appended to the family list of those texts
    (titles, legend entries, labels): matplotlib draws each character from
    the first font that has it. Texts without CJK characters are untouched.
    Call it once the texts are made; without a CJK font it warns (see
    `cjk_font_for`).

    Parameters
    ----------
    figure
        A matplotlib figure (or any artist) whose texts to fit.
    """
    from matplotlib.text import Text

    texts = [t for t in figure.findobj(Text) if has_cjk(t.get_text())]
    font = cjk_font_for(*(t.get_text() for t in texts))
    if font is None:
        return
    for text in texts:
        family = list(text.get_fontfamily())
        if font.family not in family:
            text.set_fontfamily([*family, font.family])


def _cjk_glyph(message: str) -> bool:
    match = _GLYPH_WARNING.match(message)
    return match is not None and has_cjk(chr(int(match.group(1))))


@contextmanager
def quiet_missing_glyphs() -> Iterator[None]:
    """Without a CJK font, drop matplotlib's warnings of missing CJK characters.

    matplotlib warns once for every character its fonts lack; when no CJK
    font is installed, the one `FontWarning` of `cjk_font_for` says it all.
    Other warnings raised in the block are given again as they came. With a
    CJK font, nothing is dropped.

    Yields
    ------
    None
    """
    if cjk_font() is not None:
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if not _cjk_glyph(str(w.message)):
            warnings.warn_explicit(
                w.message, w.category, w.filename, w.lineno, source=w.source
            )
