"""`panel nightly` against a loopback server that counts every request it receives."""

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
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.inputs.catalog import Catalog, Tool
from panel.jobs.nightly import rival_for
from panel.lock import exclusive
from panel.paths import Home
from tests.support.catalog import make_catalog
from tests.support.fake_llm import Behavior, FakeLLM, panel_toml
from tests.support.local_extra import needs_local

runner = CliRunner()
TOOLS = {
    "new-agent": ("Coding agents", "2026-11-23", ["old-agent"]),
    "new-runtime": ("Local inference runtimes", "2026-11-23", []),
    "old-agent": ("Coding agents", "2026-01-10", []),
    "old-runtime": ("Local inference runtimes", "2025-06-01", []),
    "older-runtime": ("Local inference runtimes", "2024-06-01", []),
}


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def night(home: Home, server: FakeLLM) -> Home:
    make_catalog(home, TOOLS)
    home.config_file.write_text(panel_toml(server, max_in_flight=2))
    return home


def nightly(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["nightly", "--since", "2026-11-20", *args])
    return result.exit_code, result.stdout, result.stderr


def summary(*args: str) -> dict[str, Any]:
    """A nightly that must succeed, its JSON summary parsed; a failure shows its log (issue 25:
    one run under load gave an empty stdout, and json.loads hid why)."""
    code, out, err = nightly(*args)
    assert code == 0 and out.strip(), f"exit {code}; stderr:\n{err}"
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_rival_rule() -> None:
    catalog = Catalog(Path("."), {})
    for slug, (category, launched, competitors) in TOOLS.items():
        catalog.tools[slug] = Tool.model_validate(
            {"slug": slug, "name": slug, "category": category, "launched": launched,
             "competitors": competitors, "description": "d"}
        )  # fmt: skip
    assert rival_for(catalog.tools["new-agent"], catalog).slug == "old-agent"  # named competitor
    assert rival_for(catalog.tools["new-runtime"], catalog).slug == "old-runtime"  # category
    lone = Tool(slug="lone", name="Lone", category="Other", description="d")
    catalog.tools["lone"] = lone
    assert rival_for(lone, catalog).slug in ("new-agent", "new-runtime")  # most recent overall


def test_dry_run_plans_and_calls_nothing(night: Home, server: FakeLLM) -> None:
    code, out, _ = nightly("--dry-run")
    assert code == 0 and server.count() == 0
    plan = json.loads(out)
    pairs = {(c["tool"], c["rival"]) for c in plan["comparisons"]}
    assert pairs == {("new-agent", "old-agent"), ("new-runtime", "old-runtime")}
    assert plan["calls"] == 16 and plan["cached"] == 0
    assert plan["rival_rule"].startswith("a competitor the catalog entry names")
    assert not list(night.runs.glob("*/*.json"))


def test_run_then_rerun_makes_zero_calls(night: Home, server: FakeLLM) -> None:
    code, out, err = nightly()
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["planned"], summary["done"], summary["calls_made"]) == (2, 2, 16)
    assert server.count() == 16
    saved = json.loads((night.runs / "nightly" / f"{summary['date']}.json").read_text())
    assert saved["done"] == 2
    assert len(list(night.runs.glob("2*/*.json"))) == 2
    assert "panel nightly: planned 2 comparisons" in err  # no TTY: timestamped lines
    code, out, _ = nightly()
    assert code == 0 and server.count() == 16
    assert json.loads(out)["planned"] == 0


def test_re_review_on_prompt_or_catalog_change(night: Home, server: FakeLLM) -> None:
    nightly()
    template = night.prompts / "business.j2"
    template.write_text(template.read_text().replace("Review the business.", "Assess it."))
    code, out, _ = nightly()
    summary = json.loads(out)
    assert code == 0 and summary["planned"] == 2
    assert all("prompt" in c["reason"] for c in summary["comparisons"])
    assert (summary["calls_made"], summary["calls_cached"]) == (4, 12)
    assert server.count() == 20
    catalog = Catalog.load(night.catalog)
    changed = catalog.get("new-runtime").model_copy(update={"description": "Now faster."})
    catalog.save(changed)
    code, out, _ = nightly()
    summary = json.loads(out)
    assert [c["tool"] for c in summary["comparisons"]] == ["new-runtime"]
    assert "catalog entry" in summary["comparisons"][0]["reason"]
    assert summary["calls_made"] == 4  # the changed tool's own four calls; rival's are cached


def test_budget_stop_and_carry_over(night: Home, server: FakeLLM) -> None:
    code, out, err = nightly("--max-calls", "5")
    summary = json.loads(out)
    assert code == 1
    assert summary["calls_made"] == 5 and summary["calls_deferred"] == 11
    assert summary["deferred"] >= 1
    assert "stay planned for the next run" in err
    assert server.count() == 5
    code, out, _ = nightly()
    summary = json.loads(out)
    assert code == 0 and summary["calls_made"] == 11 and summary["calls_cached"] >= 5
    assert server.count() == 16  # nothing paid twice


