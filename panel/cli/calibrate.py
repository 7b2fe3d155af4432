"""`panel calibrate`: panel ship % against community votes."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from panel.cli._common import home, user_errors
from panel.records.store import DB_NAME, Store
from panel.scoring import calibrate as cal


def calibrate_command(
    minimum: Annotated[
        int, typer.Option("--min", help="Fewest voted tools worth calibrating on.")
    ] = cal.MINIMUM,
    plot_path: Annotated[
        Path | None,
        typer.Option("--plot", help="Reliability plot PNG; default runs/calibration.png."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """Compare panel ship % with community votes: correlation, Brier score, bias, a plot."""
    with user_errors():
        where = home()
        votes: dict[str, tuple[int, int]] = {}
        if (where.runs / DB_NAME).is_file():
            with Store.open(where.runs) as store:
                votes = store.votes()
        result = cal.calibrate(cal.points(where.runs, votes), minimum)
        written = None
        if result.enough:
            written = cal.plot(result, plot_path or where.runs / "calibration.png")
    if as_json:
        data = dataclasses.asdict(result)
        data.update(message=result.message, plot=str(written) if written else None)
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(result.message)
    if not result.enough:
        return
    print(f"correlation (Pearson r): {result.correlation}")
    print(f"Brier score: {result.brier} over {result.brier_n} tools with a community majority")
    print(f"bias (panel - community ship share): {result.bias:+.3f}")
    table = Table("seat", "bias")
    for name, value in result.persona_bias.items():
        table.add_row(f"persona {name}", f"{value:+.3f}")
    for name, value in result.provider_bias.items():
        table.add_row(f"provider {name}", f"{value:+.3f}")
    Console().print(table)
    print(f"reliability plot: {written}")
