"""Issue 27's compatibility matrix, for real: panel against servers its tests did not write.

Each test starts a real OpenAI-compatible server on the shipped SmolLM2 GGUF and points
panel at it with nothing but ``OPENAI_BASE_URL`` (no panel.toml, no key): llama-cpp-python's
server and llama.cpp's own ``llama-server`` (the xllamacpp wheel). One review through each
must have at least as many valid verdicts as the same model in process (the embedded
provider) on the same pair, and the server must be alive at the end. ``panel providers
check`` runs against each too, and against LiteLLM's proxy in front of llama-server when
``$PANEL_LITELLM`` names its executable (``make test`` installs it in ``.venv-litellm``).

Slow (a review is 16 calls of a 135M model on 2 cores): marked ``servers``; ``make test``
runs them. One review per server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from panel.defences.fence_key import KEY_FILE
from panel.records.io import read_record
from tests.support import servers

ROOT = Path(__file__).resolve().parent.parent
PAIR = ("mistral-medium-3", "gpt-4o-mini")
pytestmark = [pytest.mark.servers, pytest.mark.real_clock]

pytest.importorskip("llama_cpp")


def project(root: Path) -> Path:
    for folder in ("catalog", "personas", "prompts"):
        shutil.copytree(ROOT / folder, root / folder)
    (root / "runs").mkdir()
    (root / "runs" / KEY_FILE).write_bytes(b"e2e-fixed-key-for-repeatability!")
    return root


def panel(home: Path, *args: str, base_url: str | None = None, key: str | None = None) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MISTRAL_"))}
    env["PANEL_HOME"] = str(home)
    if base_url:
        env["OPENAI_BASE_URL"] = base_url
    if key:
        env["OPENAI_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "panel", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=2400,
        check=False,
    )


def review(home: Path, *args: str, base_url: str | None = None) -> tuple[int, list[Any]]:
    proc = panel(home, "review", *PAIR, "--json", *args, base_url=base_url)
    assert proc.returncode in (0, 1, 3), proc.stderr  # 3: a tiny-model failure broke quorum
    record = read_record(home / "runs" / f"{json.loads(proc.stdout)['id']}.json")
    verdicts = [c for c in record.calls if c.kind == "verdict"]
    assert len(verdicts) == 8
    return sum(c.ok for c in verdicts), verdicts


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> int:
    """Valid verdicts of the embedded model on the pair: the bar each server must reach."""
    valid, _ = review(project(tmp_path_factory.mktemp("embedded")))
    return valid


SERVERS = {
    "llama-cpp-python": servers.llama_cpp_python,
    "llama-server": servers.llama_server,
}
# What `panel providers check` must find at each server (json_schema at llama-cpp-python's:
# HTTP 500 "Input should be 'text' or 'json_object'").
WORKS = {
    "llama-cpp-python": {"json_schema": False, "json_object": True},
    "llama-server": {"json_schema": True, "json_object": True},
}


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[servers.Server]:
    name = request.param
    port = servers.free_port()
    with servers.running(SERVERS[name](port), port, tmp_path / f"{name}.log") as running:
        yield running


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("server", list(SERVERS), indirect=True)
def test_a_review_through_a_real_server_with_only_a_base_url(
    server: servers.Server, in_process: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    name = request.node.callspec.params["server"]
    home = project(tmp_path / "project")
    checked = panel(home, "providers", "check", "openai/smollm2", "--json", base_url=server.url)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    report = json.loads(checked.stdout)
    works = {m["mode"]: m["works"] for m in report["modes"]}
    assert {k: works[k] for k in WORKS[name]} == WORKS[name], report
    assert report["max_in_flight"] == 1 and f'base_url = "{server.url}"' in report["toml"]
    if name == "llama-server":
        assert (report["engine"], report["slots"]) == ("llama.cpp", 1)

    valid, verdicts = review(home, "--provider", "openai/smollm2", base_url=server.url)
    failures = [c.failure for c in verdicts if not c.ok]
    assert valid >= in_process, (valid, in_process, failures, server.tail())
    assert server.alive(), server.tail()
    modes = {c.mode for c in verdicts if c.ok}
    assert modes == {"json_object" if name == "llama-cpp-python" else "json_schema"}
    listed = panel(home, "providers", "list", "--json", base_url=server.url)
    (row,) = [r for r in json.loads(listed.stdout)["providers"] if r["name"] == "openai/smollm2"]
    assert row["mode"] in modes and row["key"] == "not needed (local)"


@pytest.mark.timeout(900)
def test_check_through_litellm_in_front_of_llama_server(tmp_path: Path) -> None:
    executable = os.environ.get("PANEL_LITELLM", "")
    if not executable or not Path(executable).is_file():
        pytest.skip("LiteLLM's proxy is not installed: `make test` installs it (.venv-litellm)")
    upstream_port, proxy_port = servers.free_port(), servers.free_port()
    upstream = servers.llama_server(upstream_port)
    with servers.running(upstream, upstream_port, tmp_path / "llama-server.log") as llama:
        proxy = servers.litellm(proxy_port, llama.url, executable)
        env = {
            "LITELLM_MASTER_KEY": servers.LITELLM_KEY,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list at start
            "OPENAI_API_KEY": "not-needed",  # the upstream's key, for LiteLLM's openai client
        }
        with servers.running(proxy, proxy_port, tmp_path / "litellm.log", **env) as litellm:
            home = project(tmp_path / "project")
            checked = panel(
                home,
                "providers",
                "check",
                "openai/openai/smollm2",  # LiteLLM's model name is openai/smollm2
                "--json",
                base_url=litellm.url,
                key=servers.LITELLM_KEY,
            )
            assert checked.returncode == 0, checked.stderr + checked.stdout + litellm.tail()
            report = json.loads(checked.stdout)
            works = {m["mode"]: m["works"] for m in report["modes"]}
            assert works["json_schema"] and works["json_object"], report
            assert report["engine"] is None  # the proxy hides llama.cpp's /props
            assert litellm.alive({"Authorization": f"Bearer {servers.LITELLM_KEY}"})
        assert llama.alive()
