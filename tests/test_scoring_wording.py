"""The counts line every view prints: valid, failed and recused, worded exactly."""

from __future__ import annotations

import pytest

from panel.scoring.aggregate import tally


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
    assert tally(*counts) == line
