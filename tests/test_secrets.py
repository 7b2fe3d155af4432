"""API keys never leave the environment: whole runs with recognisable fake keys, then grep.

The loopback server echoes the Authorization header back in error bodies, as
careless servers do, so a key can only stay out of the outputs if panel redacts it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.providers.base import redact
from tests.support.fake_llm import Behavior, FakeLLM

OPENAI_KEY = "sk-test-SECRETopenai-0123456789abcdefXYZ"
MISTRAL_KEY = "mst-SECRETmistral-9876543210fedcbaQRS"
FORBIDDEN = (OPENAI_KEY, MISTRAL_KEY, "SECRETopenai", "SECRETmistral")
UNREDACTED_BEARER = re.compile(r"(?i)bearer\s+(?!(\\?\*){3})")  # "***" or Markdown's "\*\*\*"
runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def project(home: Home, server: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("MISTRAL_API_KEY", MISTRAL_KEY)
    (home.root / "panel.toml").write_text(
        f"""
[panel]
providers = ["oa", "mi"]
retry_attempts = 2
quorum = "any-verdict"

[providers.oa]
kind = "openai"
model = "gpt-test"
base_url = "{server.openai_url}"
api_key_env = "OPENAI_API_KEY"

[providers.mi]
kind = "mistral"
model = "mistral-test"
base_url = "{server.url}"
api_key_env = "MISTRAL_API_KEY"

[site]
base_url = "https://verdicts.example/"
"""
    )
    counter = itertools.count()

    def responder(body: dict[str, Any]) -> Behavior:
        n = next(counter)
        if n % 4 == 0:
            return Behavior(status=401, echo_auth=True, error_message="Incorrect API key")
        if n % 4 == 1:
            return Behavior(status=500, echo_auth=True)
        return Behavior()

    server.responder = responder
    return home


def _grep_tree(root: Path) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in FORBIDDEN:
                if secret.encode() in data:
                    hits.append(f"{path}: {secret}")
            if UNREDACTED_BEARER.search(data.decode("latin-1")):
                hits.append(f"{path}: a bearer token")
    return hits


def test_no_output_of_any_command_contains_a_key(project: Home, server: FakeLLM) -> None:
    outputs: list[str] = []

    def run(*args: str) -> Any:
        result = runner.invoke(app, list(args))
        outputs.extend([result.stdout, result.stderr])
        assert "Traceback" not in result.output, result.output
        return result

    review = run("review", "alpha-tool", "beta-tool", "--json")
    record = json.loads(review.stdout)
    failures = [c["failure"]["detail"] for c in record["calls"] if c["failure"]]
    assert any("Authorization: ***" in d or "***" in d for d in failures), failures
    run("review", "beta-tool", "alpha-tool")  # the human-readable path too
    run("nightly", "--since", "2000-01-01")
    listed = json.loads(run("list", "--json").stdout)
    for row in listed:
        run("approve", row["id"], "--by", "ed")
    run("show", listed[0]["id"], "--markdown")
    run("site", "build", "--out", str(project.root / "site"))
    run("digest", "--week", "2026-W48")
    run("providers", "list")
    assert server.count() > 0
    # The server really did receive the keys: they were in play.
    sent = {h.get("authorization", "") for h in server.headers}
    assert f"Bearer {OPENAI_KEY}" in sent and f"Bearer {MISTRAL_KEY}" in sent
    for text in outputs:
        for secret in FORBIDDEN:
            assert secret not in text, (secret, text[:500])
        assert not UNREDACTED_BEARER.search(text), text[:500]
    assert _grep_tree(project.root) == []
    assert (project.root / "site" / "index.html").is_file()


@pytest.mark.parametrize(
    "text",
    [
        f"Incorrect API key provided: {OPENAI_KEY}",
        f"header was Authorization: Bearer {MISTRAL_KEY}",
        "authorization: bearer abc.def-ghi_jkl",
        f"x-api-key: {OPENAI_KEY[:20]}",
    ],
)
def test_redact_removes_keys_and_bearer_tokens(text: str) -> None:
    cleaned = redact(text, OPENAI_KEY, MISTRAL_KEY)
    for secret in (OPENAI_KEY, MISTRAL_KEY, "abc.def-ghi_jkl", OPENAI_KEY[:20]):
        assert secret not in cleaned
    assert "***" in cleaned
