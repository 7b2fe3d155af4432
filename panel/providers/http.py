"""What HTTP chat providers share: settings plumbing, error typing and structured arguments.

Vendor specifics (the SDK, its exception types, its parameter names) stay in each
provider's own module; everything here is plain HTTP and the structured-output ladder.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping
from typing import Any

from panel.providers.base import (
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    StructuredMode,
    classify_status,
    parse_retry_after,
    redact,
)
from panel.providers.keys import api_key
from panel.providers.ladder import Ladder, strict_schema, text_messages


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (~17 ms here)."""
    return ssl.create_default_context()


class HttpProvider:
    """Base for SDK-backed chat providers; subclasses set the env var names."""

    vendor = ""
    decoding = ""  # everything that shapes the answer is in ``sampling``
    key_env = ""
    base_url_env = ""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.spec = settings.name
        self.model = settings.model
        self.sampling = settings.sampling
        self.limits = settings.limits
        self.ladder = Ladder(settings.structured)
        self._key = api_key(settings, self.key_env)
        self.base_url = settings.base_url or os.environ.get(self.base_url_env) or None

    def structured(
        self, request: CompletionRequest, rung: StructuredMode
    ) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
        """(response_format or None, messages) for ``rung`` of the ladder."""
        messages = [m.as_dict() for m in request.messages]
        if rung is StructuredMode.JSON_SCHEMA:
            schema = strict_schema(request.schema)
            return {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": schema, "strict": True},
            }, messages
        if rung is StructuredMode.JSON_OBJECT:
            fmt: dict[str, Any] = {"type": "json_object"}
            if self.settings.json_object_schema:
                fmt["schema"] = request.schema
            return fmt, messages
        return None, text_messages(request.messages, request.schema)

    def detail(self, exc: Exception) -> str:
        return redact(str(exc), self._key)[:500]

    def timed_out(self) -> ProviderError:
        return ProviderError(FailureReason.TIMEOUT, f"{self.spec}: timed out", retryable=True)

    def disconnected(self) -> ProviderError:
        return ProviderError(
            FailureReason.SERVER_ERROR, f"{self.spec}: connection failed", retryable=True
        )

    def status_error(
        self, status: int, headers: Mapping[str, str], detail: str, rung: StructuredMode
    ) -> ProviderError:
        if status == 400:
            return self.ladder.rejected(rung, self.spec, detail)
        reason, retryable = classify_status(status)
        return ProviderError(
            reason,
            f"{self.spec}: HTTP {status}: {detail}",
            status=status,
            retryable=retryable,
            retry_after=parse_retry_after(headers),
        )

    def no_choices(self) -> ProviderError:
        return ProviderError(FailureReason.INVALID_OUTPUT, f"{self.spec}: no choices returned")
