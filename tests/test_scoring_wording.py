"""The counts every view prints: valid, failed and recused, worded exactly."""

from __future__ import annotations

import pytest

from panel.scoring.aggregate import count_phrase
from panel.scoring.trust import trust
from tests.support.calls import failed, ok
from tests.support.records import tool


@pytest.mark.parametrize(
    ("counts", "line"),
    [
        ((1, 1, 0, 0), "1 call: 1 valid, 0 failed, 0 recused"),
        ((2, 1, 1, 0), "2 calls: 1 valid, 1 failed, 0 recused"),
        ((0, 0, 0, 0), "0 calls: 0 valid, 0 failed, 0 recused"),
        ((32, 20, 0, 12), "32 calls: 20 valid, 0 failed, 12 recused (conflict of interest)"),
        ((1, 0, 0, 1), "1 call: 0 valid, 0 failed, 1 recused (conflict of interest)"),
    ],
)
def test_the_counts_line_names_each_count_and_the_reason_for_recusal(
    counts: tuple[int, int, int, int], line: str
) -> None:
    assert count_phrase(*counts) == line


def test_a_conflicted_call_that_failed_is_counted_as_failed_not_in_the_conflict_sentence() -> None:
    """Only answers count in "Recused for a conflict of interest: ..."; a failure is failed."""
    a, b = tool("alpha-tool", vendor="Alpha Inc"), tool("beta-tool", vendor="Beta Labs")
    calls = [
        ok("dx", "alpha-tool", "ship", "alpha/m", conflict=True, recused=True),
        failed("dx", "beta-tool", "beta/m", conflict=True, recused=True),
        ok("dx", "beta-tool", "ship", "p/2"),
    ]
    summary = trust(calls, [a, b], ["dx"], [], "recuse").summary
    assert summary.endswith(
        "Recused for a conflict of interest: 1 verdict (alpha/m on Alpha Tool)."
    )
