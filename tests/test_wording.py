"""Issue 25, item 12: wording that read wrong.

"No pick. The panel did not reach quorum … The panel did not reach quorum: …"; "(iSO week…)";
"1 lines"; "planned 1 comparisons"; "completed (completed)"; "1 failed calls due".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.publish.render.terminal import pick_line
from panel.publish.render.view import page_view
from panel.records.io import read_record
from tests.support.catalog import make_catalog
from tests.support.fake_llm import Behavior, FakeLLM, panel_toml
from tests.support.publishing import save_degraded
from tests.support.records import tool
from tests.test_batch import TOOLS
from tests.test_nightly_waste import _a_night_passes, server  # noqa: F401 (a fixture)

runner = CliRunner()
A, B = tool("alpha-tool"), tool("beta-tool")


def test_no_pick_below_quorum_says_it_once(home: Home) -> None:
    keep = lambda c: c.persona == "dx" and c.tool == A.slug  # noqa: E731
    record = read_record(save_degraded(home.runs, A, B, keep))
    view = page_view(record)
    assert not view.picked and view.quorum_note
    line = str(pick_line(view))
    assert line.count("did not reach quorum") == 1, line
    assert line.startswith("No pick. The panel did not reach quorum: ")
    md = runner.invoke(app, ["show", record.id, "--format", "markdown"]).stdout
    (headline,) = [x for x in md.splitlines() if x.startswith("**No pick")]
    assert headline == "**No pick.**"  # the quorum note follows on its own line


def test_an_acronym_in_a_usage_hint_keeps_its_capitals(home: Home) -> None:
    done = runner.invoke(app, ["digest"])
    assert done.exit_code == 2
    assert "add --week VALUE (ISO week, e.g. 2026-W48)" in done.stderr
    bad = runner.invoke(app, ["list", "--bogus"])
    assert "panel list: no such option" in bad.stderr  # ordinary words are still lowered


def _one_call_fails(body: dict[str, Any]) -> Behavior | None:
    text = json.dumps(body["messages"]).lower()
    return Behavior(status=401) if "business" in text[:3000] and "new-runtime" in text else None


def test_counts_of_one_are_singular(home: Home, server: FakeLLM) -> None:  # noqa: F811
    make_catalog(home, {k: TOOLS[k] for k in ("new-runtime", "old-runtime")})
    home.config_file.write_text(panel_toml(server))
    server.responder = _one_call_fails
    first = runner.invoke(app, ["nightly", "--since", "2026-11-20"])
    assert "panel nightly: planned 1 comparison, 8 calls (since 2026-11-20)" in first.stderr
    _a_night_passes(home)
    later = runner.invoke(app, ["nightly", "--since", "2026-11-20"])
    reasons = [c["reason"] for c in json.loads(later.stdout)["comparisons"]]
    assert reasons == ["last review was incomplete; 1 failed call due"], later.stderr


def test_votes_for_one_tool_is_singular(home: Home, tmp_path: Path) -> None:
    votes = tmp_path / "votes.csv"
    votes.write_text("tool,ship,skip\nalpha-tool,10,2\n")
    done = runner.invoke(app, ["votes", "import", str(votes)])
    assert done.stdout == f"imported votes for 1 tool from {votes}\n"
