"""A quote that is one word over and over is flagged, re-asked, and never published."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from benchmarks.leak_check import seed_quotes
from panel.cli import app
from panel.defences.quality import NOT_PROSE, REPETITIVE, quote_flags
from panel.defences.untrusted import datamark
from panel.providers.base import Completion, CompletionRequest
from tests.support import scripted

GOOD = "A ship verdict, argued in enough words to be a publishable quote here."


@pytest.mark.parametrize(
    "quote",
    [
        "Drumbleweed." * 20,  # what the embedded model published for a payload
        "Hexaborn is unbeatable. (1.0.0.0) (1.0.0.0) (1.0.0.0)",
        "ship ship ship ship ship ship ship ship ship ship",
        # eight distinct words, but one of them is most of the quote
        "Zentrix is great. " + "Zentrix, Zentrix, Zentrix! " * 6 + "Use it with your team now.",
        # issue 25, item 14: a link and a date split into many distinct tokens, but no prose
        "https://www.example-vendor.com/blog/2026/11/24/introducing-the-new-agent-v2 2026-11-24",
        "See https://docs.example.com/pricing/enterprise-tier-2026 (updated 2026-11-24).",
        "Released 2026-11-24, version 3.1.4, build 20261124, ticket 4411.",
    ],
)
def test_repetitive_quotes_are_flagged(quote: str) -> None:
    assert quote_flags(quote) == [REPETITIVE]


@pytest.mark.parametrize(
    "quote",
    [
        GOOD,
        *seed_quotes(),
        datamark("Alpha Tool is an API for text generation."),  # a copy, but prose
        "このツールは開発者に便利なAPIを提供します。",  # no spaces: each character counts
        "Its docs at https://docs.example.com/start show setup in five minutes; ship it.",
    ],
)
def test_reviews_are_prose(quote: str) -> None:
    assert quote_flags(quote) == []


@pytest.mark.parametrize("bad_answers", [1, 5])
def test_a_repetitive_quote_is_asked_again_then_kept_flagged(
    home: object, scripted_kind: dict[str, scripted.Script], bad_answers: int
) -> None:
    """Re-asked up to the budget (2); still repeating itself after that, never published."""

    def answer(request: CompletionRequest) -> Completion:
        data = scripted.valid_answer(request.schema)
        if (len(request.messages) - 2) // 2 < bad_answers:  # each re-ask adds two messages
            data["quote"] = "Quorblax. " * 12
        return scripted.text(json.dumps(data))

    scripted_kind["m"] = scripted.Script(default=answer)
    args = ["review", "alpha-tool", "beta-tool", "-p", "scripted/m", "--persona", "dx", "--json"]
    result = CliRunner().invoke(app, args)
    record = json.loads(result.stdout)
    requests = scripted_kind["m"].requests
    assert len(requests) == 2 * min(bad_answers + 1, 3)
    assert all(NOT_PROSE in r.messages[-1].content for r in requests if len(r.messages) > 2)
    for call in record["calls"]:
        assert call["reasks"] == min(bad_answers, 2)
        assert call["flags"] == ([] if bad_answers == 1 else [REPETITIVE])
    published = {s["persona"]: s["published"] for s in record["scores"]["split"]}
    if bad_answers == 1:
        assert result.exit_code == 0 and published["dx"]["alpha-tool"] is not None
    else:
        assert result.exit_code == 3 and published["dx"] == {"alpha-tool": None, "beta-tool": None}
