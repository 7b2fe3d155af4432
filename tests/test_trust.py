"""Order consistency, conflict-of-interest recusal and agreement, against hand-worked examples."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.schema import CallResult
from panel.scoring.trust import head_to_head, persona_agreement, same_vendor, trust, vendor_key
from tests.support import scripted
from tests.support.records import tool

runner = CliRunner()
A, B = tool("alpha-tool"), tool("beta-tool")


def h2h(persona: str, provider: str, first: str, pick: str | None) -> CallResult:
    second = "beta-tool" if first == "alpha-tool" else "alpha-tool"
    return CallResult(
        key=f"{persona}{provider}{first}",
        persona=persona,
        tool=f"{first}-vs-{second}",
        provider=provider,
        model="m",
        status="ok" if pick else "failed",
        kind="head_to_head",
        fields={"pick": pick} if pick else {},
    )


def verdict(persona: str, slug: str, provider: str, value: str | None) -> CallResult:
    return CallResult(
        key=f"{persona}{slug}{provider}",
        persona=persona,
        tool=slug,
        provider=provider,
        model="m",
        status="ok" if value else "failed",
        verdict=value,  # type: ignore[arg-type]
        confidence=3 if value else None,
    )


def test_a_pick_counts_only_when_both_orders_agree() -> None:
    calls = [
        # dx/p1: alpha in both orders -> consistent alpha
        h2h("dx", "p1", "alpha-tool", "alpha-tool"),
        h2h("dx", "p1", "beta-tool", "alpha-tool"),
        # dx/p2: always the first card shown -> inconsistent, no pick
        h2h("dx", "p2", "alpha-tool", "alpha-tool"),
        h2h("dx", "p2", "beta-tool", "beta-tool"),
        # biz/p1: beta both times -> consistent beta
        h2h("biz", "p1", "alpha-tool", "beta-tool"),
        h2h("biz", "p1", "beta-tool", "beta-tool"),
        # biz/p2: second order failed -> not a pair at all
        h2h("biz", "p2", "alpha-tool", "alpha-tool"),
        h2h("biz", "p2", "beta-tool", None),
        # fut/p1: alpha both times
        h2h("fut", "p1", "alpha-tool", "alpha-tool"),
        h2h("fut", "p1", "beta-tool", "alpha-tool"),
    ]
    result = head_to_head(calls, [A, B])
    assert result is not None
    seats = {(s.persona, s.provider): s for s in result.seats}
    assert seats[("dx", "p2")].consistent is False and seats[("dx", "p2")].pick is None
    assert seats[("biz", "p2")].consistent is None
    assert (result.pairs, result.consistent) == (4, 3)
    assert result.consistency == 0.75
    assert result.picks == {"alpha-tool": 2, "beta-tool": 1}
    assert result.pick == "alpha-tool"


def test_tied_consistent_picks_and_no_pairs_are_no_pick() -> None:
    tied = [
        h2h("dx", "p1", "alpha-tool", "alpha-tool"),
        h2h("dx", "p1", "beta-tool", "alpha-tool"),
        h2h("biz", "p1", "alpha-tool", "beta-tool"),
        h2h("biz", "p1", "beta-tool", "beta-tool"),
    ]
    result = head_to_head(tied, [A, B])
    assert result is not None and result.pick is None and result.consistency == 1.0
    failed = head_to_head([h2h("dx", "p1", "alpha-tool", None)], [A, B])
    assert failed is not None and failed.pairs == 0 and failed.consistency is None
    assert head_to_head([verdict("dx", "alpha-tool", "p1", "ship")], [A, B]) is None


@pytest.mark.parametrize(
    ("model", "tool_vendor", "match"),
    [
        ("mistral", "Mistral AI", True),
        ("openai", "OpenAI", True),
        ("OpenAI, Inc.", "openai", True),
        ("Hugging Face", "Hugging Face Inc", True),
        ("mistral", "OpenAI", False),
        ("", "Mistral AI", False),
        ("openai", "", False),
        ("meta", "Metaphor Labs", True),  # prefix rule: errs on the side of recusal
    ],
)
def test_vendor_matching(model: str, tool_vendor: str, match: bool) -> None:
    assert same_vendor(model, tool_vendor) is match
    assert vendor_key("Mistral AI") == "mistral"


TWO_PROVIDERS = """
[panel]
providers = ["scripted/own", "scripted/other"]
quorum = "any-verdict"
{extra}

