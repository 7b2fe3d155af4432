"""Importing tools into the catalog from files (JSON Lines)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panel.catalog import Catalog, Tool
from panel.errors import PanelError
from panel.feeds import csv_rows, feed_items, fetch
from panel.records import no_duplicate_keys
from panel.safeio import read_regular

MAX_LINE_BYTES = 1_000_000
MAX_SOURCE_BYTES = 16 * 1024 * 1024  # a local import file


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def read_local(path: Path) -> bytes:
    """A local import file: a regular file under a size cap (never a FIFO or /dev/zero)."""
    if not path.exists() and not path.is_symlink():
        raise PanelError(f"{path}: no such file; check the path")
    return read_regular(path, MAX_SOURCE_BYTES, "import file")


def _read_lines(path: Path) -> list[str]:
    raw = read_local(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PanelError(
            f"{path}: not UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    return text.splitlines()


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


def import_jsonl(catalog: Catalog, path: Path) -> ImportReport:
    """Validate every line first; write nothing unless all lines are valid."""
    pending: dict[str, Tool] = {}
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        tool = catalog.merged(_parse_line(line, where), where)
        pending[tool.slug] = tool
    if not pending:
        raise PanelError(f"{path}: no tools found; expected one JSON object per line")
    report = ImportReport()
    for slug, tool in pending.items():
        (report.updated if slug in catalog.tools else report.added).append(slug)
        catalog.save(tool)
    return report


@dataclass
class FeedReport(ImportReport):
    skipped: list[str] = field(default_factory=list)  # "location: reason"


def _kind(source: str, data: bytes) -> str:
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


def import_source(catalog: Catalog, source: str) -> FeedReport:
    """Import from a file or http(s) URL: JSON Lines (all or nothing), CSV or RSS/Atom.

    Feed and CSV items are validated one by one: a bad item is reported and skipped,
    and the rest still import. Duplicates within a source merge by slug (last wins).
    """
    is_url = source.lower().startswith(("http://", "https://"))
    data = fetch(source) if is_url else read_local(Path(source))
    kind = _kind(source, data)
    if kind == "jsonl":
        if is_url:
            raise PanelError(f"{source}: JSON Lines import works from files; download it first")
        base = import_jsonl(catalog, Path(source))
        return FeedReport(added=base.added, updated=base.updated)
    items = feed_items(data, source) if kind == "feed" else csv_rows(data, source)
    report = FeedReport()
    pending: dict[str, Tool] = {}
    for where, candidate in items:
        if "__extra__" in candidate:
            report.skipped.append(f"{where}: more cells than header columns")
            continue
        try:
            tool = catalog.merged(candidate, where)
        except PanelError as exc:
            report.skipped.append(str(exc))
            continue
        pending[tool.slug] = tool
    for slug, tool in pending.items():
        (report.updated if slug in catalog.tools else report.added).append(slug)
        catalog.save(tool)
    return report
