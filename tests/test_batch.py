"""`panel nightly --batch` against a loopback fake of OpenAI's and Mistral's Batch APIs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from tests.support.catalog import make_catalog
from tests.support.fake_batch import FakeBatch, batch_toml
from tests.support.fake_llm import Behavior

runner = CliRunner()
TOOLS = {
    "new-agent": ("Coding agents", "2026-11-23", ["old-agent"]),
    "new-runtime": ("Local inference runtimes", "2026-11-23", []),
    "old-agent": ("Coding agents", "2026-01-10", []),
    "old-runtime": ("Local inference runtimes", "2025-06-01", []),
}
CALLS = 16  # 2 comparisons x 2 tools x 4 fixture personas


@pytest.fixture
def server() -> Iterator[FakeBatch]:
    with FakeBatch(steps=1) as fake:
        yield fake


@pytest.fixture
def night(home: Home, server: FakeBatch) -> Home:
    make_catalog(home, TOOLS)
    home.config_file.write_text(batch_toml(server))
    return home


def nightly(*args: str) -> tuple[int, dict[str, Any], str]:
    result = runner.invoke(app, ["nightly", "--since", "2026-11-20", *args])
    try:
        summary = json.loads(result.stdout)
    except json.JSONDecodeError:
        summary = {}
    return result.exit_code, summary, result.stderr


def records(home: Home) -> list[str]:
    return sorted(p.name for p in home.runs.glob("2*/*.json"))


def test_a_night_entirely_through_batches(night: Home, server: FakeBatch) -> None:
    code, summary, err = nightly()
    assert code == 0, err
    assert summary["waiting"] == 2 and summary["batch_lines"] == CALLS
    assert server.count() == 0 and server.created() == 1  # zero synchronous calls
    assert records(night) == []
    code, summary, err = nightly()
    assert code == 0, err
    assert summary["done"] == 2 and summary["waiting"] == 0 and summary["batches_open"] == 0
    assert server.count() == 0 and server.created() == 1 and len(server.lines) == CALLS
    assert len(records(night)) == 2
    assert summary["cost_usd"] == pytest.approx(summary["sync_usd"] / 2) or summary["cost_usd"] == 0


def test_collecting_runs_update_the_nights_summary(night: Home, server: FakeBatch) -> None:
    """Issue 25, item 13: hourly collection wrote `<date>.10.json` after ten runs and ~50
    lines of JSON to cron.log each, the one-line summary not last."""
    log = night.runs / "nightly" / "cron.log"
    code, _, err = nightly("--log", str(log))
    assert code == 0 and err == ""
    folder = night.runs / "nightly"
    (path,) = folder.glob("2*.json")
    assert json.loads(path.read_text())["waiting"] == 2
    for _ in range(3):  # the hourly collector: the first one collects, the others find nothing
        code, _, err = nightly("--log", str(log))
        assert code == 0 and err == ""
    assert list(folder.glob("2*.json")) == [path]  # one summary for the night
    summary = json.loads(path.read_text())
    assert (summary["done"], summary["waiting"], summary["runs"]) == (2, 0, 4)
    assert summary["batch_lines"] == CALLS and summary["batches_open"] == 0
    assert [c["status"] for c in summary["comparisons"]] == ["complete", "complete"]
    lines = log.read_text().splitlines()
    assert not any(line.startswith(("{", "}", " ")) for line in lines)  # no JSON in the log
    summaries = [n for n, line in enumerate(lines) if "; summary " in line]
    runs = [n for n, line in enumerate(lines) if " panel nightly: panel " in line]
    assert len(summaries) == len(runs) == 4
    assert [n + 1 for n in summaries] == [*runs[1:], len(lines)]  # each run ends on it
    text = log.read_text()  # issue 25, item 12: a state the provider names alike is said once
    assert " on fake completed" in text and "completed (completed)" not in text
    assert f"submitted to fake: {CALLS} lines" in text


PRICES = '\n[prices."openai/m"]\ninput = 1.0\noutput = 2.0\n'


def test_batch_prices_and_what_the_night_would_have_cost_synchronously(
    night: Home, server: FakeBatch
) -> None:
    night.config_file.write_text(batch_toml(server) + PRICES)
    code, summary, err = nightly("--wait", "30s")  # submit, poll, collect in one run
    assert code == 0, err
    assert summary["done"] == 2 and summary["waiting"] == 0
    per_call = (100 * 1.0 + 50 * 2.0) / 1_000_000  # the fake's usage at list price
    assert summary["sync_usd"] == pytest.approx(CALLS * per_call)
    assert summary["spent_usd"] == pytest.approx(CALLS * per_call / 2)  # 50% by default
    record = json.loads(next(night.runs.glob("2*/*.json")).read_text())
    assert [c["cost_usd"] for c in record["calls"]] == [pytest.approx(per_call / 2)] * 8


def test_batch_discount_is_overridable_per_provider(night: Home, server: FakeBatch) -> None:
    toml = batch_toml(server).replace("batch = true", "batch = true\nbatch_discount = 0.25")
    night.config_file.write_text(toml + PRICES)
    code, summary, _ = nightly("--wait", "30s")
    assert code == 0 and summary["spent_usd"] == pytest.approx(summary["sync_usd"] / 4)


def test_status_moves_over_time_under_wait(night: Home, server: FakeBatch) -> None:
    server.steps = 3  # validating -> in_progress -> finalizing -> completed
    code, summary, err = nightly("--wait", "1m")
    assert code == 0, err
    assert summary["done"] == 2
    polls = [c for c in server.calls if c[0] == "GET" and c[1].startswith("/v1/batches/")]
    assert len(polls) >= 3


def test_wait_duration_is_checked(night: Home) -> None:
    code, _, err = nightly("--wait", "soon")
    assert code == 2 and "90s, 30m, 2h" in err


def test_mixed_panel_one_batch_provider_one_not(night: Home, server: FakeBatch) -> None:
    toml = batch_toml(server).replace('providers = ["fake"]', 'providers = ["fake", "plain"]')
    toml += f"""
