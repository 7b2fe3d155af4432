"""`panel calibrate`'s numbers as README states them (scoring/calibrate.py), worked by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from panel.errors import PanelError
from panel.records.io import write_record
from panel.records.schema import CallResult, ComparisonRecord
from panel.scoring.aggregate import aggregate, totals
from panel.scoring.calibrate import Point, _point, calibrate, pearson, points
from tests.support.calls import failed, h2h, ok
from tests.support.records import NOW, make_record, tool

X, Y = tool("x-tool"), tool("y-tool")


def point(panel: float, community: float, slug: str = "t") -> Point:
    return Point(
        tool=slug,
        record="r",
        panel=panel,
        community=community,
        votes=10,
        personas={"dx": panel},
        providers={"p/1": panel},
    )


def save(runs: Path, calls: list[CallResult], **kwargs: object) -> Path:
    """A record of X vs Y with exactly these calls, scored by the real aggregate."""

    def build(record_id: str) -> ComparisonRecord:
        record = make_record(X, Y, record_id=record_id, **kwargs)  # type: ignore[arg-type]
        verdicts = [c for c in calls if c.kind == "verdict"]
        scores = aggregate([X, Y], ["dx", "biz"], verdicts, quorum="any-verdict")
        return record.model_copy(update={"calls": calls, "scores": scores, "totals": totals(calls)})

    created = kwargs.get("created", NOW)
    return write_record(runs, created.date(), "x-tool-vs-y-tool", build)  # type: ignore[attr-defined]


# Brier score: the outcome is 1 when the community majority ships, 0 when it skips, ties out.


def test_the_community_majority_is_more_than_half() -> None:
    found = [point(0.6, 0.45), point(0.6, 0.55), point(0.3, 0.5)]
    result = calibrate(found, minimum=2)
    # (0.6 - 0)^2 = 0.36 and (0.6 - 1)^2 = 0.16; the 0.5 tie is left out: Brier 0.26 over 2.
    assert (result.brier, result.brier_n) == (0.26, 2)


def test_no_community_majority_anywhere_gives_no_brier_and_no_correlation() -> None:
    result = calibrate([point(0.2, 0.5), point(0.8, 0.5)], minimum=2)
    assert (result.brier, result.brier_n, result.bins) == (None, 0, [])
    assert result.correlation is None  # the community shares never vary (sy = 0)
    assert result.bias == 0.0


def test_min_2_calibrates_on_two_tools() -> None:
    result = calibrate([point(0.25, 0.2), point(0.75, 0.9)], minimum=2)
    assert result.enough and result.minimum == 2
    assert result.message == "calibrated on 2 tools with community votes"
    assert result.correlation == 1.0  # two points always lie on a line
    # Brier: (0.25 - 0)^2 and (0.75 - 1)^2, mean 0.0625. Bias: mean(0.05, -0.15) = -0.05.
    assert (result.brier, result.bias) == (0.0625, -0.05)
    with pytest.raises(PanelError, match="--min 1 is too small"):
        calibrate([point(0.25, 0.2)], minimum=1)


def test_too_few_tools_reports_nothing() -> None:
    result = calibrate([point(0.25, 0.2), point(0.75, 0.9)], minimum=3)
    assert not result.enough and result.minimum == 3
    assert (result.correlation, result.brier, result.bias, result.bins) == (None, None, None, [])
    assert result.message.startswith("only 2 reviewed tool(s) have community votes")


def test_numbers_are_rounded_to_four_places() -> None:
    # xs = [0, 0.5, 1], ys = [0, 0, 1]: r = 0.5 / (sqrt(0.5) * sqrt(2/3)) = sqrt(3)/2 = 0.8660.
    found = [point(0.0, 0.0), point(0.5, 0.0), point(1.0, 1.0)]
    assert calibrate(found, minimum=2).correlation == 0.866
    # Brier ((2/3)^2 + 2 * (1/3)^2) / 3 = 2/9; bias mean(-2/3, 1/3, 1/3) = 0; one bin.
    thirds = [point(1 / 3, 1.0), point(1 / 3, 0.0), point(1 / 3, 0.0)]
    result = calibrate(thirds, minimum=2)
    assert (result.brier, result.bias) == (0.2222, 0.0)
    assert result.bins == [
        {"low": 0.2, "high": 0.4, "n": 3, "predicted": 0.3333, "observed": 0.3333}
    ]
    assert calibrate([point(1 / 3, 1.0), point(0.0, 1.0)], minimum=2).bias == -0.8333


def test_a_share_on_a_bin_edge_is_counted_once() -> None:
    found = [point(0.4, 1.0), point(0.2, 0.0), point(1.0, 1.0), point(0.8, 0.0), point(0.0, 0.0)]
    assert calibrate(found, minimum=2).bins == [
        {"low": 0.0, "high": 0.2, "n": 1, "predicted": 0.0, "observed": 0.0},
        {"low": 0.2, "high": 0.4, "n": 1, "predicted": 0.2, "observed": 0.0},
        {"low": 0.4, "high": 0.6, "n": 1, "predicted": 0.4, "observed": 1.0},
        {"low": 0.8, "high": 1.0, "n": 2, "predicted": 0.9, "observed": 0.5},
    ]


def test_pearson_edges() -> None:
    assert pearson([0.2], [0.4]) is None  # one point: undefined
    assert pearson([0.2, 0.8], [0.4, 0.1]) == pytest.approx(-1.0)
    assert pearson([0.2, 0.8], [0.5, 0.5]) is None  # the community never varies
    # ys = [0, 1, 0, 1] has sy = 1 exactly: still a correlation, r = 0.7 / (sqrt(0.5) * 1).
    assert pearson([0.1, 0.9, 0.2, 0.8], [0.0, 1.0, 0.0, 1.0]) == pytest.approx(0.98994949)
    with pytest.raises(ValueError):  # every panel share pairs with a community share
        pearson([0.1, 0.9, 0.2], [0.0, 1.0])


# Points: one per voted tool, from its newest record that was not rejected.


def test_a_point_counts_only_valid_verdicts_on_that_tool(tmp_path: Path) -> None:
    calls = [
        ok("dx", "x-tool", "ship", "p/1"),
        ok("dx", "x-tool", "skip", "p/2"),
        ok("biz", "x-tool", "ship", "p/1"),
        failed("biz", "x-tool", "p/2"),
        ok("biz", "x-tool", "skip", "p/3", recused=True),
        ok("dx", "y-tool", "skip", "p/1"),
        ok("biz", "y-tool", "skip", "p/2"),
        h2h("dx", "p/1", "x-tool", "y-tool", "y-tool"),
    ]
    save(tmp_path, calls)
    (found,) = points(tmp_path, {"x-tool": (3, 1)})
    assert found == Point(
        tool="x-tool",
        record="2026-11-24/x-tool-vs-y-tool",
        panel=0.667,  # ship % 66.7 (2 of 3 valid verdicts) / 100
        community=0.75,
        votes=4,
        personas={"dx": 0.5, "biz": 1.0},
        providers={"p/1": 1.0, "p/2": 0.0},
    )


def test_votes_and_verdicts_both_needed_for_a_point(tmp_path: Path) -> None:
    calls = [ok("dx", "x-tool", "ship"), failed("dx", "y-tool"), failed("biz", "y-tool")]
    save(tmp_path, calls)
    assert points(tmp_path, {"x-tool": (0, 0), "y-tool": (5, 5)}) == []
    (one_vote,) = points(tmp_path, {"x-tool": (1, 0)})
    assert (one_vote.community, one_vote.votes, one_vote.panel) == (1.0, 1, 1.0)
    assert points(tmp_path, {"z-tool": (1, 0)}) == []


def test_the_newest_record_that_was_not_rejected_counts(tmp_path: Path) -> None:
    def everyone(verdict: str) -> list[CallResult]:
        return [ok(p, t, verdict) for p in ("dx", "biz") for t in ("x-tool", "y-tool")]

    hour = timedelta(hours=1)
    save(tmp_path, everyone("ship"))  # x-tool-vs-y-tool.json, the oldest
    save(tmp_path, everyone("skip"), created=NOW + 3 * hour, status="rejected")  # .2.json
    mixed = [ok("dx", "x-tool", "ship"), ok("biz", "x-tool", "skip"), ok("dx", "y-tool", "skip")]
    save(tmp_path, mixed, created=NOW + 2 * hour)  # .3.json, the newest kept
    # Scanned in name order (.2, .3, then the oldest): the rejected one first, the newest
    # kept one before the oldest.
    (found,) = points(tmp_path, {"x-tool": (1, 1)})
    assert (found.record, found.panel) == ("2026-11-24/x-tool-vs-y-tool.3", 0.5)


def test_a_record_without_a_score_for_the_tool_gives_no_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def build(record_id: str) -> ComparisonRecord:
        record = make_record(X, Y, record_id=record_id)
        scores = record.scores.model_copy(update={"tools": record.scores.tools[1:]})
        return record.model_copy(update={"scores": scores})

    write_record(tmp_path, NOW.date(), "x-tool-vs-y-tool", build)
    # The loader refuses the inconsistent record whole (a warning names it) ...
    assert points(tmp_path, {"x-tool": (1, 0), "y-tool": (1, 0)}) == []
    assert "skipped" in capsys.readouterr().err
    # ... and the point builder itself never scores a tool the record has no score for.
    record = build("2026-11-24/x-tool-vs-y-tool")
    assert _point(record, "x-tool", 1, 0) is None
    assert _point(record, "y-tool", 1, 0) is not None
