"""The Batch API seam: what a provider kind offers for asynchronous batch jobs.

OpenAI and Mistral (and OpenAI-compatible servers that opt in with ``batch = true``)
take a JSONL file of requests, each with a ``custom_id``, and answer within a
completion window at a lower price. A kind with a Batch API says so in its descriptor:
``ProviderKind(batch=BatchSpec(client=..., discount=...))``, the client class being a
``BatchClient`` in the kind's batch module (``openai_batch.py``, ``mistral_batch.py``).

A client is built from the provider's SDK client and its ``ChatCodec`` (the request body,
the reading of an answer, the one error mapping: public methods every HTTP kind has),
never from a provider's private members. ``BatchClient.sdk`` wraps every SDK call in that
error mapping. ``registry.batch_api(provider)`` builds the client when the provider's
settings want one. Orchestration (the journal, judging, re-asks) is ``pipeline/batch_path.py``'s
and knows nothing provider-specific.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    classify_status,
)

T = TypeVar("T")
TAG = "panel_batch"  # the metadata key that carries panel's batch id
WINDOW = 24 * 3600.0  # the completion window panel asks for (OpenAI "24h", Mistral's default)


class BatchState(StrEnum):
    """A batch's state, the same for every provider (each maps its own names here)."""

    RUNNING = "running"  # queued, validating, in progress, finalizing, cancelling
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"  # the completion window passed: finished lines are kept
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not BatchState.RUNNING


@dataclass(frozen=True)
class BatchStatus:
    state: BatchState
    raw: str  # the provider's own word for it
    total: int = 0
    done: int = 0
    failed: int = 0
    output_file: str | None = None
    error_file: str | None = None
    detail: str = ""
    known: bool = True  # False: a status word panel does not know (counted as running)


class FileTooLargeError(ProviderError):
    """An output or error file over the size cap: never read, its batch closed here."""


class BadReplyError(ProviderError):
    """A provider reply of the wrong shape (untrusted input): a typed failure, not retried."""

    def __init__(self, spec: str, what: str) -> None:
        super().__init__(FailureReason.INVALID_OUTPUT, f"{spec}: unreadable batch reply: {what}")


