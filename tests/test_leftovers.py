"""Leftovers and early failures (issue 20 item 9, first two bullets).

- A writer killed with `kill -9` leaves its `.<name>.<random>.tmp` file behind. Stale
  ones are swept: only our naming pattern, only regular files, only old ones, and never
  one a live writer still holds (writers keep an flock on their temp file).
- `review --out` with an unusable output path failed after its paid calls; it now fails
  before the first one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel import clock
from panel.atomic import STALE_AFTER, sweep_temp_files
from panel.cli import app
from panel.paths import Home
from tests.support import scripted
from tests.support.clock import TODAY
from tests.support.records import save_record, tool

runner = CliRunner()

# A writer that stops (as if killed) while its temp file is open: prints the temp file's
# path, then waits for stdin to close.
WRITER = """
import sys
from pathlib import Path
from panel.atomic import _temp_beside
with _temp_beside(Path(sys.argv[1]), b"{half a record") as tmp:
    print(tmp, flush=True)
    sys.stdin.read()
"""


def _age(path: Path) -> None:
    """Stale on panel's clock (the suite's, tests/support/clock.py), whatever the real date:
    files written now keep the real time, which is never before the suite's start."""
    old = clock.timestamp() - 2 * STALE_AFTER
    os.utime(path, (old, old), follow_symlinks=False)


def test_a_killed_writers_temp_file_is_swept_once_stale_and_never_while_held(
    tmp_path: Path,
) -> None:
    target = tmp_path / "2026-11-24" / "a-vs-b.json"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        temp = Path(child.stdout.readline().strip())
        assert temp.is_file() and temp.name.startswith(".a-vs-b.json.")
        _age(temp)  # old, but its writer is alive and holds it
        assert sweep_temp_files(temp.parent) == []
        assert temp.is_file()
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert temp.is_file()  # kill -9: nothing cleaned up
    assert sweep_temp_files(temp.parent) == [temp]
    assert not temp.exists()


def test_only_our_stale_regular_temp_files_are_swept(home: Home, tmp_path: Path) -> None:
    folder = save_record(home.runs, tool("alpha-tool"), tool("beta-tool")).parent
    stale = folder / ".alpha-tool-vs-beta-tool.json.k3j_x9a1.tmp"
    fresh = folder / ".alpha-tool-vs-beta-tool.json.abcdefgh.tmp"
    not_ours = [folder / "notes.tmp", folder / ".keep.tmp", folder / ".x.json.short.tmp"]
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    link = folder / ".linked.json.linklink.tmp"
    link.symlink_to(outside)
    for path in (stale, fresh, *not_ours):
        path.write_text("{")
    for path in (stale, *not_ours, link):
        _age(path)
    nightly = home.runs / "nightly"
    nightly.mkdir()
    stale_summary = nightly / ".2026-11-24.json.abcd1234.tmp"
    stale_summary.write_text("{")
    _age(stale_summary)

    listed = runner.invoke(app, ["list", "--json"])  # every reader of runs/ sweeps first
    assert listed.exit_code == 0, listed.output
    assert not stale.exists() and not stale_summary.exists()
    assert fresh.exists() and all(p.exists() for p in not_ours)
    assert link.is_symlink() and outside.read_text() == "keep"


def test_a_new_record_sweeps_its_day_folder(home: Home) -> None:
    day = home.runs / "2026-11-24"
    day.mkdir(parents=True)
    stale = day / ".alpha-tool-vs-beta-tool.json.zzzzzzzz.tmp"
    stale.write_text("{")
    _age(stale)
    save_record(home.runs, tool("alpha-tool"), tool("beta-tool"))
    assert not stale.exists()


def test_a_night_of_records_sweeps_its_day_folder_once(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 29: a sweep per record read the whole day folder each time (quadratic)."""
    from panel.records import io

    swept: list[Path] = []
    monkeypatch.setattr(io, "sweep_temp_files", lambda folder: swept.append(folder) or [])
    for n in range(4):
        save_record(home.runs, tool(f"alpha-tool-{n}"), tool("beta-tool"))
    assert len(swept) == 1 and len(list(home.runs.glob("2*/*.json"))) == 4


def _refused_before_any_call(args: list[str], scripts: dict[str, scripted.Script]) -> str:
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "-p", "scripted/m", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("panel: error: "), result.stderr
    assert scripts["m"].requests == []  # nothing sent, nothing paid for
    return lines[0]


def test_review_out_is_checked_before_the_first_call(
    home: Home, tmp_path: Path, scripted_kind: dict[str, scripted.Script]
) -> None:
    scripted_kind["m"] = scripted.Script()
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    line = _refused_before_any_call(["--out", str(a_file)], scripted_kind)
    assert "not a folder" in line and str(a_file) in line
    _refused_before_any_call(["--out", str(a_file / "below")], scripted_kind)
    blocked = tmp_path / "records"
    blocked.mkdir()
    (blocked / TODAY.isoformat()).write_text("a file where today's folder goes")
    line = _refused_before_any_call(["--out", str(blocked)], scripted_kind)
    assert TODAY.isoformat() in line
    assert a_file.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_review_out_in_a_read_only_folder_is_refused_before_the_first_call(
    home: Home, tmp_path: Path, scripted_kind: dict[str, scripted.Script]
) -> None:
    scripted_kind["m"] = scripted.Script()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        line = _refused_before_any_call(["--out", str(locked)], scripted_kind)
        assert "cannot write records" in line
    finally:
        locked.chmod(0o700)
