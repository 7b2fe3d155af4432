"""Validation, re-ask and transport retries, driven through the real runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from panel.inputs.catalog import Tool
from panel.inputs.personas import Persona, load_personas
from panel.pipeline.calls import Call
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.runner import Runner
from panel.pipeline.validate import InvalidAnswerError, check, extract_json
from panel.providers import registry
from panel.providers.base import CompletionRequest, FailureReason, ProviderError
from tests.support import project as fixture
from tests.support import scripted
from tests.support.local_extra import needs_local

TOOL = Tool(slug="alpha", name="Alpha", description="An API.")
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)


@pytest.fixture
def dx() -> Persona:
    return load_personas(fixture.PERSONAS, fixture.PROMPTS)["dx"]


def make_call(persona: Persona, model: str = "m") -> Call:
    provider = registry.create_spec(f"scripted/{model}")
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(persona, TOOL)
    return Call(persona, TOOL, provider, rendered)


def good(persona: Persona, **overrides: object) -> str:
    data = scripted.valid_answer(persona.json_schema())
    data.update(overrides)
    return json.dumps(data)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        '```json\n{"a": 1}\n```',
        'Sure! Here it is: {"a": 1} Hope that helps.',
        '{"a": 1}{"b": 2}',
    ],
)
def test_extract_json_finds_the_object(text: str) -> None:
    assert extract_json(text) == {"a": 1}


def test_extract_json_accepts_raw_newlines_in_strings() -> None:
    assert extract_json('{"a": "line one\nline two"}') == {"a": "line one\nline two"}


def test_check_rejects_bad_answers_with_the_reason(dx: Persona) -> None:
    with pytest.raises(InvalidAnswerError, match="verdict"):
        check(dx, scripted.text(good(dx, verdict="maybe")))
    with pytest.raises(InvalidAnswerError, match="confidence"):
        check(dx, scripted.text(good(dx, confidence=9)))
    with pytest.raises(InvalidAnswerError, match=r"extra|not permitted"):
        check(dx, scripted.text(good(dx, rating="10/10")))
    with pytest.raises(InvalidAnswerError, match="cut off"):
        check(dx, scripted.text(good(dx), finish_reason="length"))
    with pytest.raises(InvalidAnswerError) as refused:
        check(dx, scripted.text(None, refusal="I can't help with that"))
    assert refused.value.reason is FailureReason.REFUSED


async def test_valid_first_answer(dx: Persona, scripted_kind: dict[str, scripted.Script]) -> None:
    result = await Runner(policy=FAST).execute(make_call(dx))
    assert result.ok and result.verdict == "ship" and result.confidence == 4
    assert set(result.fields) == set(dx.field_names)
    assert (result.attempts, result.reasks) == (1, 0)


async def test_reask_carries_the_error_and_recovers(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    call = make_call(dx)
    script = scripted_kind["m"]
    script.queue = [scripted.text("not json at all"), scripted.text(good(dx, verdict="skip"))]
    result = await Runner(policy=FAST).execute(call)
    assert result.ok and result.verdict == "skip"
    assert (result.attempts, result.reasks) == (2, 1)
    second = script.requests[1].messages
    assert second[-2].role == "assistant" and second[-2].content == "not json at all"
    assert "not a JSON object" in second[-1].content


async def test_answer_that_stays_invalid_fails_after_two_reasks(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    call = make_call(dx)
    scripted_kind["m"].default = scripted.text(good(dx, confidence=0))
    result = await Runner(policy=FAST).execute(call)
    assert not result.ok and result.verdict is None
    assert result.failure is not None
    assert result.failure.reason is FailureReason.INVALID_OUTPUT
    assert "confidence" in result.failure.detail and "2 re-asks" in result.failure.detail
    assert (result.attempts, result.reasks) == (3, 2)


async def test_refusal_is_not_reasked(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    call = make_call(dx)
    scripted_kind["m"].default = scripted.text(None, refusal="no")
    result = await Runner(policy=FAST).execute(call)
    assert result.failure is not None and result.failure.reason is FailureReason.REFUSED
    assert result.attempts == 1


async def test_transport_errors_retry_then_succeed(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    call = make_call(dx)
    busy = ProviderError(FailureReason.RATE_LIMITED, "429", status=429, retryable=True)
    scripted_kind["m"].queue = [busy, busy]
    result = await Runner(policy=FAST).execute(call)
    assert result.ok and result.attempts == 3 and result.reasks == 0


async def test_transport_errors_exhaust_to_typed_failure(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    call = make_call(dx)
    scripted_kind["m"].default = scripted.text("unused")
    down = ProviderError(FailureReason.SERVER_ERROR, "503", status=503, retryable=True)
    scripted_kind["m"].queue = [down, down, down]
    result = await Runner(policy=FAST).execute(call)
    assert result.failure is not None and result.failure.reason is FailureReason.SERVER_ERROR
    assert result.attempts == 3


async def test_non_retryable_error_is_sent_once(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    call = make_call(dx)
    scripted_kind["m"].queue = [ProviderError(FailureReason.AUTH, "401", status=401)]
    result = await Runner(policy=FAST).execute(call)
    assert result.failure is not None and result.failure.reason is FailureReason.AUTH
    assert result.attempts == 1


async def test_run_keeps_order_and_never_raises(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    calls = [make_call(dx, "good"), make_call(dx, "bad")]
    scripted_kind["bad"].default = ProviderError(FailureReason.AUTH, "401")
    seen: list[str] = []
    results = await Runner(policy=FAST, progress=lambda c, r: seen.append(r.provider)).run(calls)
    assert [r.provider for r in results] == ["scripted/good", "scripted/bad"]
    assert [r.ok for r in results] == [True, False]
    assert sorted(seen) == ["scripted/bad", "scripted/good"]


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=8, retry_after_cap=30)
    assert policy.delay(1, 12.5) == 12.5
    assert policy.delay(1, 600) == 30
    assert 2 <= policy.delay(3, None) <= 4
    assert 4 <= policy.delay(10, None) <= 8


def test_call_key_changes_with_what_decides_the_answer(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    a, b = make_call(dx, "m"), make_call(dx, "n")
    assert a.key == make_call(dx, "m").key
    assert a.key != b.key


def test_a_providers_own_decoding_settings_are_part_of_the_key(
    dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    """A changed repeat penalty must not reuse answers decoded under the old one."""
    import dataclasses
    import hashlib
    import json

    from panel.pipeline.calls import call_key

    call = make_call(dx, "m")
    request = call.request()
    plain = call_key(call.provider, request)
    payload = {
        "provider": call.provider.spec,
        "model": call.provider.model,
        "messages": [m.as_dict() for m in request.messages],
        "schema": request.schema,
        "sampling": dataclasses.asdict(request.sampling),
    }
    # no decoding settings: the key is what it always was, so existing caches stay valid
    assert plain == hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    keys = set()
    for decoding in ("repeat_penalty=1.15", "repeat_penalty=1.3"):
        call.provider.decoding = decoding  # type: ignore[misc]
        keys.add(call_key(call.provider, request))
    assert len(keys | {plain}) == 3


@needs_local
def test_the_embedded_model_decodes_with_its_repeat_penalty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio
    import threading

    from panel.providers import local
    from panel.providers.base import Message, Sampling

    seen: dict[str, object] = {}

    class FakeLlama:
        def create_chat_completion(self, **kwargs: object) -> dict[str, object]:
            seen.update(kwargs)
            return {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]}

    monkeypatch.setattr(local, "_load", lambda path: FakeLlama())
    monkeypatch.setattr(local, "smollm2_path", lambda: Path("/nowhere/model.gguf"))
    monkeypatch.setitem(local._decode_locks, Path("/nowhere/model.gguf"), threading.Lock())
    request = CompletionRequest((Message("user", "hi"),), {"type": "object"}, "s")
    provider = local.LocalProvider("smollm2", Sampling(), repeat_penalty=1.3)
    asyncio.run(provider.complete(request))
    grammar = local.GRAMMAR_DECODING  # how the grammar is applied decides answers too
    assert seen["repeat_penalty"] == 1.3 and provider.decoding == f"repeat_penalty=1.3;{grammar}"
    default = local.LocalProvider("smollm2", Sampling())
    assert default.decoding == f"repeat_penalty={local.REPEAT_PENALTY};{grammar}"
