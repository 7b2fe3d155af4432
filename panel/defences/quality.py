"""Is a quote prose at all? A quote that is one word over and over is not published.

A schema-valid answer can still be degenerate: the injection benchmark saw the
embedded model answer a payload with "Drumbleweed." twenty times, which passes
every length limit and got the payload's word onto a page. A quote is flagged
``repetitive-quote`` when it has fewer than ``MIN_DISTINCT`` distinct words, or
when one content word makes up more than ``MAX_SHARE`` of a quote of at least
``LONG_QUOTE`` words. Real reviews clear both by a wide margin (the seed page's
quotes have 72 to 107 distinct words, and no content word above 3% of the words).

Only words count: links (``https://...``, ``www.``), e-mail addresses and tokens without a
letter (dates, versions, numbers) are dropped first, so a link and a date, which split
into many distinct tokens, are not prose either.

Only verdict quotes are checked: a head-to-head reason is never published. Like a
leak, a flagged answer is re-asked within the re-ask budget, then kept in the
record, flagged, and left out of scores and pages.
"""

from __future__ import annotations

import re
from collections import Counter

from panel.defences.leaks import FUNCTION_WORDS
from panel.defences.untrusted import DATAMARK

REPETITIVE = "repetitive-quote"
# A quote stating a claim its cited sources do not state (issue 26; pipeline/grounded.py).
UNGROUNDED = "ungrounded-claim"
# The model claim check (fact_check, pipeline/factcheck.py) did not pass: a claim it found
# unsupported, or no usable check.
CLAIM_CHECK_FAILED = "claim-check-failed"
MIN_DISTINCT = 8
MAX_SHARE = 1 / 3
LONG_QUOTE = 12
NOT_PROSE = (
    "its quote repeats the same words, or is a link or a date, instead of reviewing the tool; "
    "write 3 to 5 sentences of review in your own words"
)
_NOT_WORDS = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+", re.IGNORECASE)
# Words; each kana or CJK ideograph counts as one, since those scripts use no spaces.
_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def quote_flags(quote: str) -> list[str]:
    """``[REPETITIVE]`` if ``quote`` is not prose, else ``[]``."""
    text = _NOT_WORDS.sub(" ", quote.lower().replace(DATAMARK, " "))
    words = [w for w in _WORD.findall(text) if not w.isdigit()]
    if len(set(words)) < MIN_DISTINCT:
        return [REPETITIVE]
    content = [w for w in words if w not in FUNCTION_WORDS]
    if len(words) >= LONG_QUOTE and content:
        _, most = Counter(content).most_common(1)[0]
        if most > MAX_SHARE * len(words):
            return [REPETITIVE]
    return []
