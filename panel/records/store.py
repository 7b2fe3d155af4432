"""The embedded store: runs/panel.db (SQLite, WAL). Call journal, response cache, run index.

- **Journal**: one row per call key (sha256 of provider, model, rendered messages, schema,
  sampling). States: planned -> in_flight -> done | failed, or planned -> submitted (in a
  Batch API job: ``records/batch_journal.py`` holds its batch and custom_id) -> done | failed.
  A row left in_flight by a killed process is simply sent again: the provider never
  answered us, or we never recorded the answer, so nothing was paid for twice that we
  could have reused. A failed row counts the nights it failed on (``retry_nights``).
- **Cache**: the result of every ``done`` call (successes only; errors are never cached).
  A later call with the same key is served from here unless ``--fresh``.
- **Index**: runs and the records they wrote.
- **Schema**: numbered migrations in ``store_migrations.py``.

Writes commit per call; WAL with synchronous=NORMAL survives a killed process (not
necessarily a power cut, which loses at most the last moments of journal).

Open it as a context manager (``with Store.open(runs) as store:``): it is closed however
the block ends. A run's store is its ``RunSession``'s (panel/pipeline/session.py).

The database and its -wal and -shm files are private (0600): they hold every answer
and failure detail, including drafts no editor has approved.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from panel import clock as wallclock
from panel.errors import PanelError
from panel.records.rows import FailureHistory, IndexedRecord, ReviewInputs, RunRow
from panel.records.schema import CallResult
from panel.records.store_errors import connect, os_error
from panel.records.store_migrations import MIGRATIONS

__all__ = ["DB_NAME", "MIGRATIONS", "PRIVATE", "Store"]

DB_NAME = "panel.db"
PRIVATE = 0o600  # the store, its WAL and shared-memory files: owner only
WAL_LIMIT = 8 * 2**20  # bytes of -wal file kept after a checkpoint


def _make_private(path: Path) -> None:
    """Create the database file 0600 if it is missing; make an existing one (and its WAL) 0600.

    SQLite gives the -wal and -shm files the mode of the database file, so a private
    database keeps its journal private too. The store holds every answer paid for.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, PRIVATE)
    except OSError as exc:
        raise os_error(path, exc, "open the store") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PanelError(
                f"the store {path} is not a regular file; move it aside to start a new one"
            )
        if stat.S_IMODE(info.st_mode) != PRIVATE:
            os.fchmod(fd, PRIVATE)
    except PermissionError:
        pass  # someone else's store: SQLite will say whether we can use it
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(OSError):
            if not side.is_symlink() and stat.S_IMODE(side.stat().st_mode) != PRIVATE:
                side.chmod(PRIVATE)


