"""The evidence sources a catalog entry lists: ``sources = [{url, kind}]`` (issue 26).

They live in the entry's file beside the tool's fields but are not part of ``Tool``:
records embed tools, and a tool's record bytes and call keys must not change because an
editor listed its homepage. What reviewers are shown of them is the evidence pack
(``panel.evidence``), whose digest decides re-review instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from panel.controls import strip_controls
from panel.errors import PanelError
from panel.evidence.pack import SourceKind
from panel.urls import http_url

SOURCES_KEY = "sources"
MAX_SOURCES = 20
MAX_URL_CHARS = 2_000
KINDS = ", ".join(k.value for k in SourceKind)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One source as the catalog lists it: where it is and what kind of page it is."""

    url: str
    kind: SourceKind

    def as_toml(self) -> dict[str, str]:
        return {"url": self.url, "kind": self.kind.value}


def source_ref(url: object, kind: object, where: str) -> SourceRef:
    """A checked source: an http(s) URL with a host and one of the kinds, or a PanelError."""
    if not isinstance(url, str) or not url.strip():
        raise PanelError(f"{where}: 'url' must be an http(s) URL, e.g. https://example.com/")
    clean = strip_controls(url).strip()
    if len(clean) > MAX_URL_CHARS or not http_url(clean):
        raise PanelError(
            f"{where}: {clean[:200]!r} is not an http(s) URL with a host name (no spaces or "
            "quotes); use e.g. https://example.com/pricing"
        )
    try:
        return SourceRef(clean, SourceKind(str(kind)))
    except ValueError:
        raise PanelError(
            f"{where}: kind {kind!r} is not a source kind; use one of {KINDS}"
        ) from None


def parse_sources(value: object, where: str) -> tuple[SourceRef, ...]:
    """The ``sources`` array of a catalog file (each ``{url, kind}``), checked; order kept."""
    if not isinstance(value, list):
        raise PanelError(
            f"{where}: field {SOURCES_KEY!r}: must be an array of tables such as "
            '[[sources]] url = "https://example.com/" kind = "homepage" (README, "Sources")'
        )
    if len(value) > MAX_SOURCES:
        raise PanelError(f"{where}: more than {MAX_SOURCES} sources; keep the best ones")
    refs: list[SourceRef] = []
    for number, item in enumerate(value, start=1):
        at = f"{where}: sources[{number}]"
        if not isinstance(item, dict):
            raise PanelError(f"{at}: must be a table with url and kind")
        extra = sorted(set(item) - {"url", "kind"})
        if extra:
            raise PanelError(f"{at}: unknown field {extra[0]!r}; a source has only url and kind")
        if "kind" not in item:
            raise PanelError(f"{at}: add kind (one of {KINDS})")
        ref = source_ref(item.get("url"), item["kind"], at)
        if ref in refs:
            raise PanelError(f"{at}: {ref.url} ({ref.kind.value}) is listed twice; remove one")
        refs.append(ref)
    return tuple(refs)


def pop_sources(data: dict[str, Any], where: str) -> tuple[SourceRef, ...]:
    """Take the ``sources`` array out of a catalog file's data (it is not part of the tool)."""
    if SOURCES_KEY not in data:
        return ()
    return parse_sources(data.pop(SOURCES_KEY), where)
