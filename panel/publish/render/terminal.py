"""A record in the terminal (rich). Untrusted text is passed as ``Text``, never as markup."""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from panel.inputs.votes import Votes
from panel.publish.render.base import Comparison, Context, Subject, unsupported
from panel.publish.render.columns import aligned
from panel.publish.render.editor import (
    EditorView,
    counts_line,
    editor_view,
    not_counted,
    ship_count,
)
from panel.publish.render.view import PAGE_QUESTION, EditorNote, PageView, Quote

_VERDICT_STYLE = {"ship": "bold green", "skip": "bold red"}
_STATUS_STYLE = {
    "draft": "bold yellow",
    "approved": "bold cyan",
    "rejected": "bold red",
    "published": "bold green",
}
SHIP_RULE = "Panel ship = ship verdicts / valid verdicts; failed and recused ones are not counted."


def verdict_table(view: PageView) -> Table:
    """The compact table `panel review` prints: one row per persona, one column per tool.

    Each cell holds one mark per provider; a recused answer reads "recused", so the
    ships in a column are exactly the ships behind its panel ship %.
    """
    table = Table(
        title=Text(f"{view.title}: {PAGE_QUESTION.lower()}"),
        title_justify="left",
        caption=Text(SHIP_RULE),
        caption_justify="left",
    )
    table.add_column("Reviewer")
    for card in view.cards:
        table.add_column(Text(card.name))
    for row in view.rows:
        cells: list[RenderableType] = [Text(row.title)]
        for card in view.cards:
            cells.append(Text(" ").join(_mark(q) for q in row.quotes[card.slug]) or Text("-"))
        table.add_row(*cells)
    table.add_section()
    table.add_row(
        Text("Panel ship", style="bold"), *(Text(ship_count(view, c.slug)) for c in view.cards)
    )
    if any(c.score.recused or c.score.failed for c in view.cards):
        table.add_row(Text("Not counted"), *(Text(not_counted(view, c.slug)) for c in view.cards))
    table.add_row(Text("Entry"), *(Text(c.entry_price) for c in view.cards))
    return table


def _mark(quote: Quote) -> Text:
    if quote.recused:
        return Text("recused", style="dim")
    if quote.verdict is None:
        return Text("failed", style="yellow")
    return Text(quote.verdict, style=_VERDICT_STYLE.get(quote.verdict, ""))


def pick_line(view: PageView) -> Text:
    """The page's one answer, its reason and its rule, as the page words them."""
    text = Text(f"Ship with {view.pick}. " if view.picked else "No pick. ", style="bold cyan")
    text.append(view.lead_reason)
    if view.quorum_note:
        text.append(
            f" {view.quorum_note}" if view.lead_reason else view.quorum_note, style="bold yellow"
        )
    text.append(f"\n{view.rule_sentence}", style="dim")
    if view.evidence:
        text.append(f"\n{view.evidence}")
    return text


def counts(view: PageView) -> Text:
    return Text(f"Record {view.record_id}: {view.status}; {counts_line(view)}")


def _editorial(editor: EditorView) -> Panel:
    head = Text("Editorial: ", style="bold")
    head.append(editor.status, style=_STATUS_STYLE.get(editor.status, "bold"))
    head.append(f" ({editor.meaning})")
    lines: list[RenderableType] = [head]
    if editor.decided:
        lines.append(Text(editor.decided + (f": {editor.note}" if editor.note else "")))
    if editor.incomplete:
        lines.append(Text(editor.incomplete, style="bold yellow"))
    if editor.stand_in:
        lines.append(Text(f"not a real review: {editor.stand_in}", style="bold red"))
    return Panel(Group(*lines), title="Editorial state", title_align="left")


def _seat_lines(view: PageView, editor: EditorView) -> list[Text]:
    """One plain line per head-to-head seat, its model last: printed unwrapped, never cut."""
    if not editor.seats:
        return []
    first, second = (c.name for c in view.cards)
    lines = aligned(
        ("reviewer", "seat", f"picks ({first} first / {second} first)", "model"),
        [(s.reviewer, s.counted, f"{s.first} / {s.second}", s.provider) for s in editor.seats],
    )
    return [Text(line, style="bold" if i == 0 else "") for i, line in enumerate(lines)]


