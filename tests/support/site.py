"""Helpers for the site tests: options, approved records, a page parser."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from panel.paths import Home
from panel.publish.site import SiteOptions
from panel.records.editorial import approve
from tests.support.records import NOW, save_record, tool

runner = CliRunner()
A, B, C = tool("alpha-tool"), tool("beta-tool"), tool("gamma-tool")
BASE = "https://verdicts.example/"
# Approved an hour after the fixture records were made (tests.support.records.NOW), never "now":
# a digest of that week must find them on any date the suite runs.
APPROVED_AT = NOW + timedelta(hours=1)


def options(out: Path) -> SiteOptions:
    return SiteOptions(out=out, base_url=BASE, title="Verdicts")


def approved(home: Home, a: object = A, b: object = B, **kwargs: object) -> Path:
    path = save_record(home.runs, a, b, **kwargs)  # type: ignore[arg-type]
    approve(home.runs, path, "editor", now=APPROVED_AT)
    return path


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


class Page(HTMLParser):
    """Collects what matters for safety and content checks."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.classes: dict[str, list[str]] = {}
        self._stack: list[list[str]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        classes = (dict(attrs).get("class") or "").split()
        self._stack.append(classes)
        for name in classes:
            self.classes.setdefault(name, []).append("")

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for classes in self._stack:
            for name in classes:
                self.classes[name][-1] += data

    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


_JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>\n?', re.S)


def jsonld_blocks(text: str) -> list[str]:
    """The bodies of the page's JSON-LD data blocks."""
    return list(_JSONLD.findall(text))


def without_jsonld(text: str) -> str:
    """``text`` less its JSON-LD data blocks, each checked first: valid JSON with no ``<`` (so
    no untrusted text can close the element), and the only kind of <script> a page may have."""
    for body in jsonld_blocks(text):
        assert "<" not in body and ">" not in body, body[:200]
        json.loads(body)
    return _JSONLD.sub("", text)
