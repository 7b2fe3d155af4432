"""The Batch API seam: what a provider kind offers for asynchronous batch jobs.

OpenAI and Mistral (and OpenAI-compatible servers that opt in with ``batch = true``)
take a JSONL file of requests, each with a ``custom_id``, and answer within a
completion window at a lower price. A provider that can do this returns a ``BatchApi``
from ``batch_api()``; the kind's own module (``openai_batch.py``, ``mistral_batch.py``)
speaks its SDK. Orchestration (the journal, judging, re-asks) is ``pipeline/batch.py``'s
and knows nothing provider-specific.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    StructuredMode,
    classify_status,
)
from panel.providers.ladder import Ladder


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


@dataclass(frozen=True)
class LineResult:
    """One output or error line: its answer, or the typed error it ended with."""

    custom_id: str
    completion: Completion | None = None
    error: ProviderError | None = None


@runtime_checkable
class BatchApi(Protocol):
    """A provider's batch endpoint. Every method raises ``ProviderError`` on failure."""

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

    async def download(self, file_id: str) -> bytes: ...

    async def cancel(self, batch_id: str) -> None: ...

    def result(self, line: dict[str, Any]) -> LineResult:
        """Parse one output or error line (already JSON) into an answer or a typed error."""
        ...


def batch_api(provider: object) -> BatchApi | None:
    """The provider's batch endpoint, or None when it has none (or it is not switched on)."""
    make = getattr(provider, "batch_api", None)
    return None if make is None else make()


TAG = "panel_batch"  # the metadata key that carries panel's batch id


class ChatParser(Protocol):
    """What ``parse_line`` needs of a provider: its chat parser and its error redaction."""

    spec: str

    @property
    def ladder(self) -> Ladder: ...

    def completion(self, response: Any, rung: StructuredMode) -> Completion: ...

    def detail(self, exc: Exception) -> str: ...


def parse_line(
    provider: ChatParser, line: dict[str, Any], parse: Callable[[Any], Any]
) -> LineResult:
    """An output or error line into a ``LineResult``.

    The line format is OpenAI's, and Mistral's batch files follow it: ``custom_id``,
    ``response`` (``status_code``, ``body``) and ``error``. ``parse`` turns a 200 body into
    the SDK's chat response type; ``provider.completion`` reads it exactly as a synchronous
    answer (the key check included); error text is redacted by ``provider.detail``.
    """
    custom_id = str(line.get("custom_id", ""))
    response = line.get("response") or {}
    error = line.get("error")
    status = int(response.get("status_code") or (200 if not error else 500))
    body = response.get("body")
    spec = provider.spec
    if status != 200 or error:
        message = error.get("message") if isinstance(error, dict) else None
        if message is None and isinstance(body, dict):
            message = (body.get("error") or {}).get("message") or body.get("message")
        reason, retryable = (
            classify_status(status)
            if status != 200
            else (
                FailureReason.SERVER_ERROR,
                True,
            )
        )
        detail = provider.detail(Exception(str(message or error or "no detail")))
        return LineResult(
            custom_id,
            error=ProviderError(
                reason, f"{spec}: batch line HTTP {status}: {detail}", status=status,
                retryable=retryable,
            ),
        )  # fmt: skip
    try:
        completion = provider.completion(parse(body), provider.ladder.rung)
    except ProviderError as exc:
        return LineResult(custom_id, error=exc)
    except Exception:  # a body that is no chat response
        return LineResult(
            custom_id,
            error=ProviderError(FailureReason.INVALID_OUTPUT, f"{spec}: unreadable batch line"),
        )
    return LineResult(custom_id, completion=completion)
