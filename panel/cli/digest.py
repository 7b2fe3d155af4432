"""`panel digest --week 2026-W48`: the week's verdicts as Markdown and an HTML email body."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.inputs.votes import stored_votes

EMPTY_WEEK = 3  # exit code: nothing was published that week, so nothing was written


def digest_command(
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W48.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder; default runs/digests.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="Public URL of the site, for links; default [site] base_url."
        ),
    ] = None,
) -> None:
    """Write "Weekly AI Tool Verdicts" for one week: WEEK.md and WEEK.html.

    A comparison is in the week it was approved for publication. Exit codes: 0 written;
    2 bad input; 3 nothing was published that week, so nothing was written.
    """
    from panel.publish.digest import Week, write_digest  # imported here: `panel` starts without it
    from panel.publish.site import base_url

    with user_errors():
        where = home()
        parsed = Week.parse(week)
        site = Config.load(where.config_file).site
        chosen = url or site.base_url
        link = base_url(chosen) if chosen else None
        counts = stored_votes(where.runs)
        result = write_digest(where.runs, parsed, out or where.runs / "digests", counts, link)
    for line in result.skipped:
        print(f"panel: warning: skipped {line}", file=sys.stderr)
    if not result.paths:
        print(f"digest {parsed.label}: no comparisons were published that week; nothing written")
        raise typer.Exit(EMPTY_WEEK)
    plural = "" if result.count == 1 else "s"
    print(f"digest {parsed.label}: {result.count} comparison{plural}")
    for path in result.paths:
        print(path)
    if not link:
        print(
            "panel: note: the digest has no links; set [site] base_url or pass --base-url",
            file=sys.stderr,
        )