def _note(note: EditorNote, panel_verdict: str) -> Text:
    line = Text("editor: ", style="bold magenta")
    line.append(note.verdict, style=_VERDICT_STYLE.get(note.verdict, ""))
    line.append(f" ({note.by}, {note.on.isoformat()}; panel majority {panel_verdict}) ")
    line.append(note.note)
    return line


def _scorecard(view: PageView) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for row in view.rows:
        body: list[RenderableType] = []
        for card in view.cards:
            body.append(Text(card.name, style="bold"))
            note = row.notes.get(card.slug)
            if note is not None:
                body.append(_note(note, row.majority.get(card.slug, "none")))
            for quote in row.quotes[card.slug]:
                line = _mark(quote)
                if quote.recused and quote.verdict:
                    line.append(f" {quote.verdict}", style="dim")
                line.append(f" [{quote.provider}] ", style="dim")
                if quote.conflict:
                    line.append(f"({quote.conflict.removeprefix('recused: ')}) ", style="dim")
                line.append(quote.text)
                if quote.detail:  # for the editor only: why there is no answer
                    line.append(f" ({quote.detail})", style="dim")
                body.append(line)
        parts.append(Panel(Group(*body), title=Text(row.title), title_align="left"))
    return parts


def _card(view: PageView, index: int) -> Panel:
    card = view.cards[index]
    votes: Votes = card.votes
    facts = Text(f"Panel ship {ship_count(view, card.slug)}; community {votes.label}")
    listed = "; ".join(f"{s.id} {s.label} {s.url}".rstrip() for s in card.sources)
    sources = Text(f"Sources: {listed}" if listed else f"{card.evidence_note}.", style="dim")
    return Panel(
        Group(Text(card.tagline, style="italic"), Text(card.description), facts, sources),
        title=Text(f"{card.name} - {card.category}"),
        title_align="left",
    )


def _history(editor: EditorView) -> list[RenderableType]:
    if not editor.history:
        return []
    table = Table(title="Editorial history", title_justify="left")
    table.add_column("When", no_wrap=True)
    table.add_column("Action", no_wrap=True)
    table.add_column("By")
    table.add_column("Note", overflow="fold")  # a long word is folded, never cut
    for event in editor.history:
        table.add_row(Text(event.at), Text(event.action), Text(event.by), Text(event.note or "-"))
    return [table]


def _show(comparison: Comparison, console: Console) -> None:
    """The record as an editor checks it: state, table, pick, seats, cards, quotes, history."""
    view = comparison.view
    editor = editor_view(comparison.record, view, comparison.state)
    console.print(_editorial(editor))
    console.print(verdict_table(view))
    console.print(pick_line(view))
    if view.head_to_head:
        console.print(Text("Head-to-head: ", style="bold") + Text(view.head_to_head))
    for line in _seat_lines(view, editor):
        console.print(line, soft_wrap=True)
    if view.trust:
        console.print(Text("How solid: ", style="bold") + Text(view.trust))
    for index in range(len(view.cards)):
        console.print(_card(view, index))
    for part in _scorecard(view):
        console.print(part)
    for part in _history(editor):
        console.print(part)
    console.print(counts(view), soft_wrap=True)  # never wrapped: the id stays copyable


class TerminalRenderer:
    """What `panel show` prints by default: rich output for the console it is shown on.

    Without a console in the context, plain text 100 columns wide (no colour).
    """

    name = "terminal"
    media_type = "text/plain; charset=utf-8"
    suffix = ".txt"
    subjects: tuple[type, ...] = (Comparison,)
    site = False

    def render(self, subject: Subject, context: Context) -> str:
        if not isinstance(subject, Comparison):
            raise unsupported(self, subject)
        console = context.console or Console(file=io.StringIO(), width=100, color_system=None)
        with console.capture() as captured:
            _show(subject, console)
        return captured.get()

    def marked(self, head: bytes) -> bool:
        return False


RENDERER = TerminalRenderer()
