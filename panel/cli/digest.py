"""`panel digest --week 2026-W48`: the week's verdicts as Markdown and an HTML email body."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.digest import Week, write_digest
from panel.site import base_url
from panel.store import DB_NAME, Store
from panel.votes import Votes


def digest_command(
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W48.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder; default runs/digests.")
    ] = None,
) -> None:
    """Write "Weekly AI Tool Verdicts" for one week: WEEK.md and WEEK.html."""
    with user_errors():
        where = home()
        parsed = Week.parse(week)
        site = Config.load(where.config_file).site
        counts: dict[str, Votes] = {}
        if (where.runs / DB_NAME).is_file():
            store = Store.open(where.runs)
            try:
                counts = {s: Votes(*c) for s, c in store.votes().items()}
            finally:
                store.close()
        link = base_url(site.base_url) if site.base_url else None
        md, email, n = write_digest(where.runs, parsed, out or where.runs / "digests", counts, link)
    print(f"digest {parsed.label}: {n} comparisons\n{md}\n{email}")
