"""OpenAI's Batch API (``/v1/files`` + ``/v1/batches``) through the official SDK.

Also any OpenAI-compatible server that speaks it (vLLM, Together...), with ``batch = true``
on the provider in panel.toml. Requests are the provider's own chat arguments, so a
batched call asks exactly what the synchronous one would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import openai

from panel.providers.base import CompletionRequest, ProviderError
from panel.providers.batch import TAG, BatchState, BatchStatus, LineResult, parse_line

if TYPE_CHECKING:
    from panel.providers.openai import OpenAIProvider

ENDPOINT: Final = "/v1/chat/completions"
STATES = {
    "validating": BatchState.RUNNING,
    "in_progress": BatchState.RUNNING,
    "finalizing": BatchState.RUNNING,
    "cancelling": BatchState.RUNNING,
    "completed": BatchState.COMPLETED,
    "failed": BatchState.FAILED,
    "expired": BatchState.EXPIRED,
    "cancelled": BatchState.CANCELLED,
}


class OpenAIBatch:
    def __init__(self, provider: OpenAIProvider) -> None:
        self.provider = provider
        self.client = provider.client

    def _fail(self, exc: openai.OpenAIError) -> ProviderError:
        return self.provider._error(exc, self.provider.ladder.rung)

    def line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        body = self.provider.request_body(request, self.provider.ladder.rung)
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}

    async def upload(self, name: str, data: bytes) -> str:
        try:
            created = await self.client.files.create(file=(name, data), purpose="batch")
        except openai.OpenAIError as exc:
            raise self._fail(exc) from None
        return created.id

    async def create(self, file_id: str, tag: str) -> str:
        try:
            batch = await self.client.batches.create(
                input_file_id=file_id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={TAG: tag},
            )
        except openai.OpenAIError as exc:
            raise self._fail(exc) from None
        return batch.id

    async def find(self, tag: str) -> str | None:
        try:  # newest first: a batch created moments before a crash is on the first page
            page = await self.client.batches.list(limit=100)
            for batch in page.data:
                if (batch.metadata or {}).get(TAG) == tag:
                    return batch.id
        except openai.OpenAIError as exc:
            raise self._fail(exc) from None
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            batch = await self.client.batches.retrieve(batch_id)
        except openai.OpenAIError as exc:
            raise self._fail(exc) from None
        counts = batch.request_counts
        errors = batch.errors.data if batch.errors and batch.errors.data else []
        return BatchStatus(
            state=STATES.get(batch.status, BatchState.RUNNING),
            raw=batch.status,
            total=counts.total if counts else 0,
            done=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            output_file=batch.output_file_id,
            error_file=batch.error_file_id,
            detail="; ".join(e.message or "" for e in errors)[:500],
        )

    async def download(self, file_id: str) -> bytes:
        try:
            content = await self.client.files.content(file_id)
        except openai.OpenAIError as exc:
            raise self._fail(exc) from None
        return content.content

    async def cancel(self, batch_id: str) -> None:
        try:
            await self.client.batches.cancel(batch_id)
        except openai.OpenAIError as exc:
            raise self._fail(exc) from None

    def result(self, line: dict[str, Any]) -> LineResult:
        return parse_line(self.provider, line, _as_is)  # the same reading as a synchronous answer


def _as_is(body: Any) -> Any:
    """A 200 line's body, read by ``OpenAIProvider.completion`` like a synchronous answer."""
    return body