class Reply:
    """A provider's JSON reply (a batch's status), read field by field with its types checked.

    A missing field (or null) is its default; a field of the wrong type is a ``BadReplyError``.
    """

    def __init__(self, spec: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise BadReplyError(spec, f"a {type(data).__name__}, not an object")
        self.spec = spec
        self.data = data

    def _get(self, name: str, kind: type | tuple[type, ...], label: str) -> Any:
        value = self.data.get(name)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise BadReplyError(self.spec, f"{name!r} is a {type(value).__name__}, not {label}")
        return value

    def text(self, name: str) -> str | None:
        value: str | None = self._get(name, str, "a string")
        return value or None

    def count(self, name: str) -> int:
        value: int | None = self._get(name, int, "a whole number")
        if value is not None and value < 0:
            raise BadReplyError(self.spec, f"{name!r} is negative")
        return value or 0

    def child(self, name: str) -> Reply:
        return Reply(self.spec, self._get(name, Mapping, "an object") or {})

    def items(self, name: str) -> list[Reply]:
        value = self._get(name, list, "a list") or []
        return [Reply(self.spec, item) for item in value]


async def spool(chunks: AsyncIterable[bytes], into: IO[bytes], cap: int, spec: str) -> int:
    """Write a download's chunks to ``into`` as they come; ``FileTooLargeError`` past ``cap`` bytes.

    Nothing is held but one chunk: a file of any size takes no memory with it.
    """
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise FileTooLargeError(
                FailureReason.INVALID_OUTPUT,
                f"{spec}: batch file over the {cap // 1_000_000} MB cap "
                "([panel] batch_max_file_mb); not read",
            )
        into.write(chunk)
    return size


@dataclass(frozen=True)
class LineResult:
    """One output or error line: its answer, or the typed error it ended with."""

    custom_id: str
    completion: Completion | None = None
    error: ProviderError | None = None


@runtime_checkable
class ChatCodec(Protocol):
    """What a batch client needs of its kind: the chat wire format and the error mapping.

    Every HTTP kind implements it (``providers/http.py``), at its ladder's current rung.
    """

    spec: str
    model: str

    def body(self, request: CompletionRequest) -> dict[str, Any]:
        """The chat request body a synchronous call would send (plain JSON)."""
        ...

    def answer(self, body: Any) -> Completion:
        """A 200 chat response body (JSON) read as a synchronous answer (key check included)."""
        ...

    def error(self, exc: Exception) -> ProviderError:
        """The kind's one mapping of an SDK exception to a typed, redacted error."""
        ...

    def detail(self, exc: Exception) -> str:
        """An error's text, redacted."""
        ...


@runtime_checkable
class BatchSource(ChatCodec, Protocol):
    """A provider a batch client can be built from: its codec, settings and SDK client."""

    settings: ProviderSettings
    endpoint: str
    client: Any  # the SDK client it sends through


@runtime_checkable
class BatchApi(Protocol):
    """A provider's batch endpoint. Every method raises ``ProviderError`` on failure."""

    discount: float  # the batch price as a share of the list price
    requested: bool  # the provider's own settings ask for it (``batch = true``)
    window: float  # seconds a batch may take before the provider expires it

    def line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        """One JSONL line of the input file."""
        ...

    async def upload(self, name: str, data: bytes) -> str:
        """Upload the input file; its file id."""
        ...

    async def create(self, file_id: str, tag: str) -> str:
        """Create a batch over an uploaded file, tagged (metadata) with panel's id; its id."""
        ...

    async def find(self, tag: str) -> str | None:
        """The batch created with ``tag``, if one was (a create whose answer was lost)."""
        ...

    async def status(self, batch_id: str) -> BatchStatus: ...

    async def download(self, file_id: str, into: IO[bytes], cap: int) -> None:
        """Stream a file into ``into`` (``spool``): ``FileTooLargeError`` past ``cap`` bytes."""
        ...

    async def cancel(self, batch_id: str) -> None: ...

    def result(self, line: dict[str, Any]) -> LineResult:
        """Parse one output or error line (already JSON) into an answer or a typed error."""
        ...


class BatchClient:
    """The template of a kind's Batch API client: the SDK client, the codec, one error mapping.

    A subclass names the SDK's exception types in ``errors`` and implements the steps
    (``line``, ``upload``, ``create``, ``find``, ``status``, ``download``, ``cancel``), each
    SDK call made through ``sdk``. Output and error lines in OpenAI's shape (Mistral's too)
    are read by ``result``.
    """

    errors: ClassVar[tuple[type[Exception], ...]] = ()
    window: float = WINDOW

    def __init__(
        self, client: Any, codec: ChatCodec, *, discount: float, requested: bool = False
    ) -> None:
        self.client = client
        self.codec = codec
        self.discount = discount
        self.requested = requested

    async def sdk(self, step: Callable[[], Awaitable[T]]) -> T:
        """``await step()``, its SDK errors mapped by the kind's codec."""
        try:
            return await step()
        except self.errors as exc:
            raise self.codec.error(exc) from None

    def line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def upload(self, name: str, data: bytes) -> str:
        raise NotImplementedError

    async def create(self, file_id: str, tag: str) -> str:
        raise NotImplementedError

    async def find(self, tag: str) -> str | None:
        raise NotImplementedError

    async def status(self, batch_id: str) -> BatchStatus:
        raise NotImplementedError

    async def download(self, file_id: str, into: IO[bytes], cap: int) -> None:
        raise NotImplementedError

    async def cancel(self, batch_id: str) -> None:
        raise NotImplementedError

    def result(self, line: dict[str, Any]) -> LineResult:
        return parse_line(self.codec, line)


@dataclass(frozen=True)
class BatchSpec:
    """A kind's Batch API, in its descriptor: the client class and the batch price."""

    client: type[BatchClient]
    discount: float = 0.5  # batch price / list price, unless panel.toml says otherwise

    def build(self, source: BatchSource) -> BatchClient:
        """The kind's client over ``source``'s SDK client and codec."""
        settings = source.settings
        discount = self.discount if settings.batch_discount is None else settings.batch_discount
        return self.client(
            source.client, source, discount=discount, requested=settings.batch is True
        )


def parse_line(codec: ChatCodec, line: dict[str, Any]) -> LineResult:
    """An output or error line into a ``LineResult``.

    The line format is OpenAI's, and Mistral's batch files follow it: ``custom_id``,
    ``response`` (``status_code``, ``body``) and ``error``. ``codec.answer`` reads a 200
    body exactly as a synchronous answer (the key check included); error text is redacted
    by ``codec.detail``.
    """
    custom_id = str(line.get("custom_id", ""))
    response = line.get("response")
    response = response if isinstance(response, dict) else {}
    error = line.get("error")
    code = response.get("status_code")
    spec = codec.spec
    if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
        unreadable = ProviderError(FailureReason.INVALID_OUTPUT, f"{spec}: unreadable batch line")
        return LineResult(custom_id, error=unreadable)
    status = int(code or (200 if not error else 500))
    body = response.get("body")
    if status != 200 or error:
        message = error.get("message") if isinstance(error, dict) else None
        if message is None and isinstance(body, dict):
            inner = body.get("error")
            message = (inner.get("message") if isinstance(inner, dict) else inner) or body.get(
                "message"
            )
        reason, retryable = (
            classify_status(status) if status != 200 else (FailureReason.SERVER_ERROR, True)
        )
        detail = codec.detail(Exception(str(message or error or "no detail")))
        return LineResult(
            custom_id,
            error=ProviderError(
                reason, f"{spec}: batch line HTTP {status}: {detail}", status=status,
                retryable=retryable,
            ),
        )  # fmt: skip
    try:
        completion = codec.answer(body)
    except ProviderError as exc:
        return LineResult(custom_id, error=exc)
    except Exception:  # a body that is no chat response
        return LineResult(
            custom_id,
            error=ProviderError(FailureReason.INVALID_OUTPUT, f"{spec}: unreadable batch line"),
        )
    return LineResult(custom_id, completion=completion)
