"""Records and clients for the editor's desk tests, the browser test and the benchmark.

:func:`save_rich` writes a record with everything the record page shows: verdicts
from two models, the head-to-head in both orders, a recused model (its vendor
makes one of the tools), a withheld answer and a failed call. Scores, trust and
head-to-head come from the real scoring code, as ``panel review`` builds them.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from html import unescape
from pathlib import Path

from starlette.testclient import TestClient

from panel.desk.routes import desk_app
from panel.desk.settings import desk_settings
from panel.inputs.catalog import Tool
from panel.paths import Home
from panel.records.io import write_record
from panel.records.schema import CallResult, ComparisonRecord
from panel.scoring.aggregate import aggregate
from panel.scoring.trust import head_to_head, mark_conflicts, trust
from tests.support.publishing import _failed, _withheld, rescored
from tests.support.records import NOW, make_record, quote_for, tool

ORIGIN = "http://127.0.0.1:8765"
PROVIDERS = ("openai/gpt-4o-mini", "mistral/mistral-small-latest")
# The second model's maker makes the second tool in the rich record: it is recused there.
VENDORS = {"openai/gpt-4o-mini": "OpenAI", "mistral/mistral-small-latest": "Mistral AI"}
A = tool("alpha-tool", name="Alpha Tool")
B = tool("beta-chat", name="Beta Chat", vendor="Mistral AI")

Pick = Callable[[str, str, int], str]  # persona, provider, order (0 or 1) -> tool slug


def _h2h(a: Tool, b: Tool, personas: list[str], pick: Pick) -> list[CallResult]:
    calls = []
    for persona in personas:
        for provider in PROVIDERS:
            for order, (first, second) in enumerate(((a, b), (b, a))):
                calls.append(
                    CallResult(
                        key=f"h2h-{persona}-{provider}-{order}",
                        persona=persona,
                        tool=f"{first.slug}-vs-{second.slug}",
                        provider=provider,
                        model=provider.split("/")[-1],
                        status="ok",
                        confidence=3,
                        fields={
                            "reason": f"{persona} prefers it in order {order}.",
                            "pick": pick(persona, provider, order),
                        },
                        attempts=1,
                        kind="head_to_head",
                        cost_usd=0.0002,
                    )
                )
    return calls


def rich_record(
    a: Tool,
    b: Tool,
    *,
    record_id: str,
    created: datetime = NOW,
    verdict: Callable[[str, str, str], str] = lambda p, s, v: "skip" if p == "business" else "ship",
    quote: Callable[[str, str, str], str] = quote_for,
    withhold: Callable[[CallResult], bool] | None = None,
    fail: Callable[[CallResult], bool] = lambda c: False,
    pick: Pick = lambda persona, provider, order: "",
    titles: dict[str, str] | None = None,
) -> ComparisonRecord:
    base = make_record(
        a, b, record_id=record_id, providers=PROVIDERS, created=created, verdict=verdict,
        quote=quote, titles=titles,
    )  # fmt: skip
    personas = base.panel.personas
    if withhold is None:  # by default, one answer copied the card

        def withhold(c: CallResult) -> bool:
            return (c.persona, c.tool, c.provider) == ("futurist", a.slug, PROVIDERS[0])

    calls = []
    for call in base.calls:
        call = call.model_copy(
            update={
                "cost_usd": 0.0004,
                "model_version": "2026-09",
                "fields": {"best_for": f"{call.persona} teams", "risks": ["lock-in", "pricing"]},
            }
        )
        if withhold(call):
            call = _withheld(call)
        elif fail(call):
            call = _failed(call)
        calls.append(call)
    calls += _h2h(a, b, personas, lambda p, v, o: pick(p, v, o) or a.slug)
    calls = mark_conflicts(calls, [a, b], VENDORS, "recuse")
    scores = aggregate([a, b], personas, [c for c in calls if c.kind == "verdict"])
    scores = scores.model_copy(
        update={
            "head_to_head": head_to_head(calls, [a, b]),
            "trust": trust(calls, [a, b], personas, scores.split, "recuse"),
        }
    )
    return rescored(base, calls, scores)


def save_rich(runs: Path, a: Tool, b: Tool, created: datetime = NOW, **kwargs: object) -> Path:
    """Write :func:`rich_record` under runs/<created date>/; returns its path."""
    return write_record(
        runs,
        created.date(),
        f"{a.slug}-vs-{b.slug}",
        lambda rid: rich_record(a, b, record_id=rid, created=created, **kwargs),  # type: ignore[arg-type]
    )


def client(home: Home, token: str | None = None, **settings: object) -> TestClient:
    """A test client of the desk over ``home`` (loopback; logged in only with a token)."""
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "site_out": home.root / "site",
        "editor": "alice",
        "token": token,
        **settings,
    }
    app = desk_app(desk_settings(home, **options))  # type: ignore[arg-type]
    return TestClient(app, base_url=ORIGIN)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def flashes(html: str) -> list[str]:
    """The flash messages on a page, unescaped."""
    found = re.findall(r'<li class="flash [^"]*" role="status">(.*?)</li>', html, re.S)
    return [" ".join(unescape(m).split()) for m in found]


def post(web: TestClient, path: str, data: dict[str, str], page: str = "/") -> object:
    """POST ``data`` as the desk's own form would: the page's CSRF token, the desk's origin,
    and for a decision on a record the record's version from its page, as now."""
    decision = re.fullmatch(r"(/records/[^/]+/[^/]+)/(approve|reject|override)", path)
    if decision and "version" not in data:
        found = re.search(r'name="version" value="(\d+)"', web.get(decision.group(1)).text)
        data = {"version": found.group(1), **data} if found else data
    token = csrf(web.get(page).text)
    return web.post(
        path, data={"csrf": token, **data}, headers={"origin": ORIGIN}, follow_redirects=False
    )


@contextlib.contextmanager
def start_desk(
    home: Home, *args: str, by: str = "alice", env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`panel serve --port 0` on ``home`` in a child process; yields (its URL, the process).

    The desk prints its address on its first line; its stderr (the access log, echoed)
    goes to runs/desk/serve.stderr.
    """
    (home.runs / "desk").mkdir(parents=True, exist_ok=True)
    errors = home.runs / "desk" / "serve.stderr"
    command = [sys.executable, "-m", "panel", "serve", "--port", "0", "--by", by]
    command += ["--site-out", str(home.root / "site"), *args]
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PANEL_HOME": str(home.root), **(env or {})},
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            found = re.search(r"(http://\S+/)", first)
            if not found:
                process.wait(timeout=30)
                raise AssertionError(f"panel serve did not start: {first}{errors.read_text()}")
            yield found.group(1), process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
