"""The deterministic grounding check: does each fact in a quote appear in a source it cites?

``check(quote, cited, pack)`` returns a ``Grounding``: one ``Claim`` per checkable fact (and
one per citation of a source the pack does not have), each ``supported``, ``unsupported``,
``contradicted`` or ``unknown_source``, and whether the quote may be published, with a reason
an editor can read. The rules (docs/ARCHITECTURE.md, "The grounding check"):

1. Every cited id, inline (``[S2]``, ``[S1, S3]``) or in the answer's list, must be in the
   pack; a fabricated id withholds the quote.
2. A fact (price, percentage, version, date, number: ``facts``) in a sentence that cites
   sources must appear, allowing for format, in one of the sources that sentence cites.
   A cited source that states another fact of the same kind (another price, another date)
   contradicts it; a source silent on it leaves it unsupported.
3. A fact in a sentence that cites nothing is unsupported.
4. A fact that only repeats the persona's own question wording ("the next 12 months") is
   not a claim about the tool and is not checked.

A marker at the very start of a sentence belongs to the sentence before it ("… $20/month.
[S1] Next …"). Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from panel.evidence.facts import Bound, Fact, FactKind, extract, version_key
from panel.evidence.pack import EvidencePack

RULES = "grounding-1"  # the rules' version: bump when a change can flip an outcome
CITATION = "citation"  # the kind of a claim that is a citation of an unknown source
_MARKER = re.compile(r"\[\s*(S\d+(?:\s*[,;]\s*S\d+)*)\s*\]", re.IGNORECASE)
_ID = re.compile(r"S\d+", re.IGNORECASE)
_ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "vs",
        "etc",
        "approx",
        "inc",
        "ltd",
        "no",
        "fig",
        "cf",
        "dr",
        "mr",
        "ms",
        "st",
        "jr",
        "sr",
    ]
)
_BREAK = re.compile(r"[.!?]+[\"')\]”’]*\s+(?=[A-Z0-9\"'“‘(\[$€£])")
_ABOUT = Decimal("0.1")  # "about 10k": within 10%
_SHOWN_FAILURES = 3


class Outcome(StrEnum):
    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    CONTRADICTED = "contradicted"
    UNKNOWN_SOURCE = "unknown_source"


class Claim(BaseModel):
    """One checked fact of a quote. Field order is the JSON order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str  # as written in the quote
    start: int  # character offsets in the quote
    end: int
    kind: str  # a FactKind value, or "citation"
    cited: tuple[str, ...]  # the ids its sentence cites
    outcome: Outcome
    source: str | None = None  # the id of the source that supports it
    reason: str = ""


class Grounding(BaseModel):
    """The check of one quote: what records store per answer (JSON, stable field order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: str = RULES
    publishable: bool
    reason: str
    cited: tuple[str, ...]  # every id the answer cites, inline or listed, in S order
    unknown: tuple[str, ...]  # cited ids the pack does not have
    claims: tuple[Claim, ...]

    def failures(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.outcome is not Outcome.SUPPORTED)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json")


def _ids(raw: str) -> list[str]:
    return [i.upper() for i in _ID.findall(raw)]


def _order(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(ids), key=lambda i: (len(i), i)))


def _sentences(quote: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; abbreviations and decimals do not end one."""
    spans, start = [], 0
    for m in _BREAK.finditer(quote):
        word = quote[start : m.start()].rsplit(None, 1)[-1:] or [""]
        if word[0].lower().rstrip(".") in _ABBREVIATIONS:
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(quote)))
    return [(s, e) for s, e in spans if quote[s:e].strip()]


def _markers(quote: str) -> list[tuple[int, int, list[str], int]]:
    """Each inline marker: (start, end, ids, the sentence it belongs to)."""
    sentences = _sentences(quote)
    found = []
    for m in _MARKER.finditer(quote):
        index = next(i for i, (s, e) in enumerate(sentences) if s <= m.start() < e)
        leading = not quote[sentences[index][0] : m.start()].strip(" [],;S0123456789s")
        if leading and index > 0:
            index -= 1  # "… $20/month. [S1] Next …": the marker closes the sentence before
        found.append((m.start(), m.end(), _ids(m.group(1)), index))
    return found


