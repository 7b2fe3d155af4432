"""A scripted in-process provider for unit tests of the runner and the CLI.

Registered under the kind ``scripted`` by the ``scripted`` fixture; each model
name owns a queue of answers (``Completion`` or ``ProviderError``), and a
default answer used when the queue is empty.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from panel.providers.base import (
    Completion,
    CompletionRequest,
    Limits,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.kind import Capabilities, ProviderKind

Answer = Completion | ProviderError | Callable[[CompletionRequest], Completion]


def text(
    content: str | None, finish_reason: str = "stop", refusal: str | None = None
) -> Completion:
    return Completion(
        text=content,
        finish_reason=finish_reason,
        prompt_tokens=10,
        completion_tokens=5,
        model_version="scripted-1",
        mode=StructuredMode.TEXT,
        refusal=refusal,
    )


def valid_answer(
    schema: dict[str, Any], verdict: str = "ship", confidence: int = 4
) -> dict[str, Any]:
    """A schema-valid verdict object for any persona schema."""
    out: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name == "verdict":
            out[name] = verdict
        elif name == "confidence":
            out[name] = confidence
        elif name == "quote":
            out[name] = (
                f"A {verdict} verdict, argued in enough words to be a publishable quote here."
            )
        elif name == "citations":  # a tool with sources (issue 26): the first source
            item = prop.get("items", {})
            out[name] = [item["const"] if "const" in item else item["enum"][0]]
        elif prop.get("type") == "array":
            out[name] = ["Alpha", "Beta"]
        elif "enum" in prop:
            out[name] = prop["enum"][0]
        else:
            out[name] = f"{name} analysis"
    return out


def valid(verdict: str = "ship", confidence: int = 4) -> Callable[[CompletionRequest], Completion]:
    def answer(request: CompletionRequest) -> Completion:
        return text(json.dumps(valid_answer(request.schema, verdict, confidence)))

    return answer


@dataclass
class Script:
    queue: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=valid)
    requests: list[CompletionRequest] = field(default_factory=list)


SCRIPTS: dict[str, Script] = {}


class ScriptedProvider:
    decoding = ""
    endpoint = ""

    def __init__(self, settings: ProviderSettings) -> None:
        model = settings.model
        self.spec = settings.name
        self.model = model
        self.sampling = settings.sampling
        self.limits = Limits(max_in_flight=4)
        self.script = SCRIPTS.setdefault(model, Script())
        self.closed = False

    async def complete(self, request: CompletionRequest) -> Completion:
        self.script.requests.append(request)
        await asyncio.sleep(0)  # yield like a real request would
        answer = self.script.queue.pop(0) if self.script.queue else self.script.default
        if isinstance(answer, ProviderError):
            raise answer
        if isinstance(answer, Completion):
            return answer
        return answer(request)

    async def aclose(self) -> None:
        self.closed = True


KIND = ProviderKind(
    name="scripted",
    create=ScriptedProvider,
    summary="answers scripted by the test, in-process",
    capabilities=Capabilities(structured=(StructuredMode.TEXT,)),
    vendor="scripted",  # no prices: a scripted call's cost is unknown, as a new model's is
)
