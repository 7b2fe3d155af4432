"""The deterministic grounding check (issue 26, item 5): hand-worked cases for each rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel.evidence.facts import FactKind, extract
from panel.evidence.grounding import Grounding, Outcome, check
from panel.evidence.pack import EvidencePack, EvidenceSource, SourceKind

FETCHED = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PRICING = (  # one plan a line, as extracted from a pricing page
    "Plans.\nFree: 50 requests a day.\nPro: $20 per user per month, billed annually, or $24 "
    "month to month.\nTeam: $40/month per seat.\nEnterprise: contact sales."
)
CHANGELOG = (
    "Release 2.1.0 - 2026-12-03. Adds streaming tool calls and a 200K-token context window. "
    "Release 2.0.4 - November 18, 2026. Fixes 12 bugs. Latency down 35 percent."
)
REPO = "stars: 1512\nforks: 88\nlicense: Apache-2.0\nlatest release: v2.1.0 (2026-12-03)"


def _pack(*texts: str) -> EvidencePack:
    kinds = (SourceKind.PRICING, SourceKind.CHANGELOG, SourceKind.REPOSITORY)
    return EvidencePack(
        "quill",
        tuple(
            EvidenceSource(
                f"S{i}", f"https://quill.example/{i}", kinds[i - 1], "t", FETCHED, "0" * 64, text
            )
            for i, text in enumerate(texts, 1)
        ),
    )


PACK = _pack(PRICING, CHANGELOG, REPO)


def _outcomes(result: Grounding) -> list[tuple[str, Outcome]]:
    return [(c.text, c.outcome) for c in result.claims]


@pytest.mark.parametrize(
    "quote",
    [
        "Pro is $20/month [S1], which undercuts the incumbents.",
        "Pro is $20 per month [S1], which undercuts the incumbents.",
        "Pro is USD 20 monthly [S1], which undercuts the incumbents.",
        "Pro is 20 dollars a month [S1], which undercuts the incumbents.",
    ],
)
def test_a_price_written_any_way_is_found(quote: str) -> None:
    result = check(quote, ["S1"], PACK)
    assert _outcomes(result) == [(result.claims[0].text, Outcome.SUPPORTED)]
    assert result.claims[0].source == "S1"
    assert result.publishable


def test_a_price_the_pricing_page_does_not_state_is_contradicted() -> None:
    result = check("At $25/month [S1] it is priced like Copilot.", ["S1"], PACK)
    assert _outcomes(result) == [("$25/month", Outcome.CONTRADICTED)]
    assert not result.publishable
    assert "$25/month" in result.reason and "S1 says" in result.reason


def test_the_period_matters_a_yearly_price_is_not_a_monthly_one() -> None:
    result = check("Pro costs $20 a year [S1].", [], PACK)
    assert _outcomes(result) == [("$20 a year", Outcome.CONTRADICTED)]


def test_a_number_in_a_sentence_with_no_citation_is_unsupported() -> None:
    result = check("Pro is $20/month [S1]. It already has 1,512 stars.", ["S1"], PACK)
    assert _outcomes(result) == [
        ("$20/month", Outcome.SUPPORTED),
        ("1,512", Outcome.UNSUPPORTED),
    ]
    assert not result.publishable
    assert "no citation" in result.reason


def test_a_fact_must_be_in_a_source_its_own_sentence_cites() -> None:
    result = check("It has 1,512 stars [S1].", ["S1"], PACK)  # it is in S3, not S1
    assert _outcomes(result) == [("1,512", Outcome.UNSUPPORTED)]


def test_a_fabricated_source_id_withholds_the_quote() -> None:
    result = check("Pro is $20/month [S1] and it tops the leaderboard [S9].", ["S1", "S9"], PACK)
    assert result.unknown == ("S9",)
    assert ("[S9]", Outcome.UNKNOWN_SOURCE) in _outcomes(result)
    assert not result.publishable
    assert "S9" in result.reason


def test_an_unknown_id_only_in_the_answers_list_still_withholds() -> None:
    result = check("Pro is $20/month [S1].", ["S1", "S4"], PACK)
    assert result.unknown == ("S4",) and not result.publishable


def test_a_fact_citing_only_an_unknown_source_is_unknown_source() -> None:
    result = check("Pro is $20/month [S7].", ["S7"], PACK)
    assert ("$20/month", Outcome.UNKNOWN_SOURCE) in _outcomes(result)


@pytest.mark.parametrize(
    ("quote", "text"),
    [
        ("The repo sits at 1.5k stars [S3].", "1.5k"),
        ("The repo sits at about 1,500 stars [S3].", "1,500"),
        ("The repo has over 1,000 stars [S3].", "1,000"),
        ("The repo has 1512 stars [S3].", "1512"),
    ],
)
def test_rounded_and_bounded_numbers_match_the_source(quote: str, text: str) -> None:
    result = check(quote, [], PACK)
    assert _outcomes(result) == [(text, Outcome.SUPPORTED)]


def test_a_rounded_number_must_round_to_the_source() -> None:
    result = check("The repo sits at 3k stars [S3].", [], PACK)  # 1512 rounds to 2k
    assert _outcomes(result) == [("3k", Outcome.CONTRADICTED)]
    result = check("The repo has over 5,000 stars [S3].", [], PACK)
    assert _outcomes(result) == [("5,000", Outcome.CONTRADICTED)]
    assert "S3 says '1512'" in result.reason
    result = check("It has over 5,000 forks [S1].", [], PACK)  # S1 counts no forks
    assert _outcomes(result) == [("5,000", Outcome.UNSUPPORTED)]


def test_versions_dates_and_percentages_allow_for_format() -> None:
    quote = "v2.1 shipped on Dec 3, 2026 [S2], and latency fell 35% in 2.0.4 [S2]."
    result = check(quote, ["S2"], PACK)
    assert [o for _, o in _outcomes(result)] == [Outcome.SUPPORTED] * 4
    assert [c.kind for c in result.claims] == ["version", "date", "percentage", "version"]


def test_a_wrong_date_or_version_is_contradicted() -> None:
    result = check("Version 2.2 landed on December 4, 2026 [S2].", [], PACK)
    assert _outcomes(result) == [
        ("Version 2.2", Outcome.CONTRADICTED),
        ("December 4, 2026", Outcome.CONTRADICTED),
    ]


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    result = check("Pro is $20/month. [S1] It is a fair price.", [], PACK)
    assert _outcomes(result) == [("$20/month", Outcome.SUPPORTED)]
    assert result.cited == ("S1",)


def test_prose_without_facts_is_publishable_and_says_so() -> None:
    quote = (
        "My top 3 concerns are lock-in, latency and support. The first ten minutes are smooth, "
        "and two reasons stand out. It is a tool for GPT-4o users on H100 clusters."
    )
    result = check(quote, [], PACK)
    assert result.claims == ()
    assert result.publishable and "no prices" in result.reason


def test_a_number_from_the_personas_own_question_is_not_a_claim() -> None:
    quote = "Over the next 12 months, the bet is that agents need memory."
    assert not check(quote, [], PACK).publishable
    asked = ["Where will it be in the next 12 months?"]
    assert check(quote, [], PACK, questions=asked).publishable
    # Only the same fact is exempt: another number in the same words is still checked.
    assert not check("Within 18 months it will be standard.", [], PACK, questions=asked).publishable


def test_an_empty_pack_leaves_every_fact_unsupported_or_unknown() -> None:
    empty = EvidencePack("quill")
    result = check("It costs $20/month [S1]. It has 1,512 stars.", ["S1"], empty)
    assert {o for _, o in _outcomes(result)} == {Outcome.UNKNOWN_SOURCE, Outcome.UNSUPPORTED}
    assert result.unknown == ("S1",) and not result.publishable


def test_the_json_form_is_stable_and_round_trips() -> None:
    result = check("Pro is $25/month [S1] and has 1,512 stars [S3].", ["S1", "S3"], PACK)
    data = result.to_json()
    assert list(data) == ["rules", "publishable", "reason", "cited", "unknown", "claims"]
    assert list(data["claims"][0]) == [  # type: ignore[index]
        "text",
        "start",
        "end",
        "kind",
        "cited",
        "outcome",
        "source",
        "reason",
    ]
    assert Grounding.model_validate_json(json.dumps(data)) == result
    spans = [(c.start, c.end, c.text) for c in result.claims]
    quote = "Pro is $25/month [S1] and has 1,512 stars [S3]."
    assert all(quote[s:e] == text for s, e, text in spans)


def test_the_extractor_skips_names_ordinals_and_idioms() -> None:
    facts = extract("GPT-4o, H100, S3 and M4 chips, the 1st run, 24/7 support, 3D views.")
    assert facts == []
    kinds = [f.kind for f in extract("70B parameters, 10x faster, 50+ integrations, in 2027")]
    assert kinds == [FactKind.NUMBER, FactKind.NUMBER, FactKind.NUMBER, FactKind.DATE]


def test_a_date_after_the_evidence_in_an_uncited_sentence_is_a_forecast() -> None:
    quote = "By 2028 local inference is the default, and by March 2027 rivals will copy it."
    assert check(quote, [], PACK).publishable  # the pack was fetched 2026-12-03
    assert not check("It launched in 2026 and by 2028 it wins.", [], PACK).publishable
    assert not check("By 2028 [S2] it is the default.", [], PACK).publishable  # cited: checked
    assert not check(quote, [], EvidencePack("quill")).publishable  # no evidence, no date


def test_a_value_given_to_the_wrong_name_is_contradicted() -> None:
    # $24 is on the page, but as Pro's month-to-month price; Team is $40.
    result = check("The Team plan is $24 a month [S1] with SSO.", [], PACK)
    assert _outcomes(result) == [("$24 a month", Outcome.CONTRADICTED)]
    assert "gives Team '$40/month" in result.reason
    # Given to the right name, or to no name, the same value is supported.
    assert check("Pro is $24 a month [S1] month to month.", [], PACK).publishable
    assert check("Month to month it is $24 a month [S1].", [], PACK).publishable
    # A name the source never mentions binds nothing.
    assert check("Like Copilot, Pro is $24 a month [S1].", [], PACK).publishable


def test_a_unit_before_the_full_stop_does_not_join_two_sentences() -> None:
    # "ms." is not an abbreviation here: the second sentence cites nothing.
    result = check("Reviews take 35 ms [S2]. Fallbacks retry within 12 seconds.", [], PACK)
    assert _outcomes(result)[-1] == ("12", Outcome.UNSUPPORTED)
    assert result.claims[-1].cited == ()


def test_an_echo_of_the_question_may_run_on_into_other_words() -> None:
    asked = ["What happens in the first 10 minutes, and what is the moment of truth?"]
    quote = "In the first 10 minutes you point it at a login form and watch."
    assert check(quote, [], PACK, questions=asked).publishable


PIECES = st.sampled_from(
    [" ", ". ", ", ", "; ", "\n", "[S1]", "[S2, S9]", "[s3]", "$", "€", "20", "1,500", "1.5k",
     "0.04", "v2.1", "3.2.0", "50%", " percent", "/month", " per ", "a ", "month", "Dec 3, 2026",
     "2026-12-03", "11/25/2026", "over ", "about ", "~", "+", "x", "GPT-4o", "Pro", "Team",
     "stars", "minutes", "2028", "In ", "by ", "million", "two", "e.g.", "ms", "3 reasons"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=40).map("".join)))
def test_any_quote_gives_a_grounding_whose_spans_are_its_own_text(quote: str) -> None:
    result = check(quote, ["S1"], PACK, questions=["What about the next 12 months?"])
    for claim in result.claims:
        assert quote[claim.start : claim.end] == claim.text
        assert claim.outcome is Outcome.SUPPORTED or not result.publishable
    assert Grounding.model_validate_json(json.dumps(result.to_json())) == result


@settings(max_examples=100, deadline=None)
@given(st.lists(PIECES, max_size=60).map("".join))
def test_any_source_text_can_be_scanned(text: str) -> None:
    for fact in extract(text):
        assert text[fact.start : fact.end] == fact.text


EQUIVALENT = [
    ["$20/month", "$20 per month", "USD 20 monthly", "20 dollars a month", "$20 a month"],
    ["1.5k downloads", "1,500 downloads", "1500 downloads"],
    ["50%", "50 percent", "50 per cent"],
    ["v2.1", "version 2.1", "2.1.0"],
    ["Dec 3, 2026", "2026-12-03", "3 December 2026", "December 3rd, 2026"],
]


@pytest.mark.parametrize(
    ("written", "source"),
    [(a, b) for group in EQUIVALENT for a in group for b in group if a != b],
)
def test_each_format_of_a_fact_supports_every_other(written: str, source: str) -> None:
    pack = _pack(f"The page says: {source}.")
    result = check(f"The figure is {written} [S1], as stated.", [], pack)
    assert [o for _, o in _outcomes(result)] == [Outcome.SUPPORTED], result.reason
