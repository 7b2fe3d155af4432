"""Prompt caching (issue 30): cached tokens read, priced at the cached rate, recorded, warmed.

Against the loopback fake with its prefix cache on (``FakeLLM.prompt_cache``: prompts of
1,024 tokens or more, hits in 128-token steps), a review's ``cost_usd`` is the cost worked
out here by hand from what the server reported; the first call of each tool's shared
prefix goes alone, so the other personas' calls find it cached.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Iterator

import httpx2
import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.pipeline.pricing import Rate, cacheable_tokens
from panel.providers import registry
from panel.providers.base import CompletionRequest, Message, ProviderSettings
from panel.records.io import dump, iter_records
from tests.conftest import TOOL_A
from tests.support.fake_llm import Behavior, FakeLLM, PromptCache, panel_toml
from tests.support.scripted import valid_answer

runner = CliRunner()
INPUT, OUTPUT, CACHED = 1.0, 2.0, 0.25  # USD per 1M tokens: round numbers to check by hand


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        fake.prompt_cache = PromptCache(machines=4, chars_per_token=1)
        yield fake


def _long_prefix(home: Home) -> None:
    """Rules long enough for a real prompt cache (over 5,120 characters: the shipped rules and
    card are about 1,200, under OpenAI's 1,024 tokens; the evidence pack will add more)."""
    system = home.root / "prompts" / "_system.j2"
    house = "".join(
        f"- House rule {n}: judge the tool by what it does today.\n" for n in range(120)
    )
    system.write_text(system.read_text() + "\nHouse rules:\n" + house)


def _configure(home: Home, server: FakeLLM, in_flight: int, cache_key: bool = True) -> None:
    toml = panel_toml(server, max_in_flight=in_flight)
    toml += f"prompt_cache_key = {str(cache_key).lower()}\n"
    toml += f"\n[prices.fake]\ninput = {INPUT}\noutput = {OUTPUT}\ncached = {CACHED}\n"
    home.config_file.write_text(toml)


def _review() -> dict[str, object]:
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_a_reviews_cost_is_the_hand_computed_cost_at_the_cached_rate(
    home: Home, server: FakeLLM
) -> None:
    _configure(home, server, in_flight=1)  # one at a time: which call hits is fixed
    _review()
    (record,) = [r for _, r in iter_records(home.runs)]
    cache = server.prompt_cache
    assert cache is not None
    completion = Behavior().usage[1]
    # what the server reported, call by call, priced by hand
    by_hand = sum(
        ((prompt - cached) * INPUT + cached * CACHED + completion * OUTPUT) / 1_000_000
        for prompt, cached in cache.usages
    )
    assert len(cache.usages) == len(record.calls) == 8  # 4 fixture personas x 2 tools
    assert record.totals.cost_usd == pytest.approx(by_hand, abs=1e-7)
    assert sorted(c.cached_tokens for c in record.calls) == sorted(c for _, c in cache.usages)
    assert record.totals.cached_tokens == sum(c for _, c in cache.usages)
    # the first call of each tool misses, the other three personas hit its system message
    system = {c.tool: c for c in record.calls}
    assert len(system) == 2
    for tool in ("alpha-tool", "beta-tool"):
        hits = [c.cached_tokens for c in record.calls if c.tool == tool]
        assert sorted(hits)[0] == 0 and all(h >= 1024 and h % 128 == 0 for h in sorted(hits)[1:])
    full = sum((p * INPUT + completion * OUTPUT) / 1_000_000 for p, _ in cache.usages)
    assert record.totals.cost_usd < full  # the cached rate, not the full one
    assert '"cached_tokens"' in dump(record).decode()


def test_the_first_call_of_a_prefix_warms_the_cache_before_the_rest_go_out(
    home: Home, server: FakeLLM
) -> None:
    server.default = Behavior(latency=0.05)  # in flight together, they would all miss
    _long_prefix(home)
    _configure(home, server, in_flight=8)
    _review()
    (record,) = [r for _, r in iter_records(home.runs)]
    hits = sorted(c.cached_tokens > 0 for c in record.calls)
    assert hits.count(False) == 2  # one warming call per tool; the six others hit
    keys = {b.get("prompt_cache_key") for b in server.requests}
    assert len(keys) == 2 and all(str(k).startswith("panel-") for k in keys)


def test_without_the_cache_key_setting_no_key_is_sent_to_another_server(
    home: Home, server: FakeLLM
) -> None:
    home.config_file.write_text(panel_toml(server))
    _review()
    assert all("prompt_cache_key" not in body for body in server.requests)


def test_cached_tokens_beyond_the_prompt_are_capped_and_bad_ones_are_zero() -> None:
    def usage(details: object) -> dict[str, object]:
        return {"prompt_tokens": 100, "completion_tokens": 5, "prompt_tokens_details": details}

    answers = iter([usage({"cached_tokens": 900}), usage({"cached_tokens": "x"})])

    def handler(req: httpx2.Request) -> httpx2.Response:
        body = {
            "id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"},
                         "finish_reason": "stop"}],
            "usage": next(answers),
        }  # fmt: skip
        return httpx2.Response(200, json=body)

    async def three() -> list[int]:
        seen = []
        for kind, url in (("openai", "https://o.invalid/v1"), ("mistral", "https://m.invalid")):
            provider = registry.create(
                ProviderSettings(
                    name=f"{kind}/m", kind=kind, model="m", base_url=url, api_key_env="",
                    transport=httpx2.MockTransport(handler),
                )
            )  # fmt: skip
            request = CompletionRequest((Message("user", "hi"),), {}, "x")
            try:
                seen.append((await provider.complete(request)).cached_tokens)
            finally:
                await provider.aclose()
        return seen

    assert asyncio.run(three()) == [100, 0]
    answers = iter([usage({"cached_tokens": 64}), usage({"cached_tokens": 64})])
    assert asyncio.run(three()) == [64, 64]


