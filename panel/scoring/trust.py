"""How much to trust a verdict: order consistency, conflicts of interest, agreement.

Pure functions over call results. LLM juries favour their own family's output and
are swayed by the order things are shown in (Verga et al., 2024, and others), so:

- **Head-to-head in both orders.** Each persona x provider seat is asked "which
  one should you ship with?" with the record's first tool first, then with the
  second tool first. A seat's pick counts only when both orders name the same
  tool; the head-to-head pick is the tool more consistent seats chose.
- **Conflict of interest.** A seat whose model vendor made a tool under review is
  recused for that tool (kept in the record, left out of every score), or only
  flagged when ``recusal = "flag"``.
- **Agreement.** Per persona, Krippendorff's alpha and plain pairwise agreement
  across providers; across personas, how many reviewers ship each tool.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence

from panel.inputs.catalog import Tool
from panel.records.schema import CallResult, HeadToHead, PersonaAgreement, PersonaSplit, Seat, Trust
from panel.scoring.aggregate import ship_majorities
from panel.scoring.agreement import krippendorff_alpha
from panel.scoring.rules import Recusal

H2H_RULE = (
    "each persona x provider seat is asked in both orders; a seat's pick counts only when "
    "both orders agree; the tool with more consistent picks wins; a tie is no pick"
)
# Words that say nothing about who the vendor is.
_NOISE = {
    "ai",
    "inc",
    "labs",
    "lab",
    "llc",
    "ltd",
    "corp",
    "corporation",
    "co",
    "the",
    "gmbh",
    "sa",
}
# Strong agreement thresholds (Krippendorff's own: >= .800 reliable, >= .667 tentative).
STRONG, MODERATE = 0.8, 0.667


def vendor_key(name: str) -> str:
    """A vendor name folded for matching: "Mistral AI" -> "mistral", "OpenAI" -> "openai"."""
    words = [w for w in re.findall(r"[a-z0-9]+", name.lower()) if w not in _NOISE]
    return "".join(words)


def same_vendor(model_vendor: str, tool_vendor: str) -> bool:
    a, b = vendor_key(model_vendor), vendor_key(tool_vendor)
    return bool(a) and bool(b) and (a == b or a.startswith(b) or b.startswith(a))


def mark_conflicts(
    calls: Sequence[CallResult],
    tools: Sequence[Tool],
    vendors: dict[str, str],
    recusal: Recusal,
) -> list[CallResult]:
    """Each call with ``conflict``/``recused`` set from the provider's and the tools' vendors.

    ``vendors`` maps a provider address to its model vendor. A head-to-head call
    conflicts when either tool shares the vendor.
    """
    tool_vendor = {t.slug: t.vendor for t in tools}
    marked = []
    for call in calls:
        model_vendor = vendors.get(call.provider, "")
        if call.kind == "head_to_head":
            reviewed = [t.vendor for t in tools]
        else:
            reviewed = [tool_vendor.get(call.tool, "")]
        conflict = any(same_vendor(model_vendor, v) for v in reviewed)
        marked.append(
            call.model_copy(
                update={"conflict": conflict, "recused": conflict and recusal == Recusal.RECUSE}
            )
        )
    return marked


def _picked(call: CallResult | None) -> str | None:
    if call is None or call.outcome == "failed":
        return None
    pick = call.fields.get("pick")
    return pick if isinstance(pick, str) else None


def head_to_head(calls: Sequence[CallResult], tools: Sequence[Tool]) -> HeadToHead | None:
    """Seats, order consistency and the pick; None when no head-to-head was asked."""
    first, second = tools[0].slug, tools[1].slug
    forward, backward = f"{first}-vs-{second}", f"{second}-vs-{first}"
    asked = [c for c in calls if c.kind == "head_to_head"]
    if not asked:
        return None
    by_seat: dict[tuple[str, str], dict[str, CallResult]] = {}
    for call in asked:
        by_seat.setdefault((call.persona, call.provider), {})[call.tool] = call
    seats = []
    for (persona, provider), orders in by_seat.items():
        one, two = _picked(orders.get(forward)), _picked(orders.get(backward))
        agree = None if one is None or two is None else one == two
        conflict = any(c.conflict for c in orders.values())
        recused = any(c.recused for c in orders.values())
        seats.append(
            Seat(
                persona=persona,
                provider=provider,
                first_order=one,
                second_order=two,
                pick=one if agree else None,
                consistent=agree,
                conflict=conflict,
                recused=recused,
            )
        )
    counted = [s for s in seats if not s.recused]
    pairs = [s for s in counted if s.consistent is not None]
    agreeing = [s for s in pairs if s.consistent]
    picks = Counter(s.pick for s in agreeing if s.pick)
    tally = {first: picks.get(first, 0), second: picks.get(second, 0)}
    winner = None
    if tally[first] != tally[second]:
        winner = first if tally[first] > tally[second] else second
    return HeadToHead(
        rule=H2H_RULE,
        seats=seats,
        pick=winner,
        picks=tally,
        pairs=len(pairs),
        consistent=len(agreeing),
        consistency=round(len(agreeing) / len(pairs), 4) if pairs else None,
    )


def persona_agreement(calls: Sequence[CallResult], persona: str) -> PersonaAgreement:
    mine = [c for c in calls if c.persona == persona and c.kind == "verdict"]
    providers = {c.provider for c in mine}
    units: dict[str, list[str]] = {}
    for c in mine:
        if c.ok and c.verdict:
            units.setdefault(c.tool, []).append(c.verdict)
    values = list(units.values())
    alpha = krippendorff_alpha(values)
    pairs = [a == b for v in values for a, b in itertools.combinations(v, 2)]
    return PersonaAgreement(
        persona=persona,
        providers=len(providers),
        alpha=None if alpha is None else round(alpha, 4),
        pairwise=round(sum(pairs) / len(pairs), 4) if pairs else None,
        units=sum(1 for v in values if len(v) >= 2),
        ratings=sum(len(v) for v in values),
    )


def _strength(agreements: Sequence[PersonaAgreement], calls: Sequence[CallResult]) -> str:
    """How the models agree, in words."""
    verdicts = [c for c in calls if c.kind == "verdict"]
    if not any(c.ok for c in verdicts):
        return "no valid verdicts yet"
    if max((a.providers for a in agreements), default=0) < 2:
        return "one model per reviewer, so model agreement can't be measured"
    units: dict[tuple[str, str], list[str]] = {}
    for c in verdicts:
        if c.ok and c.verdict:
            units.setdefault((c.persona, c.tool), []).append(c.verdict)
    values = [v for v in units.values() if len(v) >= 2]
    if not values:
        return "too few valid verdicts to compare models"
    if all(len(set(v)) == 1 for v in values):
        return "models agree on every verdict"
    alpha = krippendorff_alpha(values)
    if alpha is None:
        return "models agree on every verdict"
    if alpha >= STRONG:
        return "models agree strongly"
    if alpha >= MODERATE:
        return "models mostly agree"
    if alpha > 0:
        return "models often disagree"
    return "models disagree as often as chance"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _conflict_sentence(calls: Sequence[CallResult], names: dict[str, str], recusal: Recusal) -> str:
    """ " Recused for a conflict of interest: 4 verdicts (p on A) and 8 head-to-head answers."

    Counts answers, not seats, so the numbers add up with the record's totals. Only
    answers count: a conflicted call that failed is counted as failed.
    """
    answered = [c for c in calls if c.conflict and c.outcome != "failed"]
    verdicts = [c for c in answered if c.kind == "verdict"]
    pairs = ", ".join(
        dict.fromkeys(f"{c.provider} on {names.get(c.tool, c.tool)}" for c in verdicts)
    )
    parts = [f"{_plural(len(verdicts), 'verdict')} ({pairs})"] if verdicts else []
    answers = sum(1 for c in answered if c.kind == "head_to_head")
    if answers:
        parts.append(_plural(answers, "head-to-head answer"))
    if not parts:
        return ""
    lead = (
        "Recused for a conflict of interest"
        if recusal == Recusal.RECUSE
        else "Flagged for a conflict of interest, still counted"
    )
    return f" {lead}: {' and '.join(parts)}."


def _reviewers(slug: str, name: str, split: Sequence[PersonaSplit], n: int) -> str:
    """ "3 of 4 reviewers ship A", or, when some reviewers are tied (their models split
    evenly), "A: 0 of 4 reviewers ship, 0 skip, 4 tied": never a bare "0 of 4 reviewers ship
    A" beside a pick of A."""
    said = [s.majority.get(slug, "none") for s in split]
    ships, skips, ties = said.count("ship"), said.count("skip"), said.count("tie")
    if not ties:
        return f"{ships} of {n} reviewers ship {name}"
    text = f"{name}: {ships} of {n} reviewers ship, {skips} skip, {ties} tied"
    none = n - ships - skips - ties
    return text + (f", {none} without a verdict" if none > 0 else "")


def trust(
    calls: Sequence[CallResult],
    tools: Sequence[Tool],
    personas: Sequence[str],
    split: Sequence[PersonaSplit],
    recusal: Recusal,
) -> Trust:
    agreements = [persona_agreement(calls, p) for p in personas]
    ships = {t.slug: ship_majorities(t.slug, split) for t in tools}
    names = {t.slug: t.name for t in tools}
    counts = "; ".join(_reviewers(t.slug, names[t.slug], split, len(personas)) for t in tools)
    conflicts = sorted(
        {f"{c.provider} reviewing {c.tool}" for c in calls if c.conflict and c.kind == "verdict"}
    )
    summary = f"{counts}; {_strength(agreements, calls)}."
    summary += _conflict_sentence(calls, names, recusal)
    return Trust(
        summary=summary,
        ship_reviewers=ships,
        reviewers=len(personas),
        personas=agreements,
        recusal=recusal,
        conflicts=conflicts,
    )
