"""Personas are data: personas/<name>.toml plus a prompt template in prompts/.

A persona file names its lens, its voice, its template and the structured
fields it must fill besides the common verdict fields. The verdict model (and so
the JSON schema handed to providers) is built from those field definitions, so
a new persona needs no Python.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from panel.errors import PanelError, UnknownNameError, describe_error
from panel.safeio import read_regular
from panel.slugs import SLUG_PATTERN

MAX_PERSONA_BYTES = 1024 * 1024

TEXT_MAX = 400
QUOTE_MIN, QUOTE_MAX = 40, 1500


class FieldKind(StrEnum):
    TEXT = "text"
    LIST = "list"
    CHOICE = "choice"


class PersonaField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    description: Annotated[str, Field(min_length=1, max_length=500)]
    kind: FieldKind = FieldKind.TEXT
    choices: list[str] = Field(default_factory=list)
    max_items: Annotated[int, Field(ge=1, le=10)] = 5


class PersonaSpec(BaseModel):
    """What a personas/<name>.toml file holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=SLUG_PATTERN, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=60)]
    order: int = 100
    default: bool = Field(True, description="on the panel when no --persona is given")
    lens: Annotated[str, Field(min_length=1, max_length=2_000)]
    voice: Annotated[str, Field(min_length=1, max_length=2_000)]
    template: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+\.j2$")]
    fields: list[PersonaField] = Field(min_length=1, max_length=12)


class VerdictBase(BaseModel):
    """Base of every persona's verdict model; its fields come from ``COMMON`` + the persona."""

    model_config = ConfigDict(extra="forbid")


COMMON: dict[str, Any] = {
    "quote": (
        Annotated[
            str,
            Field(
                min_length=QUOTE_MIN,
                max_length=QUOTE_MAX,
                description="The publishable paragraph, in the persona's voice, about this tool.",
            ),
        ],
        ...,
    ),
    "verdict": (
        Annotated[
            Literal["ship", "skip"],
            Field(description="ship if a developer should adopt this tool now, else skip."),
        ],
        ...,
    ),
    "confidence": (
        Annotated[int, Field(ge=1, le=5, description="How sure you are, 1 (guess) to 5 (sure).")],
        ...,
    ),
}


def _annotation(spec: PersonaField) -> Any:
    if spec.kind is FieldKind.LIST:
        item = Annotated[str, Field(min_length=1, max_length=120)]
        return Annotated[
            list[item],
            Field(min_length=1, max_length=spec.max_items, description=spec.description),
        ]
    if spec.kind is FieldKind.CHOICE:
        return Annotated[
            Literal[tuple(spec.choices)],
            Field(description=spec.description),
        ]
    return Annotated[str, Field(min_length=1, max_length=TEXT_MAX, description=spec.description)]


_SCHEMAS: dict[type[VerdictBase], dict[str, Any]] = {}


@dataclass(frozen=True)
class Persona:
    spec: PersonaSpec
    path: Path
    digest: str
    verdict_model: type[VerdictBase]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.spec.fields]

    def json_schema(self) -> dict[str, Any]:
        """The verdict's JSON schema: strict (all required, no extra keys).

        Built once per persona and shared: callers must not mutate it (the
        provider helpers that adapt a schema return new dicts).
        """
        cached = _SCHEMAS.get(self.verdict_model)
        if cached is None:
            cached = _SCHEMAS[self.verdict_model] = self.verdict_model.model_json_schema()
        return cached


def build_verdict_model(spec: PersonaSpec) -> type[VerdictBase]:
    # Persona fields first, then quote, verdict, confidence: models fill JSON in
    # schema order, so the analysis is written before the verdict it justifies.
    definitions: dict[str, Any] = {f.name: (_annotation(f), ...) for f in spec.fields}
    definitions.update(COMMON)
    model: type[VerdictBase] = create_model(
        f"{spec.name.title().replace('-', '')}Verdict", __base__=VerdictBase, **definitions
    )
    return model


def _check_fields(spec: PersonaSpec, where: Path) -> None:
    names = [f.name for f in spec.fields]
    clash = {n for n in names if n in COMMON or names.count(n) > 1}
    if clash:
        raise PanelError(f"{where}: field name(s) {sorted(clash)} repeated or reserved")
    for f in spec.fields:
        if f.kind is FieldKind.CHOICE and len(f.choices) < 2:
            raise PanelError(f"{where}: field {f.name!r} is a choice but has < 2 choices")
        if f.kind is not FieldKind.CHOICE and f.choices:
            raise PanelError(f"{where}: field {f.name!r} has choices but kind is {f.kind}")


_LOADED: dict[tuple[Path, bytes], Persona] = {}


def load_persona(path: Path, prompts: Path) -> Persona:
    raw = read_regular(path, MAX_PERSONA_BYTES, "persona file")  # never a FIFO or a device
    cached = _LOADED.get((path, raw))
    if cached is not None and (prompts / cached.spec.template).is_file():
        return cached  # same file content: the same verdict model, built once per process
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        spec = PersonaSpec.model_validate(data)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PanelError(f"{path}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        raise PanelError(f"{path}: {describe_error(exc)}") from None
    if spec.name != path.stem:
        raise PanelError(f"{path}: name {spec.name!r} must match the file name")
    _check_fields(spec, path)
    if not (prompts / spec.template).is_file():
        raise PanelError(f"{path}: template {spec.template!r} not found in {prompts}")
    digest = hashlib.sha256(raw).hexdigest()
    persona = _LOADED[(path, raw)] = Persona(spec, path, digest, build_verdict_model(spec))
    return persona


def load_personas(folder: Path, prompts: Path) -> dict[str, Persona]:
    """All personas in ``folder``, in display order."""
    if not folder.is_dir():
        raise PanelError(f"no personas folder at {folder}; set PANEL_HOME to your panel project")
    found = [load_persona(p, prompts) for p in sorted(folder.glob("*.toml"))]
    if not found:
        raise PanelError(f"no personas in {folder}; add a personas/<name>.toml file")
    found.sort(key=lambda p: (p.spec.order, p.name))
    return {p.name: p for p in found}


def select_personas(available: dict[str, Persona], names: list[str]) -> list[Persona]:
    if not names:
        return [p for p in available.values() if p.spec.default]
    chosen = []
    for name in dict.fromkeys(names):
        if name not in available:
            raise UnknownNameError("persona", name, list(available), "see `panel personas list`")
        chosen.append(available[name])
    return chosen
