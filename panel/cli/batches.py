"""`panel batches list|cancel`: the nightly's open Batch API jobs."""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.lock import exclusive
from panel.pipeline.session import RunSession
from panel.publish.render.columns import aligned
from panel.records.batch_journal import BatchJournal, listing

app = typer.Typer(help="Batch API jobs sent by `panel nightly --batch`.", no_args_is_help=True)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_duration(text: str, option: str = "--wait") -> float:
    """Seconds in ``90``, ``90s``, ``30m`` or ``2h``; else a one-line usage error."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter(
            f"{text!r} is not a duration; use seconds or 90s, 30m, 2h", param_hint=option
        )
    return float(match.group(1)) * _UNIT[match.group(2)]


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Closed batches too (completed, failed...).")
    ] = False,
) -> None:
    """Open batches: provider, lines, lines done, age, cost so far (as of the last collect)."""
    with user_errors(), RunSession(home()) as session:
        rows = listing(BatchJournal(session.store), everything)
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if not rows:
        print("no open batches" if not everything else "no batches")
        return
    header = ("id", "provider", "state", "lines", "done", "age", "cost so far", "estimated")
    table = [
        (r["id"], r["provider"], r["state"], r["lines"], r["done"], r["age"],
         f"${r['cost_usd']:.4f}",
         "?" if r["estimated_usd"] is None else f"${r['estimated_usd']:.4f}")
        for r in rows
    ]  # fmt: skip
    print("\n".join(aligned(header, table)))


@app.command("cancel")
def cancel_command(
    ident: Annotated[str, typer.Argument(help="panel's batch id or the provider's.")],
) -> None:
    """Ask the provider to cancel a batch; the next `panel nightly` re-plans its calls."""
    with user_errors():
        where = home()
        with exclusive(where.runs / "nightly.lock", "panel nightly"), RunSession(where) as session:
            path = session.batch_path(f"cancel-{ident}")
            batch = session.run(path.cancel(ident))
    print(f"cancel requested for {batch.id} on {batch.provider}; `panel nightly` collects it")


@app.command("close")
def close_command(
    ident: Annotated[str, typer.Argument(help="panel's batch id or the provider's.")],
) -> None:
    """Close a batch here, whatever its provider says (one it cannot cancel, say): its calls
    go back to planned and the next `panel nightly` sends them again. Results the provider
    sends later for it are not read; cancel it in the provider's console if it still runs."""
    with user_errors():
        where = home()
        with exclusive(where.runs / "nightly.lock", "panel nightly"), RunSession(where) as session:
            batch, lost = session.batch_path(f"close-{ident}").close(ident)
    print(f"closed {batch.id} on {batch.provider} here; {lost} calls go back to planned")
