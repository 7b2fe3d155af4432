"""Issue 17, item 4: a provider kind is one module (its ``KIND`` descriptor) and one registry line.

Key variable, vendor, prices, hints and capabilities are declared once, in the kind's
module, and everything else is derived from the descriptor.
"""

from __future__ import annotations

import asyncio
import json
import sys
import types
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.paths import Home
from panel.pipeline.pricing import FREE, PriceBook, Rate
from panel.providers import mock, registry
from panel.providers.base import ProviderSettings, StructuredMode
from tests.support.local_extra import needs_local

runner = CliRunner()


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one registry line a new kind needs (tests/support/throwaway_kind.py is the module)."""
    monkeypatch.setitem(registry.KINDS, "throwaway", "tests.support.throwaway_kind")
    monkeypatch.delenv("THROWAWAY_API_KEY", raising=False)


def settings(address: str, **extra: Any) -> ProviderSettings:
    kind, model = registry.parse_spec(address)
    return ProviderSettings(name=address, kind=kind, model=model, **extra)


def test_a_new_kind_is_listed_with_its_key_variable_capabilities_and_prices(
    home: Home, throwaway: None
) -> None:
    home.config_file.write_text('[panel]\nproviders = ["throwaway/tiny"]\n')
    listed = runner.invoke(app, ["providers", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert "throwaway" in data["kinds"]
    (row,) = data["providers"]
    assert row["key"] == "no ($THROWAWAY_API_KEY)"
    assert row["usd_per_mtok"] == [1.0, 2.0]
    detail = next(k for k in data["kind_details"] if k["name"] == "throwaway")
    assert detail["address"] == "throwaway/<model>"
    assert (detail["structured"], detail["batch"]) == (["json_object"], False)  # no Batch API
    assert (detail["vendor"], detail["prices_date"]) == ("Alpha Inc", "2026-01")
    local = next(k for k in data["kind_details"] if k["name"] == "local")
    assert (local["vendor"], local["model_vendors"]) == ("", {"smollm2": "Hugging Face"})
    text = runner.invoke(app, ["providers", "list"]).stdout
    kinds = {line.split()[0]: line.split()[1:] for line in text.splitlines() if "/<" in line}
    assert kinds["throwaway/<model>"] == ["$THROWAWAY_API_KEY", "no", "json_object"]
    assert kinds["mock/<name>"] == ["none", "no", "json_schema"]


def test_a_new_kind_names_its_key_variable_when_the_key_is_missing(
    home: Home, throwaway: None
) -> None:
    result = runner.invoke(
        app, ["review", "alpha-tool", "beta-tool", "--provider", "throwaway/tiny"]
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "panel: error: provider throwaway/tiny needs an API key in $THROWAWAY_API_KEY; "
        "export THROWAWAY_API_KEY=... (or set api_key_env in panel.toml)\n"
    )


def test_a_new_kind_reviews_priced_and_recused_by_its_descriptor(
    home: Home, throwaway: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THROWAWAY_API_KEY", "tw-test-key")
    flags = ["--provider", "throwaway/tiny", "--provider", "mock/second-seat", "--json"]
    capped = runner.invoke(
        app, ["review", "alpha-tool", "beta-tool", "--max-cost", "0.001", *flags]
    )
    assert capped.exit_code == 2 and "exceeds --max-cost $0.0010" in capped.stderr  # priced
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", *flags])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    mine = [c for c in record["calls"] if c["provider"] == "throwaway/tiny"]
    assert len(mine) == 8 and all(c["status"] == "ok" for c in mine)
    # 1,000 prompt and 500 completion tokens at the descriptor's $1 / $2 per million
    assert {c["cost_usd"] for c in mine if not c["recused"]} == {0.002}
    # the descriptor's vendor, "Alpha Inc", makes alpha-tool: those seats are recused
    assert all(c["recused"] is (c["tool"] == "alpha-tool") for c in mine)
    assert record["totals"]["recused"] == 4
    # issue 25, item 10: recused calls are planned out, never sent and never paid for
    assert {(c["cost_usd"], c["attempts"]) for c in mine if c["recused"]} == {(0.0, 0)}
    assert record["totals"]["spent_usd"] == pytest.approx(0.008)
    assert record["scores"]["trust"]["conflicts"] == ["throwaway/tiny reviewing alpha-tool"]


def test_an_unknown_provider_name_is_hinted_from_the_registered_kinds(
    home: Home, throwaway: None
) -> None:
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--provider", "throwaway"])
    assert result.exit_code == 2
    assert "unknown provider 'throwaway'; did you mean throwaway/<model>?" in result.stderr


@pytest.mark.parametrize("name", sorted(registry.KINDS))
def test_every_shipped_kind_declares_a_consistent_descriptor(name: str) -> None:
    kind = registry.describe(name)
    assert kind.name == name and kind.summary and kind.capabilities.structured
    assert kind.address.startswith(f"{name}/")
    hosted = kind.key_env is not None
    assert hosted is bool(kind.endpoint) is (not kind.free) is bool(kind.prices)
    assert all(len(p) in (2, 3) and min(p) >= 0 for p in kind.prices.values())


@needs_local
def test_the_vendor_for_recusal_is_decided_by_the_descriptor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)

    def vendor(s: ProviderSettings) -> str:
        provider = registry.create(s)
        try:
            return registry.model_vendor(s, provider)
        finally:
            asyncio.run(provider.aclose())

    assert vendor(settings("openai/gpt-4o-mini")) == "openai"
    # the kind's own server spelled out is still the kind's own server
    assert vendor(settings("openai/m", base_url="https://api.openai.com/v1/")) == "openai"
    # another server can serve anyone's model: unknown, unless panel.toml says
    assert vendor(settings("openai/m", base_url="http://127.0.0.1:1/v1")) == ""
    assert vendor(settings("openai/m", base_url="http://127.0.0.1:1/v1", vendor="Meta")) == "Meta"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")  # the variable, too
    assert vendor(settings("openai/m")) == ""
    assert vendor(settings("local/smollm2")) == "Hugging Face"
    assert vendor(settings(f"local:{tmp_path / 'x.gguf'}")) == ""
    assert vendor(settings("mock/any")) == ""


def test_prices_come_from_the_descriptors_and_panel_toml_wins() -> None:
    book = PriceBook()
    assert book.rate(settings("openai/gpt-4o-mini")) == Rate(0.15, 0.60, 0.075)
    assert book.rate(settings("mistral/open-mistral-nemo")) == Rate(0.15, 0.15, 0.015)
    assert book.rate(settings("openai/brand-new")) is None
    assert book.rate(settings("local/smollm2")) == FREE
    assert book.rate(settings("mock/any")) == FREE
    overridden = PriceBook({"openai/gpt-4o-mini": (1.0, 2.0), "mock/any": (1.0, 2.0)})
    assert overridden.rate(settings("openai/gpt-4o-mini")) == Rate(1.0, 2.0)
    assert overridden.rate(settings("mock/any")) == FREE  # in-process costs nothing


def test_a_structured_mode_the_kind_lacks_is_refused_before_anything_is_built() -> None:
    with pytest.raises(PanelError, match="'json_schema' is not an output mode of kind local"):
        registry.create(settings("local/smollm2", structured=StructuredMode.JSON_SCHEMA))
    with pytest.raises(PanelError, match="use one of json_schema \\(or leave it out\\)"):
        registry.create(settings("mock/any", structured=StructuredMode.TEXT))


class _NoEndpoint:
    decoding = ""

    def __init__(self, s: ProviderSettings) -> None:
        self.spec, self.model, self.sampling, self.limits = s.name, s.model, s.sampling, s.limits

    async def complete(self, request: object) -> object:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def test_a_broken_kind_module_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("tests_broken_kind")
    monkeypatch.setitem(sys.modules, "tests_broken_kind", module)
    monkeypatch.setitem(registry.KINDS, "broken", "tests_broken_kind")
    with pytest.raises(PanelError, match="declares no KIND = ProviderKind"):
        registry.describe("broken")
    module.KIND = mock.KIND  # type: ignore[attr-defined]
    with pytest.raises(PanelError, match="declares kind 'mock'"):
        registry.describe("broken")
    module.KIND = replace(mock.KIND, name="broken", create=_NoEndpoint)  # type: ignore[attr-defined,arg-type]
    with pytest.raises(PanelError, match="built a provider without endpoint; see the Provider"):
        registry.create(settings("broken/x"))
