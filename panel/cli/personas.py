"""`panel personas list`: the reviewers on the panel."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from panel.cli._common import home, user_errors
from panel.inputs.personas import load_personas

app = typer.Typer(help="Reviewer personas (personas/*.toml + prompts/*.j2).", no_args_is_help=True)


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """List the personas, their fields and whether they sit on the default panel."""
    with user_errors():
        where = home()
        personas = load_personas(where.personas, where.prompts)
    if as_json:
        rows = [
            {
                "name": p.name,
                "title": p.spec.title,
                "default": p.spec.default,
                "template": p.spec.template,
                "fields": p.field_names,
            }
            for p in personas.values()
        ]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    table = Table("name", "title", "default", "fields", "template")
    for p in personas.values():
        table.add_row(
            Text(p.name),
            Text(p.spec.title),
            "yes" if p.spec.default else "no",
            Text(", ".join(p.field_names)),
            Text(p.spec.template),
        )
    Console().print(table)
