"""GeoPackages of results (cim.io.results): layers, columns and atomic writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import cim
import cim.io.results
from cim.io.results import write_circles_gpkg, write_sunlight_gpkg
from cim.network import travel_circles
from cim.network.circles import TravelCircles
from cim.rules import Rule
from cim.sunlight import (
    SunlightCheck,
    SunlightImpact,
    sunlight_check,
    sunlight_impact,
    write_sunlight,
)

CRS = 4549
X, Y = 516_000.0, 3_350_000.0
YEAR = 2026
#: A residential slab with a tower due south of it (as in test_sunlight_twin).
BOXES = {
    "slab": ((X - 30, Y, X + 30, Y + 12), 18.0, "residential"),
    "tower": ((X - 25, Y - 50, X + 25, Y - 30), 100.0, "commercial"),
}
SUN_LAYERS = ["points", "buildings", "rules", "run"]
IMPACT_LAYERS = [
    "impact_points",
    "lost",
    "lost_segments",
    "impact_buildings",
    "impact_rules",
    "blockers",
]
OLD = b"previous contents"


@pytest.fixture(scope="module")
def site() -> cim.Twin:
    buildings = gpd.GeoDataFrame(
        {
            "building_id": list(BOXES),
            "height_m": [h for _, h, _ in BOXES.values()],
            "floors": pd.array([6, 33], dtype="Int64"),
            "use": [u for _, _, u in BOXES.values()],
            "households": pd.array([10, 10], dtype="Int64"),
        },
        geometry=[shapely.box(*b) for b, _, _ in BOXES.values()],
        crs=CRS,
    )
    return cim.Twin(crs=CRS, name="results-test", buildings=buildings)


@pytest.fixture(scope="module")
def rule() -> Rule:
    return Rule(
        id="sun",
        indicator="sunlight_hours",
        scope="building",
        op=">=",
        threshold=2.0,
        unit="h",
        clause="test",
        verified=False,
        params={"step_min": 5, "spacing_m": 5, "window_h": [9, 15]},
    )


@pytest.fixture(scope="module")
def check(site: cim.Twin, rule: Rule) -> SunlightCheck:
    return sunlight_check(site, rule, year=YEAR)


@pytest.fixture(scope="module")
def impact(site: cim.Twin, rule: Rule) -> SunlightImpact:
    return sunlight_impact(site, ["tower"], rule, year=YEAR)


@pytest.fixture(scope="module")
def circles() -> TravelCircles:
    twin = cim.datasets.load("beijing_haidian_cau")
    return travel_circles(twin, minutes=(5,), isochrones=True)


def _layers(path: Path) -> dict[str, str | None]:
    """Geometry type by layer name (None for attribute tables)."""
    return dict(pyogrio.list_layers(path))


def _attributes(frame: pd.DataFrame) -> list[str]:
    """The non-geometry columns, in order."""
    return [c for c in frame.columns if c != "geometry"]


def _fail_on_second_layer(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make pyogrio fail after the first layer; return the layers written."""
    real = pyogrio.write_dataframe
    written: list[str] = []

    def write(df: Any, path: Any, *args: Any, **kwargs: Any) -> None:
        if written:
            raise OSError(28, "No space left on device")
        real(df, path, *args, **kwargs)
        written.append(kwargs["layer"])

    # geopandas' to_file looks pyogrio.write_dataframe up on each call too.
    monkeypatch.setattr(pyogrio, "write_dataframe", write)
    return written


# -- sunlight ----------------------------------------------------------------------


def test_sunlight_layers_and_columns(
    check: SunlightCheck, impact: SunlightImpact, tmp_path: Path
) -> None:
    out = write_sunlight_gpkg(tmp_path / "sun.gpkg", check=check, impact=impact)
    assert out == tmp_path / "sun.gpkg"
    layers = _layers(out)
    assert set(layers) == {*SUN_LAYERS, *IMPACT_LAYERS}
    assert layers["points"] == layers["impact_points"] == "Point Z"
    assert layers["buildings"] == "Unknown"  # Polygons and MultiPolygons as given
    assert layers["rules"] == layers["run"] == layers["blockers"] is None
    frames = {**check.layers(), **impact.layers()}
    for name, frame in frames.items():
        back = pyogrio.read_dataframe(out, layer=name)
        assert _attributes(back) == _attributes(frame), name
        assert len(back) == len(frame), name
    run = pyogrio.read_dataframe(out, layer="run")
    assert dict(zip(run["key"], run["value"], strict=True))["year"] == str(YEAR)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sun.gpkg"]


