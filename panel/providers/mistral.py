"""``mistral/<model>``: Mistral's chat API through the official async SDK (mistralai).

The server URL comes from panel.toml (``base_url``) or ``MISTRAL_BASE_URL``.
The SDK retries nothing unless given a retry config, and panel gives it none:
panel's retry policy is the only one. One client per provider per process.
"""

from __future__ import annotations

import os
from typing import Any

import httpx2 as httpx  # mistralai's HTTP client library
from mistralai.client import Mistral
from mistralai.client.errors import MistralError, NoResponseError

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    StructuredMode,
    classify_status,
    parse_retry_after,
    redact,
)
from panel.providers.http import tls_context
from panel.providers.keys import api_key
from panel.providers.ladder import Ladder, strict_schema, text_messages

KEY_ENV = "MISTRAL_API_KEY"
BASE_URL_ENV = "MISTRAL_BASE_URL"


class MistralProvider:
    vendor = "mistral"

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.spec = settings.name
        self.model = settings.model
        self.sampling = settings.sampling
        self.limits = settings.limits
        self.ladder = Ladder(settings.structured)
        self._key = api_key(settings, KEY_ENV)
        self.base_url = settings.base_url or os.environ.get(BASE_URL_ENV) or None
        self._http = httpx.AsyncClient(
            verify=tls_context(), follow_redirects=True, timeout=settings.timeout
        )
        self.client = Mistral(
            api_key=self._key,
            server_url=self.base_url,
            timeout_ms=int(settings.timeout * 1000),
            async_client=self._http,
        )

    def _arguments(self, request: CompletionRequest, rung: StructuredMode) -> dict[str, Any]:
        args: dict[str, Any] = {
            "model": self.model,
            "messages": [m.as_dict() for m in request.messages],
            "temperature": request.sampling.temperature,
            "max_tokens": request.sampling.max_tokens,
        }
        if request.sampling.seed is not None:
            args["random_seed"] = request.sampling.seed
        if rung is StructuredMode.JSON_SCHEMA:
            args["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": strict_schema(request.schema),
                    "strict": True,
                },
            }
        elif rung is StructuredMode.JSON_OBJECT:
            args["response_format"] = {"type": "json_object"}
        else:
            args["messages"] = text_messages(request.messages, request.schema)
        return args

    def _error(self, exc: Exception, rung: StructuredMode) -> ProviderError:
        detail = redact(str(exc), self._key)[:500]
        if isinstance(exc, httpx.TimeoutException):
            return ProviderError(FailureReason.TIMEOUT, f"{self.spec}: timed out", retryable=True)
        if isinstance(exc, httpx.TransportError | NoResponseError):
            return ProviderError(
                FailureReason.SERVER_ERROR, f"{self.spec}: connection failed", retryable=True
            )
        if isinstance(exc, MistralError):
            if exc.status_code == 400:
                return self.ladder.rejected(rung, self.spec, detail)
            reason, retryable = classify_status(exc.status_code)
            return ProviderError(
                reason,
                f"{self.spec}: HTTP {exc.status_code}: {detail}",
                status=exc.status_code,
                retryable=retryable,
                retry_after=parse_retry_after(exc.headers),
            )
        return ProviderError(FailureReason.SERVER_ERROR, f"{self.spec}: {detail}")

    async def complete(self, request: CompletionRequest) -> Completion:
        rung = self.ladder.rung
        try:
            response = await self.client.chat.complete_async(**self._arguments(request, rung))
        except (MistralError, NoResponseError, httpx.HTTPError) as exc:
            raise self._error(exc, rung) from None
        if not response.choices:
            raise ProviderError(FailureReason.INVALID_OUTPUT, f"{self.spec}: no choices returned")
        choice = response.choices[0]
        content = choice.message.content if choice.message else None
        text = content if isinstance(content, str) or content is None else _join(content)
        usage = response.usage
        return Completion(
            text=text,
            finish_reason=str(choice.finish_reason or "stop"),
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
            model_version=response.model or self.model,
            mode=rung,
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _join(chunks: Any) -> str:
    """Text from a list of content chunks (text chunks only)."""
    return "".join(getattr(chunk, "text", "") or "" for chunk in chunks)


def create(settings: ProviderSettings) -> MistralProvider:
    return MistralProvider(settings)
