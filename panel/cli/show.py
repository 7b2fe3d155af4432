"""`panel show RECORD`: a record as an editor checks it, in the terminal or as Markdown."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from panel.cli._common import home, user_errors
from panel.inputs.votes import stored_votes
from panel.publish.render import markdown, terminal
from panel.records.io import read_record, resolve


def show_command(
    record: Annotated[str, typer.Argument(help="Record path, or id such as 2026-11-24/a-vs-b.")],
    as_markdown: Annotated[
        bool,
        typer.Option(
            "--markdown",
            help="Print Markdown laid out like the published page, with the editorial state.",
        ),
    ] = False,
) -> None:
    """Render a comparison record: the page's content plus its editorial state and history."""
    with user_errors():
        runs = home().runs
        loaded = read_record(resolve(runs, record))
        votes = stored_votes(runs)
    if as_markdown:
        sys.stdout.write(markdown.render(loaded, votes))
    else:
        terminal.render(loaded, Console(), votes)
