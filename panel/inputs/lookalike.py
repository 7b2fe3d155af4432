"""Look-alike names: ``Ａｉｄｅｒ``, ``Аider`` (Cyrillic А) and ``A.i.d.e.r`` all read "Aider".

:func:`skeleton` folds a name to what a reader sees: Unicode compatibility forms
(fullwidth, mathematical letters, ligatures) by NFKC, case by casefold, accents
dropped, common Cyrillic, Greek and Latin-extension look-alikes mapped to the
Latin letter they imitate, digit/letter swaps (``0``/``o``, ``1``/``l``,
``rn``/``m``) folded, and everything but letters and digits removed. Two names
with the same skeleton are one name to a reader. The table covers the letters
that impersonate Latin ones in practice; it is not the full Unicode confusables
list, so treat a differing skeleton as "probably different", not "safe".
"""

from __future__ import annotations

import re
import unicodedata

_CONFUSABLES = {
    # Cyrillic (lower case; upper case folds here first)
    "а": "a", "б": "b", "в": "b", "г": "r", "д": "d", "е": "e", "ё": "e", "ж": "x",
    "з": "3", "и": "u", "й": "u", "к": "k", "л": "n", "м": "m", "н": "h", "о": "o",
    "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "ф": "o", "х": "x", "ц": "u",
    "ч": "4", "ш": "w", "щ": "w", "ъ": "b", "ы": "bl", "ь": "b", "э": "e", "ю": "io",
    "я": "r", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ү": "y", "ҫ": "c", "ӓ": "a", "ӧ": "o", "ӱ": "y", "ԍ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n", "θ": "o",
    "ι": "i", "κ": "k", "λ": "a", "μ": "u", "ν": "v", "ξ": "e", "ο": "o", "π": "n",
    "ρ": "p", "σ": "o", "ς": "c", "τ": "t", "υ": "u", "φ": "o", "χ": "x", "ψ": "w",
    "ω": "w", "ϲ": "c", "ϳ": "j",
    # Armenian, and Latin letters that NFKD leaves alone
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "զ": "q", "ա": "w",
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ƀ": "b",
    "ɑ": "a", "ɡ": "g", "ɩ": "i", "ɪ": "i", "ʀ": "r", "ʏ": "y", "ᴀ": "a", "ᴄ": "c",
    "ᴅ": "d", "ᴇ": "e", "ᴋ": "k", "ᴍ": "m", "ᴏ": "o", "ᴘ": "p", "ᴛ": "t", "ᴜ": "u",
    "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "p",
    # digits and letters that stand in for each other
    "0": "o", "1": "l", "|": "l", "!": "l", "$": "s", "@": "a",
}  # fmt: skip
_TABLE = str.maketrans(_CONFUSABLES)
_DROP = re.compile(r"[^a-z0-9]")
_PAIRS = (("rn", "m"), ("vv", "w"))


def skeleton(text: str) -> str:
    """What ``text`` looks like, reduced to lower-case ASCII letters and digits."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _DROP.sub("", text.translate(_TABLE))
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return text
