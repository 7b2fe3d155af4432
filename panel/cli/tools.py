"""`panel tools`: list, show and import catalog entries."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from panel.catalog import Catalog
from panel.cli._common import home, user_errors
from panel.controls import for_terminal
from panel.intake import import_source

app = typer.Typer(help="The tool catalog (catalog/, one TOML file per tool).", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _catalog() -> Catalog:
    return Catalog.load(home().catalog)


@app.command("list")
def list_command(as_json: JsonFlag = False) -> None:
    """List every tool in the catalog."""
    with user_errors():
        catalog = _catalog()
    tools = sorted(catalog.tools.values(), key=lambda t: t.slug)
    if as_json:
        json.dump([t.model_dump(mode="json") for t in tools], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    table = Table("slug", "name", "category", "entry")
    for t in tools:
        price = t.entry_price.value if t.entry_price else "-"
        table.add_row(*(Text(for_terminal(v)) for v in (t.slug, t.name, t.category, price)))
    Console().print(table)


@app.command("show")
def show_command(slug: str, as_json: JsonFlag = False) -> None:
    """Show one tool's catalog entry."""
    with user_errors():
        tool = _catalog().get(slug)
    if as_json:
        sys.stdout.write(tool.model_dump_json(indent=2) + "\n")
        return
    table = Table(show_header=False, box=None)
    for key, value in tool.model_dump(mode="json").items():
        shown = ", ".join(value) if isinstance(value, list) else str(value or "-")
        table.add_row(Text(key, style="bold"), Text(for_terminal(shown)))
    Console().print(table)


@app.command("import")
def import_command(
    source: Annotated[
        str, typer.Argument(help="File or http(s) URL: JSON Lines, CSV, or an RSS/Atom feed.")
    ],
) -> None:
    """Add or update tools. JSON Lines: all or nothing. CSV and feeds: bad items skipped."""
    with user_errors():
        report = import_source(_catalog(), source)
    print(
        f"imported {len(report.added)} new, updated {len(report.updated)}, "
        f"skipped {len(report.skipped)}"
    )
    for slug in report.added:
        print(f"  added   {slug}")
    for slug in report.updated:
        print(f"  updated {slug}")
    for problem in report.skipped:
        print(for_terminal(f"panel: skipped {problem}"), file=sys.stderr)
