"""Mistral's batch jobs (``/v1/files`` + ``/v1/batch/jobs``) through the official SDK (mistralai).

Input lines carry ``custom_id`` and ``body`` (the provider's own chat arguments); output
and error lines have the same shape as OpenAI's, so one parser reads both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import httpx2 as httpx
from mistralai.client.errors import MistralError, NoResponseError
from mistralai.client.models import ChatCompletionResponse

from panel.providers.base import CompletionRequest, ProviderError
from panel.providers.batch import TAG, BatchState, BatchStatus, LineResult, parse_line

if TYPE_CHECKING:
    from panel.providers.mistral import MistralProvider

ENDPOINT: Final = "/v1/chat/completions"
ERRORS = (MistralError, NoResponseError, httpx.HTTPError)
STATES = {
    "QUEUED": BatchState.RUNNING,
    "RUNNING": BatchState.RUNNING,
    "CANCELLATION_REQUESTED": BatchState.RUNNING,
    "SUCCESS": BatchState.COMPLETED,
    "FAILED": BatchState.FAILED,
    "TIMEOUT_EXCEEDED": BatchState.EXPIRED,
    "CANCELLED": BatchState.CANCELLED,
}


class MistralBatch:
    def __init__(self, provider: MistralProvider) -> None:
        self.provider = provider
        self.client = provider.client

    def _fail(self, exc: Exception) -> ProviderError:
        return self.provider._error(exc, self.provider.ladder.rung)

    def line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        body = self.provider._arguments(request, self.provider.ladder.rung)
        body.pop("model", None)  # the job names the model
        return {"custom_id": custom_id, "body": body}

    async def upload(self, name: str, data: bytes) -> str:
        try:
            created = await self.client.files.upload_async(
                file={"file_name": name, "content": data}, purpose="batch"
            )
        except ERRORS as exc:
            raise self._fail(exc) from None
        return str(created.id)

    async def create(self, file_id: str, tag: str) -> str:
        try:
            job = await self.client.batch.jobs.create_async(
                input_files=[file_id],
                model=self.provider.model,
                endpoint=ENDPOINT,
                metadata={TAG: tag},
            )
        except ERRORS as exc:
            raise self._fail(exc) from None
        return str(job.id)

    async def find(self, tag: str) -> str | None:
        try:
            listed = await self.client.batch.jobs.list_async(metadata={TAG: tag}, page_size=100)
        except ERRORS as exc:
            raise self._fail(exc) from None
        for job in listed.data or []:
            if (job.metadata or {}).get(TAG) == tag:
                return str(job.id)
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            job = await self.client.batch.jobs.get_async(job_id=batch_id)
        except ERRORS as exc:
            raise self._fail(exc) from None
        raw = str(job.status)
        errors = "; ".join(str(getattr(e, "message", e)) for e in (job.errors or []))
        return BatchStatus(
            state=STATES.get(raw, BatchState.RUNNING),
            raw=raw,
            total=job.total_requests or 0,
            done=job.succeeded_requests or 0,
            failed=job.failed_requests or 0,
            output_file=job.output_file or None,
            error_file=job.error_file or None,
            detail=errors[:500],
        )

    async def download(self, file_id: str) -> bytes:
        try:
            response = await self.client.files.download_async(file_id=file_id)
            return await response.aread()
        except ERRORS as exc:
            raise self._fail(exc) from None

    async def cancel(self, batch_id: str) -> None:
        try:
            await self.client.batch.jobs.cancel_async(job_id=batch_id)
        except ERRORS as exc:
            raise self._fail(exc) from None

    def result(self, line: dict[str, Any]) -> LineResult:
        return parse_line(self.provider, line, ChatCompletionResponse.model_validate)
