from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.config import Config
from panel.errors import PanelError
from panel.paths import Home
from panel.records.editorial import approve, editor, override, publish, queue, reject
from panel.records.io import read_record
from tests.support.publishing import save_degraded
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
        (["approve"], "approve", "already approved and is its pair's page"),
        (["approve", "publish"], "approve", "already approved and is its pair's page"),
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
    assert [r.id for _, r, _ in queue(home.runs)] == [
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


PROVIDERS = ("openai/gpt-4o-mini", "mistral/mistral-small-latest")


def _two_valid(call: object) -> bool:
    return getattr(call, "persona", "") == "dx" and getattr(call, "provider", "") == PROVIDERS[0]


def test_approving_an_incomplete_record_needs_force_and_says_why(home: Home) -> None:
    path = save_degraded(home.runs, A, B, _two_valid, providers=PROVIDERS)
    record = read_record(path)
    assert record.status == "incomplete" and record.totals.valid == 2
    before = path.read_bytes()
    with pytest.raises(PanelError) as refused:
        approve(home.runs, path, "ed")
    message = str(refused.value)
    assert "is incomplete: 2 of 16 verdicts valid" in message
    assert "quorum (a valid verdict from every reviewer) not met for alpha-tool, beta-tool" in (
        message
    )
    assert "--force" in message and "\n" not in message
    assert path.read_bytes() == before  # nothing written on a refusal
    done = approve(home.runs, path, "ed", force=True)
    assert done.editorial.status == "approved"
    reason = done.editorial.history[-1].reason or ""
    assert reason.startswith("approved with --force: the panel did not reach quorum (2 of 16")


def test_cli_approve_of_an_incomplete_record_is_one_line_then_force(home: Home) -> None:
    save_degraded(home.runs, A, B, _two_valid, providers=PROVIDERS)
    rid = "2026-11-24/alpha-tool-vs-beta-tool"
    refused = runner.invoke(app, ["approve", rid, "--by", "ed"])
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1 and "pass --force" in refused.stderr
    assert refused.stdout == ""
    forced = runner.invoke(app, ["approve", rid, "--by", "ed", "--force"])
    assert forced.exit_code == 0, forced.output
    assert f"approved {rid} with --force" in forced.stdout
    assert "did not reach quorum" in forced.stdout


def test_complete_records_need_no_force(home: Home) -> None:
    path = save_record(home.runs, A, B)
    assert approve(home.runs, path, "ed").editorial.history[-1].reason is None


def test_putting_a_superseded_record_back_takes_an_explicit_approve(home: Home) -> None:
    older = save_record(home.runs, A, B)
    newer = save_record(home.runs, A, B, created=T1)
    approve(home.runs, older, "ed", now=T1)
    publish(home.runs, older, T1)
    later = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    approve(home.runs, newer, "ed", now=later)  # supersedes the older approval
    reject(home.runs, newer, "ed", "quotes misread the pricing", now=later)
    # the older record is still "published" but is not the page any more: approving it
    # again is how it goes back up, and keeps its first publication date
    back = approve(home.runs, older, "ed", now=datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    assert back.editorial.status == "approved"
    assert publish(home.runs, older, later).editorial.published_at == T1


def test_cli_approve_and_reject_say_what_happens_to_the_page(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "erin")
    save_record(home.runs, A, B)
    save_record(home.runs, A, B, created=T1)
    old, new = "2026-11-24/alpha-tool-vs-beta-tool", "2026-11-24/alpha-tool-vs-beta-tool.2"
    first = runner.invoke(app, ["approve", old])
    assert "it is the Alpha Tool vs Beta Tool page from the next `panel site build`" in (
        first.stdout
    )
    second = runner.invoke(app, ["approve", new])
    assert second.exit_code == 0 and f"approved {new};" in second.stdout
    down = runner.invoke(app, ["reject", new, "--reason", "wrong"])
    assert down.exit_code == 0, down.output
    assert "shows no Alpha Tool vs Beta Tool page" in down.stdout
    again = runner.invoke(app, ["approve", old])
    assert again.exit_code == 0 and "it is the Alpha Tool vs Beta Tool page" in again.stdout
