"""Writing matplotlib figures: atomically, with Chinese text in a CJK font.

Every 2D picture the project writes goes through `save_figure` (exported as
`cim.viz.save_figure`): the maps of `cim.viz.save_map` and
`cim.viz.save_sunlight_map`, the map of ``cim circles`` and the plans side
by side of `scenarios.Comparison.map_png`. The 3D pictures have their own
writer, `cim.viz._scene.save_screenshot`. matplotlib is not imported here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, overload

from cim.io.files import atomic_path
from cim.viz._fonts import fit_figure_fonts, quiet_missing_glyphs

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["save_figure"]


@overload
def save_figure(
    figure: Figure, path: str | os.PathLike[str], **savefig_kwargs: Any
) -> Path: ...


@overload
def save_figure(figure: Figure, path: IO[bytes], **savefig_kwargs: Any) -> None: ...


def save_figure(
    figure: Figure, path: str | os.PathLike[str] | IO[bytes], **savefig_kwargs: Any
) -> Path | None:
    """Write a matplotlib figure to an image file atomically, or to a buffer.

    Texts of the figure with Chinese characters first fall back on an
    installed CJK font (`cim.viz._fonts.fit_figure_fonts`). Without one, a
    single `cim.errors.FontWarning` (once per process) says so, and
    matplotlib's warning for each missing character is dropped.

    Parameters
    ----------
    figure
        The figure to write; a bare `matplotlib.figure.Figure` needs no
        display.
    path
        Target file; the format follows its extension (``.png``, ``.pdf``,
        ``.svg`` ...), PNG without one. An existing file is replaced only
        once the new one is complete. Or a binary file object, such as
        `io.BytesIO`, written in place (PNG unless ``format`` is given).
    **savefig_kwargs
        Passed to `matplotlib.figure.Figure.savefig` (``dpi``,
        ``bbox_inches``, ``format`` ...).

    Returns
    -------
    pathlib.Path or None
        The written file; None when ``path`` is a file object.

    Warns
    -----
    cim.errors.FontWarning
        Once per process, if a text has Chinese characters and no CJK font
        is installed.

    Examples
    --------
    >>> import io
    >>> from matplotlib.figure import Figure
    >>> figure = Figure(figsize=(2, 1))
    >>> _ = figure.add_subplot().set_title("height_m [m]")
    >>> buffer = io.BytesIO()
    >>> save_figure(figure, buffer, dpi=50)
    >>> buffer.getvalue()[1:4]
    b'PNG'
    """
    fit_figure_fonts(figure)
    if isinstance(path, str | os.PathLike):
        target = Path(path)
        savefig_kwargs.setdefault("format", target.suffix.lstrip(".") or "png")
        with (
            quiet_missing_glyphs(),
            atomic_path(target, suffix=target.suffix or ".png") as tmp,
        ):
            figure.savefig(tmp, **savefig_kwargs)
        return target
    savefig_kwargs.setdefault("format", "png")
    with quiet_missing_glyphs():
        figure.savefig(path, **savefig_kwargs)
    return None