[providers."scripted/own"]
vendor = "alpha-tool Inc"
"""


@pytest.mark.parametrize("mode", ["recuse", "flag"])
def test_a_seat_reviewing_its_own_vendor_is_recused_or_flagged(
    home: Home, scripted_kind: dict[str, scripted.Script], mode: str
) -> None:
    (home.root / "catalog" / "alpha-tool.toml").write_text(
        'slug = "alpha-tool"\nname = "Alpha Tool"\nvendor = "Alpha-Tool Inc."\n'
        'description = "Alpha Tool is an API."\n'
    )
    extra = 'recusal = "flag"' if mode == "flag" else ""
    home.config_file.write_text(TWO_PROVIDERS.format(extra=extra))
    scripted_kind["own"] = scripted.Script(default=scripted.valid(verdict="ship"))
    scripted_kind["other"] = scripted.Script(default=scripted.valid(verdict="skip"))
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    own_alpha = [
        c
        for c in record["calls"]
        if c["provider"] == "scripted/own" and c["kind"] == "verdict" and c["tool"] == "alpha-tool"
    ]
    assert own_alpha and all(c["conflict"] for c in own_alpha)
    assert all(c["recused"] is (mode == "recuse") for c in own_alpha)
    own_beta = [
        c for c in record["calls"] if c["provider"] == "scripted/own" and c["tool"] == "beta-tool"
    ]
    assert not any(c["conflict"] for c in own_beta)
    alpha = next(s for s in record["scores"]["tools"] if s["tool"] == "alpha-tool")
    # recused: only the other seat (skip) counts; flagged: both count
    assert alpha["ship_pct"] == (0.0 if mode == "recuse" else 50.0)
    h2h_seats = record["scores"]["head_to_head"]["seats"]
    assert all(s["conflict"] for s in h2h_seats if s["provider"] == "scripted/own")
    # Issue 16, item 8: the sentence counts the answers set aside, not "1 conflicted seat".
    lead = "Recused" if mode == "recuse" else "Flagged"
    assert record["scores"]["trust"]["summary"].endswith(
        f"{lead} for a conflict of interest{'' if mode == 'recuse' else ', still counted'}: "
        "4 verdicts (scripted/own on Alpha Tool) and 8 head-to-head answers."
    )
    totals = record["totals"]
    assert totals["recused"] == (12 if mode == "recuse" else 0)
    # Issue 25, item 8: verdict calls and head-to-head calls are counted apart.
    summary = (
        "16 verdict calls: 12 valid, 0 failed, 4 recused; "
        "16 head-to-head calls: 8 valid, 0 failed, 8 recused (conflict of interest)"
        if mode == "recuse"
        else "16 verdict calls: 16 valid, 0 failed, 0 recused; "
        "16 head-to-head calls: 16 valid, 0 failed, 0 recused"
    )
    assert summary in result.stderr
    assert totals["valid"] + totals["failed"] + totals["recused"] == totals["calls"]
    assert record["scores"]["trust"]["conflicts"][0] == "scripted/own reviewing alpha-tool"
    shown = runner.invoke(app, ["show", record["id"], "--markdown"])
    assert shown.exit_code == 0


def test_agreement_hand_computed() -> None:
    # dx: alpha [ship, ship, skip], beta [skip, skip]
    calls = [
        verdict("dx", "alpha-tool", "p1", "ship"),
        verdict("dx", "alpha-tool", "p2", "ship"),
        verdict("dx", "alpha-tool", "p3", "skip"),
        verdict("dx", "beta-tool", "p1", "skip"),
        verdict("dx", "beta-tool", "p2", "skip"),
        verdict("dx", "beta-tool", "p3", None),
    ]
    # Coincidences: ship-ship 1, ship-skip 1, skip-ship 1, skip-skip 2; n = 5, n_ship 2,
    # n_skip 3. alpha = 1 - (n - 1) * D_o / D_e = 1 - 4 * 2 / (2 * 3 * 2) = 1/3.
    # Pairwise: alpha-tool 1 of 3 pairs agree, beta-tool 1 of 1: 2 of 4.
    result = persona_agreement(calls, "dx")
    assert result.alpha == pytest.approx(1 / 3, abs=1e-4)
    assert result.pairwise == 0.5
    assert (result.providers, result.units, result.ratings) == (3, 2, 5)


def _summary(calls: list[CallResult]) -> str:
    from panel.scoring.aggregate import aggregate

    split = aggregate([A, B], ["dx", "biz"], calls).split
    return trust(calls, [A, B], ["dx", "biz"], split, "recuse").summary


def test_degenerate_panels_in_words() -> None:
    one = [verdict(p, t, "p1", "ship") for p in ("dx", "biz") for t in ("alpha-tool", "beta-tool")]
    assert _summary(one) == (
        "2 of 2 reviewers ship Alpha Tool; 2 of 2 reviewers ship Beta Tool; "
        "one model per reviewer, so model agreement can't be measured."
    )
    failed = [
        verdict(p, t, v, None)
        for p in ("dx", "biz")
        for t in ("alpha-tool", "beta-tool")
        for v in ("p1", "p2")
    ]
    assert _summary(failed).endswith("0 of 2 reviewers ship Beta Tool; no valid verdicts yet.")
    unanimous = [
        verdict(p, t, v, "ship")
        for p in ("dx", "biz")
        for t in ("alpha-tool", "beta-tool")
        for v in ("p1", "p2")
    ]
    assert _summary(unanimous).endswith("models agree on every verdict.")
    assert persona_agreement(unanimous, "dx").alpha is None  # no variation: undefined
    assert persona_agreement(unanimous, "dx").pairwise == 1.0
    split = [
        verdict(p, t, v, "ship" if v == "p1" else "skip")
        for p in ("dx", "biz")
        for t in ("alpha-tool", "beta-tool")
        for v in ("p1", "p2")
    ]
    assert _summary(split).endswith("models disagree as often as chance.")
    strong = (
        unanimous
        + [verdict("dx", "alpha-tool", "p3", "skip")]
        + [verdict(p, t, "p3", "skip") for p in ("dx", "biz") for t in ("beta-tool",)]
    )
    assert "models" in _summary(strong)


def test_head_to_head_runs_in_both_orders_through_the_cli(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    home.config_file.write_text('[panel]\nproviders = ["scripted/m"]\n')
    # A model with position bias: always the first card shown.
    scripted_kind["m"] = scripted.Script(default=scripted.valid())
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    record = json.loads(result.stdout)
    asked = [c for c in record["calls"] if c["kind"] == "head_to_head"]
    assert sorted({c["tool"] for c in asked}) == [
        "alpha-tool-vs-beta-tool",
        "beta-tool-vs-alpha-tool",
    ]
    assert len(asked) == 8  # 4 personas x 1 provider x 2 orders
    h2h_scores = record["scores"]["head_to_head"]
    assert h2h_scores["pairs"] == 4 and h2h_scores["consistent"] == 0
    assert h2h_scores["consistency"] == 0.0 and h2h_scores["pick"] is None
    # head-to-head answers never leak into the per-tool scores
    assert all(s["valid"] == 4 for s in record["scores"]["tools"])
