"""`panel nightly --batch` against a loopback fake of OpenAI's and Mistral's Batch APIs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.inputs.catalog import Catalog, Tool
from panel.paths import Home
from tests.support.fake_batch import FakeBatch, batch_toml

runner = CliRunner()
TOOLS = {
    "new-agent": ("Coding agents", "2026-11-23", ["old-agent"]),
    "new-runtime": ("Local inference runtimes", "2026-11-23", []),
    "old-agent": ("Coding agents", "2026-01-10", []),
    "old-runtime": ("Local inference runtimes", "2025-06-01", []),
}
CALLS = 16  # 2 comparisons x 2 tools x 4 fixture personas


@pytest.fixture
def server() -> Iterator[FakeBatch]:
    with FakeBatch(steps=1) as fake:
        yield fake


def make_catalog(home: Home, tools: dict[str, tuple[str, str, list[str]]], **vendors: str) -> None:
    for path in home.catalog.iterdir():
        path.unlink()
    catalog = Catalog.load(home.catalog)
    for slug, (category, launched, competitors) in tools.items():
        catalog.save(
            Tool.model_validate(
                {"slug": slug, "name": slug.replace("-", " ").title(), "category": category,
                 "launched": launched, "competitors": competitors,
                 "vendor": vendors.get(slug.replace("-", "_"), f"{slug} Inc"),
                 "description": f"{slug} does things."}
            )
        )  # fmt: skip


@pytest.fixture
def night(home: Home, server: FakeBatch) -> Home:
    make_catalog(home, TOOLS)
    home.config_file.write_text(batch_toml(server))
    return home


def nightly(*args: str) -> tuple[int, dict[str, Any], str]:
    result = runner.invoke(app, ["nightly", "--since", "2026-11-20", *args])
    try:
        summary = json.loads(result.stdout)
    except json.JSONDecodeError:
        summary = {}
    return result.exit_code, summary, result.stderr


def records(home: Home) -> list[str]:
    return sorted(p.name for p in home.runs.glob("2*/*.json"))


def test_a_night_entirely_through_batches(night: Home, server: FakeBatch) -> None:
    code, summary, err = nightly()
    assert code == 0, err
    assert summary["waiting"] == 2 and summary["batch_lines"] == CALLS
    assert server.count() == 0 and server.created() == 1  # zero synchronous calls
    assert records(night) == []
    code, summary, err = nightly()
    assert code == 0, err
    assert summary["done"] == 2 and summary["waiting"] == 0 and summary["batches_open"] == 0
    assert server.count() == 0 and server.created() == 1 and len(server.lines) == CALLS
    assert len(records(night)) == 2
    assert summary["cost_usd"] == pytest.approx(summary["sync_usd"] / 2) or summary["cost_usd"] == 0
