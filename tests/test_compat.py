"""Issue 27: panel adapts to self-hosted OpenAI-compatible servers (against the loopback fake).

The ladder reads the error text (any 4xx or 5xx naming the output mode steps down); a local
server gets the grammar-friendly schema, one request in flight or the slots its ``/props``
reports, a long timeout, no instant retry into its queue after a timeout, and a clear
failure when it is down. ``panel providers check`` reports the modes that work.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.inputs.catalog import Tool
from panel.inputs.personas import load_personas
from panel.paths import Home
from panel.pipeline.calls import Call
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.runner import Runner
from panel.providers import compat, registry
from panel.providers.base import (
    CompletionRequest,
    FailureReason,
    Limits,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.grammar_schema import GRAMMAR_STRING_CAP
from panel.providers.http import HttpProvider
from tests.support import project as fixture
from tests.support.fake_llm import Behavior, FakeLLM

PERSONAS = load_personas(fixture.PERSONAS, fixture.PROMPTS)
TOOL = Tool(slug="alpha", name="Alpha", description="An API for text.")
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02, retry_after_cap=1.0)
LLAMA_CPP_500 = (
    "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}"
)
runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def http(url: str, **overrides: Any) -> HttpProvider:
    settings = ProviderSettings(
        name="openai/m", kind="openai", model="m", base_url=url, api_key_env="", **overrides
    )
    provider = registry.create(settings)
    assert isinstance(provider, HttpProvider)
    return provider


async def answer(provider: HttpProvider, persona: str = "dx") -> Any:
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONAS[persona], TOOL)
    call = Call(PERSONAS[persona], TOOL, provider, rendered)
    try:
        return (await Runner(policy=FAST).run([call]))[0]
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://localhost:11434/v1", True),
        ("http://10.0.0.7/v1", True),
        ("http://192.168.1.20:1234/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://ollama:11434/v1", True),
        ("http://gpu-box.internal/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://openrouter.ai/api/v1", False),
        ("http://8.8.8.8/v1", False),
        (None, False),
    ],
)
def test_which_servers_are_local(url: str | None, local: bool) -> None:
    assert compat.is_local(url) is local


@pytest.mark.parametrize(
    ("status", "message", "steps"),
    [
        (500, LLAMA_CPP_500, True),  # llama-cpp-python's answer to json_schema
        (422, "response_format.json_schema is not supported", True),
        (400, "anything at all", True),  # a 400 always did
        (501, "grammar-constrained decoding is not available", True),
        (500, "CUDA out of memory", False),  # a server error, not about the mode
        (429, "rate limit on json_schema requests", False),
        (401, "schema? no: your key", False),
    ],
)
async def test_a_refusal_naming_the_output_mode_steps_down_once(
    server: FakeLLM, status: int, message: str, steps: bool
) -> None:
    server.responder = lambda body: (
        Behavior(status=status, error_message=message)
        if body.get("response_format", {}).get("type") == "json_schema"
        else None
    )
    result = await answer(http(server.openai_url))
    at_top = [r for r in server.requests if r["response_format"]["type"] == "json_schema"]
    if steps:
        assert result.ok and result.mode == StructuredMode.JSON_OBJECT
        assert len(at_top) == 1 and result.attempts == 2
    else:
        assert not result.ok and all(
            r["response_format"]["type"] == "json_schema" for r in server.requests
        )


async def test_the_step_down_is_once_per_provider_for_the_run(server: FakeLLM) -> None:
    server.responder = lambda body: (
        Behavior(status=500, error_message=LLAMA_CPP_500)
        if body.get("response_format", {}).get("type") == "json_schema"
        else None
    )
    provider = http(server.openai_url, limits=Limits(max_in_flight=4))
    rendered = [
        PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONAS[p], TOOL) for p in PERSONAS
    ]
    calls = [Call(PERSONAS[p], TOOL, provider, r) for p, r in zip(PERSONAS, rendered, strict=True)]
    try:
        results = await Runner(policy=FAST).run(calls)
    finally:
        await provider.aclose()
    assert all(r.ok and r.mode == StructuredMode.JSON_OBJECT for r in results)
    at_top = [r for r in server.requests if r["response_format"]["type"] == "json_schema"]
    assert 1 <= len(at_top) <= 4  # at most the calls already in flight when it was refused
    assert provider.ladder.rung is StructuredMode.JSON_OBJECT


async def test_a_local_server_gets_the_grammar_friendly_schema_with_json_object(
    server: FakeLLM,
) -> None:
    result = await answer(http(server.openai_url, structured=StructuredMode.JSON_OBJECT))
    assert result.ok
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object"
    lengths = [p.get("maxLength") for p in fmt["schema"]["properties"].values()]
    assert lengths and all(n is None or n <= GRAMMAR_STRING_CAP for n in lengths)
    assert max(n for n in lengths if n) <= GRAMMAR_STRING_CAP


async def test_a_hosted_server_gets_no_schema_with_json_object_unless_asked() -> None:
    provider = http("https://api.example.com/v1", structured=StructuredMode.JSON_OBJECT)
    request = _request()
    fmt, _ = provider.structured(request, StructuredMode.JSON_OBJECT)
    assert fmt == {"type": "json_object"}
    asked = http("https://api.example.com/v1", json_object_schema=True)
    fmt, _ = asked.structured(request, StructuredMode.JSON_OBJECT)
    assert fmt is not None and "schema" in fmt
    refused = http("http://127.0.0.1:9/v1", json_object_schema=False)
    fmt, _ = refused.structured(request, StructuredMode.JSON_OBJECT)
    assert fmt == {"type": "json_object"}
    for p in (provider, asked, refused):
        await p.aclose()


def _request() -> CompletionRequest:
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONAS["dx"], TOOL)
    return CompletionRequest(rendered.messages, PERSONAS["dx"].json_schema(), "dx_verdict")


LLAMA_PROPS = {"total_slots": 3, "default_generation_settings": {}, "build_info": "b1"}


async def test_llama_cpp_props_set_the_slots_and_the_grammar_schema(server: FakeLLM) -> None:
    server.props = LLAMA_PROPS
    provider = http(server.openai_url)
    assert provider.limits.in_flight == 1  # local: one until the server says more
    await provider.prepare()
    await provider.prepare()  # once
    assert server.probes == ["/props"]
    assert provider.profile.engine == "llama.cpp" and provider.limits.in_flight == 3
    result = await answer(provider)
    assert result.ok and result.mode == StructuredMode.JSON_SCHEMA
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["quote"]["maxLength"] <= GRAMMAR_STRING_CAP
    assert schema["properties"]["confidence"]["enum"] == [1, 2, 3, 4, 5]
    assert server.requests[0]["repeat_penalty"] == 1.15  # as the embedded model decodes


async def test_the_runner_probes_before_it_sizes_the_slots(server: FakeLLM) -> None:
    server.props = LLAMA_PROPS
    server.default = Behavior(latency=0.2)
    provider = http(server.openai_url)
    rendered = [
        PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONAS[p], TOOL) for p in PERSONAS
    ]
    calls = [Call(PERSONAS[p], TOOL, provider, r) for p, r in zip(PERSONAS, rendered, strict=True)]
    try:
        results = await Runner(policy=FAST).run(calls)
    finally:
        await provider.aclose()
    assert all(r.ok for r in results)
    assert server.probes == ["/props"]  # one probe for all the calls
    first = sorted(server.arrivals)[:3]
    assert first[-1] - first[0] < 0.2  # three at once: the server's slots, not one


@pytest.mark.parametrize(
    ("url", "settings", "in_flight", "timeout"),
    [
        ("http://127.0.0.1:1/v1", {}, 1, compat.LOCAL_TIMEOUT),
        ("https://api.example.com/v1", {}, compat.REMOTE_IN_FLIGHT, compat.REMOTE_TIMEOUT),
        ("http://127.0.0.1:1/v1", {"timeout": 5.0, "limits": Limits(max_in_flight=6)}, 6, 5.0),
    ],
)
async def test_local_defaults_and_what_panel_toml_overrides(
    url: str, settings: dict[str, Any], in_flight: int, timeout: float
) -> None:
    provider = http(url, **settings)
    assert (provider.limits.in_flight, provider.timeout) == (in_flight, timeout)
    await provider.aclose()


async def test_configured_max_in_flight_wins_over_the_servers_slots(server: FakeLLM) -> None:
    server.props = LLAMA_PROPS
    provider = http(server.openai_url, limits=Limits(max_in_flight=2))
    await provider.prepare()
    assert provider.limits.in_flight == 2 and provider.profile.slots == 3
    await provider.aclose()


async def test_a_timeout_at_a_local_server_is_not_sent_again_at_once() -> None:
    local, hosted = http("http://127.0.0.1:1/v1"), http("https://api.example.com/v1")
    assert local.timed_out().retry_after == 30.0
    assert hosted.timed_out().retry_after is None  # backoff, as before
    for p in (local, hosted):
        await p.aclose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_dead_server_is_one_clear_failure_not_a_night_of_retries() -> None:
    provider = http(f"http://127.0.0.1:{_closed_port()}/v1")
    errors: list[ProviderError] = []
    for _ in range(compat.DEAD_AFTER):
        try:
            await provider.complete(_request())
        except ProviderError as exc:
            errors.append(exc)
    await provider.aclose()
    assert [e.retryable for e in errors] == [True] * (compat.DEAD_AFTER - 1) + [False]
    last = errors[-1]
    assert last.reason is FailureReason.SERVER_ERROR
    assert "is not answering" in str(last) and "restart it" in str(last)


async def test_a_dead_server_fails_each_call_of_a_run_quickly() -> None:
    provider = http(f"http://127.0.0.1:{_closed_port()}/v1")
    rendered = [
        PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONAS[p], TOOL) for p in PERSONAS
    ]
    calls = [Call(PERSONAS[p], TOOL, provider, r) for p, r in zip(PERSONAS, rendered, strict=True)]
    try:
        results = await Runner(policy=FAST).run(calls)
    finally:
        await provider.aclose()
    assert all(not r.ok for r in results)
    assert sum(r.attempts for r in results) <= compat.DEAD_AFTER + len(results)
    assert "is not answering" in (results[-1].failure.detail if results[-1].failure else "")


# -- panel providers check / list ------------------------------------------------------------


def _toml(server: FakeLLM) -> str:
    return f"""
