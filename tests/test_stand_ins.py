"""Issue 25, item 6: mock and embedded-model records never publish without a word.

Approve, the site build and the desk used to stay silent, and the public page showed
"Models on the panel: mock/any" with quotes reading "This is a mock answer".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.paths import Home
from panel.records.editorial import approve
from panel.records.io import read_record
from panel.records.publication import stand_ins
from tests.support.desk import client, flashes, post
from tests.support.records import save_record
from tests.support.site import APPROVED_AT, BASE, A, B, C

runner = CliRunner()


def _rid(path: Path) -> str:
    return path.relative_to(path.parent.parent).with_suffix("").as_posix()


def test_approve_refuses_a_mock_or_embedded_record_unless_forced(home: Home) -> None:
    for providers in (("mock/any",), ("local/smollm2", "openai/gpt-4o-mini")):
        path = save_record(home.runs, A, B, providers=providers)
        with pytest.raises(PanelError, match="not a real review") as refused:
            approve(home.runs, path, "gina", now=APPROVED_AT)
        assert providers[0] in str(refused.value) and "--force" in str(refused.value)
        done = approve(home.runs, path, "gina", now=APPROVED_AT, force=True)
        assert done.editorial.status == "approved"
        assert f"answers from {providers[0]}" in (done.editorial.history[-1].reason or "")
    real = save_record(home.runs, A, C)
    assert stand_ins(read_record(real)) == {}
    assert approve(home.runs, real, "gina", now=APPROVED_AT).editorial.status == "approved"


def test_a_named_provider_is_known_by_the_model_version_its_answers_report(home: Home) -> None:
    path = save_record(home.runs, A, B, providers=("fake",))
    record = read_record(path)
    calls = [c.model_copy(update={"model_version": "panel-mock-1"}) for c in record.calls]
    assert stand_ins(record) == {}
    assert list(stand_ins(record.model_copy(update={"calls": calls}))) == ["fake"]
    gguf = [
        c.model_copy(update={"model_version": "SmolLM2-135M-Instruct.Q4_1.gguf"}) for c in calls
    ]
    found = stand_ins(record.model_copy(update={"calls": gguf}))  # and the embedded model
    assert list(found) == ["fake"] and "embedded test model" in found["fake"]


def test_list_marks_stand_ins_and_shows_providers(home: Home) -> None:
    mock = _rid(save_record(home.runs, A, B, providers=("mock/any",)))
    real = _rid(save_record(home.runs, A, C))
    rows = {r["id"]: r for r in json.loads(runner.invoke(app, ["list", "--json"]).stdout)}
    assert (
        rows[mock]["providers"] == ["mock/any"] and "no model was asked" in rows[mock]["stand_in"]
    )
    assert rows[real]["providers"] == ["openai/gpt-4o-mini"] and rows[real]["stand_in"] == ""
    shown = runner.invoke(app, ["show", mock]).stdout  # what an editor checks before approving
    assert "not a real review: mock/any: mock answers" in " ".join(shown.split())
    md = runner.invoke(app, ["show", mock, "--format", "markdown"]).stdout
    assert "> **Not a real review:** mock/any: mock answers" in md
    assert "Not a real review" not in runner.invoke(app, ["show", real]).stdout
    table = runner.invoke(app, ["list"]).stdout.splitlines()
    assert next(line for line in table if line.endswith(mock)).split()[2:5] == [
        "STAND-IN", "0", "mock/any"
    ]  # fmt: skip
    assert next(line for line in table if line.endswith(real)).split()[2] == "real"


def test_the_desk_marks_stand_ins_and_needs_a_confirmation(home: Home) -> None:
    path = save_record(home.runs, A, B, providers=("mock/any",))
    rid = _rid(path)
    desk = client(home)
    queue = desk.get("/").text
    assert "not a real review" in queue and "mock/any" in queue
    assert "not a real review" in desk.get("/?flag=stand-in").text
    page = desk.get(f"/records/{rid}").text
    assert "Not a real review." in page and "Approve anyway" in page
    post(desk, f"/records/{rid}/approve", {})
    (message,) = flashes(desk.get(f"/records/{rid}").text)
    assert "not a real review" in message and "tick" in message
    assert read_record(path).editorial.status == "draft"
    post(desk, f"/records/{rid}/approve", {"confirm": "yes"})
    assert read_record(path).editorial.status == "approved"


def test_the_site_build_warns_when_it_publishes_a_stand_in(home: Home) -> None:
    path = save_record(home.runs, A, B, providers=("mock/any",))
    approve(home.runs, path, "gina", now=APPROVED_AT, force=True)
    out = home.root / "site"
    built = runner.invoke(app, ["site", "build", "--out", str(out), "--base-url", BASE])
    assert built.exit_code == 0
    assert f"panel: warning: published {_rid(path)} (mock/any: mock answers" in built.stderr


def test_auto_approve_leaves_a_mock_review_to_the_editor(home: Home) -> None:
    home.config_file.write_text(home.config_file.read_text() + "[site]\nauto_approve = true\n")
    done = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--provider", "mock/any"])
    assert done.exit_code == 0, done.stderr
    (record,) = [read_record(p) for p in home.runs.glob("2*/*.json")]
    assert record.status == "complete" and record.editorial.status == "draft"
