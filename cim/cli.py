"""The ``cim`` command line.

Exit codes: 0 on success, 2 on bad input (with a one-line reason on stderr
and no traceback), 1 on an unexpected internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


class _Progress:
    """Step-by-step progress on stderr (the library itself only logs)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        t0 = time.perf_counter()
        if not self.quiet:
            print(f"{what} ...", end="", file=sys.stderr, flush=True)
        try:
            yield
        except BaseException:
            if not self.quiet:
                print(" failed", file=sys.stderr, flush=True)
            raise
        if not self.quiet:
            print(
                f" done ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True
            )


def _show_warnings(caught: list[warnings.WarningMessage], quiet: bool) -> None:
    if quiet:
        return
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)


def _format_info(s: dict[str, Any]) -> str:
    lines = [
        f"twin        {s['name']}",
        f"CRS         {s['crs']} ({s['crs_name']})",
    ]
    if s["bounds"]:
        b = s["bounds"]
        lines.append(
            f"bounds      x {b[0]:.1f} .. {b[2]:.1f}, y {b[1]:.1f} .. {b[3]:.1f} m"
        )
    lines.append(
        f"site area   {s['site_area_m2']:,.0f} m2 ({s['site_area_m2'] / 1e4:.2f} ha)"
    )
    lines.append("layers")
    for name, n in s["layers"].items():
        lines.append(f"  {name:<12}{n:>8,}")
    net = s["network"]
    lines.append(f"  {'network':<12}{net['nodes']:>8,} nodes {net['edges']:,} edges")
    comps = s.get("network_component_sizes", [])
    if s.get("network_components", 0) > 1:
        lines.append(
            f"  {'':<12}{s['network_components']} components "
            f"(largest {comps[0]:,} nodes; others {', '.join(map(str, comps[1:5]))}"
            f"{' ...' if s['network_components'] > 5 else ''})"
        )
    if s.get("elements"):
        lines.append(f"  {'elements':<12}{s['elements']:>8,}")
    nb = s["layers"]["buildings"]
    lines.append(
        f"heights     {s['heights_estimated']:,} of {nb:,} estimated "
        f"({s['heights_from_levels']:,} from levels, {s['heights_default']:,} default)"
    )
    lines.append(
        f"households  {s['households']:,} ({s['households_estimated']:,} buildings "
        "estimated from floor area)"
    )
    if s["facilities_by_category"]:
        cats = ", ".join(f"{k} {v}" for k, v in s["facilities_by_category"].items())
        lines.append(f"facilities  {cats}")
    if s["sources"]:
        lines.append(f"sources     {', '.join(s['sources'])}")
    return "\n".join(lines)


