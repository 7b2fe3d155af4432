"""The one file lock in panel (fcntl.flock: released by the OS on any exit, even a crash).

Two ways to take it: a run that must not overlap another (the nightly, a site build)
fails at once with :class:`LockedError` naming the holder's pid; a short
read-modify-write (an editorial change) waits its turn with ``wait=True``. Either
way the holder's pid is written in the lock file.
"""

from __future__ import annotations

import contextlib
import errno
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _cannot(path, what, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise LockedError(
                f"another {what} is running (pid {holder}); it holds {path}. Wait for it to finish"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError as exc:
            raise _cannot(path, what, exc) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _cannot(path: Path, what: str, exc: OSError) -> PanelError:
    """The lock file cannot be made or written: a read-only folder, a full disk."""
    if exc.errno == errno.ENOSPC:
        fix = "the disk is full: free some space on it and run again"
    else:
        fix = (
            f"panel needs write access to {path.parent} for this command (commands that "
            "only read, such as show and digest, do not)"
        )
    return PanelError(f"cannot take the lock {path} for the {what}: {exc.strerror}; {fix}")
