"""The editorial gate: draft -> approved -> published, or rejected; editor overrides.

A record's LLM content never changes after it is written. Only its ``editorial``
section does, and every change is appended to its history with who and when.
Changes are read-modify-write under a lock, written atomically.

Which record is a pair's page follows :mod:`panel.records.publication`: the most
recently approved one, unless it has since been rejected. So approving an older
record that a newer approval superseded puts it back, and an incomplete record
is approved only with ``force``.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from panel import clock
from panel.atomic import write_atomic
from panel.defences.untrusted import strip_invisible
from panel.errors import PanelError
from panel.lock import exclusive
from panel.records.io import dump, inside_runs, iter_records, load_in_runs, read_record, scan
from panel.records.publication import (
    PUBLISHABLE,
    live,
    pair_key,
    shortfall,
    shortfall_fix,
    shown_state,
    shown_states,
    stand_in_note,
    stand_ins,
    standing,
)
from panel.records.schema import (
    ComparisonRecord,
    Editorial,
    EditorialEvent,
    EditorialStatus,
    Override,
    Verdict,
)

LOCK_NAME = ".editorial.lock"
MAX_NAME = 80
# Which states each action may start from.
# Approving an approved or published record is allowed when it is not the pair's page
# (a newer approval superseded it): that puts it back.
_ALLOWED: dict[str, tuple[EditorialStatus, ...]] = {
    "approved": ("draft", "rejected", "approved", "published"),
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


class StaleRecordError(PanelError):
    """The record's editorial section changed since the decision was prepared."""


def version(record: ComparisonRecord) -> int:
    """The editorial version: how many events its history holds (each change adds one)."""
    return len(record.editorial.history)


def _changes_since(record: ComparisonRecord, expected: int) -> str:
    events = record.editorial.history[expected:] if 0 <= expected < version(record) else []
    said = []
    for event in events[-3:]:
        why = f" ({event.reason[:120]!r})" if event.reason else ""
        said.append(f"{event.action} by {event.by[:MAX_NAME]}{why}")
    return "; ".join(said) or f"its history has {version(record)} events, not {expected}"


def update(
    runs: Path,
    path: Path,
    change: Callable[[ComparisonRecord], Editorial],
    expected: int | None = None,
) -> ComparisonRecord:
    """Apply ``change`` to the record at ``path`` under the editorial lock; write atomically.

    With ``expected`` (the :func:`version` the decision was made on), a record that changed
    since is left alone: :class:`StaleRecordError` says what changed.
    """
    path = inside_runs(runs, path)  # never a file outside runs/
    with exclusive(runs / LOCK_NAME, "editorial change", wait=True):  # short: wait our turn
        record = read_record(path)
        if expected is not None and version(record) != expected:
            raise StaleRecordError(
                f"record {record.id} changed since the page was loaded "
                f"({_changes_since(record, expected)}); nothing was done: look at it again "
                "and decide"
            )
        updated = record.model_copy(update={"editorial": change(record)})
        try:
            write_atomic(path, dump(updated))
        except OSError as exc:
            raise PanelError(f"cannot update {path}: {exc.strerror}") from None
        return updated


def _event(editorial: Editorial, event: EditorialEvent, **changes: object) -> Editorial:
    return editorial.model_copy(update={**changes, "history": [*editorial.history, event]})


def approve(
    runs: Path,
    path: Path,
    by: str,
    now: datetime | None = None,
    force: bool = False,
    expected: int | None = None,
) -> ComparisonRecord:
    """Approve a record: it becomes its pair's page at the next site build.

    An incomplete record (quorum not met) needs ``force``; the approval then says so
    in the record's history, and the page states that the panel did not reach quorum.
    """

    def change(record: ComparisonRecord) -> Editorial:
        _check(record, "approved")
        if record.editorial.status in PUBLISHABLE and _is_live(runs, path, record):
            raise PanelError(
                f"record {record.id} is already approved and is its pair's page; nothing to do"
            )
        short = shortfall(record)
        reason = None
        if short is not None:
            if not force:
                raise PanelError(
                    f"record {record.id} is incomplete: {short.counts()}, quorum "
                    f"({short.rule}) not met for {', '.join(short.tools) or 'the panel'}; "
                    f"{shortfall_fix(record, short)}, or pass --force to publish "
                    "it with a notice that the panel did not reach quorum"
                )
            reason = f"approved with --force: the panel did not reach quorum ({short.counts()})"
        fake = stand_ins(record)
        if fake:
            if not force:
                raise PanelError(
                    f"record {record.id} has answers that are not a real review "
                    f"({stand_in_note(fake)}); review the pair on real providers "
                    "(`panel review A B --provider openai/gpt-4o-mini`), or pass --force to "
                    "publish it anyway"
                )
            note = f"approved with --force: answers from {', '.join(fake)}, not a real review"
            reason = f"{reason}; {note.removeprefix('approved with --force: ')}" if reason else note
        event = EditorialEvent(action="approved", by=by, at=now or clock.now(), reason=reason)
        return _event(record.editorial, event, status="approved")

    return update(runs, path, change, expected)


