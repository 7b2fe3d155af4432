"""The queue: one row per record in runs/, from an in-memory cache keyed by file stat.

A record file is parsed once; after that, a queue request costs a directory scan
and a ``stat`` per file. A file whose stat changed (an editorial action rewrote it
atomically: a new inode) is read again; one that disappeared leaves the queue.
A file that cannot be read is listed with the reason, as ``panel list`` warns.

Drafts come first, then approved, published and rejected records, newest first in
each state. Filters: editorial state, tool, date range, and one flag.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from panel.desk.published import safe
from panel.errors import PanelError
from panel.records.ids import is_day
from panel.records.io import load_in_runs, scan
from panel.records.publication import (
    SHOWN_STATES,
    Standing,
    pair_key,
    shown_states,
    stand_in_note,
    stand_ins,
    standing,
)
from panel.records.schema import ComparisonRecord
from panel.scoring.trust import MODERATE

STATES = SHOWN_STATES  # the queue's order: draft, approved, published, superseded, rejected
FLAGS = {
    "withheld": "withheld answers",
    "recused": "recusals",
    "abstained": "abstentions (evidence insufficient)",
    "low-agreement": "low agreement",
    "incomplete": "incomplete",
    "stand-in": "not a real review (mock or embedded model)",
}
PAGE_SIZES = (50, 100, 250, 1000)
PER_PAGE = 100


@dataclass(frozen=True)
class Row:
    """What the queue shows of one record."""

    id: str
    created_at: datetime
    pair: str  # the page it belongs to: "<a>-vs-<b>"
    slugs: tuple[str, str]
    title: str  # "A vs B"
    editorial: str  # draft | approved | published | rejected
    complete: bool
    pick: str  # the picked tool's name, or "No pick"
    withheld: int  # answers the leak and quote checks set aside
    recused: int  # answers set aside for a conflict of interest
    abstained: int  # answers that found the evidence insufficient for a verdict
    agreement: float | None  # Krippendorff's alpha across models, None when undefined
    cost_usd: float | None
    calls: int
    valid: int
    overrides: int
    standing: Standing
    verdicts: int = 0  # verdict calls (head-to-head calls are not counted here)
    verdicts_valid: int = 0
    providers: tuple[str, ...] = ()  # the panel's providers
    stand_in: str = ""  # why its answers are not a real review (a mock, the embedded model)

    @property
    def low_agreement(self) -> bool:
        return self.agreement is not None and self.agreement < MODERATE

    def flagged(self, flag: str) -> bool:
        return {
            "withheld": self.withheld > 0,
            "recused": self.recused > 0,
            "abstained": self.abstained > 0,
            "low-agreement": self.low_agreement,
            "incomplete": not self.complete,
            "stand-in": bool(self.stand_in),
        }.get(flag, False)


def row(record: ComparisonRecord) -> Row:
    names = {t.slug: safe(t.name) for t in record.tools}
    slugs = (record.tools[0].slug, record.tools[1].slug)
    pick = record.scores.pick.tool
    agreement = record.scores.agreement
    return Row(
        id=record.id,
        created_at=record.created_at,
        pair=pair_key(record),
        slugs=slugs,
        title=f"{names[slugs[0]]} vs {names[slugs[1]]}",
        editorial=record.editorial.status,
        complete=record.status == "complete",
        pick=names.get(pick, pick) if pick else "No pick",
        withheld=sum(1 for c in record.calls if c.flags),
        recused=record.totals.recused,
        abstained=record.totals.abstained,
        agreement=agreement.value if agreement else None,
        cost_usd=record.totals.cost_usd,
        calls=record.totals.calls,
        valid=record.totals.valid,
        overrides=len(record.editorial.overrides),
        standing=standing(record),
        verdicts=sum(1 for c in record.calls if c.kind == "verdict"),
        verdicts_valid=sum(1 for c in record.calls if c.kind == "verdict" and c.ok),
        providers=tuple(safe(p) for p in record.panel.providers),
        stand_in=stand_in_note(stand_ins(record)),
    )


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    tool: str | None = None
    since: date | None = None
    until: date | None = None
    flag: str | None = None
    page: int = 1
    per: int = PER_PAGE

    def keep(self, item: Row, state: str) -> bool:
        day = item.created_at.date()
        return (
            (self.status is None or state == self.status)
            and (self.tool is None or self.tool in item.slugs)
            and (self.since is None or day >= self.since)
            and (self.until is None or day <= self.until)
            and (self.flag is None or item.flagged(self.flag))
        )

    def query(self, **changes: object) -> dict[str, str]:
        """The filters as query parameters (for links), with ``changes`` applied."""
        values: dict[str, object] = {
            "status": self.status,
            "tool": self.tool,
            "since": self.since,
            "until": self.until,
            "flag": self.flag,
            "per": self.per if self.per != PER_PAGE else None,
            **changes,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "", 1) or k == "page"}


def _day(value: str, name: str, notices: list[str]) -> date | None:
    if not value:
        return None
    if is_day(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    notices.append(f"ignored {name}={value[:40]!r}: not a date like 2026-11-24")
    return None


def parse_filters(params: Mapping[str, str]) -> tuple[Filters, list[str]]:
    """Filters from the queue's query string; a bad value is ignored with a notice."""
    notices: list[str] = []
    status = params.get("status") or None
    if status is not None and status not in STATES:
        notices.append(f"ignored status={status[:40]!r}: use one of {', '.join(STATES)}")
        status = None
    flag = params.get("flag") or None
    if flag is not None and flag not in FLAGS:
        notices.append(f"ignored flag={flag[:40]!r}: use one of {', '.join(FLAGS)}")
        flag = None
    tool = (params.get("tool") or "").strip().lower() or None
    page_text, per_text = params.get("page", "1"), params.get("per", str(PER_PAGE))
    page = int(page_text) if page_text.isdigit() and 0 < len(page_text) < 7 else 1
    per = int(per_text) if per_text in {str(size) for size in PAGE_SIZES} else PER_PAGE
    return (
        Filters(
            status=status,
            tool=tool[:100] if tool else None,
            since=_day(params.get("since", ""), "since", notices),
            until=_day(params.get("until", ""), "until", notices),
            flag=flag,
            page=max(page, 1),
            per=per,
        ),
        notices,
    )