class Store:
    """The store at ``path``. Every SQLite error of every access is one line naming the file
    (``store_errors.Connection``); ``readonly`` opens it for commands that only read."""

    def __init__(
        self, path: Path, clock: Callable[[], float] = wallclock.timestamp, readonly: bool = False
    ) -> None:
        self.path = path
        self.clock = clock
        if readonly:
            self.db = connect(path, readonly=True)
            self._check_version()
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(path.parent, exc, "create the folder") from None
        _make_private(path)
        self.db = connect(path)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # the WAL file is cut back to this size after each checkpoint (it would otherwise
            # keep the size of the largest run's writes: tens of MB after a big night)
            self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
            self._migrate()
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def open(cls, runs: Path, readonly: bool = False) -> Store:
        return cls(runs / DB_NAME, readonly=readonly)

    def _check_version(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            self.db.close()
            raise PanelError(
                f"{self.path}: store version {version} is newer than this panel "
                f"({len(MIGRATIONS)}); upgrade panel"
            )

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise PanelError(
                f"{self.path}: store version {version} is newer than this panel "
                f"({len(MIGRATIONS)}); upgrade panel"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # A script (DDL) is the one write that cannot go through ``transaction()``:
            # ``executescript`` commits first. Its own BEGIN/COMMIT, rolled back on error.
            try:
                self.db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- journal and cache --------------------------------------------------
    def cached(self, key: str) -> CallResult | None:
        row = self.db.execute(
            "SELECT result FROM calls WHERE key = ? AND state = 'done'", (key,)
        ).fetchone()
        return None if row is None else CallResult.model_validate_json(row[0])

    def plan(self, rows: Iterable[tuple[str, str, str, str, str]], run_id: str) -> None:
        """Journal calls as planned (key, provider, model, persona, tool).

        Done rows stay done, and rows submitted in an open batch stay submitted.
        """
        now = self.clock()
        with self.transaction():
            self.db.executemany(
                "INSERT INTO calls (key, state, provider, model, persona, tool, run_id, "
                "updated_at) VALUES (?, 'planned', ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, "
                "state = CASE WHEN calls.state IN ('done', 'submitted') THEN calls.state "
                "ELSE 'planned' END, "
                "updated_at = excluded.updated_at",
                [(*row, run_id, now) for row in rows],
            )

    def start(self, key: str) -> None:
        self.db.execute(
            "UPDATE calls SET state = 'in_flight', updated_at = ? "
            "WHERE key = ? AND state != 'done'",
            (self.clock(), key),
        )

    def finish(self, result: CallResult) -> None:
        """A verdict is cached (state done); a failure is journaled, never cached.

        A verdict flagged by the leak check is cached too: it was paid for, and the
        flag travels with it. A failure counts the nights the call has failed on (one
        a calendar day, however many runs that day) and keeps its last result, for the
        nightly's ``retry_nights`` cap; an answer clears that history. A withheld answer
        (flagged) is a failure for that count, though cached.
        """
        answered = result.status == "ok"
        state = "done" if answered else "failed"
        clean = result.outcome != "failed"
        payload = result.model_dump_json()
        today = datetime.fromtimestamp(self.clock(), UTC).date().isoformat()
        self.db.execute(
            "INSERT INTO calls (key, state, provider, model, persona, tool, result, updated_at, "
            "failed_nights, failed_on, failure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            "state = excluded.state, result = excluded.result, updated_at = excluded.updated_at, "
            "failed_nights = CASE WHEN excluded.failed_on IS NULL THEN 0 "
            "WHEN calls.failed_on IS excluded.failed_on THEN calls.failed_nights "
            "ELSE calls.failed_nights + 1 END, "
            "failed_on = excluded.failed_on, failure = excluded.failure",
            (
                result.key,
                state,
                result.provider,
                result.model,
                result.persona,
                result.tool,
                payload if answered else None,
                self.clock(),
                0 if clean else 1,
                None if clean else today,
                None if clean else payload,
            ),
        )

    def failed_before(self, key: str) -> FailureHistory:
        """The nights the call failed on, the last such day and its last failed result."""
        row = self.db.execute(
            "SELECT failed_nights, failed_on, failure FROM calls WHERE key = ?", (key,)
        ).fetchone()
        if row is None or not row[0]:
            return FailureHistory()
        last = CallResult.model_validate_json(row[2]) if row[2] else None
        return FailureHistory(int(row[0]), row[1], last)

    def defer(self, key: str) -> None:
        """Back to planned: never sent (budget), so the next run sends it."""
        self.db.execute(
            "UPDATE calls SET state = 'planned', updated_at = ? WHERE key = ? AND state != 'done'",
            (self.clock(), key),
        )

    def unfinished(self, run_id: str) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM calls WHERE run_id = ? AND state IN ('planned', 'in_flight')",
            (run_id,),
        ).fetchone()
        return int(row[0])

    def states(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, COUNT(*) FROM calls GROUP BY state").fetchall()
        return {state: int(n) for state, n in rows}

    # -- index ---------------------------------------------------------------
    def begin_run(self, run_id: str, kind: str) -> None:
        self.db.execute(
            "INSERT INTO runs (id, kind, started_at, status) VALUES (?, ?, ?, 'running') "
            "ON CONFLICT (id) DO UPDATE SET status = 'running', started_at = excluded.started_at",
            (run_id, kind, self.clock()),
        )

    def end_run(self, run_id: str, status: str, summary: dict[str, Any] | None = None) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
            (self.clock(), status, json.dumps(summary) if summary else None, run_id),
        )

    def last_run(self, kind: str, status: str) -> RunRow | None:
        row = self.db.execute(
            "SELECT id, started_at FROM runs WHERE kind = ? AND status = ? "
            "ORDER BY started_at DESC LIMIT 1",
            (kind, status),
        ).fetchone()
        return None if row is None else RunRow(str(row[0]), float(row[1]))

    def index_record(
        self,
        record_id: str,
        path: Path,
        run_id: str | None,
        tools: tuple[str, str],
        status: str,
        inputs: ReviewInputs,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO records "
            "(id, path, run_id, tool_a, tool_b, status, created_at, provenance) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, str(path), run_id, *tools, status, self.clock(), inputs.to_json()),
        )

    # -- community votes -----------------------------------------------------
    def set_votes(self, counts: Iterable[tuple[str, int, int]], source: str) -> None:
        """Replace the vote counts of the given tools, all in one transaction."""
        now = self.clock()
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO votes (tool, ship, skip, source, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(tool, ship, skip, source, now) for tool, ship, skip in counts],
            )

    # -- the tools panel has seen ----------------------------------------------
    def learn_tools(self, slugs: Iterable[str], *, late: bool) -> None:
        """Remember the tools seen for the first time now; ``late``: learned after a nightly
        (so reviewed whatever their launch date), else part of what panel started with."""
        now = self.clock()
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO tools_seen (slug, first_seen, late) VALUES (?, ?, ?)",
                [(slug, now, int(late)) for slug in slugs],
            )

    def knows_tools(self) -> bool:
        """Has panel remembered any tool yet?"""
        return self.db.execute("SELECT 1 FROM tools_seen LIMIT 1").fetchone() is not None

    def late_tools(self) -> dict[str, float]:
        """Tools learned after a nightly -> when panel first saw them."""
        rows = self.db.execute("SELECT slug, first_seen FROM tools_seen WHERE late = 1")
        return {str(slug): float(seen) for slug, seen in rows}

    def votes(self) -> dict[str, tuple[int, int]]:
        """tool slug -> (ship votes, skip votes)."""
        rows = self.db.execute("SELECT tool, ship, skip FROM votes").fetchall()
        return {str(tool): (int(ship), int(skip)) for tool, ship, skip in rows}

    def reviews(self) -> dict[str, list[IndexedRecord]]:
        """First tool of a pair -> its records (as ``records_for``), oldest first; one query."""
        rows = self.db.execute(
            "SELECT id, path, tool_a, tool_b, status, provenance FROM records ORDER BY created_at"
        )
        out: dict[str, list[IndexedRecord]] = {}
        for row in rows:
            out.setdefault(row[2], []).append(_record(row))
        return out

    def done_keys(self, keys: Collection[str] | None = None) -> set[str]:
        """Keys of answered calls (in the cache), among ``keys`` if given, in one query."""
        rows = self.db.execute(*among("SELECT key FROM calls WHERE state = 'done'", keys))
        return {str(row[0]) for row in rows}

    def modes(self) -> dict[str, str]:
        """Provider -> the output mode (ladder rung) of its latest answered call.

        Where each provider's structured-output ladder settled, for ``panel providers list``.
        """
        rows = self.db.execute(
            "SELECT provider, json_extract(result, '$.mode') FROM calls "
            "WHERE state = 'done' ORDER BY updated_at"
        )
        return {str(provider): str(mode) for provider, mode in rows if mode}

    def failing_keys(self) -> set[str]:
        """Keys of calls whose last try failed or was withheld (see ``failed_before``)."""
        rows = self.db.execute("SELECT key FROM calls WHERE failed_nights > 0")
        return {str(row[0]) for row in rows}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """The one way to write more than one statement: all of them, or (on any error,
        the commit's included) none. Inside another transaction it joins that one, which
        commits or rolls back the whole."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def last_record(self, pair: tuple[str, str]) -> IndexedRecord | None:
        """The pair's newest indexed record (by the (tool_a, tool_b) index: no scan)."""
        row = self.db.execute(
            "SELECT id, path, tool_a, tool_b, status, provenance FROM records "
            "WHERE tool_a = ? AND tool_b = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
            pair,
        ).fetchone()
        return None if row is None else _record(row)

    def records_for(self, tool: str) -> list[IndexedRecord]:
        rows = self.db.execute(
            "SELECT id, path, tool_a, tool_b, status, provenance FROM records "
            "WHERE tool_a = ? OR tool_b = ? ORDER BY created_at",
            (tool, tool),
        )
        return [_record(row) for row in rows]


def among(sql: str, keys: Collection[str] | None) -> tuple[str, tuple[str, ...]]:
    """``sql`` (a query with a WHERE clause) narrowed to rows whose ``key`` is in ``keys``
    (None: every row), as (sql, parameters): one JSON parameter, however many keys."""
    if keys is None:
        return sql, ()
    # ``sql`` is one of the store's own constant queries; the keys go in as a parameter
    return sql + " AND key IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),)  # noqa: S608


def _record(r: Any) -> IndexedRecord:
    """A record index row (id, path, tool_a, tool_b, status, provenance), typed."""
    return IndexedRecord(r[0], Path(r[1]), (r[2], r[3]), r[4], ReviewInputs.from_json(r[5]))
