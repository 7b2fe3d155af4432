"""What the site needs from one record (a ``PageSummary``), and its headline sentence.

The site build caches summaries by file stat (``sitecache``); the desk's preview and the page
history (``history``) make them the same way, so a preview is the page the build writes.
"""

from __future__ import annotations

from panel.publish.render import sources
from panel.publish.render.view import page_view
from panel.publish.sitecache import PageSummary, ToolSummary
from panel.records.publication import approval_time
from panel.records.schema import ComparisonRecord


def summarise(record: ComparisonRecord, digest: str) -> PageSummary:
    view = page_view(record)
    return PageSummary(
        id=record.id,
        page="-vs-".join(t.slug for t in record.tools),
        title=view.title,
        pick=view.pick,
        picked=view.picked,
        reason=view.answer_reason,
        quorum_note=view.quorum_note,
        reviewed=record.created_at.date(),
        created_at=record.created_at,
        status=record.editorial.status,
        approved_at=approval_time(record.editorial, record.created_at),
        approved_by=view.approved_by,
        published_at=record.editorial.published_at,
        ship={c.slug: c.ship_label for c in view.cards},
        tools=[
            ToolSummary(
                slug=c.slug,
                name=c.name,
                vendor=c.vendor,
                category=c.category,
                tagline=c.tagline,
                description=c.description,
                entry_price=c.entry_price,
                url=c.url,
            )
            for c in view.cards
        ],
        models=view.providers,
        digest=digest,
        evidence=" ".join(sources.label(c.name, c.sources) for c in view.cards),
    )


def headline(summary: PageSummary) -> str:
    """The one answer in a sentence or two: "Ship with X. X has the higher ... ."."""
    answer = f"Ship with {summary.pick}." if summary.picked else "No pick."
    text = f"{answer} {summary.reason}"
    return f"{text} {summary.quorum_note}" if summary.quorum_note else text
