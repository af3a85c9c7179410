"""Atomic writes: a temporary file next to the target, moved over it when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["atomic_path", "write_bytes_atomic", "write_text_atomic"]


@contextlib.contextmanager
def atomic_path(target: Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path next to ``target``, moved over it if the block succeeds.

    Parameters
    ----------
    target
        The file to write.
    suffix
        Suffix of the temporary file (GDAL picks drivers by suffix).

    Yields
    ------
    pathlib.Path
        Where to write. It does not exist yet; on error it is removed and
        ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _write(target: Path, writer: Callable[[Path], object]) -> Path:
    with atomic_path(target, suffix=target.suffix or ".tmp") as tmp:
        writer(tmp)
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically; return the path."""
    return _write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write bytes to ``path`` atomically; return the path."""
    return _write(Path(path), lambda p: p.write_bytes(data))
