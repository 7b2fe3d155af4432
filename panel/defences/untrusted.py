"""Vendor-written text is data, never instructions: clean it, cap it, fence it, mark it.

The defences (each can be switched off, for the injection benchmark only):

- **strip**: Unicode NFKC, then control and format characters (zero-width, bidi
  overrides, tag characters) are removed.
- **neutralise**: look-alikes of our own fence (``DATA-<hex>``, runs of angle
  brackets), chat-template role tokens (``<|im_start|>``, ``[INST]``) and the
  datamark character are defused.
- **cap**: each field has a length cap; a cut is marked in the prompt and recorded.
- **boundary**: the card sits between lines carrying a keyed token that vendors
  cannot guess, different for every tool (and ordered pair of tools), the same
  for every persona so that their prompts share a prefix.
- **datamark**: spaces inside the data are replaced by a marker character, so
  the model can tell data from instructions word by word (Hines et al., 2024,
  "spotlighting").
- **sandwich**: the task is restated after the data.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, fields

TRUNCATION_MARK = " [truncated by panel]"
# ASCII caret: rare in prose. Any mark between words costs a token per word (a word loses
# the leading-space form it is usually one token in); on SmolLM2's tokenizer the caret
# costs 1.74x the unmarked card, the old U+02C6 mark 2.39x (issue 18).
DATAMARK = "^"
LEGACY_DATAMARK = "\u02c6"  # the mark before issue 18: old answers may carry it
_DROP_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cs", "Cn"))
# Printable ASCII, newline and tab are always kept; only other characters are looked up.
_SUSPECT = re.compile(r"[^\x20-\x7e\n\t]")
# Things that look like our fences or like chat-template control tokens.
_LOOKALIKES = (
    (re.compile(r"[<>\u2039\u203a\u00ab\u00bb\uff1c\uff1e\u3008\u3009\u276e\u276f]{3,}"), "~"),
    (re.compile(r"(?i)\b(DATA|CANARY)-([0-9A-F]{6,})"), "fence"),
    (re.compile(r"<\|[^|>\n]{0,40}\|>"), "role"),
    (re.compile(r"(?i)\[/?(INST|SYS)\]|<</?SYS>>|</?s>"), "role"),
    (re.compile(re.escape(DATAMARK)), "mark"),
)


@dataclass(frozen=True)
class Defences:
    """Which defences apply to untrusted text in prompts. All on unless benchmarking."""

    strip: bool = True
    neutralise: bool = True
    cap: bool = True
    boundary: bool = True
    datamark: bool = True
    sandwich: bool = True

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name))


ALL_ON = Defences()
ALL_OFF = Defences(**{f.name: False for f in fields(Defences)})


@dataclass(frozen=True)
class Cleaned:
    text: str
    truncated: bool
    removed: int  # invisible or control characters stripped


def _drop(match: re.Match[str]) -> str:
    return "" if unicodedata.category(match.group()) in _DROP_CATEGORIES else match.group()


def strip_invisible(text: str) -> tuple[str, int]:
    """Drop control and format characters (zero-width, bidi overrides, tag characters)."""
    kept = _SUSPECT.sub(_drop, text)
    return kept, len(text) - len(kept)


def _defuse(match: re.Match[str], kind: str) -> str:
    found = match.group()
    if kind == "~":
        return "~" * len(found)
    if kind == "fence":
        return f"{match.group(1)}_{match.group(2)}"  # no longer our token format
    if kind == "role":
        return found.replace("<", "(").replace(">", ")").replace("[", "(").replace("]", ")")
    return LEGACY_DATAMARK  # looks alike, but it is not the mark


def neutralise(text: str) -> str:
    for pattern, kind in _LOOKALIKES:
        text = pattern.sub(functools.partial(_defuse, kind=kind), text)
    return text


def datamark(text: str) -> str:
    """Join the words of untrusted text with the datamark (newlines kept)."""
    return "\n".join(DATAMARK.join(line.split(" ")) for line in text.split("\n"))


def unmark(text: str) -> str:
    """Datamarks between words become spaces again (the current mark and the old one)."""
    return _MARK_BETWEEN.sub(" ", text)


_MARK_BETWEEN = re.compile(rf"(?<=\S)[{re.escape(DATAMARK)}{LEGACY_DATAMARK}](?=\S)")


def clean(text: str, cap: int, defences: Defences = ALL_ON) -> Cleaned:
    """Apply the text defences: strip, neutralise, cap, then datamark."""
    removed = 0
    if defences.strip:
        text = unicodedata.normalize("NFKC", text)
        text, removed = strip_invisible(text)
    if defences.neutralise:
        text = neutralise(text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    truncated = defences.cap and len(text) > cap
    if truncated:
        text = text[:cap].rstrip() + TRUNCATION_MARK
    if defences.datamark:
        text = datamark(text)
    return Cleaned(text, truncated, removed)


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def boundary(key: bytes, *parts: str) -> str:
    """A fence token that vendors cannot guess (keyed) but that is stable per call."""
    return "DATA-" + _mac(key, *parts)[:16].upper()


def canary(key: bytes, *parts: str) -> str:
    """A secret marker for the system prompt; seeing it in an answer means a leak.

    Keyed like the fence, so it is unguessable yet stable for the same call (a
    resumed run sends identical messages and hits the cache).
    """
    return "CANARY-" + _mac(key, "canary", *parts)[:12].upper()
