"""A record laid out like the published page: the data every renderer shows.

Renderers format this view; they never re-derive scores. LLM-written text
(quotes, fields, failure details) is untrusted: it is stripped of control and
invisible characters here, and each renderer escapes it for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.models import CallResult, ComparisonRecord, ToolScore
from panel.untrusted import strip_invisible

PAGE_QUESTION = "Which one should you ship with?"


def safe(text: str | None) -> str:
    """Untrusted text without control or invisible characters (newlines kept)."""
    return strip_invisible(text or "")[0]


@dataclass(frozen=True)
class Card:
    slug: str
    name: str
    category: str
    tagline: str
    description: str
    entry_price: str
    score: ToolScore

    @property
    def ship_label(self) -> str:
        return "n/a" if self.score.ship_pct is None else f"{self.score.ship_pct:.0f}%"


@dataclass(frozen=True)
class Quote:
    provider: str
    verdict: str | None  # None when the call failed
    confidence: int | None
    text: str  # the quote, or the failure reason and detail
    published: bool = False  # the quote the page publishes for this persona and tool


@dataclass(frozen=True)
class PersonaRow:
    persona: str
    title: str
    quotes: dict[str, list[Quote]]  # tool slug -> one quote per provider


@dataclass(frozen=True)
class PageView:
    title: str
    cards: list[Card]
    pick: str
    pick_reason: str
    pick_rule: str
    rows: list[PersonaRow]
    status: str
    record_id: str
    valid: int
    calls: int


def _quote(call: CallResult, published: str | None) -> Quote:
    if call.ok:
        mark = call.provider == published
        return Quote(call.provider, call.verdict, call.confidence, safe(call.quote), mark)
    reason = call.failure.reason.value if call.failure else "failed"
    detail = safe(call.failure.detail if call.failure else "")
    return Quote(call.provider, None, None, f"{reason}: {detail}")


def page_view(record: ComparisonRecord) -> PageView:
    scores = {s.tool: s for s in record.scores.tools}
    cards = [
        Card(
            slug=t.slug,
            name=safe(t.name),
            category=safe(t.category),
            tagline=safe(t.tagline),
            description=safe(t.description),
            entry_price=t.entry_price.value.title() if t.entry_price else "Unknown",
            score=scores[t.slug],
        )
        for t in record.tools
    ]
    names = {c.slug: c.name for c in cards}
    published = {s.persona: s.published for s in record.scores.split}
    rows = [
        PersonaRow(
            persona=persona,
            title=safe(record.panel.persona_titles.get(persona, persona)),
            quotes={
                c.slug: sorted(
                    (
                        _quote(call, published.get(persona, {}).get(c.slug))
                        for call in record.calls
                        if call.persona == persona and call.tool == c.slug
                    ),
                    key=lambda q: not q.published,  # the published quote first
                )
                for c in cards
            },
        )
        for persona in record.panel.personas
    ]
    pick = record.scores.pick
    return PageView(
        title=f"{cards[0].name} vs {cards[1].name}",
        cards=cards,
        pick=names.get(pick.tool, "") if pick.tool else "No pick",
        pick_reason=pick.reason,
        pick_rule=pick.rule,
        rows=rows,
        status=record.status,
        record_id=record.id,
        valid=record.totals.valid,
        calls=record.totals.calls,
    )
