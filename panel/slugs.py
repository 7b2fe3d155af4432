"""Slugs: the safe, stable names used for tools, personas and file names."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG_RE = re.compile(SLUG_PATTERN)
MAX_SLUG = 64
# Device names Windows reserves as file names, with any extension ("con.toml", "NUL.json"):
# never a slug, so no catalog entry, record or page is ever named after one.
RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
# Also reserved, though no slug can spell them: superscript-digit ports and console names.
_RESERVED_OTHER = frozenset(
    {f"{port}{digit}" for port in ("com", "lpt") for digit in "\u00b9\u00b2\u00b3"}
    | {"conin$", "conout$", "clock$"}
)


def is_reserved(name: str) -> bool:
    """True for a Windows device name, in any case, with or without an extension.

    Windows ignores trailing dots and spaces and everything after the first dot,
    so ``CON``, ``con.txt``, ``Nul.tar.gz`` and ``lpt9 .json`` all name a device.
    """
    stem = name.split(".", 1)[0].rstrip(" .").lower()
    return stem in RESERVED or stem in _RESERVED_OTHER


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by single hyphens ("SmolVLM 2.5" -> "smolvlm-2-5").

    Unicode is NFKC- then NFKD-folded and non-ASCII dropped, so look-alikes never
    survive; path separators and dots become hyphens; reserved device names get
    a ``-tool`` suffix. May return "" (nothing usable): callers must check.
    """
    text = unicodedata.normalize("NFKC", text)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    slug = slug[:MAX_SLUG].rstrip("-")
    if is_reserved(slug):
        slug = f"{slug}-tool"
    return slug


def is_slug(text: str) -> bool:
    return len(text) <= MAX_SLUG and bool(_SLUG_RE.match(text)) and not is_reserved(text)


def _not_reserved(value: str) -> str:
    if is_reserved(value):
        raise ValueError(
            f"{value!r} is a device name Windows reserves for files; "
            f"choose another slug, such as {value}-tool"
        )
    return value


# A slug given explicitly (a catalog entry's ``slug``, a competitor): the pattern and the
# length, and never a reserved device name. (pydantic's regex engine has no look-ahead,
# so the reserved names are checked after the pattern.)
Slug = Annotated[
    str, Field(pattern=SLUG_PATTERN, max_length=MAX_SLUG), AfterValidator(_not_reserved)
]
