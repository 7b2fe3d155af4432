"""Stored snapshots of sources under runs/evidence/, and the pack read from them.

- ``runs/evidence/text/<sha256>.txt``: a snapshot's text, content-addressed (the name is
  the sha256 of the bytes; a file whose bytes do not match its name is never shown).
- ``runs/evidence/sources/<key>.json``: one per (kind, URL): its title, the sha256 of its
  current text, when it was last fetched or confirmed (a 304), when it last changed, the
  ETag and Last-Modified of each request for the next conditional GET, and the last
  error. A failed fetch keeps the snapshot it had and records the error beside it.

Files are written atomically with the modes of the rest of runs/ (``panel/atomic.py``), and
not fsynced (``DURABLE``: a cache, fetched again after a crash).
Reading is pure: ``load_pack`` never fetches or writes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict

from panel.atomic import write_atomic
from panel.config import Config
from panel.evidence.apis import Facts
from panel.evidence.extract import tokens
from panel.evidence.pack import EvidencePack, EvidenceSource, SourceKind
from panel.inputs.catalog import Catalog, Tool
from panel.inputs.toolsources import SourceRef
from panel.paths import Home
from panel.safeio import UnreadableFileError, read_regular

MAX_META_BYTES = 1024 * 1024
# Snapshots are a cache of what the web said: atomic (a reader never sees half a file) but
# not fsynced, like the site. A crash can lose the last fetches; the next run fetches them
# again (a state file that does not read, or a text that does not match its hash, counts
# as never fetched). Thousands of fsyncs a night would cost more than the fetch itself.
DURABLE = False
MAX_TEXT_BYTES = 4 * 1024 * 1024


class Validators(BaseModel):
    """What one request of a source answered, for the next conditional GET."""

    model_config = ConfigDict(extra="forbid")

    etag: str = ""
    last_modified: str = ""
    facts: Facts | None = None  # a machine-readable answer's facts (a 304 has no body)


class Snapshot(BaseModel):
    """The stored state of one source (its text is in ``text/<sha256>.txt``)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    kind: SourceKind
    title: str = ""
    sha256: str = ""  # "" until a fetch succeeds
    fetched_at: AwareDatetime | None = None  # last fetched or confirmed unchanged
    changed_at: AwareDatetime | None = None  # when the text last changed
    checked_at: AwareDatetime | None = None  # the last attempt, whatever its outcome
    error: str = ""  # the last attempt's failure; "" if it succeeded
    requests: dict[str, Validators] = {}

    @property
    def usable(self) -> bool:
        return bool(self.sha256) and self.fetched_at is not None


def folder(home: Home) -> Path:
    return home.runs / "evidence"


def key(ref: SourceRef) -> str:
    """The file name of a source's state: the same URL as another kind is another source."""
    return hashlib.sha256(f"{ref.kind.value}\n{ref.url}".encode()).hexdigest()


def _meta_path(home: Home, ref: SourceRef) -> Path:
    return folder(home) / "sources" / f"{key(ref)}.json"


def _text_path(home: Home, sha256: str) -> Path:
    return folder(home) / "text" / f"{sha256}.txt"


def read_snapshot(home: Home, ref: SourceRef) -> Snapshot | None:
    """The stored state of ``ref``; None if never fetched or unreadable."""
    path = _meta_path(home, ref)
    if not path.exists():
        return None
    try:
        data = json.loads(read_regular(path, MAX_META_BYTES, "evidence snapshot"))
        snapshot = Snapshot.model_validate(data)
    except (ValueError, RecursionError, OSError, UnreadableFileError):
        return None  # shown as never fetched; the next fetch writes it afresh
    return snapshot if snapshot.url == ref.url and snapshot.kind is ref.kind else None


def write_snapshot(home: Home, snapshot: Snapshot) -> None:
    ref = SourceRef(snapshot.url, snapshot.kind)
    data = snapshot.model_dump_json(indent=2, exclude_defaults=False) + "\n"
    write_atomic(_meta_path(home, ref), data.encode(), durable=DURABLE)


def digest_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def store_text(home: Home, text: str) -> str:
    """Store ``text`` under its sha256 (once) and return the hash."""
    sha256 = digest_text(text)
    if not has_text(home, sha256):  # absent, or damaged: (re)written
        write_atomic(_text_path(home, sha256), text.encode(), durable=DURABLE)
    return sha256


def has_text(home: Home, sha256: str) -> bool:
    """Is the text stored under ``sha256`` there and what its name says?"""
    return read_text(home, sha256) is not None


def read_text(home: Home, sha256: str) -> str | None:
    """The text stored under ``sha256``; None if missing or not what its name says."""
    path = _text_path(home, sha256)
    if len(sha256) != 64 or not path.exists():
        return None
    try:
        raw = read_regular(path, MAX_TEXT_BYTES, "evidence text")
    except UnreadableFileError:  # shown as never fetched; the next fetch writes it afresh
        return None
    if hashlib.sha256(raw).hexdigest() != sha256:
        return None
    return raw.decode("utf-8", errors="replace")


def pack_of(home: Home, slug: str, refs: Sequence[SourceRef], max_tool_tokens: int) -> EvidencePack:
    """The pack of ``refs`` from stored snapshots, in their order, numbered S1, S2, ….

    A source never fetched (or unreadable) is left out; so is one whose text would take the
    tool past ``max_tool_tokens``, while smaller ones after it may still fit. Every text is
    shown whole, exactly as stored, so its sha256 names its stored file.
    """
    sources: list[EvidenceSource] = []
    used = 0
    for ref in refs:
        snapshot = read_snapshot(home, ref)
        if snapshot is None or not snapshot.usable or snapshot.fetched_at is None:
            continue
        text = read_text(home, snapshot.sha256)
        if text is None or used + tokens(text) > max_tool_tokens:
            continue
        used += tokens(text)
        sources.append(
            EvidenceSource(
                id=f"S{len(sources) + 1}",
                url=ref.url,
                kind=ref.kind,
                title=snapshot.title,
                fetched_at=snapshot.fetched_at,
                sha256=snapshot.sha256,
                text=text,
            )
        )
    return EvidencePack(tool=slug, sources=tuple(sources))


def load_pack(
    home: Home,
    tool: Tool,
    *,
    catalog: Catalog | None = None,
    config: Config | None = None,
) -> EvidencePack:
    """The evidence pack of ``tool``: its catalog sources' stored snapshots (no network).

    ``catalog`` (the one a job loaded) saves reading the entry's file again; ``config``
    saves reading panel.toml (``[evidence] max_tool_tokens``).
    """
    if catalog is None or tool.slug not in catalog.tools:
        path = home.catalog / f"{tool.slug}.toml"
        catalog = Catalog.load_some(home.catalog, [tool.slug]) if path.is_file() else None
    refs = catalog.evidence_of(tool.slug) if catalog is not None else ()
    if not refs:
        return EvidencePack(tool=tool.slug)
    config = config or Config.load(home.config_file)
    return pack_of(home, tool.slug, refs, config.evidence.max_tool_tokens)


def evidence_digests(
    home: Home,
    tools: Sequence[Tool],
    *,
    catalog: Catalog | None = None,
    config: Config | None = None,
) -> dict[str, str]:
    """slug -> its pack's digest, for the tools with a non-empty pack (what re-review keys on:
    a tool with no evidence adds nothing, so its fingerprint is what it was before sources)."""
    digests = {}
    for tool in tools:
        pack = load_pack(home, tool, catalog=catalog, config=config)
        if not pack.empty:
            digests[tool.slug] = pack.digest()
    return digests
