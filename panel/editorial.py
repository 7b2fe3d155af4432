"""The editorial gate: draft -> approved -> published, or rejected; editor overrides.

A record's LLM content never changes after it is written. Only its ``editorial``
section does, and every change is appended to its history with who and when.
Changes are read-modify-write under a lock, written atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from panel.atomic import write_atomic
from panel.errors import PanelError
from panel.models import (
    ComparisonRecord,
    Editorial,
    EditorialEvent,
    EditorialStatus,
    Override,
    Verdict,
)
from panel.records import dump, inside_runs, iter_records, read_record
from panel.untrusted import strip_invisible

LOCK_NAME = ".editorial.lock"
MAX_NAME = 80
# Which states each action may start from.
_ALLOWED: dict[str, tuple[EditorialStatus, ...]] = {
    "approved": ("draft", "rejected"),
    "rejected": ("draft", "approved", "published"),
    "override": ("draft", "approved", "published"),
    "published": ("approved",),
}


def editor(by: str | None) -> str:
    """``--by``, else $USER, else the login name; one clean line."""
    name = by if by is not None else os.environ.get("USER") or _login()
    name = " ".join(strip_invisible(name)[0].split())[:MAX_NAME]
    if not name:
        raise PanelError("no editor name: pass --by NAME (or set $USER)")
    return name


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _text(value: str, what: str, flag: str) -> str:
    text = strip_invisible(value)[0].strip()
    if not text:
        raise PanelError(f"{what} is empty; pass {flag} with some text")
    if len(text) > 2_000:
        raise PanelError(f"{what} is {len(text)} characters; keep {flag} under 2000")
    return text


@contextlib.contextmanager
def _locked(runs: Path) -> Iterator[None]:
    runs.mkdir(parents=True, exist_ok=True)
    fd = os.open(runs / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # editorial edits are short: wait our turn
        yield
    finally:
        os.close(fd)


def _check(record: ComparisonRecord, action: str) -> None:
    status = record.editorial.status
    if status not in _ALLOWED[action]:
        verb = {"approved": "approve", "rejected": "reject", "override": "override"}.get(
            action, "publish"
        )
        raise PanelError(
            f"record {record.id} is {status}; cannot {verb} it "
            f"(allowed from: {', '.join(_ALLOWED[action])})"
        )


def update(
    runs: Path, path: Path, change: Callable[[ComparisonRecord], Editorial]
) -> ComparisonRecord:
    """Apply ``change`` to the record at ``path`` under the editorial lock; write atomically."""
    path = inside_runs(runs, path)  # never a file outside runs/
    with _locked(runs):
        record = read_record(path)
        updated = record.model_copy(update={"editorial": change(record)})
        try:
            write_atomic(path, dump(updated))
        except OSError as exc:
            raise PanelError(f"cannot update {path}: {exc.strerror}") from None
        return updated


def _event(editorial: Editorial, event: EditorialEvent, **changes: object) -> Editorial:
    return editorial.model_copy(update={**changes, "history": [*editorial.history, event]})


def approve(runs: Path, path: Path, by: str, now: datetime | None = None) -> ComparisonRecord:
    def change(record: ComparisonRecord) -> Editorial:
        _check(record, "approved")
        event = EditorialEvent(action="approved", by=by, at=now or datetime.now(UTC))
        return _event(record.editorial, event, status="approved")

    return update(runs, path, change)


def reject(
    runs: Path, path: Path, by: str, reason: str, now: datetime | None = None
) -> ComparisonRecord:
    reason = _text(reason, "the reason", "--reason")

    def change(record: ComparisonRecord) -> Editorial:
        _check(record, "rejected")
        at = now or datetime.now(UTC)
        event = EditorialEvent(action="rejected", by=by, at=at, reason=reason)
        return _event(record.editorial, event, status="rejected")

    return update(runs, path, change)


def override(
    runs: Path,
    path: Path,
    *,
    persona: str,
    tool: str,
    verdict: Verdict,
    note: str,
    by: str,
    now: datetime | None = None,
) -> ComparisonRecord:
    note = _text(note, "the note", "--note")

    def change(record: ComparisonRecord) -> Editorial:
        _check(record, "override")
        if persona not in record.panel.personas:
            raise PanelError(
                f"record {record.id} has no persona {persona!r}; "
                f"use one of: {', '.join(record.panel.personas)}"
            )
        slugs = [t.slug for t in record.tools]
        if tool not in slugs:
            raise PanelError(
                f"record {record.id} has no tool {tool!r}; use one of: {', '.join(slugs)}"
            )
        at = now or datetime.now(UTC)
        new = Override(persona=persona, tool=tool, verdict=verdict, note=note, by=by, at=at)
        kept = [o for o in record.editorial.overrides if (o.persona, o.tool) != (persona, tool)]
        event = EditorialEvent(action="override", by=by, at=at, override=new)
        return _event(record.editorial, event, overrides=[*kept, new])

    return update(runs, path, change)


def publish(runs: Path, path: Path, now: datetime) -> ComparisonRecord:
    """Mark an approved record published (done by ``panel site build``)."""

    def change(record: ComparisonRecord) -> Editorial:
        _check(record, "published")
        event = EditorialEvent(action="published", by="panel site build", at=now)
        return _event(record.editorial, event, status="published", published_at=now)

    return update(runs, path, change)


def auto_approved(now: datetime) -> Editorial:
    """The editorial state of a record written with ``[site] auto_approve = true``."""
    event = EditorialEvent(action="approved", by="auto-approve", at=now)
    return Editorial(status="approved", history=[event])


def queue(runs: Path, status: EditorialStatus | None = None) -> list[tuple[Path, ComparisonRecord]]:
    """Records (newest first), optionally only those in one editorial state."""
    found = list(iter_records(runs))  # unreadable or inconsistent files: skipped, warned
    found.sort(key=lambda item: (item[1].created_at, item[1].id), reverse=True)
    return [item for item in found if status is None or item[1].editorial.status == status]