def test_lock_refuses_a_second_run(night: Home, server: FakeLLM) -> None:
    with exclusive(night.runs / "nightly.lock", "panel nightly"):
        code, out, err = nightly()
    assert code == 75 and out == ""
    assert err.startswith("panel: error: another panel nightly is running (pid ")
    assert server.count() == 0


def test_comparison_with_no_valid_verdict_counts_as_failed(night: Home, server: FakeLLM) -> None:
    server.default = Behavior(status=401)
    code, out, err = nightly()
    summary = json.loads(out)
    assert code == 1 and summary["failed"] == 2 and summary["done"] == 0
    assert {f["reason"] for f in summary["failures"]} == {"auth"}
    assert err.count("failed new-") == 16  # each failure logged with its reason


def test_bad_since_is_a_usage_error(night: Home) -> None:
    result = runner.invoke(app, ["nightly", "--since", "yesterday"])
    assert result.exit_code == 2


def test_kill_9_then_rerun_pays_once_per_done_call(night: Home, server: FakeLLM) -> None:
    server.default = Behavior(latency=0.3)
    env = {**os.environ, "PANEL_HOME": str(night.root)}
    args = [sys.executable, "-m", "panel", "nightly", "--since", "2026-11-20"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while server.count() < 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    seen = server.count()
    for path in night.runs.rglob("*.json"):
        json.loads(path.read_text())  # every JSON file on disk is whole
    assert not list(night.runs.rglob("*.tmp"))
    rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["done"] + len(list(night.runs.glob("2*/*.json"))) >= 2
    assert len(list(night.runs.glob("2*/*.json"))) == 2
    bodies = [json.dumps(r["messages"], sort_keys=True) for r in server.requests]
    assert len(set(bodies)) == 16
    assert server.count() - 16 <= 2  # at most the calls in flight at the kill (max_in_flight)
    assert server.count() >= seen


PRICES = '\n[prices."openai/m"]\ninput = 1.0\noutput = 2.0\n'


def test_every_run_that_sends_keeps_its_own_summary(night: Home, server: FakeLLM) -> None:
    """Issue 16, item 12: a second nightly on the same day must not erase the first's summary.
    Issue 25, item 13: a run that sends nothing updates the night's summary, no new file."""
    code, out, err = nightly()
    first = json.loads(out)
    folder = night.runs / "nightly"
    first_path = folder / f"{first['date']}.json"
    assert code == 0 and f"summary {first_path}" in err and first["calls_made"] == 16
    code, out, err = nightly()  # nothing to do: the night's summary is updated
    assert json.loads(out)["planned"] == 0 and f"summary {first_path}" in err
    assert sorted(p.name for p in folder.iterdir()) == [f"{first['date']}.json"]
    night_summary = json.loads(first_path.read_text())
    assert night_summary["calls_made"] == 16 and night_summary["runs"] == 2
    assert night_summary["done"] == first["done"] and night_summary["comparisons"]
    template = night.prompts / "business.j2"  # a run that sends work keeps its own file
    template.write_text(template.read_text().replace("Review the business.", "Assess it."))
    code, out, err = nightly()
    second = folder / f"{first['date']}.2.json"
    assert json.loads(out)["calls_made"] == 4 and f"summary {second}" in err
    assert json.loads(first_path.read_text())["calls_made"] == 16  # the first night's, kept
    assert json.loads(second.read_text())["calls_made"] == 4


def test_summary_splits_what_the_run_spent_from_what_its_answers_cost(
    night: Home, server: FakeLLM
) -> None:
    """Issue 16, item 14, for the nightly: cached answers cost money once, not tonight."""
    night.config_file.write_text(night.config_file.read_text() + PRICES)
    first = summary()
    assert first["calls_made"] == 16 and first["spent_usd"] == first["cost_usd"] > 0
    template = night.prompts / "business.j2"
    template.write_text(template.read_text().replace("Review the business.", "Assess it."))
    second = summary()
    assert (second["calls_made"], second["calls_cached"]) == (4, 12)
    assert 0 < second["spent_usd"] < second["cost_usd"]


def test_the_panel_is_named_in_the_dry_run_summary_and_log(night: Home, server: FakeLLM) -> None:
    """Issue 16, items 8 and 13: which models ran, and valid/failed/recused per comparison."""
    code, out, _ = nightly("--dry-run")
    plan = json.loads(out)
    assert plan["panel"]["providers"] == {"fake": "openai/m"}
    assert plan["panel"]["source"] == "panel.toml" and plan["warning"] is None
    assert plan["panel"]["personas"]["dx"] == ["fake"]
    code, out, err = nightly()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["panel"]["providers"] == {"fake": "openai/m"}
    assert "panel nightly: panel fake = openai/m (panel.toml); personas dx, competitive" in err
    assert "(8 verdict calls: 8 valid, 0 failed, 0 recused)" in err
    done = summary["comparisons"][0]
    assert (done["calls"], done["valid"], done["failed"], done["recused"]) == (8, 8, 0, 0)


@needs_local
def test_refuses_the_embedded_default_unless_asked(night: Home, server: FakeLLM) -> None:
    """Issue 16, item 13: no panel.toml panel means the embedded model; say so and stop."""
    night.config_file.write_text("[panel]\nhead_to_head = false\n")
    code, out, err = nightly()
    assert code == 2 and out == ""
    assert err.startswith("panel: error: no panel is configured") and err.count("\n") == 1
    assert "local/smollm2" in err and "--allow-embedded" in err and "--provider" in err
    assert not list(night.runs.glob("2*/*.json")) and not (night.runs / "nightly").exists()
    code, out, _ = nightly("--dry-run")  # the dry run shows it, and says what a run would do
    plan = json.loads(out)
    assert code == 0 and plan["panel"]["source"] == "built-in default"
    assert plan["panel"]["providers"] == {"local/smollm2": "local/smollm2"}
    assert "--allow-embedded" in plan["warning"]
    # Asked for explicitly, by flag or by naming it in panel.toml: it runs (nothing is due).
    later = ["nightly", "--since", "2999-01-01"]
    result = runner.invoke(app, [*later, "--allow-embedded"])
    assert result.exit_code == 0, result.output
    assert "(built-in default: the embedded model)" in result.stderr
    night.config_file.write_text('[panel]\nproviders = ["local/smollm2"]\n')
    assert runner.invoke(app, later).exit_code == 0
    assert server.count() == 0


def test_the_summary_names_seats_under_the_valid_share_threshold(
    night: Home, server: FakeLLM
) -> None:
    """Issue 30: a seat whose calls fail shows up in the summary and the log."""
    toml = night.config_file.read_text().replace("[panel]\n", "[panel]\nseat_min_calls = 1\n", 1)
    night.config_file.write_text(toml)
    server.default = Behavior(invalid=True)  # every answer fails validation
    code, out, err = nightly()
    seats = json.loads(out)["seats"]
    assert code == 1 and seats and all("under seat_min_valid_share 80%" in s for s in seats)
    assert seats[0].startswith("seat fake as ") and " calls valid (0%)" in seats[0]
    assert seats[0] in err  # logged too
    server.default = Behavior()
    night.config_file.write_text(toml.replace("seat_min_calls = 1\n", "seat_min_calls = 1000\n"))
    assert json.loads(nightly()[1])["seats"] == []  # too few calls to judge a seat


@pytest.mark.parametrize(
    ("sent", "code", "said"),
    [
        (signal.SIGTERM, 143, "panel: stopped by SIGTERM; nothing partial was written"),
        (signal.SIGINT, 130, "panel: interrupted; nothing partial was written"),
    ],
)
def test_sigterm_stops_a_nightly_like_ctrl_c(
    night: Home, server: FakeLLM, sent: signal.Signals, code: int, said: str
) -> None:
    """systemd's stop: the run is marked interrupted, nothing stays in flight, exit 143."""
    server.default = Behavior(hang=True)  # every call is in flight when the signal comes
    env = {**os.environ, "PANEL_HOME": str(night.root)}
    args = [sys.executable, "-m", "panel", "nightly", "--since", "2026-11-20"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while server.count() < 2 and time.monotonic() < deadline:  # max_in_flight = 2
        time.sleep(0.05)
    assert server.count() == 2
    proc.send_signal(sent)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    lines = err.strip().splitlines()
    assert lines[-1] == said
    assert "panel nightly: interrupted: run nightly-" in lines[-2]
    assert "Traceback" not in err and out == ""
    with sqlite3.connect(night.runs / "panel.db") as db:
        runs = db.execute("SELECT status FROM runs").fetchall()
        states = dict(db.execute("SELECT state, COUNT(*) FROM calls GROUP BY state").fetchall())
    assert runs == [("interrupted",)]
    assert "in_flight" not in states and states.get("planned") == 16
    assert not list(night.runs.glob("2*/*.json"))  # no partial record


def test_a_review_during_a_nightly_waits_for_its_calls_instead_of_sending_them_again(
    night: Home, server: FakeLLM
) -> None:
    """The review shares a pair with the night: every body reaches the server once."""
    server.default = Behavior(latency=0.25)
    env = {**os.environ, "PANEL_HOME": str(night.root)}
    nightly_args = [sys.executable, "-m", "panel", "nightly", "--since", "2026-11-20"]
    review_args = [sys.executable, "-m", "panel", "review", "new-agent", "old-agent"]
    night_run = subprocess.Popen(
        nightly_args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while server.count() < 1 and time.monotonic() < deadline:  # the night is sending
        time.sleep(0.02)
    review = subprocess.run(
        review_args, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    _, err = night_run.communicate(timeout=120)
    assert night_run.returncode == 0, err
    assert review.returncode == 0, review.stderr
    bodies = [json.dumps(r["messages"], sort_keys=True) for r in server.requests]
    assert len(set(bodies)) == 16  # the night's 16 calls; the review's 8 are among them
    assert len(bodies) == 16  # and none was sent twice
    assert len(list(night.runs.glob("2*/new-agent-vs-old-agent*.json"))) == 2  # both recorded
