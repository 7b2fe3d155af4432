"""The nightly's rules, in one module (jobs/nightly_policy.py): pure, so tested directly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from panel.inputs.catalog import Tool
from panel.jobs import nightly_policy
from panel.jobs.nightly_policy import REREVIEW, Look, RetryRule, Standing, new_tool, rereview
from panel.records.rows import FailureHistory, IndexedRecord, ReviewInputs

RULE = RetryRule(retry_nights=3, today="2026-12-04")


def test_a_failed_call_is_due_once_a_night_then_given_up() -> None:
    assert RULE.standing(FailureHistory()) is Standing.FRESH
    assert RULE.standing(FailureHistory(1, "2026-12-03")) is Standing.DUE
    assert RULE.standing(FailureHistory(2, "2026-12-04")) is Standing.HELD
    assert RULE.standing(FailureHistory(3, "2026-12-03")) is Standing.GIVEN_UP
    assert RULE.may_retry(FailureHistory(2, "2026-12-03"))
    assert not RULE.may_retry(FailureHistory(3, "2026-12-03"))


def _tool(slug: str, launched: str) -> Tool:
    return Tool.model_validate(
        {"slug": slug, "name": slug, "launched": launched, "description": "d"}
    )


def _look(**late: float) -> Look:
    return Look(date(2026, 11, 24), RULE, lambda key: FailureHistory(), dict(late))


def test_a_tool_is_new_by_launch_date_or_by_when_panel_learned_of_it() -> None:
    assert new_tool(_tool("a", "2026-11-24"), _look()) == "launched 2026-11-24, no record yet"
    assert new_tool(_tool("b", "2026-10-01"), _look()) is None
    seen = datetime(2026, 12, 3, 10, tzinfo=UTC).timestamp()
    why = new_tool(_tool("b", "2026-10-01"), _look(b=seen))
    assert why == "added to the catalog 2026-12-03 (launched 2026-10-01), no record yet"


def _last(status: str = "complete", failed: tuple[str, ...] | None = ()) -> IndexedRecord:
    inputs = ReviewInputs(catalog={"a": "1"}, models=("p=m",), answers="x", failed=failed)
    return IndexedRecord("2026-12-01/a-vs-b", Path("r.json"), ("a", "b"), status, inputs)


def test_re_review_reasons_first_match_wins() -> None:
    now = ReviewInputs(catalog={"a": "1"}, models=("p=m",))
    assert rereview(_last(), now, _look()) is None
    changed = ReviewInputs(catalog={"a": "2"}, models=("p=m",))
    assert rereview(_last(), changed, _look()) == "changed since last review: catalog entry"
    assert rereview(_last("incomplete", ("k",)), now, _look()) == (
        "last review was incomplete; 1 failed call due"
    )
    gave_up = Look(date(2026, 11, 24), RULE, lambda key: FailureHistory(3, "2026-12-01"))
    assert rereview(_last("incomplete", ("k",)), now, gave_up) is None


def test_a_new_re_review_reason_is_one_function_in_rereview(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def evidence_changed(last: IndexedRecord, now: ReviewInputs, tonight: Look) -> str | None:
        return "evidence changed"

    monkeypatch.setattr(nightly_policy, "REREVIEW", [*REREVIEW, evidence_changed])
    now = ReviewInputs(catalog={"a": "1"}, models=("p=m",))
    assert rereview(_last(), now, _look()) == "evidence changed"
