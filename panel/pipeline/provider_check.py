"""``panel providers check NAME``: probe a provider with one small request per output mode.

For each structured-output rung the provider's kind can use, one provider is built with
``structured`` set to that rung and asked one short question with a small schema (a
bounded string, so a grammar engine builds it at once). A rung works when the answer
came back at that rung (no step-down) as JSON valid against the schema. The report says
which rungs work, each one's latency, the concurrency panel will use (the server's slots
where it reports them) and the panel.toml lines that pin the choice.

Only this module and the CLI call it; it never writes anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from panel.pipeline.validate import InvalidAnswerError, extract_json
from panel.providers import registry
from panel.providers.base import (
    CompletionRequest,
    Message,
    Prepares,
    Provider,
    ProviderError,
    ProviderSettings,
    Sampling,
    StructuredMode,
)
from panel.providers.http import HttpProvider

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no"]},
        "reason": {"type": "string", "minLength": 1, "maxLength": 120},
    },
    "required": ["answer", "reason"],
    "additionalProperties": False,
}
QUESTION = (
    'Is water wet? Answer with a JSON object: {"answer": "yes" or "no", '
    '"reason": one short sentence}.'
)
REQUEST = CompletionRequest(
    (Message("system", "You answer with JSON only."), Message("user", QUESTION)),
    SCHEMA,
    "check",
    Sampling(temperature=0.0, max_tokens=120, seed=7),
)


@dataclass(frozen=True)
class ModeResult:
    mode: StructuredMode
    works: bool
    seconds: float
    why: str  # "" when it works


@dataclass(frozen=True)
class CheckReport:
    name: str
    endpoint: str
    engine: str  # what the probe learned ("llama.cpp") or ""
    max_in_flight: int
    slots: int | None  # what the server reported, if anything
    timeout: float | None
    modes: list[ModeResult]
    json_object_schema: bool | None  # sent with json_object (None: not an HTTP provider)

    @property
    def best(self) -> StructuredMode | None:
        return next((m.mode for m in self.modes if m.works), None)

    def toml(self, base_url: str | None) -> list[str]:
        """The panel.toml lines that pin what the check found (the best mode first)."""
        key = self.name if "/" not in self.name and ":" not in self.name else f'"{self.name}"'
        lines = [f"[providers.{key}]"]
        if base_url:
            lines.append(f'base_url = "{base_url}"')
        if self.best is not None:
            lines.append(f'structured = "{self.best.value}"')
            if self.best is StructuredMode.JSON_OBJECT and self.json_object_schema is not None:
                lines.append(f"json_object_schema = {str(self.json_object_schema).lower()}")
        lines.append(f"max_in_flight = {self.max_in_flight}")
        if self.timeout is not None:
            lines.append(f"timeout = {self.timeout:g}")
        return lines


def _valid(text: str | None) -> str:
    """Why ``text`` is not an answer to the check's question ("" when it is).

    The JSON is found as a review finds it (``validate.extract_json``: bare, fenced or in
    prose), so a mode that works here works in a review."""
    try:
        data = extract_json(text or "")
    except InvalidAnswerError:
        return "the answer is not JSON"
    if not isinstance(data, dict) or set(data) != {"answer", "reason"}:
        return "the answer does not have exactly the keys answer and reason"
    if data["answer"] not in ("yes", "no"):
        return "answer is neither yes nor no"
    if not isinstance(data["reason"], str) or not 1 <= len(data["reason"]) <= 120:
        return "reason is not a string of 1 to 120 characters"
    return ""


async def _one(
    settings: ProviderSettings, mode: StructuredMode, clock: Callable[[], float]
) -> tuple[ModeResult, Provider]:
    provider = registry.create(replace(settings, structured=mode))
    if isinstance(provider, Prepares):
        await provider.prepare()
    started = clock()
    try:
        completion = await provider.complete(REQUEST)
    except ProviderError as exc:
        return ModeResult(mode, False, clock() - started, str(exc)), provider
    seconds = clock() - started
    if completion.mode is not mode:
        return ModeResult(mode, False, seconds, f"answered as {completion.mode.value}"), provider
    why = _valid(completion.text)
    return ModeResult(mode, not why, seconds, why), provider


async def check(
    settings: ProviderSettings, clock: Callable[[], float] = time.monotonic
) -> CheckReport:
    """One request per output mode of ``settings``' kind, best mode first."""
    rungs = registry.describe(settings.kind).capabilities.structured
    results: list[ModeResult] = []
    last: Provider | None = None
    for mode in rungs:
        result, provider = await _one(settings, mode, clock)
        results.append(result)
        if last is not None:
            await last.aclose()
        last = provider
    assert last is not None  # a kind has one rung or more
    try:
        http = last if isinstance(last, HttpProvider) else None
        return CheckReport(
            name=settings.name,
            endpoint=last.endpoint,
            engine=http.profile.engine if http else "",
            max_in_flight=last.limits.in_flight,
            slots=http.profile.slots if http else None,
            timeout=http.timeout if http else None,
            modes=results,
            json_object_schema=http.sends_schema_with_json_object if http else None,
        )
    finally:
        await last.aclose()
