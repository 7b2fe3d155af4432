"""Pure functions: call results -> panel scores, the reviewer split and the pick.

No I/O and no clocks here; the same calls always aggregate to the same scores.
Failed calls are counted as failed and never as verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import mean

from panel.inputs.catalog import Tool
from panel.records.schema import (
    Agreement,
    CallResult,
    Majority,
    PersonaSplit,
    Pick,
    PricingRead,
    Scores,
    ToolScore,
    Totals,
)
from panel.scoring.agreement import krippendorff_alpha
from panel.scoring.rules import Quorum, tool_rule

PICK_RULE = (
    "higher panel ship % wins; on a tie, more persona majorities of ship; "
    "then higher mean confidence; a tool that misses quorum cannot be picked"
)
PUBLISH_RULE = (
    "for each persona and tool, the highest-confidence valid verdict that agrees with the "
    "persona's majority is published; with no majority, the highest-confidence valid verdict; "
    "ties go to the provider listed first on the panel"
)


def quorum_met(
    slug: str, personas: Sequence[str], calls: Sequence[CallResult], rule: Quorum
) -> bool:
    """Whether ``slug`` meets quorum ``rule`` (see ``Quorum.rule``)."""
    valid = {c.persona for c in calls if c.tool == slug and c.ok}
    if rule == Quorum.ANY_VERDICT:
        return bool(valid)
    return all(p in valid for p in personas)


def score_tool(
    slug: str,
    calls: Sequence[CallResult],
    personas: Sequence[str] = (),
    quorum: Quorum | str = Quorum.ANY_VERDICT,
) -> ToolScore:
    """A tool's panel ship % and quorum, and the rule they were computed by."""
    quorum = Quorum(quorum)
    mine = [c for c in calls if c.tool == slug]
    valid = [c for c in mine if c.ok]
    ships = sum(1 for c in valid if c.verdict == "ship")
    confidences = [c.confidence for c in valid if c.confidence is not None]
    return ToolScore(
        tool=slug,
        ship_pct=round(100 * ships / len(valid), 1) if valid else None,
        ships=ships,
        skips=len(valid) - ships,
        valid=len(valid),
        failed=sum(1 for c in mine if _failed(c)),
        mean_confidence=round(mean(confidences), 2) if confidences else None,
        quorum_met=quorum_met(slug, personas, calls, quorum),
        recused=sum(1 for c in mine if set_aside(c)),
        rule=tool_rule(quorum),
        abstained=sum(1 for c in mine if c.outcome == "abstained"),
    )


def _failed(call: CallResult) -> bool:
    """No usable answer (``CallResult.outcome``): the call failed, or was withheld."""
    return call.outcome == "failed"


def set_aside(call: CallResult) -> bool:
    """A usable answer recused for a conflict of interest (``CallResult.outcome``).

    Every call is exactly one of valid (``call.ok``), failed or set aside, so the
    three counts always add up to the calls made.
    """
    return call.outcome == "recused"


def majority(ships: int, skips: int) -> Majority:
    if ships == skips:
        return "tie" if ships else "none"
    return "ship" if ships > skips else "skip"


def persona_split(persona: str, slugs: Sequence[str], calls: Sequence[CallResult]) -> PersonaSplit:
    ships: dict[str, int] = {}
    skips: dict[str, int] = {}
    failed: dict[str, int] = {}
    for slug in slugs:
        mine = [c for c in calls if c.persona == persona and c.tool == slug]
        ships[slug] = sum(1 for c in mine if c.ok and c.verdict == "ship")
        skips[slug] = sum(1 for c in mine if c.ok and c.verdict == "skip")
        failed[slug] = sum(1 for c in mine if _failed(c))
    majorities = {slug: majority(ships[slug], skips[slug]) for slug in slugs}
    return PersonaSplit(
        persona=persona,
        majority=majorities,
        ships=ships,
        skips=skips,
        failed=failed,
        published={
            slug: published_provider(
                [c for c in calls if c.persona == persona and c.tool == slug], majorities[slug]
            )
            for slug in slugs
        },
    )