def test_the_cached_rate_prices_cached_tokens_and_batches_scale_it() -> None:
    rate = Rate(1.0, 2.0, 0.25)
    assert rate.cost(2000, 100, 1024) == pytest.approx((976 * 1.0 + 1024 * 0.25 + 200) / 1e6)
    assert rate.cost(100, 0, 500) == pytest.approx(100 * 0.25 / 1e6)  # never more than the prompt
    assert Rate(1.0, 2.0).cost(2000, 0, 1024) == pytest.approx(2000 / 1e6)  # no rate: as input
    assert rate.scaled(0.5) == Rate(0.5, 1.0, 0.125)
    assert cacheable_tokens("x" * (5 * 1023)) == 0
    assert cacheable_tokens("x" * (5 * 1024)) == 1024
    assert cacheable_tokens("x" * (5 * 1300)) == 1280


def test_max_cost_estimates_with_the_expected_hits() -> None:
    """The first call of a shared prefix pays it in full; the others expect it cached."""
    from panel.inputs.catalog import Tool
    from panel.inputs.personas import load_personas
    from panel.pipeline.calls import Call, estimated_cost, expected_cached
    from panel.pipeline.prompts import Rendered
    from tests.support import project

    personas = load_personas(project.PERSONAS, project.PROMPTS)
    tool = Tool.model_validate(tomllib.loads(TOOL_A))
    provider = registry.create(ProviderSettings(name="mock/m", kind="mock", model="m"))
    rate = Rate(1.0, 2.0, 0.25)
    system = "r" * 6000  # 1,200 tokens counted low: 1,152 in 128-token steps
    calls = [
        Call(
            p, tool, provider, Rendered((Message("system", system), Message("user", p.name))), rate
        )
        for p in personas.values()
    ]
    assert expected_cached(calls) == {n: 1152 for n in range(1, len(calls))}
    full = sum(c.estimated_cost() or 0 for c in calls)
    saved = (len(calls) - 1) * 1152 * (1.0 - 0.25) / 1e6
    assert estimated_cost(calls) == pytest.approx(full - saved)
    free = [Call(c.persona, tool, provider, c.rendered, Rate(0.0, 0.0)) for c in calls]
    assert expected_cached(free) == {}  # no discount: nothing warms, nothing is expected


@pytest.mark.parametrize("kind", ["openai", "mistral"])
def test_batch_output_lines_carry_their_cached_tokens(kind: str) -> None:
    """A batch line is read by the kind's own chat parser: its cached tokens come through."""
    provider = registry.create(
        ProviderSettings(name=f"{kind}/m", kind=kind, model="m", api_key_env="", batch=True)
    )
    api = registry.batch_api(provider)  # a kind with a Batch API
    assert api is not None
    body = {
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2000, "completion_tokens": 9, "total_tokens": 2009,
                  "prompt_tokens_details": {"cached_tokens": 1920}},
    }  # fmt: skip
    line = {"custom_id": "pb-1-0", "response": {"status_code": 200, "body": body}, "error": None}
    parsed = api.result(line)
    assert parsed.completion is not None
    assert parsed.completion.tokens == (2000, 9, 1920)
    asyncio.run(provider.aclose())


def test_the_budget_is_charged_the_real_cost_at_the_cached_rate() -> None:
    """--max-cost checks with the real hits: each answer is charged what the server billed."""
    from panel.inputs.catalog import Tool
    from panel.inputs.personas import load_personas
    from panel.pipeline.budget import Budget
    from panel.pipeline.calls import Call
    from panel.pipeline.prompts import Rendered
    from panel.pipeline.runner import Runner
    from panel.providers.base import Completion, Limits, Sampling, StructuredMode
    from tests.support import project

    class Billing:
        """A provider whose every answer has 2,000 prompt tokens, 1,536 of them cached."""

        spec, model, decoding, endpoint = "billing/m", "m", "", ""
        sampling, limits = Sampling(), Limits()

        async def complete(self, request: CompletionRequest) -> Completion:
            text = json.dumps(valid_answer(request.schema, "ship", 3))
            return Completion(text, "stop", 2000, 100, "m", StructuredMode.TEXT, None, 1536)

        async def aclose(self) -> None:
            return None

    personas = load_personas(project.PERSONAS, project.PROMPTS)
    tool = Tool.model_validate(tomllib.loads(TOOL_A))
    rate = Rate(1.0, 2.0, 0.25)
    calls = [
        Call(p, tool, Billing(), Rendered((Message("system", "r"), Message("user", p.name))), rate)
        for p in personas.values()
    ]
    runner = Runner(budget=Budget(cap=1.0))
    results = asyncio.run(runner.run(calls))
    each = (464 * 1.0 + 1536 * 0.25 + 100 * 2.0) / 1e6  # 0.001048, not 0.0022 at full rate
    assert runner.budget.spent == pytest.approx(each * len(calls))
    assert all(r.ok and r.attempts == 1 for r in results)
    assert [r.cost_usd for r in results] == [pytest.approx(each)] * len(calls)
