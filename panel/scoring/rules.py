"""The rules the numbers follow, named once: quorum, recusal and what a tool score means.

The config (``[panel] quorum``, ``[panel] recusal``), the record schema, the scoring
functions and the pages all take these enums and words from here. The module
depends on nothing else in panel, so any layer may import it.
"""

from __future__ import annotations

from enum import StrEnum


class Quorum(StrEnum):
    """What a tool needs before it can be picked (``[panel] quorum``, ``scores.quorum``)."""

    EVERY_PERSONA = "every-persona"  # each persona has >= 1 valid verdict for the tool
    ANY_VERDICT = "any-verdict"  # the tool has >= 1 valid verdict

    @property
    def rule(self) -> str:
        """What it asks, as records state it."""
        return _QUORUM_RULES[self]

    @property
    def words(self) -> str:
        """What it asks, for readers: "a tool needs <words> to be picked"."""
        return _QUORUM_WORDS[self]


class Recusal(StrEnum):
    """A verdict by a model whose vendor makes the tool (``[panel] recusal``, ``trust.recusal``)."""

    RECUSE = "recuse"  # set aside: kept in the record, left out of every score
    FLAG = "flag"  # counted, and flagged as a conflict of interest


_QUORUM_RULES = {
    Quorum.EVERY_PERSONA: "every persona has at least one valid verdict for the tool",
    Quorum.ANY_VERDICT: "the tool has at least one valid verdict",
}
_QUORUM_WORDS = {
    Quorum.EVERY_PERSONA: "a valid verdict from every reviewer",
    Quorum.ANY_VERDICT: "at least one valid verdict",
}

SHIP_PCT_RULE = (
    "ship_pct = ship verdicts / valid verdicts x 100, failed and recused verdicts not counted"
)


def tool_rule(quorum: Quorum) -> str:
    """How a tool score (``scores.tools[].rule``) is computed: its ship % and its quorum.

    "ship_pct = ship verdicts / valid verdicts x 100, failed and recused verdicts not
    counted; quorum every-persona: every persona has at least one valid verdict for the tool"
    """
    return f"{SHIP_PCT_RULE}; quorum {quorum.value}: {quorum.rule}"
