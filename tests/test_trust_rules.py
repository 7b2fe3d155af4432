"""How solid is this verdict? The trust rules as README states them (panel/scoring/trust.py,
panel/pipeline/headtohead.py), with hand-worked examples at the boundaries."""

from __future__ import annotations

import pydantic
import pytest

from panel.pipeline.headtohead import HeadToHeadAnswer, schema
from panel.records.schema import CallResult
from panel.scoring import trust as trust_module
from panel.scoring.trust import (
    head_to_head,
    mark_conflicts,
    persona_agreement,
    same_vendor,
    trust,
    vendor_key,
)
from tests.support.calls import failed, h2h, ok
from tests.support.records import tool

A, B = tool("alpha-tool", vendor="Alpha Inc"), tool("beta-tool", vendor="Beta Labs")
FIRST, SECOND = "alpha-tool", "beta-tool"


# Conflicts of interest: a seat whose model vendor made a tool under review.


def test_vendor_names_fold_to_one_word() -> None:
    assert vendor_key("Hugging Face, Inc.") == "huggingface"
    assert same_vendor("HuggingFace", "Hugging Face")


def test_a_model_vendor_matches_its_parent_company_and_back() -> None:
    assert same_vendor("Google DeepMind", "Google")
    assert same_vendor("Google", "Google DeepMind")
    assert not same_vendor("Google", "Mistral AI")


def test_unknown_vendors_conflict_with_nothing() -> None:
    x = tool("x-tool", vendor="X")
    calls = [ok("dx", "x-tool", "ship", "nobody/m"), ok("dx", "ghost", "ship", "x/m")]
    marked = mark_conflicts(calls, [x, B], {"x/m": "X"}, "recuse")
    assert [(c.conflict, c.recused) for c in marked] == [(False, False), (False, False)]


def test_conflicted_seats_are_recused_or_only_flagged() -> None:
    calls = [
        ok("dx", FIRST, "ship", "alpha/m"),
        ok("dx", SECOND, "ship", "alpha/m"),
        h2h("dx", "alpha/m", FIRST, SECOND, FIRST),
        h2h("dx", "other/m", FIRST, SECOND, FIRST),
    ]
    vendors = {"alpha/m": "Alpha", "other/m": "Other"}
    recused = mark_conflicts(calls, [A, B], vendors, "recuse")
    assert [(c.conflict, c.recused) for c in recused] == [
        (True, True),
        (False, False),
        (True, True),  # a head-to-head conflicts when either tool shares the vendor
        (False, False),
    ]
    flagged = mark_conflicts(calls, [A, B], vendors, "flag")
    assert [(c.conflict, c.recused) for c in flagged] == [
        (True, False),
        (False, False),
        (True, False),
        (False, False),
    ]


# Head-to-head in both orders: a seat's pick counts only when both orders name the same tool.


def both(
    persona: str, provider: str, forward: str | None, backward: str | None
) -> list[CallResult]:
    return [
        h2h(persona, provider, FIRST, SECOND, forward),
        h2h(persona, provider, SECOND, FIRST, backward),
    ]


def test_the_second_tool_wins_with_more_consistent_picks() -> None:
    calls = [
        *both("dx", "p/1", SECOND, SECOND),
        *both("biz", "p/1", SECOND, SECOND),
        *both("fut", "p/1", FIRST, FIRST),
        *both("ops", "p/1", FIRST, SECOND),  # always the card shown first: no pick
    ]
    result = head_to_head(calls, [A, B])
    assert result is not None
    assert (result.pick, result.picks) == (SECOND, {FIRST: 1, SECOND: 2})
    seat = next(s for s in result.seats if s.persona == "ops")
    assert (seat.first_order, seat.second_order, seat.pick, seat.consistent) == (
        FIRST,
        SECOND,
        None,
        False,
    )
    # Order consistency: 3 of 4 seats picked the same tool both times.
    assert (result.pairs, result.consistent, result.consistency) == (4, 3, 0.75)


def test_order_consistency_of_one_in_three() -> None:
    calls = [
        *both("dx", "p/1", FIRST, FIRST),
        *both("biz", "p/1", FIRST, SECOND),
        *both("fut", "p/1", SECOND, FIRST),
    ]
    result = head_to_head(calls, [A, B])
    assert result is not None
    assert (result.consistency, result.pick) == (0.3333, FIRST)


def test_recused_seats_are_shown_but_not_counted() -> None:
    calls = [
        *both("dx", "p/1", FIRST, FIRST),
        *(
            c.model_copy(update={"conflict": True, "recused": True})
            for c in both("dx", "p/2", SECOND, SECOND)
        ),
        *(
            c.model_copy(update={"conflict": True, "recused": True})
            for c in both("biz", "p/2", SECOND, SECOND)
        ),
    ]
    result = head_to_head(calls, [A, B])
    assert result is not None
    seats = {(s.persona, s.provider): s for s in result.seats}
    assert seats[("dx", "p/2")].recused and seats[("dx", "p/2")].conflict
    assert seats[("dx", "p/2")].pick == SECOND
    assert not seats[("dx", "p/1")].recused
    assert (result.pick, result.picks, result.pairs) == (FIRST, {FIRST: 1, SECOND: 0}, 1)


