"""Nights that waste nothing (issue 15 item 5): pairing, record spam, the retry cap."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.inputs.catalog import Catalog, Tool
from panel.paths import Home
from tests.support.catalog import make_catalog
from tests.support.fake_llm import Behavior, FakeLLM, panel_toml, schema_from_request, valid_answer
from tests.test_batch import TOOLS

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def nightly(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["nightly", "--since", "2026-11-20", *args])
    assert result.exit_code in (0, 1), result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def records(home: Home) -> list[str]:
    return sorted(p.name for p in home.runs.glob("2*/*.json"))


LLM_APIS = {
    "gemini-2-0-flash": ("LLM APIs", "2026-11-23", []),
    "gpt-4o-mini": ("LLM APIs", "2026-07-18", []),
}
OPENAI_SEAT = '\nvendor = "OpenAI"\n'


def test_a_rival_no_seat_may_review_is_never_paired(home: Home, server: FakeLLM) -> None:
    """An OpenAI-only panel is recused from GPT-4o mini: pair with a rival it may review."""
    make_catalog(
        home,
        {**LLM_APIS, "claude-3-haiku": ("LLM APIs", "2024-03-13", [])},
        gpt_4o_mini="OpenAI",
        claude_3_haiku="Anthropic",
        gemini_2_0_flash="Google",
    )
    home.config_file.write_text(panel_toml(server) + OPENAI_SEAT)
    summary = nightly()
    assert [(c["tool"], c["rival"]) for c in summary["comparisons"]] == [
        ("gemini-2-0-flash", "claude-3-haiku")
    ]
    assert summary["comparisons"][0]["status"] == "complete"


def test_no_reviewable_rival_skips_with_the_reason(home: Home, server: FakeLLM) -> None:
    make_catalog(home, LLM_APIS, gpt_4o_mini="OpenAI", gemini_2_0_flash="Google")
    home.config_file.write_text(panel_toml(server) + OPENAI_SEAT)
    summary = nightly()
    assert summary["planned"] == 0 and server.count() == 0
    assert summary["skipped"] == [
        {"tool": "gemini-2-0-flash", "reason": summary["skipped"][0]["reason"]}
    ]
    assert "recused" in summary["skipped"][0]["reason"]


def _business_fails(body: dict[str, Any]) -> Behavior | None:
    text = json.dumps(body["messages"])
    return Behavior(status=401) if "business" in text.lower()[:3000] else None


def _a_night_passes(home: Home) -> None:
    """Move every failure one night back, as if the next nightly ran tomorrow."""
    with sqlite3.connect(home.runs / "panel.db") as db:
        if "failed_on" in {row[1] for row in db.execute("PRAGMA table_info(calls)")}:
            db.execute("UPDATE calls SET failed_on = '2000-01-01' WHERE failed_on IS NOT NULL")


@pytest.fixture
def failing(home: Home, server: FakeLLM) -> Home:
    make_catalog(home, {k: TOOLS[k] for k in ("new-runtime", "old-runtime")})
    home.config_file.write_text(panel_toml(server))
    server.responder = _business_fails
    return home


def test_a_night_with_nothing_new_writes_no_record(failing: Home, server: FakeLLM) -> None:
    first = nightly()
    assert first["incomplete"] == 1 and len(records(failing)) == 1
    sent = server.count()
    again = nightly()  # the same night: the failed calls are not due again
    assert again["planned"] == 0 and server.count() == sent
    assert len(records(failing)) == 1
    _a_night_passes(failing)
    later = nightly()  # a later night: retried, failed again, same answers
    assert later["planned"] == 1 and server.count() > sent
    assert later["unchanged"] == 1 and later["comparisons"][0]["status"] == "unchanged"
    assert len(records(failing)) == 1


def test_a_failed_call_is_retried_on_at_most_retry_nights_nights(
    failing: Home, server: FakeLLM
) -> None:
    """retry_nights defaults to 3: the third failing night gives up, the fourth sends nothing."""
    nightly()
    _a_night_passes(failing)
    assert nightly()["given_up"] == []
    _a_night_passes(failing)
    third = nightly()
    assert len(third["given_up"]) == 2  # business on both tools
    assert {g["nights"] for g in third["given_up"]} == {3}
    assert {g["reason"] for g in third["given_up"]} == {"auth"}
    assert all("401" in g["detail"] for g in third["given_up"])
    sent = server.count()
    _a_night_passes(failing)
    fourth = nightly()
    assert server.count() == sent and fourth["planned"] == 0  # never sent again


def test_retry_nights_is_a_setting(failing: Home, server: FakeLLM) -> None:
    failing.config_file.write_text(
        panel_toml(server).replace("[panel]\n", "[panel]\nretry_nights = 1\n")
    )
    first = nightly()
    assert {g["nights"] for g in first["given_up"]} == {1} and len(first["given_up"]) == 2


def test_a_re_review_whose_scores_change_is_recorded(failing: Home, server: FakeLLM) -> None:
    assert nightly()["incomplete"] == 1
    _a_night_passes(failing)
    failing.config_file.write_text(
        panel_toml(server).replace("[panel]\n", '[panel]\nquorum = "any-verdict"\n')
    )
    later = nightly()  # same answers, but the quorum rule makes the pair complete
    assert later["unchanged"] == 0 and later["done"] == 1
    assert len(records(failing)) == 2


def _business_withheld(body: dict[str, Any]) -> Behavior | None:
    """The business persona's verdicts quote one word over and over: withheld, every time."""
    text = json.dumps(body["messages"])
    if "business" not in text.lower()[:3000]:
        return None
    answer = valid_answer(schema_from_request(body), "ship", 4)
    if "quote" not in answer or "verdict" not in answer:
        return None
    answer["quote"] = " ".join(["great"] * 30)
    return Behavior(content=json.dumps(answer))


