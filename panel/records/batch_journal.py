"""The Batch API journal, in the store (runs/panel.db, migration 3).

A batched call goes through these steps, each committed before the next one starts, so
a process killed at any point neither submits a call twice nor loses a finished answer:

1. ``prepare``: one transaction writes the batch (``preparing``), its lines (custom_id ->
   call key, the conversation sent, what earlier sends of the call used) and moves the
   calls to ``submitted``. Killed after it: the next run uploads the same lines.
2. ``uploaded``: the provider's file id. Killed before it: the file is uploaded again (a
   file alone submits nothing).
3. ``submitted``: the provider's batch id. Killed between create and this step, the next
   run asks the provider for a batch tagged with panel's batch id before creating one.
4. ``settle``: one transaction stores every line's raw answer (``answered``) or typed
   error (``errored``), marks lines with no result ``lost`` (their calls go back to
   ``planned``) and closes the batch. Killed during collection: nothing was written, and
   the next run downloads the results again.

An answered line is judged when its call is next planned (``use``): then the call ends in
the journal (``Store.finish``) or goes into the next batch as a re-ask.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from panel import clock
from panel.records.store import Store, among

OPEN = ("preparing", "uploaded", "submitted")
Result = tuple[str, dict[str, Any], float | None]  # a line's (state, result, cost)
CLOSED = ("completed", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class Line:
    """One request in a batch: which call it answers and the conversation it sends."""

    custom_id: str
    key: str
    reasks: int
    messages: list[dict[str, str]]  # a re-ask's conversation; [] for the call's first ask
    carried: Mapping[str, Any]  # what earlier sends of the call used: attempts, tokens, started
    body: Mapping[str, Any] | None = None  # the input file's line, as the provider takes it


@dataclass(frozen=True)
class Batch:
    id: str  # panel's id, sent to the provider as metadata
    provider: str  # the provider's name in panel.toml (or its address)
    state: str
    file_id: str | None
    batch_id: str | None
    lines: int
    created_at: float
    detail: str | None


@dataclass(frozen=True)
class Ready:
    """A line with its result in, waiting for its call to be judged."""

    custom_id: str
    reasks: int
    messages: list[dict[str, str]]  # [] for a first ask: the call's own messages
    carried: dict[str, Any]
    state: str  # answered | errored
    result: dict[str, Any]


class BatchJournal:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        self.clock = store.clock

    def _commit(self, statements: Iterable[tuple[str, Any]]) -> None:
        """Every statement in one transaction (``Store.transaction``, which a caller's joins)."""
        with self.store.transaction():
            for sql, params in statements:
                (self.db.executemany if isinstance(params, list) else self.db.execute)(sql, params)

    # -- submit --------------------------------------------------------------
    def prepare(
        self,
        batch_id: str,
        provider: str,
        lines: list[Line],
        run_id: str,
        used: Iterable[str] = (),
        estimated_usd: float | None = None,
    ) -> None:
        """Journal a batch about to be uploaded; ``used``: the lines these re-ask (judged)."""
        now = self.clock()
        self._commit(
            [
                (
                    "UPDATE batch_lines SET state = 'used', updated_at = ? WHERE custom_id = ?",
                    [(now, c) for c in used],
                ),
                (
                    "INSERT INTO batches (id, provider, state, lines, estimated_usd, run_id, "
                    "created_at, updated_at) VALUES (?, ?, 'preparing', ?, ?, ?, ?, ?)",
                    (batch_id, provider, len(lines), estimated_usd, run_id, now, now),
                ),
                (
                    "INSERT INTO batch_lines (custom_id, batch, key, reasks, messages, body, "
                    "carried, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'submitted', ?)",
                    [
                        (
                            line.custom_id,
                            batch_id,
                            line.key,
                            line.reasks,
                            json.dumps(line.messages),
                            json.dumps(dict(line.body or {}), separators=(",", ":")),
                            json.dumps(dict(line.carried)),
                            now,
                        )
                        for line in lines
                    ],
                ),
                (
                    "UPDATE calls SET state = 'submitted', updated_at = ? WHERE key = ?",
                    [(now, line.key) for line in lines],
                ),
            ]
        )

    def uploaded(self, batch_id: str, file_id: str) -> None:
        self.db.execute(
            "UPDATE batches SET state = 'uploaded', file_id = ?, updated_at = ? WHERE id = ?",
            (file_id, self.clock(), batch_id),
        )

    def submitted(self, batch_id: str, remote_id: str) -> None:
        """The batch exists at the provider: its id, and its lines' bodies are not needed."""
        now = self.clock()
        self._commit(
            [
                (
                    "UPDATE batches SET state = 'submitted', batch_id = ?, updated_at = ? "
                    "WHERE id = ?",
                    (remote_id, now, batch_id),
                ),
                ("UPDATE batch_lines SET body = '' WHERE batch = ?", (batch_id,)),
            ]
        )

    def input_file(self, batch_id: str) -> bytes:
        """The batch's input file: its lines' bodies, one JSON object a line."""
        rows = self.db.execute(
            "SELECT body FROM batch_lines WHERE batch = ? ORDER BY rowid", (batch_id,)
        )
        return b"".join(str(row[0]).encode() + b"\n" for row in rows)

    def polled(self, batch_id: str, done: int) -> None:
        """The provider's count of finished lines at the last status check."""
        self.db.execute(
            "UPDATE batches SET done = ?, updated_at = ? WHERE id = ?",
            (done, self.clock(), batch_id),
        )

    # -- collect -------------------------------------------------------------
    def settle(
        self,
        batch_id: str,
        state: str,
        results: Mapping[str, Result] | Iterable[tuple[str, str, dict[str, Any], float | None]],
        detail: str | None = None,
    ) -> int:
        """Close the batch as ``state`` with each line's (state, result, cost), atomically;
        the number of its lines left without a result.

        ``results`` is taken one at a time (a streamed file's lines): a custom_id that is
        not this batch's is ignored; for a custom_id given twice, an answer wins over an
        error and the first answer over later ones. Lines with no result are ``lost``: their
        calls go back to ``planned``.
        """
        now = self.clock()
        rows = ((k, *v) for k, v in results.items()) if isinstance(results, Mapping) else results
        update = (
            "UPDATE batch_lines SET state = ?, result = ?, cost = ?, updated_at = ? "
            "WHERE custom_id = ? AND batch = ? AND state IN "
        )
        with self.store.transaction():
            for custom_id, line_state, result, cost in rows:
                among = "('submitted', 'errored')" if line_state == "answered" else "('submitted')"
                self.db.execute(
                    update + among, (line_state, json.dumps(result), cost, now, custom_id, batch_id)
                )
            (lost,) = self.db.execute(
                "SELECT COUNT(*) FROM batch_lines WHERE batch = ? AND state = 'submitted'",
                (batch_id,),
            ).fetchone()
            self._commit(
                [
                    (
                        "UPDATE calls SET state = 'planned', updated_at = ? WHERE state = "
                        "'submitted' AND key IN (SELECT key FROM batch_lines WHERE batch = ? "
                        "AND state = 'submitted')",
                        (now, batch_id),
                    ),
                    (
                        "UPDATE batch_lines SET state = 'lost', updated_at = ? "
                        "WHERE batch = ? AND state = 'submitted'",
                        (now, batch_id),
                    ),
                    (
                        "UPDATE batches SET state = ?, detail = ?, updated_at = ? WHERE id = ?",
                        (state, detail, now, batch_id),
                    ),
                ]
            )
        return int(lost)

    def lost_tonight(self, keys: Collection[str]) -> dict[str, int]:
        """Call key -> how many of its lines came back without a result this UTC day."""
        if not keys:
            return {}
        midnight = self.clock() // 86_400 * 86_400
        sql = "SELECT key, COUNT(*) FROM batch_lines WHERE state = 'lost' AND updated_at >= ?"
        query, params = among(sql, keys)
        rows = self.db.execute(query + " GROUP BY key", (midnight, *params))
        return {str(key): int(n) for key, n in rows}

    # -- read ----------------------------------------------------------------
    def open(self, provider: str | None = None) -> list[Batch]:
        sql = (
            "SELECT id, provider, state, file_id, batch_id, lines, created_at, detail "
            "FROM batches WHERE state IN ('preparing', 'uploaded', 'submitted')"
        )
        rows = self.db.execute(
            sql + (" AND provider = ?" if provider else "") + " ORDER BY created_at",
            (provider,) if provider else (),
        ).fetchall()
        return [Batch(*row) for row in rows]

    def find(self, ident: str) -> Batch | None:
        row = self.db.execute(
            "SELECT id, provider, state, file_id, batch_id, lines, created_at, detail "
            "FROM batches WHERE id = ? OR batch_id = ?",
            (ident, ident),
        ).fetchone()
        return None if row is None else Batch(*row)

    def progress(self, batch_id: str) -> tuple[int, float]:
        """(lines with a result, their cost so far in USD)."""
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(cost), 0) FROM batch_lines "
            "WHERE batch = ? AND state IN ('answered', 'errored', 'used')",
            (batch_id,),
        ).fetchone()
        return int(row[0]), float(row[1])

    def pending(self, keys: Collection[str] | None = None) -> set[str]:
        """Call keys with a line in an open batch: neither sent again nor recorded yet.

        ``keys``: only among these (a night asks for one slice of its calls at a time).
        """
        sql = "SELECT key FROM batch_lines WHERE state = 'submitted'"
        rows = self.db.execute(*among(sql, keys))
        return {str(row[0]) for row in rows}

    def ready(self, keys: Collection[str] | None = None) -> dict[str, str]:
        """Call key -> custom_id of its line with a result not judged yet (among ``keys``)."""
        sql = "SELECT key, custom_id FROM batch_lines WHERE state IN ('answered', 'errored')"
        return {str(key): str(custom_id) for key, custom_id in self.db.execute(*among(sql, keys))}

    def line(self, custom_id: str) -> Ready:
        """One line with its result (see ``ready``)."""
        r = self.db.execute(
            "SELECT custom_id, reasks, messages, carried, state, result FROM batch_lines "
            "WHERE custom_id = ?",
            (custom_id,),
        ).fetchone()
        result = json.loads(r[5])
        return Ready(r[0], int(r[1]), json.loads(r[2]), json.loads(r[3]), r[4], result)

    def use(self, custom_ids: Iterable[str]) -> None:
        """These lines were judged: their calls ended or were asked again.

        A used line is final: its request body and raw result are let go (the call's result
        is in the store's cache or journal now), so the journal does not keep every prompt
        of every night; its cost stays for `panel batches list`.
        """
        now = self.clock()
        self._commit(
            [
                (
                    "UPDATE batch_lines SET state = 'used', body = '', messages = '[]', "
                    "result = NULL, updated_at = ? WHERE custom_id = ?",
                    [(now, c) for c in custom_ids],
                )
            ]
        )


def listing(journal: BatchJournal, everything: bool = False) -> list[dict[str, Any]]:
    """Batches for `panel batches list`: open ones (``everything``: closed ones too)."""
    rows = journal.db.execute(
        "SELECT id, provider, state, batch_id, lines, done, estimated_usd, created_at, detail "
        "FROM batches WHERE ? OR state IN ('preparing', 'uploaded', 'submitted') "
        "ORDER BY created_at",
        (everything,),
    ).fetchall()
    out = []
    now = journal.clock()
    for r in rows:
        results, cost = journal.progress(r[0])
        out.append(
            {
                "id": r[0],
                "provider": r[1],
                "state": r[2],
                "provider_batch": r[3],
                "lines": int(r[4]),
                "done": max(int(r[5]), results),
                "age": age(float(r[7]), now),
                "cost_usd": round(cost, 6),
                "estimated_usd": None if r[6] is None else round(float(r[6]), 6),
                "detail": r[8],
            }
        )
    return out


def age(created_at: float, now: float | None = None) -> str:
    """``42s``, ``17m``, ``3h``, ``2d``."""
    seconds = max(0.0, (now if now is not None else clock.timestamp()) - created_at)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
