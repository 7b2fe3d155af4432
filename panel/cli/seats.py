"""`panel seats`: which models earn their seat (the numbers: ``panel/scoring/seats.py``)."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from panel.cli._common import home, user_errors
from panel.errors import PanelError
from panel.scoring.seats import Proportion, SeatRow, as_json, seats_in


def seats_command(
    since: Annotated[
        str | None, typer.Option("--since", help="Only records made on or after this UTC day.")
    ] = None,
    as_json_: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """One row per seat (provider and model, per persona): validity, cost, agreement."""
    with user_errors():
        try:
            start = date.fromisoformat(since) if since else None
        except ValueError:
            raise PanelError(f"--since {since!r} is not a date; use YYYY-MM-DD") from None
        rows = seats_in(home().runs, start)
    if as_json_:
        json.dump([as_json(r) for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if not rows:
        print("no records" + (f" since {start}" if start else "") + ": no seats to show")
        return
    table = Table(
        "seat", "calls", "valid", "failed", "recused", "abstained", "latency",
        "$ / valid verdict", "order", "kappa (pairs)", "overridden", "rejected",
    )  # fmt: skip
    for row in rows:
        table.add_row(*cells(row))
    Console(width=200).print(table)


def proportion(p: Proportion) -> str:
    """``3/4 75% [30-95%]``, or ``0/0``."""
    if p.share is None or p.low is None or p.high is None:
        return f"{p.k}/{p.n}"
    return f"{p.k}/{p.n} {p.share:.0%} [{p.low:.0%}-{p.high:.0%}]"


def cells(row: SeatRow) -> list[str]:
    failed = ", ".join(f"{reason} {n}" for reason, n in sorted(row.failures.items())) or "0"
    share = row.valid_share
    return [
        f"{row.provider} ({row.model}) as {row.persona}",
        str(row.calls),
        f"{row.valid}" + (f" ({share:.0%})" if share is not None else ""),
        failed,
        str(row.recused),
        str(row.abstained),
        "-" if row.mean_latency_ms is None else f"{row.mean_latency_ms:.0f} ms",
        per_verdict(row),
        proportion(row.order),
        ("-" if row.agreement.value is None else f"{row.agreement.value:.2f}")
        + f" ({row.agreement.pairs})",
        proportion(row.overridden),
        proportion(row.rejected),
    ]


def per_verdict(row: SeatRow) -> str:
    """USD per valid verdict; "unknown" when a price is, "-" with no valid verdict."""
    if row.cost_usd is None:
        return "unknown"
    return "-" if row.cost_per_valid_verdict is None else f"{row.cost_per_valid_verdict:.6f}"
