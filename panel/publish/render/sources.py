"""What a tool was reviewed from, in a reader's words (issue 26), and quotes' citation links.

A record lists, per tool, the sources its reviewers were shown (``record.evidence``). The
page shows each as kind, domain and "checked <date>"; a tool with none says it was
"Reviewed from the vendor's description only". Citation markers in a quote (``[S2]``,
``[S1, S3]``) link to the source they name, only through an http(s) URL
(``panel.urls.http_url``); a marker of a source the tool does not have stays text.
Every string here is plain text: each renderer escapes it for its format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from panel.defences.untrusted import strip_invisible
from panel.records.schema import ComparisonRecord
from panel.urls import http_url

VENDOR_ONLY = "Reviewed from the vendor's description only"
_MARKER = re.compile(r"\[\s*(S\d+(?:\s*[,;]\s*S\d+)*)\s*\]")
_ID = re.compile(r"S\d+")


@dataclass(frozen=True)
class SourceLink:
    """One source as a reader sees it."""

    id: str  # "S2"
    kind: str  # "pricing"
    domain: str  # "alpha.example", or "" for a URL that is not http(s)
    url: str  # http(s) only, else ""
    checked: date
    title: str = ""

    @property
    def label(self) -> str:
        """ "pricing, alpha.example, checked 2026-12-03"."""
        where = f", {self.domain}" if self.domain else ""
        return f"{self.kind}{where}, checked {self.checked.isoformat()}"


@dataclass(frozen=True)
class Part:
    """A piece of a quote: text, or a citation marker with the link it points to."""

    text: str
    href: str = ""  # set only on a marker of a known source with an http(s) URL


def _clean(text: str) -> str:
    return strip_invisible(text)[0]


def sources_of(record: ComparisonRecord, slug: str) -> tuple[SourceLink, ...]:
    """The sources ``slug``'s reviewers were shown in ``record``; () for the card alone."""
    found = []
    for ref in record.evidence.get(slug, []):
        url = http_url(ref.url)
        host = (urlsplit(url).hostname or "") if url else ""
        found.append(
            SourceLink(
                id=_clean(ref.id),
                kind=_clean(ref.kind),
                domain=_clean(host.removeprefix("www.")),
                url=url,
                checked=ref.fetched_at.date(),
                title=_clean(ref.title),
            )
        )
    return tuple(found)


def label(name: str, sources: Sequence[SourceLink]) -> str:
    """One tool's evidence for feeds and the digest: a sentence ending with a period."""
    if not sources:
        return f"{name}: {VENDOR_ONLY[0].lower()}{VENDOR_ONLY[1:]}."
    listed = "; ".join(f"{s.id} {s.label}" for s in sources)
    return f"{name}: sources {listed}."


def cited_parts(text: str, links: Mapping[str, str]) -> tuple[Part, ...]:
    """``text`` split at citation markers; each id of a known source becomes a link."""
    parts: list[Part] = []
    at = 0
    for match in _MARKER.finditer(text):
        parts.append(Part(text[at : match.start()]))
        inner_at = match.start()
        for found in _ID.finditer(text, match.start(), match.end()):
            parts.append(Part(text[inner_at : found.start()]))
            parts.append(Part(found.group(), links.get(found.group(), "")))
            inner_at = found.end()
        parts.append(Part(text[inner_at : match.end()]))
        at = match.end()
    parts.append(Part(text[at:]))
    return tuple(p for p in parts if p.text)
