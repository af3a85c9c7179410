"""Tests for :func:`cim.io.files.atomic_path`: the permissions of written files.

Outputs (reports, meshes, CityJSON, GeoPackages) are written to a temporary
file and moved over the target. The result must have the permissions of the
file it replaces, or those of any new file under the user's umask, not those
of the temporary file (mkstemp's 0600) or of whatever the writer chose.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cim.io.files import atomic_path

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_private(path: Path, data: bytes) -> None:
    """A writer that creates its file 0600, as mkstemp-based writers do."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


@pytest.fixture
def umask_027() -> Iterator[int]:
    """Run under umask 027 (not the usual 022), restored afterwards."""
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_new_file_gets_the_umask_mode(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        target = tmp_path / "report.json"
        with atomic_path(target) as tmp:
            _write_private(tmp, b"{}")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"{}"
    assert _mode(target) == 0o666 & ~umask


def test_new_file_under_the_usual_umask_is_0644(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "mesh.glb"
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"glTF")
    finally:
        os.umask(old)
    assert _mode(target) == 0o644


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o444])
def test_replaced_file_keeps_its_mode(
    tmp_path: Path, mode: int, umask_027: int
) -> None:
    target = tmp_path / "twin.gpkg"
    target.write_bytes(b"old")
    target.chmod(mode)
    with atomic_path(target) as tmp:
        _write_private(tmp, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == mode


def test_failed_write_leaves_target_and_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert _mode(target) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_umask_is_read_without_changing_it(umask_027: int) -> None:
    from cim.io.files import _umask

    assert _umask() == umask_027
    assert _umask() == umask_027
    current = os.umask(0o022)
    os.umask(current)
    assert current == umask_027
