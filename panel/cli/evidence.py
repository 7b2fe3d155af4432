"""`panel evidence`: fetch each tool's sources and show the pack reviewers see."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.controls import for_terminal
from panel.errors import PanelError

app = typer.Typer(
    help="Evidence: the sources a catalog entry lists, fetched and shown to reviewers.",
    no_args_is_help=True,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.command("fetch")
def fetch_command(
    slugs: Annotated[
        list[str] | None, typer.Argument(help="Tools to fetch (default: every tool).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fetch the sources of the named tools (or all): robots.txt respected, one request a
    second per host, conditional GETs. A failed source keeps its last snapshot.

    Exit codes: 0 fetched; 1 some source failed; 2 error.
    """
    from panel.evidence.run import fetch_evidence
    from panel.inputs.catalog import Catalog

    with user_errors():
        where = home()
        config = Config.load(where.config_file)
        catalog = Catalog.load(where.catalog)
        for slug in slugs or []:
            if not catalog.evidence_of(catalog.get(slug).slug):
                raise PanelError(
                    f"{slug} lists no sources; add one with `panel tools add-source {slug} URL "
                    "--kind homepage` or [[sources]] in its catalog file (README, 'Sources')"
                )
        if not slugs and not catalog.evidence:
            raise PanelError(
                "no tool lists sources; add [[sources]] to catalog entries (README, 'Sources')"
            )
        report = fetch_evidence(where, config, catalog, slugs or None)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        for line in report.sources:
            detail = f": {line.detail}" if line.detail else ""
            text = f"{line.status:<9} {','.join(line.tools)} {line.kind} {line.url}{detail}"
            print(for_terminal(text), file=sys.stderr if line.status == "failed" else sys.stdout)
        print(report.summary())
    if report.counts()["failed"]:
        raise typer.Exit(1)


@app.command("show")
def show_command(slug: str, as_json: JsonFlag = False) -> None:
    """Show a tool's evidence pack (S1, S2, …) and the state of each source it lists."""
    from panel.evidence.view import evidence_view
    from panel.inputs.catalog import Catalog

    with user_errors():
        where = home()
        config = Config.load(where.config_file)
        view = evidence_view(where, Catalog.load_some(where.catalog, [slug]), config, slug)
    if as_json:
        sys.stdout.write(json.dumps(view, indent=2) + "\n")
        return
    lines = [f"{view['tool']}: {len(view['pack'])} sources in the pack, ~{view['tokens']} tokens"]
    if view["digest"]:
        lines.append(f"digest {view['digest']}")
    if not view["sources"]:
        lines.append("no sources listed: reviewed from the catalog card only")
    for source in view["sources"]:
        head = source["id"] or "--"
        lines.append(f"{head:<4}{source['kind']:<13}{source['url']}  [{source['state']}]")
        if source["title"]:
            lines.append(f"      title: {source['title']}")
        if source["fetched_at"]:
            lines.append(f"      checked {source['fetched_at']}, changed {source['changed_at']}")
        if source["error"]:
            lines.append(f"      last fetch failed ({source['checked_at']}): {source['error']}")
    for shown in view["pack"]:
        lines += ["", f"[{shown['id']}] {shown['title'] or shown['url']}", shown["text"]]
    print(for_terminal("\n".join(lines)))
