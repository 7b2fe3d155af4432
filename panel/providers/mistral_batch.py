"""Mistral's batch jobs (``/v1/files`` + ``/v1/batch/jobs``) through the official SDK (mistralai).

Input lines carry ``custom_id`` and ``body`` (the kind's own chat request body, without the
model: the job names it); output and error lines have the same shape as OpenAI's, so one
parser (``BatchClient.result``) reads both.
"""

from __future__ import annotations

from typing import IO, Any, Final

import httpx2 as httpx
from mistralai.client import Mistral
from mistralai.client.errors import MistralError, NoResponseError

from panel.providers.base import CompletionRequest
from panel.providers.batch import TAG, BatchClient, BatchState, BatchStatus, Reply, spool

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
        # the SDK validates its models; read the reply's JSON again with each field's type
        # checked, so nothing the server sends reaches panel unchecked
        job = await self.sdk(lambda: self.client.batch.jobs.get_async(job_id=batch_id))
        reply = Reply(self.codec.spec, job.model_dump(mode="json"))
        word = reply.text("status") or ""
        errors = "; ".join(e.text("message") or "" for e in reply.items("errors"))
        return BatchStatus(
            state=STATES.get(word, BatchState.RUNNING),
            raw=word,
            total=reply.count("total_requests"),
            done=reply.count("succeeded_requests"),
            failed=reply.count("failed_requests"),
            output_file=reply.text("output_file"),
            error_file=reply.text("error_file"),
            detail=errors[:500],
            known=word in STATES,
        )

    async def download(self, file_id: str, into: IO[bytes], cap: int) -> None:
        async def stream() -> None:
            response = await self.client.files.download_async(file_id=file_id)
            try:
                await spool(response.aiter_bytes(), into, cap, self.codec.spec)
            finally:
                await response.aclose()

        await self.sdk(stream)

    async def cancel(self, batch_id: str) -> None:
        await self.sdk(lambda: self.client.batch.jobs.cancel_async(job_id=batch_id))
