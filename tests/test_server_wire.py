"""Issue 27: what panel sends each OpenAI-compatible server, with only its base URL configured.

For each server in the README's compatibility table, one verdict call goes through the real
openai SDK to an ``httpx2.MockTransport`` that answers as that server does: recorded from
the real server here (llama-cpp-python's HTTP 500 to ``json_schema``, llama.cpp's
``/props``), or as its documentation says (vLLM, Ollama, LM Studio, OpenRouter accept
``response_format`` ``json_schema``). The request that produced the verdict is pinned in
``tests/data/wire/servers/`` (regenerate with ``PANEL_UPDATE_WIRE=1`` only when the change is
intended), and its shape is checked against what the server accepts.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from panel.providers import registry
from panel.providers.base import ProviderSettings, StructuredMode
from panel.providers.grammar_schema import GRAMMAR_STRING_CAP
from panel.providers.http import HttpProvider
from tests.test_wire_bytes import ANSWER, _completion, pinned, request

# The 500 llama-cpp-python 0.3.36's server answered to json_schema on this machine (issue 27).
LLAMA_CPP_PYTHON_500 = {
    "error": {
        "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
        "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", "
        "'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}",
        "type": "internal_server_error",
    }
}
# The keys of llama.cpp's GET /props that panel reads (xllamacpp 2026.10's llama-server here).
LLAMA_SERVER_PROPS = {"default_generation_settings": {}, "total_slots": 1, "build_info": "b0"}


def _strict(fmt: dict[str, Any]) -> bool:
    """OpenAI's strict json_schema shape (vLLM, Ollama 0.5+, LM Studio, OpenRouter take it)."""
    spec = fmt.get("json_schema", {})
    schema = spec.get("schema", {})
    return (
        fmt.get("type") == "json_schema"
        and spec.get("strict") is True
        and isinstance(spec.get("name"), str)
        and schema.get("type") == "object"
        and "maxLength" not in json.dumps(schema)  # strict modes refuse string lengths
    )


def _bounded(schema: dict[str, Any]) -> bool:
    """The grammar-friendly schema: every string bounded by the grammar cap."""
    strings = [p for p in schema["properties"].values() if p.get("type") == "string"]
    return bool(strings) and all(p["maxLength"] <= GRAMMAR_STRING_CAP for p in strings)


# name -> (base URL, what the server answers a json_schema request, what it accepts)
SERVERS: dict[str, tuple[str, str, Any]] = {
    "vllm": ("http://127.0.0.1:8000/v1", "accepts", _strict),
    "ollama": ("http://localhost:11434/v1", "accepts", _strict),
    "lm-studio": ("http://localhost:1234/v1", "accepts", _strict),
    "openrouter": ("https://openrouter.ai/api/v1", "accepts", _strict),
    "llama-server": (
        "http://127.0.0.1:8080/v1",
        "props",
        lambda fmt: fmt["type"] == "json_schema" and _bounded(fmt["json_schema"]["schema"]),
    ),
    "llama-cpp-python": (
        "http://127.0.0.1:8000/v1",
        "500",
        lambda fmt: fmt["type"] == "json_object" and _bounded(fmt["schema"]),
    ),
}


@pytest.mark.parametrize("name", list(SERVERS))
async def test_the_request_each_server_gets_is_pinned_and_has_a_shape_it_accepts(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("WIRE_TEST_KEY", "sk-wire-test-0123456789")
    url, behaviour, accepts = SERVERS[name]
    posted: list[dict[str, Any]] = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        if req.method == "GET":  # the probe of a local server
            found = behaviour == "props" and req.url.path == "/props"
            return httpx2.Response(200 if found else 404, json=LLAMA_SERVER_PROPS if found else {})
        body = json.loads(req.content)
        posted.append(body)
        if behaviour == "500" and body["response_format"]["type"] == "json_schema":
            return httpx2.Response(500, json=LLAMA_CPP_PYTHON_500)
        return httpx2.Response(200, json=_completion(body["model"]))

    provider = registry.create(
        ProviderSettings(
            name="openai/served-model",
            kind="openai",
            model="served-model",
            base_url=url,
            api_key_env="WIRE_TEST_KEY" if name == "openrouter" else None,
            transport=httpx2.MockTransport(handler),
        )
    )
    assert isinstance(provider, HttpProvider)
    await provider.prepare()
    try:
        try:
            completion = await provider.complete(request())
        except Exception as exc:  # the step-down: the runner sends again at once
            assert getattr(exc, "stepped_down", False), exc
            completion = await provider.complete(request())
    finally:
        await provider.aclose()
    assert json.loads(completion.text or "") == ANSWER
    last = posted[-1]
    assert accepts(last["response_format"]), last["response_format"]
    expected = StructuredMode.JSON_OBJECT if behaviour == "500" else StructuredMode.JSON_SCHEMA
    assert completion.mode is expected and len(posted) == (2 if behaviour == "500" else 1)
    # llama.cpp's server decodes as the embedded model does; nobody else gets llama.cpp fields
    assert last.get("repeat_penalty") == (1.15 if name == "llama-server" else None)
    local = name not in ("openrouter",)
    assert provider.limits.in_flight == (1 if local else 8)
    pinned(f"servers/{name}.body.json", json.dumps(last, indent=1).encode() + b"\n")
