"""API keys never leave the environment: whole runs with recognisable fake keys, then grep.

The loopback server echoes the Authorization header back in error bodies, as
careless servers do, so a key can only stay out of the outputs if panel redacts it.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.providers.base import redact
from tests.support.clock import WEEK
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
        run("approve", row["id"], "--by", "ed", "--force")  # publish even incomplete ones
    run("show", listed[0]["id"], "--markdown")
    run("site", "build", "--out", str(project.root / "site"))
    digest = run("digest", "--week", WEEK)  # the approvals' week (tests/support/clock.py)
    # The digest really wrote pages, so the key search below covers them (issue 25).
    assert re.search(r": [1-9]\d* comparisons?\n", digest.stdout), digest.output
    assert list((project.runs / "digests").glob(f"{WEEK}.*")), digest.output
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


# -- issue 20 item 7: echoing and hostile providers --------------------------------------


def _forms(key: str) -> list[str]:
    """What must never appear anywhere: the key in the forms a server echoes it."""
    b64 = base64.b64encode(key.encode()).decode()
    bearer = base64.b64encode(f"Bearer {key}".encode()).decode()
    return [key, key.upper(), key.lower(), quote(key, safe=""), b64[4:-4], bearer[12:-4]]


def _one_provider(home: Home, server: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    (home.root / "panel.toml").write_text(
        f"""
[panel]
providers = ["oa"]
retry_attempts = 1
quorum = "any-verdict"
head_to_head = false

[providers.oa]
kind = "openai"
model = "gpt-test"
base_url = "{server.openai_url}"
api_key_env = "OPENAI_API_KEY"

[site]
base_url = "https://verdicts.example/"
"""
    )


def _everything(home: Home, outputs: list[str]) -> list[str]:
    """Every output and every file under the project (records, store, site, digests)."""
    texts = list(outputs)
    for path in home.root.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
    return texts


def _run_all(home: Home) -> tuple[dict[str, Any], list[str]]:
    outputs: list[str] = []

    def run(*args: str) -> Any:
        result = runner.invoke(app, list(args))
        outputs.extend([result.stdout, result.stderr])
        assert "Traceback" not in result.output, result.output
        return result

    record = json.loads(run("review", "alpha-tool", "beta-tool", "--json").stdout)
    run("nightly", "--since", "2000-01-01")
    for row in json.loads(run("list", "--json").stdout):
        run("approve", row["id"], "--by", "ed", "--force")  # publish even incomplete ones
    run("show", record["id"], "--markdown")
    run("show", record["id"])
    run("site", "build", "--out", str(home.root / "site"))
    digest = run("digest", "--week", WEEK)
    assert re.search(r": [1-9]\d* comparisons?\n", digest.stdout), digest.output
    return record, outputs


def test_a_key_echoed_in_base64_in_a_401_is_redacted_everywhere(
    home: Home, server: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_provider(home, server, monkeypatch)
    counter = itertools.count()

    def responder(body: dict[str, Any]) -> Behavior:
        if next(counter) % 2 == 0:
            return Behavior(status=401, echo_auth_b64=True, error_message="Incorrect API key")
        return Behavior()

    server.responder = responder
    record, outputs = _run_all(home)
    failures = [c["failure"]["detail"] for c in record["calls"] if c["failure"]]
    assert failures and all("***" in d for d in failures), failures
    assert f"Bearer {OPENAI_KEY}" in {h.get("authorization") for h in server.headers}
    for text in _everything(home, outputs):
        for form in _forms(OPENAI_KEY):
            assert form not in text, (form, text[:300])


@pytest.mark.parametrize("how", ["raw", "base64", "upper"])
def test_an_answer_that_contains_the_key_is_never_stored_cached_or_published(
    home: Home, server: FakeLLM, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _one_provider(home, server, monkeypatch)
    counter = itertools.count()

    def responder(body: dict[str, Any]) -> Behavior:
        return Behavior(answer_echo=how) if next(counter) % 2 == 0 else Behavior()

    server.responder = responder
    record, outputs = _run_all(home)
    echoed = [c for c in record["calls"] if c["failure"] and "API key" in c["failure"]["detail"]]
    assert echoed, record["calls"]
    assert all(c["failure"]["reason"] == "invalid_output" and c["quote"] is None for c in echoed)
    assert all(c["attempts"] == 1 for c in echoed)  # not retried: the server is hostile
    for text in _everything(home, outputs):
        for form in _forms(OPENAI_KEY):
            assert form not in text, (form, text[:300])
    # Never cached: the same review asks again for exactly those calls.
    before = server.count()
    again = json.loads(runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"]).stdout)
    assert server.count() - before == sum(1 for c in again["calls"] if not c["cached"])
    assert {c["key"] for c in again["calls"] if not c["cached"]} >= {c["key"] for c in echoed}


def test_an_answer_cached_from_one_server_is_not_reused_for_another(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLM() as first, FakeLLM() as second:
        _one_provider(home, first, monkeypatch)
        one = json.loads(runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"]).stdout)
        assert first.count() == len(one["calls"]) and one["totals"]["cached"] == 0
        _one_provider(home, second, monkeypatch)  # same provider name and model, other server
        two = json.loads(runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"]).stdout)
        assert second.count() == len(two["calls"]) and two["totals"]["cached"] == 0
        assert {c["key"] for c in one["calls"]}.isdisjoint(c["key"] for c in two["calls"])
        _one_provider(home, first, monkeypatch)  # back to the first: its answers are reused
        three = json.loads(
            runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"]).stdout
        )
        assert three["totals"]["cached"] == len(three["calls"])


def test_the_endpoint_is_in_the_key_of_http_providers_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from panel.pipeline.calls import call_key
    from panel.providers.base import CompletionRequest, Message, ProviderSettings
    from panel.providers.openai import OpenAIProvider

    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    request = CompletionRequest((Message("user", "hi"),), {"type": "object"}, "s")

    def key(base_url: str | None) -> str:
        settings = ProviderSettings(name="openai/m", kind="openai", model="m", base_url=base_url)
        return call_key(OpenAIProvider(settings), request)

    assert key(None) == key("https://api.openai.com/v1/")  # the default, spelled out
    assert len({key(None), key("http://127.0.0.1:1/v1"), key("http://127.0.0.1:2/v1")}) == 3


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(f"Bearer {OPENAI_KEY}".encode()).decode(),
        base64.b64encode(f"Authorization: Bearer {OPENAI_KEY}".encode()).decode(),
        base64.b64encode(f"user:{OPENAI_KEY}".encode()).decode(),
        base64.b64encode(OPENAI_KEY.encode()).decode(),
        base64.urlsafe_b64encode(OPENAI_KEY.encode()).decode().rstrip("="),
        OPENAI_KEY.upper(),
        OPENAI_KEY.lower(),
        quote(f"Bearer {OPENAI_KEY}", safe=""),
        OPENAI_KEY.encode().hex(),
        OPENAI_KEY[:14] + "...",
        "..." + OPENAI_KEY[-14:],
    ],
)
def test_redact_finds_the_key_in_every_form_it_can_compute(text: str) -> None:
    cleaned = redact(f"error: {text} (see logs)", OPENAI_KEY)
    assert "***" in cleaned
    for form in _forms(OPENAI_KEY):
        assert form not in cleaned
    assert cleaned.startswith("error: ") and cleaned.endswith(" (see logs)")


def test_redaction_leaves_ordinary_text_alone() -> None:
    text = "Ship it: the API is fast, the docs are clear, and keys are not needed locally."
    assert redact(text, OPENAI_KEY, MISTRAL_KEY) == text