@functools.lru_cache(maxsize=256)
def _facts(text: str) -> tuple[Fact, ...]:
    return tuple(extract(text))


def _close(claim: Fact, found: Fact) -> bool:
    """Does a source's value match the claim's, at the precision and bound it was written?"""
    c, s = claim.value, found.value
    if c is None or s is None:
        return False
    if claim.bound is Bound.AT_LEAST:
        return s >= c
    if claim.bound is Bound.AT_MOST:
        return s <= c
    slack = max(claim.step, found.step) / 2
    if claim.bound is Bound.ABOUT:
        slack = max(slack, abs(c) * _ABOUT)
    return abs(s - c) <= slack


def _units_agree(claim: Fact, found: Fact) -> bool:
    exact = claim.bound is Bound.EXACT and claim.step == 0
    return exact or claim.unit is None or claim.unit == found.unit


def _same_day(claim: Fact, found: Fact) -> bool:
    if claim.day is None:
        return False
    if found.day is None:
        return claim.day[1:] == (None, None) and found.value == claim.value
    return all(a is None or b is None or a == b for a, b in zip(claim.day, found.day, strict=True))


def _granular(claim: Fact, found: Fact) -> bool:
    """Is ``found`` a date as precise as the claim (so a different one contradicts it)?"""
    if claim.day is None or found.day is None:
        return False
    return all(b is not None for a, b in zip(claim.day, found.day, strict=True) if a is not None)


def _supports(claim: Fact, found: Fact) -> bool:
    kind = claim.kind
    if kind is FactKind.PRICE:
        return (
            found.kind is FactKind.PRICE
            and _close(claim, found)
            and (claim.currency is None or found.currency in (None, claim.currency))
            and _periods_agree(claim, found)
        )
    if kind is FactKind.PERCENTAGE:
        return found.kind is FactKind.PERCENTAGE and _close(claim, found)
    if kind is FactKind.VERSION:
        key = _version_of(found)
        return key is not None and claim.version is not None and _prefix(claim.version, key)
    if kind is FactKind.DATE:
        return _same_day(claim, found) and (found.kind is FactKind.DATE or claim.day is not None)
    return found.value is not None and _close(claim, found) and _units_agree(claim, found)


def _periods_agree(claim: Fact, found: Fact) -> bool:
    return claim.period is None or found.period is None or claim.period == found.period


def _version_of(found: Fact) -> str | None:
    if found.kind is FactKind.VERSION:
        return found.version
    if found.kind is FactKind.NUMBER and "." in found.text and found.step == 0:
        return version_key(found.text)
    return None


def _prefix(claim: str, found: str) -> bool:
    """``2.1`` is supported by ``2.1`` and by ``2.1.4`` (a patch of it), not by ``2.10``."""
    a, b = claim.split("."), found.split(".")
    return a == b[: len(a)]


def _competes(claim: Fact, found: Fact) -> bool:
    """Does ``found`` state the same kind of fact differently (a contradiction)?"""
    if claim.kind is FactKind.PRICE:
        return found.kind is FactKind.PRICE and _periods_agree(claim, found)
    if claim.kind is FactKind.PERCENTAGE:
        return found.kind is FactKind.PERCENTAGE
    if claim.kind is FactKind.VERSION:
        return found.kind is FactKind.VERSION
    if claim.kind is FactKind.DATE:
        return found.kind is FactKind.DATE and _granular(claim, found)
    return found.kind is FactKind.NUMBER and claim.unit is not None and found.unit == claim.unit


def _signature(fact: Fact) -> tuple[object, ...]:
    return (fact.kind, fact.value, fact.version, fact.day, fact.currency, fact.period, fact.unit)


