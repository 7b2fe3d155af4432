"""What `panel evidence show` prints: a tool's pack, and each listed source's state."""

from __future__ import annotations

from typing import Any

from panel.config import Config
from panel.evidence.extract import tokens
from panel.evidence.snapshots import pack_of, read_snapshot
from panel.inputs.catalog import Catalog
from panel.paths import Home


def evidence_view(home: Home, catalog: Catalog, config: Config, slug: str) -> dict[str, Any]:
    """The pack of ``slug`` (as reviewers see it) and every source its entry lists.

    Each listed source says whether it is in the pack (its id), when it was last fetched or
    confirmed, and the last error (a failed fetch keeps the snapshot it had).
    """
    tool = catalog.get(slug)
    refs = catalog.evidence_of(tool.slug)
    pack = pack_of(home, tool.slug, refs, config.evidence.max_tool_tokens)
    in_pack = {(s.url, s.kind): s for s in pack.sources}
    listed: list[dict[str, Any]] = []
    for ref in refs:
        snapshot = read_snapshot(home, ref)
        shown = in_pack.get((ref.url, ref.kind))
        if shown is not None:
            state = "in the pack"
        elif snapshot is None or not snapshot.usable:
            state = "not fetched yet" if snapshot is None else "never fetched successfully"
        else:
            state = "left out: over [evidence] max_tool_tokens"
        listed.append(
            {
                "id": shown.id if shown else None,
                "url": ref.url,
                "kind": ref.kind.value,
                "state": state,
                "title": snapshot.title if snapshot else "",
                "fetched_at": _iso(snapshot.fetched_at if snapshot else None),
                "changed_at": _iso(snapshot.changed_at if snapshot else None),
                "checked_at": _iso(snapshot.checked_at if snapshot else None),
                "error": snapshot.error if snapshot else "",
            }
        )
    return {
        "tool": tool.slug,
        "digest": pack.digest() if not pack.empty else None,
        "tokens": sum(tokens(s.text) for s in pack.sources),
        "max_tool_tokens": config.evidence.max_tool_tokens,
        "pack": [
            {
                "id": s.id,
                "url": s.url,
                "kind": s.kind.value,
                "title": s.title,
                "fetched_at": s.fetched_at.isoformat(),
                "sha256": s.sha256,
                "tokens": tokens(s.text),
                "text": s.text,
            }
            for s in pack.sources
        ],
        "sources": listed,
    }


def _iso(value: object) -> str | None:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else None