[providers.plain]
kind = "openai"
model = "p"
base_url = "{server.openai_url}"
api_key_env = ""
"""
    night.config_file.write_text(toml)
    code, summary, err = nightly("--batch")
    assert code == 0, err
    # "plain" is an OpenAI-compatible server that did not opt in (batch = true): synchronous
    assert server.count() == CALLS and summary["batch_lines"] == CALLS
    assert {r["model"] for r in server.requests} == {"p"}
    code, summary, err = nightly("--batch")
    assert code == 0 and summary["done"] == 2, err
    assert server.count() == CALLS and {b["model"] for b in server.lines} == {"m"}


def test_mistral_batch_jobs(night: Home, server: FakeBatch) -> None:
    night.config_file.write_text(batch_toml(server, mistral=True))
    code, summary, err = nightly()
    assert code == 0 and summary["batch_lines"] == CALLS, err
    assert ("POST", "/v1/batch/jobs") in server.calls
    code, summary, err = nightly()
    assert code == 0 and summary["done"] == 2, err
    assert server.count() == 0 and server.created() == 1


def test_line_errors_become_typed_call_failures(night: Home, server: FakeBatch) -> None:
    server.line_error = lambda body: (
        (400, "injected bad line") if "Business" in json.dumps(body["messages"])[:2000] else None
    )
    nightly()
    _code, summary, _ = nightly()
    assert summary["failures"], summary
    assert {f["reason"] for f in summary["failures"]} == {"bad_request"}
    assert all("batch line HTTP 400" in f["detail"] for f in summary["failures"])
    assert server.count() == 0  # never retried synchronously
    _, again, _ = nightly()  # the same night: a failed call is not due again
    assert server.created() == 1 and again["batch_lines"] == 0


def test_an_expired_batch_keeps_its_finished_lines_and_replans_the_rest(
    night: Home, server: FakeBatch
) -> None:
    server.outcome = "expired"
    nightly()
    code, summary, err = nightly()  # collects: half answered; the rest go into a new batch
    assert "expired" in err
    assert server.created() == 2 and summary["batch_lines"] == CALLS // 2
    server.outcome = "completed"
    code, summary, err = nightly()
    assert code == 0 and summary["waiting"] == 0, err
    assert len(records(night)) == 2
    assert len(server.lines) == CALLS  # every call answered once: no line sent twice
    assert len(set(server.line_ids())) == CALLS + CALLS // 2


def test_a_failed_batch_replans_its_calls(night: Home, server: FakeBatch) -> None:
    server.outcome = "failed"
    nightly()
    code, summary, err = nightly()
    assert "failed" in err and server.created() == 2 and summary["batch_lines"] == CALLS
    server.outcome = "completed"
    code, summary, _ = nightly()
    assert code == 0 and summary["done"] == 2


def test_upload_and_create_errors_are_retried_under_the_retry_policy(
    night: Home, server: FakeBatch
) -> None:
    server.fail = {"upload": [503], "create": [500]}
    code, _summary, err = nightly()
    assert code == 0, err
    assert server.uploads() == 2 and server.created() == 1  # one retry each, one batch


def test_an_upload_that_keeps_failing_is_sent_by_the_next_run(
    night: Home, server: FakeBatch
) -> None:
    server.fail = {"upload": [503, 503]}  # retry_attempts = 2: both attempts fail
    code, summary, err = nightly()
    assert server.created() == 0 and summary["waiting"] == 2 and "not submitted yet" in err
    code, summary, err = nightly()
    assert server.created() == 1 and summary["batch_lines"] == 0  # the journaled batch, once
    code, summary, _ = nightly()
    assert code == 0 and summary["done"] == 2
    assert len(server.line_ids()) == CALLS


def test_reasks_go_through_a_second_batch(night: Home, server: FakeBatch) -> None:
    def first_ask_invalid(body: dict[str, Any]) -> Behavior | None:
        return Behavior(invalid=True) if len(body["messages"]) == 2 else None

    server.responder = first_ask_invalid
    nightly()
    code, summary, err = nightly()  # collects: every answer invalid -> re-asks in batch 2
    assert server.created() == 2 and summary["batch_lines"] == CALLS and summary["waiting"] == 2
    code, summary, err = nightly()
    assert code == 0 and summary["done"] == 2, err
    record = json.loads(next(night.runs.glob("2*/*.json")).read_text())
    assert {(c["reasks"], c["attempts"]) for c in record["calls"]} == {(1, 2)}
    assert server.count() == 0


def test_a_third_run_submits_and_calls_nothing(night: Home, server: FakeBatch) -> None:
    nightly()
    nightly()
    before = list(server.calls)
    code, summary, _ = nightly()
    assert code == 0 and summary["planned"] == 0 and summary["batch_lines"] == 0
    assert server.calls == before and server.count() == 0


def test_batches_list_and_cancel(night: Home, server: FakeBatch) -> None:
    server.steps = 5
    nightly()
    listed = runner.invoke(app, ["batches", "list", "--json"])
    rows = json.loads(listed.stdout)
    assert [(r["provider"], r["lines"], r["state"]) for r in rows] == [("fake", CALLS, "submitted")]
    table = runner.invoke(app, ["batches", "list"]).stdout
    assert rows[0]["id"] in table and "cost so far" in table
    cancelled = runner.invoke(app, ["batches", "cancel", rows[0]["id"]])
    assert cancelled.exit_code == 0, cancelled.stderr
    _code, _summary, err = nightly()  # collects the cancelled batch, re-plans its calls
    assert "cancelled" in err and server.created() == 2
    missing = runner.invoke(app, ["batches", "cancel", "nope"])
    assert missing.exit_code == 2 and "no batch 'nope'" in missing.stderr


def _killed_at(night: Home, server: FakeBatch, step: str, seen: Callable[[], bool]) -> None:
    """Run `panel nightly` in a subprocess, kill -9 it once ``seen()``, clear the fault."""
    server.hang = {step}
    env = {**os.environ, "PANEL_HOME": str(night.root)}
    args = [sys.executable, "-m", "panel", "nightly", "--since", "2026-11-20"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not seen() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert seen(), proc.communicate(timeout=10)
    time.sleep(0.2)  # the request is in, its answer never comes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    server.hang = set()


def _finish(night: Home, server: FakeBatch) -> None:
    for _ in range(3):
        code, summary, err = nightly()
        assert code == 0, err
        if summary["waiting"] == 0 and summary["batches_open"] == 0:
            break
    assert len(records(night)) == 2
    assert server.created() == 1 and len(server.line_ids()) == CALLS  # nothing submitted twice
    assert len(server.lines) == CALLS and server.count() == 0


def test_kill_9_after_upload_then_rerun_submits_nothing_twice(
    night: Home, server: FakeBatch
) -> None:
    _killed_at(night, server, "create", lambda: ("POST", "/v1/batches") in server.calls)
    assert server.uploads() == 1 and server.created() == 0
    _finish(night, server)
    assert server.uploads() == 1  # the journaled file is used, not uploaded again


def test_kill_9_after_create_then_rerun_adopts_the_batch(night: Home, server: FakeBatch) -> None:
    _killed_at(night, server, "created", lambda: server.created() == 1)
    _finish(night, server)


def test_kill_9_during_collect_then_rerun_loses_nothing(night: Home, server: FakeBatch) -> None:
    nightly()  # submitted
    _killed_at(
        night, server, "download", lambda: any(p.endswith("/content") for _, p in server.calls)
    )
    assert records(night) == []
    _finish(night, server)


def test_max_cost_counts_batch_lines_at_batch_prices(night: Home, server: FakeBatch) -> None:
    night.config_file.write_text(batch_toml(server) + PRICES)
    dry = json.loads(runner.invoke(app, ["nightly", "--since", "2026-11-20", "--dry-run"]).stdout)
    one_line = dry["estimated_usd"] / CALLS  # upper bound per line, at the batch price
    code, summary, err = nightly("--max-cost", f"{one_line * 5.5:.8f}")
    assert code == 1, err
    assert summary["batch_lines"] == 5 and summary["calls_deferred"] == CALLS - 5
    assert "stay planned for the next run" in err
    code, summary, _ = nightly()  # no cap: the rest go into a second batch
    assert summary["batch_lines"] == CALLS - 5 and server.created() == 2


def test_the_dry_run_estimates_batched_calls_at_batch_prices(
    night: Home, server: FakeBatch
) -> None:
    night.config_file.write_text(batch_toml(server) + PRICES)
    batched = json.loads(runner.invoke(app, ["nightly", "--dry-run"]).stdout)
    night.config_file.write_text(
        batch_toml(server).replace("batch = true", "batch = false") + PRICES
    )
    listed = json.loads(runner.invoke(app, ["nightly", "--dry-run"]).stdout)
    assert batched["estimated_usd"] == pytest.approx(listed["estimated_usd"] / 2)
    assert server.count() == 0 and server.calls == []


def test_which_providers_have_a_batch_api(monkeypatch: pytest.MonkeyPatch) -> None:
    from panel.providers import registry
    from panel.providers.base import ProviderSettings

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("MISTRAL_BASE_URL", raising=False)

    def api(kind: str, **extra: Any) -> object:
        settings = ProviderSettings(name="p", kind=kind, model="m", api_key_env="", **extra)
        return registry.batch_api(registry.create(settings))

    other = {"base_url": "http://127.0.0.1:9/v1"}
    assert api("openai") is not None and api("mistral") is not None  # the vendors' own APIs
    assert api("openai", **other) is None  # an OpenAI-compatible server must opt in
    assert api("openai", batch=True, **other) is not None
    assert api("openai", batch=False) is None
    assert api("mock") is None  # kinds without a batch endpoint


def test_a_batch_answer_that_contains_the_key_is_never_stored(
    night: Home, server: FakeBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-batchsecret0123456789abcdef"
    monkeypatch.setenv("FAKE_BATCH_KEY", key)
    night.config_file.write_text(
        batch_toml(server).replace('api_key_env = ""', 'api_key_env = "FAKE_BATCH_KEY"')
    )
    server.default = Behavior(content=json.dumps({"verdict": "ship", "quote": f"key {key}"}))
    nightly()
    _code, summary, _ = nightly()
    assert {f["reason"] for f in summary["failures"]} == {"invalid_output"}
    for path in night.runs.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_a_large_night_is_split_into_batches(
    night: Home, server: FakeBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("panel.pipeline.batch_path.MAX_LINES", 5)
    code, summary, _ = nightly()
    assert summary["batch_lines"] == CALLS and server.created() == 4  # 5 + 5 + 5 + 1
    assert sorted(len(server.files[j.input_file].splitlines()) for j in server.jobs.values()) == [
        1, 5, 5, 5,
    ]  # fmt: skip
    code, summary, _ = nightly()
    assert code == 0 and len(records(night)) == 2 and len(server.lines) == CALLS


def test_wait_sends_reasks_and_collects_them_in_one_run(night: Home, server: FakeBatch) -> None:
    server.responder = lambda body: Behavior(invalid=True) if len(body["messages"]) == 2 else None
    code, summary, err = nightly("--wait", "1m")
    assert code == 0 and summary["done"] == 2, err
    assert server.created() == 2 and summary["batch_lines"] == 2 * CALLS


def test_cancelling_a_batch_never_created_replans_its_calls(night: Home, server: FakeBatch) -> None:
    server.fail = {"upload": [503, 503]}
    nightly()
    rows = json.loads(runner.invoke(app, ["batches", "list", "--json"]).stdout)
    assert [r["state"] for r in rows] == ["preparing"]
    result = runner.invoke(app, ["batches", "cancel", rows[0]["id"]])
    assert result.exit_code == 0, result.stderr
    assert json.loads(runner.invoke(app, ["batches", "list", "--json"]).stdout) == []
    everything = json.loads(runner.invoke(app, ["batches", "list", "--all", "--json"]).stdout)
    assert everything[0]["state"] == "cancelled"
    _code, summary, _ = nightly()
    assert summary["batch_lines"] == CALLS and server.created() == 1


def test_a_call_shared_by_two_pairs_is_paid_for_once(home: Home, server: FakeBatch) -> None:
    make_catalog(home, {"twin-a": ("Pairs", "2026-11-23", ["twin-b"]),
                        "twin-b": ("Pairs", "2026-11-23", ["twin-a"])})  # fmt: skip
    home.config_file.write_text(batch_toml(server) + PRICES)
    nightly()
    code, summary, err = nightly()
    assert code == 0 and summary["done"] == 2, err  # twin-a vs twin-b, and twin-b vs twin-a
    assert summary["calls_made"] == 8 and summary["calls_cached"] == 8
    per_call = (100 * 1.0 + 50 * 2.0) / 1_000_000
    assert summary["sync_usd"] == pytest.approx(8 * per_call)
    assert summary["spent_usd"] == pytest.approx(8 * per_call / 2)


def test_wait_never_resends_a_call_that_failed_tonight(night: Home, server: FakeBatch) -> None:
    def business(body: dict[str, Any]) -> bool:
        return "business" in json.dumps(body["messages"]).lower()[:3000]

    server.line_error = lambda body: (400, "bad line") if business(body) else None
    server.responder = lambda body: Behavior(invalid=True) if len(body["messages"]) == 2 else None
    nightly()
    nightly()  # business lines failed tonight; the others are re-asked in a second batch
    assert server.created() == 2
    code, summary, err = nightly("--wait", "1m")
    assert code == 1 and summary["waiting"] == 0, err  # recorded, business calls failed
    assert server.created() == 2  # the failed calls were not sent again while waiting


def test_mistral_timeout_exceeded_keeps_finished_lines(night: Home, server: FakeBatch) -> None:
    night.config_file.write_text(batch_toml(server, mistral=True))
    server.outcome = "expired"  # Mistral: TIMEOUT_EXCEEDED
    nightly()
    _, summary, err = nightly()
    assert "expired (TIMEOUT_EXCEEDED)" in err and summary["batch_lines"] == CALLS // 2
    server.outcome = "completed"
    code, summary, err = nightly()
    assert code == 0 and summary["waiting"] == 0, err
    assert len(records(night)) == 2 and len(server.lines) == CALLS


def test_an_unreadable_output_file_loses_lines_not_the_night(
    night: Home, server: FakeBatch
) -> None:
    server.garbage = True  # two junk lines first, and the last line cut short
    nightly()
    code, summary, err = nightly()
    assert code == 0, err
    assert summary["batch_lines"] == 1 and server.created() == 2  # the cut line, sent again
    server.garbage = False
    code, summary, _ = nightly()
    assert code == 0 and len(records(night)) == 2
