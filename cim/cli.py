"""The ``cim`` command line.

Exit codes: 0 on success, 2 on bad input (with a one-line reason on stderr
and no traceback), 1 on an unexpected internal error, and 141 (128 + SIGPIPE,
as for a program the closed pipe stops) without any message when standard
output is closed early, e.g. by ``cim info site.gpkg --json | head -3``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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
        except BrokenPipeError:  # stdout closed: stop without a word
            raise
        except BaseException:
            if not self.quiet:
                print(" failed", file=sys.stderr, flush=True)
            raise
        if not self.quiet:
            print(
                f" done ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True
            )


@contextlib.contextmanager
def _warnings_shown(quiet: bool) -> Iterator[None]:
    """Record the warnings of a block and show them when it ends, even by error.

    A warning that explains a failure (a repaired geometry, a site taken from
    a hull ...) reaches the user before the one-line error.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            _show_warnings(caught, quiet)


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
    if s.get("site_from"):
        from cim.io.osm import SITE_FROM

        what = SITE_FROM.get(s["site_from"], "")
        lines.append(f"site from   {s['site_from']}{f': {what}' if what else ''}")
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


def _summary(twin: Any) -> dict[str, Any]:
    """The twin's summary and where its site comes from (``site_from``).

    ``site_from`` is that of the first source that records one (an OSM
    import: ``header``, ``given``, ``buildings_hull`` ..., see
    `cim.io.osm.SITE_FROM`), else None.
    """
    s: dict[str, Any] = twin.summary()
    froms = [
        src["site_from"]
        for src in twin.metadata.get("sources", [])
        if isinstance(src, dict) and src.get("site_from")
    ]
    s["site_from"] = froms[0] if froms else None
    return s


