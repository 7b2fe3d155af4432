"""The one file lock in panel (fcntl.flock: released by the OS on any exit, even a crash).

Two ways to take it: a run that must not overlap another (the nightly, a site build)
fails at once with :class:`LockedError` naming the holder's pid; a short
read-modify-write (an editorial change) waits its turn with ``wait=True``. Either
way the holder's pid is written in the lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from panel.errors import PanelError


class LockedError(PanelError):
    """Another run holds the lock. Exit 75 (EX_TEMPFAIL): try again later."""

    exit_code = 75


@contextlib.contextmanager
def exclusive(path: Path, what: str, *, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created, with its folder, if missing).

    ``wait=False``: another holder is a :class:`LockedError` ("another <what> is
    running"); ``wait=True``: block until the holder is done.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise LockedError(
                f"another {what} is running (pid {holder}); it holds {path}. Wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
