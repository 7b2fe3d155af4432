"""Which record is a pair's page, and whether a record is fit to publish.

One rule for the site, the digest and the editorial commands:

- The page for a pair of tools is the record the editor approved most recently
  (``[site] auto_approve`` counts as an approval). Approving a newer record
  supersedes the approval of older ones.
- Rejecting the live record takes the pair's page down. No older record comes
  back on its own: putting one back takes an explicit ``panel approve``.
- Rejecting a record that was never approved (a draft) leaves the page alone.

Calibration reads another rule, over the same standings: per tool, the newest
record reviewing it that is not rejected (:func:`newest_reviews`).

A record whose panel did not reach quorum is *incomplete*; approving it takes
``--force``, and its page says plainly that the panel did not reach quorum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from panel.records.schema import ComparisonRecord, Editorial

PUBLISHABLE = ("approved", "published")
T = TypeVar("T")


@dataclass(frozen=True)
class Standing:
    """What the page rule needs to know about one record."""

    id: str
    status: str
    approved_at: datetime | None  # the editor's latest approval; None if never approved
    created_at: datetime
    page: str  # the pair's page: "<a>-vs-<b>" (pair_key)
    tools: tuple[str, str]  # the slugs of the tools it reviews


def approval_time(editorial: Editorial, created_at: datetime) -> datetime | None:
    """When the record was last approved; None if it never was.

    A publishable record without an approval in its history (written by hand or by
    an old tool) counts as approved when it was published, else when it was made.
    """
    times = [event.at for event in editorial.history if event.action == "approved"]
    if times:
        return max(times)
    if editorial.status in PUBLISHABLE:
        return editorial.published_at or created_at
    return None


def standing(record: ComparisonRecord) -> Standing:
    first, second = (t.slug for t in record.tools)
    return Standing(
        id=record.id,
        status=record.editorial.status,
        approved_at=approval_time(record.editorial, record.created_at),
        created_at=record.created_at,
        page=pair_key(record),
        tools=(first, second),
    )


def live(items: Iterable[tuple[Standing, T]]) -> T | None:
    """The pair's page among one pair's records, or None when the pair has no page."""
    approved = [(s, item) for s, item in items if s.approved_at is not None]
    if not approved:
        return None
    last, item = max(approved, key=lambda pair: _order(pair[0]))
    return item if last.status in PUBLISHABLE else None


def _order(s: Standing) -> tuple[datetime, datetime, str]:
    assert s.approved_at is not None
    return (s.approved_at, s.created_at, s.id)


def _grouped(
    items: Iterable[tuple[Standing, T]], keys: Callable[[Standing], Iterable[str]]
) -> dict[str, list[tuple[Standing, T]]]:
    groups: dict[str, list[tuple[Standing, T]]] = defaultdict(list)
    for item in items:
        for key in keys(item[0]):
            groups[key].append(item)
    return groups


def live_pages(items: Iterable[tuple[Standing, T]]) -> dict[str, T]:
    """Every pair's page among any records, keyed by page; a pair without one is left out.

    The site and the digest both choose pages with this.
    """
    pages = {}
    for page, group in _grouped(items, lambda s: (s.page,)).items():
        chosen = live(group)
        if chosen is not None:
            pages[page] = chosen
    return pages


def newest_reviews(items: Iterable[tuple[Standing, T]]) -> dict[str, T]:
    """Per tool slug, the newest record reviewing it that is not rejected (for calibration)."""
    kept = ((s, item) for s, item in items if s.status != "rejected")
    return {
        slug: max(group, key=lambda pair: (pair[0].created_at, pair[0].id))[1]
        for slug, group in _grouped(kept, lambda s: s.tools).items()
    }


def pair_key(record: ComparisonRecord) -> str:
    """The page a record belongs to: its tools' slugs in record order."""
    return "-vs-".join(t.slug for t in record.tools)


@dataclass(frozen=True)
class Shortfall:
    """How far an incomplete record fell short of quorum."""

    valid: int  # valid verdicts
    total: int  # verdict calls
    recused: int  # verdicts set aside for a conflict of interest
    tools: list[str]  # slugs of the tools that missed quorum
    rule: str  # what quorum asks, in words
    abstained: int = 0  # verdicts whose reviewer found the evidence insufficient

    def counts(self) -> str:
        text = f"{self.valid} of {self.total} verdicts valid"
        text += f", {self.recused} recused" if self.recused else ""
        return text + (f", {self.abstained} abstained" if self.abstained else "")


def shortfall(record: ComparisonRecord) -> Shortfall | None:
    """None for a complete record; else the numbers an editor and a reader need."""
    if record.status == "complete":
        return None
    verdicts = [c for c in record.calls if c.kind == "verdict"]
    return Shortfall(
        valid=sum(1 for c in verdicts if c.outcome == "valid"),
        total=len(verdicts),
        recused=sum(1 for c in verdicts if c.outcome == "recused"),
        tools=[s.tool for s in record.scores.tools if not s.quorum_met],
        rule=record.scores.quorum.words,
        abstained=sum(1 for c in verdicts if c.outcome == "abstained"),
    )
