"""Catalog intake: JSON Lines, CSV and RSS/Atom from a file or URL, under the catalog's rules.

An import may add tools. It never changes an entry it did not add: an entry changes
only when it came from the same source (its recorded ``source``) and the editor said
that source may update it (``may_update = true`` in ``[intake.sources.<name>]``).
Anything else that names an existing entry, by slug or by a look-alike name
(``Ａｉｄｅｒ``, ``Аider``, ``A.i.d.e.r`` for ``Aider``), is reported as a conflict
and not imported. An item that repeats an entry exactly is simply unchanged.

A feed item's link is kept as the entry's ``announcement`` source (evidence, issue 26);
a JSON Lines object may list ``sources`` as a catalog file does.

JSON Lines are validated all or nothing (one bad line and nothing is written); a
bad CSV row or feed item is skipped and reported, and the rest import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panel.errors import PanelError
from panel.inputs.catalog import SOURCE_KEY, Catalog, Tool, tool_from_data
from panel.inputs.fetch import FetchPolicy, fetch
from panel.inputs.lookalike import skeleton
from panel.inputs.rss import Candidates, csv_rows, feed_items, jsonl_lines, kind_of
from panel.inputs.toolsources import SOURCES_KEY, SourceRef, pop_sources
from panel.safeio import read_regular

MAX_SOURCE_BYTES = 16 * 1024 * 1024  # a local import file; downloads have their own cap


@dataclass(frozen=True)
class Source:
    """Where an import comes from, the name it is recorded under, and what it may do."""

    label: str  # recorded as the entries' ``source``: a configured name, a URL or a path
    location: str  # an http(s) URL or a file path
    may_update: bool = False
    policy: FetchPolicy = field(default_factory=FetchPolicy)

    @property
    def is_url(self) -> bool:
        return self.location.lower().startswith(("http://", "https://"))


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "location: reason"
    conflicts: list[str] = field(default_factory=list)  # "location: what and why"

    def summary(self) -> str:
        return (
            f"imported {len(self.added)} new, updated {len(self.updated)}, "
            f"skipped {len(self.skipped)}, conflicts {len(self.conflicts)}, "
            f"unchanged {len(self.unchanged)}"
        )


def read_source(source: Source) -> bytes:
    """The source's bytes: a bounded download, or a regular local file under a size cap."""
    if source.is_url:
        return fetch(source.location, source.policy)
    if "://" in source.location:
        raise PanelError(f"{source.location}: only http(s) URLs can be imported")
    path = Path(source.location)
    if not path.exists() and not path.is_symlink():
        raise PanelError(f"{path}: no such file; check the path")
    return read_regular(path, MAX_SOURCE_BYTES, "import file")  # never a FIFO or /dev/zero


def import_source(catalog: Catalog, source: Source | str) -> ImportReport:
    """Import one source into ``catalog`` (see the module docstring for the rules)."""
    if isinstance(source, str):
        source = hand_typed(source)
    data = read_source(source)
    kind = kind_of(source.location, data)
    if kind == "jsonl":
        return _apply(catalog, source, jsonl_lines(data, source.location), strict=True)
    items = feed_items(data, source.location) if kind == "feed" else csv_rows(data, source.location)
    return _apply(catalog, source, items, strict=False)


def import_jsonl(catalog: Catalog, path: Path) -> ImportReport:
    """A JSON Lines file typed by hand: all lines valid, or nothing written."""
    source = hand_typed(str(path))
    return _apply(catalog, source, jsonl_lines(read_source(source), str(path)), strict=True)


def hand_typed(location: str) -> Source:
    """A source named on the command line: recorded as its URL or its absolute path."""
    if "://" in location:
        return Source(location, location)
    return Source(str(Path(location).resolve()), location)


