"""Evidence packs built by hand (issue 26), as the fetcher's loader would hand them over."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from panel.evidence.pack import EvidencePack, EvidenceSource, SourceKind

FETCHED = datetime(2026, 12, 3, 4, 5, 6, tzinfo=UTC)

PRICING = (
    "Alpha Tool pricing. Free: 1 project, community support. "
    "Pro: $20 per month per seat, unlimited projects, 10,000 runs a month. "
    "Enterprise: contact sales."
)
HOMEPAGE = (
    "Alpha Tool turns prompts into pull requests. It runs in your CI on every push "
    "and supports GitHub and GitLab. Version 1.4 shipped on 2026-11-20."
)


def source(
    number: int, kind: SourceKind, url: str, title: str, text: str, fetched: datetime = FETCHED
) -> EvidenceSource:
    return EvidenceSource(
        id=f"S{number}",
        url=url,
        kind=kind,
        title=title,
        fetched_at=fetched,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
    )


def pack(tool: str = "alpha-tool", fetched: datetime = FETCHED) -> EvidencePack:
    """A homepage (S1) and a pricing page (S2) for ``tool``."""
    return EvidencePack(
        tool,
        (
            source(
                1, SourceKind.HOMEPAGE, "https://alpha.example/", "Alpha Tool", HOMEPAGE, fetched
            ),
            source(
                2,
                SourceKind.PRICING,
                "https://alpha.example/pricing",
                "Alpha Tool pricing",
                PRICING,
                fetched,
            ),
        ),
    )
