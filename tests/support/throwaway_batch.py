"""The throwaway kind's Batch API client: OpenAI's batch wire format over a bare httpx2 client.

Every step is one HTTP request through ``BatchClient.sdk``, so an error of any step comes
out of the kind's one error mapping (``ThrowawayBatchProvider.map_error``).
"""

from __future__ import annotations

from typing import IO, Any

import httpx2

from panel.providers.base import CompletionRequest
from panel.providers.batch import TAG, BatchClient, BatchState, BatchStatus, spool

STATES = {
    "completed": BatchState.COMPLETED,
    "failed": BatchState.FAILED,
    "expired": BatchState.EXPIRED,
    "cancelled": BatchState.CANCELLED,
}


class ThrowawayBatch(BatchClient):
    errors = (httpx2.HTTPError,)
    client: httpx2.AsyncClient

    async def _call(self, method: str, path: str, **options: Any) -> httpx2.Response:
        async def send() -> httpx2.Response:
            response = await self.client.request(method, path, **options)
            response.raise_for_status()
            return response

        return await self.sdk(send)

    def line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        url = "/v1/chat/completions"
        return {
            "custom_id": custom_id,
            "method": "POST",
            "url": url,
            "body": self.codec.body(request),
        }

    async def upload(self, name: str, data: bytes) -> str:
        files = {"file": (name, data)}
        response = await self._call("POST", "/files", files=files, data={"purpose": "batch"})
        return str(response.json()["id"])

    async def create(self, file_id: str, tag: str) -> str:
        request = {"input_file_id": file_id, "endpoint": "/v1/chat/completions",
                   "completion_window": "24h", "metadata": {TAG: tag}}  # fmt: skip
        return str((await self._call("POST", "/batches", json=request)).json()["id"])

    async def find(self, tag: str) -> str | None:
        listed = (await self._call("GET", "/batches", params={"limit": 100})).json()
        for batch in listed.get("data") or []:
            if (batch.get("metadata") or {}).get(TAG) == tag:
                return str(batch["id"])
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        batch = (await self._call("GET", f"/batches/{batch_id}")).json()
        counts = batch.get("request_counts") or {}
        raw = str(batch.get("status"))
        return BatchStatus(
            state=STATES.get(raw, BatchState.RUNNING),
            raw=raw,
            total=int(counts.get("total") or 0),
            done=int(counts.get("completed") or 0),
            failed=int(counts.get("failed") or 0),
            output_file=batch.get("output_file_id"),
            error_file=batch.get("error_file_id"),
        )

    async def download(self, file_id: str, into: IO[bytes], cap: int) -> None:
        async def stream() -> None:
            async with self.client.stream("GET", f"/files/{file_id}/content") as response:
                response.raise_for_status()
                await spool(response.aiter_bytes(), into, cap, self.codec.spec)

        await self.sdk(stream)

    async def cancel(self, batch_id: str) -> None:
        await self._call("POST", f"/batches/{batch_id}/cancel")
