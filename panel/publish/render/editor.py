"""What an editor checks before approving, beyond the page: state, history, seats, counts.

`panel show` (terminal and ``--markdown``) renders this next to the page view.
Like the page view, it is data only: editor names and notes are cleaned of
control and invisible characters here, and each renderer escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from panel.publish.render.view import PageView, safe
from panel.records.publication import MEANING, stand_in_note, stand_ins
from panel.records.schema import ComparisonRecord, Seat
from panel.scoring.aggregate import count_phrase


def when(at: datetime) -> str:
    """A timestamp as editors read it: UTC, to the minute."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Event:
    action: str  # approved | rejected | override | published
    by: str
    at: str
    note: str  # the reason, or the override (persona / tool -> verdict: note)


@dataclass(frozen=True)
class SeatRow:
    reviewer: str
    provider: str
    first: str  # the tool picked with the record's first tool shown first, or "no answer"
    second: str
    pick: str  # the tool, when both orders agree; else "none"
    counted: str  # "counted", "orders disagree", "recused", "an order unanswered"


@dataclass(frozen=True)
class EditorView:
    status: str  # draft | approved | published | superseded | rejected (publication.shown_state)
    meaning: str  # what the status means for the site
    decided: str  # "approved by alice, 2026-11-25 09:12 UTC", or ""
    note: str  # the latest approval/rejection reason, or ""
    history: list[Event]
    incomplete: str  # why the record is incomplete, or ""
    seats: list[SeatRow]
    stand_in: str  # "" or why its answers are not a real review (a mock, the embedded model)
    counts: str  # "16 verdict calls: 12 valid, 0 failed, 4 recused; 16 head-to-head calls: ..."


def counts_line(view: PageView) -> str:
    """Verdict and head-to-head calls counted apart; within each, valid, failed and recused
    add up to the calls."""
    return view.counts or count_phrase(view.calls, view.valid, view.failed, view.recused)


def ship_count(view: PageView, slug: str) -> str:
    """The panel ship % with its denominator: "75% (3 of 4 valid)"."""
    card = next(c for c in view.cards if c.slug == slug)
    score = card.score
    if score.ship_pct is None:
        return "n/a (no valid verdict)"
    return f"{card.ship_label} ({score.ships} of {score.valid} valid)"


def not_counted(view: PageView, slug: str) -> str:
    """ "4 recused, 1 failed, 2 abstained", or "-" when every verdict counted."""
    score = next(c for c in view.cards if c.slug == slug).score
    parts = [f"{score.recused} recused"] if score.recused else []
    if score.failed:
        parts.append(f"{score.failed} failed")
    if score.abstained:
        parts.append(f"{score.abstained} abstained")
    return ", ".join(parts) or "-"


def _event(record: ComparisonRecord, index: int) -> Event:
    event = record.editorial.history[index]
    note = safe(event.reason)
    if event.override is not None:
        o = event.override
        note = f"{o.persona} / {o.tool} -> {o.verdict}: {safe(o.note)}"
    return Event(event.action, safe(event.by), when(event.at), " ".join(note.split()))


def _seat(seat: Seat, names: dict[str, str], titles: dict[str, str]) -> SeatRow:
    def tool(slug: str | None) -> str:
        return "no answer" if slug is None else names.get(slug, slug)

    if seat.recused:
        counted = "recused"
    elif seat.consistent is None:
        counted = "an order unanswered"
    elif not seat.consistent:
        counted = "orders disagree"
    else:
        counted = "counted" + (", conflict flagged" if seat.conflict else "")
    return SeatRow(
        reviewer=titles.get(seat.persona, seat.persona),
        provider=safe(seat.provider),
        first=tool(seat.first_order),
        second=tool(seat.second_order),
        pick=tool(seat.pick) if seat.pick else "none",
        counted=counted,
    )


def editor_view(record: ComparisonRecord, view: PageView, state: str | None = None) -> EditorView:
    """``state``: the record's shown state when the caller knows its pair (panel show, the
    desk); without it, the stored editorial status stands."""
    editorial = record.editorial
    state = state or editorial.status
    events = [_event(record, i) for i in range(len(editorial.history))]
    decisions = [e for e in events if e.action in ("approved", "rejected")]
    last = decisions[-1] if decisions and editorial.status != "draft" else None
    missing = [s.tool for s in record.scores.tools if not s.quorum_met]
    names = {c.slug: c.name for c in view.cards}
    titles = {row.persona: row.title for row in view.rows}
    h2h = record.scores.head_to_head
    return EditorView(
        status=state,
        meaning=MEANING.get(state, ""),
        decided=f"{last.action} by {last.by}, {last.at}" if last else "",
        note=last.note if last else "",
        history=events,
        incomplete=(
            "incomplete: quorum not met for "
            + ", ".join(names.get(m, m) for m in missing)
            + f" (quorum rule: {record.scores.quorum})"
            if record.status == "incomplete"
            else ""
        ),
        seats=[_seat(s, names, titles) for s in h2h.seats] if h2h else [],
        stand_in=stand_in_note(stand_ins(record)),
        counts=counts_line(view),
    )
