"""A record whose first tool was reviewed with sources and whose quotes cite them (issue 26)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from panel.inputs.catalog import Tool
from panel.records.io import write_record
from panel.records.schema import ComparisonRecord, EvidenceRef
from tests.support.records import NOW, make_record

FETCHED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SOURCES = [
    EvidenceRef(
        id="S1", url="https://www.alpha.example/", kind="homepage", title="Alpha",
        fetched_at=FETCHED, sha256="a" * 64,
    ),
    EvidenceRef(
        id="S2", url="https://alpha.example/pricing", kind="pricing", title="Pricing",
        fetched_at=FETCHED, sha256="b" * 64,
    ),
    EvidenceRef(  # a URL that is not http(s): listed, never linked
        id="S3", url="javascript:alert(1)", kind="docs", title="Docs",
        fetched_at=FETCHED, sha256="c" * 64,
    ),
]  # fmt: skip


def cited_quote(persona: str, slug: str, provider: str) -> str:
    return (
        f"Quote by {persona} on {slug} from {provider}: Pro costs $20 per month [S2], "
        "it runs in CI [S1, S3] and it earns the verdict."
    )


def with_evidence(a: Tool, b: Tool, record_id: str = "2026-11-24/x") -> ComparisonRecord:
    record = make_record(a, b, record_id=record_id)
    calls = [
        c.model_copy(
            update={
                "quote": cited_quote(c.persona, c.tool, c.provider),
                "citations": ["S1", "S2", "S3"],
                "evidence": "sufficient",
            }
        )
        if c.tool == a.slug
        else c
        for c in record.calls
    ]
    return record.model_copy(update={"calls": calls, "evidence": {a.slug: SOURCES}})


def save(runs: Path, a: Tool, b: Tool) -> Path:
    return write_record(
        runs, NOW.date(), f"{a.slug}-vs-{b.slug}", lambda rid: with_evidence(a, b, rid)
    )
