"""`panel show RECORD`: a record in the terminal, or as Markdown."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from panel.cli._common import home, user_errors
from panel.records import read_record, resolve
from panel.render import markdown, terminal


def show_command(
    record: Annotated[str, typer.Argument(help="Record path, or id such as 2026-11-24/a-vs-b.")],
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown laid out like the published page.")
    ] = False,
) -> None:
    """Render a comparison record."""
    with user_errors():
        loaded = read_record(resolve(home().runs, record))
    if as_markdown:
        sys.stdout.write(markdown.render(loaded))
    else:
        terminal.render(loaded, Console())
