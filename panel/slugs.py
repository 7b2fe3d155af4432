"""Slugs: the safe, stable names used for tools, personas and file names."""

from __future__ import annotations

import re
import unicodedata

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG_RE = re.compile(SLUG_PATTERN)
MAX_SLUG = 64


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by single hyphens ("SmolVLM 2.5" -> "smolvlm-2-5")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-")


def is_slug(text: str) -> bool:
    return len(text) <= MAX_SLUG and bool(_SLUG_RE.match(text))
