"""Atomic writes: a temporary file next to the target, moved over it when complete."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cim.io.files import atomic_path

__all__ = ["atomic_path", "write_bytes_atomic", "write_text_atomic"]


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
