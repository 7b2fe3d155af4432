"""Checkable facts in text: prices, percentages, versions, dates and numbers, normalised.

The grounding check (``grounding``) runs this over a quote and over each cited source, then
compares normalised values, so the same fact written two ways matches: ``$20/month`` =
``$20 per month`` = ``USD 20 monthly``; ``1.5k`` = ``1,500`` = ``1500``; ``50%`` =
``50 percent``; ``v2.1`` = ``2.1`` = ``2.1.0``; ``Dec 3, 2026`` = ``2026-12-03``.

Pure: no I/O, no clock. What is *not* a fact here (and why) is written once, in
``docs/ARCHITECTURE.md`` ("The grounding check"): spelled-out counting words ("three
concerns", "the first ten minutes"), digits inside names (``GPT-4o``, ``H100``, ``S3``),
ordinals (``1st``), ``24/7``, and small counts of the review's own points ("3 reasons").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class FactKind(StrEnum):
    PRICE = "price"
    PERCENTAGE = "percentage"
    VERSION = "version"
    DATE = "date"
    NUMBER = "number"


class Bound(StrEnum):
    """How a claim's value relates to the true one, from its wording."""

    EXACT = "exact"
    AT_LEAST = "at_least"  # "over 10k", "more than", "50+"
    AT_MOST = "at_most"  # "under", "up to", "less than"
    ABOUT = "about"  # "about", "roughly", "~", "nearly": within 10%


Day = tuple[int | None, int | None, int | None]  # (year, month, day); None: not stated


@dataclass(frozen=True, slots=True)
class Fact:
    kind: FactKind
    text: str  # as written
    start: int
    end: int
    value: Decimal | None = None  # price, percentage, number (and a bare year)
    step: Decimal = Decimal(0)  # the precision it was written at: 1.5k -> 100; exact -> 0
    bound: Bound = Bound.EXACT
    currency: str | None = None  # price: "USD", "EUR", …; None when not written
    period: str | None = None  # price: "month", "year", …; None when not written
    version: str | None = None  # canonical: no "v", no trailing ".0"
    day: Day | None = None
    units: tuple[str, ...] = ()  # what a number counts, singular: ("star",), ("weekly", "download")


def words(text: str) -> tuple[str, ...]:
    """A word list written as one string."""
    return tuple(text.split())


_MONTH_NAMES = ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
                "jul july", "aug august", "sep sept september", "oct october", "nov november",
                "dec december")  # fmt: skip
