"""`panel digest --week 2026-W48`: the week's published verdicts as Markdown and an HTML email.

A comparison belongs to the ISO week (UTC) in which it was approved for
publication: the editor's approval, or the auto-approval of a record written
with ``[site] auto_approve``. So a record reviewed on Sunday and approved on
Monday is in Monday's week. Only each pair's live page counts (the record the
site shows: see :mod:`panel.records.publication`), so the digest never links to a page
that was taken down or superseded. Comparisons without a pick, and ones the
panel did not reach quorum on, are included and say so.

An empty week writes nothing: :func:`write_digest` returns no paths and the CLI
says so and exits 3. All text is escaped for its format; links are http(s) only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from panel.atomic import write_atomic
from panel.errors import PanelError
from panel.inputs.votes import Votes
from panel.publish.render import html
from panel.publish.render.markdown import escape
from panel.publish.render.view import page_view, safe
from panel.records.io import iter_records
from panel.records.publication import approval_time, live_pages, standing
from panel.records.schema import ComparisonRecord

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
TITLE = "Weekly AI Tool Verdicts"


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        match = _WEEK.match(text.strip())
        if not match:
            raise PanelError(f"week {text!r} is not an ISO week; write it like 2026-W48")
        week = cls(int(match.group(1)), int(match.group(2)))
        try:
            date.fromisocalendar(week.year, week.number, 1) + timedelta(days=7)
        except ValueError:
            raise PanelError(f"{text}: {week.year} has no week {week.number}") from None
        except OverflowError:  # the week ends past 9999-12-31
            raise PanelError(f"{text}: out of range; pick a week before 9999-W52") from None
        return week

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def contains(self, moment: datetime) -> bool:
        day = moment.astimezone(UTC).date()
        return 0 <= (day - self.start).days < 7


@dataclass(frozen=True)
class Published:
    record: ComparisonRecord
    at: datetime  # when it was approved for publication


@dataclass
class Selection:
    published: list[Published] = field(default_factory=list)  # newest first
    skipped: list[str] = field(default_factory=list)  # unreadable records, one line each


def week_records(runs: Path, week: Week) -> Selection:
    """Each pair's live page, if it was approved for publication in ``week``."""
    selection = Selection()

    def skip(message: str) -> None:
        selection.skipped.append(message.removeprefix("skipped "))

    found = ((standing(record), record) for _, record in iter_records(runs, warn=skip))
    for page in live_pages(found).values():
        at = approval_time(page.editorial, page.created_at)
        if at is not None and week.contains(at):
            selection.published.append(Published(page, at))
    selection.published.sort(key=lambda p: (p.at, p.record.id), reverse=True)
    return selection


@dataclass(frozen=True)
class ToolLine:
    name: str
    ship: str  # "75% panel ship", or "no valid verdicts"
    votes: str


@dataclass(frozen=True)
class Item:
    title: str
    answer: str  # "Ship with X." or "No pick."
    reason: str  # a sentence
    quorum_note: str  # "" when the panel reached quorum
    url: str
    tools: list[ToolLine]


def _items(records: list[ComparisonRecord], votes: dict[str, Votes], url: str | None) -> list[Item]:
    items = []
    for record in records:
        view = page_view(record, votes)
        page = "-vs-".join(c.slug for c in view.cards)
        items.append(
            Item(
                title=view.title,
                answer=f"Ship with {view.pick}." if view.picked else "No pick.",
                reason=view.answer_reason,
                quorum_note=view.quorum_note,
                url=f"{url}compare/{page}.html" if url else "",
                tools=[
                    ToolLine(
                        c.name,
                        "no valid verdicts"
                        if c.score.ship_pct is None
                        else f"{c.ship_label} panel ship",
                        c.votes.label,
                    )
                    for c in view.cards
                ],
            )
        )
    return items


def disclosure(records: list[ComparisonRecord]) -> str:
    models = sorted({safe(p) for r in records for p in r.panel.providers})
    listed = ", ".join(models) if models else "none"
    return (
        f"The verdicts and reasons in this digest are AI-generated by these models: {listed}. "
        "They read the vendors' own descriptions. An editor approved every comparison "
        "before it was published."
    )


def _subheading(week: Week) -> str:
    end = week.start + timedelta(days=6)
    return f"Week {week.number}, {week.year}: {week.start:%d %b} to {end:%d %b %Y}"


def markdown(week: Week, items: list[Item], note: str) -> str:
    lines = [f"# {TITLE}", "", f"*{escape(_subheading(week))}*", ""]
    for item in items:
        title = escape(item.title)
        lines.append(f"## [{title}](<{item.url}>)" if item.url else f"## {title}")
        lines += ["", f"**{escape(item.answer)}** {escape(item.reason)}", ""]
        if item.quorum_note:
            lines += [f"*Below quorum.* {escape(item.quorum_note)}", ""]
        for tool in item.tools:
            lines.append(
                f"- {escape(tool.name)}: {escape(tool.ship)}, community {escape(tool.votes)}"
            )
        lines.append("")
    lines += ["---", "", escape(note), ""]
    return "\n".join(lines)


def email_html(week: Week, items: list[Item], note: str) -> str:
    template = html.environment().get_template("digest.html.j2")
    return template.render(
        heading=f"{TITLE}, {week.label}",
        title=TITLE,
        subheading=_subheading(week),
        items=items,
        disclosure=note,
    )


@dataclass
class DigestResult:
    week: Week
    count: int
    paths: list[Path]  # empty when the week had nothing to send
    skipped: list[str]


def write_digest(
    runs: Path, week: Week, out: Path, votes: dict[str, Votes], base_url: str | None
) -> DigestResult:
    """Write WEEK.md and WEEK.html to ``out``; nothing at all for an empty week."""
    selection = week_records(runs, week)
    records = [p.record for p in selection.published]
    if not records:
        return DigestResult(week, 0, [], selection.skipped)
    items = _items(records, votes, base_url)
    note = disclosure(records)
    md_path, html_path = out / f"{week.label}.md", out / f"{week.label}.html"
    try:
        write_atomic(md_path, markdown(week, items, note).encode())
        write_atomic(html_path, email_html(week, items, note).encode())
    except OSError as exc:
        raise PanelError(f"cannot write the digest in {out}: {exc.strerror}") from None
    return DigestResult(week, len(items), [md_path, html_path], selection.skipped)
