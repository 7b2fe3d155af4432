"""The leak check: an answer that repeats its instructions or the card is not published.

The system prompt carries a keyed canary (see :func:`panel.untrusted.canary`). An
answer containing it, in any case and with any separators, or containing a run
of ``RUN_WORDS`` consecutive words of the fixed system-prompt text, leaked its
instructions.

The card's words reach the model joined by the datamark. An answer holding a run
of ``ECHO_WORDS`` datamarked words copied the vendor's own text into the review
verbatim, which is how an injected sentence gets itself published.

Either way the verdict is kept in the record, flagged, and left out of scores and
pages.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from panel.untrusted import DATAMARK

RUN_WORDS = 10
ECHO_WORDS = 8
CANARY_LEAK = "canary-leak"
PROMPT_ECHO = "system-prompt-echo"
CARD_ECHO = "card-text-echo"
COPIED_CARD = (
    f"it copies {ECHO_WORDS} or more words of the tool card verbatim; "
    "review the tool in your own words instead of repeating the vendor's text"
)
_WORD = re.compile(r"[a-z0-9]+")
_MARKED_RUN = re.compile(rf"[^\s{DATAMARK}]+(?:{DATAMARK}[^\s{DATAMARK}]+){{{ECHO_WORDS - 1},}}")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _runs(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@functools.lru_cache(maxsize=256)
def _prompt_runs(system: str, exempt: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    fixed = system
    for part in exempt:
        if part:
            fixed = fixed.replace(part, "\0")
    runs: set[tuple[str, ...]] = set()
    for chunk in fixed.split("\0"):  # no run spans an exempt part
        runs |= _runs(_words(chunk), RUN_WORDS)
    return frozenset(runs)


def leak_flags(
    system: str, canary: str, texts: Iterable[str], exempt: Iterable[str] = ()
) -> list[str]:
    """Flags for answer ``texts`` given the system prompt that produced them.

    ``exempt`` are parts of the system prompt that an answer may legitimately
    echo (the persona's lens and voice): they are removed before comparing.
    """
    answer = " ".join(texts)
    flags = []
    squashed = "".join(_words(answer))
    if canary and "".join(_words(canary)) in squashed:
        flags.append(CANARY_LEAK)
    if _prompt_runs(system, tuple(exempt)) & _runs(_words(answer), RUN_WORDS):
        flags.append(PROMPT_ECHO)
    if _MARKED_RUN.search(answer):
        flags.append(CARD_ECHO)
    return flags
