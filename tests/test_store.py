"""The store: journal, cache, index; and `panel review` reusing answers it already paid for."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.paths import Home
from panel.records.io import read_record
from panel.records.schema import CallResult
from panel.records.store import MIGRATIONS, Store
from tests.support.fake_llm import Behavior, FakeLLM, panel_toml

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def configured(home: Home, server: FakeLLM) -> Home:
    home.config_file.write_text(panel_toml(server, max_in_flight=1))
    return home


def review(*extra: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json", *extra])
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}


def result(key: str, ok: bool = True) -> CallResult:
    return CallResult.model_validate(
        {"key": key, "persona": "dx", "tool": "a", "provider": "p", "model": "m",
         "status": "ok" if ok else "failed", "verdict": "ship" if ok else None,
         "failure": None if ok else {"reason": "timeout", "detail": "slow"}}
    )  # fmt: skip


def test_journal_states_and_cache_only_successes(tmp_path: Path) -> None:
    store = Store(tmp_path / "panel.db")
    store.plan([("k1", "p", "m", "dx", "a"), ("k2", "p", "m", "dx", "b")], "run-1")
    assert store.states() == {"planned": 2}
    store.start("k1")
    store.start("k2")
    assert store.states() == {"in_flight": 2}
    store.finish(result("k1"))
    store.finish(result("k2", ok=False))
    assert store.states() == {"done": 1, "failed": 1}
    cached = store.cached("k1")
    assert cached is not None and cached.verdict == "ship"
    assert store.cached("k2") is None  # errors are never cached
    # Re-planning keeps done calls done and puts failed ones back in the plan.
    store.plan([("k1", "p", "m", "dx", "a"), ("k2", "p", "m", "dx", "b")], "run-2")
    assert store.states() == {"done": 1, "planned": 1}
    assert store.unfinished("run-2") == 1
    store.close()


def test_store_migrates_and_refuses_newer_or_broken_files(tmp_path: Path) -> None:
    path = tmp_path / "panel.db"
    Store(path).close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(PanelError, match="newer than this panel"):
        Store(path)
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(PanelError, match="not a usable panel store"):
        Store(broken)


def test_second_review_is_served_from_cache(configured: Home, server: FakeLLM) -> None:
    code, first = review()
    assert code == 0 and server.count() == 8
    code, second = review()
    assert code == 0 and server.count() == 8  # zero provider calls
    assert second["totals"]["cached"] == 8  # type: ignore[index]
    assert second["id"] != first["id"]
    code, fresh = review("--fresh")
    assert code == 0 and server.count() == 16
    assert fresh["totals"]["cached"] == 0  # type: ignore[index]
    store = Store.open(configured.runs)
    assert len(store.records_for("alpha-tool")) == 3
    store.close()


def test_failures_are_not_cached(configured: Home, server: FakeLLM) -> None:
    server.script(Behavior(status=500))
    code, _ = review()
    assert code == 3 and server.count() == 8
    code, second = review()
    assert code == 0 and server.count() == 9  # only the failed call is sent again
    assert second["totals"]["cached"] == 7  # type: ignore[index]


def test_cache_key_changes_with_the_prompt(configured: Home, server: FakeLLM) -> None:
    review()
    template = configured.prompts / "dx.j2"
    template.write_text(template.read_text().replace("Review it for", "Assess it for"))
    code, data = review()
    assert code == 0 and server.count() == 10  # dx for both tools, nothing else
    assert data["totals"]["cached"] == 6  # type: ignore[index]


@pytest.mark.real_clock  # panel runs in a subprocess; its record is read here
def test_kill_9_mid_review_then_rerun_pays_once_per_done_call(
    configured: Home, server: FakeLLM
) -> None:
    server.default = Behavior(latency=0.4)
    env = {**os.environ, "PANEL_HOME": str(configured.root)}
    args = [sys.executable, "-m", "panel", "review", "alpha-tool", "beta-tool", "--json"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while server.count() < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    killed_after = server.count()
    assert 4 <= killed_after < 8
    assert not list(configured.runs.glob("*/*.json"))  # no partial record
    assert not list(configured.runs.rglob("*.tmp"))
    rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert rerun.returncode == 0, rerun.stderr
    data = json.loads(rerun.stdout)
    record = read_record(configured.runs / f"{data['id']}.json")
    assert record.totals.valid == 8
    # Calls answered before the kill are served from the journal; only the one in flight
    # at the kill (never recorded as done) is sent again.
    assert server.count() == 8 + (killed_after - record.totals.cached)
    assert server.count() - 8 <= 1
    bodies = [json.dumps(r["messages"], sort_keys=True) for r in server.requests]
    assert len(set(bodies)) == 8


async def test_identical_concurrent_calls_are_sent_once(tmp_path: Path) -> None:
    from panel.inputs.catalog import Tool
    from panel.inputs.personas import load_personas
    from panel.pipeline.calls import Call
    from panel.pipeline.prompts import PromptBuilder
    from panel.pipeline.runner import Runner
    from panel.providers import registry
    from tests.support import scripted

    root = Path(__file__).resolve().parent.parent
    persona = load_personas(root / "personas", root / "prompts")["dx"]
    tool = Tool(slug="a", name="A", description="d")
    registry.KINDS["scripted"] = "tests.support.scripted"
    try:
        scripted.SCRIPTS.clear()
        provider = registry.create_spec("scripted/m")
        rendered = PromptBuilder(root / "prompts", b"k" * 32).render(persona, tool)
        calls = [Call(persona, tool, provider, rendered) for _ in range(3)]
        results = await Runner().run(calls)  # no store: in-flight sharing alone
        assert len(scripted.SCRIPTS["m"].requests) == 1
        assert [r.cached for r in results] == [False, True, True]
    finally:
        del registry.KINDS["scripted"]
        scripted.SCRIPTS.clear()


def test_a_version_1_store_gains_the_votes_table_and_keeps_its_calls(tmp_path: Path) -> None:
    path = tmp_path / "panel.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute(
        "INSERT INTO calls (key, state, provider, model, persona, tool, updated_at) "
        "VALUES ('k', 'planned', 'p', 'm', 'dx', 'a', 0)"
    )
    db.close()
    store = Store(path)
    assert store.states() == {"planned": 1}
    store.set_votes([("a", 3, 1)], "t")
    assert store.votes() == {"a": (3, 1)}
    store.close()


def test_the_store_and_its_wal_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """Issue 20 item 7: runs/panel.db holds every answer and failure detail: 0600."""
    old = os.umask(0o022)
    try:
        store = Store.open(tmp_path)
        store.finish(result("k1"))
        names = {p.name: p for p in tmp_path.iterdir()}
        assert {"panel.db", "panel.db-wal", "panel.db-shm"} <= set(names)
        for path in names.values():
            assert path.stat().st_mode & 0o777 == 0o600, path
        store.close()
        # A store made by an older panel (0644) is made private when next opened.
        legacy = tmp_path / "legacy"
        legacy.mkdir()
        sqlite3.connect(legacy / "panel.db").execute("CREATE TABLE t (x)").connection.close()
        (legacy / "panel.db").chmod(0o644)
        Store.open(legacy).close()
        assert (legacy / "panel.db").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_a_store_that_is_not_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "panel.db")
    with pytest.raises(PanelError, match="not a regular file"):
        Store.open(tmp_path)


def test_a_failed_write_leaves_nothing_half_done_and_the_store_usable(tmp_path: Path) -> None:
    """One transaction idiom (issue 29 item 4): a failing write rolls back, whatever wrote."""
    with Store(tmp_path / "panel.db", clock=lambda: 1_000.0) as store:
        bad = [("k1", "p", "m", "dx", "t"), ("k2", "p", "m", None, "t")]  # persona NOT NULL
        with pytest.raises(sqlite3.IntegrityError):
            store.plan(bad, "run-1")  # type: ignore[arg-type]
        assert not store.db.in_transaction and store.states() == {}
        store.plan([("k1", "p", "m", "dx", "t")], "run-2")  # usable again
        assert store.states() == {"planned": 1}
        with pytest.raises(RuntimeError), store.transaction():
            store.set_votes([("alpha", 1, 2)], "csv")  # joins the outer transaction
            raise RuntimeError("later step fails")
        assert store.votes() == {} and not store.db.in_transaction
