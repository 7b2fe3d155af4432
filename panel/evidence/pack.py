"""The evidence pack: what a reviewer is shown about a tool beyond its card.

This module is the contract between fetching (``panel evidence fetch`` writes snapshots)
and reviewing (the prompt shows the pack; the grounding check reads it). It is plain data:
no I/O, no clock. Sources are numbered ``S1``, ``S2``, … in the order the catalog lists them;
a source never fetched successfully is left out (numbers stay dense).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SourceKind(StrEnum):
    HOMEPAGE = "homepage"
    DOCS = "docs"
    PRICING = "pricing"
    CHANGELOG = "changelog"
    REPOSITORY = "repository"  # a GitHub-style repository API: machine-readable facts
    PACKAGE = "package"  # PyPI's or npm's JSON: machine-readable facts
    ANNOUNCEMENT = "announcement"  # the intake feed item's link
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class EvidenceSource:
    """One fetched snapshot of one source, as shown to reviewers."""

    id: str  # "S1", "S2", …
    url: str
    kind: SourceKind
    title: str
    fetched_at: datetime  # aware, UTC: when this snapshot's content was last confirmed
    sha256: str  # of ``text``: the snapshot is stored content-addressed by it
    text: str  # main text (HTML extracted) or the facts of a repository/package API, capped


@dataclass(frozen=True, slots=True)
class EvidencePack:
    """Every source of one tool; empty when the tool has none (card only)."""

    tool: str  # the tool's slug
    sources: tuple[EvidenceSource, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.sources

    def get(self, source_id: str) -> EvidenceSource | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sources)

    def digest(self) -> str:
        """What decides the prompt: ids, URLs, kinds, titles and content hashes.

        Fetch times are left out, so a conditional GET that confirms a page unchanged
        changes nothing; a changed page (new sha256) is a reason to re-review.
        """
        body = [[s.id, s.url, s.kind.value, s.title, s.sha256] for s in self.sources]
        return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()