def reject(
    runs: Path,
    path: Path,
    by: str,
    reason: str,
    now: datetime | None = None,
    expected: int | None = None,
) -> ComparisonRecord:
    reason = _text(reason, "the reason", "--reason")

    def change(record: ComparisonRecord) -> Editorial:
        _check(record, "rejected")
        at = now or clock.now()
        event = EditorialEvent(action="rejected", by=by, at=at, reason=reason)
        return _event(record.editorial, event, status="rejected")

    return update(runs, path, change, expected)


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
    expected: int | None = None,
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
        at = now or clock.now()
        new = Override(persona=persona, tool=tool, verdict=verdict, note=note, by=by, at=at)
        kept = [o for o in record.editorial.overrides if (o.persona, o.tool) != (persona, tool)]
        event = EditorialEvent(action="override", by=by, at=at, override=new)
        return _event(record.editorial, event, overrides=[*kept, new])

    return update(runs, path, change, expected)


def publish(runs: Path, path: Path, now: datetime) -> ComparisonRecord:
    """Mark an approved record published (done by ``panel site build``).

    ``published_at`` keeps the first publication: a record put back is not new.
    """

    def change(record: ComparisonRecord) -> Editorial:
        _check(record, "published")
        event = EditorialEvent(action="published", by="panel site build", at=now)
        first = record.editorial.published_at or now
        return _event(record.editorial, event, status="published", published_at=first)

    return update(runs, path, change)


def auto_approved(now: datetime) -> Editorial:
    """The editorial state of a record written with ``[site] auto_approve = true``."""
    event = EditorialEvent(action="approved", by="auto-approve", at=now)
    return Editorial(status="approved", history=[event])


def queue(runs: Path, status: str | None = None) -> list[tuple[Path, ComparisonRecord, str]]:
    """Records (newest first) with their shown state (``publication.shown_state``),
    optionally only those in one shown state (``published``: live on the site)."""
    found = list(iter_records(runs))  # unreadable or inconsistent files: skipped, warned
    found.sort(key=lambda item: (item[1].created_at, item[1].id), reverse=True)
    states = shown_states(standing(r) for _, r in found)
    shown = [(p, r, states[r.id]) for p, r in found]
    return [item for item in shown if status is None or item[2] == status]


def shown(runs: Path, path: Path, record: ComparisonRecord) -> str:
    """What ``record`` is to a reader: draft, approved, published (live), superseded, rejected."""
    return shown_state(record.editorial.status, _is_live(runs, path, record))


def _same_pair(runs: Path, record: ComparisonRecord) -> list[tuple[Path, ComparisonRecord]]:
    """The records in runs/ of the same pair (same tools, same order); unreadable ones skipped."""
    stem = re.compile(re.escape(pair_key(record)) + r"(\.\d+)?\.json")
    found = []
    for path in scan(runs):
        if not stem.fullmatch(path.name):
            continue
        try:
            other, _ = load_in_runs(runs, path)
        except PanelError:
            continue
        if pair_key(other) == pair_key(record):
            found.append((path, other))
    return found


def _in_runs(runs: Path, path: Path) -> bool:
    """Whether ``path`` is a record of runs/ (the rule `inside_runs` enforces)."""
    try:
        inside_runs(runs, path)
    except PanelError:
        return False
    return True


def _is_live(runs: Path, path: Path, record: ComparisonRecord) -> bool:
    if not _in_runs(runs, path):
        return False
    pair = _same_pair(runs, record)
    current = live((standing(r), p.resolve()) for p, r in pair)
    return current == path.resolve()


@dataclass(frozen=True)
class PageEffect:
    """What the next site build will show for a record's pair, in one line."""

    live: str | None  # id of the record that will be the page, or None
    message: str


def page_effect(runs: Path, path: Path, record: ComparisonRecord) -> PageEffect:
    """What the pair's page will be after an editorial change to ``record``."""
    title = " vs ".join(t.name for t in record.tools)
    if not _in_runs(runs, path):
        return PageEffect(None, f"{path} is outside {runs}; the site publishes only runs/")
    pair = _same_pair(runs, record)
    current = live((standing(r), r) for _, r in pair)
    if current is None:
        return PageEffect(
            None,
            f"the next `panel site build` shows no {title} page "
            "(approve a record of this pair to put one up)",
        )
    if current.id == record.id:
        return PageEffect(current.id, f"it is the {title} page from the next `panel site build`")
    return PageEffect(current.id, f"the {title} page shows {current.id}")
