"""The batch journal in the store (records/batch_journal.py, store migration 3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from panel.records.batch_journal import BatchJournal, Line, age
from panel.records.store import Store
from panel.records.store_migrations import MIGRATIONS


def test_migration_3_keeps_every_journaled_call(tmp_path: Path) -> None:
    path = tmp_path / "panel.db"
    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    db.execute(
        "INSERT INTO calls (key, state, provider, model, persona, tool, result, updated_at) "
        "VALUES ('k', 'done', 'p', 'm', 'dx', 't', '{}', 1.0)"
    )
    db.close()
    with Store(path) as store:
        row = store.db.execute("SELECT key, state, result, failed_nights FROM calls").fetchone()
        assert row == ("k", "done", "{}", 0)
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 3


def _journal(tmp_path: Path) -> tuple[Store, BatchJournal]:
    store = Store(tmp_path / "panel.db")
    store.plan([(k, "p", "m", "dx", "t") for k in ("a", "b", "c")], "run")
    return store, BatchJournal(store)


def test_a_prepared_batch_is_pending_until_settled(tmp_path: Path) -> None:
    store, journal = _journal(tmp_path)
    lines = [Line(f"b1-{n}", key, 0, [], {}, {"custom_id": f"b1-{n}"}) for n, key in
             enumerate("abc")]  # fmt: skip
    journal.prepare("b1", "p", lines, "run", estimated_usd=0.5)
    assert journal.pending() == {"a", "b", "c"}
    assert store.states() == {"submitted": 3}
    assert journal.input_file("b1").count(b"\n") == 3
    journal.uploaded("b1", "file-1")
    journal.submitted("b1", "batch-1")
    assert journal.input_file("b1") == b"\n\n\n"  # bodies dropped once the batch exists
    journal.settle("b1", "expired", {"b1-0": ("answered", {"text": "x"}, 0.1)})
    assert journal.pending() == set() and journal.ready() == {"a": "b1-0"}
    assert store.states() == {"planned": 2, "submitted": 1}  # the lost ones: planned again
    assert journal.progress("b1") == (1, 0.1)
    assert journal.open() == [] and journal.find("batch-1") is not None
    journal.use(["b1-0"])
    assert journal.ready() == {}
    store.close()


def test_a_used_line_lets_go_of_its_body_conversation_and_result(tmp_path: Path) -> None:
    store, journal = _journal(tmp_path)
    body = {"custom_id": "b1-0"}
    messages = [{"role": "user", "content": "again"}]
    journal.prepare("b1", "p", [Line("b1-0", "a", 1, messages, {}, body)], "run")
    journal.settle("b1", "completed", {"b1-0": ("answered", {"text": "x" * 900}, 0.2)})
    assert journal.line("b1-0").result == {"text": "x" * 900}
    journal.use(["b1-0"])
    row = store.db.execute("SELECT body, messages, result, cost FROM batch_lines").fetchone()
    assert row == ("", "[]", None, 0.2)  # the cost stays for `panel batches list`
    store.close()


def test_age_reads_as_a_person_would() -> None:
    assert [age(0, t) for t in (5, 120, 7_200, 200_000)] == ["5s", "2m", "2h", "2d"]
