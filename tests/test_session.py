"""One way to build a run (issue 17 item 3): ``RunSession`` and the store as a context manager.

The session owns the retry policy, the judge's re-ask budget, the budget, the runner, the
store and the provider clients; review, nightly and rerun all build their runs with it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from panel.errors import PanelError
from panel.jobs.review import plan_review, review
from panel.paths import Home
from panel.pipeline.calls import Call
from panel.pipeline.pricing import Rate
from panel.pipeline.session import RunSession
from panel.providers.base import Limits, Provider
from panel.records.schema import CallResult
from panel.records.store import Store
from tests.support import scripted

PANEL = Path(__file__).resolve().parent.parent / "panel"


def plan(session: RunSession, *providers: str) -> list[Call]:
    home = session.home
    return plan_review(
        home, "alpha-tool", "beta-tool", list(providers), ["dx"], clients=session.clients
    ).calls


def test_the_store_closes_at_the_end_of_a_with_block(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.set_votes([("a", 2, 1)], "t")
    with pytest.raises(sqlite3.ProgrammingError):
        store.votes()  # closed
    with pytest.raises(RuntimeError), Store.open(tmp_path) as again:
        raise RuntimeError("boom")
    with pytest.raises(sqlite3.ProgrammingError):
        again.votes()  # closed however the block ended
    with Store.open(tmp_path) as third:
        assert third.votes() == {"a": (2, 1)}


def test_the_runner_is_built_from_panel_toml(home: Home) -> None:
    home.config_file.write_text(
        "[panel]\nretry_attempts = 3\nmax_retry_after = 5\nmax_reasks = 1\nmax_cost = 2.5\n"
    )
    with RunSession(home, max_calls=7) as session:
        runner = session.runner
        assert (runner.policy.attempts, runner.policy.retry_after_cap) == (3, 5)
        assert runner.judge.max_reasks == 1
        assert (runner.budget.cap, runner.budget.max_calls) == (2.5, 7)
        assert runner.store is session.store and not runner.fresh
        assert session.runner is runner  # one runner per session
    with RunSession(home, max_cost=0.5, fresh=True) as session:  # --max-cost wins
        assert session.runner.budget.cap == 0.5 and session.runner.fresh


def test_the_session_runs_review_and_closes_its_providers_and_store(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    seen: list[str] = []

    def progress(call: Call, result: CallResult) -> None:
        seen.append(result.tool)

    with RunSession(home, progress=progress) as session:
        planned = plan_review(
            home, "alpha-tool", "beta-tool", ["scripted/m"], ["dx"], clients=session.clients
        )
        opened = list(session.clients.values())
        record, path = review(session, planned, home.runs)
        store = session.store
        assert all(p.closed for p in opened)  # type: ignore[attr-defined]  # closed by the run
    assert sorted(seen) == ["alpha-tool", "beta-tool"]
    assert record.totals.valid == 2 and path.is_file()
    with pytest.raises(sqlite3.ProgrammingError):
        store.states()
    with Store.open(home.runs) as reopened:
        assert reopened.states() == {"done": 2}


def test_providers_that_never_ran_are_closed_with_the_session(
    home: Home, scripted_kind: dict[str, scripted.Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning fails on the second provider: the first one's client is closed all the same."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    opened: list[Provider] = []
    with pytest.raises(PanelError, match="OPENAI_API_KEY"), RunSession(home) as session:
        try:
            plan(session, "scripted/m", "openai/gpt-4o-mini")
        finally:
            opened = list(session.clients.values())
    assert [p.spec for p in opened] == ["scripted/m"]
    assert opened[0].closed  # type: ignore[attr-defined]


async def test_async_with_keeps_providers_open_until_the_session_ends(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    """From inside a running event loop (the editor's desk), several runs share the clients."""
    async with RunSession(home) as session:
        calls = plan(session, "scripted/m")
        first = await session.runner.run(calls)
        provider = session.clients["scripted/m"]
        second = await session.runner.run(calls)
        assert not provider.closed  # type: ignore[attr-defined]
    assert provider.closed  # type: ignore[attr-defined]
    assert [r.cached for r in first] == [False, False]
    assert [r.cached for r in second] == [True, True]  # the session's store answered


def test_one_session_runs_twice_on_two_event_loops(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    """A provider's slot (a semaphore) belongs to one loop: the next run gets a new one."""
    with RunSession(home, fresh=True) as session:
        for _ in range(2):
            calls = plan(session, "scripted/m")
            calls[0].provider.limits = Limits(max_in_flight=1)  # type: ignore[misc]
            results = session.run(session.runner.run(calls))
            assert [r.ok for r in results] == [True, True]
    assert len(scripted_kind["m"].requests) == 4


def test_max_cost_needs_every_price_and_refuses_an_estimate_over_the_cap(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    with RunSession(home) as session:  # no cap: nothing to check
        calls = plan(session, "scripted/m")
        assert calls[0].rate is None
        session.check_estimate(calls)
    with RunSession(home, max_cost=1.0) as session:
        calls = plan(session, "scripted/m")
        with pytest.raises(PanelError, match=r"--max-cost needs prices.*scripted/m"):
            session.require_prices(calls)
        priced = [Call(c.persona, c.tool, c.provider, c.rendered, Rate(1e6, 1e6)) for c in calls]
        session.require_prices(priced)  # the nightly's check: prices known is enough
        with pytest.raises(PanelError, match=r"estimated cost \$[\d.]+ exceeds --max-cost \$1"):
            session.check_estimate(priced)  # the review's: one send of each must fit
        session.check_estimate([Call(c.persona, c.tool, c.provider, c.rendered) for c in calls])


def test_a_run_is_built_in_one_place() -> None:
    """Runner, RetryPolicy, Budget and a store's close are written out in the session only."""
    allowed = {"pipeline/session.py", "pipeline/runner.py", "records/store.py"}
    found = []
    pattern = re.compile(r"\b(Runner|RetryPolicy|Budget)\(|\bstore\.close\(\)|\.aclose\(\) for")
    for path in sorted(PANEL.rglob("*.py")):
        name = path.relative_to(PANEL).as_posix()
        if name not in allowed:
            found += [f"{name}: {m.group(0)}" for m in pattern.finditer(path.read_text())]
    assert found == []


def test_review_nightly_and_rerun_run_in_a_session(
    home: Home, scripted_kind: dict[str, scripted.Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from panel.cli import app
    from panel.pipeline import session as module

    sessions: list[RunSession] = []
    real_exit = module.RunSession.__exit__

    def spy(self: RunSession, *exc: object) -> None:
        sessions.append(self)
        real_exit(self, *exc)  # type: ignore[arg-type]

    monkeypatch.setattr(module.RunSession, "__exit__", spy)
    cli = CliRunner()
    args = ["review", "alpha-tool", "beta-tool", "-p", "scripted/m", "--persona", "dx", "--json"]
    first = cli.invoke(app, args)
    assert first.exit_code == 0, first.output
    record = json.loads(first.stdout)["id"]
    assert cli.invoke(app, ["rerun", record]).exit_code == 0
    nightly = cli.invoke(app, ["nightly", "-p", "scripted/m", "--max-cost", "1"])
    assert "needs prices" in nightly.output  # the session's check, before any call
    assert [s.fresh for s in sessions] == [False, True, False]
    assert sessions[2].max_cost == 1
    assert all(not s.clients for s in sessions)  # every provider closed
