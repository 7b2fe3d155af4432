"""`panel site build`: the static site from approved records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.errors import PanelError
from panel.publish.site import SiteOptions, build

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
    with user_errors():
        where = home()
        config = Config.load(where.config_file).site
        chosen = url or config.base_url
        if not chosen:
            raise PanelError(
                "the site needs its public URL for feeds and the sitemap; "
                "set [site] base_url in panel.toml or pass --base-url https://..."
            )
        report = build(where, SiteOptions.of(config, out, chosen))
    for line in report.skipped:
        print(f"panel: warning: skipped {line}", file=sys.stderr)
    for record in report.published:
        print(f"published {record}")
    print(
        f"site {report.out}: {_n(report.comparisons, 'comparison')}, "
        f"{_n(report.tools, 'tool page')}; {_n(len(report.written), 'file')} written, "
        f"{report.unchanged} unchanged, "
        f"{len(report.removed)} removed"
        + (f"; {report.modes_fixed} file modes fixed" if report.modes_fixed else "")
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
