"""Issue 25, item 7: no supporting line reads as the opposite of the answer.

A page read "Ship with SmolVLM 2.5" next to "0 of 4 reviewers ship SmolVLM 2.5": with two
providers per persona splitting evenly, no persona had a majority. The page now says what a
tie is, and counts tied reviewers apart.
"""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.publish.render.view import TIED, page_view
from panel.records.io import write_record
from panel.records.schema import ComparisonRecord
from panel.scoring.trust import trust
from tests.support.records import make_record, tool

A, B = tool("alpha-tool"), tool("beta-tool")
PROVIDERS = ("openai/gpt-4o-mini", "mistral/mistral-small-latest")


def _verdict(persona: str, slug: str, provider: str) -> str:
    if slug == A.slug:  # every persona's two models split: a tie, 50% ship
        return "ship" if provider == PROVIDERS[0] else "skip"
    return "ship" if (persona, provider) == ("dx", PROVIDERS[0]) else "skip"  # 12.5% ship


def _record() -> ComparisonRecord:
    base = make_record(A, B, providers=PROVIDERS, verdict=_verdict)
    scores = base.scores
    scored = trust(base.calls, [A, B], base.panel.personas, scores.split, "recuse")
    return base.model_copy(update={"scores": scores.model_copy(update={"trust": scored})})


def test_a_tied_pick_is_never_shown_as_no_reviewer_ships_it(home: Home) -> None:
    record = _record()
    assert record.scores.pick.tool == A.slug
    view = page_view(record)
    assert "0 of 4 reviewers ship Alpha Tool" not in view.trust
    assert "Alpha Tool: 0 of 4 reviewers ship, 0 skip, 4 tied" in view.trust
    assert "Beta Tool: 0 of 4 reviewers ship, 3 skip, 1 tied" in view.trust
    assert TIED in view.trust and "The pick, Alpha Tool, follows the panel ship rate" in view.trust
    path = write_record(
        home.runs, date(2026, 11, 24), "alpha-tool-vs-beta-tool",
        lambda rid: record.model_copy(update={"id": rid}),
    )  # fmt: skip
    page = CliRunner().invoke(app, ["show", str(path), "--format", "html"]).stdout
    assert "Ship with <strong" in page and "4 tied" in page and "split evenly" in page


def test_without_ties_the_line_is_as_before() -> None:
    base = make_record(A, B, providers=PROVIDERS[:1])
    scored = trust(base.calls, [A, B], base.panel.personas, base.scores.split, "recuse")
    assert scored.summary.startswith("4 of 4 reviewers ship Alpha Tool; 4 of 4 reviewers ship")
    record = base.model_copy(update={"scores": base.scores.model_copy(update={"trust": scored})})
    assert TIED not in page_view(record).trust
