"""The site build cache (``runs/.site-cache/``): record summaries by file stat, output keys.

The cache is untrusted input, like every other file in runs/. An entry is used
only if it validates: slugs are catalog slugs, the page name is made of them,
links are http(s), text is clean, dates are dates. Anything else is dropped and
the record is read again, so a damaged or edited cache costs a re-read, never a
page in the wrong place. Nothing in the cache decides where the build writes:
output paths are checked again when written (:mod:`panel.publish.siteout`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from panel.atomic import write_atomic
from panel.publish.render.view import safe
from panel.publish.siteout import is_output, is_pair
from panel.records.publication import Standing
from panel.safeio import UnreadableFileError, read_regular
from panel.slugs import is_slug
from panel.urls import http_url

# 3: summaries carry who approved (the page's byline, its history); 4: the evidence label
CACHE_FORMAT = 4
CACHE_LIMIT = 64 * 1024 * 1024
_HEX64 = r"^[0-9a-f]{64}$"


def _clean(value: str) -> str:
    if safe(value) != value:
        raise ValueError("text with control or invisible characters")
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolSummary(_Frozen):
    slug: str
    name: str
    vendor: str
    category: str
    tagline: str
    description: str
    entry_price: str
    url: str

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not is_slug(value):
            raise ValueError("not a slug")
        return value

    @field_validator("name", "vendor", "category", "tagline", "description", "entry_price")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and http_url(value) != value:
            raise ValueError("not an http(s) URL")
        return value


class PageSummary(_Frozen):
    """What the site needs from one record, without reading it again."""

    id: str
    page: str
    title: str
    pick: str  # the picked tool's name, or "No pick"
    picked: bool
    reason: str  # why, in a sentence
    quorum_note: str  # "" when the panel reached quorum
    reviewed: date
    created_at: datetime
    status: Literal["draft", "approved", "rejected", "published"]
    approved_at: datetime | None
    published_at: datetime | None
    approved_by: str = ""  # the editor of the latest approval ("" if never approved)
    ship: dict[str, str]  # tool slug -> panel ship label
    tools: list[ToolSummary] = Field(min_length=2, max_length=2)
    models: list[str]
    digest: str = Field(pattern=_HEX64)
    evidence: str = ""  # what each tool was reviewed from, for feeds (sources.label)

    @field_validator("id", "title", "pick", "reason", "quorum_note", "approved_by", "evidence")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str]) -> list[str]:
        return [_clean(v) for v in value]

    @field_validator("created_at", "approved_at", "published_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a date without a time zone")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PageSummary:
        slugs = [t.slug for t in self.tools]
        if self.page != "-vs-".join(slugs) or not is_pair(self.page):
            raise ValueError("page name is not made of the tools' slugs")
        if sorted(self.ship) != sorted(slugs):
            raise ValueError("ship labels are not for the record's tools")
        for label in self.ship.values():
            _clean(label)
        return self

    def standing(self) -> Standing:
        first, second = (t.slug for t in self.tools)
        return Standing(
            self.id, self.status, self.approved_at, self.created_at, self.page, (first, second)
        )

    def name(self, slug: str) -> str:
        return next(t.name for t in self.tools if t.slug == slug)


class BuildCache:
    """Record summaries by file stat, and what each output was built from."""

    def __init__(self, runs: Path, out: Path, options_key: str) -> None:
        self.tag = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
        self.folder = runs / ".site-cache"
        self.path = self.folder / f"{self.tag}.json"
        data = self._load()
        current = data.get("format") == CACHE_FORMAT
        records, outputs = data.get("records") if current else None, data.get("outputs")
        self._records: dict[str, Any] = records if isinstance(records, dict) else {}
        old = outputs if isinstance(outputs, dict) else {}
        # Only well-formed entries for real output names survive.
        self.old_outputs: dict[str, dict[str, str | None]] = {
            rel: {"sha256": entry.get("sha256"), "key": entry.get("key")}
            for rel, entry in old.items()
            if isinstance(rel, str) and is_output(rel) and isinstance(entry, dict)
            if all(isinstance(entry.get(k), str | None) for k in ("sha256", "key"))
        }
        same = current and data.get("options") == options_key
        self.keys = self.old_outputs if same else {}
        self.outputs: dict[str, dict[str, str | None]] = {}  # rel -> sha256, input key
        self.options_key = options_key
        self.fresh: dict[str, Any] = {}  # rel -> {"stat": ..., "summary": ...} kept by save()

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.tag}.lock"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(read_regular(self.path, CACHE_LIMIT, "site cache"))
        except (UnreadableFileError, ValueError, RecursionError):
            return {}
        # An older format's output list still says which pages an older panel wrote.
        if not isinstance(data, dict) or data.get("format") not in range(1, CACHE_FORMAT + 1):
            return {}
        return data

    def summary(self, rel: str, mark: list[int]) -> PageSummary | None:
        """The cached summary of the record at ``rel`` if its file is unchanged and valid."""
        entry = self._records.get(rel)
        if not isinstance(entry, dict) or entry.get("stat") != mark:
            return None
        try:
            summary = PageSummary.model_validate(entry.get("summary"))
        except (ValidationError, ValueError, TypeError):
            return None
        self.fresh[rel] = entry
        return summary

    def remember(self, rel: str, mark: list[int], summary: PageSummary) -> None:
        self.fresh[rel] = {"stat": mark, "summary": summary.model_dump(mode="json")}

    def forget(self, rel: str) -> None:
        self.fresh.pop(rel, None)
        self._records.pop(rel, None)

    def save(self) -> None:
        data = {
            "format": CACHE_FORMAT,
            "options": self.options_key,
            "records": self.fresh,
            "outputs": self.outputs,
        }
        write_atomic(self.path, json.dumps(data).encode(), durable=False)
