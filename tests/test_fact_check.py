"""Issue 26: ``fact_check = "PROVIDER"`` runs the model claim check through the runner.

The check is a call of its own: keyed, cached, charged; it never checks its own author's
quote; a claim it finds unsupported withholds the quote, and the record keeps its claims and
a summary of the check.
"""

from __future__ import annotations

import json
from typing import Any

from panel.defences.quality import CLAIM_CHECK_FAILED
from panel.evidence import claims
from panel.jobs.review import plan_review, review
from panel.paths import Home
from panel.pipeline.session import RunSession
from panel.providers.base import CompletionRequest
from tests.support import evidence, scripted

QUOTE = "Alpha Tool costs $20/month per seat [S2], and it runs in CI on every push [S1]."


def _author(request: CompletionRequest) -> scripted.Completion:
    data = scripted.valid_answer(request.schema)
    if "citations" in request.schema["properties"]:
        data.update(quote=QUOTE, citations=["S1", "S2"], evidence="sufficient")
    return scripted.text(json.dumps(data))


def _checker(label: str) -> Any:
    def answer(request: CompletionRequest) -> scripted.Completion:
        assert request.schema_name == claims.SCHEMA_NAME
        found = [
            {"claim": "Alpha Tool costs $20 a month per seat", "sources": ["S2"], "label": label},
            {"claim": "It runs in CI on every push", "sources": ["S1"], "label": "supported"},
        ]
        return scripted.text(json.dumps({"claims": found}))

    return answer


def _review(home: Home, providers: list[str]) -> Any:
    with RunSession(home) as session:
        plan = plan_review(
            home, "alpha-tool", "beta-tool", providers, ["dx"],
            clients=session.clients, packs={"alpha-tool": evidence.pack()},
        )  # fmt: skip
        record, _ = review(session, plan, home.runs)
    return record


def _project(home: Home, checker: str) -> None:
    home.config_file.write_text(f'[panel]\nhead_to_head = false\nfact_check = "{checker}"\n')


def test_a_claim_the_checker_finds_unsupported_withholds_the_quote(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    _project(home, "scripted/checker")
    scripted_kind["author"] = scripted.Script(default=_author)
    scripted_kind["checker"] = scripted.Script(default=_checker("not_supported"))
    record = _review(home, ["scripted/author"])
    (alpha,) = [c for c in record.calls if c.tool == "alpha-tool"]
    (beta,) = [c for c in record.calls if c.tool == "beta-tool"]
    assert not alpha.ok and CLAIM_CHECK_FAILED in alpha.flags  # withheld
    assert alpha.fact_check is not None and not alpha.fact_check.publishable
    assert alpha.fact_check.provider == "scripted/checker" and alpha.fact_check.attempts == 1
    model = [c for c in alpha.claims if c.checker == "scripted/checker"]
    assert [c.outcome for c in model] == ["unsupported", "supported"]
    assert any(c.checker == "deterministic" for c in alpha.claims)  # $20/month is on S2
    assert beta.fact_check is None and beta.ok  # card only: nothing to check
    assert len(scripted_kind["checker"].requests) == 1
    # the check's tokens are counted in the record's totals
    calls = sum(c.prompt_tokens for c in record.calls)
    assert record.totals.prompt_tokens == calls + alpha.fact_check.prompt_tokens


def test_a_supported_quote_is_published_and_its_check_is_cached(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    _project(home, "scripted/checker")
    scripted_kind["author"] = scripted.Script(default=_author)
    scripted_kind["checker"] = scripted.Script(default=_checker("supported"))
    first = _review(home, ["scripted/author"])
    (alpha,) = [c for c in first.calls if c.tool == "alpha-tool"]
    assert alpha.ok and alpha.fact_check is not None and alpha.fact_check.publishable
    again = _review(home, ["scripted/author"])
    (cached,) = [c for c in again.calls if c.tool == "alpha-tool"]
    assert cached.cached and cached.fact_check is not None and cached.fact_check.cached
    assert len(scripted_kind["checker"].requests) == 1  # keyed and cached: never paid twice
    assert cached.claims == alpha.claims


def test_the_checker_never_checks_its_own_quote(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    _project(home, "scripted/author")
    scripted_kind["author"] = scripted.Script(default=_author)
    record = _review(home, ["scripted/author"])
    (alpha,) = [c for c in record.calls if c.tool == "alpha-tool"]
    assert alpha.ok and alpha.fact_check is None
    assert all(r.schema_name != claims.SCHEMA_NAME for r in scripted_kind["author"].requests)