def _cmd_import_osm(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.twin import Twin

    with _warnings_shown(args.quiet):
        with progress.step(f"reading {args.file}"):
            twin = Twin.from_osm(
                args.file, site=args.site, crs=args.crs, name=args.name
            )
        with progress.step(f"writing {args.output}"):
            twin.save(args.output)
    print(_format_info(_summary(twin)))
    return 0


def _import_with_areas(
    args: argparse.Namespace, progress: _Progress, build: Any, what: str
) -> int:
    from cim.takeoff import with_floor_areas

    with _warnings_shown(args.quiet):
        with progress.step(f"reading {args.file}"):
            twin = build()
        with progress.step(f"floor-area take-off ({args.rules})"):
            twin = with_floor_areas(twin, args.rules)
        with progress.step(f"writing {args.output}"):
            twin.save(args.output)
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

    with _warnings_shown(args.quiet):
        twin = read_gpkg(args.file)
    s = _summary(twin)
    print(json.dumps(s, ensure_ascii=False, indent=2) if args.json else _format_info(s))
    return 0


def _cmd_takeoff(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.takeoff import twin_takeoff

    with _warnings_shown(args.quiet):
        twin = read_gpkg(args.file)
        with progress.step(f"take-off with rulebook {args.rules}"):
            result = twin_takeoff(twin, args.rules)
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
    from cim.io.files import atomic_path

    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8")


def _cmd_render(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.viz.render3d import render

    with _warnings_shown(args.quiet):
        twin = read_gpkg(args.file)
        if args.rules:
            from cim.takeoff import with_floor_areas

            twin = with_floor_areas(twin, args.rules)
        with progress.step(f"rendering {args.output}"):
            render(twin, color=args.color, path=args.output, camera=args.camera)
    print(f"wrote {args.output}")
    return 0


def _cmd_export(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.io.mesh import write_mesh

    with _warnings_shown(args.quiet):
        twin = read_gpkg(args.file)
        with progress.step(f"writing {args.output}"):
            write_mesh(twin, args.output, lod=args.lod)
    print(f"wrote {args.output}")
    return 0


def _key_values(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            msg = f"invalid --param {item!r}; expected KEY=VALUE, e.g. city_size=large"
            raise ValueError(msg)
        out[key.strip()] = value.strip()
    return out


def _cmd_sunlight(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.io.results import write_sunlight_gpkg
    from cim.sunlight import day_name, parse_day, sunlight_check, sunlight_impact

    day = None if args.day is None else parse_day(args.day)
    params = _key_values(args.param)
    proposed = [i.strip() for v in args.proposed for i in v.split(",") if i.strip()]
    options: dict[str, Any] = {
        "day": day,
        "year": args.year,
        "step_min": args.step_min,
        "threshold_params": params,
    }
    impact = None
    with _warnings_shown(args.quiet):
        with progress.step(f"reading {args.file}"):
            twin = read_gpkg(args.file)
            base = None if args.baseline is None else read_gpkg(args.baseline)
        with progress.step(f"sunlight check ({args.rules})"):
            check = sunlight_check(twin, args.rules, **options)
        if proposed or base is not None:
            what = (
                f"without {', '.join(proposed)}"
                if proposed
                else f"against {args.baseline}"
            )
            with progress.step(f"impact on existing windows ({what})"):
                if proposed:
                    impact = sunlight_impact(twin, proposed, args.rules, **options)
                else:
                    assert base is not None
                    impact = sunlight_impact(base, twin, args.rules, **options)
        with progress.step(f"writing {args.out}"):
            write_sunlight_gpkg(args.out, check=check, impact=impact)
        if args.png or args.map:
            from cim.viz.sunlight import render_sunlight, save_sunlight_map

            shown = check if impact is None else impact
            with progress.step("pictures"):
                if args.png:
                    render_sunlight(twin, shown, path=args.png)
                if args.map:
                    save_sunlight_map(twin, shown, args.map)
    loc = check.location
    print(
        f"site        {loc.lon:.4f} E, {loc.lat:.4f} N (true north "
        f"{loc.north_angle_deg:+.2f} deg from grid north), year {check.year}"
    )
    for row in check.rules.itertuples():
        print(
            f"rule        {row.rule_id} ({row.rulebook}): {day_name(str(row.day))} "
            f"{row.date}, {row.window_start_h:g}-{row.window_end_h:g} h true solar "
            f"time, >= {row.threshold_h:g} h"
        )
        print(f"            {row.clause}")
        print(
            f"            {row.n_buildings:,} buildings, {row.n_buildings_failed:,} "
            f"fail; {row.n_points:,} points, {row.n_points_failed:,} fail"
        )
        failed = check.buildings[
            (check.buildings["rule_id"] == row.rule_id) & ~check.buildings["passed"]
        ]["building_id"].tolist()
        if failed:
            more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
            print(f"            failing: {', '.join(failed[:10])}{more}")
    for row in check.skipped.itertuples():
        print(f"skipped     {row.rule_id}: {row.reason}")
    if impact is not None:
        print(f"impact      of {', '.join(impact.proposed)} on existing windows")
        for rid in impact.rules["rule_id"]:
            lost = impact.lost[impact.lost["rule_id"] == rid]
            b = impact.buildings[impact.buildings["rule_id"] == rid]
            now = b[b["status"] == "lost"]["building_id"].tolist()
            print(
                f"            {rid}: {len(lost):,} windows of "
                f"{lost['building_id'].nunique():,} buildings lose compliance; "
                f"buildings that fail now: {', '.join(now) or 'none'}"
            )
        for row in impact.blockers.itertuples():
            print(
                f"            blocked by {row.building_id}: {row.n_points_lost:,} "
                f"windows, buildings {row.buildings_lost or 'none'}"
            )
    print(f"wrote {args.out}")
    return 0


def _node_id(text: str) -> Any:
    return int(text) if text.lstrip("-").isdigit() else text


def _circles_map(twin: Any, result: Any, path: Path) -> None:
    """Buildings coloured by the categories reached within the first circle."""
    from cim.viz.maps import save_map

    first = f"{result.minutes[0]:g}min"
    present = [c for c, n in result.coverage["facilities"].items() if n > 0]
    column = f"categories_within_{first}"
    b = result.buildings
    reached = sum((b[f"count_{c}_{first}"] > 0).astype(int) for c in present)
    shown = twin.with_layer(
        "buildings", twin.buildings.assign(**{column: reached}), estimate=False
    )
    # save_map writes through cim.viz.save_figure: atomically, with Chinese
    # names in a CJK font (one FontWarning, not one per character, without).
    save_map(
        shown,
        path,
        figsize=(10.0, 8.0),
        dpi=150.0,
        column=column,
        title=f"{twin.name}: facility categories within {result.minutes[0]:g} min "
        f"({result.mode}{', ' + result.time if result.time else ''})",
    )


def _cmd_circles(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.io.gpkg import read_gpkg
    from cim.io.results import write_circles_gpkg
    from cim.network import travel_circles
    from cim.network.modes import parse_time

    if args.time is not None:
        parse_time(args.time)  # fail early on a bad time
    gates = {_node_id(g): True for g in args.open_gate}
    gates.update({_node_id(g): False for g in args.close_gate})
    out = Path(args.out)
    picture = Path(args.map) if args.map else out.with_suffix(".png")
    with _warnings_shown(args.quiet):
        with progress.step(f"reading {args.file}"):
            twin = read_gpkg(args.file)
        what = f"{args.mode} circles of {', '.join(f'{m:g}' for m in args.minutes)} min"
        with progress.step(what):
            result = travel_circles(
                twin,
                minutes=args.minutes,
                mode=args.mode,
                time=args.time,
                gates=gates or None,
                isochrones=not args.no_isochrones,
            )
        with progress.step(f"writing {out}"):
            write_circles_gpkg(result, out)
        with progress.step(f"map {picture}"):
            _circles_map(twin, result, picture)
    b = result.buildings
    flagged = int(b["snap_flagged"].sum())
    print(
        f"circles     {result.mode}, {', '.join(f'{m:g}' for m in result.minutes)} "
        f"min{', at ' + result.time if result.time else ''}; "
        f"{len(b):,} buildings, weighted by {result.weight}"
    )
    if result.closed_gates:
        shown = ", ".join(map(str, result.closed_gates[:8]))
        print(f"gates       {len(result.closed_gates)} closed: {shown}")
    print(
        f"snapping    median access {b['access_m'].median():.1f} m; {flagged} "
        "buildings flagged (over 50 m or off the network)"
    )
    cov = result.coverage[result.coverage["facilities"] > 0]
    head = "".join(f"{'share ' + f'{m:g}' + ' min':>14}" for m in result.minutes)
    print(f"{'category':<18}{'facilities':>10}{head}")
    for cat, row in cov.iterrows():
        shares = "".join(f"{row[f'share_{m:g}min']:>14.1%}" for m in result.minutes)
        print(f"{cat!s:<18}{int(row['facilities']):>10}{shares}")
    print(f"wrote {out} and {picture}")
    return 0


def _check_summary(report: Any, show: int = 20) -> list[str]:
    counts = report.counts()
    book = report.rulebook
    lines = [
        f"rulebook    {book.id} (chain: {' > '.join(book.chain)})",
        "rows        "
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items()),
    ]
    for scope in ("site", "parcel"):
        status = report.summary(scope)["status"]
        if len(status) > show:
            text = ", ".join(f"{n:,} {k}" for k, n in status.value_counts().items())
        else:
            text = ", ".join(f"{i} {s}" for i, s in status.items())
        if len(status):
            lines.append(f"{scope + 's':<12}{text}")
    fails = report.failures()
    for r in fails.head(show).itertuples():
        limit = (
            f"{r.limit[0]:g}-{r.limit[1]:g}"
            if isinstance(r.limit, tuple)
            else f"{r.op} {r.limit:g}"
        )
        lines.append(
            f"fail        {r.feature_id}: {r.rule_id} {r.indicator} {r.value:.4g} "
            + (f"[{r.basis}] " if r.basis else "")
            + f"(limit {limit}; {r.clause})"
        )
    if len(fails) > show:
        lines.append(f"            ... and {len(fails) - show:,} more failures")
    rows = report.rows
    why = rows.loc[rows["status"] == "not_evaluated"].groupby("reason").size()
    for reason, n in why.items():
        lines.append(f"not eval.   {n:,} rows: {reason}")
    shown = " ".join(str(r.clause) for r in fails.head(show).itertuples())
    if any(tag in shown for tag in ("[M]", "[GAP]", " M]")):
        from cim.report import SOURCE_TAGS

        lines.append(f"tags        {SOURCE_TAGS}")
    return lines


def _cmd_check(args: argparse.Namespace, progress: _Progress) -> int:
    from cim.check import check
    from cim.io.gpkg import read_gpkg

    params: dict[str, Any] = _key_values(args.param)
    if args.climate_zone is not None:
        params["climate_zone"] = args.climate_zone
    with _warnings_shown(args.quiet):
        with progress.step(f"reading {args.file}"):
            twin = read_gpkg(args.file)
        with progress.step(f"checking against {args.rules}"):
            report = check(twin, args.rules, params=params)
        if args.json:
            with progress.step(f"writing {args.json}"):
                report.to_json(args.json)
        if args.html:
            with progress.step(f"writing {args.html}"):
                report.to_html(args.html)
    print("\n".join(_check_summary(report)))
    return 1 if args.strict and not report.passed else 0


def _cmd_scenario(args: argparse.Namespace, progress: _Progress) -> int:
    from scenarios._cli import scenario_command

    with _warnings_shown(args.quiet):
        text = scenario_command(args, progress.step)
    print(text)
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
    from cim.viz.render3d import render

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
    from cim._assets import asset_path
    from cim.check import check
    from cim.io.gpkg import read_gpkg

    with progress.step(
        "compliance check of the pilot design (zhejiang-future-community)"
    ):
        pilot = read_gpkg(asset_path("pilot", "hangzhou_pilot.gpkg"))
        report = check(pilot, "zhejiang-future-community")
        report.to_html(out / "compliance.html")
        report.to_json(out / "compliance.json")
    print("\ncompliance  pilot design (illustrative), assets/pilot/hangzhou_pilot.gpkg")
    print("\n".join(_check_summary(report)))
    from cim.io.results import write_circles_gpkg
    from cim.network import travel_circles
    from cim.sunlight import sunlight_check

    with progress.step("sunlight of the pilot design (hangzhou, Great Cold day)"):
        sun = sunlight_check(pilot, "hangzhou", day="great_cold")
        sun.save(out / "sun.gpkg")
    sb = sun.buildings
    print(
        f"\nsunlight    pilot, Hangzhou rules: {len(sun.points):,} sill points, "
        f"{len(sb):,} building x rule rows, {int((~sb['passed'].astype(bool)).sum())} "
        "failing (advisory)"
    )
    with progress.step("5/10/15-minute walking circles of the sample"):
        circles = travel_circles(twin, minutes=(5, 10, 15), mode="walk")
        write_circles_gpkg(circles, out / "circles.gpkg")
    cov = circles.coverage
    wanted = ("kindergarten", "primary_school", "bus_stop", "shop")
    shown = cov.loc[[c for c in wanted if c in cov.index]]
    print("circles     share of households within a 5 / 10 / 15-minute walk:")
    for cat, row in shown.iterrows():
        shares = " / ".join(f"{row[f'share_{m}min']:.0%}" for m in (5, 10, 15))
        print(f"  {cat!s:<16}{shares}")
    from scenarios.renovation import demo as renovation_demo

    with progress.step("renovation packages for the sample old estate"):
        ranking = renovation_demo(out)
    print("\nrenovation  sample old estate (synthetic; placeholder costs)")
    print(ranking)
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
    osm.add_argument(
        "--site",
        default=None,
        metavar="FILE",
        help="the study area: a polygon layer file (GeoPackage, GeoJSON, "
        "Shapefile ..., only read), used instead of the extract's bounds",
    )
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

    ck = sub.add_parser(
        "check",
        help="compliance check against a rulebook: JSON and HTML reports",
        description="Check a twin against a rulebook. Exits 0 whether or not "
        "rules fail (1 with --strict if any fails; 2 on bad input).",
    )
    ck.add_argument("file", help="twin GeoPackage (only read)")
    ck.add_argument(
        "--rules",
        default="zhejiang-future-community",
        help="rulebook id or .toml path (default: zhejiang-future-community)",
    )
    ck.add_argument(
        "--climate-zone",
        default=None,
        help="building climate zone I-VII (Hangzhou: III)",
    )
    ck.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="planning parameter, e.g. life_circle=5, development=renewal (repeatable)",
    )
    ck.add_argument("--json", default=None, help="write the rows as JSON")
    ck.add_argument("--html", default=None, help="write the HTML report")
    ck.add_argument("--strict", action="store_true", help="exit 1 if any rule fails")
    ck.set_defaults(func=_cmd_check)

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

    sun = sub.add_parser(
        "sunlight",
        help="hours of sun at ground-floor windows against a rulebook's sunlight rules",
    )
    sun.add_argument("file", help="twin GeoPackage (only read)")
    sun.add_argument(
        "--rules",
        default="hangzhou",
        help="rulebook id or .toml path with sunlight rules (default: hangzhou)",
    )
    sun.add_argument(
        "--day",
        default=None,
        help="great-cold or winter-solstice: check only that day's rules "
        "(default: every sunlight rule, each on its own day)",
    )
    sun.add_argument(
        "--year", type=int, default=None, help="year of the day (default: this year)"
    )
    sun.add_argument(
        "--step-min",
        type=float,
        default=None,
        help="time step [min] instead of the rules' (Hangzhou: at most 5)",
    )
    sun.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="parameter of a tabled threshold, e.g. city_size=large (repeatable)",
    )
    before = sun.add_mutually_exclusive_group()
    before.add_argument(
        "--proposed",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="building ids of a proposed design in FILE: list the existing windows "
        "that lose compliance with them (repeatable)",
    )
    before.add_argument(
        "--baseline",
        default=None,
        help="twin GeoPackage of the existing situation; FILE is the proposal",
    )
    sun.add_argument("--out", required=True, help="target GeoPackage (sun.gpkg)")
    sun.add_argument("--png", default=None, help="3D picture of the windows (.png)")
    sun.add_argument("--map", default=None, help="map of failing windows (.png)")
    sun.set_defaults(func=_cmd_sunlight)

    circ = sub.add_parser(
        "circles",
        help="travel circles: nearest facility, counts within N minutes, per building",
    )
    circ.add_argument("file", help="twin GeoPackage (only read)")
    circ.add_argument(
        "--minutes",
        nargs="+",
        type=float,
        default=[5.0, 10.0, 30.0],
        help="circle sizes in minutes (default: 5 10 30)",
    )
    circ.add_argument(
        "--mode", choices=["walk", "bike", "drive"], default="walk", help="travel mode"
    )
    circ.add_argument(
        "--time", default=None, help="time of day for gates, e.g. 22:30 or 'Sa 22:30'"
    )
    circ.add_argument(
        "--open-gate",
        action="append",
        default=[],
        metavar="NODE",
        help="treat this gate node as open (repeatable)",
    )
    circ.add_argument(
        "--close-gate",
        action="append",
        default=[],
        metavar="NODE",
        help="treat this gate node as closed (repeatable)",
    )
    circ.add_argument(
        "--no-isochrones", action="store_true", help="skip the isochrones layer"
    )
    circ.add_argument("--out", required=True, help="target GeoPackage (circles.gpkg)")
    circ.add_argument(
        "--map", default=None, help="map picture (default: the --out name with .png)"
    )
    circ.set_defaults(func=_cmd_circles)

    scn = sub.add_parser(
        "scenario", help="plans as edits: compare, branches, renovation packages"
    )
    ssub = scn.add_subparsers(dest="action", required=True)
    srun = ssub.add_parser("run", help="apply plans to a twin and compare them")
    srun.add_argument("plans", nargs="+", help="scenario .toml/.json files (read)")
    srun.add_argument("--twin", required=True, help="baseline twin GeoPackage")
    srun.add_argument("--html", default=None, help="write the comparison report")
    srun.add_argument("--csv", default=None, help="write the tidy indicator table")
    srun.add_argument(
        "--indicators", default=None, help="comma-separated modules (default: all)"
    )
    srun.add_argument("--rules", default=None, help="rulebook of take-off, compliance")
    srun.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="planning parameter of the compliance check, e.g. climate_zone=III",
    )
    srun.add_argument(
        "--save-branch",
        action="store_true",
        help="also save the plans as branches in the twin GeoPackage (atomic)",
    )
    srun.add_argument("--overwrite", action="store_true", help="replace branches")
    sbr = ssub.add_parser("branches", help="list the branches of a twin GeoPackage")
    sbr.add_argument("twin", help="twin GeoPackage (only read)")
    sco = ssub.add_parser("checkout", help="write the twin of a branch")
    sco.add_argument("twin", help="twin GeoPackage (only read)")
    sco.add_argument("name", help="branch name")
    sco.add_argument("-o", "--output", required=True, help="target GeoPackage")
    sre = ssub.add_parser(
        "renovate", help="classify buildings and rank renovation packages"
    )
    sre.add_argument(
        "twin", nargs="?", default=None, help="twin GeoPackage (default: sample estate)"
    )
    sre.add_argument("--packages", default=None, help="comma-separated package ids")
    sre.add_argument("--far-uplift", type=float, default=None, help="FAR uplift [-]")
    sre.add_argument("--sale-price", type=float, default=None, help="CNY per m2")
    sre.add_argument("--year", type=int, default=None, help="reference year")
    sre.add_argument("--rules", default=None, help="rulebook of take-off, compliance")
    sre.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="planning parameter of the compliance check, e.g. climate_zone=III",
    )
    sre.add_argument("--indicators", default=None, help="comma-separated modules")
    sre.add_argument("--html", default=None, help="write the report")
    scn.set_defaults(func=_cmd_scenario)

    demo = sub.add_parser("demo", help="run the engine on the bundled sample")
    demo.add_argument("--out", default="demo-output", help="output folder")
    demo.add_argument("--sample", default="beijing_haidian_cau", help="bundled sample")
    demo.set_defaults(func=_cmd_demo)
    return p


def _version() -> str:
    from cim import __version__

    return f"cim-twin {__version__}"


#: Exit code when standard output is closed early (128 + SIGPIPE).
_EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cim`` command line.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 success, 2 bad input, 1 internal error, 141 standard
        output closed early.
    """
    try:
        try:
            return _run(argv)
        finally:
            # Output still buffered goes now, so that a closed pipe shows here
            # (argparse's --help and --version leave by SystemExit).
            sys.stdout.flush()
    except BrokenPipeError:
        # Standard output was closed (`cim info x --json | head -3`): stop
        # quietly, as the Python docs advise (signal module, "Note on
        # SIGPIPE"): point stdout at devnull so that the flush at exit does
        # not fail again.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return _EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    from cim.errors import CIMError

    args = _parser().parse_args(argv)
    progress = _Progress(args.quiet)
    try:
        return int(args.func(args, progress))
    except BrokenPipeError:
        raise
    except KeyError as exc:  # unknown column, layer or rulebook entry
        print(f"cim: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except (CIMError, ImportError, OSError, ValueError) as exc:
        print(f"cim: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
