"""The store under faults: a damaged file, a full disk, a read-only runs/ (issue 31, 9-11).

Every command answers with one line naming the file and saying what to do, never a
traceback; a full disk is never taken for a broken store. The full disk and the
read-only folder are real: each command runs in a private mount namespace
(``unshare --mount``) where runs/ is a 1 MB tmpfs filled to the brim, or a read-only
bind mount of itself. Nothing is mounted outside that namespace. Without the right
to mount (not root), those tests skip and say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.io import read_record
from tests.support.mounts import full, in_namespace, read_only

runner = CliRunner()
REVIEW = ["review", "alpha-tool", "beta-tool", "--provider", "mock/any"]


@pytest.fixture
def reviewed(home: Home) -> Path:
    """A project with one review on the mock: a store with cached answers, one record."""
    result = runner.invoke(app, REVIEW)
    assert result.exit_code == 0, result.stderr
    (record,) = home.runs.glob("2*/*.json")
    return record


def _rid(path: Path) -> str:
    return path.relative_to(path.parent.parent).with_suffix("").as_posix()


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and lines[0].startswith("panel: error: "), stderr
    return lines[0]


# -- a damaged store (item 9) -------------------------------------------------------------
def _damage(store: Path) -> None:
    """Overwrite every page after the second: the header still reads, the tables do not."""
    size = store.stat().st_size
    assert size > 3 * 4096
    with store.open("r+b") as raw:
        raw.seek(2 * 4096)
        raw.write(b"\xff" * (size - 2 * 4096))


def test_a_damaged_store_is_one_line_naming_it_on_every_command(home: Home, reviewed: Path) -> None:
    store = home.runs / "panel.db"
    _damage(store)
    for args in (REVIEW, ["nightly", "--dry-run", "--provider", "mock/any"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.stderr, result.exception)
        line = _one_line(result.stderr)
        assert line == (
            f"panel: error: {store}: not a usable panel store (database disk image is "
            "malformed); move it aside to start a new one (it holds the answer cache and the "
            "batch journal: keep the old file until you are sure)"
        ), args


# -- a full disk and a read-only runs/ (items 10, 11) ---------------------------------------
def test_a_full_disk_says_the_disk_is_full_never_move_the_store_aside(
    home: Home, reviewed: Path, tmp_path: Path
) -> None:
    before = (home.runs / "panel.db").read_bytes()
    runs = (REVIEW, [*REVIEW, "--fresh"], ["nightly", "--provider", "mock/any"])
    for n, args in enumerate(runs):
        done = in_namespace(full(home.runs, tmp_path / f"copy-{n}"), args, home.root)
        assert done.returncode == 2, (args, done.stderr)
        line = _one_line(done.stderr)
        assert "is full" in line and "free some space" in line, line
        assert "move it aside" not in line and "not a usable" not in line, line
    assert (home.runs / "panel.db").read_bytes() == before  # outside the namespace: untouched


def test_a_read_only_runs_folder_gives_one_line_errors_and_reading_still_works(
    home: Home, reviewed: Path, tmp_path: Path
) -> None:
    rid = _rid(reviewed)
    for args, where in (
        (["approve", rid, "--by", "gina"], ".editorial.lock"),
        (["reject", rid, "--by", "gina", "--reason", "stale"], ".editorial.lock"),
        (["nightly", "--dry-run", "--provider", "mock/any"], "nightly.lock"),
        (REVIEW, ""),  # checked before the store: runs/ is not writable
    ):
        done = in_namespace(read_only(home.runs), args, home.root)
        assert done.returncode == 2, (args, done.stderr)
        line = _one_line(done.stderr)
        assert str(home.runs / where) in line and "Read-only file system" in line, line
    shown = in_namespace(read_only(home.runs), ["show", rid], home.root)
    assert shown.returncode == 0, shown.stderr
    assert "Alpha Tool" in shown.stdout
    out = tmp_path / "digests"
    year, week, _ = read_record(reviewed).created_at.isocalendar()
    args = ["digest", "--week", f"{year}-W{week:02}", "--out", str(out)]
    digest = in_namespace(read_only(home.runs), args, home.root)
    # It read the store (the vote totals) and the records: nothing published that week.
    assert digest.returncode == 3 and digest.stderr == "", digest.stderr
    assert "no comparisons were published that week" in digest.stdout
    assert read_record(reviewed).editorial.status == "draft"
