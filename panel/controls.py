"""Control characters in catalog text: stripped at import, made visible in terminal views.

Vendor text reaches the terminal through ``panel tools show`` and ``tools list``. An
ESC there starts an escape sequence (clear the screen, hide text, plant a clickable
link), a NUL or a carriage return hides what came before, and a bidi override
reorders what the editor reads. So every catalog text field is cleaned when a
``Tool`` is validated (on import and on load), and terminal views escape whatever
might still be there.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi embeddings, overrides and isolates, and the marks that steer them ("Trojan Source").
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_NEWLINES = re.compile(r"\r\n?|[\u0085\u2028\u2029]")
# Printable ASCII is always kept; other characters are looked up one by one.
_SUSPECT = re.compile(r"[^\x20-\x7e]")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS


def strip_controls(text: str, multiline: bool = False) -> str:
    """``text`` without C0/C1 controls (ESC, NUL, DEL, ...) and bidi controls.

    Multi-line fields keep newlines (CR and CRLF become LF) and tabs; one-line
    fields lose every control character, so the caller's whitespace folding sees
    only ordinary spaces.
    """
    if multiline:
        text = _NEWLINES.sub("\n", text)
    keep = "\n\t" if multiline else ""

    def drop(match: re.Match[str]) -> str:
        char = match.group()
        return char if char in keep or not _is_control(char) else ""

    return _SUSPECT.sub(drop, text)


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\n\t" or not (_is_control(char) or unicodedata.category(char) == "Cf"):
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """``text`` with every control or format character shown as an escape (``\\x1b``).

    Newlines and tabs are kept. Pass the result to rich as ``Text``, never as markup,
    so ``[link=...]`` in vendor text stays literal.
    """
    return _SUSPECT.sub(_visible, text)