[panel]
providers = ["fake"]
retry_attempts = 1
head_to_head = false

[providers.fake]
kind = "openai"
model = "m"
base_url = "{server.openai_url}"
api_key_env = ""
"""


def test_check_reports_each_mode_and_the_panel_toml_lines(home: Home, server: FakeLLM) -> None:
    home.config_file.write_text(_toml(server))
    server.reject_formats = {"json_schema"}
    server.props = LLAMA_PROPS
    result = runner.invoke(app, ["providers", "check", "fake", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    works = {m["mode"]: m["works"] for m in data["modes"]}
    assert works == {"json_schema": False, "json_object": True, "text": True}
    assert data["best"] == "json_object" and data["engine"] == "llama.cpp"
    assert data["max_in_flight"] == 3 and data["slots"] == 3
    assert data["toml"] == [
        "[providers.fake]",
        f'base_url = "{server.openai_url}"',
        'structured = "json_object"',
        "json_object_schema = true",
        "max_in_flight = 3",
        "timeout = 600",
    ]
    assert "rejected json_schema" in data["modes"][0]["why"]
    text = runner.invoke(app, ["providers", "check", "fake"])
    assert text.exit_code == 0 and "json_object  works" in text.stdout
    assert 'structured = "json_object"' in text.stdout


def test_check_says_so_when_no_mode_works(home: Home, server: FakeLLM) -> None:
    home.config_file.write_text(_toml(server))
    server.default = Behavior(content="not json at all")
    result = runner.invoke(app, ["providers", "check", "fake"])
    assert result.exit_code == 1
    assert "no output mode of fake works" in result.stderr
    assert "the answer is not JSON" in result.stdout


def test_providers_list_shows_where_the_ladder_settled(home: Home, server: FakeLLM) -> None:
    home.config_file.write_text(_toml(server))
    server.responder = lambda body: (
        Behavior(status=500, error_message=LLAMA_CPP_500)
        if body.get("response_format", {}).get("type") == "json_schema"
        else None
    )
    before = json.loads(runner.invoke(app, ["providers", "list", "--json"]).stdout)
    assert before["providers"][0]["mode"] is None
    review = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    assert review.exit_code == 0, review.output
    listed = json.loads(runner.invoke(app, ["providers", "list", "--json"]).stdout)
    (row,) = listed["providers"]
    assert (row["name"], row["mode"], row["max_in_flight"]) == ("fake", "json_object", None)
    assert "json_object" in runner.invoke(app, ["providers", "list"]).stdout


def test_a_local_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    settings = ProviderSettings(name="openai/smollm2", kind="openai", model="smollm2")
    kind = registry.describe("openai")
    assert kind.api_key(settings) == "not-needed"
    assert kind.key_status(settings) == "not needed (local)"
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.example.com/v1")
    with pytest.raises(PanelError, match=r"needs an API key in \$OPENAI_API_KEY"):
        kind.api_key(settings)
    named = ProviderSettings(
        name="x", kind="openai", model="m", base_url="http://127.0.0.1:1/v1", api_key_env="MY_KEY"
    )
    with pytest.raises(PanelError, match=r"\$MY_KEY"):  # a variable named in panel.toml must be set
        kind.api_key(named)
