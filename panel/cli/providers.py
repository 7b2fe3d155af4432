"""`panel providers list`: what is configured, whether each key is present, and the kinds."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.errors import PanelError
from panel.pipeline.pricing import PriceBook
from panel.providers import registry
from panel.providers.kind import ProviderKind
from panel.publish.render.columns import aligned

app = typer.Typer(
    help="Model providers (panel.toml [providers] and addresses).", no_args_is_help=True
)


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """List the providers on the panel and in panel.toml (key status, prices) and the kinds."""
    with user_errors():
        config = Config.load(home().config_file)
        assigned = [n for names in config.panel.assign.values() for n in names]
        names = list(dict.fromkeys([*config.panel.providers, *assigned, *config.providers]))
        prices = PriceBook.of(config.prices)
        rows = []
        for name in names:
            settings = config.settings(name)
            rate = prices.rate(settings)
            rows.append(
                {
                    "name": name,
                    "kind": settings.kind,
                    "model": settings.model,
                    "on_panel": name in config.panel.providers,
                    "base_url": settings.base_url,
                    "key": registry.describe(settings.kind).key_status(settings),
                    "usd_per_mtok": None if rate is None else [rate.input, rate.output],
                    "max_in_flight": settings.limits.max_in_flight,
                }
            )
        kinds = registry.installed()
    if as_json:
        details = [_kind_json(name, kind) for name, kind in kinds.items()]
        json.dump(
            {"kinds": sorted(kinds), "kind_details": details, "providers": rows},
            sys.stdout,
            indent=2,
        )
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
    print()
    print(
        "\n".join(
            aligned(("kind (address)", "key", "batch", "structured output"), _kind_rows(kinds))
        )
    )
    print("any kind/model address works with --provider; --json shows prices and vendors")


def _kind_rows(kinds: dict[str, ProviderKind | PanelError]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, kind in kinds.items():
        if isinstance(kind, PanelError):
            rows.append((f"{name}/<model>", "-", "-", "not installed: run `make install`"))
            continue
        rows.append(
            (
                kind.address,
                "none" if kind.key_env is None else f"${kind.key_env}",
                "yes" if kind.capabilities.batch else "no",
                "/".join(rung.value for rung in kind.capabilities.structured),
            )
        )
    return rows


def _kind_json(name: str, kind: ProviderKind | PanelError) -> dict[str, object]:
    if isinstance(kind, PanelError):
        return {"name": name, "installed": False, "error": str(kind)}
    return {
        "name": name,
        "installed": True,
        "address": kind.address,
        "summary": kind.summary,
        "key_env": kind.key_env,
        "base_url_env": kind.base_url_env,
        "endpoint": kind.endpoint,
        "vendor": kind.vendor,
        "model_vendors": dict(kind.model_vendors),
        "structured": [rung.value for rung in kind.capabilities.structured],
        "batch": kind.capabilities.batch,
        "free": kind.free,
        "usd_per_mtok": {model: list(price) for model, price in kind.prices.items()},
        "prices_date": kind.prices_date or None,
    }


def _label(name: str, address: str) -> str:
    """A provider's name, with the model it stands for when the name is not the address."""
    return name if name == address else f"{name} = {address}"
