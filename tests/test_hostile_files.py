"""Nasty files into every reader: a clear one-line error or a skip report, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.config import Config
from panel.errors import PanelError
from panel.inputs.catalog import Catalog
from panel.inputs.votes import parse as parse_votes
from panel.paths import Home
from panel.records.io import read_record, write_record
from panel.records.store import Store
from panel.slugs import RESERVED, is_slug, slugify
from tests.support.clock import TODAY

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "records"
NASTY: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "nul-bytes": lambda: b"tool,ship\x00,skip\n\x00\x00",
    "utf-16": lambda: "tool,ship,skip\nalpha-tool,1,2\n".encode("utf-16"),
    "latin-1": lambda: 'name = "caf\xe9"\n'.encode("latin-1"),
    "truncated-json": lambda: DATA.joinpath("v4.json").read_bytes()[:500],
    "nested-arrays": lambda: b"[" * 100_000,
    "nested-objects": lambda: b'{"a":' * 50_000,
    "nested-toml": lambda: b"a = " + b"[" * 5_000 + b"]" * 5_000,
    "duplicate-json-keys": lambda: b'{"name": "a", "name": "b", "description": "d"}\n',
    "duplicate-toml-keys": lambda: b'name = "a"\nname = "b"\n',
    "binary": lambda: bytes(range(256)) * 64,
    "50mb-line": lambda: b"a" * (50 * 1024 * 1024),
}


def _check_error(result_output: str, stderr: str, code: int) -> None:
    assert code == 2, result_output
    assert "Traceback" not in result_output
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("panel: error: "), stderr


@pytest.mark.parametrize("kind", sorted(NASTY))
def test_every_reader_gives_a_clear_error(home: Home, tmp_path: Path, kind: str) -> None:
    data = NASTY[kind]()
    catalog_before = {p.name: p.read_bytes() for p in home.catalog.iterdir()}
    store = Store.open(home.runs)
    store.set_votes([("alpha-tool", 3, 1)], "before")
    store.close()
    bad = tmp_path / f"bad-{kind}"
    bad.write_bytes(data)
    for args in (["tools", "import", str(bad)], ["votes", "import", str(bad)], ["show", str(bad)]):
        result = runner.invoke(app, args)
        if args[0] == "tools" and result.exit_code == 0:  # a lenient CSV/feed read: skip report
            assert "skipped" in result.stdout or "no tools" in result.stdout, result.stdout
            continue
        _check_error(result.output, result.stderr, result.exit_code)
    # panel.toml and a catalog entry broken the same way
    shutil.copy(bad, home.config_file)
    _check_error(*_run_review())
    home.config_file.write_text("[panel]\nhead_to_head = false\n")
    (home.catalog / "alpha-tool.toml").write_bytes(data)
    _check_error(*_run_review())
    (home.catalog / "alpha-tool.toml").write_bytes(catalog_before["alpha-tool.toml"])
    # nothing already written changed
    assert {p.name: p.read_bytes() for p in home.catalog.iterdir()} == catalog_before
    store = Store.open(home.runs)
    assert store.votes() == {"alpha-tool": (3, 1)}
    store.close()


def _run_review() -> tuple[str, str, int]:
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "-p", "scripted/m"])
    return result.output, result.stderr, result.exit_code


def test_records_on_disk_with_duplicate_keys_or_future_dates(home: Home, tmp_path: Path) -> None:
    record = json.loads(DATA.joinpath("v4.json").read_text())
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps(record)[:-1] + ', "id": "other"}')
    with pytest.raises(PanelError, match="duplicate key 'id'"):
        read_record(dup)
    future = tmp_path / "future.json"
    future.write_text(json.dumps({**record, "created_at": "2999-01-01T00:00:00Z"}))
    with pytest.raises(PanelError, match="is in the future"):
        read_record(future)
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    with pytest.raises(PanelError, match="not a regular file"):
        read_record(folder)


def test_a_tool_launching_in_the_future_is_refused(home: Home, tmp_path: Path) -> None:
    later = (TODAY + timedelta(days=30)).isoformat()
    line = json.dumps({"name": "Time Traveller", "description": "d", "launched": later})
    path = tmp_path / "tools.jsonl"
    path.write_text(line + "\n")
    result = runner.invoke(app, ["tools", "import", str(path)])
    _check_error(result.output, result.stderr, result.exit_code)
    assert "in the future" in result.stderr
    tomorrow = (TODAY + timedelta(days=1)).isoformat()  # time zones: one day of slack
    path.write_text(json.dumps({"name": "Launch Day", "description": "d", "launched": tomorrow}))
    assert runner.invoke(app, ["tools", "import", str(path)]).exit_code == 0


def test_vote_csv_with_a_huge_field_is_an_error_not_a_crash(home: Home, tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_bytes(b'tool,ship,skip\n"' + b"x" * 200_000 + b'",1,2\n')
    with pytest.raises(PanelError, match=r"votes.csv:\d+: not valid CSV"):
        parse_votes(path, Catalog.load(home.catalog))


def test_panel_toml_that_is_a_folder_or_huge(home: Home) -> None:
    home.config_file.unlink()
    home.config_file.mkdir()
    with pytest.raises(PanelError, match="not a regular file"):
        Config.load(home.config_file)
    home.config_file.rmdir()
    home.config_file.write_bytes(b"#" * (2 * 1024 * 1024))
    with pytest.raises(PanelError, match="over the 1,048,576-byte limit"):
        Config.load(home.config_file)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("/etc/passwd", "etc-passwd"),
        ("C:\\Windows\\System32", "c-windows-system32"),
        ("con", "con-tool"),
        ("LPT1", "lpt1-tool"),
        ("Nul", "nul-tool"),
        ("\u0430pple", "pple"),  # Cyrillic a: dropped, never mistaken for Latin a
        ("\uff33\uff4d\uff4f\uff4c", "smol"),  # fullwidth letters fold to ASCII
        ("Cafe\u0301 Tool", "cafe-tool"),  # combining accent
        ("...", ""),
        ("x" * 500, "x" * 64),
    ],
)
def test_slugs_are_normalised(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert slug == "" or is_slug(slug)
    assert all(not is_slug(r) for r in RESERVED)


def test_hostile_tool_names_stay_inside_catalog_and_runs(home: Home, tmp_path: Path) -> None:
    path = tmp_path / "tools.jsonl"
    path.write_text(json.dumps({"name": "../../../evil", "description": "d"}) + "\n")
    result = runner.invoke(app, ["tools", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert (home.catalog / "evil.toml").is_file()
    outside = [p for p in tmp_path.rglob("*evil*") if not p.is_relative_to(home.catalog)]
    assert outside == []
    written = write_record(
        home.runs,
        date(2026, 11, 24),
        "evil-vs-alpha-tool",
        lambda rid: read_record(DATA / "v4.json").model_copy(update={"id": rid}),
    )
    assert written.resolve().is_relative_to(home.runs.resolve())
    os.remove(written)