def test_flagged_or_malformed_answers_are_no_pick() -> None:
    flagged = h2h("dx", "p/1", FIRST, SECOND, FIRST, flags=["canary-leak"])
    listed = h2h("dx", "p/1", SECOND, FIRST, FIRST).model_copy(update={"fields": {"pick": [FIRST]}})
    result = head_to_head([flagged, listed], [A, B])
    assert result is not None
    (seat,) = result.seats
    assert (seat.first_order, seat.second_order, seat.consistent) == (None, None, None)
    assert (result.pairs, result.pick, result.consistency) == (0, None, None)


# Agreement per persona, and "models agree strongly / mostly agree / often disagree".


def test_persona_agreement_counts_only_that_persona_s_valid_verdicts() -> None:
    # dx: alpha-tool [ship, ship, skip], beta-tool [skip, skip]; other personas, head-to-head
    # calls and p/4's recused verdict are left out. Coincidences: ship-ship 1, ship-skip 1,
    # skip-ship 1, skip-skip 2; n = 5, n_ship = 2, n_skip = 3.
    # alpha = 1 - (n - 1) * D_o / D_e = 1 - 4 * 2 / (2 * 3 * 2) = 1/3.
    # Pairwise: alpha-tool 1 of 3 pairs agree, beta-tool 1 of 1: 2 of 4.
    calls = [
        ok("dx", FIRST, "ship", "p/1"),
        ok("dx", FIRST, "ship", "p/2"),
        ok("dx", FIRST, "skip", "p/3"),
        ok("dx", SECOND, "skip", "p/1"),
        ok("dx", SECOND, "skip", "p/2"),
        ok("dx", SECOND, "ship", "p/4", recused=True),
        ok("biz", SECOND, "ship", "p/3"),
        ok("biz", FIRST, "skip", "p/1"),
        *both("dx", "p/1", FIRST, FIRST),
    ]
    result = persona_agreement(calls, "dx")
    assert (result.alpha, result.pairwise) == (0.3333, 0.5)
    assert (result.providers, result.units, result.ratings) == (4, 2, 5)
    # Pairwise to four places: one tool, [ship, ship, skip], 1 of 3 pairs agree.
    assert persona_agreement(calls[:3], "dx").pairwise == 0.3333


def strength(units: list[tuple[int, int]]) -> str:
    """The agreement words for units of (ships, skips), one persona per unit, p/1.. in turn."""
    calls = []
    personas = []
    for i, (ships, skips) in enumerate(units):
        persona = f"r{i}"
        personas.append(persona)
        verdicts = ["ship"] * ships + ["skip"] * skips
        calls += [ok(persona, FIRST, v, f"p/{j}") for j, v in enumerate(verdicts)]
    return trust(calls, [A, B], personas, [], "recuse").summary.split("; ")[-1]


# Found by search over small panels; each alpha is worked by hand in its comment.
EXACTLY_08 = [(2, 0), (2, 0), (3, 0), (0, 3), (0, 3), (0, 3), (2, 1)]  # 1 - 18*2/180
ABOUT_0802 = [(2, 0), (3, 0), (3, 0), (3, 0), (0, 3), (0, 3), (1, 2)]  # 1 - 19*2/192
EXACTLY_07 = [(2, 0), (2, 0), (3, 0), (0, 3), (1, 2)]  # n=13, n_ship=8: 1 - 12*2/80
ABOUT_0686 = [(3, 0), (3, 0), (0, 3), (1, 2)]  # n=12, n_ship=7: 1 - 11*2/70 = 0.6857
EXACTLY_06 = [(3, 0), (0, 3), (2, 1)]  # n=9, n_ship=5: 1 - 8*2/40


@pytest.mark.parametrize(
    ("units", "words"),
    [
        ([(2, 0), (0, 2)], "models agree on every verdict."),
        (EXACTLY_08, "models agree strongly."),
        (ABOUT_0802, "models agree strongly."),
        (EXACTLY_07, "models mostly agree."),
        (ABOUT_0686, "models mostly agree."),
        (EXACTLY_06, "models often disagree."),
        ([(2, 0), (1, 2)], "models often disagree."),  # alpha = 1/3
        ([(1, 1)], "models disagree as often as chance."),  # alpha = 0 exactly
        ([(1, 1), (1, 1)], "models disagree as often as chance."),  # alpha = -0.5
    ],
)
def test_agreement_words_at_the_thresholds(units: list[tuple[int, int]], words: str) -> None:
    assert strength(units) == words


