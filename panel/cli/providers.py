"""`panel providers list` and `panel providers check NAME`.

``list``: what is configured, whether each key is present, the output mode each provider's
calls last settled on (from the journal, runs/panel.db) and the kinds. ``check``: one small
request per output mode (``panel/pipeline/provider_check.py``) and the panel.toml lines to use.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.config import Config
from panel.errors import PanelError
from panel.pipeline.pricing import PriceBook
from panel.pipeline.provider_check import check
from panel.providers import registry
from panel.providers.kind import ProviderKind
from panel.publish.render.columns import aligned
from panel.records.store import DB_NAME, Store

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
        configured = [*config.panel.providers, *assigned, *config.providers]
        settled = _settled_modes()
        names = list(dict.fromkeys([*configured, *settled]))  # and those that answered here
        prices = PriceBook.of(config.prices)
        rows = []
        for name in names:
            try:
                settings = config.settings(name)
            except PanelError:
                if name in configured:
                    raise
                continue  # a name the journal has that panel.toml no longer defines
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
            rows[-1]["structured"] = settings.structured.value if settings.structured else None
        for row in rows:
            row["mode"] = settled.get(str(row["name"]))
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
        ("provider", "panel", "key", "USD/Mtok in/out", "mode", "base url"),
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
                str(row["mode"] or row["structured"] or "-"),
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
    print("mode: the output mode of a provider's last answered call (or panel.toml's)")
    print("`panel providers check NAME` tries each mode and prints panel.toml lines")


def _settled_modes() -> dict[str, str]:
    """Provider name -> the output mode its last answered call used (the journal), if any."""
    runs = home().runs
    if not (runs / DB_NAME).is_file():
        return {}
    with Store.open(runs) as store:
        return store.modes()


@app.command("check")
def check_command(
    name: Annotated[str, typer.Argument(help="A provider name or address, as in panel.toml.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """Try each output mode with one small request; print what works and the panel.toml lines."""
    with user_errors():
        settings = Config.load(home().config_file).settings(name)
        report = asyncio.run(check(settings))
    base_url = settings.base_url or (report.endpoint if report.endpoint else None)
    if settings.base_url is None and base_url == registry.describe(settings.kind).endpoint:
        base_url = None  # the kind's own server: nothing to pin
    if as_json:
        json.dump(
            {
                "name": report.name,
                "endpoint": report.endpoint,
                "engine": report.engine or None,
                "slots": report.slots,
                "max_in_flight": report.max_in_flight,
                "timeout": report.timeout,
                "modes": [
                    {"mode": m.mode.value, "works": m.works, "seconds": m.seconds, "why": m.why}
                    for m in report.modes
                ],
                "best": report.best.value if report.best else None,
                "toml": report.toml(base_url),
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        print(f"{report.name} at {report.endpoint or 'in-process'}")
        if report.engine:
            print(f"server: {report.engine}, {report.slots or '?'} slot(s)")
        rows = [
            (m.mode.value, "works" if m.works else "no", f"{m.seconds:.1f}s", m.why or "-")
            for m in report.modes
        ]
        print("\n".join(aligned(("mode", "result", "latency", "why not"), rows)))
        print(f"concurrency: {report.max_in_flight} request(s) in flight")
        print()
        print("panel.toml:")
        print("\n".join(report.toml(base_url)))
    if report.best is None:
        print(
            f"panel: error: no output mode of {name} works; see the reasons above", file=sys.stderr
        )
        raise typer.Exit(1)


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
