"""Launch feeds, spreadsheets and JSON Lines -> candidate catalog entries (plain dicts).

RSS/Atom items map title -> name, summary -> description (HTML stripped), link -> url
and an ``announcement`` source, published -> launched and the first tag -> category.
CSV rows use the catalog's field names as headers; ``competitors`` is separated by
semicolons. JSON Lines hold one object per line. Nothing here is validated as a tool yet:
that is ``panel.inputs.intake``'s job.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date
from typing import Any

from panel.controls import strip_controls
from panel.errors import PanelError
from panel.safeio import no_duplicate_keys

MAX_LINE_BYTES = 1_000_000
_TAGS = re.compile(r"<[^>]+>")
Candidates = list[tuple[str, dict[str, Any]]]  # (location, candidate)


def kind_of(source: str, data: bytes) -> str:
    """ "jsonl", "csv" or "feed", from the name's extension or the first bytes."""
    lowered = source.lower().split("?")[0]
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    head = data.lstrip()[:200].lower()
    if head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")):
        return "feed"
    if head.startswith(b"{"):
        return "jsonl"
    raise PanelError(
        f"{source}: unknown format; use .jsonl, .csv, or an RSS/Atom feed (starting with <)"
    )


def jsonl_lines(data: bytes, where: str) -> Candidates:
    """(location, object) for each non-blank line; the first bad line is an error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PanelError(
            f"{where}: not UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    return [
        (f"{where}:{number}", _parse_line(line, f"{where}:{number}"))
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def _parse_line(line: str, where: str) -> dict[str, Any]:
    if len(line.encode()) > MAX_LINE_BYTES:
        raise PanelError(f"{where}: line longer than {MAX_LINE_BYTES} bytes; shorten it")
    if "\x00" in line:
        raise PanelError(f"{where}: contains a NUL byte; remove it")
    try:
        data = json.loads(line, object_pairs_hook=no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise PanelError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:
        raise PanelError(f"{where}: {exc}; keep one of them") from None
    except RecursionError:
        raise PanelError(f"{where}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise PanelError(f"{where}: expected a JSON object with 'name' and 'description'")
    return data


def _text(value: str) -> str:
    return " ".join(strip_controls(html.unescape(_TAGS.sub(" ", value))).split())


def feed_items(data: bytes, where: str) -> Candidates:
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
            # the item itself is evidence: the launch as announced (issue 26)
            candidate["sources"] = [{"url": entry["link"], "kind": "announcement"}]
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if stamp:
            candidate["launched"] = date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday)
        tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        if tags:
            candidate["category"] = _text(tags[0])
        items.append((f"{where}: item {number}", candidate))
    return items


def csv_rows(data: bytes, where: str) -> Candidates:
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


def _rows(reader: csv.DictReader[str], where: str) -> Candidates:
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
