"""The grounding check as the judge runs it (issue 26): a quote's claims against its sources.

``panel.evidence.grounding.check(quote, cited_ids, pack)`` is deterministic: every cited id
exists, and every number, price, percentage, version and date in a cited sentence appears
in the cited source's text (format variants allowed); a number with no citation is
unsupported. This module turns its outcome into what the record keeps (``Claim``) and
what the judge decides on (a flag that withholds the answer, and the re-ask text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from panel.defences.quality import UNGROUNDED as UNGROUNDED  # the flag, re-exported
from panel.evidence import grounding
from panel.evidence.pack import EvidencePack
from panel.records.schema import Claim

UNGROUNDED_REASK = (
    "its quote states {claims}, which the sources it cites do not state; cite the source "
    "that states each claim, like [S2], or leave the claim out"
)
MAX_NAMED = 3  # claims named in a re-ask


@dataclass(frozen=True)
class Grounded:
    """What the check found: every claim's outcome, and whether the quote may be published."""

    claims: tuple[Claim, ...]
    publishable: bool
    reason: str = ""  # the check's own summary, for editors

    def problems(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.outcome != "supported")

    def reask(self) -> str:
        named = ", ".join(repr(c.text) for c in self.problems()[:MAX_NAMED]) or "claims"
        return UNGROUNDED_REASK.format(claims=named)


def ground(
    quote: str, citations: Sequence[str], pack: EvidencePack, questions: Sequence[str] = ()
) -> Grounded:
    """The deterministic check of ``quote`` (citing ``citations``) against ``pack``.

    ``questions``: the persona's task as the reviewer read it (a fact that only repeats
    it, "the next twelve months", is no claim about the tool).
    """
    result = grounding.check(quote, citations, pack, questions=questions)
    claims = tuple(
        Claim(
            text=claim.text,
            kind=claim.kind,
            cited=list(claim.cited),
            outcome=claim.outcome.value,
            source=claim.source,
            reason=claim.reason,
        )
        for claim in result.claims
    )
    return Grounded(claims, result.publishable, result.reason)
