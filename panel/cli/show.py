"""`panel show RECORD [--format NAME]`: a record in any output format panel has."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from panel.cli._common import home, user_errors
from panel.errors import PanelError


def show_command(
    record: Annotated[str, typer.Argument(help="Record path, or id such as 2026-11-24/a-vs-b.")],
    output: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help=(
                "terminal (default): what an editor checks; markdown: the same laid out like "
                "the page; json: the page's data file; html: the page as the site publishes it."
            ),
        ),
    ] = None,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="The same as --format markdown.")
    ] = False,
) -> None:
    """Render a comparison record: the page's content plus its editorial state and history."""
    from panel.publish.show import show  # imported here: `panel` starts without it

    with user_errors():
        if as_markdown and output not in (None, "markdown"):
            raise PanelError(f"--markdown and --format {output} disagree; pass one of them")
        name = "markdown" if as_markdown else output or "terminal"
        rendered = show(home(), record, name, Console())
    if isinstance(rendered, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(rendered)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(rendered)
