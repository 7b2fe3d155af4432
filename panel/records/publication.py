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

What a record *is* to a reader follows from the page rule, in one place
(:func:`shown_state`): it is ``published`` (live on the site) only while it is its
pair's page and the site build has published it; an approved page not built yet is
``approved``; an approved or published record that is no longer its pair's page is
``superseded``. `panel show`, `panel list` and the desk all say it so.

A record whose panel did not reach quorum is *incomplete*; approving it takes
``--force``, and its page says plainly that the panel did not reach quorum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from panel.providers.registry import stand_in
from panel.records.schema import ComparisonRecord, Editorial

PUBLISHABLE = ("approved", "published")
T = TypeVar("T")

# What each shown state means for the site, in the editor's words.
MEANING = {
    "draft": "not reviewed yet; not on the site",
    "approved": "the pair's page from the next `panel site build`; not on the site yet",
    "published": "live on the site: the pair's page",
    "superseded": "not the pair's page: another record is (or the page was taken down)",
    "rejected": "never published; a published page is taken down",
}
SHOWN_STATES = tuple(MEANING)


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


def shown_state(status: str, is_page: bool) -> str:
    """The one rule for what a record is to a reader: its editorial status, except that an
    approved or published record that is not its pair's page is ``superseded``."""
    return "superseded" if status in PUBLISHABLE and not is_page else status


def shown_states(standings: Iterable[Standing]) -> dict[str, str]:
    """Record id -> its shown state, among any records (each judged within its pair)."""
    found = list(standings)
    pages = {s.id for s in live_pages((s, s) for s in found).values()}
    return {s.id: shown_state(s.status, s.id in pages) for s in found}


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


def shortfall_fix(record: ComparisonRecord, short: Shortfall) -> str:
    """What can bring ``record``'s pair to quorum. A rerun repeats the same panel, so where
    recusals cost the quorum it would recuse the same seats again: name another panel."""
    recused = sorted({c.provider for c in record.calls if c.recused})
    if short.recused and recused:
        a, b = (t.slug for t in record.tools)
        return (
            f"review the pair on another panel, with models whose vendor makes neither tool: "
            f"`panel review {a} {b} --provider PROVIDER` (a rerun would recuse "
            f"{', '.join(recused)} again)"
        )
    return f"re-run it with `panel rerun {record.id}`"


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


def stand_ins(record: ComparisonRecord) -> dict[str, str]:
    """Providers whose answers in ``record`` are not fit to publish (mock, the embedded test
    model), with why; empty for a record reviewed by real models only."""
    found: dict[str, str] = {}
    for call in record.calls:
        if call.provider not in found:
            why = stand_in(call.provider, call.model, call.model_version)
            if why is not None:
                found[call.provider] = why
    for name in record.panel.providers:  # a panel whose every call failed is still named
        if name not in found and (why := stand_in(name, "", None)) is not None:
            found[name] = why
    return found


def stand_in_note(found: dict[str, str]) -> str:
    """``mock/any: mock answers: no model was asked``; several joined with ``; ``."""
    return "; ".join(f"{name}: {why}" for name, why in found.items())
