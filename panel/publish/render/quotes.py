"""A reviewer's answer as readers may see it (``Quote``), and the cleaning of untrusted text.

LLM-written text is stripped of control and invisible characters here (``safe``); each renderer
escapes it for its own format. Provider error text never reaches a reader: a failed call's
public text is "No answer." and a withheld one's "Withheld."; the detail stays in
``Quote.detail`` for editors' views, never for pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from panel.defences.untrusted import strip_invisible, unmark
from panel.publish.render.sources import Part, cited_parts
from panel.records.schema import CallResult


def safe(text: str | None) -> str:
    """Untrusted text without control or invisible characters (newlines kept).

    Datamarks become spaces again: a model that quotes a few words of the card
    copies them with the marks (long copies are flagged by the leak check).
    """
    return unmark(strip_invisible(text or "")[0])


NO_ANSWER = "No answer."
WITHHELD = "Withheld."
ABSTAINED = "Abstained: the evidence was not enough for a verdict."


@dataclass(frozen=True)
class Quote:
    provider: str
    verdict: str | None  # None when the call failed or its answer was withheld
    confidence: int | None
    text: str  # the quote; NO_ANSWER or WITHHELD without one (safe for readers)
    published: bool = False  # the quote the page publishes for this persona and tool
    conflict: str = ""  # "" or why this seat is recused / flagged
    outcome: str = "answered"  # answered | no-answer | withheld | abstained
    detail: str = ""  # for editors only: why there is no answer (never on a page)
    recused: bool = False  # a valid answer set aside for a conflict of interest: not counted
    parts: tuple[Part, ...] = ()  # ``text`` split at citation markers, each linked to its source

    @property
    def pieces(self) -> tuple[Part, ...]:
        """The quote as text and citation links (the whole text when it cites nothing)."""
        return self.parts or (Part(self.text),)


def conflict_note(call: CallResult) -> str:
    if not call.conflict:
        return ""
    if call.recused:
        return "recused: the model's vendor makes this tool; not counted"
    return "conflict of interest: the model's vendor makes this tool"


def _withheld(call: CallResult) -> str:
    """Why an answer is withheld, for editors: the flags, and each claim no source states."""
    why = f"withheld by panel's checks ({', '.join(call.flags)})"
    failed = [c for c in call.claims if c.outcome != "supported"]
    if failed:
        why += ": " + "; ".join(safe(f"{c.text}: {c.reason or c.outcome}") for c in failed[:3])
    return why


def quote_of(call: CallResult, published: str | None, links: Mapping[str, str]) -> Quote:
    text = safe(call.quote)
    if call.outcome == "recused":
        return Quote(
            call.provider,
            call.verdict,
            call.confidence,
            text,
            False,
            conflict_note(call),
            recused=True,
            parts=cited_parts(text, links),
        )
    if call.flags:  # leaked, copied the card or stated a claim no source states: never shown
        return Quote(
            call.provider, None, None, WITHHELD, outcome="withheld", detail=_withheld(call)
        )
    if call.outcome == "abstained":
        return Quote(
            call.provider,
            None,
            None,
            ABSTAINED,
            outcome="abstained",
            detail="evidence insufficient",
        )
    if call.ok:
        mark = call.provider == published
        return Quote(
            call.provider,
            call.verdict,
            call.confidence,
            text,
            mark,
            conflict_note(call),
            parts=cited_parts(text, links),
        )
    reason = call.failure.reason.value if call.failure else "failed"
    detail = safe(call.failure.detail if call.failure else "")
    return Quote(
        call.provider, None, None, NO_ANSWER, outcome="no-answer", detail=f"{reason}: {detail}"
    )
