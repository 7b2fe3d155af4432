"""Persona + tool -> chat messages, rendered by a sandboxed jinja2 environment.

Prompts use their own environment: no autoescape (this is not HTML), StrictUndefined
(a typo in a template is an error, not an empty string) and the sandbox (templates
are data files). Vendor text only ever reaches a template as a cleaned variable.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from panel.defences.untrusted import ALL_ON, DATAMARK, Defences, boundary, canary, clean
from panel.errors import PanelError
from panel.evidence.pack import EvidencePack
from panel.inputs.catalog import Tool
from panel.inputs.personas import Persona
from panel.pipeline import evidence as packs
from panel.pipeline import headtohead
from panel.providers.base import Message
from panel.safeio import read_regular

SYSTEM_TEMPLATE = "_system.j2"
# What a template reads of the persona. A system template that reads none of it renders
# the same text for every persona of a card: it is rendered once per card (issue 18).
PERSONA_VARIABLES = frozenset({"persona", "fields", "schema"})
FIELD_CAPS = {
    "name": 200,
    "vendor": 200,
    "category": 100,
    "tagline": 300,
    "entry_price": 40,
    "pricing_notes": 600,
    "url": 300,
    "description": 4_000,
}


@dataclass(frozen=True)
class Rendered:
    messages: tuple[Message, ...]
    truncated: tuple[str, ...] = ()
    stripped_chars: int = 0
    defences: tuple[str, ...] = field(default=ALL_ON.names())
    canary: str = ""
    exempt: tuple[str, ...] = ()  # system-prompt text an answer may echo (lens, voice)
    card: tuple[str, ...] = ()  # the vendor-written fields as the model saw them

    @property
    def system(self) -> str:
        return next((m.content for m in self.messages if m.role == "system"), "")


MAX_TEMPLATE_BYTES = 1024 * 1024


class _RegularFileLoader(jinja2.BaseLoader):
    """Templates read through ``read_regular``: a FIFO or a huge file is an error, not a hang."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.folder.joinpath(*split_template_path(template))
        if not path.exists() and not path.is_symlink():
            raise jinja2.TemplateNotFound(template)
        try:
            raw = read_regular(path, MAX_TEMPLATE_BYTES, "prompt template")
            mtime = path.stat().st_mtime
            source = raw.decode("utf-8")
        except (PanelError, OSError, UnicodeDecodeError) as exc:
            raise jinja2.TemplateError(str(exc)) from None

        def uptodate() -> bool:
            try:
                return path.stat().st_mtime == mtime
            except OSError:
                return False

        return source, str(path), uptodate


@functools.cache
def _environment(folder: Path) -> SandboxedEnvironment:
    """One environment per prompts folder per process: templates compile once."""
    return SandboxedEnvironment(
        loader=_RegularFileLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,  # an edited template is picked up (mtime check)
    )


