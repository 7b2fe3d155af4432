"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Files get the permissions an ordinary ``open()`` would give them (0666 less the
process umask, so 0644 under umask 0022): the site, feeds and records must be
readable by the web server's user. ``private=True`` makes a file 0600, for
secrets and the response store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


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
    try:
        os.fchmod(fd, file_mode(private))
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
