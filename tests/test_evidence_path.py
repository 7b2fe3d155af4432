"""Issue 26, the whole path offline: sources on a catalog entry, `panel evidence fetch` from a
loopback site, `panel review` on the mock provider, the record and the page. And the same
path with a reviewer that states a price the fetched pricing page does not state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.providers.base import CompletionRequest
from panel.records.io import read_record
from tests.support import scripted
from tests.support.evidence_site import Page, html, serve
from tests.test_evidence_fetch import configure

runner = CliRunner()
PRICING = "<p>Alpha Tool Pro costs $20 per month per seat, with 10,000 runs a month.</p>"
HOME = "<p>Alpha Tool turns prompts into pull requests and runs in your CI.</p>"


def _fetched(home: Home, site: Any) -> None:
    entry = home.catalog / "alpha-tool.toml"
    entry.write_text(
        entry.read_text()
        + f'[[sources]]\nurl = "{site.url}/"\nkind = "homepage"\n'
        + f'[[sources]]\nurl = "{site.url}/pricing"\nkind = "pricing"\n'
    )
    configure(home, site)
    fetched = runner.invoke(app, ["evidence", "fetch", "alpha-tool"])
    assert fetched.exit_code == 0, fetched.output


def _review(provider: str) -> Path:
    result = runner.invoke(
        app, ["review", "alpha-tool", "beta-tool", "--provider", provider, "--persona", "dx"]
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("record: "))
    return Path(line.removeprefix("record: "))


def test_fetch_then_review_on_the_mock_cites_the_fetched_sources(home: Home) -> None:
    routes = {"/": Page(html("Alpha Tool", HOME)), "/pricing": Page(html("Pricing", PRICING))}
    with serve(routes) as site:
        _fetched(home, site)
    record = read_record(_review("mock/a"))
    assert [(e.id, e.kind) for e in record.evidence["alpha-tool"]] == [
        ("S1", "homepage"),
        ("S2", "pricing"),
    ]
    (alpha,) = [c for c in record.calls if c.tool == "alpha-tool"]
    assert (
        alpha.ok
        and alpha.citations
        and all(f"[{i}]" in (alpha.quote or "") for i in alpha.citations)
    )
    assert "beta-tool" not in record.evidence  # card only
    shown = runner.invoke(app, ["show", record.id], env={"COLUMNS": "200"})
    assert "Sources: S1 homepage, 127.0.0.1, checked" in " ".join(shown.stdout.split())


def test_a_price_the_fetched_pricing_page_does_not_state_is_withheld(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    def says(request: CompletionRequest) -> scripted.Completion:
        data = scripted.valid_answer(request.schema)
        if "citations" in request.schema["properties"]:
            data.update(
                quote="Alpha Tool Pro costs $25 per month per seat [S2] and runs in CI [S1].",
                citations=["S1", "S2"],
                evidence="sufficient",
            )
        return scripted.text(json.dumps(data))

    scripted_kind["m"] = scripted.Script(default=says)
    routes = {"/": Page(html("Alpha Tool", HOME)), "/pricing": Page(html("Pricing", PRICING))}
    with serve(routes) as site:
        _fetched(home, site)
    record = read_record(_review("scripted/m"))
    (alpha,) = [c for c in record.calls if c.tool == "alpha-tool"]
    assert alpha.outcome == "failed" and "ungrounded-claim" in alpha.flags
    assert any(c.text.startswith("$25") and c.outcome == "contradicted" for c in alpha.claims)
    score = next(s for s in record.scores.tools if s.tool == "alpha-tool")
    assert score.valid == 0 and not score.quorum_met  # withheld: not scored, not published
