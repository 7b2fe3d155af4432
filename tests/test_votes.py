from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.inputs.catalog import Catalog
from panel.inputs.votes import Votes, parse
from panel.paths import Home
from panel.records.store import Store

runner = CliRunner()


def write(tmp: Path, text: str | bytes) -> Path:
    path = tmp / "votes.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize(
    "text",
    [
        "tool,ship,skip\nalpha-tool,30,10\nbeta-tool,0,0\n",
        "\ufeffslug,ship_votes,skip_votes\r\nalpha-tool,30,10\r\nbeta-tool,0,0\r\n",
        "skip,tool,ship\n10,alpha-tool,30\n0,beta-tool,0\n",
        "alpha-tool,30,10\nbeta-tool,0,0\n\n",
    ],
)
def test_parse_accepts_header_variants(home: Home, tmp_path: Path, text: str) -> None:
    votes = parse(write(tmp_path, text), Catalog.load(home.catalog))
    assert votes == {"alpha-tool": Votes(30, 10), "beta-tool": Votes(0, 0)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tool,ship,skip\nalpha-tool,3,-1\n", r"votes.csv:2: skip votes '-1' is not a whole"),
        ("tool,ship,skip\nalpha-tool,3.5,1\n", r":2: ship votes '3.5'"),
        ("tool,ship,skip\nalpha-tool,3,1\nalpha-tool,4,1\n", r":3: alpha-tool appears twice"),
        ("tool,ship,skip\ngamma-tool,3,1\n", r":2: no tool 'gamma-tool' in the catalog"),
        ("tool,ship,skip\n../etc,3,1\n", r":2: '../etc' is not a tool slug"),
        ("tool,ship,skip\nalpha-tool,3\n", r":2: 2 columns"),
        ("tool,votes\nalpha-tool,3\n", r":1: no 'ship' column"),
        ("tool,ship,skip\n", "no vote rows"),
        ("", "empty"),
        ("tool,ship,skip\nalpha-tool,\u0663,1\n", r"ship votes"),  # Arabic-Indic digit
        ("tool,ship,skip\nalpha-tool,99999999999999,1\n", "implausibly large"),
        (b"tool,ship,skip\nalpha-tool,3,1\x00\n", "NUL bytes"),
        (b"tool,ship,skip\n\xff\xfe,3,1\n", "not UTF-8"),
    ],
)
def test_parse_rejects_bad_files_with_line_numbers(
    home: Home, tmp_path: Path, text: str | bytes, message: str
) -> None:
    with pytest.raises(PanelError, match=message):
        parse(write(tmp_path, text), Catalog.load(home.catalog))


def test_label_matches_the_seed_page() -> None:
    assert Votes(0, 0).label == "\u2014"
    assert Votes(3, 1).label == "75% ship (4 votes)"
    assert Votes(1, 0).label == "100% ship (1 vote)"
    assert Votes(1234, 0).label == "100% ship (1,234 votes)"


def test_import_is_all_or_nothing_and_replaces_counts(home: Home, tmp_path: Path) -> None:
    good = write(tmp_path, "tool,ship,skip\nalpha-tool,30,10\n")
    result = runner.invoke(app, ["votes", "import", str(good)])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("tool,ship,skip\nalpha-tool,1,1\nbeta-tool,x,1\n")
    failed = runner.invoke(app, ["votes", "import", str(bad)])
    assert failed.exit_code == 2
    assert "bad.csv:3: ship votes 'x'" in failed.stderr and "Traceback" not in failed.output
    store = Store.open(home.runs)
    try:
        assert store.votes() == {"alpha-tool": (30, 10)}  # the bad file changed nothing
    finally:
        store.close()
    again = write(tmp_path, "tool,ship,skip\nalpha-tool,5,5\n")
    assert runner.invoke(app, ["votes", "import", str(again)]).exit_code == 0
    store = Store.open(home.runs)
    try:
        assert store.votes() == {"alpha-tool": (5, 5)}
    finally:
        store.close()


def test_missing_file_is_a_one_line_error(home: Home, tmp_path: Path) -> None:
    result = runner.invoke(app, ["votes", "import", str(tmp_path / "none.csv")])
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_an_empty_first_row_is_a_clear_error(home: Home, tmp_path: Path) -> None:
    with pytest.raises(PanelError, match=r":1: the first row is empty"):
        parse(write(tmp_path, "\n"), Catalog.load(home.catalog))
