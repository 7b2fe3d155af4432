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
5. A date after the newest snapshot in a sentence that cites nothing ("by 2028, …") is a
   forecast, which no fetched page can support: it is not checked. Cited, it is.

A marker at the very start of a sentence belongs to the sentence before it ("… $20/month.
[S1] Next …"). Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from panel.evidence.facts import Fact, FactKind, extract, words
from panel.evidence.matching import anchors, competes, rebound, supports
from panel.evidence.pack import EvidencePack

RULES = "grounding-1"  # the rules' version: bump when a change can flip an outcome
CITATION = "citation"  # the kind of a claim that is a citation of an unknown source
_MARKER = re.compile(r"\[\s*(S\d+(?:\s*[,;]\s*S\d+)*)\s*\]", re.IGNORECASE)
_ID = re.compile(r"S\d+", re.IGNORECASE)
_ABBREVIATIONS = frozenset(  # a full stop right after these does not end a sentence
    words("e.g i.e vs etc approx inc ltd cf fig jan feb mar apr jun jul aug sep sept oct nov dec")
)
_BREAK = re.compile(r"[.!?]+[\"')\]”’]*\s+(?=[A-Z0-9\"'“‘(\[$€£])")
_SHOWN_FAILURES = 3
_BLANK = "\x00"


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
        before = quote[start : m.start()]
        word = before.rsplit(None, 1)[-1] if before and not before[-1].isspace() else ""
        if word.lower().rstrip(".") in _ABBREVIATIONS:
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(quote)))
    return [(s, e) for s, e in spans if quote[s:e].strip()]


def cited_ids(quote: str, listed: Iterable[str] = ()) -> tuple[str, ...]:
    """Every id ``quote`` cites inline, with the answer's ``listed`` ids, in S order."""
    return _order([*(i for m in _MARKER.finditer(quote) for i in _ids(m.group(1))),
                   *(i.upper() for i in listed)])  # fmt: skip


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


def _forecast(fact: Fact, newest: datetime) -> bool:
    """Is ``fact`` a date after ``newest`` (to the precision it is written at)?"""
    if fact.kind is not FactKind.DATE or fact.day is None:
        return False
    year, month, day = fact.day
    if year is None:
        return False
    if month is None:
        return year > newest.year
    return (year, month, day or 31) > (newest.year, newest.month, newest.day)


def _signature(fact: Fact) -> tuple[object, ...]:
    """What makes two facts the same for rule 4: "12 months" in a question and in a quote."""
    head = fact.units[:1]  # "the next 12 months," and "the next 12 months you"
    return (fact.kind, fact.value, fact.version, fact.day, fact.currency, fact.period, head)


def _judge(
    fact: Fact, cited: Sequence[str], pack: EvidencePack, names: Sequence[str] = ()
) -> tuple[Outcome, str | None, str]:
    """One fact against the sources its sentence cites; ``names`` are those its clause
    gives it to (rule 2's attribute check: ``matching.rebound``)."""
    known = [i for i in cited if pack.get(i) is not None]
    if not cited:
        return Outcome.UNSUPPORTED, None, f"{fact.text!r} has no citation"
    if not known:
        where = ", ".join(cited)
        return Outcome.UNKNOWN_SOURCE, None, f"{fact.text!r} cites {where}, not in the evidence"
    rival: tuple[str, Fact] | None = None
    for source_id in known:
        source = pack.get(source_id)
        assert source is not None
        found_facts = _facts(source.text)
        if any(supports(fact, found) for found in found_facts):
            bound = rebound(fact, names, source.text, found_facts)
            if bound is None:
                return Outcome.SUPPORTED, source_id, f"{fact.text!r} is in {source_id}"
            why = f"{fact.text!r}: {source_id} gives {bound[0]} {bound[1].text!r}"
            return _contradicted_unless_elsewhere(fact, known, source_id, names, pack, why)
        if rival is None:
            rival = next(((source_id, f) for f in found_facts if competes(fact, f)), None)
    if rival is not None:
        return Outcome.CONTRADICTED, None, f"{fact.text!r}: {rival[0]} says {rival[1].text!r}"
    return Outcome.UNSUPPORTED, None, f"{fact.text!r} is not in {', '.join(known)}"


def _contradicted_unless_elsewhere(
    fact: Fact,
    known: Sequence[str],
    rebound_in: str,
    names: Sequence[str],
    pack: EvidencePack,
    why: str,
) -> tuple[Outcome, str | None, str]:
    """A value rebound in one cited source is still supported if another cited source
    states it for the same names."""
    for source_id in known:
        source = pack.get(source_id)
        if source_id == rebound_in or source is None:
            continue
        found_facts = _facts(source.text)
        if (
            any(supports(fact, f) for f in found_facts)
            and rebound(fact, names, source.text, found_facts) is None
        ):
            return Outcome.SUPPORTED, source_id, f"{fact.text!r} is in {source_id}"
    return Outcome.CONTRADICTED, None, why


def check(
    quote: str, cited: Sequence[str], pack: EvidencePack, *, questions: Sequence[str] = ()
) -> Grounding:
    """Check ``quote`` (with the answer's ``cited`` ids) against ``pack``.

    ``questions`` is the persona's own question wording as the reviewer saw it (the task
    text of its prompt): a fact that only repeats it is not checked (rule 4).
    """
    markers = _markers(quote)
    masked = quote  # markers blanked by a character no fact pattern crosses
    for start, end, _, _ in markers:
        masked = masked[:start] + _BLANK * (end - start) + masked[end:]
    sentences = _sentences(quote)  # the same spans as _markers used
    per_sentence: list[list[str]] = [[] for _ in sentences]
    for _, _, ids, index in markers:
        here = per_sentence[min(index, len(sentences) - 1)]
        here.extend(i for i in ids if i not in here)
    echoed = {_signature(f) for q in questions for f in extract(q)}
    newest = max((s.fetched_at for s in pack.sources), default=None)
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
    facts = extract(masked)
    spans = [(f.start, f.end) for f in facts]
    for fact in facts:
        if _signature(fact) in echoed:
            continue
        index = next(i for i, (s, e) in enumerate(sentences) if s <= fact.start < e)
        sentence_ids = tuple(per_sentence[index])
        if not sentence_ids and newest is not None and _forecast(fact, newest):
            continue
        names = anchors(masked, fact, sentences[index], spans)
        outcome, source, reason = _judge(fact, sentence_ids, pack, names)
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
    all_ids = cited_ids(quote, cited)
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
