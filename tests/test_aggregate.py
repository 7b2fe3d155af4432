from __future__ import annotations

from panel.inputs.catalog import Tool
from panel.providers.base import FailureReason
from panel.records.schema import CallResult, Failure, ToolScore
from panel.scoring.aggregate import aggregate, majority, pick, score_tool, totals
from panel.scoring.rules import Quorum, tool_rule

RULE = tool_rule(Quorum.EVERY_PERSONA)


def call(
    tool: str,
    persona: str,
    verdict: str | None,
    confidence: int = 3,
    provider: str = "p/one",
    attempts: int = 1,
) -> CallResult:
    if verdict is None:
        return CallResult(
            key="k",
            persona=persona,
            tool=tool,
            provider=provider,
            model="m",
            status="failed",
            failure=Failure(reason=FailureReason.INVALID_OUTPUT, detail="bad"),
            attempts=attempts,
        )
    return CallResult(
        key="k",
        persona=persona,
        tool=tool,
        provider=provider,
        model="m",
        status="ok",
        verdict=verdict,  # type: ignore[arg-type]
        confidence=confidence,
        quote="q" * 40,
        attempts=attempts,
        prompt_tokens=10,
        completion_tokens=4,
    )


def tool(slug: str, price: str | None = "free") -> Tool:
    return Tool(slug=slug, name=slug.title(), description="d", entry_price=price)  # type: ignore[arg-type]


def test_ship_pct_counts_only_valid_verdicts() -> None:
    calls = [call("a", "dx", "ship"), call("a", "biz", "skip"), call("a", "fut", None)]
    score = score_tool("a", calls)
    assert (score.ships, score.skips, score.valid, score.failed) == (1, 1, 2, 1)
    assert score.ship_pct == 50.0


def test_tool_with_only_failures_has_no_ship_pct() -> None:
    score = score_tool("a", [call("a", "dx", None), call("b", "dx", "ship")])
    assert score.ship_pct is None
    assert score.failed == 1
    assert score.mean_confidence is None


def test_majority_rules() -> None:
    assert majority(2, 1) == "ship"
    assert majority(0, 3) == "skip"
    assert majority(1, 1) == "tie"
    assert majority(0, 0) == "none"


def test_split_is_per_persona_across_providers() -> None:
    calls = [
        call("a", "dx", "ship", provider="p/1"),
        call("a", "dx", "skip", provider="p/2"),
        call("a", "dx", "ship", provider="p/3"),
        call("b", "dx", None, provider="p/1"),
        call("b", "dx", "skip", provider="p/2"),
    ]
    scores = aggregate([tool("a"), tool("b")], ["dx"], calls)
    (split,) = scores.split
    assert split.majority == {"a": "ship", "b": "skip"}
    assert split.ships == {"a": 2, "b": 0}
    assert split.failed == {"a": 0, "b": 1}


def test_pick_by_ship_pct() -> None:
    calls = [call("a", "dx", "ship"), call("b", "dx", "skip")]
    result = aggregate([tool("a"), tool("b")], ["dx"], calls).pick
    assert result.tool == "a"
    assert "panel ship %" in result.reason
    assert "a 100% vs b 0%" in result.reason


def test_pick_tie_broken_by_persona_majorities() -> None:
    # Both 50%: a's ship comes from a persona majority; b's persona votes are split.
    calls = [
        call("a", "dx", "ship"),
        call("a", "biz", "skip"),
        call("b", "dx", "ship", provider="p/1"),
        call("b", "dx", "skip", provider="p/2"),
        call("b", "biz", "ship", provider="p/1"),
        call("b", "biz", "skip", provider="p/2"),
    ]
    result = aggregate([tool("a"), tool("b")], ["dx", "biz"], calls).pick
    assert result.tool == "a"
    assert result.reason.startswith("persona majorities of ship")


def test_pick_tie_broken_by_confidence_then_none() -> None:
    scores = [
        ToolScore(
            tool="a", ship_pct=50, ships=1, skips=1, valid=2, failed=0, mean_confidence=3, rule=RULE
        ),
        ToolScore(
            tool="b",
            ship_pct=50,
            ships=1,
            skips=1,
            valid=2,
            failed=0,
            mean_confidence=4.5,
            rule=RULE,
        ),
    ]
    assert pick(scores, []).tool == "b"
    tied = [scores[0], scores[0].model_copy(update={"tool": "b"})]
    assert pick(tied, []).tool is None


def test_no_pick_without_valid_verdicts_for_a_tool() -> None:
    calls = [call("a", "dx", "ship"), call("b", "dx", None)]
    result = aggregate([tool("a"), tool("b")], ["dx"], calls).pick
    assert result.tool is None
    assert "b" in result.reason


def test_pricing_read_comes_from_catalog() -> None:
    scores = aggregate([tool("a", "open-source"), tool("b", None)], ["dx"], [])
    assert [(p.tool, p.entry_price) for p in scores.pricing] == [("a", "open-source"), ("b", None)]


def test_totals_sum_attempts_and_tokens() -> None:
    count = totals([call("a", "dx", "ship", attempts=3), call("b", "dx", None, attempts=2)])
    assert (count.calls, count.valid, count.failed, count.attempts) == (2, 1, 1, 5)
    assert count.prompt_tokens == 10


def test_valid_failed_and_recused_are_counted_apart_and_add_up() -> None:
    """Issue 16, item 8: a recused answer is neither valid nor failed, and is counted."""
    recused = call("a", "fut", "ship").model_copy(update={"conflict": True, "recused": True})
    failed_recused = call("a", "biz", None).model_copy(update={"conflict": True, "recused": True})
    calls = [call("a", "dx", "ship"), call("a", "dx", None), recused, failed_recused]
    score = score_tool("a", calls)
    assert (score.valid, score.failed, score.recused) == (1, 2, 1)
    assert score.ship_pct == 100.0  # one ship of one valid verdict; the recused ship not counted
    count = totals(calls)
    assert (count.valid, count.failed, count.recused) == (1, 2, 1)
    assert count.valid + count.failed + count.recused == count.calls


def test_totals_split_what_the_run_spent_from_what_the_answers_cost() -> None:
    """Issue 16, item 14: a record served from cache paid nothing this run."""
    paid = call("a", "dx", "ship").model_copy(update={"cost_usd": 0.002})
    cached = call("b", "dx", "skip").model_copy(update={"cost_usd": 0.003, "cached": True})
    count = totals([paid, cached])
    assert (count.cost_usd, count.spent_usd) == (0.005, 0.002)
    all_cached = totals([cached])
    assert (all_cached.cost_usd, all_cached.spent_usd, all_cached.cached) == (0.003, 0.0, 1)
    unknown = totals([paid.model_copy(update={"cost_usd": None}), cached])
    assert (unknown.cost_usd, unknown.spent_usd) == (None, None)
    assert totals([paid, cached.model_copy(update={"cost_usd": None})]).spent_usd == 0.002
