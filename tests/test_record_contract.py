"""The record contract: `panel schema`, and stored records of every version still load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.io import dump, read_record
from panel.records.schema import SCHEMA_VERSION, ComparisonRecord

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "records"
EXAMPLES = sorted(DATA.glob("v*.json"))


def test_there_is_a_stored_example_of_every_version() -> None:
    versions = {json.loads(p.read_text())["schema_version"] for p in EXAMPLES}
    assert versions == set(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_version_loads_and_validates_against_the_schema(example: Path) -> None:
    record = read_record(example)
    assert record.schema_version == SCHEMA_VERSION
    assert record.tools[0].slug == "smolvlm-2-5" and len(record.calls) >= 8
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(dump(record)), schema)


def test_v1_records_become_unreviewed_drafts() -> None:
    record = read_record(DATA / "v1.json")
    assert record.editorial.status == "draft"
    assert record.editorial.history == [] and record.editorial.overrides == []


def test_current_version_round_trips_byte_for_byte() -> None:
    current = DATA / f"v{SCHEMA_VERSION}.json"
    assert dump(read_record(current)) == current.read_bytes()


def test_schema_rejects_a_record_missing_its_tools() -> None:
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    data = json.loads((DATA / f"v{SCHEMA_VERSION}.json").read_text())
    del data["tools"]
    with pytest.raises(jsonschema.ValidationError, match="'tools' is a required property"):
        jsonschema.validate(data, schema)


def test_old_records_are_listed_and_published_without_rewriting_them_first(
    home: Home, tmp_path: Path
) -> None:
    folder = home.runs / "2026-11-25"
    folder.mkdir(parents=True)
    shutil.copy(DATA / "v1.json", folder / "smolvlm-2-5-vs-mistral-medium-3.json")
    listed = runner.invoke(app, ["list", "--json"])
    assert json.loads(listed.stdout)[0]["editorial"] == "draft"
    row = json.loads(listed.stdout)[0]
    assert row["valid"] + row["failed"] + row["recused"] == row["calls"]
    assert (folder / "smolvlm-2-5-vs-mistral-medium-3.json").read_bytes() == (
        DATA / "v1.json"
    ).read_bytes()
    rid = "2026-11-25/smolvlm-2-5-vs-mistral-medium-3"
    assert runner.invoke(app, ["approve", rid, "--by", "ed"]).exit_code == 0
    upgraded = json.loads((folder / "smolvlm-2-5-vs-mistral-medium-3.json").read_text())
    assert upgraded["schema_version"] == SCHEMA_VERSION
    assert upgraded["editorial"]["status"] == "approved"


@pytest.mark.parametrize("version", [1, SCHEMA_VERSION - 1, SCHEMA_VERSION + 1])
def test_schema_pins_the_version(version: int) -> None:
    """A record of another version must not pass as the current one (issue 16, item 15)."""
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    data = json.loads((DATA / f"v{SCHEMA_VERSION}.json").read_text())
    jsonschema.validate(data, schema)
    data["schema_version"] = version
    with pytest.raises(jsonschema.ValidationError, match=r"was expected"):
        jsonschema.validate(data, schema)
    with pytest.raises(ValidationError):
        ComparisonRecord.model_validate(data)


def test_v4_records_get_exact_recused_counts_and_spend_from_their_calls() -> None:
    """v5 (issue 16, items 8 and 14): counts and cost split derived, not defaulted."""
    record = read_record(DATA / "v4.json")
    totals = record.totals
    assert (totals.calls, totals.valid, totals.failed, totals.recused) == (32, 20, 0, 12)
    assert totals.valid + totals.failed + totals.recused == totals.calls
    assert totals.spent_usd == totals.cost_usd  # nothing came from the cache in that run
    scores = {s.tool: (s.valid, s.failed, s.recused) for s in record.scores.tools}
    assert scores == {"smolvlm-2-5": (8, 0, 0), "mistral-medium-3": (4, 0, 4)}
    old = json.loads((DATA / "v4.json").read_text())
    assert "recused" not in old["totals"] and "spent_usd" not in old["totals"]
