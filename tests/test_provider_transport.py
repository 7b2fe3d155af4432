"""Issue 17, item 4: HTTP providers take an injected transport (``httpx2.MockTransport``).

The real openai and mistralai SDKs, through panel's providers, with no socket: the base
URLs below do not resolve, so an answer proves the transport carried the call.
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
from panel.providers import registry
from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    Provider,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from tests.support import project as fixture
from tests.support.scripted import valid_answer

PERSONA = load_personas(fixture.PERSONAS, fixture.PROMPTS)["dx"]
TOOL = Tool(slug="alpha", name="Alpha", description="An API for text.")
KEY = "sk-transport-test-0123456789"
NOWHERE = {"openai": "https://openai.invalid/v1", "mistral": "https://mistral.invalid"}


class Recorder:
    """A handler for ``httpx2.MockTransport``: answers like a chat API and keeps each request."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx2.Response(
                self.status, headers={"retry-after-ms": "250"}, json={"error": "no"}
            )
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


def verdict_request() -> CompletionRequest:
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(PERSONA, TOOL)
    return CompletionRequest(rendered.messages, PERSONA.json_schema(), "dx_verdict")


async def ask(p: Provider) -> Completion:
    try:
        return await p.complete(verdict_request())
    finally:
        await p.aclose()


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)


@pytest.mark.parametrize("kind", ["openai", "mistral"])
async def test_the_real_sdk_answers_through_an_injected_mock_transport(kind: str) -> None:
    handler = Recorder()
    completion = await ask(provider(kind, handler))
    assert completion.text is not None
    verdict = PERSONA.verdict_model.model_validate_json(completion.text).model_dump()
    assert verdict["verdict"] == "ship"
    assert (completion.mode, completion.model_version) == (
        StructuredMode.JSON_SCHEMA,
        "test-model-2025-01-01",
    )
    assert (completion.prompt_tokens, completion.completion_tokens) == (120, 60)
    (sent,) = handler.requests
    assert str(sent.url) == f"{NOWHERE[kind]}{'' if kind == 'openai' else '/v1'}/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(sent.content)
    assert body["model"] == "test-model"
    assert body["response_format"]["json_schema"]["name"] == "dx_verdict"


@pytest.mark.parametrize("kind", ["openai", "mistral"])
@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [(429, FailureReason.RATE_LIMITED, True), (401, FailureReason.AUTH, False)],
)
async def test_errors_from_the_transport_are_typed(
    kind: str, status: int, reason: FailureReason, retryable: bool
) -> None:
    handler = Recorder(status)
    with pytest.raises(ProviderError) as caught:
        await ask(provider(kind, handler))
    assert (caught.value.reason, caught.value.retryable) == (reason, retryable)
    assert caught.value.retry_after == pytest.approx(0.25)
    assert len(handler.requests) == 1  # the SDK's own retries stay off


async def test_the_transport_is_not_part_of_settings_equality_repr_or_the_cache_key() -> None:
    base = ProviderSettings(name="openai/m", kind="openai", model="m")
    mocked = replace(base, transport=httpx2.MockTransport(Recorder()))
    assert mocked == base and "transport" not in repr(mocked)
    plain, injected = registry.create(base), registry.create(mocked)
    try:  # everything of a provider that goes into the cache key (spec, model, decoding, server)
        seen = [(p.spec, p.model, p.decoding, p.endpoint) for p in (plain, injected)]
        assert seen[0] == seen[1]
    finally:
        await plain.aclose()
        await injected.aclose()
