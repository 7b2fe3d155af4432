"""Launch feeds and spreadsheets -> candidate catalog entries (plain dicts, not yet validated).

RSS/Atom items map title -> name, summary -> description (HTML stripped), link -> url,
published -> launched and the first tag -> category. CSV rows use the catalog's field
names as headers; ``competitors`` is separated by semicolons.
"""

from __future__ import annotations

import csv
import html
import io
import re
import urllib.error
import urllib.request
from datetime import date
from typing import Any

from panel.controls import strip_controls
from panel.errors import PanelError

MAX_FETCH_BYTES = 10_000_000
FETCH_TIMEOUT = 20.0
_TAGS = re.compile(r"<[^>]+>")


def fetch(url: str) -> bytes:
    """GET an http(s) URL with a size cap and a timeout."""
    if not url.lower().startswith(("http://", "https://")):
        raise PanelError(f"{url}: only http(s) URLs can be imported")
    request = urllib.request.Request(url, headers={"User-Agent": "panel-intake/1"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            data: bytes = response.read(MAX_FETCH_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise PanelError(f"{url}: HTTP {exc.code}; check the feed address") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PanelError(f"{url}: cannot fetch ({reason}); check the address") from None
    if len(data) > MAX_FETCH_BYTES:
        raise PanelError(f"{url}: larger than {MAX_FETCH_BYTES} bytes; refusing to import")
    return data


def _text(value: str) -> str:
    return " ".join(strip_controls(html.unescape(_TAGS.sub(" ", value))).split())


def feed_items(data: bytes, where: str) -> list[tuple[str, dict[str, Any]]]:
    """(location, candidate) for each RSS/Atom item."""
    import feedparser

    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        raise PanelError(f"{where}: not a readable RSS/Atom feed ({parsed.bozo_exception})")
    items = []
    for number, entry in enumerate(parsed.entries, start=1):
        candidate: dict[str, Any] = {
            "name": _text(entry.get("title", "")),
            "description": _text(entry.get("summary", "") or entry.get("description", "")),
        }
        if entry.get("link"):
            candidate["url"] = entry["link"]
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if stamp:
            candidate["launched"] = date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday)
        tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        if tags:
            candidate["category"] = _text(tags[0])
        items.append((f"{where}: item {number}", candidate))
    return items


def csv_rows(data: bytes, where: str) -> list[tuple[str, dict[str, Any]]]:
    """(location, candidate) for each CSV row; empty cells are left out."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PanelError(f"{where}: not UTF-8 (byte {exc.start}); re-save as UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _rows(reader, where)
    except csv.Error as exc:
        raise PanelError(f"{where}:{reader.line_num}: not valid CSV ({exc})") from None


def _rows(reader: csv.DictReader[str], where: str) -> list[tuple[str, dict[str, Any]]]:
    if not reader.fieldnames or "name" not in reader.fieldnames:
        raise PanelError(f"{where}: the first row must be a header with at least 'name'")
    rows = []
    for row in reader:
        candidate: dict[str, Any] = {
            k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()
        }
        if None in row:
            candidate["__extra__"] = row[None]
        if "competitors" in candidate:
            candidate["competitors"] = [
                c.strip() for c in candidate["competitors"].split(";") if c.strip()
            ]
        rows.append((f"{where}:{reader.line_num}", candidate))
    return rows
