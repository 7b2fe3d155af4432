"""Markdown: a record as the published page's layout plus what an editor checks, and the digest.

All catalog, LLM and editor text is escaped: it renders as literal text, never as
links, images, HTML, emphasis, tables or headings. Escaping is minimal, so the
Markdown still reads as text: only characters that could start markup where they
stand are escaped (``SmolVLM 2.5`` stays as it is; ``1. `` at the start of a line,
``[``, ``*`` and the like get a backslash; ``<`` and ``>`` become entities).
"""

from __future__ import annotations

import re

from panel.inputs.votes import Votes
from panel.publish.render.base import Comparison, Context, Digest, Subject, unsupported
from panel.publish.render.editor import (
    EditorView,
    counts_line,
    editor_view,
    not_counted,
    ship_count,
)
from panel.publish.render.view import PAGE_QUESTION, Card, EditorNote, PageView, Quote

# Markup wherever it stands: code, emphasis, links and images, tables, strikethrough,
# HTML and autolinks, backslash escapes. "_" only where it can delimit emphasis.
_ANYWHERE = re.compile(r"[\\`*\[\]|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# HTML and autolinks as entities; "&" only where it would start one ("&amp;" renders "&").
_HTML = {"<": "&lt;", ">": "&gt;"}
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# Block markup at the start of a line: headings, quotes, lists, setext underlines.
_LINE_START = re.compile(r"^([#>+=-])|^(\d{1,9})([.)])(?=\s|$)")
_CLOSING_HASHES = re.compile(r"(?<=\s)(#+)$")  # "### Tool #" would lose its "#"


def _line_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return match.group(2) + "\\" + match.group(3)


def escape(text: str) -> str:
    """Markdown-inert text on one line: it renders exactly as ``text`` (whitespace folded)."""
    text = " ".join(text.split())
    text = _ENTITY.sub("&amp;", text)
    text = re.sub(r"[<>]", lambda m: _HTML[m.group(0)], text)
    text = _ANYWHERE.sub(lambda m: "\\" + m.group(0), text)
    text = _CLOSING_HASHES.sub(lambda m: "\\#" * len(m.group(1)), text)
    return _LINE_START.sub(_line_start, text, count=1)


def _card(view: PageView, card: Card) -> list[str]:
    votes: Votes = card.votes
    return [
        f"### {escape(card.name)}",
        "",
        f"*{escape(card.category or 'Uncategorised')}*",
        "",
        f"> {escape(card.tagline)}" if card.tagline else "",
        "",
        "| Panel ship | Not counted | Community votes | Entry |",
        "|---|---|---|---|",
        f"| {ship_count(view, card.slug)} | {not_counted(view, card.slug)} "
        f"| {escape(votes.label)} | {escape(card.entry_price)} |",
        "",
        escape(card.description),
        "",
        _sources(card),
        "",
    ]


def _sources(card: Card) -> str:
    """The card's sources (kind, domain, checked date), or that it had none."""
    if not card.sources:
        return f"*{escape(card.evidence_note)}.*"
    listed = "; ".join(
        f"{s.id} [{escape(s.label)}](<{s.url}>)" if s.url else f"{s.id} {escape(s.label)}"
        for s in card.sources
    )
    return f"Sources: {listed}."


def _quote(quote: Quote) -> str:
    if quote.recused:
        head = (
            f"- *recused* ({escape(quote.provider)}, not counted: the model's vendor makes "
            "this tool)"
        )
        if quote.verdict is None:  # planned out before sending: there is no answer
            return f"{head}: not asked"
        return f"{head}: {quote.verdict}, {quote.confidence}/5, \u201c{escape(quote.text)}\u201d"
    if quote.outcome == "abstained":
        return f"- *abstained* ({escape(quote.provider)}): {escape(quote.text)}"
    if quote.verdict is None:
        return f"- *failed on {escape(quote.provider)}*: {escape(quote.text)}"
    label = "published" if quote.published else "also"
    flag = f", {escape(quote.conflict)}" if quote.conflict else ""
    return (
        f"- **{quote.verdict.upper()}** ({quote.confidence}/5, {escape(quote.provider)}, "
        f"{label}{flag}): \u201c{escape(quote.text)}\u201d"
    )


def _note(note: EditorNote, panel_verdict: str) -> str:
    return (
        f"- **Editor's verdict: {note.verdict.upper()}** ({escape(note.by)}, "
        f"{note.on.isoformat()}; the panel's majority: {panel_verdict}): {escape(note.note)}"
    )


def _editorial(editor: EditorView, view: PageView) -> list[str]:
    lines = [f"> **Editorial status: {editor.status}** ({editor.meaning})."]  # our own words
    if editor.decided:
        note = f": {escape(editor.note)}" if editor.note else ""
        lines += [">", f"> {escape(editor.decided)}{note}"]
    if editor.incomplete:
        lines += [">", f"> **Record {escape(editor.incomplete)}.**"]
    if editor.stand_in:
        lines += [">", f"> **Not a real review:** {escape(editor.stand_in)}."]
    return [*lines, ">", f"> {escape(counts_line(view))}.", ""]


def _head_to_head(view: PageView, editor: EditorView) -> list[str]:
    if not view.head_to_head:
        return []
    lines = ["## Head-to-head", "", escape(view.head_to_head), ""]
    if editor.seats:
        first, second = (escape(c.name) for c in view.cards)
        lines += [
            f"| Reviewer | Model | {first} first | {second} first | Pick | Seat |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            "| "
            + " | ".join(
                escape(v) for v in (s.reviewer, s.provider, s.first, s.second, s.pick, s.counted)
            )
            + " |"
            for s in editor.seats
        ]
        lines.append("")
    return lines


def _history(editor: EditorView) -> list[str]:
    if not editor.history:
        return ["## Editorial history", "", "No editorial action yet.", ""]
    lines = ["## Editorial history", ""]
    for event in editor.history:
        note = f": {escape(event.note)}" if event.note else ""
        lines.append(f"- {escape(event.at)}, **{event.action}** by {escape(event.by)}{note}")
    return [*lines, ""]


def _headline(view: PageView) -> str:
    return f"Ship with {escape(view.pick)}." if view.picked else "No pick."


def comparison(subject: Comparison) -> str:
    """The page's layout plus the editorial state, seats and history (`panel show`)."""
    view = subject.view
    editor = editor_view(subject.record, view, subject.state)
    lines = [
        f"# {escape(view.title)}: {PAGE_QUESTION.lower()}",
        "",
        *_editorial(editor, view),
        f"**{_headline(view)}** {escape(view.lead_reason)}".rstrip(),
        "",
        *([f"*{escape(view.quorum_note)}*", ""] if view.quorum_note else []),
        f"*{escape(view.rule_sentence)}*",
        "",
        *([escape(view.evidence), ""] if view.evidence else []),
    ]
    if view.trust:
        lines += [f"**How solid is this verdict?** {escape(view.trust)}", ""]
    lines += ["## The tools", ""]
    for card in view.cards:
        lines += _card(view, card)
    lines += ["## Reviewer scorecard", ""]
    for row in view.rows:
        lines += [f"### {escape(row.title)}", ""]
        for card in view.cards:
            lines += [f"**{escape(card.name)}**", ""]
            note = row.notes.get(card.slug)
            if note is not None:
                lines.append(_note(note, row.majority.get(card.slug, "none")))
            lines += [_quote(q) for q in row.quotes[card.slug]] or ["- *no calls*"]
            lines.append("")
    lines += _head_to_head(view, editor)
    lines += _history(editor)
    lines += [
        "---",
        "",
        f"Record {escape(view.record_id)}: {view.status}; {escape(counts_line(view))}.",
        "",
    ]
    return "\n".join(lines)


def digest(subject: Digest) -> str:
    """The week's newsletter as Markdown: one section per comparison, linked when it can be."""
    lines = [f"# {escape(subject.title)}", "", f"*{escape(subject.subheading)}*", ""]
    for item in subject.items:
        title = escape(item.title)
        lines.append(f"## [{title}](<{item.url}>)" if item.url else f"## {title}")
        lines += ["", f"**{escape(item.answer)}** {escape(item.reason)}", ""]
        if item.quorum_note:
            lines += [f"*Below quorum.* {escape(item.quorum_note)}", ""]
        for tool in item.tools:
            lines.append(
                f"- {escape(tool.name)}: {escape(tool.ship)}, community {escape(tool.votes)}"
            )
        lines.append("")
        if item.evidence:
            lines += [f"*{escape(item.evidence)}*", ""]
    lines += ["---", "", escape(subject.disclosure), ""]
    return "\n".join(lines)


class MarkdownRenderer:
    """`panel show --format markdown` (the editor's view) and the digest's WEEK.md."""

    name = "markdown"
    media_type = "text/markdown; charset=utf-8"
    suffix = ".md"
    subjects: tuple[type, ...] = (Comparison, Digest)
    site = False  # a comparison in Markdown carries the editorial state: not for readers

    def render(self, subject: Subject, context: Context) -> str:
        if isinstance(subject, Comparison):
            return comparison(subject)
        if isinstance(subject, Digest):
            return digest(subject)
        raise unsupported(self, subject)

    def marked(self, head: bytes) -> bool:
        return False


RENDERER = MarkdownRenderer()
