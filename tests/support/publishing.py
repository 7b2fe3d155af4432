"""Records for the publishing tests: incomplete ones, with failed and withheld calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from panel.inputs.catalog import Tool
from panel.providers.base import FailureReason
from panel.records.io import write_record
from panel.records.schema import CallResult, ComparisonRecord, Failure, Scores
from panel.scoring.aggregate import aggregate, totals
from tests.support.records import NOW, make_record

# What a provider error looks like in a record: internal, never for readers.
ERROR_DETAIL = "HTTP 503 from https://api.mistral.ai/v1: upstream connection failed (req-7f3a)"


def _failed(call: CallResult) -> CallResult:
    return call.model_copy(
        update={
            "status": "failed",
            "verdict": None,
            "confidence": None,
            "quote": None,
            "failure": Failure(reason=FailureReason.SERVER_ERROR, detail=ERROR_DETAIL),
        }
    )


def _withheld(call: CallResult) -> CallResult:
    return call.model_copy(update={"flags": ["card-text-echo"]})


def degrade(
    record: ComparisonRecord,
    keep: Callable[[CallResult], bool],
    withhold: Callable[[CallResult], bool] = lambda c: False,
) -> ComparisonRecord:
    """The record with every call not kept failed (or withheld), re-aggregated for real."""
    calls = [c if keep(c) else (_withheld(c) if withhold(c) else _failed(c)) for c in record.calls]
    return rescored(record, calls, aggregate(record.tools, record.panel.personas, calls))


def rescored(record: ComparisonRecord, calls: list[CallResult], scores: Scores) -> ComparisonRecord:
    """The record with these calls and scores, its totals and status to match."""
    complete = all(s.quorum_met for s in scores.tools)
    return record.model_copy(
        update={
            "calls": calls,
            "scores": scores,
            "totals": totals(calls),
            "status": "complete" if complete else "incomplete",
        }
    )


def save_degraded(
    runs: Path,
    a: Tool,
    b: Tool,
    keep: Callable[[CallResult], bool],
    withhold: Callable[[CallResult], bool] = lambda c: False,
    created: datetime = NOW,
    **kwargs: object,
) -> Path:
    """Write a record whose calls fail except those ``keep`` accepts."""
    return write_record(
        runs,
        created.date(),
        f"{a.slug}-vs-{b.slug}",
        lambda rid: degrade(
            make_record(a, b, record_id=rid, created=created, **kwargs),  # type: ignore[arg-type]
            keep,
            withhold,
        ),
    )
