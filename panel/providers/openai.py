"""``openai/<model>``: the OpenAI Chat Completions API through the official async SDK.

The same provider serves any OpenAI-compatible server (Azure OpenAI, Ollama,
vLLM, llama.cpp's server, OpenRouter...) via ``base_url`` in panel.toml or
``OPENAI_BASE_URL``. The SDK's own retries are off: panel's retry policy is
the only one. One client per provider per process. ``ProviderSettings.transport``
(an ``httpx2`` transport such as ``httpx2.MockTransport``) replaces the network.
"""

from __future__ import annotations

from typing import Any

import openai
from openai.types.chat import ChatCompletion

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.batch import BatchApi
from panel.providers.http import HttpProvider, tls_context
from panel.providers.kind import Capabilities, ProviderKind
from panel.providers.ladder import RUNGS


class OpenAIProvider(HttpProvider):
    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings, KIND)
        self.client = openai.AsyncOpenAI(
            api_key=self._key,
            base_url=self.base_url,
            max_retries=0,  # panel's retry policy is the only one
            timeout=settings.timeout,
            http_client=openai.DefaultAsyncHttpxClient(
                verify=tls_context(), timeout=settings.timeout, transport=settings.transport
            ),
        )

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
        if request.sampling.seed is not None:
            body["seed"] = request.sampling.seed
        body["temperature"] = request.sampling.temperature
        if response_format is not None:
            body["response_format"] = response_format
        return body

    def _error(self, exc: Exception, rung: StructuredMode) -> ProviderError:
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
                cast_to=ChatCompletion,
                body=self.request_body(request, rung),
                options={"security": {"bearer_auth": True}},
            )
        except openai.OpenAIError as exc:
            raise self._error(exc, rung) from None
        return self.completion(response, rung)

    def completion(self, response: ChatCompletion, rung: StructuredMode) -> Completion:
        """The ``Completion`` in a chat response (synchronous, or a batch output line)."""
        if not response.choices:
            raise self.no_choices()
        choice = response.choices[0]
        usage = response.usage
        completion = Completion(
            text=choice.message.content,
            finish_reason=choice.finish_reason or "stop",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            model_version=response.model or self.model,
            mode=rung,
            refusal=getattr(choice.message, "refusal", None),
        )
        return self.checked(completion)

    def batch_api(self) -> BatchApi | None:
        """OpenAI's Batch API; at another server only with ``batch = true`` (vLLM, Together...)."""
        if self.settings.batch is False or (self.base_url and not self.settings.batch):
            return None
        from panel.providers.openai_batch import OpenAIBatch

        return OpenAIBatch(self)

    async def aclose(self) -> None:
        await self.client.close()


KIND = ProviderKind(
    name="openai",
    create=OpenAIProvider,
    summary="OpenAI Chat Completions, or any OpenAI-compatible server at base_url",
    capabilities=Capabilities(structured=RUNGS, batch=True),
    key_env="OPENAI_API_KEY",
    base_url_env="OPENAI_BASE_URL",
    endpoint="https://api.openai.com/v1",
    vendor="openai",
    prices={  # list prices, USD per 1M tokens (input, output)
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4o": (2.50, 10.00),
        "gpt-4.1": (2.00, 8.00),
        "gpt-4.1-mini": (0.40, 1.60),
        "gpt-4.1-nano": (0.10, 0.40),
    },
    prices_date="2025-06",
)
