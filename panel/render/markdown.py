"""A record as Markdown, laid out like the published comparison page.

All catalog and LLM text is escaped: it renders as literal text, never as
links, images, HTML or headings.
"""

from __future__ import annotations

import re

from panel.models import ComparisonRecord
from panel.render.view import PAGE_QUESTION, Card, Quote, page_view

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def escape(text: str) -> str:
    """Markdown-inert text: HTML entities for <>&, backslashes before markup characters."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _card(card: Card) -> list[str]:
    return [
        f"### {escape(card.name)}",
        "",
        f"*{escape(card.category or 'Uncategorised')}*",
        "",
        f"> {escape(card.tagline)}" if card.tagline else "",
        "",
        "| Panel ship | Valid verdicts | Failed calls | Entry |",
        "|---|---|---|---|",
        f"| {card.ship_label} | {card.score.valid} | {card.score.failed} "
        f"| {escape(card.entry_price)} |",
        "",
        escape(card.description),
        "",
    ]


def _quote(quote: Quote) -> str:
    if quote.verdict is None:
        return f"- *failed on {escape(quote.provider)}*: {escape(quote.text)}"
    label = "published" if quote.published else "also"
    return (
        f"- **{quote.verdict.upper()}** ({quote.confidence}/5, {escape(quote.provider)}, "
        f"{label}): \u201c{escape(quote.text)}\u201d"
    )


def render(record: ComparisonRecord) -> str:
    view = page_view(record)
    lines = [
        f"# {escape(view.title)}: {PAGE_QUESTION.lower()}",
        "",
        f"**Panel pick: {escape(view.pick)}.** {escape(view.pick_reason)}.",
        "",
        f"*Rule: {escape(view.pick_rule)}.*",
        "",
        "## The tools",
        "",
    ]
    for card in view.cards:
        lines += _card(card)
    lines += ["## Reviewer scorecard", ""]
    for row in view.rows:
        lines += [f"### {escape(row.title)}", ""]
        for card in view.cards:
            lines += [f"**{escape(card.name)}**", ""]
            lines += [_quote(q) for q in row.quotes[card.slug]] or ["- *no calls*"]
            lines.append("")
    lines += [
        "---",
        "",
        f"Record {escape(view.record_id)}: {view.status}, "
        f"{view.valid} of {view.calls} calls gave a valid verdict.",
        "",
    ]
    return "\n".join(lines)
