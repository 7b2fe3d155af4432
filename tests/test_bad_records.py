"""One bad file in runs/ never breaks the rest: it is skipped with a one-line warning naming it.

Issue 20 item 4. The bad files: a schema-valid record whose scores lack one of its tools
(a KeyError in `site build` and `show` before), a FIFO named *.json (hung every reader),
symlinks to /dev/zero (read until memory ran out) and to /etc/passwd (not a record), and a
copy of a good record under another name (its id no longer names it). The commands run
in a subprocess so that a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel import clock
from panel.cli import app
from panel.errors import PanelError
from panel.paths import Home
from panel.records.editorial import approve
from panel.records.io import dump, iter_records, read_record
from tests.support.clock import WEEK
from tests.support.records import make_record, save_record, tool

runner = CliRunner()
A, B, C, D = tool("alpha-tool"), tool("beta-tool"), tool("gamma-tool"), tool("delta-tool")
HANG_GUARD = 120  # seconds; a command that hangs fails the test instead of stalling it


def _missing_score(home: Home, day: str) -> Path:
    """Schema-valid, approved, but scores.tools has no entry for its second tool."""
    record = make_record(C, D, record_id=f"{day}/gamma-tool-vs-delta-tool", status="approved")
    data = json.loads(dump(record))
    data["scores"]["tools"] = [s for s in data["scores"]["tools"] if s["tool"] != "delta-tool"]
    path = home.runs / day / "gamma-tool-vs-delta-tool.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def _bad_runs(home: Home) -> tuple[Path, list[Path]]:
    now = clock.now().replace(microsecond=0)
    good = save_record(home.runs, A, B, created=now)
    approve(home.runs, good, "ed")
    day = good.parent
    fifo = day / "fifo-vs-pipe.json"
    os.mkfifo(fifo)
    zero = day / "zero-vs-zero.json"
    zero.symlink_to("/dev/zero")
    passwd = day / "passwd-vs-shadow.json"
    passwd.symlink_to("/etc/passwd")
    copied = day / "alpha-tool-vs-beta-tool.7.json"
    copied.write_bytes(good.read_bytes())
    bad = [_missing_score(home, day.name), fifo, zero, passwd, copied]
    return good, bad


def _panel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panel", *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def _warned_once_each(proc: subprocess.CompletedProcess[str], bad: list[Path]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    warnings = [line for line in lines if line.startswith("panel: warning: skipped")]
    for path in bad:
        named = [line for line in warnings if path.name in line]
        assert len(named) == 1, (path.name, warnings)
    assert len(warnings) == len(bad), warnings


def test_every_reader_of_runs_skips_bad_files_and_reads_the_rest(
    home: Home, tmp_path: Path
) -> None:
    good, bad = _bad_runs(home)
    good_id = read_record(good).id
    (home.root / "panel.toml").write_text('[site]\nbase_url = "https://v.example/"\n')

    listed = _panel("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)] == [good_id]
    _warned_once_each(listed, bad)

    site = tmp_path / "site"
    built = _panel("site", "build", "--out", str(site))
    assert built.returncode == 0, built.stdout + built.stderr
    assert (site / "compare" / "alpha-tool-vs-beta-tool.html").is_file()
    assert not (site / "compare" / "gamma-tool-vs-delta-tool.html").exists()
    _warned_once_each(built, bad)

    week = WEEK  # the week of the approval above, on the suite's clock
    digest = _panel("digest", "--week", week, "--out", str(tmp_path / "digest"))
    assert "error" not in digest.stderr, digest.stderr
    _warned_once_each(digest, bad)

    calibrated = _panel("calibrate", "--json")
    assert calibrated.returncode == 0, calibrated.stderr
    _warned_once_each(calibrated, bad)
    assert all(p.exists() or p.is_symlink() for p in bad)  # skipped, never touched


def test_show_of_an_inconsistent_record_is_one_line_not_a_key_error(home: Home) -> None:
    path = _missing_score(home, "2026-11-24")
    result = runner.invoke(app, ["show", "2026-11-24/gamma-tool-vs-delta-tool"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("panel: error: "), result.stderr
    assert "inconsistent record" in lines[0] and "delta-tool" in lines[0]
    assert path.is_file()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d["scores"]["tools"].pop(), "scores.tools has 0 scores for tool 'beta-tool'"),
        (lambda d: d["scores"]["tools"].append(d["scores"]["tools"][0]), "has 2 scores"),
        (lambda d: d["scores"]["pick"].update(tool="omega"), "scores.pick names 'omega'"),
        (lambda d: d["calls"][0].update(tool="omega"), "call is about 'omega'"),
        (
            lambda d: d["scores"]["split"][0]["majority"].update(omega="ship"),
            "names tool 'omega'",
        ),
        (lambda d: d.update(id="../../elsewhere/victim"), "is not a record id"),
        (lambda d: d.update(id="/etc/passwd"), "is not a record id"),
    ],
)
def test_inconsistent_records_are_refused_at_load(
    tmp_path: Path, damage: object, message: str
) -> None:
    data = json.loads(dump(make_record(A, B, record_id="2026-11-24/alpha-tool-vs-beta-tool")))
    damage(data)  # type: ignore[operator]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PanelError, match="inconsistent record") as caught:
        read_record(path)
    assert message in str(caught.value)


def test_the_iterator_reports_each_skip_to_its_caller(home: Home) -> None:
    good, bad = _bad_runs(home)
    warnings: list[str] = []
    found = [record.id for _, record in iter_records(home.runs, warnings.append)]
    assert found == [read_record(good).id]
    assert len(warnings) == len(bad)
    assert all(w.startswith("skipped ") and "\n" not in w for w in warnings)
