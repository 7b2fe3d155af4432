"""Atom, JSON Feed 1.1 and sitemap.xml (formats ``atom``, ``jsonfeed``, ``sitemap``).

Deterministic bytes from page summaries.

XML is built with ElementTree, which escapes text and attributes; JSON with the
json module. Dates come from the records (never the build clock), so the same
records always give the same feeds.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from panel.publish.render.base import Context, Entry, Feed, Sitemap, Subject, unsupported

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def atom(entries: list[Entry], *, title: str, base_url: str) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", base_url)
    sub(feed, "title", title)
    sub(feed, "updated", _iso(max((e.date for e in entries), default=EPOCH)))
    sub(feed, "link", rel="self", href=f"{base_url}feed.xml")
    sub(feed, "link", rel="alternate", href=base_url)
    author = sub(feed, "author")
    sub(author, "name", title)
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", f"{entry.url}#{entry.id}")
        sub(item, "title", entry.title)
        sub(item, "link", rel="alternate", href=entry.url)
        sub(item, "updated", _iso(entry.date))
        sub(item, "published", _iso(entry.date))
        sub(item, "summary", entry.summary, type="text")
    return _xml(feed)


def json_feed(entries: list[Entry], *, title: str, base_url: str) -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": base_url,
        "feed_url": f"{base_url}feed.json",
        "language": "en",
        "items": [
            {
                "id": f"{entry.url}#{entry.id}",
                "url": entry.url,
                "title": entry.title,
                "content_text": entry.summary,
                "date_published": _iso(entry.date),
            }
            for entry in entries
        ],
    }
    return (json.dumps(feed, indent=2, ensure_ascii=False) + "\n").encode()


def sitemap(pages: list[tuple[str, str | None]]) -> bytes:
    """``pages``: (absolute URL, last-modified date or None)."""
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for url, modified in pages:
        node = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(node, f"{{{SITEMAP_NS}}}loc").text = url
        if modified:
            ET.SubElement(node, f"{{{SITEMAP_NS}}}lastmod").text = modified
    return _xml(root)


@dataclass(frozen=True)
class SiteFile:
    """The format of one site-wide file (the feeds, the sitemap): rewritten by every build."""

    name: str
    media_type: str
    suffix: str
    subject: type
    write: Callable[[Any], bytes]
    site: bool = True

    @property
    def subjects(self) -> tuple[type, ...]:
        return (self.subject,)

    def render(self, subject: Subject, context: Context) -> bytes:
        if not isinstance(subject, self.subject):
            raise unsupported(self, subject)
        return self.write(subject)

    def marked(self, head: bytes) -> bool:
        return False  # top-level files are the build's by name, never removed


def _atom(feed: Feed) -> bytes:
    return atom(feed.entries, title=feed.title, base_url=feed.base_url)


def _json_feed(feed: Feed) -> bytes:
    return json_feed(feed.entries, title=feed.title, base_url=feed.base_url)


def _sitemap(pages: Sitemap) -> bytes:
    return sitemap(pages.pages)


ATOM = SiteFile("atom", "application/atom+xml", ".xml", Feed, _atom)
JSON_FEED = SiteFile("jsonfeed", "application/feed+json", ".json", Feed, _json_feed)
SITEMAP = SiteFile("sitemap", "application/xml", ".xml", Sitemap, _sitemap)
