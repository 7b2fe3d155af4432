"""panel.toml, quorum, cost caps and key hygiene, through the CLI against the loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.config import Config
from panel.errors import PanelError
from panel.paths import Home
from tests.support.fake_llm import Behavior, FakeLLM

SECRET = "sk-live-SHOULD-NEVER-BE-WRITTEN-42"
runner = CliRunner()


@pytest.fixture
def servers() -> Iterator[tuple[FakeLLM, FakeLLM]]:
    with FakeLLM() as one, FakeLLM() as two:
        yield one, two


def write_config(home: Home, one: FakeLLM, two: FakeLLM, panel_extra: str = "") -> None:
    home.config_file.write_text(
        f"""
[panel]
head_to_head = false
providers = ["gpt", "mist"]
retry_attempts = 2
max_retry_after = 1
{panel_extra}

[providers.gpt]
kind = "openai"
model = "gpt-4o-mini"
base_url = "{one.openai_url}"
api_key_env = "TEST_OPENAI_KEY"
timeout = 2

[providers.mist]
kind = "mistral"
model = "mistral-small-latest"
base_url = "{two.url}"
api_key_env = "TEST_MISTRAL_KEY"
timeout = 2
"""
    )


@pytest.fixture
def configured(
    home: Home, servers: tuple[FakeLLM, FakeLLM], monkeypatch: pytest.MonkeyPatch
) -> tuple[Home, FakeLLM, FakeLLM]:
    monkeypatch.setenv("TEST_OPENAI_KEY", SECRET)
    monkeypatch.setenv("TEST_MISTRAL_KEY", SECRET)
    write_config(home, *servers)
    return home, *servers


def review(*extra: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json", *extra])
    return result.exit_code, result.stdout, result.stderr


def test_two_providers_all_valid(configured: tuple[Home, FakeLLM, FakeLLM]) -> None:
    _, one, two = configured
    two.default = Behavior(verdict="skip", confidence=5)
    code, out, err = review()
    assert code == 0, err
    data = json.loads(out)
    assert data["panel"]["providers"] == ["gpt", "mist"]
    assert len(data["calls"]) == 16 and one.count() == 8 and two.count() == 8
    assert {c["mode"] for c in data["calls"]} == {"json_schema"}
    # gpt ships and mist skips everything: every persona splits 1-1, alpha is undefined-free.
    split = data["scores"]["split"][0]
    assert split["majority"] == {"alpha-tool": "tie", "beta-tool": "tie"}
    assert split["published"]["alpha-tool"] == "mist"  # highest confidence wins a tie
    agreement = data["scores"]["agreement"]
    assert agreement["statistic"] == "krippendorff_alpha_nominal"
    assert agreement["providers"] == 2 and agreement["units"] == 8
    assert agreement["value"] == pytest.approx(-0.875)
    # Cost: 100 prompt + 50 completion tokens per call at the built-in prices.
    gpt = (100 * 0.15 + 50 * 0.60) / 1e6
    mist = (100 * 0.10 + 50 * 0.30) / 1e6
    assert data["totals"]["cost_usd"] == pytest.approx(8 * gpt + 8 * mist)


def test_one_provider_down_the_other_finishes(configured: tuple[Home, FakeLLM, FakeLLM]) -> None:
    _, one, _ = configured
    one.default = Behavior(status=500)
    code, out, _ = review()
    data = json.loads(out)
    assert code == 1 and data["status"] == "complete"
    failed = [c for c in data["calls"] if c["status"] == "failed"]
    assert len(failed) == 8 and {c["provider"] for c in failed} == {"gpt"}
    assert {c["failure"]["reason"] for c in failed} == {"server_error"}
    assert all(c["attempts"] == 2 for c in failed)  # retry_attempts = 2 from panel.toml
    assert one.count() == 16


def test_both_down_is_incomplete_exit_3(configured: tuple[Home, FakeLLM, FakeLLM]) -> None:
    _, one, two = configured
    one.default = Behavior(status=401)
    two.default = Behavior(status=429, retry_after="60")
    code, out, _ = review()
    data = json.loads(out)
    assert code == 3 and data["status"] == "incomplete"
    reasons = {c["provider"]: c["failure"]["reason"] for c in data["calls"]}
    assert reasons == {"gpt": "auth", "mist": "rate_limited"}
    assert one.count() == 8 and two.count() == 8  # no retries: 401, and a wait over the cap


def test_keys_never_reach_records_or_output(configured: tuple[Home, FakeLLM, FakeLLM]) -> None:
    home, one, two = configured
    one.default = Behavior(status=401, error_message=f"invalid key {SECRET}")
    two.default = Behavior(status=403, error_message=f"key {SECRET} is not allowed")
    code, out, err = review()
    assert code == 3
    assert SECRET not in out and SECRET not in err
    for path in home.runs.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()
    result = runner.invoke(app, ["providers", "list", "--json"])
    assert SECRET not in result.stdout


def test_per_persona_assignment(
    home: Home, servers: tuple[FakeLLM, FakeLLM], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_OPENAI_KEY", SECRET)
    monkeypatch.setenv("TEST_MISTRAL_KEY", SECRET)
    write_config(home, *servers, panel_extra='assign = { dx = ["mist"] }')
    code, out, _ = review()
    data = json.loads(out)
    assert code == 0
    dx = {c["provider"] for c in data["calls"] if c["persona"] == "dx"}
    others = {c["provider"] for c in data["calls"] if c["persona"] != "dx"}
    assert dx == {"mist"} and others == {"gpt", "mist"}
    assert len(data["calls"]) == 14


def test_max_cost_refuses_to_start(configured: tuple[Home, FakeLLM, FakeLLM]) -> None:
    _, one, two = configured
    code, out, err = review("--max-cost", "0.0001")
    assert code == 2 and out == ""
    assert "exceeds --max-cost $0.0001" in err
    assert one.count() == 0 and two.count() == 0


def test_max_cost_stops_scheduling_when_reached(
    configured: tuple[Home, FakeLLM, FakeLLM],
) -> None:
    home, one, two = configured
    # Each answer reports 10M completion tokens: the first one exhausts a $1 cap.
    one.default = Behavior(usage=(10, 10_000_000), latency=0.05)
    two.default = Behavior(usage=(10, 10_000_000), latency=0.05)
    text = home.config_file.read_text().replace("timeout = 2", "timeout = 2\nmax_in_flight = 1")
    home.config_file.write_text(text)
    code, out, _ = review("--max-cost", "1")
    data = json.loads(out)
    reasons = [c["failure"]["reason"] for c in data["calls"] if c["status"] == "failed"]
    assert reasons and set(reasons) == {"budget"}
    assert one.count() + two.count() < 16
    assert code == 3


def test_max_cost_needs_known_prices(
    configured: tuple[Home, FakeLLM, FakeLLM],
) -> None:
    home, _, _ = configured
    text = home.config_file.read_text().replace('model = "gpt-4o-mini"', 'model = "brand-new"')
    home.config_file.write_text(text)
    code, _, err = review("--max-cost", "5")
    assert code == 2 and "none are known for gpt" in err


def test_provider_flags_work_without_config(
    home: Home, servers: tuple[FakeLLM, FakeLLM], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = servers
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MISTRAL_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", one.openai_url)
    monkeypatch.setenv("MISTRAL_BASE_URL", two.url)
    code, out, err = review(
        "--provider", "openai/gpt-4o-mini", "--provider", "mistral/mistral-small-latest"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["panel"]["providers"] == ["openai/gpt-4o-mini", "mistral/mistral-small-latest"]
    assert one.requests[0]["model"] == "gpt-4o-mini"
    assert two.requests[0]["model"] == "mistral-small-latest"


def test_missing_key_is_one_line_exit_2(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, out, err = review("--provider", "openai/gpt-4o-mini")
    assert code == 2 and out == ""
    assert err == (
        "panel: error: provider openai/gpt-4o-mini needs an API key in $OPENAI_API_KEY; "
        "export OPENAI_API_KEY=... (or set api_key_env in panel.toml)\n"
    )


def test_providers_list_shows_key_presence(
    configured: tuple[Home, FakeLLM, FakeLLM], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_MISTRAL_KEY")
    result = runner.invoke(app, ["providers", "list", "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)["providers"]}
    assert rows["gpt"]["key"] == "yes ($TEST_OPENAI_KEY)"
    assert rows["mist"]["key"] == "no ($TEST_MISTRAL_KEY)"
    assert rows["gpt"]["usd_per_mtok"] == [0.15, 0.6]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[panel\n", "not valid TOML"),
        ("[panel]\nquorum = 'most'\n", "field 'panel.quorum'"),
        ("[providers.x]\nkind = 'openai'\nbase_url = 'ftp://x'\n", "providers.x.base_url"),
        ("[providers.x]\nkind = 'openai'\napi_key = 'sk-123'\n", "providers.x.api_key"),
        ("[prices.'openai/x']\ninput = -1\noutput = 1\n", "input"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "panel.toml"
    path.write_text(content)
    with pytest.raises(PanelError, match=message) as err:
        Config.load(path)
    assert "panel.toml" in str(err.value)


def test_example_config_is_valid() -> None:
    config = Config.load(Path(__file__).resolve().parent.parent / "panel.example.toml")
    assert config.providers and config.panel.providers
