"""The provider protocol: the one seam between panel and a model.

A provider turns a ``CompletionRequest`` (messages + the verdict's JSON schema +
sampling settings) into a ``Completion`` (raw text + usage + the exact model
version). It translates every transport or API failure into a ``ProviderError``
with a typed ``FailureReason``, whether it may be retried, and any Retry-After
the server sent. Validation is never the provider's job: the runner validates
every answer, whatever the provider promises.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from panel import clock
from panel.providers.redaction import Redactor

if TYPE_CHECKING:
    import httpx2


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
    # names the prompt's shared prefix for the server's prompt cache (``prompt_cache_key``);
    # not part of the call key: it routes the request, it does not change the answer
    cache_key: str | None = None


@dataclass(frozen=True)
class Completion:
    text: str | None
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model_version: str
    mode: StructuredMode
    refusal: str | None = None
    # the part of ``prompt_tokens`` the server served from its prompt cache (billed at the
    # model's cached rate); 0 where the server reports none
    cached_tokens: int = 0

    @property
    def tokens(self) -> tuple[int, int, int]:
        """(prompt, completion, cached) as ``pricing.Rate.cost`` takes them."""
        return self.prompt_tokens, self.completion_tokens, self.cached_tokens


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
        stepped_down: bool = False,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        # the server refused the output mode and the provider moved down its ladder: the
        # runner sends again at once, outside the transport-retry budget (ladder.py)
        self.stepped_down = stepped_down


DEFAULT_IN_FLIGHT = 8  # requests in flight per provider when nothing else decides


@dataclass(frozen=True)
class Limits:
    """Per-provider politeness limits (0 = unlimited).

    ``max_in_flight`` None: the provider decides (an HTTP provider: 1 at a local server, or
    the slots the server reports; ``DEFAULT_IN_FLIGHT`` elsewhere; see ``compat.py``).
    """

    max_in_flight: int | None = None
    requests_per_minute: int = 0
    tokens_per_minute: int = 0

    @property
    def in_flight(self) -> int:
        """Requests in flight at once, at least 1."""
        return max(1, self.max_in_flight or DEFAULT_IN_FLIGHT)


@dataclass(frozen=True)
class ProviderSettings:
    """Everything needed to build one provider: from panel.toml or an address."""

    name: str  # how the panel refers to it: "openai/gpt-4o-mini" or a config name ("ollama")
    kind: str  # which module implements it: "local", "openai", "mistral"
    model: str
    base_url: str | None = None
    api_key_env: str | None = None  # None: the kind's default variable; "": no key needed
    sampling: Sampling = field(default_factory=Sampling)
    limits: Limits = field(default_factory=Limits)
    timeout: float | None = None  # seconds per request; None: the provider decides
    structured: StructuredMode | None = None  # first rung of the ladder; None: the top
    # send the (grammar-friendly) schema with json_object, as llama.cpp servers take it;
    # None: yes at a local server (compat.py), no elsewhere
    json_object_schema: bool | None = None
    vendor: str | None = None  # who made the model; None: the kind's descriptor decides
    batch: bool | None = None  # use the kind's Batch API (None: at the kind's own server only)
    batch_discount: float | None = None  # batch price / list price; None: the kind's own
    # send the request's cache key as ``prompt_cache_key`` (None: at the kind's own server only)
    prompt_cache_key: bool | None = None
    # HTTP kinds only: the httpx2 transport their client sends through (``httpx2.MockTransport``
    # in tests and downstream code, so no socket is opened). Never from panel.toml; not part of
    # equality, the cache key or any record.
    transport: httpx2.AsyncBaseTransport | None = field(default=None, compare=False, repr=False)


def classify_status(status: int) -> tuple[FailureReason, bool]:
    """(reason, retryable) for an HTTP error status. Never retries 400/401/403/404/422."""
    if status in (401, 403):
        return FailureReason.AUTH, False
    if status == 408:
        return FailureReason.TIMEOUT, True
    if status == 429:
        return FailureReason.RATE_LIMITED, True
    if status == 409 or status >= 500:
        return FailureReason.SERVER_ERROR, True
    return FailureReason.BAD_REQUEST, False


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.timestamp())


_TOKEN_SHAPES = (
    re.compile(r"(?i)(bearer\s+)(?!\*\*\*)[^\s\"',;]+"),  # Authorization: Bearer <token>
    re.compile(
        r"(?i)((?:api[-_]?key|x-api-key|authorization)[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)(?!bearer\b)[^\s\"',;]{8,}"
    ),
    re.compile(r"()\bsk-[A-Za-z0-9_-]{16,}"),  # OpenAI-style keys, wherever they appear
)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret, bearer token and key-shaped string replaced, for errors and logs.

    Known secrets (the configured keys) are replaced wherever they appear, in every form
    a server may echo them (any case, URL-encoded, hex, base64 of the key or of a header
    holding it, or any run of 12+ characters of one of those: see ``redaction.py``);
    anything shaped like a token after ``Bearer`` or ``api-key:``, and OpenAI-style
    ``sk-`` keys, too.
    """
    text = Redactor(secrets).redact(text)
    for pattern in _TOKEN_SHAPES:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


@runtime_checkable
class Provider(Protocol):
    """A model endpoint. Implementations live in their own module, one per kind.

    Who made the model is not the provider's to say: the kind's descriptor decides it
    (``ProviderKind.model_vendor`` in ``kind.py``), from the settings and ``endpoint``.
    """

    spec: str  # canonical address, e.g. "local/smollm2" or "openai/gpt-4o-mini"
    model: str
    sampling: Sampling
    limits: Limits
    # The provider's own decoding settings beyond ``sampling`` that change answers, such as
    # llama.cpp's repeat penalty; "" when there are none. Part of the cache key.
    decoding: str
    # The server answering, for HTTP providers (the configured base URL or the SDK's
    # default); "" in-process. Part of the cache key: another server, other answers.
    endpoint: str

    async def complete(self, request: CompletionRequest) -> Completion:
        """Answer one request or raise ``ProviderError``."""
        ...

    async def aclose(self) -> None:
        """Release clients and connections."""
        ...


@runtime_checkable
class Prepares(Protocol):
    """A provider that learns about its server before its first call (``compat.py``).

    The runner awaits ``prepare()`` before it sizes the provider's slots, one caller at a
    time; it must be idempotent (a no-op once done) and must never raise.
    """

    async def prepare(self) -> None: ...
