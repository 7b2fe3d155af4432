"""`panel site build`: a static site from the approved records, incremental and deterministic.

For each pair, the page is the record the editor approved most recently, unless
it has since been rejected (:mod:`panel.records.publication`). Building marks a newly
included record ``published``. Output bytes depend only on the records, the
votes, the templates and the [site] settings, never on the clock, so the same
inputs give byte-identical files.

Incremental: a build cache in ``runs/.site-cache/`` remembers each record file's
stat and summary and each output's input key (:mod:`panel.publish.sitecache`, which
treats the cache as untrusted). An unchanged record is not read again; an
output whose key is unchanged is not rendered, and no file is rewritten with
identical bytes. Pages that no longer have a record (rejected) are removed:
every page carries panel's mark, so even pages written by a build that was
killed are known to the next one (:mod:`panel.publish.siteout`). One build at a time
runs per site folder.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from panel import __version__, clock
from panel.config import SiteSection
from panel.errors import PanelError
from panel.inputs.votes import NO_VOTES, Votes, stored_votes
from panel.lock import exclusive
from panel.paths import Home
from panel.publish import methodology
from panel.publish.alternatives import alternatives, competitors
from panel.publish.history import history
from panel.publish.render import html
from panel.publish.render.base import (
    Comparison,
    Context,
    Entry,
    Feed,
    IndexPage,
    Methodology,
    Renderer,
    Sitemap,
    Subject,
    ToolPage,
    as_bytes,
)
from panel.publish.sitecache import BuildCache, PageSummary
from panel.publish.siteout import SiteWriter, outputs, page_rel, place
from panel.publish.summary import headline, summarise
from panel.records.editorial import publish
from panel.records.io import load_in_runs, scan
from panel.records.publication import (
    Standing,
    live_pages,
    stand_in_note,
    stand_ins,
)
from panel.records.schema import ComparisonRecord
from panel.urls import http_url


@dataclass(frozen=True)
class SiteOptions:
    out: Path
    base_url: str  # absolute, ends with "/" ("" only outside a build: no page URLs)
    title: str
    index_size: int = 50
    feed_size: int = 50
    newsletter_action: str = ""  # [site] newsletter_action: the signup form's endpoint
    newsletter_field: str = "email"

    @classmethod
    def of(cls, site: SiteSection, out: Path, url: str) -> SiteOptions:
        """The options of a build from ``[site]``; ``url`` the public URL ("" if unknown)."""
        return cls(
            out=out,
            base_url=base_url(url) if url else "",
            title=site.title,
            index_size=site.index_size,
            feed_size=site.feed_size,
            newsletter_action=site.newsletter_action or "",
            newsletter_field=site.newsletter_field,
        )

    def context(self, made: list[tuple[str, Renderer]], rel: str) -> Context:
        """What the format writing ``rel`` needs: the site's settings, the output's place
        (its URL) and the same subject's other formats beside it (``made``)."""
        links = {r.media_type: PurePosixPath(o).name for o, r in made if o != rel}
        return Context(
            site_title=self.title,
            newsletter_action=self.newsletter_action,
            newsletter_field=self.newsletter_field,
            url=self.base_url + rel if self.base_url else "",
            base_url=self.base_url,
            alternates=links,
        )

    def key(self) -> str:
        """Everything besides the data that shapes every page."""
        parts = [
            *(__version__, html.templates_digest(), self.base_url, self.title),
            *(self.newsletter_action, self.newsletter_field),
        ]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass
class BuildReport:
    out: Path
    comparisons: int = 0
    tools: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # record ids published by this build
    skipped: list[str] = field(default_factory=list)  # unreadable records, one line each
    stand_ins: list[str] = field(default_factory=list)  # published now; not a real review: why
    records_read: int = 0
    modes_fixed: int = 0  # files and folders given the umask's mode


def base_url(value: str) -> str:
    url = http_url(value.strip())
    if not url:
        raise PanelError(
            f"site base URL {value!r} is not an http(s) URL; "
            "set [site] base_url in panel.toml or pass --base-url https://..."
        )
    return url if url.endswith("/") else url + "/"


Pages = dict[str, tuple[str, PageSummary]]  # page -> (record path relative to runs, summary)


