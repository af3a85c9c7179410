"""The ``cim`` command line: success paths and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import cim
from cim.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHU = DATA / "osm" / "china" / "shanghai_baoshan_shu.osm.pbf"


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cim.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def sample_gpkg() -> Path:
    return cim.datasets.get_path("beijing_haidian_cau")


def test_info_prints_counts_crs_and_estimates(sample_gpkg, capsys):
    assert main(["info", str(sample_gpkg)]) == 0
    out = capsys.readouterr().out
    twin = cim.read(sample_gpkg)
    s = twin.summary()
    assert "EPSG:32650" in out
    assert f"{s['layers']['buildings']:>8,}" in out
    assert (
        f"{s['heights_estimated']:,} of {s['layers']['buildings']:,} estimated" in out
    )
    assert "site area" in out


def test_info_json_is_the_summary(sample_gpkg, capsys):
    assert main(["info", "--json", str(sample_gpkg)]) == 0
    data = json.loads(capsys.readouterr().out)
    summary = json.loads(json.dumps(cim.read(sample_gpkg).summary()))
    # and where the site comes from: the bundled sample's <bounds>
    assert data == {**summary, "site_from": "header"}


def test_info_shows_where_the_site_comes_from(sample_gpkg, tmp_path, capsys):
    assert main(["info", str(sample_gpkg)]) == 0
    assert "\nsite from   header: the bounding box in the file's header" in (
        capsys.readouterr().out
    )
    # A twin that records none (not from OSM) shows no line, and null in JSON.
    twin = cim.datasets.load("hangzhou_pilot")
    assert main(["info", str(cim.datasets.get_path("hangzhou_pilot"))]) == 0
    assert "site from" not in capsys.readouterr().out
    assert main(["info", "--json", str(cim.datasets.get_path("hangzhou_pilot"))]) == 0
    assert json.loads(capsys.readouterr().out)["site_from"] is None
    assert len(twin.site) == 1


CAU = DATA / "osm" / "china" / "beijing_haidian_cau"
needs_cau = pytest.mark.skipif(
    not Path(f"{CAU}.osm.pbf").exists(), reason="shared data not present"
)


@needs_cau
def test_import_osm_without_bounds_warns_and_takes_the_site_option(tmp_path, capsys):
    import geopandas as gpd
    import shapely

    pbf, xml = f"{CAU}.osm.pbf", f"{CAU}.osm"
    assert main(["import", "osm", xml, "-o", str(tmp_path / "xml.gpkg")]) == 0
    capsys.readouterr()
    box_m2 = cim.read(tmp_path / "xml.gpkg").site_area_m2()
    # Without bounds: the buildings' hull, warned about with the fix.
    assert main(["import", "osm", pbf, "-o", str(tmp_path / "hull.gpkg")]) == 0
    out, err = capsys.readouterr()
    assert "warning: beijing_haidian_cau.osm.pbf: the file has no bounds" in err
    assert "--site FILE" in err
    assert "site from   buildings_hull" in out
    hull_m2 = cim.read(tmp_path / "hull.gpkg").site_area_m2()
    assert 1.0 * box_m2 < hull_m2 < 1.25 * box_m2  # was 48x: all nodes' hull
    # --site: the .osm's export box, as a projected GeoJSON, gives its site.
    site = tmp_path / "site.geojson"
    frame = cim.read(tmp_path / "xml.gpkg").site.to_crs(4549)
    gpd.GeoDataFrame(geometry=list(frame.geometry), crs=4549).to_file(site)
    args = ["import", "osm", pbf, "-o", str(tmp_path / "given.gpkg")]
    assert main([*args, "--site", str(site)]) == 0
    out, err = capsys.readouterr()
    assert "no bounds" not in err
    assert "site from   given" in out
    given = cim.read(tmp_path / "given.gpkg")
    assert given.metadata["sources"][0]["site_from"] == "given"
    assert given.site_area_m2() == pytest.approx(box_m2, rel=1e-9)
    assert shapely.equals_exact(
        given.site.geometry.iloc[0],
        cim.read(tmp_path / "xml.gpkg").site.geometry.iloc[0],
        tolerance=1e-6,
    )
    # A point is no site: exit 2, one line naming the layer and the fix.
    gpd.GeoDataFrame(geometry=[shapely.Point(116.35, 40.0)], crs=4326).to_file(
        tmp_path / "pt.geojson"
    )
    args = ["import", "osm", pbf, "-o", str(tmp_path / "pt.gpkg")]
    assert main([*args, "--site", str(tmp_path / "pt.geojson")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("cim: error: site file ")
    assert "not polygons; give the study area as polygons" in err[-1]
    assert not (tmp_path / "pt.gpkg").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["info", "--json"], 141),
        (["info"], 141),
        # argparse itself ignores a failed write of --help and --version.
        (["--help"], 0),
        (["--version"], 0),
    ],
    ids=["info-json", "info", "help", "version"],
)
def test_closed_stdout_stops_quietly(sample_gpkg, args, code):
    # `cim info x --json | head -3`: the reader goes away before cim writes.
    # Fails with "cim: error: [Errno 32] Broken pipe" (exit 2), or with
    # "Exception ignored ... BrokenPipeError" at exit (exit 120).
    argv = [*args, str(sample_gpkg)] if args[0] == "info" else args
    with subprocess.Popen(
        [sys.executable, "-m", "cim.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == code
    assert err == ""


@pytest.mark.skipif(not SHU.exists(), reason="shared data not present")
def test_import_osm_writes_a_twin(tmp_path):
    out = tmp_path / "shu.gpkg"
    res = _run("import", "osm", str(SHU), "-o", str(out), "--crs", "32651")
    assert res.returncode == 0, res.stderr
    assert "done" in res.stderr  # progress shown
    twin = cim.read(out)
    assert twin.crs.to_epsg() == 32651
    assert len(twin.buildings) > 50
    assert twin.metadata["sources"][0]["licence"] == "ODbL 1.0"


def test_demo_writes_summary(tmp_path):
    res = _run("demo", "--out", str(tmp_path / "demo"))
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text("utf-8"))
    assert summary["name"] == "beijing_haidian_cau"
    assert (tmp_path / "demo" / "site.gpkg").exists()
    assert "buildings" in res.stdout
    for name in (
        "takeoff.csv",
        "view_height.png",
        "view_use.png",
        "map.png",
        "compliance.html",
        "compliance.json",
        "sun.gpkg",
        "circles.gpkg",
        "renovation.html",
    ):
        assert (tmp_path / "demo" / name).stat().st_size > 0


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b""), "empty"),
        (
            lambda p: p.write_text("not a geopackage", encoding="utf-8"),
            "not a GeoPackage",
        ),
    ],
    ids=["missing", "empty", "not-gpkg"],
)
def test_info_bad_input_one_line_exit_2(tmp_path, make, expected):
    path = tmp_path / "site.gpkg"
    make(path)
    res = _run("info", str(path))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("cim: error:")
    assert expected in lines[0]
    assert str(path.name) in lines[0]


def test_warnings_before_a_failure_reach_the_user(tmp_path, monkeypatch, capsys):
    # A warning that explains the failure is shown before the one-line error,
    # not lost with the command's recorded warnings.
    import warnings

    import cim.io.gpkg

    def warn_then_fail(path):
        warnings.warn(
            "site taken from the hull of the buildings", cim.CIMWarning, stacklevel=2
        )
        raise cim.InputFileError(f"{path}: cannot read")

    monkeypatch.setattr(cim.io.gpkg, "read_gpkg", warn_then_fail)
    assert main(["info", str(tmp_path / "x.gpkg")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "warning: site taken from the hull of the buildings",
        f"cim: error: {tmp_path / 'x.gpkg'}: cannot read",
    ]
    assert main(["-q", "info", str(tmp_path / "x.gpkg")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"cim: error: {tmp_path / 'x.gpkg'}: cannot read"
    ]


def test_import_truncated_pbf_exit_2(tmp_path):
    src = cim.datasets.get_path("beijing_haidian_cau", kind="osm").read_bytes()
    bad = tmp_path / "cut.osm.pbf"
    bad.write_bytes(src[: len(src) // 2])
    res = _run("import", "osm", str(bad), "-o", str(tmp_path / "x.gpkg"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "cut.osm.pbf" in res.stderr.splitlines()[-1]
    assert not (tmp_path / "x.gpkg").exists()


def test_usage_error_exit_2():
    res = _run("frobnicate")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr


def test_takeoff_writes_breakdown_and_leaves_input_untouched(tmp_path, sample_gpkg):
    import hashlib

    import pandas as pd

    before = hashlib.sha256(sample_gpkg.read_bytes()).hexdigest()
    out = tmp_path / "takeoff.csv"
    res = _run(
        "takeoff",
        str(sample_gpkg),
        "--rules",
        "zhejiang-future-community",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    assert hashlib.sha256(sample_gpkg.read_bytes()).hexdigest() == before
    table = pd.read_csv(out)
    for col in (
        "building_id",
        "storey",
        "kind",
        "area_m2",
        "factor",
        "counted_m2",
        "rule_id",
    ):
        assert col in table.columns
    twin = cim.read(sample_gpkg)
    assert set(table["building_id"].astype(str)) == set(twin.buildings["building_id"])
    # Every storey of every simple building is one row.
    assert len(table) == int(twin.buildings["floors"].sum())
    assert f"{table['counted_m2'].sum():,.1f} m2" in res.stdout


def test_takeoff_unknown_rulebook_exit_2(tmp_path, sample_gpkg):
    res = _run(
        "takeoff",
        str(sample_gpkg),
        "--rules",
        "atlantis",
        "--out",
        str(tmp_path / "t.csv"),
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "no bundled rulebook 'atlantis'" in res.stderr.splitlines()[-1]
    assert not (tmp_path / "t.csv").exists()


IFC = DATA / "ifc" / "AC20-FZK-Haus.ifc"


@pytest.mark.skipif(not IFC.exists(), reason="shared data not present")
def test_import_ifc_carries_volume_and_floor_areas(tmp_path):
    pytest.importorskip("ifcopenshell")
    out = tmp_path / "fzk.gpkg"
    res = _run("import", "ifc", str(IFC), "-o", str(out))
    assert res.returncode == 0, res.stderr
    twin = cim.read(out)
    (row,) = twin.buildings.itertuples()
    # Hand-checked in tests/test_ifc.py: 120 + 49.08 + 31.08 / 2 (attic bands).
    assert row.gross_floor_area_m2 == pytest.approx(184.62, abs=0.01)
    assert row.far_area_m2 == pytest.approx(row.gross_floor_area_m2)
    assert row.volume_m3 > 0
    assert len(twin.elements) >= 4


BAG = DATA / "cityjson" / "3dbag_multi_lod.city.json"


@pytest.mark.skipif(not BAG.exists(), reason="shared data not present")
def test_import_cityjson_carries_volume_and_floor_areas(tmp_path):
    import json as _json

    out = tmp_path / "bag.gpkg"
    res = _run("import", "cityjson", str(BAG), "-o", str(out), "--crs", "28992")
    assert res.returncode == 0, res.stderr
    twin = cim.read(out)
    n = sum(
        1
        for o in _json.loads(BAG.read_text("utf-8"))["CityObjects"].values()
        if o["type"] == "Building"
    )
    assert len(twin.buildings) == n
    b = twin.buildings
    assert (b["volume_m3"] > 0).all()
    assert (b["far_area_m2"] <= b["gross_floor_area_m2"] + 1e-9).all()
    assert len(twin.surfaces) > 0


@pytest.mark.skipif(not BAG.exists(), reason="shared data not present")
def test_import_cityjson_without_crs_exit_2(tmp_path):
    res = _run("import", "cityjson", str(BAG), "-o", str(tmp_path / "x.gpkg"))
    assert res.returncode == 2
    assert "declares no CRS" in res.stderr.splitlines()[-1]
    assert "Traceback" not in res.stderr


def test_render_writes_png_and_unknown_column_exit_2(tmp_path, sample_gpkg):
    out = tmp_path / "view.png"
    res = _run(
        "render",
        str(sample_gpkg),
        "--color",
        "far_area_m2",
        "--rules",
        "zhejiang-future-community",
        "-o",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = _run("render", str(sample_gpkg), "--color", "nope", "-o", str(out))
    assert bad.returncode == 2
    assert "no buildings column 'nope'" in bad.stderr.splitlines()[-1]
    assert "Traceback" not in bad.stderr


def test_export_glb(tmp_path, sample_gpkg):
    import trimesh

    out = tmp_path / "site.glb"
    res = _run("export", str(sample_gpkg), "-o", str(out))
    assert res.returncode == 0, res.stderr
    scene = trimesh.load(out)
    assert len(scene.geometry) == len(cim.read(sample_gpkg).buildings)


def test_circles_map_of_a_chinese_twin_warns_once_without_a_cjk_font(
    tmp_path, monkeypatch, capsys
):
    # Without a CJK font the map of `cim circles` gives one FontWarning, not
    # one matplotlib warning per character of the twin's name in the title.
    import cim.cli
    from cim.errors import FontWarning
    from cim.viz import _fonts

    sample = cim.datasets.load("beijing_haidian_cau")
    layers = ("buildings", "parcels", "greens", "facilities", "site", "surfaces")
    zh = cim.Twin(
        crs=sample.crs,
        name="海淀试点",
        network=sample.network,
        estimate=False,
        warn_components=False,
        **{layer: sample[layer] for layer in layers},
    )
    site = zh.save(tmp_path / "zh.gpkg")
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(_fonts, "_said", set())
    shown: list = []

    def record(caught, quiet):
        shown.extend(caught)

    monkeypatch.setattr(cim.cli, "_show_warnings", record)
    out = tmp_path / "circles.gpkg"
    args = ["circles", str(site), "--minutes", "5", "--no-isochrones"]
    assert main([*args, "--out", str(out)]) == 0
    capsys.readouterr()
    assert (tmp_path / "circles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    font = [w for w in shown if issubclass(w.category, FontWarning)]
    assert len(font) == 1
    assert "海淀试点" in str(font[0].message)
    assert [str(w.message) for w in shown if w not in font] == []
