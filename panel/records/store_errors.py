"""SQLite errors as one line naming the store: the one boundary every store access passes.

:class:`Connection` wraps the store's ``sqlite3.Connection`` (and :class:`Cursor` its
cursors, whose rows SQLite reads lazily): any ``sqlite3.Error`` raised by a statement,
a fetch or a commit becomes a :class:`PanelError` that says what is wrong and how to
fix it, with the file's path. What the line says depends on the cause, because the
advice differs:

- the disk is full (``SQLITE_FULL``, or an I/O error with no space left where the store
  is): free space; the store is fine, and moving it aside would throw away the paid-for
  cache and the batch journal;
- the store or its folder is read-only (``SQLITE_READONLY``, ``SQLITE_CANTOPEN``): give
  panel write access, or use a command that only reads;
- another process holds it (``SQLITE_BUSY``/``LOCKED``): try again;
- the file is damaged or not a store (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``): only then
  move it aside.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from panel.errors import PanelError

NEARLY_FULL = 256 * 1024  # bytes free under which an I/O error is taken for a full disk

Params = Sequence[Any] | dict[str, Any]


def free_bytes(path: Path) -> int | None:
    """Bytes free for unprivileged users on the filesystem holding ``path``."""
    for folder in (path, *path.parents):
        with contextlib.suppress(OSError):
            info = os.statvfs(folder)
            return info.f_bavail * info.f_frsize
    return None


def disk_full(path: Path) -> PanelError:
    free = free_bytes(path.parent)
    left = f" ({free // 1024} KB free)" if free is not None else ""
    return PanelError(
        f"the disk holding the store {path} is full{left}; free some space and run again "
        "(the store itself is fine: keep it, it holds the paid-for answers and the batch "
        "journal)"
    )


def store_error(path: Path, exc: sqlite3.Error) -> PanelError:
    """The one line for ``exc`` raised while using the store at ``path``."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary == sqlite3.SQLITE_FULL or "disk is full" in text:
        return disk_full(path)
    if primary == sqlite3.SQLITE_IOERR or "disk I/O error" in text:
        free = free_bytes(path.parent)
        if free is not None and free < NEARLY_FULL:
            return disk_full(path)
        return PanelError(
            f"the store {path}: the disk reported an I/O error ({text}); check the disk and "
            "run again (the store may well be fine: do not delete it)"
        )
    if primary == sqlite3.SQLITE_READONLY or "readonly" in text:
        return PanelError(
            f"the store {path} is read-only ({text}); this command writes to it: give "
            "panel write access to runs/, or use a command that only reads (show, digest)"
        )
    if primary == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
        return PanelError(
            f"cannot open the store {path} ({text}); check that runs/ exists and that panel "
            "may write to it"
        )
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return PanelError(
            f"the store {path} is busy ({text}): another panel command holds it; try again "
            "when it is done"
        )
    if "no such table" in text or "no such column" in text:
        return PanelError(
            f"the store {path} is older than this panel ({text}); run a command that writes "
            "to it (such as `panel review`) once to upgrade it"
        )
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or isinstance(
        exc, sqlite3.DatabaseError
    ):
        return PanelError(
            f"{path}: not a usable panel store ({text}); move it aside to start a new one "
            "(it holds the answer cache and the batch journal: keep the old file until you "
            "are sure)"
        )
    return PanelError(f"the store {path}: {text}")  # pragma: no cover - sqlite3.Error itself


def os_error(path: Path, exc: OSError, doing: str) -> PanelError:
    """An OSError around the store (its file modes, its folder) as one line."""
    if exc.errno == errno.ENOSPC:
        return disk_full(path)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return PanelError(
            f"cannot {doing} {path}: {exc.strerror}; give panel write access to runs/, "
            "or use a command that only reads (show, digest)"
        )
    return PanelError(f"cannot {doing} {path}: {exc.strerror}")


BUGS = (sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.IntegrityError)


def _mapped(path: Path, exc: sqlite3.Error) -> PanelError:
    """:func:`store_error`, except for panel's own mistakes (a closed connection, a broken
    constraint): those are raised as they are, bugs to see with their traceback."""
    if isinstance(exc, BUGS):
        raise exc
    return store_error(path, exc)


class Cursor:
    """A cursor whose fetches map SQLite errors like :class:`Connection`."""

    def __init__(self, cursor: sqlite3.Cursor, path: Path) -> None:
        self._cursor = cursor
        self._path = path

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except sqlite3.Error as exc:
            raise _mapped(self._path, exc) from None

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except sqlite3.Error as exc:
            raise _mapped(self._path, exc) from None

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                row = next(self._cursor, None)
            except sqlite3.Error as exc:
                raise _mapped(self._path, exc) from None
            if row is None:
                return
            yield row

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid


class Connection:
    """The store's connection: the same calls as ``sqlite3.Connection``'s that the store
    uses, each mapping any SQLite error to one line naming the file."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.raw = db
        self.path = path

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        try:
            return Cursor(self.raw.execute(sql, params), self.path)
        except sqlite3.Error as exc:
            raise _mapped(self.path, exc) from None

    def executemany(self, sql: str, params: Iterable[Params]) -> Cursor:
        try:
            return Cursor(self.raw.executemany(sql, params), self.path)
        except sqlite3.Error as exc:
            raise _mapped(self.path, exc) from None

    def executescript(self, script: str) -> Cursor:
        try:
            return Cursor(self.raw.executescript(script), self.path)
        except sqlite3.Error as exc:
            raise _mapped(self.path, exc) from None

    def commit(self) -> None:
        try:
            self.raw.commit()
        except sqlite3.Error as exc:
            raise _mapped(self.path, exc) from None

    def rollback(self) -> None:
        try:
            self.raw.rollback()
        except sqlite3.Error as exc:
            raise _mapped(self.path, exc) from None

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # closing never hides the first error
            self.raw.close()


def connect(path: Path, *, readonly: bool = False, timeout: float = 30) -> Connection:
    """Open the store at ``path`` (read-only: never written, not even its WAL index)."""
    try:
        if not readonly:
            return Connection(sqlite3.connect(path, isolation_level=None, timeout=timeout), path)
        uri = path.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", isolation_level=None, timeout=timeout, uri=True)
            db.execute("PRAGMA user_version").fetchone()  # a WAL store may need its -shm here
        except sqlite3.OperationalError:
            # A read-only folder where the WAL index cannot be made: nothing can be writing
            # the store (a writer would need that folder), so it can be read as immutable.
            db = sqlite3.connect(
                f"{uri}?mode=ro&immutable=1", isolation_level=None, timeout=timeout, uri=True
            )
        return Connection(db, path)
    except sqlite3.Error as exc:
        raise store_error(path, exc) from None
