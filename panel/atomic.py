"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Files get the permissions an ordinary ``open()`` would give them (0666 less the
process umask, so 0644 under umask 0022): the site, feeds and records must be
readable by the web server's user. ``private=True`` makes a file 0600, for
secrets and the response store.

A temp file is named ``.<name>.<8 random characters>.tmp`` beside its target and
is locked (``flock``) for as long as its writer has it open. A writer killed with
``kill -9`` leaves it behind; :func:`sweep_temp_files` removes such leftovers, and
only those: our naming pattern, a regular file, older than ``STALE_AFTER``, and
not locked by a writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from panel import clock

STALE_AFTER = 3600.0  # seconds: no write takes this long; a temp file this old was abandoned
# mkstemp's random part: 8 characters of [a-z0-9_]
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def _current_umask() -> int:
    """The process umask, read without changing it where Linux allows."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def file_mode(private: bool = False) -> int:
    """The mode a new file gets: 0600 if private, else 0666 less the umask."""
    return 0o600 if private else 0o666 & ~_current_umask()


def dir_mode() -> int:
    """The mode ``mkdir`` gives a new folder: 0777 less the umask (0755 under 0022)."""
    return 0o777 & ~_current_umask()


@contextlib.contextmanager
def _temp_beside(
    path: Path, data: bytes, durable: bool = True, private: bool = False
) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    # Locked until closed, after the rename or link: a sweep never takes a file being written.
    with os.fdopen(fd, "wb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.fchmod(handle.fileno(), file_mode(private))
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


def write_atomic(path: Path, data: bytes, durable: bool = True, private: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename).

    ``durable=False`` skips the fsyncs: still atomic for readers, but a power cut may
    lose the write. For output that is rebuilt from durable data (the site).
    ``private=True`` gives the file mode 0600 whatever the umask.
    """
    with _temp_beside(path, data, durable, private) as tmp:
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


def sweep_temp_files(
    folder: Path, older_than: float = STALE_AFTER, now: float | None = None
) -> list[Path]:
    """Remove temp files killed writers left in ``folder``; return what was removed.

    Only files named like ours (``.<name>.<random>.tmp``), regular (never a link),
    last modified more than ``older_than`` seconds ago, and not locked by a writer
    that still has them open. Errors (a read-only folder) leave things as they are.
    """
    now = clock.timestamp() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not TEMP_NAME.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < older_than:
                continue
            if _unlink_unless_locked(Path(entry.path), info.st_ino):
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _unlink_unless_locked(path: Path, inode: int) -> bool:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer has it open right now
        if os.fstat(fd).st_ino != inode:
            return False  # replaced since we looked
        path.unlink()
        return True
    finally:
        os.close(fd)


def append_line(path: Path, line: str) -> None:
    """Append ``line`` and a newline to the log ``path`` (it and its folder created if missing).

    One ``write`` on an ``O_APPEND`` descriptor: lines from two writers never interleave,
    and a reader sees each line whole or not at all.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, file_mode())
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode())
    finally:
        os.close(fd)
