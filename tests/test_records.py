from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from panel.errors import PanelError
from panel.inputs.catalog import Tool
from panel.records.io import read_record, resolve, write_record
from panel.records.schema import (
    SCHEMA_VERSION,
    ComparisonRecord,
    PanelInfo,
    Pick,
    Provenance,
    Scores,
    ToolScore,
    Totals,
)
from panel.scoring.rules import Quorum, tool_rule

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _score(slug: str) -> ToolScore:
    return ToolScore(
        tool=slug,
        ship_pct=None,
        ships=0,
        skips=0,
        valid=0,
        failed=0,
        mean_confidence=None,
        rule=tool_rule(Quorum.EVERY_PERSONA),
    )


def record(record_id: str) -> ComparisonRecord:
    return ComparisonRecord(
        id=record_id,
        created_at=NOW,
        status="complete",
        tools=[
            Tool(slug="a", name="A", description="d"),
            Tool(slug="b", name="B", description="d"),
        ],
        panel=PanelInfo(providers=["local/smollm2"], personas=["dx"]),
        calls=[],
        scores=Scores(
            tools=[_score("a"), _score("b")],
            split=[],
            pick=Pick(tool=None, rule="r", reason="x"),
            pricing=[],
        ),
        totals=Totals(calls=0, valid=0, failed=0, attempts=0, prompt_tokens=0, completion_tokens=0),
        provenance=Provenance(
            panel_version="0",
            templates={},
            personas={},
            catalog={},
            started_at=NOW,
            finished_at=NOW,
        ),
    )


def test_same_day_runs_never_overwrite(tmp_path: Path) -> None:
    day = date(2026, 11, 24)
    first = write_record(tmp_path, day, "a-vs-b", record)
    first_bytes = first.read_bytes()
    second = write_record(tmp_path, day, "a-vs-b", record)
    third = write_record(tmp_path, day, "a-vs-b", record)
    assert first == tmp_path / "2026-11-24" / "a-vs-b.json"
    assert second.name == "a-vs-b.2.json" and third.name == "a-vs-b.3.json"
    assert first.read_bytes() == first_bytes
    assert read_record(second).id == "2026-11-24/a-vs-b.2"
    assert not list(tmp_path.rglob("*.tmp"))


def test_schema_version_comes_first(tmp_path: Path) -> None:
    path = write_record(tmp_path, date(2026, 11, 24), "a-vs-b", record)
    assert next(iter(json.loads(path.read_text()))) == "schema_version"
    assert path.read_text().startswith(f'{{\n  "schema_version": {SCHEMA_VERSION},')


def test_resolve_accepts_paths_and_ids(tmp_path: Path) -> None:
    path = write_record(tmp_path, date(2026, 11, 24), "a-vs-b", record)
    assert resolve(tmp_path, str(path)) == path
    assert resolve(tmp_path, "2026-11-24/a-vs-b") == tmp_path / "2026-11-24/a-vs-b.json"
    with pytest.raises(PanelError, match="no record 'nope'"):
        resolve(tmp_path, "nope")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a valid JSON record"),
        ("[]", "expected a JSON object"),
        ('{"id": "x"}', "no integer schema_version"),
        ('{"schema_version": 99}', "newer than this panel reads"),
        ('{"schema_version": 1, "id": "x"}', "invalid record"),
    ],
)
def test_bad_records_fail_clearly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(PanelError, match=message):
        read_record(path)
