"""Issue 17, duplicates: each shared rule is written once and used everywhere.

- ``describe_error`` lives in the kernel (panel.errors), not in the catalog loader;
- one flock helper (panel.lock) serves the nightly, the site build and editorial changes;
- one definition of what a recused call is (``CallResult.outcome``): the page's counts,
  the quorum shortfall and the record's totals agree on a conflicted call that failed;
- "newest record per pair / per tool" is chosen by the records layer for the site, the
  digest and calibration.
"""

from __future__ import annotations

import inspect
import os
from datetime import timedelta
from pathlib import Path

import pytest

from panel import config, errors, lock
from panel.inputs import catalog, personas
from panel.lock import LockedError, exclusive
from panel.publish.render.view import page_view
from panel.records import editorial, io
from panel.records.publication import live_pages, newest_reviews, shortfall, standing
from panel.records.schema import ComparisonRecord
from panel.scoring import calibrate
from panel.scoring.aggregate import aggregate, totals
from tests.support.calls import failed
from tests.support.records import NOW, make_record, save_record, tool

A, B, C = tool("alpha"), tool("beta"), tool("gamma")


def test_describe_error_is_a_kernel_helper_every_loader_imports_from_there() -> None:
    assert errors.describe_error.__module__ == "panel.errors"
    for loader in (catalog, config, personas, io):
        source = inspect.getsource(loader)
        assert "def describe_error" not in source, loader.__name__
        assert "from panel.errors import" in source and "describe_error" in source


def test_editorial_changes_hold_the_one_flock_helper_and_name_their_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    path = save_record(runs, A, B)
    seen: list[str] = []
    read = editorial.read_record

    def probing_read(where: Path) -> ComparisonRecord:
        # While the change runs, a second taker of the same lock is refused with the pid.
        with pytest.raises(LockedError) as refused, exclusive(runs / editorial.LOCK_NAME, "x"):
            pass
        seen.append(str(refused.value))
        return read(where)

    monkeypatch.setattr(editorial, "read_record", probing_read)
    editorial.approve(runs, path, "ed")
    assert len(seen) == 1 and f"(pid {os.getpid()})" in seen[0]
    assert "fcntl" not in inspect.getsource(editorial)
    assert "fcntl" in inspect.getsource(lock)


def test_waiting_and_failing_takers_share_one_lock(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "x.lock"
    with (
        exclusive(path, "first", wait=True),
        pytest.raises(LockedError, match="another second is running"),
        exclusive(path, "second"),
    ):
        pass
    with exclusive(path, "again"):  # released on exit
        assert path.read_text().strip().isdigit()


def _conflicted_failure() -> ComparisonRecord:
    """beta's first provider is recused on every persona, and one of those calls failed."""
    record = make_record(A, B, providers=("p/one", "p/two"))
    calls = [
        c.model_copy(update={"conflict": True, "recused": True})
        if (c.tool, c.provider) == ("beta", "p/one")
        else c
        for c in record.calls
    ]
    broken = failed("dx", "beta", "p/one", conflict=True, recused=True)
    calls = [
        broken if (c.persona, c.tool, c.provider) == ("dx", "beta", "p/one") else c for c in calls
    ]
    scores = aggregate(record.tools, record.panel.personas, calls)
    return record.model_copy(
        update={
            "calls": calls,
            "scores": scores,
            "totals": totals(calls),
            "status": "complete" if all(s.quorum_met for s in scores.tools) else "incomplete",
        }
    )


def test_a_recused_call_that_failed_is_failed_everywhere() -> None:
    record = _conflicted_failure()
    assert [c.outcome for c in record.calls if c.recused].count("failed") == 1
    assert (record.totals.valid, record.totals.failed, record.totals.recused) == (12, 1, 3)
    counts = page_view(record).verdicts
    assert counts is not None
    # Before: the page said 4 recused and 0 failed beside totals of 3 recused and 1 failed.
    assert (counts.valid, counts.failed, counts.recused) == (12, 1, 3)
    assert "1 got no usable answer" in counts.sentence()


def test_the_quorum_shortfall_counts_recusals_like_the_totals() -> None:
    record = _conflicted_failure()
    calls = [c for c in record.calls if not (c.tool == "beta" and c.persona == "futurist")]
    scores = aggregate(record.tools, record.panel.personas, calls)
    short = shortfall(
        record.model_copy(
            update={
                "calls": calls,
                "scores": scores,
                "totals": totals(calls),
                "status": "incomplete",
            }
        )
    )
    assert short is not None and short.tools == ["beta"]
    assert (short.valid, short.total, short.recused) == (11, 14, 2)  # before: 3 recused


def test_newest_reviews_is_the_newest_record_per_tool_that_is_not_rejected() -> None:
    old = make_record(A, B, record_id="2026-11-20/alpha-vs-beta", created=NOW - timedelta(4))
    new = make_record(A, C, record_id="2026-11-24/alpha-vs-gamma", created=NOW)
    gone = make_record(
        B, C, record_id="2026-11-25/beta-vs-gamma", created=NOW + timedelta(1), status="rejected"
    )
    chosen = newest_reviews((standing(r), r.id) for r in (old, new, gone))
    assert chosen == {"alpha": new.id, "beta": old.id, "gamma": new.id}


def test_live_pages_keys_each_pairs_page_by_its_page_name() -> None:
    first = make_record(A, B, record_id="2026-11-20/alpha-vs-beta", status="approved")
    later = make_record(
        A, B, record_id="2026-11-21/alpha-vs-beta", created=NOW + timedelta(1), status="draft"
    )
    other = make_record(A, C, record_id="2026-11-21/alpha-vs-gamma", status="draft")
    pages = live_pages((standing(r), r.id) for r in (first, later, other))
    assert pages == {"alpha-vs-beta": first.id}


def test_calibration_site_and_digest_choose_records_through_the_records_layer() -> None:
    from panel.publish import digest, site

    assert "newest_reviews(" in inspect.getsource(calibrate.points)
    assert "live_pages(" in inspect.getsource(digest.week_records)
    assert "live_pages(" in inspect.getsource(site)
