"""The numbers on the page, rule by rule, as README states them (panel/scoring/aggregate.py).

Each test works an example by hand at a boundary: 1 of 3, ties, one provider, one failed
call among valid ones, unknown prices, missing confidence. `make mutation` checks that
every rule here fails its test when reversed.
"""

from __future__ import annotations

import pytest

from panel.records.schema import ToolScore
from panel.scoring.aggregate import (
    PUBLISH_RULE,
    aggregate,
    persona_split,
    pick,
    published_provider,
    score_tool,
    total_cost,
    totals,
)
from panel.scoring.agreement import krippendorff_alpha
from panel.scoring.rules import Quorum, tool_rule
from tests.support.calls import failed, ok
from tests.support.records import tool

A, B = tool("a"), tool("b")


def score(slug: str, ship_pct: float | None, confidence: float | None = 3.0) -> ToolScore:
    return ToolScore(
        tool=slug,
        ship_pct=ship_pct,
        ships=0,
        skips=0,
        valid=0 if ship_pct is None else 1,
        failed=0,
        mean_confidence=confidence,
        rule=tool_rule(Quorum.EVERY_PERSONA),
    )


# Panel ship %: of a tool's valid, non-recused verdicts, the share that say ship.


def test_one_of_three_is_33_3_percent_and_two_of_three_66_7() -> None:
    calls = [
        ok("dx", "a", "ship", "p/1", 1),
        ok("dx", "a", "skip", "p/2", 1),
        ok("dx", "a", "skip", "p/3", 2),
        ok("dx", "b", "ship", "p/1"),
        ok("dx", "b", "ship", "p/2"),
        ok("dx", "b", "skip", "p/3"),
    ]
    a, b = score_tool("a", calls), score_tool("b", calls)
    assert (a.ship_pct, a.ships, a.skips, a.valid) == (33.3, 1, 2, 3)
    assert b.ship_pct == 66.7
    # Mean confidence to two places: (1 + 1 + 2) / 3 = 1.33.
    assert a.mean_confidence == 1.33


def test_failed_flagged_and_recused_calls_are_never_a_ship_or_a_skip() -> None:
    calls = [
        ok("dx", "a", "ship", "p/1"),
        failed("dx", "a", "p/2"),
        ok("dx", "a", "skip", "p/3", flags=["card-text-echo"]),
        ok("dx", "a", "skip", "p/4", recused=True),
    ]
    result = score_tool("a", calls)
    assert (result.ship_pct, result.ships, result.skips, result.valid) == (100.0, 1, 0, 1)
    # The failed call and the flagged answer count as failed; a recused call is neither.
    assert result.failed == 2


def test_missing_confidence_is_left_out_of_the_mean() -> None:
    some = score_tool("a", [ok("dx", "a", "ship", "p/1", 4), ok("dx", "a", "skip", "p/2", None)])
    assert (some.ship_pct, some.mean_confidence) == (50.0, 4.0)
    none = score_tool("a", [ok("dx", "a", "ship", "p/1", None)])
    assert (none.ship_pct, none.mean_confidence) == (100.0, None)


# Quorum: every-persona (the default for a review) or any-verdict.


def test_any_verdict_quorum_needs_one_valid_verdict_for_that_tool() -> None:
    calls = [
        ok("dx", "a", "ship"),
        failed("biz", "a"),
        failed("dx", "b"),
        ok("biz", "b", "ship", recused=True),
    ]
    personas = ["dx", "biz"]
    assert score_tool("a", calls, personas, "any-verdict").quorum_met is True
    assert score_tool("a", calls, personas, "every-persona").quorum_met is False
    # b has no valid verdict of its own: a's verdicts and b's recused one don't count.
    assert score_tool("b", calls, personas, "any-verdict").quorum_met is False


def test_score_tool_defaults_to_any_verdict() -> None:
    assert score_tool("a", [failed("dx", "a")]).quorum_met is False
    assert score_tool("a", [ok("dx", "a", "skip")]).quorum_met is True


def test_aggregate_applies_the_quorum_it_is_given_and_says_which() -> None:
    # biz has no valid verdict for a: every-persona fails a, any-verdict does not.
    calls = [
        ok("dx", "a", "ship"),
        failed("biz", "a"),
        ok("dx", "b", "skip"),
        ok("biz", "b", "skip"),
    ]
    strict = aggregate([A, B], ["dx", "biz"], calls)
    assert strict.quorum == "every-persona"
    assert [s.quorum_met for s in strict.tools] == [False, True]
    assert (strict.pick.tool, strict.pick.reason) == (None, "quorum not met for a")
    loose = aggregate([A, B], ["dx", "biz"], calls, quorum="any-verdict")
    assert loose.quorum == "any-verdict"
    assert [s.quorum_met for s in loose.tools] == [True, True]
    assert loose.pick.tool == "a"
    assert loose.publish_rule == PUBLISH_RULE


