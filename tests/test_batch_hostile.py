"""A hostile Batch API server (issue 31 items 1, 5-8): lost answers, huge files, wrong shapes,
stuck batches, lost and duplicated lines. Each test fails on the code before its fix."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.pipeline import batch_files
from tests.support.clock import TickingClock
from tests.support.fake_batch import FakeBatch, batch_toml
from tests.test_batch import CALLS, nightly, records
from tests.test_batch import night as night  # the batch tests' night and fake server
from tests.test_batch import server as server

runner = CliRunner()


def batches(everything: bool = False) -> list[dict[str, Any]]:
    args = ["batches", "list", "--json"] + (["--all"] if everything else [])
    rows: list[dict[str, Any]] = json.loads(runner.invoke(app, args).stdout)
    return rows


def finish(night: Home) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for _ in range(3):
        code, summary, err = nightly()
        assert code == 0, err
        if summary["waiting"] == 0 and summary["batches_open"] == 0:
            break
    assert len(records(night)) == 2
    return summary


# -- 1. a lost create answer ---------------------------------------------------------------


@pytest.mark.parametrize("answer", [502, "drop"])
@pytest.mark.parametrize("mistral", [False, True], ids=["openai", "mistral"])
def test_a_lost_create_answer_submits_the_batch_once(
    night: Home, server: FakeBatch, mistral: bool, answer: int | str
) -> None:
    night.config_file.write_text(batch_toml(server, mistral=mistral))
    server.lose = {"create": [answer]}  # created at the provider; the answer never arrives
    code, summary, err = nightly()
    assert code == 0, err
    assert server.created() == 1, "the create was retried without looking the batch up"
    assert summary["batch_lines"] == CALLS and "found it" in err
    finish(night)
    assert server.created() == 1 and len(server.lines) == CALLS  # every line sent once
    assert batches() == []  # nothing left open, nothing uncollected


# -- 5. huge output files ------------------------------------------------------------------


def _nightly_rss(night: Home) -> tuple[int, str, int]:
    """`panel nightly` in a subprocess: (exit code, stderr, its peak RSS in KiB)."""
    env = {**os.environ, "PANEL_HOME": str(night.root)}
    args = [sys.executable, "-m", "panel", "nightly", "--since", "2026-11-20"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err, usage.ru_maxrss


PAD = 160 * 1024 * 1024  # junk after the answers: 160 MiB


@pytest.mark.real_clock  # panel runs in subprocesses
def test_a_huge_output_file_is_streamed_in_bounded_memory(night: Home, server: FakeBatch) -> None:
    code, err, _ = _nightly_rss(night)  # submits
    assert code == 0, err
    server.pad_output = PAD
    code, err, padded = _nightly_rss(night)  # collects: 16 answers, then 160 MiB of junk
    assert code == 0, err
    assert "Traceback" not in err and server.downloaded >= PAD
    assert len(records(night)) == 2  # the answers were read; the junk lines were skipped
    server.pad_output = 0
    code, err, plain = _nightly_rss(night)  # the same project, nothing big to read
    assert code == 0, err
    # whole-file reading held the file and its split lines: several times PAD
    assert padded - plain < 48 * 1024, (padded, plain)


@pytest.mark.real_clock
def test_an_output_file_over_the_cap_closes_its_batch_once(night: Home, server: FakeBatch) -> None:
    night.config_file.write_text(batch_toml(server, extra="batch_max_file_mb = 20"))
    code, err, _ = _nightly_rss(night)
    assert code == 0, err
    server.pad_output = PAD
    code, err, rss = _nightly_rss(night)
    assert code == 0 and "Traceback" not in err, err
    assert "over the 20 MB cap" in err and "closed here" in err
    assert rss < 400 * 1024, rss  # well under the file: never read whole
    assert batches() != [] and batches()[0]["id"] != ""  # a new batch: the calls re-planned
    closed = [b for b in batches(everything=True) if b["state"] == "failed"]
    assert len(closed) == 1 and "cap" in closed[0]["detail"]
    served = server.downloaded
    server.pad_output = 0
    code, err, _ = _nightly_rss(night)  # the closed batch is never downloaded again
    assert code == 0, err
    assert server.downloaded - served < 1024 * 1024
    assert len(records(night)) == 2


def test_lines_are_read_one_at_a_time_and_an_overlong_line_is_unreadable() -> None:
    data = b'{"a": 1}\n' + b"y" * 100 + b"\n" + b'{"b": 2}\n' + b"z" * 50
    assert list(batch_files.lines(io.BytesIO(data), cap=20)) == [
        b'{"a": 1}\n', b"", b'{"b": 2}\n', b"",
    ]  # fmt: skip


# -- 6. wrong-shaped status replies ---------------------------------------------------------


def _set(**fields: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda view: {**view, **fields}


OPENAI_SHAPES = {
    "errors-a-string": _set(errors="boom", status="failed"),
    "counts-a-string": _set(request_counts="many"),
    "status-a-number": _set(status=42),
    "output-a-list": _set(status="completed", output_file_id=["file-1"]),
    "not-an-object": lambda view: ["batch"],
    "negative-count": _set(request_counts={"total": -5, "completed": 0, "failed": 0}),
}
MISTRAL_SHAPES = {
    "errors-a-string": _set(errors="boom", status="FAILED"),
    "total-a-string": _set(total_requests="x"),
    "no-fields": lambda view: {},
}


@pytest.mark.parametrize(
    ("mistral", "shape"),
    [(False, name) for name in OPENAI_SHAPES] + [(True, name) for name in MISTRAL_SHAPES],
)
def test_a_wrong_shaped_status_is_a_typed_failure_never_a_crash(
    night: Home, server: FakeBatch, mistral: bool, shape: str
) -> None:
    night.config_file.write_text(batch_toml(server, mistral=mistral))
    nightly()
    server.reshape = (MISTRAL_SHAPES if mistral else OPENAI_SHAPES)[shape]
    code, summary, err = nightly()
    assert summary, f"the nightly crashed: {err}"  # its summary was printed
    assert code == 0 and "Traceback" not in err and "AttributeError" not in err, err
    assert [b["state"] for b in batches()] == ["submitted"], err  # left open, tried again later
    server.reshape = None
    finish(night)
    assert server.created() == 1


def test_a_reply_no_client_anticipated_never_stops_the_synchronous_work(
    night: Home, server: FakeBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = batch_toml(server).replace('providers = ["fake"]', 'providers = ["fake", "plain"]')
    toml += f"""
