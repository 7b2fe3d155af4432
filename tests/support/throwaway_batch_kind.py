"""A throwaway provider kind with a Batch API: its module, its batch module, one registry line.

``tests/test_batch_kind.py`` registers it as ``tbatch`` (one ``KINDS`` entry) and runs a
night through its Batch API against the loopback fake (``tests/support/fake_batch.py``),
end to end. It speaks the OpenAI wire format with a bare ``httpx2`` client as its "SDK",
so nothing of the openai kind is reused: what it needs is the descriptor's ``BatchSpec``,
the public codec ``HttpProvider`` gives it, and ``throwaway_batch.py``'s ``BatchClient``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.batch import BatchSpec
from panel.providers.http import HttpProvider
from panel.providers.keys import NO_KEY
from panel.providers.kind import Capabilities, ProviderKind
from tests.support.throwaway_batch import ThrowawayBatch

ENDPOINT = "https://api.tbatch.example/v1"


class ThrowawayBatchProvider(HttpProvider):
    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings, KIND)
        key = KIND.api_key(settings)
        self.client = httpx2.AsyncClient(
            base_url=self.base_url or ENDPOINT,
            headers={} if key == NO_KEY else {"authorization": f"Bearer {key}"},
            timeout=settings.timeout,
            transport=settings.transport,
        )

    def request_body(self, request: CompletionRequest, rung: StructuredMode) -> dict[str, Any]:
        response_format, messages = self.structured(request, rung)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.sampling.max_tokens,
            "temperature": request.sampling.temperature,
        }
        if response_format is not None:
            body["response_format"] = response_format
        return body

    def completion(self, response: Any, rung: StructuredMode) -> Completion:
        choices = response.get("choices") if isinstance(response, Mapping) else None
        if not isinstance(choices, list) or not choices:
            raise self.no_choices()
        message = choices[0].get("message") or {}
        usage = response.get("usage") or {}
        return self.checked(
            Completion(
                text=message.get("content"),
                finish_reason=choices[0].get("finish_reason") or "stop",
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                model_version=response.get("model") or self.model,
                mode=rung,
            )
        )

    def map_error(self, exc: Exception, rung: StructuredMode) -> ProviderError:
        if isinstance(exc, httpx2.TimeoutException):
            return self.timed_out()
        if isinstance(exc, httpx2.HTTPStatusError):
            response = exc.response
            return self.status_error(response.status_code, response.headers, self.detail(exc), rung)
        if isinstance(exc, httpx2.TransportError):
            return self.disconnected()
        return ProviderError(FailureReason.SERVER_ERROR, f"{self.spec}: {self.detail(exc)}")

    async def complete(self, request: CompletionRequest) -> Completion:
        rung = self.ladder.rung
        try:
            response = await self.client.post("/chat/completions", json=self.body(request))
            response.raise_for_status()
        except httpx2.HTTPError as exc:
            raise self.map_error(exc, rung) from None
        return self.completion(response.json(), rung)

    async def aclose(self) -> None:
        await self.client.aclose()


KIND = ProviderKind(
    name="tbatch",
    create=ThrowawayBatchProvider,
    summary="a kind with a Batch API, made up by a test",
    capabilities=Capabilities(structured=(StructuredMode.JSON_SCHEMA,)),
    batch=BatchSpec(ThrowawayBatch, discount=0.4),
    key_env="TBATCH_API_KEY",
    endpoint=ENDPOINT,
    vendor="Throwaway Labs",
    prices={"m": (1.0, 2.0)},
    prices_date="2026-01",
)
