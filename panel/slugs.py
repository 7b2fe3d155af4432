"""Slugs: the safe, stable names used for tools, personas and file names."""

from __future__ import annotations

import re
import unicodedata

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG_RE = re.compile(SLUG_PATTERN)
MAX_SLUG = 64
# Device names Windows reserves as file names (with any extension): never a bare slug.
RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


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
    if slug in RESERVED:
        slug = f"{slug}-tool"
    return slug


def is_slug(text: str) -> bool:
    return len(text) <= MAX_SLUG and bool(_SLUG_RE.match(text)) and text not in RESERVED
