"""Real OpenAI-compatible servers, started by the tests that need them (issue 27).

Each runs in its own process on a free loopback port, on the shipped SmolLM2 GGUF:

- llama-cpp-python's server (``python -m llama_cpp.server``, its ``[server]`` extra);
- llama.cpp's own server from the xllamacpp wheel (``tests/support/llama_server.py``);
- LiteLLM's proxy in front of one of them, from the executable in ``$PANEL_LITELLM``
  (``make test`` installs it into ``.venv-litellm``: its dependencies stay out of panel's).

``Server`` waits until ``GET /v1/models`` answers 200 (llama.cpp answers 503 while the
model loads) and stops the process however the test ends; its log is kept for failures.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from panel.providers.local import CONTEXT_TOKENS, smollm2_path

ROOT = Path(__file__).resolve().parents[2]
LITELLM_KEY = "sk-panel-litellm-test-key"  # the proxy's master key, local to the test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def llama_cpp_python(port: int) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path()),
        "--host", "127.0.0.1", "--port", str(port), "--model_alias", "smollm2",
        "--n_ctx", str(CONTEXT_TOKENS), "--n_threads", str(os.cpu_count() or 2),
    ]  # fmt: skip


def llama_server(port: int) -> list[str]:
    return [sys.executable, "-m", "tests.support.llama_server", "--port", str(port)]


def litellm(port: int, upstream: str, executable: str) -> list[str]:
    return [
        executable, "--model", "openai/smollm2", "--api_base", upstream,
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


class Server:
    """A server process on ``port``; ``url`` is its OpenAI base URL (``.../v1``)."""

    def __init__(self, command: list[str], port: int, log: Path, env: dict[str, str]) -> None:
        self.port, self.log = port, log
        self.url = f"http://127.0.0.1:{port}/v1"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self, seconds: float, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/models", headers=headers, timeout=5).status_code == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"server not ready after {seconds:.0f}s:\n{self.tail()}")

    def alive(self, headers: dict[str, str] | None = None) -> bool:
        if self.process.poll() is not None:
            return False
        try:
            return httpx.get(f"{self.url}/models", headers=headers, timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@contextlib.contextmanager
def running(
    command: list[str], port: int, log: Path, ready: float = 180.0, **env: str
) -> Iterator[Server]:
    server = Server(command, port, log, {**os.environ, **env})
    try:
        headers = (
            {"Authorization": f"Bearer {env['LITELLM_MASTER_KEY']}"}
            if ("LITELLM_MASTER_KEY" in env)
            else None
        )
        server.wait_ready(ready, headers)
        yield server
    finally:
        server.stop()