# The published quote: highest confidence among verdicts agreeing with the persona majority.


def test_published_quote_comes_from_the_majority_not_the_most_confident() -> None:
    calls = [
        ok("dx", "a", "ship", "p/1", 3),
        ok("dx", "a", "ship", "p/2", 2),
        ok("dx", "a", "skip", "p/3", 5),
    ]
    split = persona_split("dx", ["a"], calls)
    assert split.majority == {"a": "ship"}
    assert split.published == {"a": "p/1"}


def test_published_quote_is_the_most_confident_of_the_majority() -> None:
    calls = [ok("dx", "a", "ship", "p/1", 2), ok("dx", "a", "ship", "p/2", 4)]
    assert published_provider(calls, "ship") == "p/2"


def test_publish_ties_go_to_the_provider_listed_first() -> None:
    calls = [ok("dx", "a", "skip", "p/2", 4), ok("dx", "a", "skip", "p/1", 4)]
    assert published_provider(calls, "skip") == "p/2"
    assert published_provider(calls[::-1], "skip") == "p/1"


def test_without_a_majority_the_most_confident_verdict_is_published() -> None:
    calls = [ok("dx", "a", "ship", "p/1", 2), ok("dx", "a", "skip", "p/2", 5)]
    assert persona_split("dx", ["a"], calls).published == {"a": "p/2"}
    assert published_provider(calls, "tie") == "p/2"


def test_missing_confidence_ranks_below_any_confidence() -> None:
    calls = [ok("dx", "a", "ship", "p/1", None), ok("dx", "a", "ship", "p/2", 1)]
    assert published_provider(calls, "ship") == "p/2"
    unknown = [ok("dx", "a", "ship", "p/1", None), ok("dx", "a", "ship", "p/2", None)]
    assert published_provider(unknown, "ship") == "p/1"


def test_only_valid_verdicts_of_that_persona_and_tool_are_published() -> None:
    calls = [
        ok("dx", "a", "ship", "p/1", 2),
        ok("dx", "a", "ship", "p/2", 5, flags=["canary-leak"]),
        ok("dx", "a", "ship", "p/3", 5, recused=True),
        ok("biz", "a", "ship", "p/4", 5),
        ok("dx", "b", "ship", "p/5", 5),
        failed("dx", "b", "p/6"),
    ]
    split = persona_split("dx", ["a", "b"], calls)
    assert split.published == {"a": "p/1", "b": "p/5"}
    assert published_provider([failed("dx", "a")], "none") is None


# The pick: higher ship %, then more persona majorities of ship, then higher mean confidence.


def test_pick_reasons_state_the_deciding_numbers() -> None:
    by_pct = pick([score("a", 66.7), score("b", 33.3)], [])
    assert (by_pct.tool, by_pct.reason) == ("a", "panel ship %: a 67% vs b 33%")
    later = pick([score("a", 33.3), score("b", 66.7)], [])
    assert (later.tool, later.reason) == ("b", "panel ship %: b 67% vs a 33%")
    by_conf = pick([score("a", 50.0, 3.0), score("b", 50.0, 4.5)], [])
    assert (by_conf.tool, by_conf.reason) == ("b", "mean confidence: b 4.50 vs a 3.00")
    tied = pick([score("a", 50.0), score("b", 50.0)], [])
    assert (tied.tool, tied.reason) == (
        None,
        "tied on ship %, persona majorities and confidence",
    )


def test_pick_counts_persona_majorities_of_ship() -> None:
    # Both 50%: dx ships b by majority; biz is split on b; a gets no ship majority.
    calls = [
        ok("dx", "a", "ship", "p/1"),
        ok("dx", "a", "skip", "p/2"),
        ok("biz", "a", "ship", "p/1"),
        ok("biz", "a", "skip", "p/2"),
        ok("dx", "b", "ship", "p/1"),
        ok("dx", "b", "ship", "p/2"),
        ok("biz", "b", "skip", "p/1"),
        ok("biz", "b", "skip", "p/2"),
    ]
    scores = aggregate([A, B], ["dx", "biz"], calls)
    assert [s.ship_pct for s in scores.tools] == [50.0, 50.0]
    assert scores.pick.tool == "b"
    assert scores.pick.reason == "persona majorities of ship: b 1 vs a 0"