def _judge(fact: Fact, cited: Sequence[str], pack: EvidencePack) -> tuple[Outcome, str | None, str]:
    known = [i for i in cited if pack.get(i) is not None]
    if not cited:
        return Outcome.UNSUPPORTED, None, f"{fact.text!r} has no citation"
    if not known:
        return (
            Outcome.UNKNOWN_SOURCE,
            None,
            f"{fact.text!r} cites {', '.join(cited)}, not in the evidence",
        )
    rival: tuple[str, Fact] | None = None
    for source_id in known:
        source = pack.get(source_id)
        assert source is not None
        for found in _facts(source.text):
            if _supports(fact, found):
                return Outcome.SUPPORTED, source_id, f"{fact.text!r} is in {source_id}"
            if rival is None and _competes(fact, found):
                rival = (source_id, found)
    if rival is not None:
        return Outcome.CONTRADICTED, None, f"{fact.text!r}: {rival[0]} says {rival[1].text!r}"
    return Outcome.UNSUPPORTED, None, f"{fact.text!r} is not in {', '.join(known)}"


def check(
    quote: str, cited: Sequence[str], pack: EvidencePack, *, questions: Sequence[str] = ()
) -> Grounding:
    """Check ``quote`` (with the answer's ``cited`` ids) against ``pack``.

    ``questions`` is the persona's own question wording as the reviewer saw it (the task
    text of its prompt): a fact that only repeats it is not checked (rule 4).
    """
    markers = _markers(quote)
    masked = quote
    for start, end, _, _ in markers:
        masked = masked[:start] + " " * (end - start) + masked[end:]
    sentences = _sentences(masked)
    per_sentence: list[list[str]] = [[] for _ in sentences]
    for _, _, ids, index in markers:
        here = per_sentence[min(index, len(sentences) - 1)]
        here.extend(i for i in ids if i not in here)
    echoed = {_signature(f) for q in questions for f in extract(q)}
    claims: list[Claim] = []
    for start, end, ids, _ in markers:
        for bad in (i for i in ids if pack.get(i) is None):
            reason = (
                f"{bad} is not in the evidence (it has {', '.join(pack.ids()) or 'no sources'})"
            )
            claims.append(
                Claim(
                    text=quote[start:end],
                    start=start,
                    end=end,
                    kind=CITATION,
                    cited=tuple(ids),
                    outcome=Outcome.UNKNOWN_SOURCE,
                    reason=reason,
                )
            )
    for fact in extract(masked):
        if _signature(fact) in echoed:
            continue
        index = next(i for i, (s, e) in enumerate(sentences) if s <= fact.start < e)
        sentence_ids = tuple(per_sentence[index])
        outcome, source, reason = _judge(fact, sentence_ids, pack)
        claims.append(
            Claim(
                text=fact.text,
                start=fact.start,
                end=fact.end,
                kind=fact.kind.value,
                cited=sentence_ids,
                outcome=outcome,
                source=source,
                reason=reason,
            )
        )
    claims.sort(key=lambda c: (c.start, c.end))
    all_ids = _order([*(i for _, _, ids, _ in markers for i in ids), *(i.upper() for i in cited)])
    unknown = tuple(i for i in all_ids if pack.get(i) is None)
    return _verdict(all_ids, unknown, tuple(claims))


def _verdict(
    cited: tuple[str, ...], unknown: tuple[str, ...], claims: tuple[Claim, ...]
) -> Grounding:
    failed = [c for c in claims if c.outcome is not Outcome.SUPPORTED]
    problems = [f"cites {', '.join(unknown)}, not in the evidence"] if unknown else []
    problems += [c.reason for c in failed if c.kind != CITATION][:_SHOWN_FAILURES]
    more = len([c for c in failed if c.kind != CITATION]) - _SHOWN_FAILURES
    if more > 0:
        problems.append(f"and {more} more")
    if problems:
        reason = "withheld: " + "; ".join(problems)
    elif claims:
        reason = f"every fact ({len(claims)}) is in a source it cites"
    else:
        reason = "no prices, numbers, versions or dates to check"
    return Grounding(
        publishable=not problems, reason=reason, cited=cited, unknown=unknown, claims=claims
    )
