"""Calls in flight across processes: a call another panel process is sending is waited for.

A nightly and a ``panel review`` started beside it plan some of the same calls. Each
process shares identical calls within itself (the runner's in-flight map); between
processes, a call being sent is *claimed*: its key's file in ``runs/.inflight/`` is
held with ``flock`` for as long as the call is in flight. Another process that reaches
the same call waits until the claim is released, then looks in the cache (the store)
before sending anything: the answer the first process paid for is reused, and a call
that failed there is sent again by the second.

A claim dies with its process (the OS drops a dead process's locks), so a killed
process never leaves a call blocked. The claim file is removed when released; a
waiter that locked a file just removed checks the path still names that file and
tries again. Where ``runs/`` cannot hold the folder (read-only), calls are not
coordinated and nothing else changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

POLL = 0.05  # seconds between looks at a claim another process holds

FOLDER = ".inflight"


class Claims:
    """The claims of one runs/ folder (``runs/.inflight/<key>``)."""

    def __init__(self, runs: Path, poll: float = POLL) -> None:
        self.folder = runs / FOLDER
        self.poll = poll
        self.waited = 0  # calls this process waited for (another process had them in flight)

    def _try(self, key: str) -> int | None:
        """The claim's locked fd, or None while another process holds it."""
        path = self.folder / key
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                same = path.lstat().st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)  # removed by its holder as we locked it: take the new one

    @contextlib.asynccontextmanager
    async def claim(self, key: str) -> AsyncIterator[bool]:
        """Hold ``key``'s claim; yields True if another process had it first (so its answer
        may be in the cache now)."""
        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
            fd = self._try(key)
        except OSError:  # a read-only runs/: no coordination
            yield False
            return
        waited = fd is None
        while fd is None:
            await asyncio.sleep(self.poll)
            fd = self._try(key)
        self.waited += waited
        try:
            yield waited
        finally:
            with contextlib.suppress(OSError):
                (self.folder / key).unlink()  # while still locked: a waiter sees it go
            os.close(fd)
