from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.config import Config
from panel.editorial import approve, editor, override, publish, queue, reject
from panel.errors import PanelError
from panel.paths import Home
from panel.records import read_record
from tests.support.records import save_record, tool

runner = CliRunner()
A, B = tool("alpha-tool"), tool("beta-tool")
T1 = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def test_record_starts_as_draft_and_approval_is_in_history(home: Home) -> None:
    path = save_record(home.runs, A, B)
    assert read_record(path).editorial.status == "draft"
    approved = approve(home.runs, path, "alice", now=T1)
    assert approved.editorial.status == "approved"
    event = approved.editorial.history[-1]
    assert (event.action, event.by, event.at) == ("approved", "alice", T1)
    assert read_record(path) == approved  # written to disk


def test_llm_content_is_untouched_by_editorial_changes(home: Home) -> None:
    path = save_record(home.runs, A, B)
    before = read_record(path)
    after = override(
        home.runs, path, persona="dx", tool="alpha-tool", verdict="skip", note="n", by="e"
    )
    assert after.calls == before.calls and after.scores == before.scores


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        (["approve"], "approve", "is approved; cannot approve"),
        (["approve", "publish"], "approve", "is published; cannot approve"),
        (["reject"], "publish", "is rejected; cannot publish"),
        ([], "publish", "is draft; cannot publish"),
        (["reject"], "override", "is rejected; cannot override"),
    ],
)
def test_invalid_transitions_are_refused(
    home: Home, steps: list[str], action: str, message: str
) -> None:
    path = save_record(home.runs, A, B)
    actions = {
        "approve": lambda: approve(home.runs, path, "a"),
        "reject": lambda: reject(home.runs, path, "a", "off-topic"),
        "publish": lambda: publish(home.runs, path, T1),
        "override": lambda: override(
            home.runs, path, persona="dx", tool="alpha-tool", verdict="ship", note="x", by="a"
        ),
    }
    for step in steps:
        actions[step]()
    before = path.read_bytes()
    with pytest.raises(PanelError, match=message):
        actions[action]()
    assert path.read_bytes() == before  # nothing written on a refused change


def test_reject_needs_a_reason_and_takes_a_published_record_down(home: Home) -> None:
    path = save_record(home.runs, A, B)
    with pytest.raises(PanelError, match="the reason is empty"):
        reject(home.runs, path, "a", "  ")
    approve(home.runs, path, "a")
    publish(home.runs, path, T1)
    done = reject(home.runs, path, "bob", "quotes are wrong", now=T1)
    assert done.editorial.status == "rejected"
    assert done.editorial.history[-1].reason == "quotes are wrong"
    assert [e.action for e in done.editorial.history] == ["approved", "published", "rejected"]


def test_override_replaces_earlier_override_and_keeps_history(home: Home) -> None:
    path = save_record(home.runs, A, B)
    override(home.runs, path, persona="dx", tool="beta-tool", verdict="skip", note="one", by="a")
    done = override(
        home.runs, path, persona="dx", tool="beta-tool", verdict="ship", note="two", by="b", now=T1
    )
    current = done.editorial.override_for("dx", "beta-tool")
    assert current is not None and (current.verdict, current.note, current.by) == (
        "ship",
        "two",
        "b",
    )
    assert len(done.editorial.overrides) == 1
    assert [e.override.note for e in done.editorial.history if e.override] == ["one", "two"]


@pytest.mark.parametrize(
    ("persona", "slug", "message"),
    [("nobody", "alpha-tool", "no persona 'nobody'"), ("dx", "gamma", "no tool 'gamma'")],
)
def test_override_names_must_exist_in_the_record(
    home: Home, persona: str, slug: str, message: str
) -> None:
    path = save_record(home.runs, A, B)
    with pytest.raises(PanelError, match=message):
        override(home.runs, path, persona=persona, tool=slug, verdict="ship", note="x", by="a")


def test_editor_name_from_by_then_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "carol")
    assert editor(None) == "carol"
    assert editor("dave\u202e") == "dave"  # bidi override stripped
    with pytest.raises(PanelError, match="no editor name"):
        editor("   ")


def test_cli_flow_list_approve_override_reject(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "erin")
    save_record(home.runs, A, B)
    rid = "2026-11-24/alpha-tool-vs-beta-tool"
    listed = runner.invoke(app, ["list", "--status", "draft", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.stdout)] == [rid]
    assert runner.invoke(app, ["approve", rid]).exit_code == 0
    assert json.loads(runner.invoke(app, ["list", "--status", "draft", "--json"]).stdout) == []
    result = runner.invoke(
        app,
        [
            *("override", rid, "--persona", "dx", "--tool", "beta-tool", "--verdict", "skip"),
            *("--note", "Broken on ARM", "--by", "frank"),
        ],
    )
    assert result.exit_code == 0, result.output
    record = read_record(home.runs / f"{rid}.json")
    assert record.editorial.history[0].by == "erin"
    assert record.editorial.history[1].by == "frank"
    bad = runner.invoke(app, ["reject", rid, "--reason", ""])
    assert bad.exit_code == 2 and "the reason is empty" in bad.stderr
    assert "Traceback" not in bad.output
    missing = runner.invoke(app, ["approve", "2026-11-24/nope"])
    assert missing.exit_code == 2 and "no record" in missing.stderr


def test_queue_is_newest_first(home: Home) -> None:
    save_record(home.runs, A, B)
    save_record(home.runs, B, A, created=T1)
    assert [r.id for _, r in queue(home.runs)] == [
        "2026-11-24/beta-tool-vs-alpha-tool",
        "2026-11-24/alpha-tool-vs-beta-tool",
    ]


def test_auto_approve_config_approves_complete_records(
    home: Home, scripted_kind: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    (home.root / "panel.toml").write_text(
        '[panel]\nproviders = ["scripted/s"]\n[site]\nauto_approve = true\n'
    )
    assert Config.load(home.config_file).site.auto_approve
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    assert result.exit_code == 0, result.output
    (path,) = list(Path(home.runs).glob("*/alpha-tool-vs-beta-tool.json"))
    editorial = read_record(path).editorial
    assert editorial.status == "approved"
    assert editorial.history[0].by == "auto-approve"
