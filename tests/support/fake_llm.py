"""A fault-injecting loopback server speaking the OpenAI/Mistral chat-completions wire format.

The real openai and mistralai SDKs talk to it over HTTP on 127.0.0.1. Each
request takes the next queued ``Behavior`` (or ``responder(body)``, or the
default): latency, error statuses with retry-after(-ms), hangs, dropped
connections, non-JSON or truncated or schema-violating content, refusals, and
400s for unsupported ``response_format`` types. Answers are generated from the
schema the request carries, or from the field list in the prompt.

``server.prompt_cache = PromptCache()`` makes it cache prompt prefixes as OpenAI does:
prompts of 1,024 tokens or more, hits reported in 128-token steps in
``usage.prompt_tokens_details.cached_tokens`` (see ``PromptCache``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.scripted import valid_answer


@dataclass
class Behavior:
    latency: float = 0.0  # seconds before answering
    status: int = 200
    retry_after: str | None = None  # Retry-After header value
    retry_after_ms: int | None = None  # retry-after-ms header value
    hang: bool = False  # never answer
    drop: bool = False  # close the connection without a response
    content: str | None = None  # exact assistant content (overrides generation)
    finish_reason: str = "stop"
    refusal: str | None = None
    verdict: str = "ship"
    confidence: int = 4
    invalid: bool = False  # schema-violating JSON (no "verdict")
    usage: tuple[int, int] = (100, 50)
    error_message: str = "injected failure"
    echo_auth: bool = False  # put the request's Authorization header in the error message
    echo_auth_b64: bool = False  # ... base64-encoded, as some proxies log it
    # A hostile server: put the key it was sent into the answer's quote, encoded as
    # "raw", "base64" (of "Bearer <key>") or "upper".
    answer_echo: str = ""


@dataclass
class PromptCache:
    """A prefix cache over ``machines`` servers, in the shape of OpenAI's.

    A prompt is its messages' roles and contents; a token is ``chars_per_token``
    characters (the fake has no tokenizer). A request is routed to the machine its
    ``prompt_cache_key`` hashes to, or, without one, to a machine drawn at random (seeded):
    a simplification of a large fleet, where requests without a key for the same prefix
    often land apart. A prompt is stored on its machine when its answer has been sent, so
    requests in flight together all miss; a later one finds the longest prefix it shares
    with a stored prompt and is reported that prefix, cut to ``step`` tokens, when it is
    ``minimum`` tokens or more.
    """

    machines: int = 4
    chars_per_token: int = 4
    minimum: int = 1024
    step: int = 128
    seed: int = 1
    stored: dict[int, list[str]] = field(default_factory=dict)
    usages: list[tuple[int, int]] = field(default_factory=list)  # (prompt, cached) per answer

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @staticmethod
    def prompt(body: dict[str, Any]) -> str:
        return "".join(f"<{m.get('role')}>{m.get('content')}" for m in body.get("messages", []))

    def machine(self, body: dict[str, Any]) -> int:
        key = body.get("prompt_cache_key")
        if isinstance(key, str):
            return int(hashlib.sha256(key.encode()).hexdigest(), 16) % self.machines
        return self._random.randrange(self.machines)

    def look_up(self, body: dict[str, Any]) -> tuple[int, int, int, str]:
        """(prompt tokens, cached tokens, machine, prompt) for a request arriving now."""
        text, machine = self.prompt(body), self.machine(body)
        tokens = len(text) // self.chars_per_token
        shared = max(
            (_shared(text, seen) for seen in self.stored.get(machine, [])),
            default=0,
        )
        hit = min(shared // self.chars_per_token, tokens)
        cached = hit // self.step * self.step if hit >= self.minimum else 0
        self.usages.append((tokens, cached))
        return tokens, cached, machine, text

    def store(self, machine: int, text: str) -> None:
        self.stored.setdefault(machine, []).append(text)

    @property
    def hit_rate(self) -> float:
        """Cached prompt tokens / prompt tokens, over every answer so far."""
        prompt = sum(p for p, _ in self.usages)
        return sum(c for _, c in self.usages) / prompt if prompt else 0.0


def _shared(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b`` (characters, not paths)."""
    return len(os.path.commonprefix([a, b]))  # noqa: RUF071


_FIELD_LINE = re.compile(r'^- "([a-z_]+)": (.*)$', re.MULTILINE)
_SCHEMA_NOTE = re.compile(r"valid against this JSON schema: (\{.*\})\s*$", re.DOTALL)


