"""The provider protocol: the one seam between panel and a model.

A provider turns a ``CompletionRequest`` (messages + the verdict's JSON schema +
sampling settings) into a ``Completion`` (raw text + usage + the exact model
version). It translates every transport or API failure into a ``ProviderError``
with a typed ``FailureReason``, whether it may be retried, and any Retry-After
the server sent. Validation is never the provider's job: the runner validates
every answer, whatever the provider promises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class FailureReason(StrEnum):
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    INVALID_OUTPUT = "invalid_output"
    REFUSED = "refused"
    BUDGET = "budget"
    CANCELLED = "cancelled"


class StructuredMode(StrEnum):
    """How the answer was constrained: the rungs of the structured-output ladder."""

    GRAMMAR = "grammar"  # decoding constrained in-process (local)
    JSON_SCHEMA = "json_schema"  # server-side strict JSON schema
    JSON_OBJECT = "json_object"  # JSON mode (with schema for llama.cpp-style servers)
    TEXT = "text"  # plain text, JSON extracted by panel


@dataclass(frozen=True)
class Message:
    role: str
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.2
    max_tokens: int = 900
    seed: int | None = 7


@dataclass(frozen=True)
class CompletionRequest:
    messages: tuple[Message, ...]
    schema: dict[str, Any]
    schema_name: str
    sampling: Sampling = field(default_factory=Sampling)


@dataclass(frozen=True)
class Completion:
    text: str | None
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model_version: str
    mode: StructuredMode
    refusal: str | None = None


class ProviderError(Exception):
    """A failed provider request, typed so the runner can decide what to do."""

    def __init__(
        self,
        reason: FailureReason,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """Per-provider politeness limits (0 = unlimited)."""

    max_in_flight: int = 8
    requests_per_minute: int = 0
    tokens_per_minute: int = 0


@runtime_checkable
class Provider(Protocol):
    """A model endpoint. Implementations live in their own module, one per kind."""

    spec: str  # canonical address, e.g. "local/smollm2" or "openai/gpt-4o-mini"
    vendor: str  # who makes the model, e.g. "openai" (for conflict-of-interest checks)
    model: str
    sampling: Sampling
    limits: Limits

    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request or raise ``ProviderError``."""
        ...

    async def aclose(self) -> None:
        """Release clients and connections."""
        ...
