"""The command line: exit codes, stdout/stderr discipline, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.defences.untrusted import datamark
from panel.paths import Home
from panel.providers.base import Completion, CompletionRequest, FailureReason, ProviderError
from panel.records.io import read_record
from tests.support import scripted

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_review_all_valid_exits_0_and_writes_record(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    code, out, err = run("review", "alpha-tool", "beta-tool", "--provider", "scripted/m")
    assert code == 0, err
    path = home.runs / Path(out.split("record: ")[1].split()[0]).relative_to(home.runs)
    record = read_record(path)
    assert record.status == "complete"
    assert len(record.calls) == 8 and record.totals.valid == 8
    assert [p for p in record.panel.personas] == ["dx", "competitive", "futurist", "business"]
    assert "How the pick is made" in out  # the headline answer with its rule


def test_review_json_prints_only_the_record(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    code, out, _ = run(
        "review", "alpha-tool", "beta-tool", "-p", "scripted/m", "--persona", "dx", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert next(iter(data)) == "schema_version"
    assert data["totals"]["calls"] == 2
    assert (home.runs / f"{data['id']}.json").is_file()


def test_review_with_failed_calls_exits_1_and_still_writes(
    home: Home, scripted_kind: dict[str, scripted.Script], tmp_path: Path
) -> None:
    scripted_kind["down"] = scripted.Script(default=ProviderError(FailureReason.AUTH, "401"))
    out_dir = tmp_path / "elsewhere"
    code, out, _ = run(
        "review", "alpha-tool", "beta-tool", "-p", "scripted/up", "-p", "scripted/down",
        "--persona", "dx", "--json", "--out", str(out_dir),
    )  # fmt: skip
    assert code == 1  # one provider down: the other still gives every persona a verdict
    data = json.loads(out)
    assert data["status"] == "complete"
    assert (data["totals"]["valid"], data["totals"]["failed"]) == (2, 2)
    assert {c["failure"]["reason"] for c in data["calls"] if c["status"] == "failed"} == {"auth"}
    assert list(out_dir.glob("*/*.json"))


def test_review_below_quorum_exits_3_and_marks_incomplete(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    scripted_kind["m"] = scripted.Script(default=scripted.valid())
    # dx on beta-tool stays invalid through every re-ask: beta misses quorum.
    bad = scripted.text('{"verdict": "ship"}')
    original = scripted_kind["m"].default

    def answer(request: CompletionRequest) -> Completion:
        card = request.messages[0].content  # the card follows the rules
        if datamark("Beta Tool") in card and request.schema_name == "dx_verdict":
            return bad
        assert callable(original)
        return original(request)

    scripted_kind["m"].default = answer
    code, out, _ = run("review", "alpha-tool", "beta-tool", "-p", "scripted/m", "--json")
    assert code == 3
    data = json.loads(out)
    assert data["status"] == "incomplete"
    scores = {s["tool"]: s for s in data["scores"]["tools"]}
    assert scores["alpha-tool"]["quorum_met"] is True
    assert scores["beta-tool"]["quorum_met"] is False
    assert data["scores"]["pick"]["tool"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "alpha-tool", "beta-tol"], "unknown tool 'beta-tol'; did you mean beta-tool"),
        (["review", "alpha-tool", "alpha-tool"], "compare two different tools"),
        (["review", "alpha-tool", "beta-tool", "--persona", "dxx"], "unknown persona 'dxx'"),
        (
            ["review", "alpha-tool", "beta-tool", "-p", "openal/gpt"],
            "(in 'openal/gpt'; an address is kind/model with kind one of "
            "local, mistral, mock, openai",
        ),
        (["review", "alpha-tool", "beta-tool", "-p", "nonsense"], "unknown provider 'nonsense'"),
        (["tools", "show", "alpha"], "unknown tool 'alpha'"),
        (["show", "2020-01-01/nothing"], "no record"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    home: Home, scripted_kind: dict[str, scripted.Script], args: list[str], message: str
) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("panel: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not home.runs.exists() or not list(home.runs.glob("*/*.json"))


def test_tools_commands(home: Home, tmp_path: Path) -> None:
    code, out, _ = run("tools", "list", "--json")
    assert code == 0
    assert [t["slug"] for t in json.loads(out)] == ["alpha-tool", "beta-tool"]
    code, out, _ = run("tools", "show", "beta-tool", "--json")
    assert json.loads(out)["entry_price"] == "open-source"
    feed = tmp_path / "new.jsonl"
    feed.write_text('{"name": "Gamma", "description": "g"}\n')
    code, out, _ = run("tools", "import", str(feed))
    assert code == 0 and "added   gamma" in out
    feed.write_text('{"name": "Delta"}\n')
    code, _, err = run("tools", "import", str(feed))
    assert code == 2 and "new.jsonl:1: field 'description'" in err
    assert "add 'description' (every tool needs a name and a description)" in err  # the fix
    assert not (home.catalog / "delta.toml").exists()


def test_personas_list(home: Home) -> None:
    code, out, _ = run("personas", "list", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == {"dx", "competitive", "futurist", "business", "security"}
    assert rows["security"]["default"] is False and rows["dx"]["default"] is True


def test_show_renders_terminal_and_markdown(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    scripted_kind["m"] = scripted.Script(default=scripted.valid("skip", 2))
    code, out, _ = run("review", "alpha-tool", "beta-tool", "-p", "scripted/m", "--json")
    record_id = json.loads(out)["id"]
    code, md, _ = run("show", record_id, "--markdown")
    assert code == 0
    assert md.startswith("# Alpha Tool vs Beta Tool: which one should you ship with?")
    assert "## Reviewer scorecard" in md and "### Competitive" in md
    assert md.count("**SKIP**") == 8
    assert md.count(", published)") == 8  # one published quote per persona and tool
    code, text, _ = run("show", record_id)
    assert code == 0 and "No pick. " in text and "Business" in text  # both 0%: a tie


def test_console_script_exit_code_in_a_real_process(home: Home) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "panel", "review", "alpha-tool", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("panel: error: unknown tool 'nope'")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["reject", "2026-11-24/x"],
            "panel reject: missing option '--reason'; add --reason VALUE "
            "(why; kept in the record's history)",
        ),
        (["show"], "panel show: missing argument 'record'; add RECORD (record path"),
        (["list", "--bogus"], "panel list: no such option: --bogus; see `panel list --help`"),
        (["list", "--status", "nope"], "invalid value for '--status': 'nope' is not one of"),
        (["nightly", "--since", "yesterday"], "invalid value for --since: 'yesterday' is not"),
        (["lst"], "panel: no such command 'lst'. Did you mean 'list'? see `panel --help`"),
        (["override", "x", "--persona", "dx"], "missing option '--tool'; add --tool VALUE"),
    ],
)
def test_typer_usage_errors_are_one_line_with_the_fix(
    home: Home, args: list[str], message: str
) -> None:
    """Issue 16, item 11: no multi-line usage box; exit 2 like every usage error."""
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.startswith("panel: error: ") and message in err, err
    assert err.count("\n") == 1 and "Usage:" not in err and "\u2500" not in err


def test_help_and_no_arguments_still_show_help(home: Home) -> None:
    code, out, _ = run("list", "--help")
    assert code == 0 and "Usage" in out
    result = runner.invoke(app, [])
    assert "Usage" in result.output and "panel: error" not in result.output