[providers.plain]
kind = "openai"
model = "p"
base_url = "{server.openai_url}"
api_key_env = ""
"""
    nightly()  # fake's calls in a batch
    night.config_file.write_text(toml)  # a second seat, answered synchronously

    async def surprise(self: object, batch_id: str) -> None:
        raise AttributeError("'str' object has no attribute 'data'")  # the old failure

    monkeypatch.setattr("panel.providers.openai_batch.OpenAIBatch.status", surprise)
    code, summary, err = nightly()
    assert summary and code == 0, err
    assert "unreadable reply (AttributeError); it stays open" in err
    assert server.count() == CALLS  # the synchronous seat's calls were made after collect
    assert [b["state"] for b in batches()] == ["submitted"]


# -- 7. stuck batches -----------------------------------------------------------------------


@pytest.mark.parametrize("word", [None, "paused"])
def test_a_stuck_batch_is_expired_here_and_its_calls_replanned(
    night: Home, server: FakeBatch, wall_clock: TickingClock, word: str | None
) -> None:
    server.steps = 10**9  # in_progress for ever
    if word is not None:
        server.reshape = _set(status=word)
    nightly()
    code, summary, err = nightly()
    assert summary["batch_lines"] == 0 and [b["state"] for b in batches()] == ["submitted"]
    if word is not None:
        assert "'paused', a status panel does not know" in err
    wall_clock.advance(timedelta(hours=29))  # 24h window + 6h margin not yet passed
    nightly()
    assert [b["state"] for b in batches()] == ["submitted"]
    wall_clock.advance(timedelta(hours=2))
    code, summary, err = nightly()
    assert code == 0, err
    assert "warning: batch" in err and "expired here" in err
    assert f"{CALLS} lines go back to planned" in err
    assert summary["batch_lines"] == CALLS and server.created() == 2  # re-planned, sent again
    expired = [b for b in batches(everything=True) if b["state"] == "expired"]
    assert len(expired) == 1 and "expired here" in expired[0]["detail"]
    assert ("POST", f"/v1/batches/{expired[0]['provider_batch']}/cancel") in server.calls


def test_cancel_answered_404_is_one_line_and_close_ends_it_here(
    night: Home, server: FakeBatch
) -> None:
    server.steps = 10**9
    nightly()
    ident = batches()[0]["id"]
    server.fail = {"cancel": [404]}
    result = runner.invoke(app, ["batches", "cancel", ident])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "HTTP 404" in result.stderr and f"panel batches close {ident}" in result.stderr
    closed = runner.invoke(app, ["batches", "close", ident])
    assert closed.exit_code == 0, closed.stderr
    assert f"{CALLS} calls go back to planned" in closed.stdout
    assert batches() == [] and batches(everything=True)[0]["state"] == "cancelled"
    again = runner.invoke(app, ["batches", "close", ident])
    assert again.exit_code == 2 and "already cancelled" in again.stderr
    _code, summary, _ = nightly()
    assert summary["batch_lines"] == CALLS and server.created() == 2


# -- 8. lost and duplicated lines ------------------------------------------------------------


def _business(body: dict[str, Any]) -> bool:
    return "business" in json.dumps(body["messages"]).lower()[:3000]


def test_a_line_that_never_comes_back_is_sent_at_most_batch_resends_times(
    night: Home, server: FakeBatch, wall_clock: TickingClock
) -> None:
    server.drop_line = _business
    code, summary, err = nightly("--wait", "20s")
    lost = [b for b in server.lines if _business(b)]
    distinct = {json.dumps(b, sort_keys=True) for b in lost}
    assert distinct and len(lost) == 3 * len(distinct), len(lost)  # batch_resends = 3
    assert summary["waiting"] == 0 and code == 1, err
    assert all("without a result 3 times" in f["detail"] for f in summary["failures"])
    assert len(summary["failures"]) == len(distinct)
    sent = len(server.lines)
    nightly()  # the same night: not sent again
    assert len(server.lines) == sent
    wall_clock.advance(timedelta(days=1))  # the next night: retry_nights decides, not the cap
    code, summary, err = nightly("--wait", "20s")
    assert len(server.lines) == sent + 3 * len(distinct), err


def test_a_duplicated_custom_id_an_answer_wins_over_an_error(
    night: Home, server: FakeBatch
) -> None:
    server.duplicate = True  # each answered line, then an error line with its custom_id
    nightly()
    code, summary, err = nightly()
    assert code == 0 and summary["failures"] == [], err
    assert summary["done"] == 2


def test_foreign_lines_never_make_counts_negative(night: Home, server: FakeBatch) -> None:
    server.outcome = "expired"  # half the lines answered

    def foreign(view: dict[str, Any]) -> dict[str, Any]:
        output = view.get("output_file_id")
        if output:
            answered = json.loads(server.files[output].splitlines()[0])  # a valid answer
            rows = [{**answered, "custom_id": f"pb-someone-else-{n}"} for n in range(72)]
            server.files[output] += "".join(json.dumps(r) + "\n" for r in rows).encode()
            view["output_file_id"] = output
            server.reshape = None
        return view

    nightly()
    server.reshape = foreign
    _code, _summary, err = nightly()
    assert not re.search(r"-\d+ lines", err), err
    assert f"{CALLS // 2} lines without a result go back to planned" in err
