"""Does a fact in a source match a fact in a quote, or state the same thing differently?

``supports`` compares normalised values (``facts``) at the precision and bound the claim was
written at; ``competes`` says a source fact is of the same sort (another price, another
date), so that a source without a match contradicts the claim rather than staying silent.
``rebound`` catches an attribute swap: the claim's value is on the page, but next to
another name than the one the quote gives it. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from panel.evidence.facts import Bound, Fact, FactKind, version_key, words

_ABOUT = Decimal("0.1")  # "about 10k": within 10%


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
    return exact or not claim.units or bool(set(claim.units) & set(found.units))


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


def supports(claim: Fact, found: Fact) -> bool:
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
    key = _version_of(found) if claim.step == 0 and "." in claim.text else None
    if key is not None and _prefix(version_key(claim.text), key):
        return True  # "the 3.0 engine" and "3.0.0"
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


def competes(claim: Fact, found: Fact) -> bool:
    """Does ``found`` state the same kind of fact differently (a contradiction)?"""
    if claim.kind is FactKind.PRICE:
        return found.kind is FactKind.PRICE and _periods_agree(claim, found)
    if claim.kind is FactKind.PERCENTAGE:
        return found.kind is FactKind.PERCENTAGE
    if claim.kind is FactKind.VERSION:
        return found.kind is FactKind.VERSION
    if claim.kind is FactKind.DATE:
        return found.kind is FactKind.DATE and _granular(claim, found)
    return found.kind is FactKind.NUMBER and bool(set(claim.units) & set(found.units))


_CAPITALISED = re.compile(r"(?<![\w$€£.])[A-Z][A-Za-z0-9]*(?:[-+][A-Za-z0-9]+)*")
_CLAUSE = re.compile(r"[;:()\u2013\u2014]|,\s")
_NOT_NAMES = frozenset(
    words(
        "The A An It Its At In On With For This That These Those And But Or If So As By From "
        "To Of Version Release Jan January Feb February Mar March Apr April May Jun June Jul "
        "July Aug August Sep Sept September Oct October Nov November Dec December"
    )
)


def anchors(
    quote: str, fact: Fact, sentence: tuple[int, int], spans: Iterable[tuple[int, int]]
) -> tuple[str, ...]:
    """The names in the clause of ``quote`` that holds ``fact``: capitalised words
    ("Business", "GitLab", "SSO") outside every fact's span (``spans``)."""
    spans = list(spans)

    def inside(at: int) -> bool:
        return any(s <= at < e for s, e in spans)

    start, end = sentence
    cuts = [start + m.start() for m in _CLAUSE.finditer(quote, start, end)]
    cuts = [c for c in cuts if not inside(c)]
    left = max((c for c in cuts if c < fact.start), default=start)
    right = min((c for c in cuts if c >= fact.end), default=end)
    found = []
    for m in _CAPITALISED.finditer(quote, left, right):
        if not inside(m.start()) and m.group() not in _NOT_NAMES and m.group() not in found:
            found.append(m.group())
    return tuple(found)


def rebound(
    claim: Fact, names: Iterable[str], text: str, found: Iterable[Fact]
) -> tuple[str, Fact] | None:
    """A name and a fact of ``text`` that contradict ``claim`` by what it is attached to.

    The quote gives the claim's value to ``names`` ("The Business tier is $24 a month").
    If no line of the source that mentions one of those names supports the claim, and such
    a line states a competing fact ("Business: $39 per user per month"), the value on the
    page belongs to something else (Pro's $24): that name and competing fact are returned.
    """
    lines, at = [], 0
    for line in text.splitlines(keepends=True):
        lines.append((at, at + len(line)))
        at += len(line)
    facts = list(found)
    rival: tuple[str, Fact] | None = None
    for name in names:
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
        near = [
            f for s, e in lines if pattern.search(text, s, e) for f in facts if s <= f.start < e
        ]
        if any(supports(claim, f) for f in near):
            return None
        rival = rival or next(((name, f) for f in near if competes(claim, f)), None)
    return rival
