"""Smoke test of the benchmarks: each one runs at a tiny size and prints its table.

The benchmarks are run by nobody else (not by CI, not by ``make test``), so
this only checks that they still run: ``python -m benchmarks NAME`` in a
subprocess, with warnings as errors, at a size that takes seconds, exits 0
and prints its ratio lines. The ratios themselves are never asserted (the
speed targets live in the benchmarks). The Porto Alegre ones (circles,
raptor) are skipped when the shared sample data is not there.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(
    not (DATA / "porto_alegre").is_dir(), reason=f"{DATA} not found"
)

NUM = r"[\d,]+(?:\.\d+)?"
# Tiny sizes: seconds each.
SIZES = {
    "BENCH_N": "40",
    "BENCH_PARCELS": "60",
    "BENCH_BUILDINGS": "150",
    "BENCH_REPEAT": "1",
}


def _run(name: str, *, block: tuple[str, ...] = (), n: int | None = None) -> str:
    """``python -W error -m benchmarks NAME`` at the tiny size; its stdout.

    ``block`` names modules made unimportable in the subprocess (as if they
    were not installed).
    """
    env = {**os.environ, **SIZES}
    if n is not None:
        env["BENCH_N"] = str(n)
    env.pop("PYTHONWARNINGS", None)
    code = (
        "import runpy, sys\n"
        f"sys.modules.update(dict.fromkeys({list(block)!r}))\n"
        f"sys.argv = ['benchmarks', {name!r}]\n"
        "runpy.run_module('benchmarks', run_name='__main__', alter_sys=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (
        f"benchmark {name} exited {proc.returncode}\n"
        f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    )
    assert f"== bench_{name}" in proc.stdout
    return proc.stdout


def _assert_lines(out: str, patterns: list[str]) -> None:
    for pattern in patterns:
        assert re.search(pattern, out, flags=re.MULTILINE), (
            f"no line matching {pattern!r} in:\n{out[-4000:]}"
        )


def _row(label: str, n_numbers: int) -> str:
    """A table row: the label, then ``n_numbers`` numbers, nothing else."""
    return rf"^{re.escape(label)}" + rf"\s+{NUM}" * n_numbers + r"\s*$"


def test_extrusion() -> None:
    out = _run("extrusion", n=200)
    _assert_lines(
        out,
        [
            _row("shapely.area (anchor)", 3),
            _row("extrude_arrays", 3),
            _row("extrude + volume + areas (trimesh list)", 3),
            _row("extrude_arrays + volume + areas (MeshArrays)", 3),
            _row("per building: GEOS + extrude_triangulation (n=200)", 3),
        ],
    )


def test_takeoff() -> None:
    out = _run("takeoff", n=50)
    _assert_lines(
        out,
        [
            r"^50 buildings, [\d,]+ storey elements$",
            _row("shapely.area (anchor)", 3),
            _row("extrude + volume + orientation areas", 3),
            _row("storeys + take-off (zhejiang)", 3),
            _row("extrusion + take-off", 3),
        ],
    )


def test_check() -> None:
    out = _run("check")
    _assert_lines(
        out,
        [
            r"^60 parcels, 150 buildings, ",
            rf"^{NUM} rows: .*\bfail\b.*\bpass\b",
            _row("shapely areas + overlay (anchor)", 2),
            _row("check (zhejiang-future-community)", 2),
        ],
    )


def test_sunlight() -> None:
    out = _run("sunlight", n=12)
    _assert_lines(
        out,
        [
            r"^12 buildings, ",
            _row("sunlight_hours (all in)", 3),
            _row("bare trimesh/Embree intersects_any + BVH build", 3),
            rf"^overhead ratio \(ours / bare\) {NUM}; same sunlit minutes",
        ],
    )


@needs_data
def test_raptor() -> None:
    out = _run("raptor", n=3)
    for pattern in (
        r"^one RAPTOR query :\s+[\d.]+ ms per origin$",
        r"^\d+-minute range  :\s+[\d.]+ ms per origin",
        r"^door-to-door matrix 3 x \d+ .*: [\d.]+ s, \d+ ms per origin",
    ):
        # One line per window (morning and afternoon).
        assert len(re.findall(pattern, out, flags=re.MULTILINE)) == 2, (
            f"expected two lines matching {pattern!r} in:\n{out[-4000:]}"
        )


_SHARED_CIRCLES = [
    r"^ours: end to end \(build \+ both queries\)\s+[\d.]+\s+\(median [\d.]+\)$",
    rf"^ratio scipy baseline / ours:\s+{NUM}x$",
    rf"^ratio networkx / ours:\s+{NUM}x$",
    r"^ours vs networkx: nearest max \|diff\|",
]


@pytest.mark.slow
@needs_data
@pytest.mark.skipif(
    importlib.util.find_spec("pandana") is None, reason="pandana not installed"
)
def test_circles_with_pandana() -> None:
    out = _run("circles")
    _assert_lines(
        out,
        [
            *_SHARED_CIRCLES,
            rf"^ratio pandana / ours, end to end:\s+{NUM}x$",
            rf"^ratio pandana / ours, without arrays:\s+{NUM}x$",
        ],
    )


@pytest.mark.slow
@needs_data
def test_circles_without_pandana() -> None:
    """Without pandana it says so and compares with the others only."""
    out = _run("circles", block=("pandana",))
    _assert_lines(out, [*_SHARED_CIRCLES, r"^pandana: not importable here"])
    assert "ratio pandana" not in out
