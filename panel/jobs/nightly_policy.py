"""The nightly's rules, in one place: what is due tonight, retries, given up, re-review.

Every other nightly module asks this one; none applies a rule of its own.

- **New tools** (``new_tool``): a tool with no record is reviewed when it launched on or
  after ``since`` (the start of the last finished nightly), or when panel learned of it
  after a nightly (imported late, whatever its launch date). The store remembers the tools
  it has seen (``Store.learn_tools``): what it knew at its first look is not "late".
- **Re-review** (``rereview``): a reviewed pair is planned again for the first reason in
  ``REREVIEW`` that holds. A new reason is one function there, of the last review and
  tonight's ``Look``; it returns the reason's words, or None.
- **Retries** (``RetryRule``): a failed call (an error, or an answer withheld by the leak
  and quote checks) is retried once a night, on at most ``retry_nights`` nights; after
  that it is given up: its last result stands, and the summary lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from panel.inputs.catalog import Tool
from panel.records.rows import FailureHistory, IndexedRecord, ReviewInputs
from panel.records.store import Store


class Standing(StrEnum):
    """Where a call stands tonight under the retry rule."""

    FRESH = "fresh"  # never failed (or answered since): answered as usual, cache first
    DUE = "due"  # failed or withheld on an earlier night: sent again tonight, fresh
    HELD = "held"  # failed earlier today: at most one retry a night
    GIVEN_UP = "given-up"  # failed on ``retry_nights`` nights: its last result stands


@dataclass(frozen=True)
class RetryRule:
    retry_nights: int
    today: str  # YYYY-MM-DD, the night's date

    def standing(self, history: FailureHistory) -> Standing:
        if history.nights == 0:
            return Standing.FRESH
        if history.nights >= self.retry_nights:
            return Standing.GIVEN_UP
        if history.failed_on == self.today:
            return Standing.HELD
        return Standing.DUE

    def may_retry(self, history: FailureHistory) -> bool:
        """Would a failed call with this history be sent tonight?"""
        return self.standing(history) in (Standing.FRESH, Standing.DUE)


@dataclass(frozen=True)
class Look:
    """What tonight looks at: the window for launches, the late tools and the retry rule."""

    since: date
    retry: RetryRule
    history: Callable[[str], FailureHistory]  # call key -> its failures (the store's)
    late: dict[str, float] = field(default_factory=dict)  # slug -> when panel learned of it


def look(store: Store, since: date, retry: RetryRule, slugs: Iterable[str], first: bool) -> Look:
    """Tonight's look, after remembering the catalog's tools (``first``: no nightly yet)."""
    late = not first and store.knows_tools()
    store.learn_tools(slugs, late=late)
    return Look(since, retry, store.failed_before, store.late_tools())


def new_tool(tool: Tool, tonight: Look) -> str | None:
    """Why a tool with no record is reviewed tonight, or None."""
    if tool.launched is not None and tool.launched >= tonight.since:
        return f"launched {tool.launched}, no record yet"
    seen = tonight.late.get(tool.slug)
    if seen is not None:
        learned = datetime.fromtimestamp(seen, UTC).date()
        launched = tool.launched.isoformat() if tool.launched else "unknown"
        return f"added to the catalog {learned} (launched {launched}), no record yet"
    return None


def inputs_changed(last: IndexedRecord, now: ReviewInputs, tonight: Look) -> str | None:
    """An input of the review changed: catalog entry, persona, prompt or model."""
    labels = {
        "catalog": "catalog entry",
        "personas": "persona",
        "templates": "prompt",
        "models": "model",
        "evidence": "evidence",  # a source's text changed (panel.evidence), or one was fetched
    }
    before = last.inputs
    changed = [label for key, label in labels.items() if getattr(before, key) != getattr(now, key)]
    return f"changed since last review: {', '.join(changed)}" if changed else None


def retry_due(last: IndexedRecord, now: ReviewInputs, tonight: Look) -> str | None:
    """The last review was incomplete or had failed calls, and one is due for a retry."""
    failed = last.inputs.failed
    if last.status != "incomplete" and not failed:
        return None
    retry = [key for key in failed or () if tonight.retry.may_retry(tonight.history(key))]
    if not retry and failed is not None:  # older index rows kept no list: plan them again
        return None
    what = "incomplete" if last.status == "incomplete" else "partly failed"
    calls = "failed call" if len(retry) == 1 else "failed calls"
    return f"last review was {what}; {len(retry)} {calls} due"


Reason = Callable[[IndexedRecord, ReviewInputs, Look], str | None]
# The re-review reasons, first match wins. Add one here (and a test in tests/test_nightly*).
REREVIEW: list[Reason] = [inputs_changed, retry_due]


def rereview(last: IndexedRecord, now: ReviewInputs, tonight: Look) -> str | None:
    """Why a reviewed pair is planned again tonight, or None."""
    for reason in REREVIEW:
        why = reason(last, now, tonight)
        if why:
            return why
    return None


def same_answers(last: IndexedRecord | None, answers: str) -> bool:
    """Did the pair's last record say exactly this? Then a re-review writes no record."""
    return last is not None and last.inputs.answers == answers
