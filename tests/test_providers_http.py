"""Pipeline tier: the real openai and mistralai SDKs, over real HTTP, against a loopback fake."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from panel.errors import PanelError
from panel.inputs.catalog import Tool
from panel.inputs.personas import Persona, load_personas
from panel.pipeline.calls import Call
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.runner import Runner
from panel.providers import registry
from panel.providers.base import FailureReason, Provider, ProviderSettings, StructuredMode
from panel.records.schema import CallResult
from tests.support import project as fixture
from tests.support.fake_llm import Behavior, FakeLLM

PERSONAS = load_personas(fixture.PERSONAS, fixture.PROMPTS)
TOOL = Tool(slug="alpha", name="Alpha", description="An API for text.")
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02, retry_after_cap=1.0)
SECRET = "sk-test-DO-NOT-LEAK-1234567890"
KINDS = ["openai", "mistral"]


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MISTRAL_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("MISTRAL_BASE_URL", raising=False)


def provider(kind: str, server: FakeLLM, **overrides: object) -> Provider:
    base = server.openai_url if kind == "openai" else server.url
    settings = ProviderSettings(
        name=f"{kind}/test-model", kind=kind, model="test-model", base_url=base, timeout=2.0
    )
    for key, value in overrides.items():
        object.__setattr__(settings, key, value)
    return registry.create(settings)


async def run(
    p: Provider, persona: Persona | None = None, policy: RetryPolicy = FAST
) -> CallResult:
    persona = persona or PERSONAS["dx"]
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(persona, TOOL)
    try:
        return await Runner(policy=policy).execute(Call(persona, TOOL, p, rendered))
    finally:
        await p.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_valid_verdict_via_strict_json_schema(kind: str, server: FakeLLM) -> None:
    result = await run(provider(kind, server))
    assert result.ok and result.verdict == "ship" and result.mode == StructuredMode.JSON_SCHEMA
    assert (result.attempts, server.count()) == (1, 1)
    assert (result.prompt_tokens, result.completion_tokens) == (100, 50)
    body = server.requests[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["name"] == "dx_verdict"
    assert body[("seed" if kind == "openai" else "random_seed")] == 7
    assert server.headers[0]["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("kind", KINDS)
async def test_429_waits_for_retry_after_ms_and_is_retried_once(kind: str, server: FakeLLM) -> None:
    server.script(Behavior(status=429, retry_after_ms=300))
    result = await run(provider(kind, server))
    assert result.ok and result.attempts == 2 and server.count() == 2
    gap = server.arrivals[1] - server.arrivals[0]
    assert gap >= 0.29, f"retried after {gap:.3f}s, before the server's retry-after-ms"


@pytest.mark.parametrize("kind", KINDS)
async def test_retry_after_seconds_header_is_honoured(kind: str, server: FakeLLM) -> None:
    server.script(Behavior(status=503, retry_after="1"))
    result = await run(provider(kind, server))
    assert result.ok and server.count() == 2
    assert server.arrivals[1] - server.arrivals[0] >= 0.99


@pytest.mark.parametrize("kind", KINDS)
async def test_retry_after_beyond_cap_fails_rate_limited_at_once(
    kind: str, server: FakeLLM
) -> None:
    server.default = Behavior(status=429, retry_after="30")
    result = await run(provider(kind, server))
    assert result.failure is not None
    assert result.failure.reason is FailureReason.RATE_LIMITED
    assert "cap" in result.failure.detail
    assert (result.attempts, server.count()) == (1, 1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("status", "reason"), [(500, FailureReason.SERVER_ERROR), (503, FailureReason.SERVER_ERROR),
                           (429, FailureReason.RATE_LIMITED), (408, FailureReason.TIMEOUT)]
)  # fmt: skip
async def test_retryable_statuses_stop_at_the_attempt_budget(
    kind: str, status: int, reason: FailureReason, server: FakeLLM
) -> None:
    server.default = Behavior(status=status)
    result = await run(provider(kind, server))
    assert result.failure is not None and result.failure.reason is reason
    # Exactly the policy's attempts: the SDK's own retries are off, nothing multiplies.
    assert result.attempts == FAST.attempts == server.count()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("status", "reason"),
    [(401, FailureReason.AUTH), (403, FailureReason.AUTH), (404, FailureReason.BAD_REQUEST),
     (422, FailureReason.BAD_REQUEST)],
)  # fmt: skip
async def test_client_errors_are_never_retried(
    kind: str, status: int, reason: FailureReason, server: FakeLLM
) -> None:
    server.default = Behavior(status=status)
    result = await run(provider(kind, server))
    assert result.failure is not None and result.failure.reason is reason
    assert result.attempts == 1 == server.count()


@pytest.mark.parametrize("kind", KINDS)
async def test_timeouts_and_dropped_connections_are_retried(kind: str, server: FakeLLM) -> None:
    server.script(Behavior(hang=True), Behavior(drop=True))
    result = await run(provider(kind, server, timeout=0.3))
    assert result.ok and result.attempts == 3 == server.count()
    server.reset()
    server.default = Behavior(hang=True)
    failed = await run(provider(kind, server, timeout=0.2))
    assert failed.failure is not None and failed.failure.reason is FailureReason.TIMEOUT
    assert failed.attempts == FAST.attempts


@pytest.mark.parametrize("kind", KINDS)
async def test_bad_content_is_reasked_within_its_own_budget(kind: str, server: FakeLLM) -> None:
    server.script(
        Behavior(content="I think it's great!"),
        Behavior(content='{"primitive": "an API", "quote": "trunc', finish_reason="length"),
        Behavior(verdict="skip"),
    )
    result = await run(provider(kind, server))
    assert result.ok and result.verdict == "skip"
    assert (result.attempts, result.reasks) == (3, 2)
    last = server.requests[2]["messages"]
    assert "cut off at the token limit" in last[-1]["content"]


@pytest.mark.parametrize("kind", KINDS)
async def test_invalid_output_fails_typed_after_two_reasks(kind: str, server: FakeLLM) -> None:
    server.default = Behavior(invalid=True)
    result = await run(provider(kind, server))
    assert result.failure is not None
    assert result.failure.reason is FailureReason.INVALID_OUTPUT
    assert "verdict" in result.failure.detail
    assert (result.attempts, result.reasks) == (3, 2) and server.count() == 3


async def test_refusal_is_recorded_as_refused(server: FakeLLM) -> None:
    server.default = Behavior(refusal="I can't review this.")
    result = await run(provider("openai", server))
    assert result.failure is not None and result.failure.reason is FailureReason.REFUSED
    assert result.attempts == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_ladder_steps_down_once_and_remembers(kind: str, server: FakeLLM) -> None:
    server.reject_formats = {"json_schema"}
    p = provider(kind, server)
    persona = PERSONAS["dx"]
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(persona, TOOL)
    runner = Runner(policy=FAST)
    first = await runner.execute(Call(persona, TOOL, p, rendered))
    second = await runner.execute(Call(persona, TOOL, p, rendered))
    await p.aclose()
    assert first.ok and first.mode == StructuredMode.JSON_OBJECT and first.attempts == 2
    assert second.ok and second.mode == StructuredMode.JSON_OBJECT and second.attempts == 1
    types = [r.get("response_format", {}).get("type") for r in server.requests]
    assert types == ["json_schema", "json_object", "json_object"]


async def test_ladder_reaches_text_with_schema_in_prompt(server: FakeLLM) -> None:
    server.reject_formats = {"json_schema", "json_object"}
    result = await run(provider("openai", server), PERSONAS["futurist"])
    assert result.ok and result.mode == StructuredMode.TEXT and result.attempts == 3
    last = server.requests[-1]
    assert "response_format" not in last
    assert "valid against this JSON schema" in last["messages"][0]["content"]
    assert result.fields["timing"] in ("early", "on-time", "late")


async def test_llama_cpp_style_json_object_carries_the_schema(server: FakeLLM) -> None:
    p = provider("openai", server, structured=StructuredMode.JSON_OBJECT, json_object_schema=True)
    result = await run(p, PERSONAS["competitive"])
    assert result.ok and result.mode == StructuredMode.JSON_OBJECT
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object"
    assert fmt["schema"]["properties"]["direct_competitors"]["type"] == "array"


@pytest.mark.parametrize("kind", KINDS)
async def test_secrets_never_reach_results(kind: str, server: FakeLLM) -> None:
    server.default = Behavior(status=401, error_message=f"bad key {SECRET}")
    result = await run(provider(kind, server))
    assert result.failure is not None and result.failure.reason is FailureReason.AUTH
    assert SECRET not in result.model_dump_json()
    assert "***" in result.failure.detail


@pytest.mark.parametrize("kind", KINDS)
def test_missing_key_names_the_variable(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    variable = "OPENAI_API_KEY" if kind == "openai" else "MISTRAL_API_KEY"
    monkeypatch.delenv(variable)
    settings = ProviderSettings(name=f"{kind}/m", kind=kind, model="m")
    with pytest.raises(PanelError, match=rf"needs an API key in \${variable}"):
        registry.create(settings)


def test_base_url_from_environment(server: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
    monkeypatch.setenv("MISTRAL_BASE_URL", server.url)
    for kind in KINDS:
        p = registry.create(ProviderSettings(name=f"{kind}/m", kind=kind, model="m"))
        assert p.base_url in (server.openai_url, server.url)  # type: ignore[attr-defined]


def test_fake_rebuilds_schema_from_prompt_fields() -> None:
    from tests.support.fake_llm import schema_from_request

    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONAS["futurist"], TOOL)
    body = {"messages": [m.as_dict() for m in rendered.messages]}
    props = schema_from_request(body)["properties"]
    assert props["timing"] == {"enum": ["early", "on-time", "late"]}
    assert json.dumps(props)


ANSWER = {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("not json at all", "no choices returned"),
        ({"choices": []}, "no choices returned"),
        ({"choices": ["text"]}, "no choices returned"),
        ({"choices": [{"message": "text"}]}, "message or usage is not an object"),
        ({**ANSWER, "usage": [1, 2]}, "message or usage is not an object"),
        ({"choices": [{"message": {"content": ["a"]}}]}, "content, refusal, finish_reason"),
        ({**ANSWER, "model": 7}, "content, refusal, finish_reason or model is not text"),
    ],
)
def test_an_openai_answer_of_the_wrong_shape_is_invalid_output_not_a_crash(
    server: FakeLLM, body: object, why: str
) -> None:
    from panel.providers.base import ProviderError

    p = provider("openai", server)
    with pytest.raises(ProviderError) as caught:
        p.completion(body, StructuredMode.JSON_SCHEMA)  # type: ignore[attr-defined]
    assert caught.value.reason == FailureReason.INVALID_OUTPUT and why in str(caught.value)


def test_an_openai_compatible_answer_without_id_or_usage_is_read(server: FakeLLM) -> None:
    p = provider("openai", server)
    usage = {"prompt_tokens": 12, "completion_tokens": True}  # a bool is no count
    read = p.completion({**ANSWER, "usage": usage}, StructuredMode.JSON_SCHEMA)  # type: ignore[attr-defined]
    assert (read.text, read.finish_reason, read.model_version) == ("{}", "stop", "test-model")
    assert (read.prompt_tokens, read.completion_tokens, read.refusal) == (12, 0, None)
