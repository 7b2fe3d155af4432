"""Issue 25, item 8: verdict calls and head-to-head calls are counted apart, everywhere.

The desk header said "32 calls: 8 valid, 24 failed" while the approve refusal said "5 of 16
verdicts valid"; the CLI printed "4 of 8 verdicts valid, 4 recused" beside "16 calls: 4 valid,
12 recused". Every surface now says which calls it counts, and the numbers agree.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.paths import Home
from panel.records.editorial import approve
from panel.records.io import read_record
from panel.scoring.aggregate import tally_by_kind
from tests.support.desk import A, B, client, save_rich

runner = CliRunner()


def _rid(path: Path) -> str:
    return path.relative_to(path.parent.parent).with_suffix("").as_posix()


def _flat(text: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split())


def test_every_surface_counts_verdict_and_head_to_head_calls_apart(home: Home) -> None:
    path = save_rich(home.runs, A, B, fail=lambda c: c.persona in ("dx", "business"))
    record = read_record(path)
    verdicts = [c for c in record.calls if c.kind == "verdict"]
    valid = sum(1 for c in verdicts if c.ok)
    line = tally_by_kind(record.calls)
    assert line.startswith(f"{len(verdicts)} verdict calls: {valid} valid, ")
    assert "; 16 head-to-head calls: " in line
    shown = " ".join(runner.invoke(app, ["show", _rid(path)]).stdout.split())
    assert line in shown
    assert line in runner.invoke(app, ["show", _rid(path), "--format", "markdown"]).stdout
    desk = client(home)
    assert line in _flat(desk.get(f"/records/{_rid(path)}").text)
    assert f"{valid} of {len(verdicts)} verdict calls valid" in _flat(desk.get("/").text)
    with pytest.raises(PanelError) as refused:
        approve(home.runs, path, "gina")
    assert f"{valid} of {len(verdicts)} verdicts valid" in str(refused.value)


def test_a_record_without_head_to_head_counts_its_verdict_calls() -> None:
    assert tally_by_kind([]) == "0 verdict calls: 0 valid, 0 failed, 0 recused"
