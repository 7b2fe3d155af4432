"""The page's one answer to "which one should you ship with?", in a reader's words.

The headline is the panel pick (``scores.pick``): the tool more of the panel's
verdicts say to ship. It exists for every record, so the page, the feeds, the
index and the digest all give the same answer. The head-to-head question (asked
in both orders) and the reviewer majorities are shown as supporting evidence,
with a word on why the head-to-head can differ.

Text uses tool names, never slugs, and every sentence starts with a capital.
"""

from __future__ import annotations

from panel.records.publication import shortfall
from panel.records.schema import ComparisonRecord, ToolScore
from panel.scoring.aggregate import ship_majorities
from panel.scoring.rules import Quorum


def rule_sentence(quorum: Quorum) -> str:
    need = quorum.words
    return (
        "How the pick is made: the tool with the higher panel ship rate wins; on a tie, the "
        "one more reviewers ship, then the one the panel is more confident about. A tool "
        f"needs {need} to be picked."
    )


def _pcts(a: float, b: float) -> tuple[str, str]:
    """Whole percentages, with a decimal when rounding would make them look equal."""
    fmt = "{:.1f}%" if f"{a:.0f}" == f"{b:.0f}" else "{:.0f}%"
    return fmt.format(a), fmt.format(b)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def reason_sentence(record: ComparisonRecord, names: dict[str, str]) -> str:
    """Why the pick is what it is (or why there is none): a sentence ending with a period."""
    scores = {s.tool: s for s in record.scores.tools}
    pick = record.scores.pick.tool
    slugs = [t.slug for t in record.tools]
    if pick is None or pick not in scores:
        return _no_pick(record, scores, names)
    win, lose = scores[pick], scores[next(s for s in slugs if s != pick)]
    w, lo = names.get(win.tool, win.tool), names.get(lose.tool, lose.tool)
    if win.ship_pct is not None and lose.ship_pct is not None:
        if win.ship_pct != lose.ship_pct:
            a, b = _pcts(win.ship_pct, lose.ship_pct)
            return f"{w} has the higher panel ship rate: {a} against {b} for {lo}."
        split, n = record.scores.split, len(record.panel.personas)
        ka, kb = ship_majorities(win.tool, split), ship_majorities(lose.tool, split)
        if ka != kb:
            return (
                f"Both have a {win.ship_pct:.0f}% panel ship rate; more reviewers ship {w}: "
                f"{ka} of {n} against {kb} of {n} for {lo}."
            )
        ca, cb = win.mean_confidence or 0.0, lose.mean_confidence or 0.0
        if ca != cb:
            return (
                "They tie on panel ship rate and on how many reviewers ship them; the panel "
                f"is more confident about {w}: {ca:.1f} against {cb:.1f} out of 5."
            )
    return f"The panel picks {w}."


def _no_pick(record: ComparisonRecord, scores: dict[str, ToolScore], names: dict[str, str]) -> str:
    if not any(s.valid for s in scores.values()):
        return "No reviewer gave a valid verdict."
    missing = [
        names.get(s.tool, s.tool) for s in scores.values() if s.ship_pct is None or not s.quorum_met
    ]
    if missing:
        need = record.scores.quorum.words
        return f"The panel did not reach quorum ({need}) for {_and(missing)}."
    return (
        "The two tie on panel ship rate, on how many reviewers ship them and on the panel's "
        "confidence."
    )


def evidence_sentence(record: ComparisonRecord, names: dict[str, str]) -> str:
    """The head-to-head result as supporting evidence, and how it relates to the pick."""
    h2h = record.scores.head_to_head
    if h2h is None:
        return ""
    asked = "Asked directly which one to ship with, in both orders"
    if not h2h.pairs:
        return f"{asked}, no model answered both times, so the head-to-head adds no evidence."
    rate = f"order consistency {100 * (h2h.consistency or 0):.0f}%"
    seats = f"{h2h.pairs} model seat{'s' if h2h.pairs != 1 else ''}"
    if h2h.pick is None and not any(h2h.picks.values()):
        return (
            f"{asked}, none of the {seats} that answered both times picked the same tool in "
            f"both orders ({rate}), so the head-to-head has no pick."
        )
    if h2h.pick is None:
        counts = ", ".join(f"{names.get(t, t)} {n}" for t, n in h2h.picks.items())
        return (
            f"{asked}, the {seats} that answered both times split evenly ({counts}; {rate}), "
            "so the head-to-head has no pick."
        )
    shown = names.get(h2h.pick, h2h.pick)
    found = f"{asked}, {h2h.picks[h2h.pick]} of {seats} picked {shown} both times ({rate})."
    pick = record.scores.pick.tool
    if pick is None:
        return found
    if pick == h2h.pick:
        return f"{found} That agrees with the pick."
    return (
        f"{found} That differs from the pick, which weighs each tool's own verdicts; the "
        "head-to-head is a forced choice between the two."
    )


def quorum_note(record: ComparisonRecord, names: dict[str, str]) -> str:
    """A plain statement that the panel did not reach quorum, or "" for a complete record."""
    short = shortfall(record)
    if short is None:
        return ""
    missing = [names.get(slug, slug) for slug in short.tools]
    lacks = ""
    if missing:
        verb = "lacks" if len(missing) == 1 else "lack"
        lacks = f"; {_and(missing)} {verb} {short.rule}"
    return (
        f"The panel did not reach quorum: {short.counts()}{lacks}. "
        "Treat these numbers as provisional."
    )
