"""`panel site build`: the static site from approved records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from panel.cli._common import home, user_errors

app = typer.Typer(help="The published site.", no_args_is_help=True)


@app.command("build")
def build_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("site"),
    url: Annotated[
        str | None,
        typer.Option("--base-url", help="Public URL of the site; default [site] base_url."),
    ] = None,
) -> None:
    """Build the site from approved records (incremental; unchanged pages are not rewritten).

    Exit codes: 0 built; 2 bad input (no base URL, bad panel.toml, unwritable folder);
    75 another build of the same site folder is running.
    """
    from panel.publish.site import build  # imported here: `panel` starts without it
    from panel.publish.siteconfig import configured, summary

    with user_errors():
        where = home()
        options = configured(where, out, url)
        report = build(where, options)
    for line in report.skipped:
        print(f"panel: warning: skipped {line}", file=sys.stderr)
    for record in report.published:
        print(f"published {record}")
    for line in report.stand_ins:
        print(f"panel: warning: published {line}: not a real review", file=sys.stderr)
    print(summary(report))
