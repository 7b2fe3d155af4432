"""Issue 17, item 6: scores say how they were computed; quorum and recusal are defined once.

Every tool score carries its rule (``scores.tools[].rule``: the ship % formula and the
quorum by id), older records get it from their quorum when read, and a record whose
scores contradict its quorum is refused. Quorum and recusal are one enum each, shared
by the config, the record schema and scoring; ship majorities are counted in one place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from panel.config import PanelSection
from panel.errors import PanelError
from panel.records.io import dump, parse_record, read_record
from panel.records.schema import Scores, Trust
from panel.scoring.aggregate import aggregate
from panel.scoring.rules import Quorum, Recusal, tool_rule
from tests.support.calls import failed, ok
from tests.support.records import tool

DATA = Path(__file__).parent / "data" / "records"
PANEL = Path(__file__).parent.parent / "panel"
A, B = tool("alpha"), tool("beta")


@pytest.mark.parametrize("quorum", list(Quorum))
def test_each_tool_score_names_its_formula_and_its_quorum(quorum: Quorum) -> None:
    calls = [ok("dx", "alpha", "ship"), ok("biz", "alpha", "skip"), failed("dx", "beta")]
    scores = aggregate([A, B], ["dx", "biz"], calls, quorum)
    for score in scores.tools:
        assert score.rule == tool_rule(quorum)
        assert score.rule.startswith("ship_pct = ship verdicts / valid verdicts x 100")
        assert f"quorum {quorum.value}: {quorum.rule}" in score.rule
    dumped = json.loads(scores.model_dump_json())
    assert dumped["tools"][0]["rule"] == tool_rule(quorum)


@pytest.mark.parametrize("quorum", ["every-persona", "any-verdict"])
def test_older_records_get_the_rule_of_their_own_quorum(quorum: str) -> None:
    data = json.loads((DATA / "v4.json").read_text())
    data["scores"]["quorum"] = quorum
    assert all("rule" not in s for s in data["scores"]["tools"])
    record = parse_record(json.dumps(data).encode(), "v4.json")
    assert [s.rule for s in record.scores.tools] == [tool_rule(Quorum(quorum))] * 2


def test_every_stored_version_reads_with_a_rule() -> None:
    for path in sorted(DATA.glob("v*.json")):
        record = read_record(path)
        assert all(s.rule == tool_rule(record.scores.quorum) for s in record.scores.tools)


def test_a_current_record_without_its_rule_is_refused() -> None:
    data = json.loads((DATA / "v5.json").read_text())
    del data["scores"]["tools"][0]["rule"]
    with pytest.raises(PanelError, match=r"field 'scores.tools.0.rule': Field required"):
        parse_record(json.dumps(data).encode(), "v5.json")


def test_a_rule_that_contradicts_the_records_quorum_is_refused() -> None:
    record = read_record(DATA / "v5.json")
    tools = [
        s.model_copy(update={"rule": tool_rule(Quorum.ANY_VERDICT)}) for s in record.scores.tools
    ]
    edited = record.model_copy(update={"scores": record.scores.model_copy(update={"tools": tools})})
    with pytest.raises(PanelError, match="not computed with the record's quorum every-persona"):
        parse_record(dump(edited), "edited.json")


def test_quorum_and_recusal_are_one_enum_each() -> None:
    fields = PanelSection.model_fields
    assert fields["quorum"].annotation is Quorum is Scores.model_fields["quorum"].annotation
    assert fields["recusal"].annotation is Recusal is Trust.model_fields["recusal"].annotation
    sources = {p: p.read_text() for p in PANEL.rglob("*.py")}
    literal = re.compile(r"""Literal\[\s*["'](recuse|flag|every-persona|any-verdict)["']""")
    assert [str(p) for p, text in sources.items() if literal.search(text)] == []
    words = re.compile(r"""["'](every-persona|any-verdict|recuse)["']""")
    assert [p.name for p, text in sources.items() if words.search(text)] == ["rules.py"]


def test_ship_majorities_are_counted_in_one_place() -> None:
    counting = re.compile(r"""majority\.get\([^)]*\)\s*==\s*["']ship["']""")
    places = [p.name for p in PANEL.rglob("*.py") for _ in counting.finditer(p.read_text())]
    assert places == ["aggregate.py"]
