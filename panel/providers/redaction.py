"""Finding an API key in text a server sent back, in every form we can compute.

Careless or hostile servers echo the key they were sent: raw, upper- or lower-cased,
URL-encoded, hex, base64 (of the key alone, of ``Bearer <key>``, of ``user:<key>``,
inside a longer encoded header), or cut short. Each form is computed up front;
any run of ``WINDOW`` consecutive characters of one of them (any case) marks the
text as containing the key, and redaction replaces the whole run with ``***``.

Base64 depends on where the key starts in the encoded bytes, so the key is encoded
at all three alignments and only the characters that depend on the key alone are
kept: those appear in the base64 of any text that contains the key.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

WINDOW = 12  # characters of a key's form that count as the key (~60+ bits of a random key)
MIN_SECRET = 4  # shorter "keys" are not worth redacting
MASK = "***"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(text: str) -> str:
    """ASCII lower-casing that keeps every character where it was (str.lower may not)."""
    return text.translate(_ASCII_LOWER)


def _base64_cores(data: bytes) -> set[str]:
    """The base64 characters that encode ``data`` alone, at each of the three alignments."""
    cores = set()
    for offset in range(3):
        padded = b"\0" * offset + data
        first = -(-offset * 8 // 6)  # the first character with no bits of the padding
        last = (offset + len(data)) * 8 // 6  # characters wholly inside the data end here
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            core = encode(padded).decode("ascii")[first:last]
            if core:
                cores.add(core)
    return cores


def key_forms(secret: str) -> set[str]:
    """Every form of ``secret`` we can compute, as a server might echo it."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), raw.hex()}
    for core in _base64_cores(raw):
        forms |= {core, quote(core, safe="")}
    return {form for form in forms if form}


class Redactor:
    """Finds and masks the given secrets in any of their forms."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self.windows: dict[int, set[str]] = {}
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET:
                continue
            for form in key_forms(secret):
                size = min(WINDOW, len(form))
                lowered = _lower(form)
                found = self.windows.setdefault(size, set())
                found.update(lowered[i : i + size] for i in range(len(lowered) - size + 1))

    def _spans(self, text: str) -> list[tuple[int, int]]:
        lowered = _lower(text)
        spans: list[tuple[int, int]] = []
        for size, windows in self.windows.items():
            for i in range(len(lowered) - size + 1):
                if lowered[i : i + size] in windows:
                    spans.append((i, i + size))
        spans.sort()
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def found(self, text: str | None) -> bool:
        return bool(text) and bool(self._spans(text or ""))

    def redact(self, text: str) -> str:
        out, at = [], 0
        for start, end in self._spans(text):
            out += [text[at:start], MASK]
            at = end
        out.append(text[at:])
        return "".join(out)
