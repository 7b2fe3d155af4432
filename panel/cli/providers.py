"""`panel providers list`: what is configured, and whether each key is present."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.pipeline.pricing import PriceBook
from panel.providers.keys import key_present
from panel.providers.registry import KINDS, module_for
from panel.publish.render.columns import aligned

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
    lines = aligned(
        ("provider", "panel", "key", "USD/Mtok in/out", "base url"),
        [
            (
                _label(str(row["name"]), f"{row['kind']}/{row['model']}"),
                "yes" if row["on_panel"] else "-",
                row["key"],
                "unknown"
                if row["usd_per_mtok"] is None
                else "{:g} / {:g}".format(
                    *row["usd_per_mtok"]  # type: ignore[misc]
                ),
                row["base_url"] or "-",
            )
            for row in rows
        ],
    )
    print("\n".join(lines))  # plain lines: names and URLs are never cut
    print(f"kinds: {', '.join(sorted(KINDS))}; any address kind/model works with --provider")


def _label(name: str, address: str) -> str:
    """A provider's name, with the model it stands for when the name is not the address."""
    return name if name == address else f"{name} = {address}"
