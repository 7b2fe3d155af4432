"""Issue 25, item 10: calls that will be recused are planned out, never paid for.

`panel review smolvlm-2-5 mistral-medium-3` on the default provider computed 16 calls and
then recused 12 of them. A call whose model's vendor makes a tool under review is now left
out before sending; the record still lists it, as recused and never sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.io import read_record
from tests.support.fake_llm import FakeLLM, panel_toml

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def _configure(home: Home, server: FakeLLM, extra: str = "", h2h: bool = False) -> None:
    toml = panel_toml(server) + 'vendor = "Alpha Inc"\n'  # the model's vendor makes alpha-tool
    toml = toml.replace("head_to_head = false", f"head_to_head = {str(h2h).lower()}\n{extra}")
    home.config_file.write_text(toml)


def test_a_conflicted_call_is_never_sent(home: Home, server: FakeLLM) -> None:
    _configure(home, server)
    done = runner.invoke(app, ["review", "alpha-tool", "beta-tool"])
    record = read_record(next(home.runs.glob("2*/*.json")))
    personas = len(record.panel.personas)
    assert server.count() == personas  # beta-tool's verdicts only
    assert record.totals.calls == 2 * personas and record.totals.recused == personas
    assert record.totals.valid == personas and record.totals.failed == 0
    recused = [c for c in record.calls if c.recused]
    assert {c.tool for c in recused} == {"alpha-tool"}
    assert all(c.attempts == 0 and c.cost_usd == 0.0 and c.verdict is None for c in recused)
    assert [c.tool for c in record.calls][:personas] == ["alpha-tool"] * personas  # in place
    assert done.exit_code == 3  # alpha-tool has no verdict left: below quorum, as before
    for fmt in ("terminal", "markdown", "html", "json"):
        shown = runner.invoke(app, ["show", record.id, "--format", fmt]).stdout
        assert "None" not in shown, fmt


def test_head_to_head_with_a_conflicted_seat_is_not_sent_either(
    home: Home, server: FakeLLM
) -> None:
    _configure(home, server, h2h=True)
    runner.invoke(app, ["review", "alpha-tool", "beta-tool"])
    record = read_record(next(home.runs.glob("2*/*.json")))
    personas = len(record.panel.personas)
    assert server.count() == personas  # both head-to-head orders involve alpha-tool
    h2h = [c for c in record.calls if c.kind == "head_to_head"]
    assert len(h2h) == 2 * personas and all(c.recused and c.attempts == 0 for c in h2h)


def test_under_flag_conflicted_calls_are_sent_and_counted(home: Home, server: FakeLLM) -> None:
    _configure(home, server, extra='recusal = "flag"')
    done = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    record = json.loads(done.stdout)
    assert server.count() == record["totals"]["calls"] == record["totals"]["valid"]


def test_the_readmes_first_review_example_completes(home: Home) -> None:
    """The README's first `panel review` line runs on a fresh clone and ends complete."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    first = next(line for line in readme.splitlines() if line.startswith("panel review "))
    args = first.split("#")[0].split()[1:]
    for path in (Path(__file__).resolve().parent.parent / "catalog").glob("*.toml"):
        (home.catalog / path.name).write_text(path.read_text())
    done = runner.invoke(app, args)
    assert done.exit_code == 0, (first, done.stderr)
    (path,) = home.runs.glob("2*/*.json")
    record = read_record(path)
    assert record.status == "complete" and record.totals.recused == 0
