"""``mistral/<model>``: Mistral's chat API through the official async SDK (mistralai).

The server URL comes from panel.toml (``base_url``) or ``MISTRAL_BASE_URL``.
The SDK retries nothing unless given a retry config, and panel gives it none:
panel's retry policy is the only one. One client per provider per process.
``ProviderSettings.transport`` (an ``httpx2`` transport such as ``httpx2.MockTransport``)
replaces the network.
"""

from __future__ import annotations

from typing import Any

import httpx2 as httpx  # mistralai's HTTP client library
from mistralai.client import Mistral
from mistralai.client.errors import MistralError, NoResponseError
from mistralai.client.models import ChatCompletionResponse, UsageInfo

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
from panel.providers.mistral_batch import MistralBatch


class MistralProvider(HttpProvider):
    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings, KIND)
        self._http = httpx.AsyncClient(
            verify=tls_context(),
            follow_redirects=True,
            timeout=self.timeout,
            transport=settings.transport,
        )
        self.client = Mistral(
            api_key=self._key,
            server_url=self.base_url,
            timeout_ms=int(self.timeout * 1000),
            async_client=self._http,
        )

    async def get_json(self, url: str) -> tuple[int, Any]:
        """A GET at the server (no key sent: a probe asks only what the server publishes)."""
        response = await self._http.get(url, timeout=PROBE_TIMEOUT)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def request_body(self, request: CompletionRequest, rung: StructuredMode) -> dict[str, Any]:
        response_format, messages = self.structured(request, rung)
        args: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": request.sampling.temperature,
            "max_tokens": request.sampling.max_tokens,
        }
        if request.sampling.seed is not None:
            args["random_seed"] = request.sampling.seed
        if request.cache_key and self.sends_cache_key:
            args["prompt_cache_key"] = request.cache_key
        if response_format is not None:
            response_format.pop("schema", None)  # Mistral's json_object takes no schema
            args["response_format"] = response_format
        return args

    def map_error(self, exc: Exception, rung: StructuredMode) -> ProviderError:
        if isinstance(exc, httpx.TimeoutException):
            return self.timed_out()
        if isinstance(exc, httpx.TransportError | NoResponseError):
            return self.disconnected()
        if isinstance(exc, MistralError):
            return self.status_error(exc.status_code, exc.headers, self.detail(exc), rung)
        return ProviderError(FailureReason.SERVER_ERROR, f"{self.spec}: {self.detail(exc)}")

    async def complete(self, request: CompletionRequest) -> Completion:
        rung = self.ladder.rung
        try:
            response = await self.client.chat.complete_async(**self.request_body(request, rung))
        except (MistralError, NoResponseError, httpx.HTTPError) as exc:
            raise self.map_error(exc, rung) from None
        return self.completion(response, rung)

    def parse(self, body: Any) -> ChatCompletionResponse:
        return ChatCompletionResponse.model_validate(body)

    def completion(self, response: ChatCompletionResponse, rung: StructuredMode) -> Completion:
        """The ``Completion`` in a chat response (synchronous, or a batch output line)."""
        if not response.choices:
            raise self.no_choices()
        choice = response.choices[0]
        content = choice.message.content if choice.message else None
        text = content if isinstance(content, str) or content is None else _join(content)
        usage = response.usage
        completion = Completion(
            text=text,
            finish_reason=str(choice.finish_reason or "stop"),
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
            model_version=response.model or self.model,
            mode=rung,
            cached_tokens=_cached(usage),
        )
        return self.checked(completion)

    async def aclose(self) -> None:
        await self._http.aclose()


def _join(chunks: Any) -> str:
    """Text from a list of content chunks (text chunks only)."""
    return "".join(getattr(chunk, "text", "") or "" for chunk in chunks)


def _cached(usage: UsageInfo | None) -> int:
    """``usage.prompt_tokens_details.cached_tokens`` (an extra field to the SDK), else 0."""
    extra = (usage.additional_properties if usage is not None else None) or {}
    details = extra.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if not isinstance(cached, int) or isinstance(cached, bool) or cached < 0:
        return 0
    return min(cached, (usage.prompt_tokens or 0) if usage is not None else 0)


KIND = ProviderKind(
    name="mistral",
    create=MistralProvider,
    summary="Mistral's chat API",
    capabilities=Capabilities(structured=RUNGS),
    # Mistral's batch jobs; at another server only with ``batch = true``
    batch=BatchSpec(MistralBatch, discount=0.5),
    key_env="MISTRAL_API_KEY",
    base_url_env="MISTRAL_BASE_URL",
    endpoint="https://api.mistral.ai",
    vendor="mistral",
    # list prices, USD per 1M tokens (input, output, cached input): cached prompt tokens
    # are billed at 10% of the input price (https://docs.mistral.ai/studio-api/conversations/
    # advanced/prompt-caching)
    prices={
        "mistral-small-latest": (0.10, 0.30, 0.01),
        "mistral-medium-latest": (0.40, 2.00, 0.04),
        "mistral-large-latest": (2.00, 6.00, 0.20),
        "open-mistral-nemo": (0.15, 0.15, 0.015),
    },
    prices_date="2025-06",
)
