"""Calls in flight across processes: a call another panel process is sending is waited for.

A nightly and a ``panel review`` started beside it plan some of the same calls. Each
process shares identical calls within itself (the runner's in-flight map); between
processes, a call being sent is *claimed*: a one-byte POSIX record lock (``fcntl``) on
the file ``runs/.inflight``, at an offset taken from the call's key, held for as long
as the call is in flight. Another process that reaches the same call waits until the
lock is released, then looks in the cache (the store) before sending anything: the
answer the first process paid for is reused, and a call that failed there is sent
again by the second.

Why record locks on one file: a claim costs two ``fcntl`` calls, no file created or
removed (a file per call cost about a tenth of a millisecond, 2-6% of the nightly's CPU
per request). A lock dies with its process, so a killed process never leaves a call
blocked. Two keys on one offset (60 bits of the key) would only make one wait for the
other. Record locks belong to the process, not to a file descriptor, so the file stays
open for the life of :class:`Claims` (closing any descriptor of it would drop them all),
and they never conflict within one process, where the runner shares calls itself.
Where ``runs/`` cannot hold the file (read-only), calls are not coordinated and nothing
else changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

POLL = 0.05  # seconds between looks at a call another process holds
NAME = ".inflight"


def offset(key: str) -> int:
    """The byte of ``runs/.inflight`` that stands for call ``key`` (a sha256 in hex)."""
    try:
        return int(key[:15], 16)
    except ValueError:  # not a hex key: any stable number will do
        return int.from_bytes(key.encode()[:7].ljust(7, b"\0"), "big")


class Claims:
    """The claims of one runs/ folder (record locks on ``runs/.inflight``)."""

    def __init__(self, runs: Path, poll: float = POLL) -> None:
        self.path = runs / NAME
        self.poll = poll
        self.waited = 0  # calls this process waited for (another process had them in flight)
        self._fd: int | None = None
        self._unusable = False

    def _file(self) -> int | None:
        if self._fd is None and not self._unusable:
            try:
                flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
                self._fd = os.open(self.path, flags, 0o600)
            except OSError:  # a read-only runs/: no coordination
                self._unusable = True
        return self._fd

    def _try(self, fd: int, at: int) -> bool:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, at)
        except OSError:  # EAGAIN/EACCES: another process holds it
            return False
        return True

    @contextlib.asynccontextmanager
    async def claim(self, key: str) -> AsyncIterator[bool]:
        """Hold ``key``'s claim; yields True if another process had it first (so its answer
        may be in the cache now)."""
        fd = self._file()
        if fd is None:
            yield False
            return
        at = offset(key)
        waited = False
        while not self._try(fd, at):
            waited = True
            await asyncio.sleep(self.poll)
        self.waited += waited
        try:
            yield waited
        finally:
            with contextlib.suppress(OSError):
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, at)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
