"""Checking an answer against the persona's verdict model (or any answer model).

Every answer is validated here, whatever the provider promised: llama.cpp and
OpenAI-compatible servers skip schema keywords they do not support and still
answer 200. A failed check is an ``InvalidAnswerError`` with a short, specific
message and a typed reason; what happens next (re-ask or failure) is the judge's.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

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


def check(persona: Persona, completion: Completion) -> VerdictBase:
    """The validated verdict in ``completion``, or ``InvalidAnswerError``."""
    return check_model(persona.verdict_model, completion)


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
