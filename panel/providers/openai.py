"""``openai/<model>``: the OpenAI Chat Completions API through the official async SDK.

The same provider serves any OpenAI-compatible server (Azure OpenAI, Ollama,
vLLM, llama.cpp's server, OpenRouter...) via ``base_url`` in panel.toml or
``OPENAI_BASE_URL``. The SDK's own retries are off: panel's retry policy is
the only one. One client per provider per process. ``ProviderSettings.transport``
(an ``httpx2`` transport such as ``httpx2.MockTransport``) replaces the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.batch import BatchSpec
from panel.providers.compat import PROBE_TIMEOUT
from panel.providers.http import HttpProvider, tls_context
from panel.providers.kind import Capabilities, ProviderKind
from panel.providers.ladder import RUNGS
from panel.providers.openai_batch import OpenAIBatch


class OpenAIProvider(HttpProvider):
    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings, KIND)
        self._http = openai.DefaultAsyncHttpxClient(
            verify=tls_context(), timeout=self.timeout, transport=settings.transport
        )
        self.client = openai.AsyncOpenAI(
            api_key=self._key,
            base_url=self.base_url,
            max_retries=0,  # panel's retry policy is the only one
            timeout=self.timeout,
            http_client=self._http,
        )

    async def get_json(self, url: str) -> tuple[int, Any]:
        """A GET at the server (no key sent: a probe asks only what the server publishes)."""
        response = await self._http.get(url, timeout=PROBE_TIMEOUT)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def request_body(self, request: CompletionRequest, rung: StructuredMode) -> dict[str, Any]:
        """The request body, plain JSON, keys in the order the SDK's ``create`` sends them.

        It goes to the SDK's ``post`` as is: ``create`` deep-walks every message and the
        schema through its typed-params transform on each call (a fifth of a nightly's
        CPU), and changes nothing in a body that is plain JSON already.
        ``tests/test_wire_bytes.py`` pins the bytes. A batch line's body is the same.
        """
        response_format, messages = self.structured(request, rung)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.sampling.max_tokens,
        }
        if request.cache_key and self.sends_cache_key:
            body["prompt_cache_key"] = request.cache_key
        if request.sampling.seed is not None:
            body["seed"] = request.sampling.seed
        body["temperature"] = request.sampling.temperature
        body.update(self.profile.sampling())  # llama.cpp's server: the embedded model's penalty
        if response_format is not None:
            body["response_format"] = response_format
        return body

    def map_error(self, exc: Exception, rung: StructuredMode) -> ProviderError:
        if isinstance(exc, openai.APITimeoutError):
            return self.timed_out()
        if isinstance(exc, openai.APIConnectionError):
            return self.disconnected()
        if isinstance(exc, openai.APIStatusError):
            return self.status_error(exc.status_code, exc.response.headers, self.detail(exc), rung)
        return ProviderError(FailureReason.SERVER_ERROR, f"{self.spec}: {self.detail(exc)}")

    async def complete(self, request: CompletionRequest) -> Completion:
        rung = self.ladder.rung
        try:
            response = await self.client.post(
                "/chat/completions",
                # the answer's JSON as is: building the SDK's typed ChatCompletion walks
                # every field in Python; panel reads five of them (``completion``)
                cast_to=object,
                body=self.request_body(request, rung),
                options={"security": {"bearer_auth": True}},
            )
        except openai.OpenAIError as exc:
            raise self.map_error(exc, rung) from None
        return self.completion(response, rung)

    def completion(self, response: object, rung: StructuredMode) -> Completion:
        """The ``Completion`` in a chat response's JSON (synchronous, or a batch output line).

        The server's JSON is untrusted: read leniently, as the SDK does (an OpenAI-compatible
        server may leave out ``id`` or ``usage``), but a field of the wrong type is an
        invalid answer, never a crash.
        """
        choices = response.get("choices") if isinstance(response, Mapping) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            raise self.no_choices()
        assert isinstance(response, Mapping)
        choice = choices[0]
        message = choice.get("message") or {}
        usage = response.get("usage") or {}
        if not isinstance(message, Mapping) or not isinstance(usage, Mapping):
            raise self.unreadable("message or usage is not an object")
        text, refusal = message.get("content"), message.get("refusal")
        finish, model = choice.get("finish_reason") or "stop", response.get("model") or self.model
        if not all(isinstance(v, str | None) for v in (text, refusal, finish, model)):
            raise self.unreadable("content, refusal, finish_reason or model is not text")
        completion = Completion(
            text=text,
            finish_reason=finish,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
            model_version=model,
            mode=rung,
            refusal=refusal,
            cached_tokens=_cached(usage),
        )
        return self.checked(completion)

    async def aclose(self) -> None:
        await self.client.close()


def _count(value: object) -> int:
    """A token count from the server's JSON; anything but a non-negative integer is 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _cached(usage: Mapping[Any, Any]) -> int:
    """``usage.prompt_tokens_details.cached_tokens``, never more than the prompt; else 0."""
    details = usage.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, Mapping) else 0
    return min(cached, _count(usage.get("prompt_tokens")))


KIND = ProviderKind(
    name="openai",
    create=OpenAIProvider,
    summary="OpenAI Chat Completions, or any OpenAI-compatible server at base_url",
    capabilities=Capabilities(structured=RUNGS),
    # OpenAI's Batch API; at another server only with ``batch = true`` (vLLM, Together...)
    batch=BatchSpec(OpenAIBatch, discount=0.5),
    key_env="OPENAI_API_KEY",
    base_url_env="OPENAI_BASE_URL",
    endpoint="https://api.openai.com/v1",
    vendor="openai",
    # list prices, USD per 1M tokens (input, output, cached input): cached input is half
    # the input price on gpt-4o(-mini) and a quarter on the gpt-4.1 family (OpenAI's pricing
    # page, https://developers.openai.com/api/docs/pricing, as quoted: README "Prompt caching")
    prices={
        "gpt-4o-mini": (0.15, 0.60, 0.075),
        "gpt-4o": (2.50, 10.00, 1.25),
        "gpt-4.1": (2.00, 8.00, 0.50),
        "gpt-4.1-mini": (0.40, 1.60, 0.10),
        "gpt-4.1-nano": (0.10, 0.40, 0.025),
    },
    prices_date="2025-06",
)
