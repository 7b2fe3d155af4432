"""A pair's verdict history on its page: the earlier approved records of the same pair.

"Was: Ship with X, reviewed 2026-11-20; changed after a price change." Only records an editor
approved and did not reject since count (a draft was never the panel's published word, and a
rejected one was taken down). What changed is worked out from the two records' cards, so the page
never guesses: the entry price, else the vendor's card, else nothing but a re-review.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from panel.errors import PanelError
from panel.publish.render.view import PastVerdict
from panel.publish.sitecache import PageSummary
from panel.publish.summary import summarise
from panel.records.io import load_in_runs, scan
from panel.records.publication import pair_key
from panel.records.schema import ComparisonRecord

MAX_HISTORY = 5


def _changed(older: PageSummary, newer: PageSummary) -> str:
    before = {t.slug: t for t in older.tools}
    after = {t.slug: t for t in newer.tools}
    if any(before[s].entry_price != after[s].entry_price for s in after if s in before):
        return "changed after a price change"
    fields = ("name", "vendor", "category", "tagline", "description", "url")
    if any(
        getattr(before[s], f) != getattr(after[s], f) for s in after if s in before for f in fields
    ):
        return "changed after the vendor's card changed"
    if older.pick != newer.pick:
        return "changed on a re-review"
    return "the same on a re-review"


def history(live: PageSummary, pair: Iterable[PageSummary]) -> tuple[PastVerdict, ...]:
    """Earlier approved verdicts on ``live``'s pair, newest first, at most MAX_HISTORY."""
    earlier = sorted(
        (
            s
            for s in pair
            if s.id != live.id
            and s.status != "rejected"
            and s.approved_at is not None
            and s.created_at < live.created_at
        ),
        key=lambda s: (s.created_at, s.id),
        reverse=True,
    )[:MAX_HISTORY]
    newer = [live, *earlier]
    return tuple(
        PastVerdict(
            answer=f"Ship with {s.pick}" if s.picked else "No pick",
            reviewed=s.reviewed,
            changed=_changed(s, newer[n]),
        )
        for n, s in enumerate(earlier)
    )


def pair_history(runs: Path, record: ComparisonRecord) -> tuple[PastVerdict, ...]:
    """``record``'s page history read from runs/ (the desk's preview; the build has its own)."""
    page = pair_key(record)
    live = summarise(record, "0" * 64)
    pair = []
    for path in scan(runs):
        if path.name.split(".")[0] != page:  # <a>-vs-<b>.json or <a>-vs-<b>.<n>.json
            continue
        try:
            other, data = load_in_runs(runs, path)
        except PanelError:
            continue
        if pair_key(other) == page:
            pair.append(summarise(other, hashlib.sha256(data).hexdigest()))
    return history(live, pair)