class _Builder:
    def __init__(self, home: Home, options: SiteOptions, now: datetime) -> None:
        self.home = home
        self.options = options
        self.now = now
        self.writer = SiteWriter(options.out)
        self.cache = BuildCache(home.runs, options.out, options.key())
        self.loaded: dict[str, ComparisonRecord] = {}
        self.pairs: dict[str, list[PageSummary]] = defaultdict(list)  # page -> every record of it
        self.report = BuildReport(out=options.out)

    # -- inputs -------------------------------------------------------------
    def _read(self, path: Path) -> PageSummary | None:
        rel = path.relative_to(self.home.runs).as_posix()
        try:
            info = path.stat()
        except OSError:
            return None
        mark = [info.st_mtime_ns, info.st_size]
        cached = self.cache.summary(rel, mark)
        if cached is not None:
            return cached
        try:
            record, data = load_in_runs(self.home.runs, path)
        except PanelError as exc:
            self.report.skipped.append(str(exc))
            self.cache.forget(rel)
            return None
        self.report.records_read += 1
        self.loaded[rel] = record
        summary = summarise(record, hashlib.sha256(data).hexdigest())
        self.cache.remember(rel, mark, summary)
        return summary

    def _record(self, rel: str) -> ComparisonRecord:
        if rel not in self.loaded:
            self.loaded[rel], _ = load_in_runs(self.home.runs, self.home.runs / rel)
        return self.loaded[rel]

    def select(self) -> Pages:
        """The page of every pair that has one (see panel.records.publication)."""
        found: list[tuple[Standing, tuple[str, PageSummary]]] = []
        for path in scan(self.home.runs):
            rel = path.relative_to(self.home.runs).as_posix()
            summary = self._read(path)
            if summary is not None:
                found.append((summary.standing(), (rel, summary)))
                self.pairs[summary.page].append(summary)
        return live_pages(found)

    def publish_new(self, pages: Pages) -> None:
        for page, (rel, summary) in sorted(pages.items()):
            if summary.status != "approved":
                continue
            record = publish(self.home.runs, self.home.runs / rel, self.now)
            self.report.published.append(record.id)
            if fake := stand_ins(record):
                self.report.stand_ins.append(f"{record.id} ({stand_in_note(fake)})")
            self.cache.forget(rel)
            self.loaded.pop(rel, None)
            fresh = self._read(self.home.runs / rel)
            if fresh is not None:
                pages[page] = (rel, fresh)

    # -- outputs ------------------------------------------------------------
    def emit(self, rel: str, data: bytes, key: str | None = None) -> None:
        """Write ``data`` to ``rel`` unless the file already holds exactly those bytes."""
        self.cache.outputs[rel] = {"sha256": hashlib.sha256(data).hexdigest(), "key": key}
        if self.writer.holds(rel, data):
            self.report.unchanged += 1
            return
        self.writer.write(rel, data)
        self.report.written.append(rel)

    def cached(self, rels: Iterable[str], key: str) -> bool:
        """True (and kept) when every output in ``rels`` was built from ``key`` and is there."""
        rels = list(rels)
        for rel in rels:
            entry = self.cache.keys.get(rel)
            if entry is None or entry.get("key") != key or not self.writer.holds(rel):
                return False
        for rel in rels:
            self.cache.outputs[rel] = self.cache.keys[rel]
        self.report.unchanged += len(rels)
        return True

    def url(self, rel: str) -> str:
        return self.options.base_url + rel

    def publish(
        self, kind: type, stem: str, key: str | None, subject: Callable[[], Subject]
    ) -> None:
        """Write ``stem`` + suffix in every site format of ``kind`` (none if all are cached)."""
        made = outputs(kind, stem)
        if key is not None and self.cached((rel for rel, _ in made), key):
            return
        whole = subject()
        for rel, renderer in made:
            output = renderer.render(whole, self.options.context(made, rel))
            self.emit(rel, as_bytes(output), key)

    def comparison(
        self, page: str, rel: str, summary: PageSummary, votes: Mapping[str, Votes]
    ) -> None:
        pair = [t.slug for t in summary.tools]
        tallies = {s: votes.get(s, NO_VOTES) for s in pair}
        past = history(summary, self.pairs.get(page, []))
        digest = json.dumps(
            [summary.digest, [[p.answer, str(p.reviewed), p.changed] for p in past]]
        )
        key = _key(self.options.key(), digest, list(tallies.values()))
        self.publish(
            Comparison,
            place(Comparison, page),
            key,
            lambda: Comparison.of(self._record(rel), tallies, past),
        )

    def tool(
        self, slug: str, items: list[PageSummary], votes: Mapping[str, Votes], others: list[Any]
    ) -> None:
        info = next(t for t in items[0].tools if t.slug == slug).model_dump()
        tally = votes.get(slug, NO_VOTES)
        listed = [_listing(s) for s in items]
        page = ToolPage(tool=info, votes=tally, comparisons=listed, alternatives=others)
        content = json.dumps([page.tool, [tally.ship, tally.skip], listed, others])
        key = _key(self.options.key(), hashlib.sha256(content.encode()).hexdigest(), [])
        self.publish(ToolPage, place(ToolPage, slug), key, lambda: page)

    def finish(self) -> None:
        """Put every staged file in place, take down what this build did not produce; then
        remember what it did."""
        self.writer.commit()
        listed = set(self.cache.old_outputs)
        self.report.removed = self.writer.remove_stale(set(self.cache.outputs), listed)
        self.report.modes_fixed = self.writer.modes_fixed
        self.cache.save()


