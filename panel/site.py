"""`panel site build`: a static site from the approved records, incremental and deterministic.

For each pair the newest approved (or already published) record is the page.
Approving is the editor's job; building marks a newly included record
``published``. Output bytes depend only on the records, the votes, the templates
and the [site] settings, never on the clock, so the same inputs give
byte-identical files.

Incremental: a build cache in ``runs/.site-cache/`` remembers each record file's
stat and summary and each output's input key. An unchanged record is not read
again; an output whose key is unchanged is not rendered, and no file is
rewritten with identical bytes. Outputs that no longer have a page (a record
rejected) are removed, and only files the cache says a build wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from panel import __version__
from panel.atomic import write_atomic
from panel.editorial import publish
from panel.errors import PanelError
from panel.models import ComparisonRecord
from panel.paths import Home
from panel.records import load_in_runs, read_record, scan
from panel.render import feeds, html
from panel.render.pagedata import PAGE_FORMAT, comparison_data, dumps
from panel.render.view import http_url, page_view, safe
from panel.store import DB_NAME, Store
from panel.votes import NO_VOTES, Votes

CACHE_FORMAT = 1
PUBLISHABLE = ("approved", "published")


@dataclass(frozen=True)
class SiteOptions:
    out: Path
    base_url: str  # absolute, ends with "/"
    title: str
    index_size: int = 50
    feed_size: int = 50

    def key(self) -> str:
        """Everything besides the data that shapes every page."""
        parts = [__version__, html.templates_digest(), self.base_url, self.title]
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
    records_read: int = 0


def base_url(value: str) -> str:
    url = http_url(value.strip())
    if not url:
        raise PanelError(
            f"site base URL {value!r} is not an http(s) URL; "
            "set [site] base_url in panel.toml or pass --base-url https://..."
        )
    return url if url.endswith("/") else url + "/"


def _summary(record: ComparisonRecord, digest: str) -> dict[str, Any]:
    view = page_view(record)
    return {
        "id": record.id,
        "page": "-vs-".join(t.slug for t in record.tools),
        "title": view.title,
        "pick": view.pick,
        "pick_reason": view.pick_reason,
        "reviewed": record.created_at.date().isoformat(),
        "created_at": record.created_at.isoformat(),
        "status": record.editorial.status,
        "published_at": (
            record.editorial.published_at.isoformat() if record.editorial.published_at else None
        ),
        "ship": {c.slug: c.ship_label for c in view.cards},
        "tools": [
            {
                "slug": c.slug,
                "name": c.name,
                "vendor": c.vendor,
                "category": c.category,
                "tagline": c.tagline,
                "description": c.description,
                "entry_price": c.entry_price,
                "url": c.url,
            }
            for c in view.cards
        ],
        "digest": digest,
    }


_SUMMARY_KEYS = frozenset(
    [
        *("id", "page", "title", "pick", "pick_reason", "reviewed", "created_at"),
        *("status", "published_at", "ship", "tools", "digest"),
    ]
)


class _Cache:
    """The build cache: record summaries by file stat, output keys by path."""

    def __init__(self, runs: Path, out: Path, options_key: str) -> None:
        tag = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
        self.path = runs / ".site-cache" / f"{tag}.json"
        data: dict[str, Any] = {}
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            data = {}
        records, outputs = data.get("records"), data.get("outputs")
        self.records: dict[str, Any] = records if isinstance(records, dict) else {}
        same = data.get("options") == options_key
        self.old_outputs: dict[str, Any] = outputs if isinstance(outputs, dict) else {}
        self.keys: dict[str, Any] = self.old_outputs if same else {}
        self.outputs: dict[str, dict[str, str | None]] = {}  # rel -> sha256, input key
        self.options_key = options_key

    def save(self) -> None:
        data = {
            "format": CACHE_FORMAT,
            "options": self.options_key,
            "records": self.records,
            "outputs": self.outputs,
        }
        write_atomic(self.path, json.dumps(data).encode(), durable=False)


class _Builder:
    def __init__(self, home: Home, options: SiteOptions, now: datetime) -> None:
        self.home = home
        self.options = options
        self.now = now
        self.out = options.out
        self.cache = _Cache(home.runs, options.out, options.key())
        self.loaded: dict[str, ComparisonRecord] = {}
        self.report = BuildReport(out=options.out)

    # -- inputs -------------------------------------------------------------
    def _read(self, path: Path) -> dict[str, Any] | None:
        rel = path.relative_to(self.home.runs).as_posix()
        try:
            stat = path.stat()
        except OSError:
            return None
        mark = [stat.st_mtime_ns, stat.st_size]
        cached = self.cache.records.get(rel)
        if isinstance(cached, dict) and cached.get("stat") == mark:
            summary = cached.get("summary")
            if isinstance(summary, dict) and summary.keys() >= _SUMMARY_KEYS:
                return dict(summary)
        try:
            record, data = load_in_runs(self.home.runs, path)
        except PanelError as exc:
            self.report.skipped.append(str(exc))
            self.cache.records.pop(rel, None)
            return None
        self.report.records_read += 1
        self.loaded[rel] = record
        summary = _summary(record, hashlib.sha256(data).hexdigest())
        self.cache.records[rel] = {"stat": mark, "summary": summary}
        return summary

    def _record(self, rel: str) -> ComparisonRecord:
        if rel not in self.loaded:
            self.loaded[rel] = read_record(self.home.runs / rel)
        return self.loaded[rel]

    def select(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """page -> (record path relative to runs, summary) for the newest publishable record."""
        pages: dict[str, tuple[str, dict[str, Any]]] = {}
        seen = set()
        for path in scan(self.home.runs):
            rel = path.relative_to(self.home.runs).as_posix()
            seen.add(rel)
            summary = self._read(path)
            if summary is None or summary["status"] not in PUBLISHABLE:
                continue
            best = pages.get(summary["page"])
            if best is None or (summary["created_at"], summary["id"]) > (
                best[1]["created_at"],
                best[1]["id"],
            ):
                pages[summary["page"]] = (rel, summary)
        for rel in set(self.cache.records) - seen:
            del self.cache.records[rel]
        return pages

    def publish_new(self, pages: dict[str, tuple[str, dict[str, Any]]]) -> None:
        for page, (rel, summary) in sorted(pages.items()):
            if summary["status"] != "approved":
                continue
            record = publish(self.home.runs, self.home.runs / rel, self.now)
            self.report.published.append(record.id)
            self.cache.records.pop(rel, None)
            self.loaded.pop(rel, None)
            fresh = self._read(self.home.runs / rel)
            if fresh is not None:
                pages[page] = (rel, fresh)

    # -- outputs ------------------------------------------------------------
    def emit(self, rel: str, data: bytes, key: str | None = None) -> None:
        """Write ``data`` to ``rel`` unless the file already holds exactly those bytes."""
        path = self.out / rel
        self.cache.outputs[rel] = {"sha256": hashlib.sha256(data).hexdigest(), "key": key}
        try:
            if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
                self.report.unchanged += 1
                return
            write_atomic(path, data, durable=False)
        except OSError as exc:
            raise PanelError(f"cannot write {path}: {exc.strerror}") from None
        self.report.written.append(rel)

    def cached(self, rels: Iterable[str], key: str) -> bool:
        """True (and kept) when every output in ``rels`` was built from ``key`` and is there."""
        rels = list(rels)
        for rel in rels:
            entry = self.cache.keys.get(rel)
            if not isinstance(entry, dict) or entry.get("key") != key:
                return False
            if not (self.out / rel).is_file():
                return False
        for rel in rels:
            self.cache.outputs[rel] = self.cache.keys[rel]
        self.report.unchanged += len(rels)
        return True

    def url(self, rel: str) -> str:
        return self.options.base_url + rel

    def comparison(self, page: str, rel: str, summary: dict[str, Any], votes: VoteBook) -> None:
        pair = [t["slug"] for t in summary["tools"]]
        key = _key(self.options.key(), summary["digest"], [votes.get(s) for s in pair])
        html_rel, json_rel = f"compare/{page}.html", f"compare/{page}.json"
        if self.cached((html_rel, json_rel), key):
            return
        record = self._record(rel)
        view = page_view(record, {s: votes.get(s) for s in pair})
        self.emit(json_rel, dumps(comparison_data(view, record, page)), key)
        page_html = html.comparison_page(
            view,
            site_title=self.options.title,
            canonical=self.url(html_rel),
            data_json=f"{page}.json",
        )
        self.emit(html_rel, page_html, key)

    def tool(self, slug: str, items: list[dict[str, Any]], votes: VoteBook) -> None:
        info = next(t for t in items[0]["tools"] if t["slug"] == slug)
        tally = votes.get(slug)
        data = {
            "format": PAGE_FORMAT,
            "kind": "tool",
            **info,
            "community": {"ship": tally.ship, "skip": tally.skip, "label": tally.label},
            "comparisons": [_listing(s) for s in items],
        }
        data_bytes = dumps(data)
        key = _key(self.options.key(), hashlib.sha256(data_bytes).hexdigest(), [])
        html_rel, json_rel = f"tools/{slug}.html", f"tools/{slug}.json"
        if self.cached((html_rel, json_rel), key):
            return
        self.emit(json_rel, data_bytes, key)
        page_html = html.tool_page(
            {**info, "votes": tally.label},
            data["comparisons"],
            site_title=self.options.title,
            canonical=self.url(html_rel),
            data_json=f"{slug}.json",
        )
        self.emit(html_rel, page_html, key)

    def remove_stale(self) -> None:
        root = self.out.resolve()
        for rel in sorted(set(self.cache.old_outputs) - set(self.cache.outputs)):
            parts = PurePosixPath(rel).parts
            if not parts or ".." in parts or PurePosixPath(rel).is_absolute():
                continue  # never trust the cache with a path outside the site
            path = (root / rel).resolve()
            if path.is_relative_to(root) and path.is_file():
                path.unlink()
                self.report.removed.append(rel)


class VoteBook:
    """Vote lookups with the em-dash default."""

    def __init__(self, counts: dict[str, tuple[int, int]]) -> None:
        self.counts = counts

    def get(self, slug: str) -> Votes:
        ship_skip = self.counts.get(slug)
        return NO_VOTES if ship_skip is None else Votes(*ship_skip)


def _key(options_key: str, digest: str, votes: list[Votes]) -> str:
    text = json.dumps([options_key, digest, [[v.ship, v.skip] for v in votes]])
    return hashlib.sha256(text.encode()).hexdigest()


def _listing(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "page": summary["page"],
        "record": summary["id"],
        "title": summary["title"],
        "pick": summary["pick"],
        "reviewed": summary["reviewed"],
        "ship": summary["ship"],
    }


def _published(summary: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(summary["published_at"] or summary["created_at"])


def _votes(runs: Path) -> VoteBook:
    if not (runs / DB_NAME).is_file():
        return VoteBook({})
    store = Store.open(runs)
    try:
        return VoteBook(store.votes())
    finally:
        store.close()


def build(home: Home, options: SiteOptions, now: datetime | None = None) -> BuildReport:
    builder = _Builder(home, options, now or datetime.now(UTC))
    try:
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PanelError(f"cannot create the site folder {options.out}: {exc.strerror}") from None
    pages = builder.select()
    builder.publish_new(pages)
    votes = _votes(home.runs)
    newest = sorted(pages.values(), key=lambda p: (p[1]["created_at"], p[1]["id"]), reverse=True)
    by_tool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page, (rel, summary) in sorted(pages.items()):
        builder.comparison(page, rel, summary, votes)
    for _, summary in newest:
        for tool in summary["tools"]:
            by_tool[tool["slug"]].append(summary)
    for slug, items in sorted(by_tool.items()):
        builder.tool(slug, items, votes)
    tools = sorted(
        (
            {"slug": slug, "name": next(t["name"] for t in items[0]["tools"] if t["slug"] == slug)}
            for slug, items in by_tool.items()
        ),
        key=lambda t: (t["name"].casefold(), t["slug"]),
    )
    latest = [_listing(s) for _, s in newest[: options.index_size]]
    builder.emit(
        "index.html",
        html.index_page(
            latest, tools, site_title=options.title, canonical=builder.url("index.html")
        ),
    )
    index = {"format": PAGE_FORMAT, "kind": "index", "title": options.title, "latest": latest}
    builder.emit("index.json", dumps({**index, "tools": tools}))
    entries = [
        feeds.Entry(
            id=s["id"],
            url=builder.url(f"compare/{s['page']}.html"),
            title=s["title"],
            summary=safe(
                f"Panel pick: {s['pick']}. {s['pick_reason']}. Panel ship: "
                + ", ".join(f"{t['name']} {s['ship'][t['slug']]}" for t in s["tools"])
                + "."
            ),
            date=_published(s),
        )
        for _, s in sorted(
            pages.values(), key=lambda p: (_published(p[1]), p[1]["id"]), reverse=True
        )[: options.feed_size]
    ]
    builder.emit("feed.xml", feeds.atom(entries, title=options.title, base_url=options.base_url))
    builder.emit(
        "feed.json", feeds.json_feed(entries, title=options.title, base_url=options.base_url)
    )
    sitemap = [(builder.url("index.html"), newest[0][1]["reviewed"] if newest else None)]
    sitemap += [
        (builder.url(f"compare/{s['page']}.html"), s["reviewed"])
        for _, s in sorted(pages.values(), key=lambda p: p[1]["page"])
    ]
    sitemap += [
        (builder.url(f"tools/{slug}.html"), items[0]["reviewed"])
        for slug, items in sorted(by_tool.items())
    ]
    builder.emit("sitemap.xml", feeds.sitemap(sitemap))
    for name in html.STATIC:
        builder.emit(name, (html.TEMPLATES / name).read_bytes())
    builder.remove_stale()
    builder.cache.save()
    builder.report.comparisons = len(pages)
    builder.report.tools = len(by_tool)
    return builder.report


__all__ = ["BuildReport", "SiteOptions", "base_url", "build"]