class PromptBuilder:
    """Renders persona prompts. One instance per process: templates compile once."""

    def __init__(self, folder: Path, boundary_key: bytes, defences: Defences = ALL_ON) -> None:
        if not folder.is_dir():
            raise PanelError(f"no prompts folder at {folder}; set PANEL_HOME to your panel project")
        self.folder = folder
        self.env = _environment(folder.resolve())
        self._key = boundary_key
        self.defences = defences
        self._digests: dict[str, str] = {}
        self._defences = dataclasses.asdict(defences)
        self._cards: dict[str, tuple[dict[str, str], list[str], int]] = {}
        self._systems: dict[tuple[str, ...], str] = {}
        self._system_shared: bool | None = None
        self._rendered: dict[tuple[str, ...], Rendered] = {}

    def forget(self) -> None:
        """Let go of the prompts and cards rendered so far (a night, a slice at a time);
        templates and their digests stay."""
        self._cards.clear()
        self._systems.clear()
        self._rendered.clear()

    def template_digest(self, name: str) -> str:
        """sha256 over a template and the shared partials it can include.

        Taken once per builder and template: a job's records name the templates its
        prompts were rendered from, even if a file is edited while its calls run.
        """
        if name not in self._digests:
            self._digests[name] = self._digest(name)
        return self._digests[name]

    def _digest(self, name: str) -> str:
        digest = hashlib.sha256()
        for path in sorted({self.folder / name, *self.folder.glob("_*.j2")}):
            raw = read_regular(path, MAX_TEMPLATE_BYTES, "prompt template")
            digest.update(path.name.encode() + b"\0" + raw)
        return digest.hexdigest()

    def _tool_vars(self, tool: Tool) -> tuple[dict[str, str], list[str], int]:
        """The card's fields as the model sees them: cleaned once per entry, for every persona."""
        key = tool.digest()
        if key not in self._cards:
            self._cards[key] = self._clean_card(tool)
        values, truncated, stripped = self._cards[key]
        return dict(values), list(truncated), stripped

    def _clean_card(self, tool: Tool) -> tuple[dict[str, str], list[str], int]:
        values: dict[str, str] = {}
        truncated: list[str] = []
        stripped = 0
        raw = tool.model_dump(mode="json")
        for name, cap in FIELD_CAPS.items():
            result = clean(str(raw.get(name) or ""), cap, self.defences)
            values[name] = result.text
            stripped += result.removed
            if result.truncated:
                truncated.append(name)
        values["launched"] = str(raw.get("launched") or "")
        return values, truncated, stripped

    # The fence and the canary are keyed per tool (per ordered pair for head-to-head), not
    # per persona: every persona's prompt for a tool then starts with the same tokens (the
    # rules, then the card), and a local model evaluates that prefix once (issue 18). They
    # stay unguessable to vendors: an HMAC under the project's fence key.

    def render(
        self, persona: Persona, tool: Tool, evidence: EvidencePack | None = None
    ) -> Rendered:
        """The persona's verdict prompt for one tool, rendered once per builder.

        A night plans each tool in its own comparison and as another's rival: the same
        prompt, so it is rendered once (keyed by the persona's and the entry's digests,
        and the evidence pack's). ``evidence``: the tool's sources (issue 26), shown after
        the card in the system message; none, or an empty pack, renders the card alone.
        """
        pack = evidence if packs.present(evidence) else None
        shown = "" if pack is None else pack.digest()
        key = (persona.name, persona.digest, tool.digest(), shown)
        if key not in self._rendered:
            self._rendered[key] = self._render_verdict(persona, tool, pack, shown)
        return self._rendered[key]

    def _render_verdict(
        self, persona: Persona, tool: Tool, pack: EvidencePack | None, shown: str
    ) -> Rendered:
        values, truncated, stripped = self._tool_vars(tool)
        extra: dict[str, Any] = {
            "tool": values,
            "boundary": boundary(self._key, tool.digest()),
            "fields": [f.model_dump(mode="json") for f in persona.spec.fields],
            "schema": json.dumps(persona.json_schema(), separators=(",", ":")),
        }
        secret = canary(self._key, tool.digest())
        template, card = persona.spec.template, tuple(values.values())
        shared: tuple[str, ...] = ("verdict", tool.digest())
        if pack is not None:
            fence = boundary(self._key, tool.digest(), "evidence")
            seen = packs.view(pack, fence, self.defences)
            extra["evidence"] = seen.values
            truncated += list(seen.truncated)
            stripped += seen.stripped
            card += seen.texts  # copying a source is copying vendor text (the echo check)
            shared += ("evidence", shown)
        return self._render(persona, template, extra, secret, truncated, stripped, card, shared)

    def render_pair(self, persona: Persona, first: Tool, second: Tool) -> Rendered:
        """The head-to-head prompt: both cards, ``first`` shown first; rendered once per
        builder, like ``render`` (two new tools can be each other's rival)."""
        key = (persona.name, persona.digest, first.digest(), second.digest())
        if key not in self._rendered:
            self._rendered[key] = self._render_pair(persona, first, second)
        return self._rendered[key]

    def _render_pair(self, persona: Persona, first: Tool, second: Tool) -> Rendered:
        one, cut_one, stripped_one = self._tool_vars(first)
        two, cut_two, stripped_two = self._tool_vars(second)
        order = ("head-to-head", first.digest(), second.digest())
        fence_one = boundary(self._key, *order, "first")
        extra = {
            "first": one,
            "second": two,
            "boundary": fence_one,
            "boundary_first": fence_one,
            "boundary_second": boundary(self._key, *order, "second"),
            "schema": json.dumps(headtohead.schema(), separators=(",", ":")),
        }
        truncated = [f"first.{n}" for n in cut_one] + [f"second.{n}" for n in cut_two]
        secret = canary(self._key, *order)
        stripped = stripped_one + stripped_two
        card = (*one.values(), *two.values())
        return self._render(
            persona, headtohead.TEMPLATE, extra, secret, truncated, stripped, card, order
        )

    def _render(
        self,
        persona: Persona,
        template: str,
        extra: dict[str, Any],
        secret: str,
        truncated: list[str],
        stripped: int,
        card: tuple[str, ...],
        shared: tuple[str, ...],
    ) -> Rendered:
        """``shared`` names the card(s): the system message is the same for every persona
        of them when the system template reads nothing of the persona."""
        context: dict[str, Any] = {
            "defences": dict(self._defences),  # a copy: a template can't change the next one's
            "datamark": DATAMARK,
            "canary": secret,
            "persona": persona.spec.model_dump(),
            "evidence": None,  # a card-only review (the verdict's evidence pack, if any)
            **extra,
        }
        try:
            system = self._systems.get(shared, "") if self._system_is_shared() else ""
            if not system:
                system = self.env.get_template(SYSTEM_TEMPLATE).render(context)
                if self._system_is_shared():
                    self._systems[shared] = system
            user = self.env.get_template(template).render(context)
        except jinja2.TemplateError as exc:
            where = getattr(exc, "name", None) or template
            raise PanelError(f"prompts/{where}: template error: {exc}") from None
        return Rendered(
            messages=(Message("system", system.strip()), Message("user", user.strip())),
            truncated=tuple(truncated),
            stripped_chars=stripped,
            defences=self.defences.names(),
            canary=secret,
            exempt=(persona.spec.lens, persona.spec.voice, persona.spec.title),
            card=card,
        )

    def _system_is_shared(self) -> bool:
        """Whether the system template, with all it includes, reads nothing of the persona.

        Decided once per builder, like its template digests. An include whose name is
        computed can't be followed: then the answer is no.
        """
        if self._system_shared is None:
            self._system_shared = self._reads_none(SYSTEM_TEMPLATE, set())
        return self._system_shared

    def _reads_none(self, name: str, seen: set[str]) -> bool:
        if name in seen:
            return True
        seen.add(name)
        assert self.env.loader is not None
        source, _, _ = self.env.loader.get_source(self.env, name)
        ast = self.env.parse(source)
        if jinja2.meta.find_undeclared_variables(ast) & PERSONA_VARIABLES:
            return False
        return all(
            child is not None and self._reads_none(child, seen)
            for child in jinja2.meta.find_referenced_templates(ast)
        )
