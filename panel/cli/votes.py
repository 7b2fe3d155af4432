"""`panel votes`: community votes into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from panel.cli._common import home, user_errors
from panel.inputs import votes
from panel.inputs.catalog import Catalog
from panel.records.store import Store

app = typer.Typer(help="Community votes (CSV: tool slug, ship votes, skip votes).")


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV with columns tool,ship,skip.")],
) -> None:
    """Import vote totals; a tool's new counts replace its old ones. All or nothing."""
    with user_errors():
        where = home()
        parsed = votes.parse(file, Catalog.load(where.catalog))
        with Store.open(where.runs) as store:
            store.set_votes(((s, v.ship, v.skip) for s, v in parsed.items()), str(file))
    print(f"imported votes for {len(parsed)} tool{'' if len(parsed) == 1 else 's'} from {file}")


@app.command("list")
def list_command() -> None:
    """Show the stored vote totals."""
    with user_errors(), Store.open(home().runs) as store:
        counts = store.votes()
    table = Table("tool", "ship", "skip", "shown as")
    for slug, (ship, skip) in sorted(counts.items()):
        label = votes.Votes(ship, skip).label
        table.add_row(Text(slug), str(ship), str(skip), Text(label))
    Console().print(table)