def test_the_moderate_threshold_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    # No small panel hits 0.667 exactly; move the threshold onto an alpha one does hit (0.7).
    monkeypatch.setattr(trust_module, "MODERATE", 0.7)
    assert strength(EXACTLY_07) == "models mostly agree."


def test_agreement_is_per_persona_and_tool() -> None:
    # Each (persona, tool) unit is unanimous, though the tools differ: no verdict differs.
    calls = [
        ok("dx", t, v, p) for t, v in ((FIRST, "ship"), (SECOND, "skip")) for p in ("p/1", "p/2")
    ]
    assert trust(calls, [A, B], ["dx"], [], "recuse").summary.endswith(
        "models agree on every verdict."
    )


def test_one_failed_call_among_valid_ones_is_not_no_valid_verdicts() -> None:
    calls = [ok("dx", FIRST, "ship", "p/1"), ok("dx", FIRST, "ship", "p/2"), failed("dx", SECOND)]
    assert trust(calls, [A, B], ["dx"], [], "recuse").summary.endswith(
        "models agree on every verdict."
    )
    only_failed = [failed("dx", FIRST, "p/1"), failed("dx", FIRST, "p/2")]
    assert trust(only_failed, [A, B], ["dx"], [], "recuse").summary.endswith(
        "no valid verdicts yet."
    )


def test_recused_verdicts_are_left_out_of_agreement() -> None:
    calls = [
        ok("dx", FIRST, "ship", "p/1"),
        ok("dx", FIRST, "skip", "p/2", recused=True),
        ok("dx", SECOND, "skip", "p/1"),
        ok("dx", SECOND, "skip", "p/2"),
    ]
    assert trust(calls, [A, B], ["dx"], [], "recuse").summary.endswith(
        "models agree on every verdict."
    )


def test_too_few_valid_verdicts_to_compare() -> None:
    calls = [ok("dx", FIRST, "ship", "p/1"), failed("dx", FIRST, "p/2")]
    assert trust(calls, [A, B], ["dx"], [], "recuse").summary.endswith(
        "too few valid verdicts to compare models."
    )


def test_no_reviewers_means_agreement_cannot_be_measured() -> None:
    calls = [ok("dx", FIRST, "ship", "p/1"), ok("dx", FIRST, "ship", "p/2")]
    assert trust(calls, [A, B], [], [], "recuse").summary == (
        "0 of 0 reviewers ship Alpha Tool; 0 of 0 reviewers ship Beta Tool; "
        "one model per reviewer, so model agreement can't be measured."
    )


def test_summary_counts_conflicted_seats() -> None:
    one = [ok("dx", FIRST, "ship", "alpha/m", conflict=True), ok("dx", SECOND, "ship", "p/2")]
    result = trust(one, [A, B], ["dx"], [], "flag")
    assert result.summary == (
        "0 of 1 reviewers ship Alpha Tool; 0 of 1 reviewers ship Beta Tool; "
        "too few valid verdicts to compare models. Flagged for a conflict of interest, "
        "still counted: 1 verdict (alpha/m on Alpha Tool)."
    )
    assert (result.recusal, result.conflicts) == ("flag", ["alpha/m reviewing alpha-tool"])
    two = [*one, ok("biz", SECOND, "ship", "beta/m", conflict=True, recused=True)]
    assert trust(two, [A, B], ["dx", "biz"], [], "recuse").summary.endswith(
        "Recused for a conflict of interest: 2 verdicts "
        "(alpha/m on Alpha Tool, beta/m on Beta Tool)."
    )


# The head-to-head answer: reason 10 to 1000 characters, pick first or second, confidence 1 to 5.


def answer(**fields: object) -> HeadToHeadAnswer:
    data: dict[str, object] = {"reason": "r" * 10, "pick": "first", "confidence": 3, **fields}
    return HeadToHeadAnswer.model_validate(data)


@pytest.mark.parametrize(
    "fields",
    [
        {"reason": "r" * 10},
        {"reason": "r" * 1000},
        {"confidence": 1},
        {"confidence": 5},
        {"pick": "second"},
    ],
)
def test_head_to_head_limits_accept_their_edges(fields: dict[str, object]) -> None:
    assert answer(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"reason": "r" * 9},
        {"reason": "r" * 1001},
        {"confidence": 0},
        {"confidence": 6},
        {"pick": "third"},
        {"winner": "first"},
    ],
)
def test_head_to_head_limits_reject_past_their_edges(fields: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        answer(**fields)


def test_head_to_head_schema_states_the_limits() -> None:
    properties = schema()["properties"]
    assert (properties["reason"]["minLength"], properties["reason"]["maxLength"]) == (10, 1000)
    assert (properties["confidence"]["minimum"], properties["confidence"]["maximum"]) == (1, 5)
    assert properties["pick"]["enum"] == ["first", "second"]
    assert schema()["additionalProperties"] is False
    assert list(properties) == ["reason", "pick", "confidence"]  # the reason comes first