def test_a_withheld_answer_is_retried_then_given_up(home: Home, server: FakeLLM) -> None:
    """Issue 25 item 2: a withheld answer is a failure for retry purposes (retry_nights 3)."""
    make_catalog(home, {k: TOOLS[k] for k in ("new-runtime", "old-runtime")})
    home.config_file.write_text(panel_toml(server))
    server.responder = _business_withheld
    first = nightly()
    assert first["planned"] == 1 and len(records(home)) == 1
    sent = server.count()
    assert nightly()["planned"] == 0 and server.count() == sent  # once a night
    _a_night_passes(home)
    second = nightly()  # asked again, not served the withheld answer from the cache
    assert second["planned"] == 1 and server.count() > sent
    assert second["given_up"] == []
    _a_night_passes(home)
    third = nightly()
    assert len(third["given_up"]) == 2  # business on both tools
    assert {(g["reason"], g["nights"]) for g in third["given_up"]} == {("withheld", 3)}
    assert {g["detail"] for g in third["given_up"]} == {"repetitive-quote"}
    sent = server.count()
    _a_night_passes(home)
    fourth = nightly()  # given up: never planned again
    assert fourth["planned"] == 0 and server.count() == sent


def test_a_tool_imported_after_a_nightly_is_reviewed(home: Home, server: FakeLLM) -> None:
    """Issue 25 item 3: launched before the last nightly, imported after it: reviewed."""
    make_catalog(home, {k: TOOLS[k] for k in ("new-runtime", "old-runtime")})
    home.config_file.write_text(panel_toml(server))
    first = runner.invoke(app, ["nightly", "--since", "2026-11-24"])  # nothing launched since
    assert first.exit_code == 0 and json.loads(first.stdout)["planned"] == 0
    Catalog.load(home.catalog).save(
        Tool.model_validate(
            {"slug": "late-agent", "name": "Late Agent", "category": "Local inference runtimes",
             "launched": "2026-10-01", "vendor": "Late Inc", "description": "Late does things."}
        )
    )  # fmt: skip
    again = runner.invoke(app, ["nightly", "--since", "2026-11-24"])
    summary = json.loads(again.stdout)
    assert [c["tool"] for c in summary["comparisons"]] == ["late-agent"]
    assert "added to the catalog" in summary["comparisons"][0]["reason"]
    assert summary["done"] == 1
    third = json.loads(runner.invoke(app, ["nightly", "--since", "2026-11-24"]).stdout)
    assert third["planned"] == 0  # reviewed: no longer new
