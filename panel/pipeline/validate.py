"""Checking an answer against the persona's verdict model (or any answer model).

Every answer is validated here, whatever the provider promised: llama.cpp and
OpenAI-compatible servers skip schema keywords they do not support and still
answer 200. A failed check is an ``InvalidAnswerError`` with a short, specific
message and a typed reason; what happens next (re-ask or failure) is the judge's.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, create_model

from panel.inputs.personas import Persona, VerdictBase
from panel.providers.base import Completion, FailureReason

_FENCED = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_MAX_ERRORS_SHOWN = 5


M = TypeVar("M", bound=BaseModel)


class InvalidAnswerError(Exception):
    """An answer that does not hold a valid verdict; ``reason`` types the failure."""

    def __init__(self, reason: FailureReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def extract_json(text: str) -> Any:
    """The JSON object in ``text``: bare, fenced in ``` or embedded in prose."""
    stripped = text.strip()
    candidates = [stripped, *(m.strip() for m in _FENCED.findall(stripped))]
    start = stripped.find("{")
    if start >= 0:
        candidates.append(stripped[start : stripped.rfind("}") + 1])
    # strict=False: a raw newline inside a string is unambiguous, and some
    # grammar-constrained decoders emit one.
    decoder = json.JSONDecoder(strict=False)
    for candidate in candidates:
        try:
            return decoder.decode(candidate)
        except json.JSONDecodeError:
            continue
    if start >= 0:  # the first complete object, ignoring trailing chatter
        try:
            return decoder.raw_decode(stripped, start)[0]
        except json.JSONDecodeError:
            pass
    raise InvalidAnswerError(FailureReason.INVALID_OUTPUT, "the answer is not a JSON object")


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:_MAX_ERRORS_SHOWN]:
        where = ".".join(str(p) for p in error["loc"]) or "(object)"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - _MAX_ERRORS_SHOWN
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def check(persona: Persona, completion: Completion, sources: tuple[str, ...] = ()) -> VerdictBase:
    """The validated verdict in ``completion``, or ``InvalidAnswerError``.

    ``sources``: the ids of the tool's evidence pack; with any, the answer also says
    whether the evidence sufficed and which sources its quote cites (``evidence_model``).
    """
    model = persona.verdict_model if not sources else evidence_model(persona.verdict_model, sources)
    return check_model(model, completion)


Sufficiency = Literal["sufficient", "insufficient"]
EVIDENCE_FIELDS = ("evidence", "citations")


@functools.cache
def evidence_model(base: type[VerdictBase], sources: tuple[str, ...]) -> type[VerdictBase]:
    """A persona's verdict model for a tool with sources (issue 26), built once per pack ids.

    The persona's fields, then ``evidence`` (did the card and sources suffice), the quote,
    ``citations`` (the ids it cites, only the pack's), verdict and confidence: models fill
    JSON in schema order, so the reviewer weighs the evidence before writing the quote.
    Without sources the persona's own model is used, unchanged (the embedded 135M model
    does worse with every field added).
    """
    ids = Literal[sources]  # type: ignore[valid-type]
    definitions: dict[str, Any] = {}
    for name, info in base.model_fields.items():
        if name == "quote":
            definitions["evidence"] = (
                Annotated[
                    Sufficiency,
                    Field(description="Whether the card and the sources let you judge the tool."),
                ],
                ...,
            )
        definitions[name] = (info.annotation, info)
        if name == "quote":
            definitions["citations"] = (
                Annotated[
                    list[ids],
                    Field(
                        max_length=len(sources),
                        description="The ids of the sources the quote cites, like S1.",
                    ),
                ],
                ...,
            )
    model: type[VerdictBase] = create_model(
        f"{base.__name__}WithEvidence", __base__=VerdictBase, **definitions
    )
    return model


@functools.cache
def _evidence_schema(base: type[VerdictBase], sources: tuple[str, ...]) -> dict[str, Any]:
    return evidence_model(base, sources).model_json_schema()


def evidence_schema(persona: Persona, sources: tuple[str, ...]) -> dict[str, Any]:
    """The JSON schema of ``evidence_model``: shared and cached, callers must not mutate it."""
    return _evidence_schema(persona.verdict_model, sources)


def check_model(model: type[M], completion: Completion) -> M:
    """``completion`` validated against ``model``, or ``InvalidAnswerError``."""
    if completion.refusal:
        raise InvalidAnswerError(
            FailureReason.REFUSED, f"the model refused: {completion.refusal[:200]}"
        )
    if not completion.text or not completion.text.strip():
        raise InvalidAnswerError(FailureReason.INVALID_OUTPUT, "the answer is empty")
    if completion.finish_reason == "length":
        raise InvalidAnswerError(
            FailureReason.INVALID_OUTPUT,
            "the answer was cut off at the token limit; write shorter field values",
        )
    data = extract_json(completion.text)
    if not isinstance(data, dict):
        raise InvalidAnswerError(
            FailureReason.INVALID_OUTPUT, "the answer is JSON but not an object"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidAnswerError(FailureReason.INVALID_OUTPUT, _describe(exc)) from None
