"""`panel tools`: list, show and import catalog entries; list a source on one."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.controls import for_terminal
from panel.errors import PanelError
from panel.inputs.catalog import Catalog, Tool
from panel.inputs.intake import ImportReport, import_source
from panel.inputs.sources import import_configured, typed
from panel.inputs.toolsources import KINDS, source_ref

app = typer.Typer(help="The tool catalog (catalog/, one TOML file per tool).", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _catalog() -> Catalog:
    return Catalog.load(home().catalog)


def _entry(catalog: Catalog, tool: Tool) -> dict[str, Any]:
    """The entry as JSON data, with ``source``: the intake source that added it ("" = editor),
    and ``sources``: the evidence sources it lists."""
    return {
        **tool.model_dump(mode="json"),
        "source": catalog.source_of(tool.slug),
        "sources": [ref.as_toml() for ref in catalog.evidence_of(tool.slug)],
    }


@app.command("list")
def list_command(as_json: JsonFlag = False) -> None:
    """List every tool in the catalog."""
    with user_errors():
        catalog = _catalog()
    tools = sorted(catalog.tools.values(), key=lambda t: t.slug)
    if as_json:
        json.dump([_entry(catalog, t) for t in tools], sys.stdout, indent=2)
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
        catalog = _catalog()
        tool = catalog.get(slug)
    if as_json:
        sys.stdout.write(json.dumps(_entry(catalog, tool), indent=2) + "\n")
        return
    table = Table(show_header=False, box=None)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")  # URLs and paths wrap whole, never cut with "..."
    for key, value in _entry(catalog, tool).items():
        if key == "sources":
            shown = "\n".join(f"{s['kind']}: {s['url']}" for s in value) or "-"
        else:
            shown = ", ".join(value) if isinstance(value, list) else str(value or "-")
        table.add_row(Text(key, style="bold"), Text(for_terminal(shown)))
    Console().print(table)


@app.command("add-source")
def add_source_command(
    slug: str,
    url: Annotated[str, typer.Argument(help="The source's http(s) address.")],
    kind: Annotated[str, typer.Option("--kind", "-k", help=f"One of: {KINDS}.")],
) -> None:
    """List an evidence source on a tool's catalog entry (last; `panel evidence fetch` reads it).

    The entry's file is rewritten (comments in it are not kept).
    """
    with user_errors():
        catalog = _catalog()
        tool = catalog.get(slug)
        ref = source_ref(url, kind, f"panel tools add-source {tool.slug}")
        added = catalog.add_source(tool.slug, ref)
    if added:
        print(f"{tool.slug}: listed {ref.kind.value} {ref.url}")
    else:
        print(f"{tool.slug}: {ref.kind.value} {ref.url} was listed already")


@app.command("import")
def import_command(
    source: Annotated[
        str | None,
        typer.Argument(
            help="File or http(s) URL: JSON Lines, CSV, or an RSS/Atom feed. "
            "Omit it to import every source configured in panel.toml."
        ),
    ] = None,
    names: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="A source from [intake.sources]; repeatable."),
    ] = None,
    deny_private: Annotated[
        bool,
        typer.Option(
            "--deny-private",
            help="Refuse a URL (or redirect) to a loopback, private or reserved address.",
        ),
    ] = False,
) -> None:
    """Add tools. An entry changes only from its own source, when that source may update it.

    JSON Lines: all or nothing. CSV and feeds: bad items skipped. Conflicts (an item that
    would change an entry it may not, or looks like one) are reported and not imported.
    Exit codes: 0 imported; 1 some conflicts or a configured source failed; 2 error.
    """
    with user_errors():
        where = home()
        config = Config.load(where.config_file)
        if source is not None and names:
            raise PanelError("give a file or URL, or --source names, not both")
        if source is not None:
            chosen = typed(config, where, source, deny_private)
            outcomes: list[tuple[str, ImportReport | PanelError]] = [
                ("", import_source(_catalog(), chosen))
            ]
        else:
            if not names and not config.intake.sources:
                raise PanelError(
                    "nothing to import: give a file or URL, or add [intake.sources.<name>] "
                    "to panel.toml (see panel.example.toml)"
                )
            outcomes = import_configured(where, config, names or None)
    failed = False
    for name, outcome in outcomes:
        failed = _print(name, outcome) or failed
    if failed:
        raise typer.Exit(1)


def _print(name: str, outcome: ImportReport | PanelError) -> bool:
    """Print one source's outcome; True if it failed or had conflicts."""
    prefix = f"{name}: " if name else ""
    if isinstance(outcome, PanelError):
        print(for_terminal(f"panel: error: {prefix}{outcome}"), file=sys.stderr)
        return True
    print(f"{prefix}{outcome.summary()}")
    for slug in outcome.added:
        print(f"  added   {slug}")
    for slug in outcome.updated:
        print(f"  updated {slug}")
    for problem in outcome.skipped:
        print(for_terminal(f"panel: skipped {problem}"), file=sys.stderr)
    for conflict in outcome.conflicts:
        print(for_terminal(f"panel: conflict {conflict}"), file=sys.stderr)
    return bool(outcome.conflicts)