def _cmd_import_osm(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.twin import Twin

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with progress.step(f"reading {args.file}"):
            twin = Twin.from_osm(args.file, crs=args.crs, name=args.name)
        with progress.step(f"writing {args.output}"):
            twin.save(args.output)
    _show_warnings(caught, args.quiet)
    print(_format_info(twin.summary()))
    return 0


def _import_with_areas(
    args: argparse.Namespace, progress: _Progress, build: Any, what: str
) -> int:
    from cim.takeoff import with_floor_areas

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with progress.step(f"reading {args.file}"):
            twin = build()
        with progress.step(f"floor-area take-off ({args.rules})"):
            twin = with_floor_areas(twin, args.rules)
        with progress.step(f"writing {args.output}"):
            twin.save(args.output)
    _show_warnings(caught, args.quiet)
    print(_format_info(twin.summary()))
    b = twin.buildings
    print(
        f"{what:<12}volume {b['volume_m3'].sum():,.1f} m3, gross floor area "
        f"{b['gross_floor_area_m2'].sum():,.1f} m2, FAR-counted "
        f"{b['far_area_m2'].sum():,.1f} m2 ({args.rules})"
    )
    return 0


def _cmd_import_ifc(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.ifc import twin_from_ifc

    return _import_with_areas(
        args,
        progress,
        lambda: twin_from_ifc(args.file, crs=args.crs, name=args.name),
        "IFC",
    )


def _cmd_import_cityjson(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.cityjson import twin_from_cityjson

    return _import_with_areas(
        args,
        progress,
        lambda: twin_from_cityjson(
            args.file, crs=args.crs, lod=args.lod, name=args.name
        ),
        "CityJSON",
    )


def _cmd_info(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        twin = read_gpkg(args.file)
    _show_warnings(caught, args.quiet)
    s = twin.summary()
    print(json.dumps(s, ensure_ascii=False, indent=2) if args.json else _format_info(s))
    return 0


def _cmd_takeoff(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.takeoff import twin_takeoff

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        twin = read_gpkg(args.file)
        with progress.step(f"take-off with rulebook {args.rules}"):
            result = twin_takeoff(twin, args.rules)
    _show_warnings(caught, args.quiet)
    out = Path(args.out)
    _write_csv_atomic(result.breakdown, out)
    by = result.by_building
    n_unverified = int(
        (~(result.breakdown["verified"] & result.breakdown["gfa_verified"])).sum()
    )
    print(f"rulebook         {result.rulebook} (chain: {' > '.join(result.chain)})")
    print(f"buildings        {len(by):,}")
    print(f"elements         {len(result.breakdown):,}")
    print(f"gross floor area {result.gross_floor_area_m2:,.1f} m2")
    print(f"FAR-counted area {result.far_area_m2:,.1f} m2")
    if n_unverified:
        print(f"unverified       {n_unverified:,} elements decided by unverified rules")
    print(f"wrote {out}")
    return 0


def _write_csv_atomic(frame: Any, path: Path) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cmd_render(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.viz.render import render

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        twin = read_gpkg(args.file)
        if args.rules:
            from cim.takeoff import with_floor_areas

            twin = with_floor_areas(twin, args.rules)
        with progress.step(f"rendering {args.output}"):
            render(twin, color=args.color, path=args.output, camera=args.camera)
    _show_warnings(caught, args.quiet)
    print(f"wrote {args.output}")
    return 0


def _cmd_export(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.io.mesh import write_mesh

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        twin = read_gpkg(args.file)
        with progress.step(f"writing {args.output}"):
            write_mesh(twin, args.output, lod=args.lod)
    _show_warnings(caught, args.quiet)
    print(f"wrote {args.output}")
    return 0


def _cmd_demo(args: argparse.Namespace, progress: _Progress) -> int:
    from cim import datasets

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with progress.step(f"loading sample {args.sample!r}"):
        twin = datasets.load(args.sample)
    with progress.step(f"saving the twin to {out / 'site.gpkg'}"):
        twin.save(out / "site.gpkg")
    from cim.takeoff import twin_takeoff

    with progress.step("floor-area take-off (zhejiang-future-community)"):
        result = twin_takeoff(twin, "zhejiang-future-community")
    _write_csv_atomic(result.breakdown, out / "takeoff.csv")
    from cim.takeoff import with_floor_areas
    from cim.viz.maps import save_map
    from cim.viz.render import render

    with progress.step("3D picture and map"):
        pictured = with_floor_areas(twin, "zhejiang-future-community")
        render(pictured, color="height_m", path=out / "view_height.png")
        render(pictured, color="use", path=out / "view_use.png")
        save_map(twin, out / "map.png", column="height_m")
    s = twin.summary()
    s["takeoff"] = {
        "rulebook": result.rulebook,
        "gross_floor_area_m2": round(result.gross_floor_area_m2, 1),
        "far_area_m2": round(result.far_area_m2, 1),
        "site_far": round(result.far_area_m2 / s["site_area_m2"], 3)
        if s["site_area_m2"]
        else None,
    }
    (out / "summary.json").write_text(
        json.dumps(s, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / "summary.txt").write_text(_format_info(s) + "\n", encoding="utf-8")
    print(_format_info(s))
    tk = s["takeoff"]
    print(
        f"take-off    {tk['gross_floor_area_m2']:,.0f} m2 gross, "
        f"{tk['far_area_m2']:,.0f} m2 FAR-counted ({tk['rulebook']}); "
        f"site FAR {tk['site_far']}"
    )
    print(f"\nwrote to {out}/: " + ", ".join(sorted(p.name for p in out.iterdir())))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cim",
        description="Community information model (CIM) digital twin engine.",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or warnings")
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="import data into a twin GeoPackage")
    isub = imp.add_subparsers(dest="format", required=True)
    osm = isub.add_parser("osm", help="import an OpenStreetMap .osm or .osm.pbf file")
    osm.add_argument("file", help="the .osm or .osm.pbf file (only read)")
    osm.add_argument("-o", "--output", required=True, help="target GeoPackage")
    osm.add_argument(
        "--crs",
        default=None,
        help="metric CRS, e.g. 4549 or EPSG:32650 (default: local UTM)",
    )
    osm.add_argument("--name", default=None, help="twin name (default: file stem)")
    osm.set_defaults(func=_cmd_import_osm)

    cj = isub.add_parser("cityjson", help="import a CityJSON 1.1/2.0 file")
    cj.add_argument("file", help="the .city.json file (only read)")
    cj.add_argument("-o", "--output", required=True, help="target GeoPackage")
    cj.add_argument(
        "--crs", default=None, help="CRS when the file states none, e.g. 28992"
    )
    cj.add_argument("--lod", default=None, help="level of detail (default: highest)")
    cj.add_argument("--name", default=None, help="twin name")
    cj.add_argument(
        "--rules",
        default="gbt50353-2013",
        help="rulebook for far_area_m2 (default: gbt50353-2013)",
    )
    cj.set_defaults(func=_cmd_import_cityjson)

    ifc = isub.add_parser(
        "ifc", help="import an IFC building model (needs cim-twin[bim])"
    )
    ifc.add_argument("file", help="the .ifc file (only read)")
    ifc.add_argument("-o", "--output", required=True, help="target GeoPackage")
    ifc.add_argument("--crs", default=None, help="metric CRS (default: local UTM)")
    ifc.add_argument("--name", default=None, help="twin name")
    ifc.add_argument(
        "--rules",
        default="gbt50353-2013",
        help="rulebook for far_area_m2 (default: gbt50353-2013)",
    )
    ifc.set_defaults(func=_cmd_import_ifc)

    info = sub.add_parser("info", help="summarise a twin GeoPackage")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_cmd_info)

    tk = sub.add_parser(
        "takeoff", help="floor-area take-off: every area element classified"
    )
    tk.add_argument("file", help="twin GeoPackage (only read)")
    tk.add_argument(
        "--rules",
        default="gbt50353-2013",
        help="rulebook id or .toml path (default: gbt50353-2013)",
    )
    tk.add_argument("--out", required=True, help="breakdown CSV, one row per element")
    tk.set_defaults(func=_cmd_takeoff)

    rd = sub.add_parser("render", help="off-screen 3D picture of a twin (PNG)")
    rd.add_argument("file", help="twin GeoPackage (only read)")
    rd.add_argument("--color", default="height_m", help="buildings column to colour by")
    rd.add_argument("-o", "--output", required=True, help="target .png")
    rd.add_argument(
        "--camera",
        default="iso",
        choices=["iso", "top", "south", "north", "east", "west"],
        help="view (default: iso)",
    )
    rd.add_argument(
        "--rules",
        default=None,
        help="add gross_floor_area_m2 and far_area_m2 from this rulebook first",
    )
    rd.set_defaults(func=_cmd_render)

    ex = sub.add_parser(
        "export", help="export 3D buildings to glTF (.glb/.gltf) or OBJ"
    )
    ex.add_argument("file", help="twin GeoPackage (only read)")
    ex.add_argument("-o", "--output", required=True, help="target .glb, .gltf or .obj")
    ex.add_argument("--lod", default="best", choices=["best", "1", "2"])
    ex.set_defaults(func=_cmd_export)

    demo = sub.add_parser("demo", help="run the engine on the bundled sample")
    demo.add_argument("--out", default="demo-output", help="output folder")
    demo.add_argument("--sample", default="beijing_haidian_cau", help="bundled sample")
    demo.set_defaults(func=_cmd_demo)
    return p


def _version() -> str:
    from cim import __version__

    return f"cim-twin {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cim`` command line.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 success, 2 bad input, 1 internal error.
    """
    from cim.errors import CIMError

    args = _parser().parse_args(argv)
    progress = _Progress(args.quiet)
    try:
        return int(args.func(args, progress))
    except KeyError as exc:  # unknown column, layer or rulebook entry
        print(f"cim: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except (CIMError, ImportError, OSError, ValueError) as exc:
        print(f"cim: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
