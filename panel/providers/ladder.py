"""The structured-output ladder shared by HTTP providers.

Rungs, best first: strict ``json_schema``; ``json_object`` (optionally with the
schema, as llama.cpp-style servers accept); plain ``text`` with the schema in
the prompt and JSON extracted by the runner. A server that rejects a rung (a 400,
or any 4xx or 5xx whose text names the output mode: ``compat.names_output_mode``)
moves the provider down one rung, once, for the rest of the run; the runner then
re-sends at once (the step-down is not a transport retry). Every answered call
records its rung (``mode``), so the journal remembers where each provider settled
(``panel providers list`` shows it).
"""

from __future__ import annotations

import json
from typing import Any

from panel.providers.base import FailureReason, Message, ProviderError, StructuredMode

# The HTTP kinds' rungs, best first (their descriptors' ``Capabilities.structured``).
RUNGS = (StructuredMode.JSON_SCHEMA, StructuredMode.JSON_OBJECT, StructuredMode.TEXT)


class Ladder:
    def __init__(
        self, start: StructuredMode | None = None, rungs: tuple[StructuredMode, ...] = RUNGS
    ) -> None:
        self.rungs = rungs
        self.rung = start if start in rungs else rungs[0]

    def can_step(self, rung: StructuredMode) -> bool:
        """Whether a rung below ``rung`` is left."""
        return rung in self.rungs[:-1]

    def rejected(
        self, rung: StructuredMode, spec: str, detail: str, status: int = 400
    ) -> ProviderError:
        """The error to raise when the server refused ``rung``: a step-down if one is left."""
        if self.can_step(rung):
            if self.rung is rung:  # concurrent calls step down once, not once each
                self.rung = self.rungs[self.rungs.index(rung) + 1]
            return ProviderError(
                FailureReason.BAD_REQUEST,
                f"{spec} rejected {rung.value} output (HTTP {status}); now using "
                f"{self.rung.value}: {detail}",
                status=status,
                retryable=True,
                retry_after=0.0,
                stepped_down=True,
            )
        return ProviderError(FailureReason.BAD_REQUEST, f"{spec}: {detail}", status=status)


def text_messages(messages: tuple[Message, ...], schema: dict[str, Any]) -> list[dict[str, str]]:
    """Messages for the text rung: the schema spelled out in the system message."""
    shape = json.dumps(schema, separators=(",", ":"))
    out = [m.as_dict() for m in messages]
    note = f"\n\nAnswer with only a JSON object valid against this JSON schema: {shape}"
    if out and out[0]["role"] == "system":
        out[0] = {"role": "system", "content": out[0]["content"] + note}
    else:
        out.insert(0, {"role": "system", "content": note.strip()})
    return out


_STRICT_UNSUPPORTED = frozenset({"minLength", "maxLength", "pattern", "format", "default", "title"})


_STRICT: dict[int, tuple[Any, Any]] = {}  # id -> (the schema, held so no id is reused; strict)


def strict_schema_of(schema: dict[str, Any]) -> Any:
    """``strict_schema(schema)``, worked out once per schema object.

    Verdict schemas are built once per persona and never mutated
    (``Persona.json_schema``), so a night's thousand requests share one strict copy.
    """
    hit = _STRICT.get(id(schema))
    if hit is None or hit[0] is not schema:
        if len(_STRICT) > 256:
            _STRICT.clear()
        hit = _STRICT[id(schema)] = (schema, strict_schema(schema))
    return hit[1]


def strict_schema(schema: Any) -> Any:
    """The schema without keywords strict structured-output modes reject.

    The runner still validates against the full schema and re-asks.
    """
    if isinstance(schema, list):
        return [strict_schema(v) for v in schema]
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ("properties", "$defs"):  # maps of names: keep every name
                out[key] = {name: strict_schema(sub) for name, sub in value.items()}
            elif key not in _STRICT_UNSUPPORTED:
                out[key] = strict_schema(value)
        return out
    return schema
