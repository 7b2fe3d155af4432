"""OpenAI's Batch API (``/v1/files`` + ``/v1/batches``) through the official SDK.

Also any OpenAI-compatible server that speaks it (vLLM, Together...), with ``batch = true``
on the provider in panel.toml. A line's body is the kind's own chat request body
(``ChatCodec.body``), so a batched call asks exactly what the synchronous one would.
"""

from __future__ import annotations

from typing import IO, Any, Final

import openai

from panel.providers.base import CompletionRequest
from panel.providers.batch import TAG, BatchClient, BatchState, BatchStatus, Reply, spool

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


class OpenAIBatch(BatchClient):
    errors = (openai.OpenAIError,)
    client: openai.AsyncOpenAI

    def line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        body = self.codec.body(request)
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}

    async def upload(self, name: str, data: bytes) -> str:
        created = await self.sdk(
            lambda: self.client.files.create(file=(name, data), purpose="batch")
        )
        return created.id

    async def create(self, file_id: str, tag: str) -> str:
        batch = await self.sdk(
            lambda: self.client.batches.create(
                input_file_id=file_id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={TAG: tag},
            )
        )
        return batch.id

    async def find(self, tag: str) -> str | None:
        # newest first: a batch created moments before a crash is on the first page
        page = await self.sdk(lambda: self.client.batches.list(limit=100))
        for batch in page.data:
            if (batch.metadata or {}).get(TAG) == tag:
                return batch.id
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        # read as plain JSON, each field's type checked: the SDK's models are built without
        # validation, so a wrong-shaped reply ("errors": "boom") would surface as an
        # AttributeError anywhere later
        raw = await self.sdk(lambda: self.client.get(f"/batches/{batch_id}", cast_to=object))
        reply = Reply(self.codec.spec, raw)
        word = reply.text("status") or ""
        counts = reply.child("request_counts")
        errors = reply.child("errors").items("data")
        return BatchStatus(
            state=STATES.get(word, BatchState.RUNNING),
            raw=word,
            total=counts.count("total"),
            done=counts.count("completed"),
            failed=counts.count("failed"),
            output_file=reply.text("output_file_id"),
            error_file=reply.text("error_file_id"),
            detail="; ".join(e.text("message") or "" for e in errors)[:500],
            known=word in STATES,
        )

    async def download(self, file_id: str, into: IO[bytes], cap: int) -> None:
        async def stream() -> None:
            content = self.client.files.with_streaming_response.content(file_id)
            async with content as response:
                await spool(response.iter_bytes(), into, cap, self.codec.spec)

        await self.sdk(stream)

    async def cancel(self, batch_id: str) -> None:
        await self.sdk(lambda: self.client.batches.cancel(batch_id))
