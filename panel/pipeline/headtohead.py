"""The head-to-head question: both tool cards, "which one should you ship with?".

Asked per persona and provider, once with the record's first tool first and once
with the second tool first (see :mod:`panel.scoring.trust` for how the two are combined).
The answer names a position, not a tool, so a model cannot pick by name-matching.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TEMPLATE = "_head_to_head.j2"


class HeadToHeadAnswer(BaseModel):
    """Reason first, then the pick: models fill JSON in order, so the reason comes first."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=10, max_length=1_000)] = Field(
        description="Why, in two or three sentences in your voice."
    )
    pick: Literal["first", "second"] = Field(
        description='"first" for the first tool card shown, "second" for the second.'
    )
    confidence: Annotated[int, Field(ge=1, le=5)] = Field(
        description="An integer from 1 (a guess) to 5 (sure)."
    )


@functools.cache
def schema() -> dict[str, Any]:
    """Shared and cached: callers must not mutate it."""
    return HeadToHeadAnswer.model_json_schema()
