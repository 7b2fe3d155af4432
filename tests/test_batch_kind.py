"""Issue 29: a kind with a Batch API is its module, its batch module and one registry line.

The throwaway ``tbatch`` kind (tests/support/throwaway_batch_kind.py and throwaway_batch.py)
runs a night through its Batch API against the loopback fake, end to end: listed as
batching, lines submitted, collected, judged, recorded at its own batch price, and a rerun
of the finished night sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.providers import registry
from panel.providers.base import ProviderSettings
from tests.support.catalog import make_catalog
from tests.support.fake_batch import FakeBatch
from tests.test_batch import CALLS, TOOLS

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeBatch]:
    with FakeBatch(steps=1) as fake:
        yield fake


@pytest.fixture
def tbatch(home: Home, server: FakeBatch, monkeypatch: pytest.MonkeyPatch) -> Home:
    """The one registry line (the kind's two modules are in tests/support)."""
    monkeypatch.setitem(registry.KINDS, "tbatch", "tests.support.throwaway_batch_kind")
    make_catalog(home, TOOLS)
    home.config_file.write_text(
        f"""
[panel]
providers = ["tb"]
retry_attempts = 2
batch_poll = 0.05
head_to_head = false

[providers.tb]
kind = "tbatch"
model = "m"
base_url = "{server.openai_url}"
api_key_env = ""
batch = true
"""
    )
    return home


def nightly(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["nightly", "--since", "2026-11-20", *args])
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_the_descriptor_says_it_batches(tbatch: Home) -> None:
    listed = json.loads(runner.invoke(app, ["providers", "list", "--json"]).stdout)
    detail = next(k for k in listed["kind_details"] if k["name"] == "tbatch")
    assert detail["batch"] is True
    plain = ProviderSettings(name="t", kind="tbatch", model="m", api_key_env="")
    assert registry.batch_api(registry.create(plain)) is not None  # at its own endpoint
    elsewhere = ProviderSettings(
        name="t", kind="tbatch", model="m", api_key_env="", base_url="http://127.0.0.1:9/v1"
    )
    assert registry.batch_api(registry.create(elsewhere)) is None  # another server opts in


def test_a_night_through_a_new_kinds_batch_api(tbatch: Home, server: FakeBatch) -> None:
    first = nightly()
    assert first["batch_lines"] == CALLS and first["waiting"] == 2
    assert server.count() == 0 and server.created() == 1  # no synchronous call
    second = nightly("--wait", "30s")
    assert second["done"] == 2 and second["batches_open"] == 0
    assert len(server.lines) == CALLS and server.count() == 0
    per_call = (100 * 1.0 + 50 * 2.0) / 1_000_000  # the fake's usage at the kind's list price
    assert second["cost_usd"] == pytest.approx(CALLS * per_call * 0.4)  # its own discount
    asked = len(server.calls)
    third = nightly()  # the finished night again: nothing sent anywhere
    assert third["planned"] == 0 and len(server.calls) == asked and server.count() == 0
