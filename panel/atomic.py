"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def _temp_beside(path: Path, data: bytes, durable: bool = True) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename).

    ``durable=False`` skips the fsyncs: still atomic for readers, but a power cut may
    lose the write. For output that is rebuilt from durable data (the site).
    """
    with _temp_beside(path, data, durable) as tmp:
        tmp.replace(path)
    if durable:
        _fsync_dir(path.parent)


def write_new(candidates: Iterator[Path], render: Callable[[Path], bytes]) -> Path:
    """Write ``render(path)`` atomically to the first candidate path not taken yet.

    Each attempt hard-links a complete temp file into place, so an existing
    file is never overwritten and two concurrent writers never claim one name.
    """
    for path in candidates:
        if path.exists():  # cheap skip; the hard link below is what makes it race-free
            continue
        with _temp_beside(path, render(path)) as tmp:
            try:
                os.link(tmp, path)
            except FileExistsError:
                continue
        _fsync_dir(path.parent)
        return path
    raise FileExistsError("every candidate file name is taken")