def _key(options_key: str, digest: str, votes: list[Votes]) -> str:
    text = json.dumps([options_key, digest, [[v.ship, v.skip] for v in votes]])
    return hashlib.sha256(text.encode()).hexdigest()


def _listing(summary: PageSummary) -> dict[str, Any]:
    return {
        "page": summary.page,
        "record": summary.id,
        "title": summary.title,
        "pick": summary.pick,
        "reviewed": summary.reviewed.isoformat(),
        "ship": summary.ship,
        "quorum_met": not summary.quorum_note,
    }


def _published(summary: PageSummary) -> datetime:
    return summary.published_at or summary.created_at


def build(home: Home, options: SiteOptions, now: datetime | None = None) -> BuildReport:
    """Build the site into ``options.out``; one build at a time per site folder."""
    builder = _Builder(home, options, now or clock.now())
    try:
        with exclusive(builder.cache.lock, "panel site build for this site folder"):
            try:
                _build(builder, home, options)
            except BaseException:
                builder.writer.abort()  # nothing staged is put in place
                raise
    except OSError as exc:  # the lock file or the cache folder
        raise PanelError(f"cannot build the site: {exc.strerror or exc}") from None
    return builder.report


def _build(builder: _Builder, home: Home, options: SiteOptions) -> None:
    pages = builder.select()
    builder.publish_new(pages)
    votes = stored_votes(home.runs)
    newest = sorted(pages.values(), key=lambda p: (p[1].created_at, p[1].id), reverse=True)
    by_tool: dict[str, list[PageSummary]] = defaultdict(list)
    for page, (rel, summary) in sorted(pages.items()):
        builder.comparison(page, rel, summary, votes)
    for _, summary in newest:
        for tool in summary.tools:
            by_tool[tool.slug].append(summary)
    known = {t.slug: t for items in by_tool.values() for t in items[0].tools}
    named = competitors(home)
    for slug, items in sorted(by_tool.items()):
        others = alternatives(known[slug], known, named, set(pages))
        builder.tool(slug, items, votes, others)
    tools = sorted(
        ({"slug": slug, "name": items[0].name(slug)} for slug, items in by_tool.items()),
        key=lambda t: (t["name"].casefold(), t["slug"]),
    )
    latest = [_listing(s) for _, s in newest[: options.index_size]]
    index = IndexPage(title=options.title, latest=latest, tools=tools)
    builder.publish(IndexPage, place(IndexPage), None, lambda: index)
    how = methodology.describe(home)
    builder.publish(
        Methodology, place(Methodology), _key(options.key(), how.digest(), []), lambda: how
    )
    by_date = sorted(pages.values(), key=lambda p: (_published(p[1]), p[1].id), reverse=True)
    entries = [
        Entry(
            id=s.id,
            url=builder.url(page_rel(Comparison, place(Comparison, s.page))),
            title=s.title,
            summary=f"{headline(s)} Panel ship: "
            + ", ".join(f"{t.name} {s.ship[t.slug]}" for t in s.tools)
            + "."
            + (f" {s.evidence}" if s.evidence else ""),
            date=_published(s),
        )
        for _, s in by_date[: options.feed_size]
    ]
    feed = Feed(title=options.title, base_url=options.base_url, entries=entries)
    builder.publish(Feed, place(Feed), None, lambda: feed)
    index_url = builder.url(page_rel(IndexPage, place(IndexPage)))
    urls = [(index_url, newest[0][1].reviewed.isoformat() if newest else None)]
    urls.append((builder.url(page_rel(Methodology, place(Methodology))), None))
    urls += [
        (builder.url(page_rel(Comparison, place(Comparison, s.page))), s.reviewed.isoformat())
        for _, s in sorted(pages.values(), key=lambda p: p[1].page)
    ]
    urls += [
        (builder.url(page_rel(ToolPage, place(ToolPage, slug))), items[0].reviewed.isoformat())
        for slug, items in sorted(by_tool.items())
    ]
    builder.publish(Sitemap, place(Sitemap), None, lambda: Sitemap(urls))
    for name in html.STATIC:
        builder.emit(name, (html.TEMPLATES / name).read_bytes())
    builder.finish()
    builder.report.comparisons = len(pages)
    builder.report.tools = len(by_tool)


__all__ = ["BuildReport", "SiteOptions", "base_url", "build", "headline", "summarise"]
