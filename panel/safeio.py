"""Reading files panel does not control: regular files only, under a size cap.

A FIFO named ``*.json`` would block ``open()`` forever; a symlink to ``/dev/zero``
would be read until memory runs out. Every loader of on-disk input (records,
catalog entries, imports, votes, panel.toml) reads through :func:`read_regular`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from panel.errors import PanelError

# Generous for every kind of input panel reads; a record with 64 calls is ~200 KB.
DEFAULT_LIMIT = 16 * 1024 * 1024


class UnreadableFileError(PanelError):
    """The path is not a regular file, is too large, or cannot be opened."""


def read_regular(path: Path, limit: int = DEFAULT_LIMIT, what: str = "file") -> bytes:
    """Return the bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened non-blocking, so a FIFO or device never hangs the caller; symlinks are
    followed, but what they point at must itself be a regular file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnreadableFileError(f"cannot read {what} {path}: {reason}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError(
                f"{what} {path} is not a regular file; replace it with a regular file or remove it"
            )
        if info.st_size > limit:
            raise UnreadableFileError(
                f"{what} {path} is {info.st_size:,} bytes, over the {limit:,}-byte limit; "
                "split it or remove it"
            )
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew while we read it
                raise UnreadableFileError(
                    f"{what} {path} grew past the {limit:,}-byte limit while being read"
                )
        return b"".join(chunks)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnreadableFileError(f"cannot read {what} {path}: {reason}") from None
    finally:
        os.close(fd)


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads(..., object_pairs_hook=no_duplicate_keys)``: a repeated key is an error."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen
