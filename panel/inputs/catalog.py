"""The tool catalog: one TOML file per tool in catalog/, validated by ``Tool``."""

from __future__ import annotations

import functools
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

import tomli_w
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from panel import clock
from panel.atomic import write_atomic
from panel.controls import strip_controls
from panel.errors import PanelError, UnknownNameError, describe_error
from panel.inputs.toolsources import MAX_SOURCES, SOURCES_KEY, SourceRef, pop_sources
from panel.safeio import read_regular
from panel.slugs import Slug, is_slug, slugify


class EntryPrice(StrEnum):
    FREE = "free"
    FREEMIUM = "freemium"
    PAID = "paid"
    OPEN_SOURCE = "open-source"


def _http_url(value: str) -> str:
    if value and not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


MAX_FILE_BYTES = 1024 * 1024
# Provenance: the intake source that added an entry, kept in its file beside the tool's
# fields but not part of ``Tool`` (records embed tools; provenance is not reviewed content).
SOURCE_KEY = "source"
MAX_SOURCE_CHARS = 4_200
FUTURE_SLACK = timedelta(days=1)


def _not_future(value: date | None) -> date | None:
    if value is not None and value > clock.today() + FUTURE_SLACK:
        raise ValueError(f"launch date {value.isoformat()} is in the future; use the real date")
    return value


def _one_line(value: str) -> str:
    return " ".join(strip_controls(value).split())


def _multi_line(value: str) -> str:
    return strip_controls(value, multiline=True).strip()


OneLine = Annotated[str, AfterValidator(_one_line)]
MultiLine = Annotated[str, AfterValidator(_multi_line)]
CleanUrl = Annotated[str, AfterValidator(lambda v: strip_controls(v).strip())]


class Tool(BaseModel):
    """One AI tool as the catalog knows it. Text fields are vendor-written: untrusted."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    slug: Slug
    name: Annotated[OneLine, Field(min_length=1, max_length=200)]
    vendor: Annotated[OneLine, Field(max_length=200)] = ""
    category: Annotated[OneLine, Field(max_length=100)] = ""
    tagline: Annotated[OneLine, Field(max_length=300)] = ""
    description: Annotated[MultiLine, Field(min_length=1, max_length=20_000)]
    entry_price: EntryPrice | None = None
    pricing_notes: Annotated[MultiLine, Field(max_length=2_000)] = ""
    url: Annotated[CleanUrl, AfterValidator(_http_url), Field(max_length=2_000)] = ""
    launched: Annotated[date | None, AfterValidator(_not_future)] = None
    competitors: list[Slug] = Field(default_factory=list, max_length=20)

    def digest(self) -> str:
        """sha256 of the entry's canonical JSON: changes whenever the entry does."""
        return self._digest

    @functools.cached_property
    def _digest(self) -> str:
        # Taken once per entry: a night asks it for every call's prompt, fence and key.
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy whose digest is taken afresh (pydantic copies cached properties too)."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("_digest", None)
        return copy


def tool_from_data(data: dict[str, Any], where: str) -> Tool:
    """Validate one tool, deriving ``slug`` from ``name`` when absent."""
    data = dict(data)
    if not data.get("slug"):
        if not isinstance(data.get("name"), str):
            raise PanelError(f"{where}: field 'name': required text (the slug is derived from it)")
        data["slug"] = slugify(data["name"])
    try:
        return Tool.model_validate(data)
    except ValidationError as exc:
        raise PanelError(f"{where}: {describe_error(exc)}; {_tool_fix(exc)}") from None


def _tool_fix(exc: ValidationError) -> str:
    """How to fix a tool's first invalid field."""
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if first["type"] == "missing":
        return f"add {field!r} (every tool needs a name and a description)"
    if first["type"] == "extra_forbidden":
        return f"remove or rename it; the catalog fields are {', '.join(Tool.model_fields)}"
    return "fix that value (README.md, 'Adding a tool', describes every field)"


def _toml_data(tool: Tool, source: str, refs: tuple[SourceRef, ...]) -> dict[str, Any]:
    data = tool.model_dump(mode="python", exclude_none=True)
    data["entry_price"] = tool.entry_price.value if tool.entry_price else None
    if source:  # an editor's entry has no provenance line
        data[SOURCE_KEY] = source
    if refs:  # last: tomli_w writes them as [[sources]] tables after the fields
        data[SOURCES_KEY] = [ref.as_toml() for ref in refs]
    return {key: value for key, value in data.items() if value is not None}


