"""Issue 17, item 4: HTTP providers take an injected transport (``httpx2.MockTransport``).

The real openai and mistralai SDKs, through panel's providers and runner, with no socket:
the base URLs below do not resolve, so an answer proves the transport carried the call.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import httpx2
import pytest

from panel.inputs.catalog import Tool
from panel.inputs.personas import load_personas
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.runner import Call, Runner, call_key
from panel.providers import registry
from panel.providers.base import (
    CompletionRequest,
    FailureReason,
    Message,
    Provider,
    ProviderSettings,
    StructuredMode,
)
from panel.records.schema import CallResult
from tests.support import project as fixture
from tests.support.scripted import valid_answer

PERSONA = load_personas(fixture.PERSONAS, fixture.PROMPTS)["dx"]
TOOL = Tool(slug="alpha", name="Alpha", description="An API for text.")
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, retry_after_cap=1.0)
KEY = "sk-transport-test-0123456789"
NOWHERE = {"openai": "https://openai.invalid/v1", "mistral": "https://mistral.invalid"}


class Recorder:
    """A handler for ``httpx2.MockTransport``: answers like a chat API and keeps each request."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)  # sent first, one per request, before answering
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.statuses:
            status = self.statuses.pop(0)
            return httpx2.Response(status, headers={"retry-after-ms": "10"}, json={"error": "x"})
        body = json.loads(request.content)
        schema = body["response_format"]["json_schema"]["schema"]
        return httpx2.Response(200, json=_completion(body["model"], valid_answer(schema)))


def _completion(model: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": f"{model}-2025-01-01",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(answer)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 60, "total_tokens": 180},
    }


def provider(kind: str, handler: Recorder) -> Provider:
    return registry.create(
        ProviderSettings(
            name=f"{kind}/test-model",
            kind=kind,
            model="test-model",
            base_url=NOWHERE[kind],
            transport=httpx2.MockTransport(handler),
        )
    )


async def run(p: Provider) -> CallResult:
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONA, TOOL)
    try:
        return await Runner(FAST).execute(Call(PERSONA, TOOL, p, rendered))
    finally:
        await p.aclose()


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)


@pytest.mark.parametrize("kind", ["openai", "mistral"])
async def test_the_real_sdk_answers_through_an_injected_mock_transport(kind: str) -> None:
    handler = Recorder()
    result = await run(provider(kind, handler))
    assert result.ok and result.verdict == "ship", result.failure
    assert (result.mode, result.model_version) == (
        StructuredMode.JSON_SCHEMA,
        "test-model-2025-01-01",
    )
    assert (result.prompt_tokens, result.completion_tokens) == (120, 60)
    (sent,) = handler.requests
    assert str(sent.url) == f"{NOWHERE[kind]}{'' if kind == 'openai' else '/v1'}/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(sent.content)
    assert body["model"] == "test-model"
    assert body["response_format"]["json_schema"]["name"] == "dx_verdict"


@pytest.mark.parametrize("kind", ["openai", "mistral"])
async def test_errors_from_the_transport_are_typed_and_retried(kind: str) -> None:
    handler = Recorder(429)
    result = await run(provider(kind, handler))
    assert result.ok and result.attempts == 2 and len(handler.requests) == 2
    failing = Recorder(401)
    failed = await run(provider(kind, failing))
    assert failed.failure is not None and failed.failure.reason is FailureReason.AUTH
    assert len(failing.requests) == 1  # never retried


async def test_the_transport_is_not_part_of_settings_equality_repr_or_the_cache_key() -> None:
    base = ProviderSettings(name="openai/m", kind="openai", model="m")
    mocked = replace(base, transport=httpx2.MockTransport(Recorder()))
    assert mocked == base and "transport" not in repr(mocked)
    request = CompletionRequest((Message("user", "hi"),), {"type": "object"}, "s")
    plain, injected = registry.create(base), registry.create(mocked)
    try:
        assert call_key(plain, request) == call_key(injected, request)
    finally:
        await plain.aclose()
        await injected.aclose()
