"""Record ids name exactly one record, in runs/, and never lead out of it.

Issue 16 item 4 (a record written with --out shared its id with one in runs/, and
`approve <id>` approved the wrong one) and issue 20 item 8 (`..` ids rewrote files
outside runs/, reserved device names as slugs, a 300-character id and week 9999-W52
ended in tracebacks).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.inputs.catalog import tool_from_data
from panel.paths import Home
from panel.publish.digest import Week
from panel.records.ids import MAX_ID, is_record_id, resolve, resolve_in_runs
from panel.records.io import read_record
from panel.slugs import is_reserved, is_slug
from tests.support.records import save_record, tool

runner = CliRunner()
A, B = tool("alpha-tool"), tool("beta-tool")


def _one_line_error(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("panel: error: "), stderr
    return str(lines[0])


def _review(*args: str) -> dict[str, object]:
    result = runner.invoke(
        app, ["review", "alpha-tool", "beta-tool", "-p", "scripted/m", "--json", *args]
    )
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_a_record_written_with_out_never_shares_an_id_with_runs(
    home: Home, tmp_path: Path, scripted_kind: object
) -> None:
    in_runs = _review()
    elsewhere = tmp_path / "elsewhere"
    outside = _review("--out", str(elsewhere))
    assert in_runs["id"] != outside["id"]
    assert outside["id"] == f"out:{in_runs['id']}"
    (written,) = elsewhere.rglob("*.json")
    runs_file = home.runs / f"{in_runs['id']}.json"
    runs_before, outside_before = runs_file.read_bytes(), written.read_bytes()

    # The --out record's id names no record in runs/: a clear error, nothing approved.
    line = _one_line_error(runner.invoke(app, ["approve", str(outside["id"]), "--by", "ed"]))
    assert "outside" in line and "path" in line
    # Its path is refused by commands that change records: they work on runs/ only.
    line = _one_line_error(runner.invoke(app, ["approve", str(written), "--by", "ed"]))
    assert "not a record in" in line
    assert runs_file.read_bytes() == runs_before and written.read_bytes() == outside_before
    # Read-only commands take its path.
    shown = runner.invoke(app, ["show", str(written), "--markdown"])
    assert shown.exit_code == 0, shown.output
    # The id in runs/ still names the record in runs/, and only that one.
    assert runner.invoke(app, ["approve", str(in_runs["id"]), "--by", "ed"]).exit_code == 0
    assert read_record(runs_file).editorial.status == "approved"
    assert read_record(written).editorial.status == "draft"


def test_out_pointing_at_runs_is_runs(home: Home, scripted_kind: object) -> None:
    data = _review("--out", str(home.runs))
    assert not str(data["id"]).startswith("out:")


def test_an_id_is_looked_up_in_runs_only_never_beside_the_current_folder(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_record(home.runs, A, B)
    rid = read_record(path).id
    decoy = tmp_path / "cwd" / f"{rid}.json"
    decoy.parent.mkdir(parents=True)
    decoy.write_bytes(path.read_bytes())
    monkeypatch.chdir(tmp_path / "cwd")
    assert resolve(home.runs, rid) == home.runs / f"{rid}.json"
    assert resolve(home.runs, f"{rid}.json") == Path(f"{rid}.json")  # a path is a path


def test_dot_dot_ids_cannot_reach_outside_runs(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attack: a valid record outside runs/, addressed relative to runs/.
    path = save_record(home.runs, A, B)
    victim = home.runs.parent.parent / "elsewhere" / "victim.json"
    victim.parent.mkdir(parents=True)
    victim.write_bytes(path.read_bytes())
    victim.chmod(0o640)
    before = victim.read_bytes()
    for ref in ("../../elsewhere/victim", "../../elsewhere/victim.json"):
        for command in (["approve", ref], ["reject", ref, "--reason", "x"]):
            _one_line_error(runner.invoke(app, command))
    # Even when the relative path does lead to the file from the current folder.
    monkeypatch.chdir(home.runs)
    line = _one_line_error(runner.invoke(app, ["approve", "../../elsewhere/victim.json"]))
    assert "not a record in" in line
    assert victim.read_bytes() == before
    assert stat.S_IMODE(victim.stat().st_mode) == 0o640
    # A symlink in runs/ to it is no way round.
    link = home.runs / "2026-11-24" / "link-vs-victim.json"
    link.symlink_to(victim)
    _one_line_error(runner.invoke(app, ["approve", "2026-11-24/link-vs-victim"]))
    assert victim.read_bytes() == before
    with pytest.raises(PanelError, match="not a record in"):
        resolve_in_runs(home.runs, str(victim))


@pytest.mark.parametrize(
    "ref",
    [
        "2026-11-24/" + "a" * 290,  # id-shaped but too long: "File name too long" before
        "x" * 300,
        "a/" * 150,
        "2026-11-24/alpha-tool-vs-beta-tool\x00.json",
    ],
)
def test_long_or_strange_references_are_one_line_errors(home: Home, ref: str) -> None:
    save_record(home.runs, A, B)  # runs/2026-11-24 exists: the long name itself is looked up
    for command in (["show", ref], ["approve", ref], ["rerun", ref]):
        line = _one_line_error(runner.invoke(app, command))
        assert len(line) < 500


def test_id_grammar() -> None:
    assert is_record_id("2026-11-24/alpha-tool-vs-beta-tool")
    assert is_record_id("2026-11-24/alpha-tool-vs-beta-tool.12")
    for bad in (
        "../../elsewhere/victim",
        "/etc/passwd",
        "2026-11-24/../x",
        "2026-11-24/a/b",
        "out:2026-11-24/a-vs-b",
        "2026-11-24/A-vs-B",
        "2026-11-24/" + "a" * MAX_ID,
    ):
        assert not is_record_id(bad), bad


@pytest.mark.parametrize(
    "name", ["con", "nul", "com1", "lpt9", "CON", "Nul", "con.txt", "NUL.tar.gz", "lpt9 .json"]
)
def test_reserved_device_names_are_refused_in_any_case_with_any_extension(name: str) -> None:
    assert is_reserved(name)
    assert not is_slug(name)


@pytest.mark.parametrize("slug", ["con", "nul", "com1", "lpt9", "aux", "prn"])
def test_reserved_device_names_are_refused_as_explicit_slugs(slug: str) -> None:
    with pytest.raises(PanelError, match="reserves"):
        tool_from_data({"slug": slug, "name": "Console", "description": "d"}, "tools.jsonl:1")
    with pytest.raises(PanelError, match="reserves"):
        tool_from_data({"name": "X", "description": "d", "competitors": [slug]}, "tools.jsonl:1")
    # derived from a name, a reserved word becomes a usable slug
    assert tool_from_data({"name": slug.upper(), "description": "d"}, "w").slug == f"{slug}-tool"


def test_a_catalog_entry_with_a_reserved_slug_is_refused(home: Home) -> None:
    (home.catalog / "con.toml").write_text('slug = "con"\nname = "Con"\ndescription = "d"\n')
    line = _one_line_error(runner.invoke(app, ["tools", "list"]))
    assert "con" in line and "reserves" in line


def test_not_a_real_week_is_one_line(home: Home) -> None:
    with pytest.raises(PanelError, match="9999-W52"):
        Week.parse("9999-W52")
    line = _one_line_error(runner.invoke(app, ["digest", "--week", "9999-W52"]))
    assert "9999-W52" in line
    assert Week.parse("9999-W51").label == "9999-W51"


def test_editorial_writes_stay_in_runs_even_through_the_library(home: Home, tmp_path: Path) -> None:
    from panel.records.editorial import approve

    path = save_record(home.runs, A, B)
    outside = tmp_path / "copy.json"
    outside.write_bytes(path.read_bytes())
    with pytest.raises(PanelError, match="not a record in"):
        approve(home.runs, outside, "ed")
    assert outside.read_bytes() == path.read_bytes()
    assert os.path.samefile(resolve_in_runs(home.runs, str(path)), path)