class _Plan:
    """What one import would do to the catalog, decided item by item before any write."""

    def __init__(self, catalog: Catalog, source: Source) -> None:
        self.catalog = catalog
        self.source = source
        self.pending: dict[str, Tool] = {}
        self.refs: dict[str, tuple[SourceRef, ...]] = {}  # slug -> evidence sources the item lists
        self.report = ImportReport()
        self.looks: dict[str, str] = {}  # skeleton -> slug, for every entry and pending tool
        for tool in catalog.tools.values():
            self._remember(tool)

    def _remember(self, tool: Tool) -> None:
        for text in (tool.name, tool.slug):
            if key := skeleton(text):
                self.looks.setdefault(key, tool.slug)

    def _twin(self, tool: Tool) -> Tool | None:
        """Another entry (or tool in this import) whose name or slug reads the same."""
        for text in (tool.name, tool.slug):
            slug = self.looks.get(skeleton(text) or "\0")
            if slug is not None and slug != tool.slug:
                return self.pending.get(slug) or self.catalog.tools.get(slug)
        return None

    def take(self, candidate: dict[str, Any], where: str) -> None:
        # provenance is panel's to record: a "source" in the data is ignored
        candidate = {k: v for k, v in candidate.items() if k != SOURCE_KEY}
        listed = {k: candidate.pop(k) for k in [SOURCES_KEY] if k in candidate}
        fresh = tool_from_data(candidate, where)  # the tool's own fields are checked first
        refs = pop_sources(listed, where)
        twin = self._twin(fresh)
        if twin is not None:
            self.report.conflicts.append(
                f"{where}: {fresh.name!r} looks like {self._entry(twin)}, not imported; if it "
                "is a different tool, add it by hand with a distinct name"
            )
            return
        base = self.pending.get(fresh.slug) or self.catalog.tools.get(fresh.slug)
        if base is None:
            self.pending[fresh.slug] = fresh
            self.refs[fresh.slug] = refs
            self._remember(fresh)
            return
        merged = _merge(base, candidate, where)
        existing = self.catalog.tools.get(fresh.slug)
        if existing is None or merged.digest() == existing.digest():
            self.pending[fresh.slug] = merged if existing is None else existing
            return
        origin = self.catalog.source_of(existing.slug)
        if origin == self.source.label and self.source.may_update:
            self.pending[fresh.slug] = merged
            self.refs[fresh.slug] = refs
            return
        self.report.conflicts.append(
            f"{where}: {fresh.name!r} would change {self._entry(existing)}, not imported; "
            + _how_to_take(existing, origin == self.source.label)
        )

    def _entry(self, tool: Tool) -> str:
        if tool.slug in self.catalog.tools:
            origin = self.catalog.source_of(tool.slug)
        else:
            origin = self.source.label  # a tool added earlier in this same import
        added = f"from source {origin!r}" if origin else "written by an editor"
        return f"catalog entry {tool.slug} ({tool.name!r}, {added})"

    def write(self) -> ImportReport:
        for slug, tool in self.pending.items():
            existing = self.catalog.tools.get(slug)
            refs = self.refs.get(slug, ())
            if existing is None:
                self.report.added.append(slug)
                self.catalog.save(tool, source=self.source.label, evidence=refs)
            elif tool == existing:
                self.report.unchanged.append(slug)
            else:
                self.report.updated.append(slug)
                # an update by its own source: provenance unchanged, new sources listed last
                listed = self.catalog.evidence_of(slug)
                added = tuple(ref for ref in refs if ref not in listed)
                self.catalog.save(tool, evidence=(*listed, *added))
        return self.report


def _how_to_take(existing: Tool, same_source: bool) -> str:
    if same_source:
        return (
            "to let this source update its entries, set may_update = true for it in "
            "panel.toml, or edit the entry by hand"
        )
    return f"only an editor changes it: edit catalog/{existing.slug}.toml to take the change"


def _merge(base: Tool, candidate: dict[str, Any], where: str) -> Tool:
    data = base.model_dump()
    data.update({k: v for k, v in candidate.items() if k in Tool.model_fields})
    data["slug"] = base.slug
    return tool_from_data(data, where)


def _apply(catalog: Catalog, source: Source, items: Candidates, strict: bool) -> ImportReport:
    """Decide every item, then write. ``strict``: an invalid item fails the whole import."""
    plan = _Plan(catalog, source)
    for where, candidate in items:
        if "__extra__" in candidate:
            if strict:
                raise PanelError(f"{where}: more cells than header columns")
            plan.report.skipped.append(f"{where}: more cells than header columns")
            continue
        try:
            plan.take(candidate, where)
        except PanelError as exc:
            if strict:
                raise
            plan.report.skipped.append(str(exc))
    if strict and not items:
        raise PanelError(f"{source.location}: no tools found; expected one JSON object per line")
    return plan.write()