def schema_from_request(body: dict[str, Any]) -> dict[str, Any]:
    """The verdict schema a request carries, or one rebuilt from the prompt's field list."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema: dict[str, Any] = fmt["json_schema"]["schema"]
        return schema
    if isinstance(fmt.get("schema"), dict):
        return dict(fmt["schema"])
    messages = body.get("messages") or []
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    if match := _SCHEMA_NOTE.search(system):
        return dict(json.loads(match.group(1)))
    user = "\n".join(m["content"] for m in messages if m.get("role") == "user")
    properties: dict[str, Any] = {}
    for name, description in _FIELD_LINE.findall(user):
        if "One of:" in description:
            choices = description.split("One of:")[1].strip().rstrip(".").split(", ")
            properties[name] = {"enum": choices}
        elif "list of short names" in description:
            properties[name] = {"type": "array"}
        else:
            properties[name] = {"type": "string"}
    return {"properties": properties or {"quote": {}, "verdict": {}, "confidence": {}}}


class FakeLLM:
    """Run with ``with FakeLLM() as server:``; ``server.url`` is the base URL."""

    def __init__(self) -> None:
        self.default = Behavior()
        self.queue: deque[Behavior] = deque()
        self.responder: Callable[[dict[str, Any]], Behavior | None] | None = None
        self.reject_formats: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.arrivals: list[float] = []
        self.prompt_cache: PromptCache | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(5)

    # -- control -------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    def script(self, *behaviors: Behavior) -> None:
        with self._lock:
            self.queue.extend(behaviors)

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def reset(self) -> None:
        with self._lock:
            self.queue.clear()
            self.requests.clear()
            self.headers.clear()
            self.arrivals.clear()
        self.default = Behavior()
        self.responder = None
        self.reject_formats = set()
        self.prompt_cache = None

    def close(self) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(5)

    def __enter__(self) -> FakeLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- server --------------------------------------------------------------
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            current = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not current]
            for task in pending:  # open keep-alive connections and hung answers
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not await self._dispatch(lines[0], headers, body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # shutting down: end quietly, not as a cancelled task
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _dispatch(
        self, request_line: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request (chat completions here; fake_batch.py adds the Batch APIs)."""
        return await self._answer(json.loads(body or b"{}"), headers, writer)

    def _next(self, body: dict[str, Any]) -> Behavior:
        if self.responder is not None and (chosen := self.responder(body)) is not None:
            return chosen
        with self._lock:
            return self.queue.popleft() if self.queue else self.default

    async def _answer(
        self, body: dict[str, Any], headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> bool:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            self.arrivals.append(time.monotonic())
        behavior = self._next(body)
        cache = self.prompt_cache
        looked_up = cache.look_up(body) if cache is not None and behavior.status == 200 else None
        if behavior.latency:
            await asyncio.sleep(behavior.latency)
        if behavior.hang:
            assert self._stopping is not None
            await self._stopping.wait()
            return False
        if behavior.drop:
            return False
        fmt = (body.get("response_format") or {}).get("type")
        if fmt in self.reject_formats:
            status, payload, extra = 400, _error(f"response_format {fmt} is not supported"), {}
        elif behavior.status != 200:
            message = behavior.error_message
            if behavior.echo_auth:  # as careless servers do
                message += f"; you sent Authorization: {headers.get('authorization')}"
            if behavior.echo_auth_b64:
                sent = base64.b64encode(headers.get("authorization", "").encode()).decode()
                message += f"; request id {sent}"
            status, payload, extra = behavior.status, _error(message), {}
            if behavior.retry_after is not None:
                extra["retry-after"] = behavior.retry_after
            if behavior.retry_after_ms is not None:
                extra["retry-after-ms"] = str(behavior.retry_after_ms)
        else:
            status, payload, extra = 200, self._completion(body, behavior, headers), {}
            if looked_up is not None:
                tokens, cached, _, _ = looked_up
                usage = payload["usage"]
                usage["prompt_tokens"] = tokens
                usage["total_tokens"] = tokens + usage["completion_tokens"]
                usage["prompt_tokens_details"] = {"cached_tokens": cached}
        data = json.dumps(payload).encode()
        head = [f"HTTP/1.1 {status} X", "content-type: application/json"]
        head += [f"{k}: {v}" for k, v in extra.items()]
        head += [f"content-length: {len(data)}", "connection: keep-alive", "", ""]
        writer.write("\r\n".join(head).encode() + data)
        await writer.drain()
        if looked_up is not None and status == 200 and cache is not None:
            cache.store(looked_up[2], looked_up[3])
        return True

    def _completion(
        self, body: dict[str, Any], behavior: Behavior, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        content = behavior.content
        if content is None and behavior.refusal is None:
            answer = valid_answer(schema_from_request(body), behavior.verdict, behavior.confidence)
            if behavior.invalid:
                answer.pop("verdict", None)
            if behavior.answer_echo and "quote" in answer:
                answer["quote"] += " " + _echo((headers or {}), behavior.answer_echo)
            content = json.dumps(answer)
        prompt, completion = behavior.usage
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": behavior.refusal,
                    },
                    "finish_reason": behavior.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }


def panel_toml(server: FakeLLM, max_in_flight: int = 1) -> str:
    """A panel.toml whose only provider, "fake", is this server (no retries, no key)."""
    return f"""
[panel]
providers = ["fake"]
retry_attempts = 1
head_to_head = false

[providers.fake]
kind = "openai"
model = "m"
base_url = "{server.openai_url}"
api_key_env = ""
max_in_flight = {max_in_flight}
"""


def _echo(headers: dict[str, str], how: str) -> str:
    sent = headers.get("authorization", "")
    key = sent.removeprefix("Bearer ")
    if how == "base64":
        return base64.b64encode(sent.encode()).decode()
    return key.upper() if how == "upper" else key


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def main() -> None:
    """Serve from a separate process (for benchmarks): prints the port, runs until killed."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--retry-after-ms", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", help="on exit, write every request body here (JSON lines)")
    args = parser.parse_args()
    server = FakeLLM()
    chance = random.Random(args.seed)
    ok = Behavior(latency=args.latency)
    limited = Behavior(latency=args.latency, status=429, retry_after_ms=args.retry_after_ms)

    def responder(body: dict[str, Any]) -> Behavior:
        return limited if chance.random() < args.rate_429 else ok

    server.responder = responder
    print(server.port, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        server.close()
        if args.record:
            with open(args.record, "w", encoding="utf-8") as out:
                out.writelines(json.dumps(body) + "\n" for body in server.requests)


if __name__ == "__main__":
    main()
