"""Issue 18: nothing changes on the wire unless we say so.

One verdict call of each provider kind, from the shipped personas and prompts, with a
fixed fence key: the exact request bytes the openai and mistral SDKs send (through an
injected ``httpx2.MockTransport``), the exact arguments handed to llama.cpp for ``local``,
and the request and answer of ``mock``. Each is pinned in ``tests/data/wire/``. A change
to the SDK calls, the prompt layout, the structured-output format or the grammar schema
shows up here as a diff; regenerate with ``PANEL_UPDATE_WIRE=1`` only when the change is
intended (and say so: a nightly re-reviews every tool whose prompt changed).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
import pytest

from panel.inputs.catalog import Tool
from panel.inputs.personas import load_personas
from panel.pipeline.prompts import PromptBuilder
from panel.providers import local, registry
from panel.providers.base import CompletionRequest, Provider, ProviderSettings, Sampling
from panel.providers.local_grammar import DECODING, GrammarAfterTopK
from tests.support.local_extra import needs_local

ROOT = Path(__file__).resolve().parent.parent
WIRE = Path(__file__).resolve().parent / "data" / "wire"
KEY = "sk-wire-test-0123456789"
PERSONA = load_personas(ROOT / "personas", ROOT / "prompts")["dx"]
CARD = {  # every card field, so each one's rendering is pinned
    "slug": "alpha", "name": "Alpha", "vendor": "Alpha Labs", "category": "Coding agents",
    "tagline": "An API for text", "entry_price": "free", "pricing_notes": "Free while in beta.",
    "url": "https://alpha.example/", "launched": date(2025, 1, 2),
    "description": "Alpha turns prompts into pull requests.\nIt runs in your CI.",
}  # fmt: skip
TOOL = Tool.model_validate(CARD)
ANSWER = {
    "primitive": "A CI step.",
    "dx_bet": "Teams want review in CI.",
    "moment_of_truth": "The first merged pull request.",
    "deciding_decision": "Running in CI.",
    "quote": "Alpha is a CI step. It is small. It works.",
    "verdict": "ship",
    "confidence": 3,
}


def request() -> CompletionRequest:
    rendered = PromptBuilder(ROOT / "prompts", b"k" * 32).render(PERSONA, TOOL)
    return CompletionRequest(
        rendered.messages, PERSONA.json_schema(), "dx_verdict", Sampling(0.2, 900, 7)
    )


def pinned(name: str, actual: bytes) -> None:
    path = WIRE / name
    if os.environ.get("PANEL_UPDATE_WIRE") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.is_file(), f"no pinned {path.name}; run with PANEL_UPDATE_WIRE=1"
    assert actual == path.read_bytes(), f"{name} changed on the wire"


def _completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(ANSWER)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 60, "total_tokens": 180},
    }


@pytest.mark.parametrize(
    ("kind", "url"), [("openai", "https://openai.invalid/v1"), ("mistral", "https://m.invalid")]
)
async def test_the_request_bytes_of_http_kinds_are_pinned(
    kind: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRE_TEST_KEY", KEY)
    sent: list[httpx2.Request] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        sent.append(req)
        return httpx2.Response(200, json=_completion("test-model"))

    provider: Provider = registry.create(
        ProviderSettings(
            name=f"{kind}/test-model",
            kind=kind,
            model="test-model",
            base_url=url,
            api_key_env="WIRE_TEST_KEY",
            transport=httpx2.MockTransport(handler),
        )
    )
    try:
        completion = await provider.complete(request())
    finally:
        await provider.aclose()
    assert json.loads(completion.text or "") == ANSWER
    (req,) = sent
    assert (req.method, req.headers["authorization"]) == ("POST", f"Bearer {KEY}")
    assert req.headers["content-type"] == "application/json"
    pinned(f"{kind}.body.json", req.content)


@pytest.mark.parametrize(
    ("kind", "url"), [("openai", "https://openai.invalid/v1"), ("mistral", "https://m.invalid")]
)
async def test_the_prompt_cache_key_on_the_wire_is_pinned(
    kind: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 30: ``prompt_cache_key`` (sent to the kind's own server, or where configured)."""
    monkeypatch.setenv("WIRE_TEST_KEY", KEY)
    sent: list[httpx2.Request] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        sent.append(req)
        return httpx2.Response(200, json=_completion("test-model"))

    provider: Provider = registry.create(
        ProviderSettings(
            name=f"{kind}/test-model", kind=kind, model="test-model", base_url=url,
            api_key_env="WIRE_TEST_KEY", prompt_cache_key=True,
            transport=httpx2.MockTransport(handler),
        )
    )  # fmt: skip
    try:
        await provider.complete(replace(request(), cache_key="panel-0123456789abcdef01234567"))
    finally:
        await provider.aclose()
    (req,) = sent
    pinned(f"{kind}.cache-key.body.json", req.content)


@needs_local
async def test_the_arguments_handed_to_llama_cpp_are_pinned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed: list[dict[str, Any]] = []

    class FakeLlama:
        def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
            handed.append(kwargs)
            return _completion("local")

    monkeypatch.setattr(local, "_load", lambda path: FakeLlama())
    monkeypatch.setitem(local._decode_locks, local.smollm2_path(), local.threading.Lock())
    provider = local.LocalProvider("smollm2", Sampling(0.2, 900, 7))
    completion = await provider.complete(request())
    assert json.loads(completion.text or "") == ANSWER
    (kwargs,) = handed
    (grammar,) = kwargs.pop("logits_processor")  # the grammar, applied after top-k
    assert isinstance(grammar, GrammarAfterTopK) and provider.decoding.endswith(DECODING)
    kwargs["grammar_schema"] = grammar.schema
    pinned("local.kwargs.json", json.dumps(kwargs, indent=1).encode() + b"\n")


async def test_the_mock_kinds_request_and_answer_are_pinned() -> None:
    provider = registry.create(ProviderSettings(name="mock/wire", kind="mock", model="wire"))
    req = request()
    completion = await provider.complete(req)
    seen = {
        "messages": [m.as_dict() for m in req.messages],
        "schema_name": req.schema_name,
        "answer": json.loads(completion.text or ""),
    }
    pinned("mock.json", json.dumps(seen, indent=1).encode() + b"\n")
