"""`panel providers list`: what is configured, and whether each key is present."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.pricing import PriceBook
from panel.providers.keys import key_present
from panel.providers.registry import KINDS, module_for

app = typer.Typer(
    help="Model providers (panel.toml [providers] and addresses).", no_args_is_help=True
)


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """List the providers on the panel and in panel.toml, with key status and prices."""
    with user_errors():
        config = Config.load(home().config_file)
        assigned = [n for names in config.panel.assign.values() for n in names]
        names = list(dict.fromkeys([*config.panel.providers, *assigned, *config.providers]))
        prices = PriceBook({k: (v.input, v.output) for k, v in config.prices.items()})
        rows = []
        for name in names:
            settings = config.settings(name)
            key_env = getattr(module_for(settings.kind), "KEY_ENV", None)
            rate = prices.rate(settings)
            rows.append(
                {
                    "name": name,
                    "kind": settings.kind,
                    "model": settings.model,
                    "on_panel": name in config.panel.providers,
                    "base_url": settings.base_url,
                    "key": key_present(settings, key_env),
                    "usd_per_mtok": None if rate is None else [rate.input, rate.output],
                    "max_in_flight": settings.limits.max_in_flight,
                }
            )
    if as_json:
        json.dump({"kinds": sorted(KINDS), "providers": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    table = Table("name", "kind", "model", "panel", "key", "USD/Mtok in/out", "base url")
    for row in rows:
        price = row["usd_per_mtok"]
        table.add_row(
            Text(str(row["name"])),
            Text(str(row["kind"])),
            Text(str(row["model"])),
            "yes" if row["on_panel"] else "-",
            Text(str(row["key"])),
            "unknown" if price is None else f"{price[0]:g} / {price[1]:g}",  # type: ignore[index]
            Text(str(row["base_url"] or "-")),
        )
    Console().print(table)
    print(f"kinds: {', '.join(sorted(KINDS))}; any address kind/model works with --provider")