_MONTHS = {
    name: number
    for number, names in enumerate(
        (words(n) for n in _MONTH_NAMES),
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH = r"(?P<mon>(?:" + "|".join(sorted({n.title() for n in _MONTHS}, key=len, reverse=True))
_MONTH += r")\b\.?)"
_ORD = r"(?:st|nd|rd|th)?"
# A number: not part of a name (no letter or digit just before, nor "GPT-"), optional
# thousands separators and decimals, an optional k/M/B suffix or magnitude word.
_NUM = (
    r"(?<![\w.,/])(?<![A-Za-z]-)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?:(?P<suf>bn|[kKmMbB])(?![A-Za-z])|\s+(?P<mag>thousand|million|billion|trillion)\b)?"
)
_WORD_NUM = (
    r"\b(?P<word>one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|fifty|a)"
    r"\s+(?P<mag>thousand|million|billion)\b"
)
_WORD_VALUES = {"a": 1, "twelve": 12, "twenty": 20, "fifty": 50} | {
    w: i for i, w in enumerate(words("one two three four five six seven eight nine ten"), 1)
}
_MULTIPLIER = {"k": 10**3, "thousand": 10**3, "m": 10**6, "million": 10**6, "b": 10**9,
               "bn": 10**9, "billion": 10**9, "trillion": 10**12}  # fmt: skip
_CURRENCY_SIGN = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CODES = "USD|EUR|GBP|CAD|AUD|JPY|INR|CHF"
_CURRENCY_WORD = {"dollar": "USD", "buck": "USD", "euro": "EUR"}
_TIME = {
    word: period
    for period, names in (
        ("month", "month mo monthly"), ("year", "year yr annum annually yearly annual"),
        ("week", "week wk weekly"), ("day", "day daily"), ("hour", "hour hr hourly"),
    )
    for word in words(names)
}  # fmt: skip
# Abbreviations of what a number counts, so "4.2k QPS" counts queries as "4,200 queries" does.
_UNIT_ALIASES = {
    "qps": "query", "rps": "request", "tps": "token", "gigabyte": "gb", "megabyte": "mb",
    "millisecond": "ms", "sec": "second", "min": "minute", "hr": "hour", "repo": "repository",
}  # fmt: skip
_PER = r"(?:\s*/\s*|\s+(?:per|a|an|each)\s+)"
_PER_UNIT = _PER + r"(?:(?:1\s?[kKmM]|1,000|1,000,000|million|thousand|\d+)\s*)?(?P<u{n}>[A-Za-z]+)"
_PRICE_TAIL = (
    f"(?:{_PER_UNIT.format(n=1)}(?:{_PER_UNIT.format(n=2)})?"
    r"|\s+(?P<adverb>monthly|annually|yearly|weekly|daily|hourly)\b)?"
)
_BOUND_WORDS = {
    Bound.AT_LEAST: r"over|more than|above|at least|upwards of|north of|in excess of|crossed"
    r"|passed|surpassed|topped|>",
    Bound.AT_MOST: r"under|less than|fewer than|below|at most|up to|<",
    Bound.ABOUT: r"about|around|roughly|approximately|approx\.|nearly|almost|close to|~",
}
_BOUND = re.compile(
    r"(?i)(?:" + "|".join(f"(?P<{b.value}>{w})" for b, w in _BOUND_WORDS.items()) + r")\s*$"
)
_STOP = frozenset(
    words(
        "a an the and or of to in on for with at by from per is are was were be it its this "
        "that than as into over under about"
    )
)
# Counts of the review's own points ("3 reasons", "my 2 cents"): never facts about the tool.
DISCOURSE_NOUNS = frozenset(
    words(
        "reason concern thing question point way takeaway caveat worry objection lesson idea "
        "argument observation note cent"
    )
)
MAX_DISCOURSE_COUNT = 10

_DATE_PATTERNS = (
    # 2026-12-03, 2026-12-03T10:00:00Z
    re.compile(
        r"(?<![\w.])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w-])"
    ),
    # Dec 3, 2026 · December 3rd 2026 · Dec. 3
    re.compile(_MONTH + r"\s+(?P<d>\d{1,2})" + _ORD + r"(?![\d:])(?:,?\s+(?P<y>\d{4})(?!\d))?"),
    # 3 December 2026 · 3rd of Dec 2026
    re.compile(
        r"(?<![\w.])(?P<d>\d{1,2})"
        + _ORD
        + r"\s+(?:of\s+)?"
        + _MONTH
        + r"(?:,?\s+(?P<y>\d{4})(?!\d))?"
    ),
    # December 2026 · Dec, 2026
    re.compile(_MONTH + r",?\s+(?P<y>\d{4})(?!\d)"),
    # 12/03/2026 (month and day order unknown: both are kept)
    re.compile(r"(?<![\w./])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})(?![\w/])"),
)
_PRICE_PATTERNS = (
    re.compile(r"(?i)(?P<sign>us\$|\$|€|£|¥|₹|\b(?:" + _CODES + r")\s?)" + _NUM + _PRICE_TAIL),
    re.compile(_NUM + r"\s?(?P<code>" + _CODES + r"|dollars?|bucks?|euros?)\b" + _PRICE_TAIL),
    # a bare amount with a period ("20 / month") is a price without a currency
    re.compile(_NUM + r"(?=" + _PER + r"(?:month|mo|year|yr|week|day)\b)" + _PRICE_TAIL),
)
_PERCENT = re.compile(_NUM + r"\s?(?:%|percent\b|per\s?cent\b|pct\b)")
_VERSION_PATTERNS = (
    re.compile(r"(?<![\w.])[vV](?P<v>\d+(?:\.\d+)*(?:-?(?:alpha|beta|rc)\.?\d*)?)(?![\w.]*\d)"),
    re.compile(r"(?i)\b(?:version|release)\s+(?P<v>\d+(?:\.\d+)*)(?![\w.]*\d)"),
    re.compile(
        r"(?<![\w.])(?P<v>\d+\.\d+\.\d+(?:[-.+]?(?:alpha|beta|rc|post|dev)\.?\d*)?)(?![\w.])"
    ),
)
_NUMBER = re.compile(_NUM + r"(?P<plus>\+)?(?P<x>x(?![A-Za-z]))?(?![A-Za-z\d])")
_WORD_NUMBER = re.compile(_WORD_NUM, re.IGNORECASE)
_UNIT_AFTER = re.compile(r"[ \t]*-?[ \t]*([A-Za-z]+)")
_KEY_BEFORE = re.compile(r"([A-Za-z][A-Za-z_ ]{0,30}?)\"?[ \t]*[:=][ \t]*\"?$")  # "stars: 1512"
_YEAR_BEFORE = re.compile(
    r"(?i)\b(?:in|by|since|until|till|from|before|after|of|early|late|mid)[ -]$"
)
_IDIOMS = re.compile(r"(?<![\w/])24/7(?![\w/])")


def _singular(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"  # queries -> query
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _number(m: re.Match[str]) -> tuple[Decimal, Decimal]:
    """The value and the step it was written at (0 when written in full)."""
    whole, dec = m.group("int").replace(",", ""), m.group("dec") or ""
    scale = (m.group("suf") or m.group("mag") or "").lower()
    value = Decimal(f"{whole}.{dec}" if dec else whole)
    if not scale:
        return value, Decimal(0)
    multiplier = Decimal(_MULTIPLIER[scale])
    return value * multiplier, Decimal(1).scaleb(-len(dec)) * multiplier


def _unit_word(word: str) -> str:
    one = _singular(word)
    return _UNIT_ALIASES.get(word.lower()) or _UNIT_ALIASES.get(one, one)


def _units(text: str, start: int, end: int) -> tuple[str, ...]:
    """What a number counts: the (up to two) words right after it ("10,412 stars", "412k
    weekly downloads"), up to a stop word; else the key before it ("stars: 1512")."""
    found: list[str] = []
    while len(found) < 2:
        m = _UNIT_AFTER.match(text, end)
        if not m or m.group(1).lower() in _STOP:
            break
        found.append(_unit_word(m.group(1)))
        end = m.end()
    key = _KEY_BEFORE.search(text[max(0, start - 40) : start])
    if not found and key:
        return (_unit_word(key.group(1).strip().replace("_", " ").split()[-1]),)
    return tuple(found)


def _bound(text: str, start: int, plus: bool = False) -> Bound:
    if plus:
        return Bound.AT_LEAST
    m = _BOUND.search(text[max(0, start - 24) : start])
    if not m:
        return Bound.EXACT
    return next(b for b in Bound if b is not Bound.EXACT and m.group(b.value))


def version_key(raw: str) -> str:
    """``v2.1.0`` -> ``2.1``; ``2.0`` -> ``2``; pre-release tags kept, lower-case."""
    raw = raw.lower().removeprefix("v")
    head, sep, tail = raw.partition("-") if "-" in raw else (raw, "", "")
    parts = head.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts) + (sep + tail if tail else "")


def _day(m: re.Match[str]) -> list[Day]:
    groups = m.groupdict()
    year = int(groups["y"]) if groups.get("y") else None
    if "a" in groups:
        a, b = int(groups["a"]), int(groups["b"])
        return [(year, x, y) for x, y in ((a, b), (b, a)) if 1 <= x <= 12 and 1 <= y <= 31]
    if groups.get("mon"):
        month: int | None = _MONTHS[groups["mon"].rstrip(".").lower()]
    else:
        month = int(groups["m"])
    day = int(groups["d"]) if groups.get("d") else None
    if not (month and 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return []
    return [(year, month, day)]


class _Scanner:
    """Finds facts pattern by pattern; each found span is masked from later patterns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.work = _IDIOMS.sub(lambda m: " " * len(m.group()), text)
        self.facts: list[Fact] = []
        self.taken: list[tuple[int, int]] = []

    def each(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """Matches in the text not yet taken; what they take is masked once they are done."""
        yield from list(pattern.finditer(self.work))
        if self.taken:
            pieces, at = [], 0
            for start, end in sorted(self.taken):
                pieces += [self.work[at:start], " " * (end - start)]
                at = end
            self.work = "".join(pieces) + self.work[at:]
            self.taken.clear()

    def take(self, m: re.Match[str], fact: Fact) -> None:
        self.facts.append(fact)
        self.take_span(m)

    def fact(self, m: re.Match[str], kind: FactKind, **fields: object) -> Fact:
        raw = self.text[m.start() : m.end()]
        start = m.start() + len(raw) - len(raw.lstrip())
        text = raw.strip()
        return Fact(kind, text, start, start + len(text), **fields)  # type: ignore[arg-type]

    def dates(self) -> None:
        for pattern in _DATE_PATTERNS:
            for m in self.each(pattern):
                for day in _day(m):
                    self.facts.append(self.fact(m, FactKind.DATE, day=day))
                self.take_span(m)

    def take_span(self, m: re.Match[str]) -> None:
        self.taken.append((m.start(), m.end()))

    def prices(self) -> None:
        for pattern in _PRICE_PATTERNS:
            for m in self.each(pattern):
                value, step = _number(m)
                groups = m.groupdict()
                sign = (groups.get("sign") or "").strip().lower()
                code = (groups.get("code") or "").lower()
                currency = _CURRENCY_SIGN.get(sign) or (sign.upper() if sign else None)
                if code:
                    currency = _CURRENCY_WORD.get(_singular(code), code.upper())
                units = [_singular(groups.get(k) or "") for k in ("u1", "u2", "adverb")]
                period = next((_TIME[u] for u in units if u in _TIME), None)
                bound = _bound(self.work, m.start())
                fact = self.fact(
                    m, FactKind.PRICE, value=value, step=step, bound=bound,
                    currency=currency, period=period,
                )  # fmt: skip
                self.take(m, fact)

    def percentages(self) -> None:
        for m in self.each(_PERCENT):
            value, _ = _number(m)
            step = Decimal(1).scaleb(-len(m.group("dec") or ""))
            bound = _bound(self.work, m.start())
            self.take(m, self.fact(m, FactKind.PERCENTAGE, value=value, step=step, bound=bound))

    def versions(self) -> None:
        for pattern in _VERSION_PATTERNS:
            for m in self.each(pattern):
                self.take(m, self.fact(m, FactKind.VERSION, version=version_key(m.group("v"))))

    def numbers(self) -> None:
        for pattern in (_WORD_NUMBER, _NUMBER):
            for m in self.each(pattern):
                self._one_number(m)

    def _one_number(self, m: re.Match[str]) -> None:
        groups = m.groupdict()
        if "word" in groups:
            value = Decimal(
                _WORD_VALUES[groups["word"].lower()] * _MULTIPLIER[groups["mag"].lower()]
            )
            step = Decimal(_MULTIPLIER[groups["mag"].lower()])
        else:
            value, step = _number(m)
        units = ("x",) if groups.get("x") else _units(self.text, m.start(), m.end())
        bound = _bound(self.work, m.start(), plus=bool(groups.get("plus")))
        plain = step == 0 and "." not in m.group() and not groups.get("x")
        if plain and units[:1] and units[0] in DISCOURSE_NOUNS and value <= MAX_DISCOURSE_COUNT:
            self.take_span(m)  # "3 reasons": the review's own structure
            return
        year_word = _YEAR_BEFORE.search(self.text[max(0, m.start() - 12) : m.start()])
        if plain and (not units or year_word) and 1990 <= value <= 2100 and "," not in m.group():
            year = int(value)
            self.take(m, self.fact(m, FactKind.DATE, value=value, day=(year, None, None)))
            return
        fact = self.fact(m, FactKind.NUMBER, value=value, step=step, bound=bound, units=units)
        self.take(m, fact)


def extract(text: str) -> list[Fact]:
    """Every checkable fact in ``text``, in reading order."""
    scanner = _Scanner(text)
    scanner.dates()
    scanner.prices()
    scanner.percentages()
    scanner.versions()
    scanner.numbers()
    return sorted(scanner.facts, key=lambda f: (f.start, f.end))
