"""The store under faults: a damaged file, a full disk, a read-only runs/ (issue 31, 9-11).

Every command answers with one line naming the file and saying what to do, never a
traceback; a full disk is never taken for a broken store. The full disk and the
read-only folder are real: each command runs in a private mount namespace
(``unshare --mount``) where runs/ is a 1 MB tmpfs filled to the brim, or a read-only
bind mount of itself. Nothing is mounted outside that namespace. Without the right
to mount (not root), those tests skip and say so.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.io import read_record

runner = CliRunner()
REVIEW = ["review", "alpha-tool", "beta-tool", "--provider", "mock/any"]
UNSHARE = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]


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
@functools.cache
def _can_mount() -> str | None:
    """None if this process may mount in a private namespace, else why not."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    with tempfile.TemporaryDirectory() as spot:
        probe = subprocess.run(
            [*UNSHARE, f"mount -t tmpfs -o size=64k tmpfs {shlex.quote(spot)}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    return None if probe.returncode == 0 else f"cannot mount here: {probe.stderr.strip()[:200]}"


def _in_namespace(setup: str, args: list[str], home: Home) -> subprocess.CompletedProcess[str]:
    """``panel ARGS`` after the shell commands ``setup``, in a private mount namespace."""
    why = _can_mount()
    if why is not None:
        pytest.skip(f"needs a private mount namespace (root): {why}")
    script = f'{setup} && exec "$0" -m panel "$@"'
    return subprocess.run(
        [*UNSHARE, script, sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PANEL_HOME": str(home.root), "COLUMNS": "200"},
        cwd=Path(__file__).resolve().parent.parent,
    )


def _full(home: Home, tmp_path: Path) -> str:
    """runs/ on a 1 MB tmpfs holding its files and then zeros until no space is left."""
    runs, saved = shlex.quote(str(home.runs)), shlex.quote(str(tmp_path))
    return (
        f"cp -a {runs} {saved} && mount -t tmpfs -o size=1m tmpfs {runs} && "
        f"cp -a {saved}/. {runs}/ && "
        f"(dd if=/dev/zero of={runs}/filler bs=4096 2>/dev/null; true)"
    )


def _read_only(home: Home) -> str:
    runs = shlex.quote(str(home.runs))
    return f"mount --bind {runs} {runs} && mount -o remount,bind,ro {runs}"


def test_a_full_disk_says_the_disk_is_full_never_move_the_store_aside(
    home: Home, reviewed: Path, tmp_path: Path
) -> None:
    before = (home.runs / "panel.db").read_bytes()
    runs = (REVIEW, [*REVIEW, "--fresh"], ["nightly", "--provider", "mock/any"])
    for n, args in enumerate(runs):
        done = _in_namespace(_full(home, tmp_path / f"copy-{n}"), args, home)
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
        done = _in_namespace(_read_only(home), args, home)
        assert done.returncode == 2, (args, done.stderr)
        line = _one_line(done.stderr)
        assert str(home.runs / where) in line and "Read-only file system" in line, line
    shown = _in_namespace(_read_only(home), ["show", rid], home)
    assert shown.returncode == 0, shown.stderr
    assert "Alpha Tool" in shown.stdout
    out = tmp_path / "digests"
    year, week, _ = read_record(reviewed).created_at.isocalendar()
    args = ["digest", "--week", f"{year}-W{week:02}", "--out", str(out)]
    digest = _in_namespace(_read_only(home), args, home)
    # It read the store (the vote totals) and the records: nothing published that week.
    assert digest.returncode == 3 and digest.stderr == "", digest.stderr
    assert "no comparisons were published that week" in digest.stdout
    assert read_record(reviewed).editorial.status == "draft"
