"""Cross-field consistency of a record: what the schema alone cannot say.

A record can be valid against the schema and still contradict itself: scores for
a tool it does not compare, no score for one it does, a pick of a third tool. Every
reader indexes one part by another (the page looks up each tool's score), so such a
record is refused at load, with the first contradiction named, instead of crashing
whatever reads it later.
"""

from __future__ import annotations

from collections.abc import Iterable

from panel.records.ids import MAX_ID, is_valid_id
from panel.records.schema import ComparisonRecord


def _extra(keys: Iterable[str], known: set[str]) -> str | None:
    unknown = sorted(set(keys) - known)
    return unknown[0] if unknown else None


def inconsistency(record: ComparisonRecord) -> str | None:
    """The first contradiction in ``record``, in a few words; None if there is none."""
    if not is_valid_id(record.id):
        return f"id {record.id[:MAX_ID]!r} is not a record id (YYYY-MM-DD/<a>-vs-<b>[.N])"
    slugs = [t.slug for t in record.tools]
    tools = set(slugs)
    if len(tools) != len(slugs):
        return f"both tools are {slugs[0]!r}"
    scored = [s.tool for s in record.scores.tools]
    for slug in slugs:
        if scored.count(slug) != 1:
            return f"scores.tools has {scored.count(slug)} scores for tool {slug!r}, not 1"
    if stray := _extra(scored, tools):
        return f"scores.tools scores {stray!r}, which is not one of the record's tools"
    quorum = f"quorum {record.scores.quorum.value}:"
    for score in record.scores.tools:
        if quorum not in score.rule:
            return f"the score of {score.tool!r} was not computed with the record's {quorum[:-1]}"
    pick = record.scores.pick.tool
    if pick is not None and pick not in tools:
        return f"scores.pick names {pick!r}, which is not one of the record's tools"
    for split in record.scores.split:
        maps = (split.majority, split.ships, split.skips, split.failed, split.published)
        if stray := _extra((key for part in maps for key in part), tools):
            return f"scores.split for {split.persona!r} names tool {stray!r}"
    if stray := _extra((p.tool for p in record.scores.pricing), tools):
        return f"scores.pricing names tool {stray!r}"
    pairs = {f"{slugs[0]}-vs-{slugs[1]}", f"{slugs[1]}-vs-{slugs[0]}"}
    for call in record.calls:
        allowed = tools if call.kind == "verdict" else pairs
        if call.tool not in allowed:
            return f"a {call.kind} call is about {call.tool!r}, not the record's tools"
    if problem := _head_to_head(record, tools):
        return problem
    if record.scores.trust and (stray := _extra(record.scores.trust.ship_reviewers, tools)):
        return f"scores.trust names tool {stray!r}"
    if problem := _evidence(record, tools):
        return problem
    personas = set(record.panel.personas)
    for override in record.editorial.overrides:
        if override.tool not in tools or override.persona not in personas:
            return f"an editor's override is for {override.persona!r} on {override.tool!r}"
    return None


def _head_to_head(record: ComparisonRecord, tools: set[str]) -> str | None:
    h2h = record.scores.head_to_head
    if h2h is None:
        return None
    if stray := _extra(h2h.picks, tools):
        return f"scores.head_to_head counts picks of {stray!r}"
    if h2h.pick is not None and h2h.pick not in h2h.picks:
        return f"scores.head_to_head picks {h2h.pick!r} without counting it"
    for seat in h2h.seats:
        chosen = (seat.first_order, seat.second_order, seat.pick)
        if stray := _extra((c for c in chosen if c is not None), tools):
            return f"a head-to-head seat picks {stray!r}"
    return None


def _evidence(record: ComparisonRecord, tools: set[str]) -> str | None:
    """Evidence only for the record's tools; a verdict cites only its tool's sources."""
    if stray := _extra(record.evidence, tools):
        return f"evidence is listed for {stray!r}, which is not one of the record's tools"
    for call in record.calls:
        known = {s.id for s in record.evidence.get(call.tool, [])}
        if stray := _extra(call.citations, known):
            return f"a call about {call.tool!r} cites {stray!r}, which is not one of its sources"
    return None
