"""The built wheel carries the assets: the sample loads in a fresh environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _uv() -> list[str]:
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        return [str(uv)]
    found = shutil.which("uv")
    if found:
        return [found]
    pytest.fail("uv is needed to build the wheel; `make test` installs it in .venv")


@pytest.mark.slow
def test_wheel_installs_and_loads_sample_outside_checkout(tmp_path):
    uv = _uv()
    dist = tmp_path / "dist"
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    subprocess.run(
        [*uv, "build", "--wheel", "--out-dir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        env=env,
    )
    (wheel,) = dist.glob("cim_twin-*.whl")
    venv = tmp_path / "venv"
    subprocess.run(
        [*uv, "venv", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
        env=env,
    )
    py = venv / "bin" / "python"
    subprocess.run(
        [*uv, "pip", "install", "--python", str(py), str(wheel)],
        check=True,
        capture_output=True,
        env=env,
    )
    code = (
        "import cim, pathlib;"
        "t = cim.datasets.load('beijing_haidian_cau');"
        "print(pathlib.Path(cim.__file__).resolve());"
        "print(len(t.buildings), t.crs.to_epsg());"
        "print(cim.datasets.get_path('nl_3dbag_houses', kind='cityjson').is_file())"
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = subprocess.run(
        [str(py), "-c", code], cwd=work, capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    location, counts, cityjson_shipped = out.stdout.strip().splitlines()
    assert cityjson_shipped == "True"  # the CityJSON sample is in the wheel too
    assert Path(location).is_relative_to(venv.resolve()), location
    n_buildings, epsg = counts.split()
    assert int(n_buildings) > 100
    assert epsg == "32650"
    # The console script is installed too and runs from the wheel.
    cli = subprocess.run(
        [str(venv / "bin" / "cim"), "--version"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
    )
    assert cli.returncode == 0 and "cim-twin" in cli.stdout
