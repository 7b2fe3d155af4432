"""The loopback fake, with OpenAI's and Mistral's Batch APIs on top of chat completions.

``FakeBatch`` answers ``/v1/files`` (multipart upload, ``/content`` download),
OpenAI's ``/v1/batches`` and Mistral's ``/v1/batch/jobs`` (create, retrieve, list,
cancel), in each vendor's JSON shape, so the official SDKs drive it. A batch's status
moves on each time it is retrieved (``steps`` polls to finish); then each input line is
answered like a synchronous request (the same ``Behavior`` queue and ``responder``),
into an output file, or into an error file when ``line_error(body)`` says so.

Faults: ``outcome`` ("completed", "expired": half the lines answered, "failed");
``fail[name]`` statuses to answer next for "upload", "create", "status", "download";
``hang`` names that never answer: "upload", "create" (before the batch exists),
"created" (after it exists: the answer is lost) and "download".

Hostile faults (issue 31): ``lose[name]``: the request is done, then its answer is
replaced by a status (502) or "drop" (the connection closed); ``reshape(view)``: a status
reply rewritten (wrong types, missing fields, an unknown status word); ``pad_output``:
bytes of junk streamed after each output file (never held in memory); ``duplicate``: each
answered line followed by an error line for the same custom_id; ``drop_line(body)``: that
line missing from every output file; ``fail["cancel"]`` works like the others (404).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_llm import FakeLLM

_ids = itertools.count(1)

OPENAI_STEPS = ["validating", "in_progress", "finalizing"]
OPENAI_END = {"completed": "completed", "expired": "expired", "failed": "failed"}
MISTRAL_STEPS = ["QUEUED", "RUNNING"]
MISTRAL_END = {"completed": "SUCCESS", "expired": "TIMEOUT_EXCEEDED", "failed": "FAILED"}


@dataclass
class Job:
    id: str
    vendor: str  # "openai" | "mistral"
    input_file: str
    metadata: dict[str, str]
    model: str = ""
    polls: int = 0
    status: str = ""
    cancel: bool = False
    output_file: str | None = None
    error_file: str | None = None
    total: int = 0
    done: int = 0
    failed: int = 0
    created_at: int = field(default_factory=lambda: int(time.time()))


class FakeBatch(FakeLLM):
    def __init__(self, steps: int = 2) -> None:
        self.steps = steps
        self.outcome = "completed"
        self.garbage = False  # corrupt the output and error files
        self.line_error: Callable[[dict[str, Any]], tuple[int, str] | None] | None = None
        self.fail: dict[str, list[int]] = {}
        self.hang: set[str] = set()
        self.lose: dict[str, list[int | str]] = {}
        self.reshape: Callable[[dict[str, Any]], Any] | None = None
        self.pad_output = 0
        self.duplicate = False
        self.drop_line: Callable[[dict[str, Any]], bool] | None = None
        self.outputs: set[str] = set()  # output file ids (padded when pad_output)
        self.downloaded = 0  # bytes of files served
        self.files: dict[str, bytes] = {}
        self.jobs: dict[str, Job] = {}
        self.calls: list[tuple[str, str]] = []  # (method, path) of every batch-API request
        self.lines: list[dict[str, Any]] = []  # every batch line answered (its body)
        super().__init__()

    # -- what tests look at --------------------------------------------------
    def created(self) -> int:
        return len(self.jobs)

    def uploads(self) -> int:
        return sum(1 for m, p in self.calls if m == "POST" and p == "/v1/files")

    def line_ids(self) -> list[str]:
        """custom_ids of every line in every created batch's input file."""
        out = []
        for job in self.jobs.values():
            for raw in self.files[job.input_file].splitlines():
                out.append(json.loads(raw)["custom_id"])
        return out

    # -- routing -------------------------------------------------------------
    async def _dispatch(
        self, request_line: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        method, target, *_ = request_line.split(" ")
        path = target.split("?", 1)[0]
        if path.endswith(("/chat/completions", "/props")):
            return await super()._dispatch(request_line, headers, body, writer)
        if path == "/stats":  # for benchmarks: what this server was asked, so far
            stats = {"chat": self.count(), "batch_api": len(self.calls), "lines": len(self.lines)}
            return await self._send(writer, 200, json.dumps(stats).encode())
        with self._lock:
            self.calls.append((method, path))
        name = self._name(method, path)
        if name in self.hang:
            if name == "created":  # the batch exists, its answer never arrives
                self._route(method, path, headers, body)
            assert self._stopping is not None
            await self._stopping.wait()
            return False
        failing = self.fail.get(name) or []
        if failing:
            status = failing.pop(0)
            payload: Any = {"error": {"message": f"injected {name} failure", "type": "server"}}
            return await self._send(writer, status, json.dumps(payload).encode())
        try:
            result = self._route(method, path, headers, body)
        except KeyError:
            return await self._send(writer, 404, b'{"error": {"message": "not found"}}')
        lost = self.lose.get(name) or []
        if lost:  # done, but its answer never arrives
            answer = lost.pop(0)
            if answer == "drop":
                writer.close()
                return False
            payload = {"error": {"message": f"injected lost {name} answer", "type": "server"}}
            return await self._send(writer, int(answer), json.dumps(payload).encode())
        if isinstance(result, bytes):
            file_id = path.strip("/").split("/")[2]
            if self.pad_output and file_id in self.outputs:
                return await self._padded(writer, result)
            self.downloaded += len(result)
            return await self._send(writer, 200, result, "application/octet-stream")
        if self.reshape is not None and name == "status":
            result = self.reshape(result)
        return await self._send(writer, 200, json.dumps(result).encode())

    async def _padded(self, writer: asyncio.StreamWriter, data: bytes) -> bool:
        """``data``, then ``pad_output`` bytes of junk lines, written a chunk at a time."""
        chunk = (b"x" * 1023 + b"\n") * 1024  # 1 MiB of unreadable lines
        size = len(data) + self.pad_output
        head = ["HTTP/1.1 200 X", "content-type: application/octet-stream"]
        head += [f"content-length: {size}", "connection: keep-alive", "", ""]
        writer.write("\r\n".join(head).encode() + data)
        left = self.pad_output
        try:
            while left > 0:
                piece = chunk[: min(left, len(chunk))]
                writer.write(piece)
                await writer.drain()
                left -= len(piece)
                self.downloaded += len(piece)
        except (ConnectionError, OSError):  # the client stopped reading: fine
            return False
        return True

    def _name(self, method: str, path: str) -> str:
        if path == "/v1/files" and method == "POST":
            return "upload"
        if path.endswith("/content"):
            return "download"
        if path in ("/v1/batches", "/v1/batch/jobs") and method == "POST":
            return "created" if "created" in self.hang else "create"
        if method == "GET" and re.fullmatch(r"/v1/(batches|batch/jobs)/[^/]+", path):
            return "status"
        if path.endswith("/cancel"):
            return "cancel"
        return path

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, data: bytes, kind: str = "application/json"
    ) -> bool:
        head = [f"HTTP/1.1 {status} X", f"content-type: {kind}"]
        head += [f"content-length: {len(data)}", "connection: keep-alive", "", ""]
        writer.write("\r\n".join(head).encode() + data)
        await writer.drain()
        return True

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        parts = path.strip("/").split("/")
        if path == "/v1/files":
            return self._upload(headers, body)
        if path.endswith("/content"):
            return self.files[parts[2]]
        if path in ("/v1/batches", "/v1/batch/jobs"):
            vendor = "openai" if path == "/v1/batches" else "mistral"
            if method == "POST":
                return self._view(self._create(vendor, json.loads(body)))
            jobs = [self._view(j) for j in self.jobs.values() if j.vendor == vendor]
            if vendor == "openai":
                return {"object": "list", "data": jobs, "has_more": False}
            return {"object": "list", "data": jobs, "total": len(jobs)}
        job = self.jobs[parts[-2] if path.endswith("/cancel") else parts[-1]]
        if path.endswith("/cancel"):
            job.cancel = True
            return self._view(job)
        self._advance(job)
        return self._view(job)

    # -- files ---------------------------------------------------------------
    def _upload(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        boundary = re.search(r"boundary=([^;]+)", headers.get("content-type", ""))
        assert boundary, "a multipart upload"
        content, filename = b"", "input.jsonl"
        for part in body.split(b"--" + boundary.group(1).strip('"').encode()):
            head, _, data = part.partition(b"\r\n\r\n")
            if b"filename=" in head:
                content = data.removesuffix(b"\r\n")
                found = re.search(rb'filename="([^"]*)"', head)
                filename = found.group(1).decode() if found else filename
        file_id = f"file-{next(_ids)}"
        self.files[file_id] = content
        now = int(time.time())
        return {
            "id": file_id, "object": "file", "bytes": len(content), "size_bytes": len(content),
            "created_at": now, "filename": filename, "purpose": "batch", "status": "processed",
            "sample_type": "batch_request", "source": "upload",
        }  # fmt: skip

    # -- jobs ----------------------------------------------------------------
    def _create(self, vendor: str, request: dict[str, Any]) -> Job:
        file_id = request.get("input_file_id") or request["input_files"][0]
        self.files[file_id]
        job = Job(
            id=f"batch_{next(_ids)}",
            vendor=vendor,
            input_file=file_id,
            metadata=dict(request.get("metadata") or {}),
            model=request.get("model") or "",
        )
        job.total = len(self.files[file_id].splitlines())
        job.status = (OPENAI_STEPS if vendor == "openai" else MISTRAL_STEPS)[0]
        with self._lock:
            self.jobs[job.id] = job
        return job

    def _advance(self, job: Job) -> None:
        steps = OPENAI_STEPS if job.vendor == "openai" else MISTRAL_STEPS
        ends = OPENAI_END if job.vendor == "openai" else MISTRAL_END
        if job.status not in steps:
            return  # finished already
        job.polls += 1
        if job.cancel:
            job.status = "cancelled" if job.vendor == "openai" else "CANCELLED"
            self._finish(job, answer=0)
            return
        if job.polls < self.steps:
            job.status = steps[min(job.polls, len(steps) - 1)]
            return
        job.status = ends[self.outcome]
        share = {"completed": job.total, "expired": job.total // 2, "failed": 0}[self.outcome]
        self._finish(job, answer=share)

    def _finish(self, job: Job, answer: int) -> None:
        out, errors = [], []
        for n, raw in enumerate(self.files[job.input_file].splitlines()):
            line = json.loads(raw)
            if n >= answer:
                if self.outcome == "expired" or job.cancel:
                    code = "batch_expired" if not job.cancel else "batch_cancelled"
                    errors.append({"custom_id": line["custom_id"], "response": None,
                                   "error": {"code": code, "message": "not answered"}})  # fmt: skip
                continue
            body = dict(line["body"])
            body.setdefault("model", job.model)
            self.lines.append(body)
            if self.drop_line is not None and self.drop_line(body):
                continue  # this line never comes back
            failure = self.line_error(body) if self.line_error else None
            if failure is not None:
                status, message = failure
                errors.append({"custom_id": line["custom_id"], "response": {
                    "status_code": status, "body": {"error": {"message": message}}},
                    "error": None})  # fmt: skip
                job.failed += 1
                continue
            completion = self._completion(body, self._next(body))
            out.append({"custom_id": line["custom_id"], "error": None,
                        "response": {"status_code": 200, "body": completion}})  # fmt: skip
            if self.duplicate:  # the same custom_id again, as an error
                failed = {"status_code": 500, "body": {"error": {"message": "duplicate"}}}
                out.append({"custom_id": line["custom_id"], "response": failed, "error": None})
            job.done += 1
        for rows, attr in ((out, "output_file"), (errors, "error_file")):
            if rows:
                file_id = f"file-{next(_ids)}"
                self.files[file_id] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                if self.garbage:  # a server that writes something else into its files
                    self.files[file_id] = b"not json\n[1, 2]\n" + self.files[file_id][:-40]
                setattr(job, attr, file_id)
                if attr == "output_file":
                    self.outputs.add(file_id)

    def _view(self, job: Job) -> dict[str, Any]:
        if job.vendor == "openai":
            return {
                "id": job.id, "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": job.input_file, "completion_window": "24h",
                "status": job.status, "created_at": job.created_at, "metadata": job.metadata,
                "output_file_id": job.output_file, "error_file_id": job.error_file,
                "request_counts": {"total": job.total, "completed": job.done,
                                   "failed": job.failed},
                "errors": {"object": "list", "data": [{"code": "failed", "message": "injected"}]}
                if job.status == "failed" else None,
            }  # fmt: skip
        return {
            "id": job.id, "object": "batch", "input_files": [job.input_file],
            "endpoint": "/v1/chat/completions", "model": job.model, "metadata": job.metadata,
            "errors": [{"message": "injected", "count": 1}] if job.status == "FAILED" else [],
            "status": job.status, "created_at": job.created_at, "total_requests": job.total,
            "completed_requests": job.done + job.failed, "succeeded_requests": job.done,
            "failed_requests": job.failed, "output_file": job.output_file,
            "error_file": job.error_file,
        }  # fmt: skip


def batch_toml(server: FakeBatch, mistral: bool = False, extra: str = "") -> str:
    """panel.toml: one provider ``fake`` on this server, batch on (OpenAI or Mistral kind)."""
    kind = "mistral" if mistral else "openai"
    url = server.url if mistral else server.openai_url
    return f"""
[panel]
providers = ["fake"]
retry_attempts = 2
batch_poll = 0.05
head_to_head = false
{extra}
[providers.fake]
kind = "{kind}"
model = "m"
base_url = "{url}"
api_key_env = ""
batch = true
max_in_flight = 2
"""


def main() -> None:
    """Serve from a separate process (benchmarks): prints the port, runs until stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1)
    args = parser.parse_args()
    server = FakeBatch(steps=args.steps)
    print(server.port, flush=True)
    try:
        sys.stdin.read()
    finally:
        server.close()


if __name__ == "__main__":
    main()
