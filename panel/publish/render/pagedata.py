"""The JSON behind each page (the ``json`` format), for a front end that renders on its own.

Text here is cleaned of control and invisible characters but NOT escaped: a
front end must insert it as text (``textContent``), never as HTML. URLs are
http(s) or empty. Like the pages, the JSON never carries provider error text:
a quote without an answer says only "No answer." or "Withheld.".
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from panel.publish.render.base import (
    Comparison,
    Context,
    IndexPage,
    Subject,
    ToolPage,
    unsupported,
)
from panel.publish.render.view import DISCLOSURE, PAGE_QUESTION, Card, PageView, Quote
from panel.records.publication import pair_key
from panel.records.schema import ComparisonRecord

PAGE_FORMAT = "panel.page/1"


def dumps(data: Any) -> bytes:
    """Deterministic, compact JSON bytes (the same data always gives the same bytes)."""
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _votes(card: Card) -> dict[str, Any]:
    votes = card.votes
    return {
        "ship": votes.ship,
        "skip": votes.skip,
        "ship_pct": votes.ship_pct,
        "label": votes.label,
    }


def card_data(card: Card) -> dict[str, Any]:
    return {
        "slug": card.slug,
        "name": card.name,
        "vendor": card.vendor,
        "category": card.category,
        "tagline": card.tagline,
        "description": card.description,
        "entry_price": card.entry_price,
        "pricing_notes": card.pricing_notes,
        "url": card.url,
        "panel_ship_pct": card.score.ship_pct,
        "panel_ship_label": card.ship_label,
        "quorum_met": not card.below_quorum,
        "valid_verdicts": card.score.valid,
        "failed_calls": card.score.failed,
        "recused_verdicts": card.score.recused,
        "community": _votes(card),
        # what its reviewers were shown beyond the card (issue 26); [] with evidence_note set
        "sources": [
            {
                "id": s.id,
                "kind": s.kind,
                "domain": s.domain,
                "url": s.url,
                "title": s.title,
                "checked": s.checked.isoformat(),
            }
            for s in card.sources
        ],
        "evidence_note": card.evidence_note,
    }


def _quote(quote: Quote) -> dict[str, Any]:
    return {
        "provider": quote.provider,
        "verdict": quote.verdict,
        "confidence": quote.confidence,
        "text": quote.text,
        "outcome": quote.outcome,
        "published": quote.published,
        "conflict": quote.conflict,
    }


def comparison_data(view: PageView, record: ComparisonRecord, page: str) -> dict[str, Any]:
    scorecard = []
    for row in view.rows:
        tools = {}
        for card in view.cards:
            note = row.notes.get(card.slug)
            tools[card.slug] = {
                "panel_verdict": row.majority.get(card.slug, "none"),
                "verdict": row.verdict(card.slug),
                "editor_note": None
                if note is None
                else {
                    "verdict": note.verdict,
                    "note": note.note,
                    "by": note.by,
                    "on": note.on.isoformat(),
                },
                "quotes": [_quote(q) for q in row.quotes[card.slug]],
            }
        scorecard.append({"persona": row.persona, "title": row.title, "tools": tools})
    return {
        "format": PAGE_FORMAT,
        "kind": "comparison",
        "page": page,
        "record": view.record_id,
        "title": view.title,
        "question": PAGE_QUESTION,
        "pick": {
            "tool": record.scores.pick.tool,
            "name": view.pick,
            "reason": view.answer_reason,
            "rule": view.rule_sentence,
        },
        "evidence": view.evidence,
        "quorum": {"met": not view.quorum_note, "note": view.quorum_note},
        "head_to_head": None
        if record.scores.head_to_head is None
        else {"summary": view.head_to_head, **record.scores.head_to_head.model_dump(mode="json")},
        "trust": None
        if record.scores.trust is None
        else {
            **record.scores.trust.model_dump(mode="json"),
            "agreement": None
            if record.scores.agreement is None
            else record.scores.agreement.model_dump(mode="json"),
        },
        "cards": [card_data(c) for c in view.cards],
        "scorecard": scorecard,
        "panel": {
            "models": view.providers,
            "disclosure": DISCLOSURE,
            "last_reviewed": view.reviewed.isoformat() if view.reviewed else None,
            "status": view.status,
            "valid_verdicts": view.valid,
            "failed_calls": view.failed,
            "recused_calls": view.recused,
            "calls": view.calls,
            "verdicts": None if view.verdicts is None else asdict(view.verdicts),
        },
    }


def tool_data(subject: ToolPage) -> dict[str, Any]:
    votes = subject.votes
    return {
        "format": PAGE_FORMAT,
        "kind": "tool",
        **subject.tool,
        "community": {"ship": votes.ship, "skip": votes.skip, "label": votes.label},
        "comparisons": subject.comparisons,
    }


def index_data(subject: IndexPage) -> dict[str, Any]:
    return {
        "format": PAGE_FORMAT,
        "kind": "index",
        "title": subject.title,
        "latest": subject.latest,
        "tools": subject.tools,
    }


_JSON_MARK = b'{"format":"' + PAGE_FORMAT.split("/")[0].encode() + b"/"


class JsonRenderer:
    """Compact, deterministic JSON (``panel.page/1``): the site's data, `show --format json`."""

    name = "json"
    media_type = "application/json"
    suffix = ".json"
    subjects: tuple[type, ...] = (Comparison, ToolPage, IndexPage)
    site = True

    def render(self, subject: Subject, context: Context) -> bytes:
        if isinstance(subject, Comparison):
            page = pair_key(subject.record)
            return dumps(comparison_data(subject.view, subject.record, page))
        if isinstance(subject, ToolPage):
            return dumps(tool_data(subject))
        if isinstance(subject, IndexPage):
            return dumps(index_data(subject))
        raise unsupported(self, subject)

    def marked(self, head: bytes) -> bool:
        return head.startswith(_JSON_MARK)


RENDERER = JsonRenderer()
