"""Issue 25, item 4: a provider asked to batch that cannot is named, with why and the fix.

With a gateway in front of the providers (``OPENAI_BASE_URL``, ``base_url``), `--batch` used
to send every call synchronously at full price and log ``batch lines sent 0`` with no reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from tests.support.catalog import make_catalog
from tests.support.fake_llm import FakeLLM, panel_toml

runner = CliRunner()
TOOLS = {
    "new-agent": ("Coding agents", "2026-11-23", ["old-agent"]),
    "old-agent": ("Coding agents", "2026-01-10", []),
}


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def night(home: Home, server: FakeLLM) -> Home:
    make_catalog(home, TOOLS)
    home.config_file.write_text(panel_toml(server))
    return home


def nightly(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["nightly", "--since", "2026-11-20", *args])
    return result.exit_code, result.stdout, result.stderr


def test_explicit_batch_where_no_seat_can_batch_is_one_line(night: Home, server: FakeLLM) -> None:
    for args in (["--batch"], ["--batch", "--dry-run"]):
        code, out, err = nightly(*args)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith("panel: error: --batch: no provider on tonight's panel can batch")
        assert "fake: it talks to the server named by base_url in panel.toml" in err
        assert "set batch = true on [providers.fake]" in err
    assert server.count() == 0


def test_a_gateway_in_the_environment_is_named(
    night: Home, server: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = panel_toml(server).replace(f'base_url = "{server.openai_url}"\n', "")
    night.config_file.write_text(toml)
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
    code, _, err = nightly("--batch")
    assert code == 2 and "named by $OPENAI_BASE_URL" in err


def test_batch_in_panel_toml_runs_synchronously_and_says_why(night: Home, server: FakeLLM) -> None:
    night.config_file.write_text(panel_toml(server).replace("[panel]\n", "[panel]\nbatch = true\n"))
    code, out, _ = nightly("--dry-run")
    plan = json.loads(out)
    assert code == 0 and "set batch = true on [providers.fake]" in plan["not_batched"]["fake"]
    code, out, err = nightly("--wait", "2s")
    summary = json.loads(out)
    assert code == 0, err
    assert summary["calls_made"] == 8 and summary["batch_lines"] == 0
    assert "set batch = true on [providers.fake]" in summary["not_batched"]["fake"]
    assert "not batched: fake runs synchronously at full price: it talks to" in err
    assert "(not batched: fake; see not_batched)" in err.splitlines()[-1]
    assert "waiting up to" not in err  # nothing was batched, so nothing is waited for


def test_a_provider_that_batches_is_not_listed(night: Home, server: FakeLLM) -> None:
    night.config_file.write_text(panel_toml(server) + "batch = true\n")
    code, out, _ = nightly("--dry-run", "--batch")
    assert code == 0 and json.loads(out)["not_batched"] == {}
