"""Comparison records built directly (no providers), aggregated by the real code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from panel.inputs.catalog import Tool
from panel.records.io import write_record
from panel.records.schema import (
    CallResult,
    ComparisonRecord,
    Editorial,
    PanelInfo,
    Provenance,
)
from panel.scoring.aggregate import aggregate, totals

PERSONAS = {
    "dx": "DX",
    "competitive": "Competitive",
    "futurist": "Futurist",
    "business": "Business",
}
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def tool(slug: str, **fields: str) -> Tool:
    data = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "vendor": f"{slug} Inc",
        "category": "LLM APIs",
        "tagline": f"The {slug} tagline",
        "description": f"{slug} does useful things for developers.",
        "entry_price": "paid",
        "pricing_notes": "Per-token pricing.",
        "url": f"https://{slug}.example/",
        **fields,
    }
    return Tool.model_validate(data)


def quote_for(persona: str, slug: str, provider: str) -> str:
    return f"Quote by {persona} on {slug} from {provider}: it earns the verdict."


def make_record(
    a: Tool,
    b: Tool,
    *,
    record_id: str = "2026-11-24/x",
    providers: tuple[str, ...] = ("openai/gpt-4o-mini",),
    created: datetime = NOW,
    verdict: Callable[[str, str, str], str] = lambda persona, slug, provider: "ship",
    quote: Callable[[str, str, str], str] = quote_for,
    titles: dict[str, str] | None = None,
    status: str = "draft",
) -> ComparisonRecord:
    titles = titles or PERSONAS
    calls = [
        CallResult(
            key=f"{persona}-{t.slug}-{provider}",
            persona=persona,
            tool=t.slug,
            provider=provider,
            model=provider.split("/")[-1],
            status="ok",
            verdict=verdict(persona, t.slug, provider),  # type: ignore[arg-type]
            confidence=4,
            quote=quote(persona, t.slug, provider),
            attempts=1,
        )
        for persona in titles
        for t in (a, b)
        for provider in providers
    ]
    scores = aggregate([a, b], list(titles), calls)
    return ComparisonRecord(
        id=record_id,
        created_at=created,
        status="complete",
        tools=[a, b],
        panel=PanelInfo(providers=list(providers), personas=list(titles), persona_titles=titles),
        calls=calls,
        scores=scores,
        totals=totals(calls),
        provenance=Provenance(
            panel_version="test",
            templates={},
            personas={},
            catalog={},
            started_at=created,
            finished_at=created,
        ),
        editorial=Editorial(status=status),  # type: ignore[arg-type]
    )


def save_record(runs: Path, a: Tool, b: Tool, **kwargs: object) -> Path:
    """Write a record under runs/<created date>/a-vs-b.json; returns its path."""
    created = kwargs.get("created", NOW)
    assert isinstance(created, datetime)
    day: date = created.date()
    return write_record(
        runs,
        day,
        f"{a.slug}-vs-{b.slug}",
        lambda rid: make_record(a, b, record_id=rid, **kwargs),  # type: ignore[arg-type]
    )
