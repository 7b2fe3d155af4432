"""Mistral's batch jobs (``/v1/files`` + ``/v1/batch/jobs``) through the official SDK (mistralai).

Input lines carry ``custom_id`` and ``body`` (the kind's own chat request body, without the
model: the job names it); output and error lines have the same shape as OpenAI's, so one
parser (``BatchClient.result``) reads both.
"""

from __future__ import annotations

from typing import Any, Final

import httpx2 as httpx
from mistralai.client import Mistral
from mistralai.client.errors import MistralError, NoResponseError

from panel.providers.base import CompletionRequest
from panel.providers.batch import TAG, BatchClient, BatchState, BatchStatus

ENDPOINT: Final = "/v1/chat/completions"
STATES = {
    "QUEUED": BatchState.RUNNING,
    "RUNNING": BatchState.RUNNING,
    "CANCELLATION_REQUESTED": BatchState.RUNNING,
    "SUCCESS": BatchState.COMPLETED,
    "FAILED": BatchState.FAILED,
    "TIMEOUT_EXCEEDED": BatchState.EXPIRED,
    "CANCELLED": BatchState.CANCELLED,
}


class MistralBatch(BatchClient):
    errors = (MistralError, NoResponseError, httpx.HTTPError)
    client: Mistral

    def line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        body = self.codec.body(request)
        body.pop("model", None)  # the job names the model
        return {"custom_id": custom_id, "body": body}

    async def upload(self, name: str, data: bytes) -> str:
        created = await self.sdk(
            lambda: self.client.files.upload_async(
                file={"file_name": name, "content": data}, purpose="batch"
            )
        )
        return str(created.id)

    async def create(self, file_id: str, tag: str) -> str:
        job = await self.sdk(
            lambda: self.client.batch.jobs.create_async(
                input_files=[file_id],
                model=self.codec.model,
                endpoint=ENDPOINT,
                metadata={TAG: tag},
            )
        )
        return str(job.id)

    async def find(self, tag: str) -> str | None:
        listed = await self.sdk(
            lambda: self.client.batch.jobs.list_async(metadata={TAG: tag}, page_size=100)
        )
        for job in listed.data or []:
            if (job.metadata or {}).get(TAG) == tag:
                return str(job.id)
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        job = await self.sdk(lambda: self.client.batch.jobs.get_async(job_id=batch_id))
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
        async def read() -> bytes:
            response = await self.client.files.download_async(file_id=file_id)
            return await response.aread()

        return await self.sdk(read)

    async def cancel(self, batch_id: str) -> None:
        await self.sdk(lambda: self.client.batch.jobs.cancel_async(job_id=batch_id))
