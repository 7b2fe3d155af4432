"""Vendor-written text is data, never instructions: clean it, cap it, fence it."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

TRUNCATION_MARK = " [truncated by panel]"
# Characters that look like our fence markers; neutralised inside untrusted text.
_FENCE_LOOKALIKES = re.compile(
    r"[<>\u2039\u203a\u00ab\u00bb\uff1c\uff1e\u3008\u3009\u276e\u276f]{3,}"
)


@dataclass(frozen=True)
class Cleaned:
    text: str
    truncated: bool
    removed: int  # invisible or control characters stripped


_DROP_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cs", "Cn"))
# Printable ASCII, newline and tab are always kept; only other characters are looked up.
_SUSPECT = re.compile(r"[^\x20-\x7e\n\t]")


def _drop(match: re.Match[str]) -> str:
    return "" if unicodedata.category(match.group()) in _DROP_CATEGORIES else match.group()


def strip_invisible(text: str) -> tuple[str, int]:
    """Drop control and format characters (zero-width, bidi overrides, tag characters)."""
    kept = _SUSPECT.sub(_drop, text)
    return kept, len(text) - len(kept)


def clean(text: str, cap: int) -> Cleaned:
    """Normalise, strip invisible characters, neutralise fences and cap the length."""
    text = unicodedata.normalize("NFKC", text)
    text, removed = strip_invisible(text)
    text = _FENCE_LOOKALIKES.sub(lambda m: "~" * len(m.group()), text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    if len(text) <= cap:
        return Cleaned(text, False, removed)
    return Cleaned(text[:cap].rstrip() + TRUNCATION_MARK, True, removed)


def boundary(key: bytes, *parts: str) -> str:
    """A fence token that vendors cannot guess (keyed) but that is stable per call."""
    mac = hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256)
    return "DATA-" + mac.hexdigest()[:16].upper()