def published_provider(calls: Sequence[CallResult], verdict: Majority) -> str | None:
    """The provider whose quote is published, by ``PUBLISH_RULE``."""
    valid = [c for c in calls if c.ok]
    agreeing = [c for c in valid if c.verdict == verdict] or valid
    if not agreeing:
        return None
    best = max(c.confidence or 0 for c in agreeing)
    return next(c.provider for c in agreeing if (c.confidence or 0) == best)


def _ship_pct(score: ToolScore) -> float:
    return score.ship_pct or 0.0


def _confidence(score: ToolScore) -> float:
    return score.mean_confidence or 0.0


def ship_majorities(slug: str, split: Sequence[PersonaSplit]) -> int:
    """How many personas' majority verdict ships ``slug``: the pick, trust and the page
    all count "reviewers who ship" with this."""
    return sum(1 for s in split if s.majority.get(slug) == "ship")


def pick(scores: Sequence[ToolScore], split: Sequence[PersonaSplit]) -> Pick:
    """The head-to-head answer to "which one should you ship with?", with its reason."""
    eligible = [s for s in scores if s.ship_pct is not None and s.quorum_met]
    if len(eligible) < len(scores) or len(scores) != 2:
        missing = ", ".join(s.tool for s in scores if s not in eligible)
        return Pick(tool=None, rule=PICK_RULE, reason=f"quorum not met for {missing}")
    a, b = eligible

    def majorities(score: ToolScore) -> float:
        return float(ship_majorities(score.tool, split))

    keys: list[tuple[str, Callable[[ToolScore], float], str]] = [
        ("panel ship %", _ship_pct, "{:.0f}%"),
        ("persona majorities of ship", majorities, "{:.0f}"),
        ("mean confidence", _confidence, "{:.2f}"),
    ]
    for label, key, fmt in keys:
        ka, kb = key(a), key(b)
        if ka != kb:
            win, lose = (a, b) if ka > kb else (b, a)
            shown = f"{win.tool} {fmt.format(key(win))} vs {lose.tool} {fmt.format(key(lose))}"
            return Pick(tool=win.tool, rule=PICK_RULE, reason=f"{label}: {shown}")
    return Pick(
        tool=None, rule=PICK_RULE, reason="tied on ship %, persona majorities and confidence"
    )


def pricing(tools: Sequence[Tool]) -> list[PricingRead]:
    return [
        PricingRead(
            tool=t.slug,
            entry_price=t.entry_price.value if t.entry_price else None,
            pricing_notes=t.pricing_notes,
        )
        for t in tools
    ]


def agreement(calls: Sequence[CallResult]) -> Agreement | None:
    """Krippendorff's alpha across providers; None with fewer than two providers."""
    providers = {c.provider for c in calls}
    if len(providers) < 2:
        return None
    units: dict[tuple[str, str], list[str]] = {}
    for c in calls:
        if c.ok and c.verdict:
            units.setdefault((c.persona, c.tool), []).append(c.verdict)
    values = list(units.values())
    alpha = krippendorff_alpha(values)
    return Agreement(
        value=None if alpha is None else round(alpha, 4),
        units=sum(1 for v in values if len(v) >= 2),
        providers=len(providers),
    )


def aggregate(
    tools: Sequence[Tool],
    personas: Sequence[str],
    calls: Sequence[CallResult],
    quorum: Quorum | str = Quorum.EVERY_PERSONA,
) -> Scores:
    quorum = Quorum(quorum)
    slugs = [t.slug for t in tools]
    tool_scores = [score_tool(slug, calls, personas, quorum) for slug in slugs]
    split = [persona_split(p, slugs, calls) for p in personas]
    return Scores(
        tools=tool_scores,
        split=split,
        pick=pick(tool_scores, split),
        pricing=pricing(tools),
        quorum=quorum,
        publish_rule=PUBLISH_RULE,
        agreement=agreement(calls),
    )