@dataclass(frozen=True)
class QueuePage:
    rows: list[Row]
    matched: int
    total: int
    page: int
    pages: int
    counts: dict[str, int]  # shown state -> records
    tools: list[str]  # every tool slug in the queue, for the tool filter
    states: Mapping[str, str]  # record id -> shown state (publication.shown_state)
    skipped: list[str] = field(default_factory=list)  # unreadable files, with why


@dataclass(frozen=True)
class _Entry:
    mark: tuple[int, int, int]  # mtime_ns, size, inode
    row: Row


def _order(item: Row) -> tuple[int, float, str]:
    return (STATES.index(item.editorial), -item.created_at.timestamp(), item.id)


def _sort(rows: list[Row], states: Mapping[str, str]) -> list[Row]:
    """By shown state (drafts first), newest first in each."""
    return sorted(rows, key=lambda r: (STATES.index(states[r.id]), *_order(r)[1:]))


class QueueIndex:
    """Rows for every record in ``runs``; :meth:`refresh` re-reads only changed files."""

    def __init__(self, runs: Path) -> None:
        self.runs = runs
        self._entries: dict[str, _Entry] = {}
        self._skipped: dict[str, tuple[tuple[int, int, int], str]] = {}  # rel -> mark, why
        self._sorted: list[Row] = []
        self._states: dict[str, str] = {}
        self._lock = threading.Lock()
        self.reads = 0  # record files parsed so far (the benchmark and tests watch it)

    def refresh(self) -> None:
        with self._lock:
            entries: dict[str, _Entry] = {}
            skipped: dict[str, tuple[tuple[int, int, int], str]] = {}
            changed = False
            for path in scan(self.runs):
                rel = path.relative_to(self.runs).as_posix()
                try:
                    info = path.stat()
                except OSError:
                    continue
                mark = (info.st_mtime_ns, info.st_size, info.st_ino)
                old = self._entries.get(rel)
                if old is not None and old.mark == mark:
                    entries[rel] = old
                    continue
                if rel in self._skipped and self._skipped[rel][0] == mark:
                    skipped[rel] = self._skipped[rel]  # still the same unreadable file
                    continue
                changed = True
                try:
                    record, _ = load_in_runs(self.runs, path)
                except PanelError as exc:
                    skipped[rel] = (mark, str(exc))
                    continue
                self.reads += 1
                entries[rel] = _Entry(mark, row(record))
            changed = changed or entries.keys() != self._entries.keys()
            self._entries, self._skipped = entries, skipped
            if changed:
                rows = [e.row for e in entries.values()]
                self._states = shown_states(r.standing for r in rows)
                self._sorted = _sort(rows, self._states)

    def page(self, filters: Filters) -> QueuePage:
        self.refresh()
        with self._lock:
            rows, states, skipped = self._sorted, self._states, list(self._skipped.values())
        matched = [r for r in rows if filters.keep(r, states[r.id])]
        pages = max(1, math.ceil(len(matched) / filters.per))
        page = min(filters.page, pages)
        start = (page - 1) * filters.per
        return QueuePage(
            rows=matched[start : start + filters.per],
            matched=len(matched),
            total=len(rows),
            page=page,
            pages=pages,
            counts=dict(Counter(states[r.id] for r in rows)),
            tools=sorted({s for r in rows for s in r.slugs}),
            states=states,
            skipped=[why for _, why in skipped],
        )

    def previous(self, record: ComparisonRecord) -> str | None:
        """The id of the newest earlier record of the same pair, or None."""
        self.refresh()
        pair, key = pair_key(record), (record.created_at, record.id)
        earlier = [r for r in self._sorted if r.pair == pair and (r.created_at, r.id) < key]
        return max(earlier, key=lambda r: (r.created_at, r.id)).id if earlier else None


def age(created_at: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit: "12 min", "5 h", "3 d"."""
    seconds = max((now - created_at) / timedelta(seconds=1), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"