def _provenance(data: dict[str, Any], where: str) -> str:
    """Take the ``source`` line out of a catalog file's data (it is not part of the tool)."""
    value = data.pop(SOURCE_KEY, "")
    if not isinstance(value, str) or len(value) > MAX_SOURCE_CHARS:
        raise PanelError(
            f"{where}: field {SOURCE_KEY!r}: must be text of at most {MAX_SOURCE_CHARS} "
            "characters (the intake source that added the entry); fix or remove it"
        )
    return _one_line(value)


@dataclass
class Catalog:
    """The tools in a catalog folder, keyed by slug, where imported ones came from, and
    the evidence sources each entry lists (``inputs.toolsources``)."""

    folder: Path
    tools: dict[str, Tool]
    sources: dict[str, str] = field(default_factory=dict)  # slug -> intake source, if imported
    evidence: dict[str, tuple[SourceRef, ...]] = field(default_factory=dict)  # slug -> sources

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        if not folder.is_dir():
            raise PanelError(
                f"no catalog folder at {folder}; create it or set PANEL_HOME to your panel project"
            )
        catalog = cls(folder, {})
        for path in sorted(folder.glob("*.toml")):
            catalog._add(path)
        return catalog

    @classmethod
    def load_some(cls, folder: Path, slugs: list[str]) -> Catalog:
        """Only the named entries: a review reads two files, not the whole catalog."""
        if not folder.is_dir():
            return cls.load(folder)  # the same clear error
        catalog = cls(folder, {})
        for slug in slugs:
            path = folder / f"{slug}.toml"
            if not is_slug(slug) or not path.is_file():
                known = sorted(p.stem for p in folder.glob("*.toml"))
                raise UnknownNameError("tool", slug, known, "see `panel tools list`")
            catalog._add(path)
        return catalog

    def _add(self, path: Path) -> None:
        raw = read_regular(path, MAX_FILE_BYTES, "catalog entry")  # never a FIFO or /dev/zero
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except RecursionError:
            raise PanelError(f"{path}: nested too deeply to be a panel file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PanelError(f"{path}: not valid TOML ({exc}); fix or remove the file") from None
        source = _provenance(data, str(path))
        refs = pop_sources(data, str(path))
        tool = tool_from_data(data, str(path))
        if tool.slug != path.stem:
            raise PanelError(
                f"{path}: slug {tool.slug!r} does not match the file name; rename one to match"
            )
        self.tools[tool.slug] = tool
        if source:
            self.sources[tool.slug] = source
        if refs:
            self.evidence[tool.slug] = refs

    def get(self, slug: str) -> Tool:
        try:
            return self.tools[slug]
        except KeyError:
            raise UnknownNameError(
                "tool", slug, sorted(self.tools), "see `panel tools list`"
            ) from None

    def source_of(self, slug: str) -> str:
        """The intake source that added the entry; "" for an editor's entry."""
        return self.sources.get(slug, "")

    def evidence_of(self, slug: str) -> tuple[SourceRef, ...]:
        """The entry's evidence sources, in the order its file lists them."""
        return self.evidence.get(slug, ())

    def path_for(self, slug: str) -> Path:
        return self.folder / f"{slug}.toml"

    def save(
        self,
        tool: Tool,
        source: str | None = None,
        evidence: tuple[SourceRef, ...] | None = None,
    ) -> Path:
        """Write one tool's file atomically and update the in-memory view.

        ``source`` records which intake source added the entry; ``evidence`` is the entry's
        evidence sources. None keeps what it was.
        """
        if source is None:
            source = self.source_of(tool.slug)
        if evidence is None:
            evidence = self.evidence_of(tool.slug)
        source = _one_line(source)[:MAX_SOURCE_CHARS]
        path = self.path_for(tool.slug)
        data = _toml_data(tool, source, evidence)
        write_atomic(path, tomli_w.dumps(data, multiline_strings=True).encode())
        self.tools[tool.slug] = tool
        if source:
            self.sources[tool.slug] = source
        else:
            self.sources.pop(tool.slug, None)
        if evidence:
            self.evidence[tool.slug] = evidence
        else:
            self.evidence.pop(tool.slug, None)
        return path

    def add_source(self, slug: str, ref: SourceRef) -> bool:
        """List ``ref`` last among the entry's sources and save; False if it was listed."""
        tool = self.get(slug)
        listed = self.evidence_of(slug)
        if ref in listed:
            return False
        if len(listed) >= MAX_SOURCES:
            raise PanelError(
                f"{self.path_for(slug)}: already {MAX_SOURCES} sources; remove one first"
            )
        self.save(tool, evidence=(*listed, ref))
        return True
