"""A fetched page's main text and title; the token approximation and the per-source cap.

HTML goes through trafilatura (main text: navigation, footers and boilerplate dropped;
tables kept, since pricing lives in tables), with its whole-page text as the fallback
when it finds no main part. No script is ever run: the page is parsed, not rendered.
Plain text, Markdown and JSON are kept as they are. Everything else (PDFs, images) is
refused. The text is vendor-written and untrusted: it is stored as it was extracted and
fenced when it reaches a prompt.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from panel.errors import PanelError

CHARS_PER_TOKEN = 4  # the approximation: about 4 characters per token of English text
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown", "application/json")
_MAX_TITLE = 200


def tokens(text: str) -> int:
    """Approximate tokens of ``text``: characters / 4, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def cap(text: str, max_tokens: int) -> str:
    """``text`` cut to at most ``max_tokens`` (approximate), at a word boundary."""
    limit = max_tokens * CHARS_PER_TOKEN
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > limit // 2 else cut).rstrip()


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _charset(headers: Mapping[str, str]) -> str:
    found = re.search(r"charset=\"?([A-Za-z0-9._-]+)", headers.get("content-type", ""))
    return found.group(1) if found else "utf-8"


def _decode(body: bytes, headers: Mapping[str, str]) -> str:
    try:
        return body.decode(_charset(headers), errors="replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", errors="replace")


def _title(body: bytes) -> str:
    found = _TITLE.search(body[:200_000])
    if not found:
        return ""
    text = html.unescape(found.group(1).decode("utf-8", errors="replace"))
    return " ".join(text.split())[:_MAX_TITLE]


def page_text(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[str, str]:
    """(title, main text) of a fetched page; a PanelError if it is not HTML or text."""
    media = _media_type(headers)
    if media in _TEXT_TYPES or (media.startswith("text/") and media != "text/html"):
        return "", _decode(body, headers).strip()
    if media and media not in ("text/html", "application/xhtml+xml"):
        raise PanelError(f"{url}: {media} is not a page panel reads (HTML or text only)")
    import trafilatura

    source = _decode(body, headers)
    text = trafilatura.extract(
        source,
        url=url,
        include_tables=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        favor_recall=True,
        deduplicate=False,
    )
    if not text:  # no main part found (a short page): all of its text
        text = trafilatura.html2txt(source)
    return _title(body), (text or "").strip()
