"""A record in the terminal (rich). Untrusted text is passed as ``Text``, never as markup."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from panel.models import ComparisonRecord
from panel.render.view import PAGE_QUESTION, PageView, Quote, page_view

_VERDICT_STYLE = {"ship": "bold green", "skip": "bold red"}


def verdict_table(view: PageView) -> Table:
    """The compact table `panel review` prints: one row per persona, one column per tool."""
    table = Table(title=Text(f"{view.title}: {PAGE_QUESTION.lower()}"), title_justify="left")
    table.add_column("Reviewer")
    for card in view.cards:
        table.add_column(Text(card.name))
    for row in view.rows:
        cells: list[RenderableType] = [Text(row.title)]
        for card in view.cards:
            cells.append(Text(" ").join(_mark(q) for q in row.quotes[card.slug]) or Text("-"))
        table.add_row(*cells)
    table.add_section()
    table.add_row(Text("Panel ship", style="bold"), *(Text(c.ship_label) for c in view.cards))
    table.add_row(Text("Entry"), *(Text(c.entry_price) for c in view.cards))
    return table


def _mark(quote: Quote) -> Text:
    if quote.verdict is None:
        return Text("failed", style="yellow")
    return Text(quote.verdict, style=_VERDICT_STYLE.get(quote.verdict, ""))


def pick_line(view: PageView) -> Text:
    text = Text("Panel pick: ", style="bold")
    text.append(view.pick, style="bold cyan")
    text.append(f" ({view.pick_reason})")
    return text


def _scorecard(view: PageView) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for row in view.rows:
        body: list[RenderableType] = []
        for card in view.cards:
            body.append(Text(card.name, style="bold"))
            for quote in row.quotes[card.slug]:
                line = _mark(quote)
                line.append(f" [{quote.provider}] ", style="dim")
                line.append(quote.text)
                body.append(line)
        parts.append(Panel(Group(*body), title=Text(row.title), title_align="left"))
    return parts


def render(record: ComparisonRecord, console: Console) -> None:
    view = page_view(record)
    console.print(verdict_table(view))
    console.print(pick_line(view))
    for card in view.cards:
        console.print(
            Panel(
                Group(Text(card.tagline, style="italic"), Text(card.description)),
                title=Text(f"{card.name} - {card.category}"),
                title_align="left",
            )
        )
    for part in _scorecard(view):
        console.print(part)
    console.print(
        Text(f"Record {view.record_id}: {view.status}, {view.valid}/{view.calls} valid verdicts")
    )
