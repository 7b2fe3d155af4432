"""The evidence pack as a reviewer sees it (issue 26): numbered, fenced, cleaned, capped.

Fetched pages are untrusted data, exactly like the vendor's card: each source's title,
URL and text go through the same defences (``panel.defences.untrusted.clean``: invisible
and control characters stripped, fence and role look-alikes defused, capped, datamarked)
and sit between two lines that carry the tool's evidence fence (keyed like the card's
fence, with the source's number). Kind and number are panel's own. The fetch date is not
shown: a re-fetch that only confirms a page unchanged must change neither the prompt nor the
call key (``EvidencePack.digest`` leaves fetch times out for the same reason), or a batch
submitted one night would not find its calls the next. Pages show the date instead.

A tool with no sources gets no evidence at all: its prompt, schema and call key are
those of a card-only review, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.defences.untrusted import Defences, clean
from panel.evidence.pack import EvidencePack

# Characters, before datamarking. A source's text is capped on its own and all texts
# together: a pack of many long pages is cut, source by source, at the pack's cap.
# Datamarked page text costs about 0.64 SmolLM2 tokens a character (benchmarks/
# evidence_tokens.py): a full pack adds about 7,700 tokens to each call's prompt.
SOURCE_CAPS = {"title": 200, "url": 300, "text": 4_000}
PACK_TEXT_CAP = 12_000


@dataclass(frozen=True)
class PackView:
    """The template's ``evidence`` variable, and what the defences did to the pack."""

    values: dict[str, object]  # {"boundary": ..., "sources": [{id, kind, title, url, text}]}
    truncated: tuple[str, ...]  # "S2.text", ...
    stripped: int  # invisible or control characters removed
    texts: tuple[str, ...]  # the untrusted fields as the model saw them (for the echo check)


def present(pack: EvidencePack | None) -> bool:
    """Whether ``pack`` has anything to show: a card-only review has no evidence."""
    return pack is not None and not pack.empty


def view(pack: EvidencePack, fence: str, defences: Defences) -> PackView:
    """The pack's sources as template data, each field cleaned like a card field."""
    sources: list[dict[str, str]] = []
    truncated: list[str] = []
    texts: list[str] = []
    stripped = 0
    left = PACK_TEXT_CAP
    for source in pack.sources:
        shown: dict[str, str] = {
            "id": source.id,
            "kind": source.kind.value,
        }
        raw = {"title": source.title, "url": source.url, "text": source.text}
        for name, cap in SOURCE_CAPS.items():
            if name == "text":
                cap = max(0, min(cap, left))
            result = clean(raw[name], cap, defences)
            shown[name] = result.text
            stripped += result.removed
            if result.truncated:
                truncated.append(f"{source.id}.{name}")
            if name != "url":
                texts.append(result.text)
        left -= min(len(source.text), SOURCE_CAPS["text"])
        sources.append(shown)
    values: dict[str, object] = {"boundary": fence, "sources": sources}
    return PackView(values, tuple(truncated), stripped, tuple(texts))


def key_part(pack: EvidencePack | None) -> str:
    """What the pack adds to a call key: its digest, or "" for a card-only review."""
    return pack.digest() if pack is not None and not pack.empty else ""