def totals(calls: Sequence[CallResult]) -> Totals:
    """The record's counts; tokens, attempts and cost include each answer's model claim
    check (``fact_check``), which is no call of its own in the record."""
    checks = [c.fact_check for c in calls if c.fact_check is not None]
    spent = total_cost([c for c in calls if not c.cached])
    cost = total_cost(calls)
    return Totals(
        calls=len(calls),
        valid=sum(1 for c in calls if c.ok),
        failed=sum(1 for c in calls if _failed(c)),
        attempts=sum(c.attempts for c in calls) + sum(f.attempts for f in checks),
        prompt_tokens=sum(c.prompt_tokens for c in calls) + sum(f.prompt_tokens for f in checks),
        completion_tokens=sum(c.completion_tokens for c in calls)
        + sum(f.completion_tokens for f in checks),
        cost_usd=_plus(cost, [f.cost_usd for f in checks]),
        cached=sum(1 for c in calls if c.cached),
        recused=sum(1 for c in calls if set_aside(c)),
        spent_usd=_plus(spent, [f.cost_usd for f in checks if not f.cached]),
        abstained=sum(1 for c in calls if c.outcome == "abstained"),
        cached_tokens=sum(c.cached_tokens for c in calls),
    )


def _plus(total: float | None, more: Sequence[float | None]) -> float | None:
    if total is None or any(m is None for m in more):
        return None
    return round(total + sum(m for m in more if m is not None), 6)


def count_phrase(calls: int, valid: int, failed: int, recused: int, abstained: int = 0) -> str:
    """ "32 calls: 20 valid, 0 failed, 12 recused (conflict of interest)": they add up, with
    ", 2 abstained (evidence insufficient)" when a reviewer found the evidence too thin."""
    line = f"{calls} call{'' if calls == 1 else 's'}: {valid} valid, {failed} failed"
    line += f", {recused} recused (conflict of interest)" if recused else ", 0 recused"
    return line + (f", {abstained} abstained (evidence insufficient)" if abstained else "")


def total_cost(calls: Sequence[CallResult]) -> float | None:
    """USD over ``calls`` at their recorded prices; None if any call's price is unknown.

    Over every call it is what the answers cost; over the calls not served from the
    cache, what this run paid.
    """
    costs = [c.cost_usd for c in calls]
    if any(c is None for c in costs):
        return None
    return round(sum(c for c in costs if c is not None), 6)


def tally_by_kind(calls: Sequence[CallResult]) -> str:
    """Verdict calls and head-to-head calls counted apart, each naming what it counts:
    "16 verdict calls: 4 valid, 0 failed, 12 recused; 16 head-to-head calls: 0 valid, 0 failed,
    16 recused (conflict of interest)". Valid, failed, recused (and abstained, issue 26: a
    verdict that found the evidence insufficient) add up within each kind."""
    parts = []
    for kind, noun in (("verdict", "verdict"), ("head_to_head", "head-to-head")):
        mine = [c for c in calls if c.kind == kind]
        if not mine and kind == "head_to_head":
            continue
        valid = sum(1 for c in mine if c.ok)
        failed = sum(1 for c in mine if _failed(c))
        recused = sum(1 for c in mine if set_aside(c))
        abstained = sum(1 for c in mine if c.outcome == "abstained")
        calls_word = "call" if len(mine) == 1 else "calls"
        parts.append(
            f"{len(mine)} {noun} {calls_word}: {valid} valid, {failed} failed, {recused} recused"
            + (f", {abstained} abstained (evidence insufficient)" if abstained else "")
        )
    why = " (conflict of interest)" if any(set_aside(c) for c in calls) else ""
    return "; ".join(parts) + why
