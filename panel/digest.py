"""`panel digest --week 2026-W48`: the week's approved verdicts as Markdown and an HTML email.

A comparison belongs to the ISO week in which it was reviewed (its record's
``created_at``, UTC). Only approved or published records appear, the newest per
pair. All text is escaped for its format; links are http(s) only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from panel.atomic import write_atomic
from panel.errors import PanelError
from panel.models import ComparisonRecord
from panel.records import iter_records
from panel.render import html
from panel.render.markdown import escape
from panel.render.view import DISCLOSURE, page_view
from panel.votes import Votes

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


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
            raise PanelError(f"{text}: the week ends after the last date panel handles") from None
        return week

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def contains(self, moment: datetime) -> bool:
        day = moment.astimezone(UTC).date()
        return self.start <= day < self.start + timedelta(days=7)


def week_records(runs: Path, week: Week) -> list[ComparisonRecord]:
    """The week's publishable records, newest per pair, newest first."""
    newest: dict[str, ComparisonRecord] = {}
    for _, record in iter_records(runs):
        if record.editorial.status not in ("approved", "published"):
            continue
        if not week.contains(record.created_at):
            continue
        pair = "-vs-".join(t.slug for t in record.tools)
        if pair not in newest or (record.created_at, record.id) > (
            newest[pair].created_at,
            newest[pair].id,
        ):
            newest[pair] = record
    return sorted(newest.values(), key=lambda r: (r.created_at, r.id), reverse=True)


@dataclass(frozen=True)
class ToolLine:
    name: str
    ship: str
    votes: str


@dataclass(frozen=True)
class Item:
    title: str
    pick: str
    reason: str
    url: str
    tools: list[ToolLine]


def _items(
    records: list[ComparisonRecord], votes: dict[str, Votes], base_url: str | None
) -> list[Item]:
    items = []
    for record in records:
        view = page_view(record, votes)
        page = "-vs-".join(c.slug for c in view.cards)
        items.append(
            Item(
                title=view.title,
                pick=view.pick,
                reason=view.pick_reason,
                url=f"{base_url}compare/{page}.html" if base_url else "",
                tools=[ToolLine(c.name, c.ship_label, c.votes.label) for c in view.cards],
            )
        )
    return items


def _subheading(week: Week) -> str:
    end = week.start + timedelta(days=6)
    return f"Week {week.number}, {week.year}: {week.start:%d %b} to {end:%d %b %Y}"


def markdown(week: Week, items: list[Item]) -> str:
    lines = ["# Weekly AI Tool Verdicts", "", f"*{escape(_subheading(week))}*", ""]
    for item in items:
        title = escape(item.title)
        lines.append(f"## [{title}](<{item.url}>)" if item.url else f"## {title}")
        lines += ["", f"**Panel pick: {escape(item.pick)}.** {escape(item.reason)}.", ""]
        for tool in item.tools:
            lines.append(
                f"- {escape(tool.name)}: {escape(tool.ship)} panel ship, "
                f"community {escape(tool.votes)}"
            )
        lines.append("")
    if not items:
        lines += ["No verdicts were approved this week.", ""]
    lines += ["---", "", escape(DISCLOSURE), ""]
    return "\n".join(lines)


def email_html(week: Week, items: list[Item]) -> str:
    template = html.environment().get_template("digest.html.j2")
    return template.render(
        heading=f"Weekly AI Tool Verdicts, {week.label}",
        subheading=_subheading(week),
        items=items,
        disclosure=DISCLOSURE,
    )


def write_digest(
    runs: Path, week: Week, out: Path, votes: dict[str, Votes], base_url: str | None
) -> tuple[Path, Path, int]:
    records = week_records(runs, week)
    items = _items(records, votes, base_url)
    md_path, html_path = out / f"{week.label}.md", out / f"{week.label}.html"
    try:
        write_atomic(md_path, markdown(week, items).encode())
        write_atomic(html_path, email_html(week, items).encode())
    except OSError as exc:
        raise PanelError(f"cannot write the digest in {out}: {exc.strerror}") from None
    return md_path, html_path, len(items)
