"""Pictures of the twin: 3D renderings (pyvista) and 2D maps (matplotlib).

Importing `cim.viz` is light: `render`, `plot_layers`, `save_map` and the
rest are loaded on first use (module ``__getattr__``), and pyvista and
matplotlib only when they are called. `save_figure` writes any matplotlib
figure as the maps are written: atomically, with Chinese text in a CJK font.

Examples
--------
>>> import cim
>>> from cim.viz import render
>>> plotter = render(cim.datasets.load("beijing_haidian_cau"), color="use")
>>> plotter.close()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cim.viz._figure import save_figure
    from cim.viz.maps import plot_layers, save_map
    from cim.viz.render3d import render
    from cim.viz.sunlight import plot_sunlight, render_sunlight, save_sunlight_map

__all__ = [
    "plot_layers",
    "plot_sunlight",
    "render",
    "render_sunlight",
    "save_figure",
    "save_map",
    "save_sunlight_map",
]

_WHERE = {
    "render": "cim.viz.render3d",
    "plot_layers": "cim.viz.maps",
    "save_map": "cim.viz.maps",
    "render_sunlight": "cim.viz.sunlight",
    "plot_sunlight": "cim.viz.sunlight",
    "save_sunlight_map": "cim.viz.sunlight",
    "save_figure": "cim.viz._figure",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
