"""The tool catalog: one TOML file per tool in catalog/, validated by ``Tool``."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from panel.atomic import write_atomic
from panel.errors import PanelError, UnknownNameError
from panel.slugs import MAX_SLUG, SLUG_PATTERN, is_slug, slugify


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
FUTURE_SLACK = timedelta(days=1)


def _not_future(value: date | None) -> date | None:
    if value is not None and value > date.today() + FUTURE_SLACK:
        raise ValueError(f"launch date {value.isoformat()} is in the future; use the real date")
    return value


def _one_line(value: str) -> str:
    return " ".join(value.split())


OneLine = Annotated[str, AfterValidator(_one_line)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=MAX_SLUG)]


class Tool(BaseModel):
    """One AI tool as the catalog knows it. Text fields are vendor-written: untrusted."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    slug: Slug
    name: Annotated[OneLine, Field(min_length=1, max_length=200)]
    vendor: Annotated[OneLine, Field(max_length=200)] = ""
    category: Annotated[OneLine, Field(max_length=100)] = ""
    tagline: Annotated[OneLine, Field(max_length=300)] = ""
    description: Annotated[str, Field(min_length=1, max_length=20_000)]
    entry_price: EntryPrice | None = None
    pricing_notes: Annotated[str, Field(max_length=2_000)] = ""
    url: Annotated[str, AfterValidator(_http_url), Field(max_length=2_000)] = ""
    launched: Annotated[date | None, AfterValidator(_not_future)] = None
    competitors: list[Slug] = Field(default_factory=list, max_length=20)

    def digest(self) -> str:
        """sha256 of the entry's canonical JSON: changes whenever the entry does."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def describe_error(exc: ValidationError) -> str:
    """The first pydantic error as 'field: message'."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(record)"
    return f"field {where!r}: {first['msg']}"


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


def _toml_data(tool: Tool) -> dict[str, Any]:
    data = tool.model_dump(mode="python", exclude_none=True)
    data["entry_price"] = tool.entry_price.value if tool.entry_price else None
    return {key: value for key, value in data.items() if value is not None}


@dataclass
class Catalog:
    """The tools in a catalog folder, keyed by slug."""

    folder: Path
    tools: dict[str, Tool]

    @classmethod
    def load(cls, folder: Path) -> Catalog:
        if not folder.is_dir():
            raise PanelError(
                f"no catalog folder at {folder}; create it or set PANEL_HOME to your panel project"
            )
        tools: dict[str, Tool] = {}
        for path in sorted(folder.glob("*.toml")):
            tool = cls._read(path)
            tools[tool.slug] = tool
        return cls(folder, tools)

    @classmethod
    def load_some(cls, folder: Path, slugs: list[str]) -> Catalog:
        """Only the named entries: a review reads two files, not the whole catalog."""
        if not folder.is_dir():
            return cls.load(folder)  # the same clear error
        tools: dict[str, Tool] = {}
        for slug in slugs:
            path = folder / f"{slug}.toml"
            if not is_slug(slug) or not path.is_file():
                known = sorted(p.stem for p in folder.glob("*.toml"))
                raise UnknownNameError("tool", slug, known, "see `panel tools list`")
            tools[slug] = cls._read(path)
        return cls(folder, tools)

    @staticmethod
    def _read(path: Path) -> Tool:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise PanelError(
                    f"{path}: larger than {MAX_FILE_BYTES // 1024} KB; not a tool entry"
                )
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PanelError(f"{path}: cannot read ({exc.strerror})") from None
        except RecursionError:
            raise PanelError(f"{path}: nested too deeply to be a panel file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PanelError(f"{path}: not valid TOML ({exc}); fix or remove the file") from None
        tool = tool_from_data(data, str(path))
        if tool.slug != path.stem:
            raise PanelError(
                f"{path}: slug {tool.slug!r} does not match the file name; rename one to match"
            )
        return tool

    def get(self, slug: str) -> Tool:
        try:
            return self.tools[slug]
        except KeyError:
            raise UnknownNameError(
                "tool", slug, sorted(self.tools), "see `panel tools list`"
            ) from None

    def path_for(self, slug: str) -> Path:
        return self.folder / f"{slug}.toml"

    def save(self, tool: Tool) -> Path:
        """Write one tool's file atomically and update the in-memory view."""
        path = self.path_for(tool.slug)
        write_atomic(path, tomli_w.dumps(_toml_data(tool), multiline_strings=True).encode())
        self.tools[tool.slug] = tool
        return path

    def merged(self, incoming: dict[str, Any], where: str) -> Tool:
        """The tool an import line describes: merged over the existing entry, if any."""
        fresh = tool_from_data(incoming, where)
        existing = self.tools.get(fresh.slug)
        if existing is None:
            return fresh
        data = existing.model_dump()
        data.update({k: v for k, v in incoming.items() if k in Tool.model_fields})
        data["slug"] = fresh.slug
        return tool_from_data(data, where)