def test_sunlight_public_names_call_the_writer(
    check: SunlightCheck,
    impact: SunlightImpact,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[Any, ...]] = []
    real = cim.io.results.write_sunlight_gpkg

    def spy(path: Path, *, check: Any = None, impact: Any = None) -> Path:
        calls.append((check, impact))
        return real(path, check=check, impact=impact)

    monkeypatch.setattr(cim.sunlight, "write_sunlight_gpkg", spy)
    assert check.save(tmp_path / "a.gpkg") == tmp_path / "a.gpkg"
    assert impact.save(tmp_path / "b.gpkg") == tmp_path / "b.gpkg"
    # The deprecated alias keeps its positional signature.
    assert write_sunlight(tmp_path / "c.gpkg", check, impact) == tmp_path / "c.gpkg"
    assert calls == [(check, None), (None, impact), (check, impact)]
    assert set(_layers(tmp_path / "a.gpkg")) == set(SUN_LAYERS)
    assert set(_layers(tmp_path / "b.gpkg")) == set(IMPACT_LAYERS)
    assert set(_layers(tmp_path / "c.gpkg")) == {*SUN_LAYERS, *IMPACT_LAYERS}


def test_sunlight_data_is_keyword_only(check: SunlightCheck, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="positional"):
        write_sunlight_gpkg(tmp_path / "sun.gpkg", check)
    assert not list(tmp_path.iterdir())


def test_sunlight_needs_something_to_write(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing to write"):
        write_sunlight_gpkg(tmp_path / "sun.gpkg")
    with pytest.raises(ValueError, match="nothing to write"):
        write_sunlight(tmp_path / "sun.gpkg")
    assert not list(tmp_path.iterdir())


def test_sunlight_failed_write_keeps_the_old_file(
    check: SunlightCheck, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sun.gpkg"
    out.write_bytes(OLD)
    written = _fail_on_second_layer(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        check.save(out)
    assert written == ["points"]  # the temporary file was half written
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sun.gpkg"]


# -- travel circles ---------------------------------------------------------------


def test_circles_layers_and_columns(circles: TravelCircles, tmp_path: Path) -> None:
    assert circles.isochrones is not None
    out = write_circles_gpkg(circles, tmp_path / "circles.gpkg")
    assert out == tmp_path / "circles.gpkg"
    assert set(_layers(out)) == {"buildings", "facilities", "isochrones"}
    for name in ("buildings", "facilities", "isochrones"):
        frame = getattr(circles, name)
        back = gpd.read_file(out, layer=name)
        assert _attributes(back) == _attributes(frame), name
        assert len(back) == len(frame), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["circles.gpkg"]


def test_circles_without_isochrones(circles: TravelCircles, tmp_path: Path) -> None:
    plain = dataclasses.replace(circles, isochrones=None)
    out = write_circles_gpkg(plain, tmp_path / "c.gpkg")
    assert set(_layers(out)) == {"buildings", "facilities"}


def test_circles_failed_write_keeps_the_old_file(
    circles: TravelCircles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "circles.gpkg"
    out.write_bytes(OLD)
    written = _fail_on_second_layer(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        write_circles_gpkg(circles, out)
    assert written == ["buildings"]
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["circles.gpkg"]


def test_the_writers_create_missing_folders(
    check: SunlightCheck, circles: TravelCircles, tmp_path: Path
) -> None:
    assert write_sunlight_gpkg(tmp_path / "a" / "sun.gpkg", check=check).exists()
    assert write_circles_gpkg(circles, tmp_path / "b" / "circles.gpkg").exists()
