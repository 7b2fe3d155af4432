"""Typed rows of the store: what its queries hand back, instead of dicts and tuples.

- ``ReviewInputs``: what decided a review (catalog entries, personas, templates, models),
  and, for an indexed record, a digest of its answers and the keys of its failed calls.
  ``jobs/review.py`` writes it with the record's index row; the nightly's policy reads it.
- ``IndexedRecord``: one row of the record index.
- ``FailureHistory``: a call's failure nights (``retry_nights`` is the nightly's cap).
- ``RunRow``: a run of the run index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panel.records.schema import CallResult


@dataclass(frozen=True)
class ReviewInputs:
    """What decided a comparison's answers (and, once indexed, what they were)."""

    templates: Mapping[str, str] = field(default_factory=dict)  # template -> digest
    personas: Mapping[str, str] = field(default_factory=dict)  # persona -> digest
    catalog: Mapping[str, str] = field(default_factory=dict)  # tool slug -> entry digest
    models: tuple[str, ...] = ()  # "provider=model", sorted
    evidence: Mapping[str, str] = field(default_factory=dict)  # slug -> evidence pack digest
    answers: str | None = None  # sha256 of what the record says (``review.answers_digest``)
    failed: tuple[str, ...] | None = None  # keys of failed calls; None: an older row kept none

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "templates": dict(self.templates),
            "personas": dict(self.personas),
            "catalog": dict(self.catalog),
            "models": list(self.models),
        }
        if self.evidence:  # a review without evidence keeps the fingerprint it had before
            data["evidence"] = dict(self.evidence)
        if self.answers is not None:
            data["answers"] = self.answers
        if self.failed is not None:
            data["failed"] = list(self.failed)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ReviewInputs:
        data = json.loads(text)
        failed = data.get("failed")
        return cls(
            templates=dict(data.get("templates") or {}),
            personas=dict(data.get("personas") or {}),
            catalog=dict(data.get("catalog") or {}),
            models=tuple(data.get("models") or ()),
            evidence=dict(data.get("evidence") or {}),
            answers=data.get("answers"),
            failed=None if failed is None else tuple(failed),
        )


@dataclass(frozen=True)
class IndexedRecord:
    """A record index row: the record, its pair, its status and what decided it."""

    id: str
    path: Path
    tools: tuple[str, str]
    status: str
    inputs: ReviewInputs


@dataclass(frozen=True)
class FailureHistory:
    """How often a call has failed: on how many nights, the last such day, its last result.

    An answer withheld by the leak and quote checks counts as a failure here (it is kept
    in the cache too: it was paid for); a clean answer clears the history.
    """

    nights: int = 0
    failed_on: str | None = None  # YYYY-MM-DD
    last: CallResult | None = None


@dataclass(frozen=True)
class RunRow:
    id: str
    started_at: float  # seconds since the epoch
