"""Invariants of the scoring code, over generated panels (hypothesis)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel.records.schema import CallResult, Scores
from panel.scoring.aggregate import aggregate, score_tool, totals
from panel.scoring.agreement import krippendorff_alpha
from panel.scoring.trust import head_to_head
from tests.support.calls import failed, h2h, ok
from tests.support.records import tool

A, B = tool("a"), tool("b")
PERSONAS = ["dx", "biz", "fut"]
PROVIDERS = ["p/1", "p/2", "p/3"]
SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def calls(
    draw: st.DrawFn, kinds: Sequence[str] = ("ok", "failed", "flagged", "recused")
) -> CallResult:
    kind = draw(st.sampled_from(kinds))
    persona = draw(st.sampled_from(PERSONAS))
    slug = draw(st.sampled_from(["a", "b"]))
    provider = draw(st.sampled_from(PROVIDERS))
    extra = {
        "attempts": draw(st.integers(0, 3)),
        "prompt_tokens": draw(st.integers(0, 900)),
        "completion_tokens": draw(st.integers(0, 200)),
        "cost_usd": draw(st.none() | st.sampled_from([0.0, 0.000125, 0.0031, 0.5])),
        "cached": draw(st.booleans()),
    }
    if kind == "failed":
        return failed(persona, slug, provider, **extra)
    verdict = draw(st.sampled_from(["ship", "skip"]))
    confidence = draw(st.none() | st.integers(1, 5))
    if kind == "flagged":
        extra["flags"] = ["card-text-echo"]
    if kind == "recused":
        extra.update(conflict=True, recused=True)
    return ok(persona, slug, verdict, provider, confidence, **extra)


panels = st.lists(calls(), max_size=18)
valid_only = st.lists(calls(kinds=("ok",)), max_size=12)
set_aside = st.lists(calls(kinds=("failed", "flagged", "recused")), max_size=8)


def order_free(scores: Scores) -> object:
    """Everything in the scores that must not depend on the order of the calls."""
    split = [(s.persona, s.majority, s.ships, s.skips, s.failed) for s in scores.split]
    return scores.tools, split, scores.pick


@SETTINGS
@given(panels, st.randoms(use_true_random=False))
def test_ship_pct_is_a_percentage_and_ignores_call_order(
    panel: list[CallResult], rng: random.Random
) -> None:
    shuffled = list(panel)
    rng.shuffle(shuffled)
    for slug in ("a", "b"):
        score = score_tool(slug, panel)
        if score.valid:
            assert score.ship_pct is not None and 0 <= score.ship_pct <= 100
            assert score.ship_pct == round(100 * score.ships / score.valid, 1)
        else:
            assert score.ship_pct is None
        assert score_tool(slug, shuffled) == score
    for quorum in ("every-persona", "any-verdict"):
        before = aggregate([A, B], PERSONAS, panel, quorum)
        after = aggregate([A, B], PERSONAS, shuffled, quorum)
        assert order_free(after) == order_free(before)


def swap(call: CallResult) -> CallResult:
    return call.model_copy(update={"tool": {"a": "b", "b": "a"}[call.tool]})


@SETTINGS
@given(panels)
def test_swapping_the_two_tools_swaps_the_scores(panel: list[CallResult]) -> None:
    scores = aggregate([A, B], PERSONAS, panel)
    swapped = aggregate([A, B], PERSONAS, [swap(c) for c in panel])
    first, second = scores.tools
    assert swapped.tools == [
        second.model_copy(update={"tool": "a"}),
        first.model_copy(update={"tool": "b"}),
    ]
    assert swapped.pick.tool == {"a": "b", "b": "a", None: None}[scores.pick.tool]
    # Listing the tools the other way round changes nothing but the order.
    reversed_order = aggregate([B, A], PERSONAS, panel)
    assert reversed_order.tools == scores.tools[::-1]
    assert reversed_order.pick.tool == scores.pick.tool
    if scores.pick.tool is not None:
        assert reversed_order.pick == scores.pick


answers = st.sampled_from(["a", "b", None])


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(PERSONAS), st.sampled_from(PROVIDERS), answers, answers)))
def test_head_to_head_does_not_care_which_tool_is_listed_first(
    seats: list[tuple[str, str, str | None, str | None]],
) -> None:
    asked = [
        call
        for persona, provider, forward, backward in seats
        for call in (
            h2h(persona, provider, "a", "b", forward),
            h2h(persona, provider, "b", "a", backward),
        )
    ]
    result, flipped = head_to_head(asked, [A, B]), head_to_head(asked, [B, A])
    if not asked:
        assert result is None and flipped is None
        return
    assert result is not None and flipped is not None
    assert (flipped.pick, flipped.picks, flipped.pairs) == (result.pick, result.picks, result.pairs)
    assert flipped.consistency == result.consistency
    for seat, other in zip(result.seats, flipped.seats, strict=True):
        assert (other.first_order, other.second_order) == (seat.second_order, seat.first_order)
        assert other.pick == seat.pick


units = st.lists(st.lists(st.sampled_from(["ship", "skip"]), min_size=1, max_size=4), max_size=8)


@SETTINGS
@given(units, st.randoms(use_true_random=False))
def test_alpha_is_symmetric_in_raters_units_and_labels(
    values: list[list[str]], rng: random.Random
) -> None:
    alpha = krippendorff_alpha(values)
    shuffled = [rng.sample(unit, len(unit)) for unit in values]
    rng.shuffle(shuffled)
    relabelled = [["skip" if v == "ship" else "ship" for v in unit] for unit in values]
    for other in (krippendorff_alpha(shuffled), krippendorff_alpha(relabelled)):
        if alpha is None:
            assert other is None
        else:
            assert other == pytest.approx(alpha, abs=1e-9)
    if alpha is not None:
        assert -1 <= alpha <= 1


@SETTINGS
@given(valid_only, set_aside)
def test_recused_and_failed_calls_never_change_a_tools_ship_pct(
    valid: list[CallResult], aside: list[CallResult]
) -> None:
    for slug in ("a", "b"):
        clean, mixed = score_tool(slug, valid), score_tool(slug, valid + aside)
        assert (mixed.ship_pct, mixed.ships, mixed.skips, mixed.valid) == (
            clean.ship_pct,
            clean.ships,
            clean.skips,
            clean.valid,
        )
        assert mixed.mean_confidence == clean.mean_confidence
    before = aggregate([A, B], PERSONAS, valid, "any-verdict")
    after = aggregate([A, B], PERSONAS, aside + valid, "any-verdict")
    assert [s.majority for s in after.split] == [s.majority for s in before.split]
    assert after.pick == before.pick


@SETTINGS
@given(panels, panels)
def test_a_records_totals_are_the_sums_over_its_calls(
    one: list[CallResult], two: list[CallResult]
) -> None:
    count = totals(one + two)
    assert count.calls == len(one + two)
    assert count.valid == sum(c.ok for c in one + two)
    assert count.failed == sum(c.status == "failed" or bool(c.flags) for c in one + two)
    assert count.valid + count.failed + sum(c.recused and not c.flags for c in one + two) == (
        count.calls
    )
    assert count.cached == sum(c.cached for c in one + two)
    assert count.attempts == sum(c.attempts for c in one + two)
    assert count.prompt_tokens == sum(c.prompt_tokens for c in one + two)
    assert count.completion_tokens == sum(c.completion_tokens for c in one + two)
    a, b = totals(one), totals(two)
    assert (count.calls, count.valid, count.failed, count.cached, count.attempts) == (
        a.calls + b.calls,
        a.valid + b.valid,
        a.failed + b.failed,
        a.cached + b.cached,
        a.attempts + b.attempts,
    )
    if a.cost_usd is None or b.cost_usd is None:
        assert count.cost_usd is None
    else:
        assert count.cost_usd == pytest.approx(a.cost_usd + b.cost_usd, abs=2e-6)
        assert count.cost_usd >= 0