def test_missing_mean_confidence_ranks_below_any_confidence() -> None:
    result = pick([score("a", 50.0, None), score("b", 50.0, 1.0)], [])
    assert (result.tool, result.reason) == ("b", "mean confidence: b 1.00 vs a 0.00")


def test_a_tool_missing_quorum_cannot_be_picked_even_with_verdicts() -> None:
    short = score("a", 100.0).model_copy(update={"quorum_met": False})
    assert pick([short, score("b", 0.0)], []).tool is None
    assert pick([short, score("b", 0.0)], []).reason == "quorum not met for a"
    both = pick([short, score("b", None)], [])
    assert (both.tool, both.reason) == (None, "quorum not met for a, b")


# Agreement in the record: Krippendorff's alpha across providers, None with fewer than two.


def test_record_agreement_hand_computed_for_two_providers() -> None:
    # Units (persona, tool): dx/a [ship, ship], dx/b [skip, skip], biz/a [ship, skip]; biz/b
    # has one valid verdict (p/2's is recused), so it is not pairable.
    # Coincidences: ship-ship 2, skip-skip 2, ship-skip 1, skip-ship 1; n = 6, n_ship = 3,
    # n_skip = 3. alpha = 1 - (n - 1) * D_o / D_e = 1 - 5 * 2 / (3 * 3 * 2) = 4/9.
    calls = [
        ok("dx", "a", "ship", "p/1"),
        ok("dx", "a", "ship", "p/2"),
        ok("dx", "b", "skip", "p/1"),
        ok("dx", "b", "skip", "p/2"),
        ok("biz", "a", "ship", "p/1"),
        ok("biz", "a", "skip", "p/2"),
        ok("biz", "b", "ship", "p/1"),
        ok("biz", "b", "skip", "p/2", recused=True),
    ]
    result = aggregate([A, B], ["dx", "biz"], calls).agreement
    assert result is not None
    assert (result.value, result.units, result.providers) == (0.4444, 3, 2)
    assert result.statistic == "krippendorff_alpha_nominal"


def test_record_agreement_is_none_with_one_provider() -> None:
    calls = [ok("dx", "a", "ship"), ok("dx", "b", "skip"), failed("biz", "a")]
    assert aggregate([A, B], ["dx", "biz"], calls).agreement is None


def test_record_agreement_with_no_variation_has_no_value() -> None:
    calls = [ok("dx", t, "ship", p) for t in ("a", "b") for p in ("p/1", "p/2")]
    result = aggregate([A, B], ["dx"], calls).agreement
    assert result is not None
    assert (result.value, result.units, result.providers) == (None, 2, 2)


def test_alpha_is_zero_for_one_disagreeing_pair() -> None:
    # n = 2, D_o = 2, D_e = 1 * 1 * 2: alpha = 1 - 1 * 2 / 2 = 0, not undefined.
    assert krippendorff_alpha([["ship", "skip"]]) == 0.0
    assert krippendorff_alpha([]) is None


# Totals: a record's totals are the sums over its calls.


def test_totals_sum_the_calls() -> None:
    calls = [
        ok("dx", "a", "ship", "p/1", cost_usd=0.1, cached=True, attempts=2, prompt_tokens=7),
        ok("dx", "b", "skip", "p/1", cost_usd=0.0234567, completion_tokens=5),
        failed("dx", "a", "p/2", cost_usd=0.0, cached=True, attempts=3),
        ok("dx", "b", "ship", "p/2", cost_usd=0.0, recused=True),
        ok("dx", "a", "ship", "p/3", cost_usd=0.0, flags=["repetitive-quote"]),
    ]
    count = totals(calls)
    assert (count.calls, count.valid, count.failed, count.cached) == (5, 2, 2, 2)
    assert (count.attempts, count.prompt_tokens, count.completion_tokens) == (8, 7, 5)
    # USD to six places: 0.1 + 0.0234567 = 0.1234567 -> 0.123457.
    assert count.cost_usd == 0.123457


def test_an_unknown_price_makes_the_total_cost_unknown() -> None:
    calls = [ok("dx", "a", "ship", cost_usd=0.5), ok("dx", "b", "ship", cost_usd=None)]
    assert total_cost(calls) is None
    assert totals(calls).cost_usd is None
    assert total_cost([]) == 0.0


@pytest.mark.parametrize("rule", ["every-persona", "any-verdict"])
def test_no_calls_no_scores(rule: str) -> None:
    scores = aggregate([A, B], ["dx"], [], quorum=rule)
    assert [s.ship_pct for s in scores.tools] == [None, None]
    assert scores.pick.tool is None and scores.agreement is None
