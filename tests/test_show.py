"""`panel show` and the renderers behind it: what an editor checks before approving.

Issue 16, items 8 and 9: valid, failed and recused are counted apart and agree with
the panel ship % beside them; `show` and `show --markdown` carry the editorial state,
overrides, recusals, head-to-head seats and community votes; the Markdown reads as
text (``SmolVLM 2.5``, not ``SmolVLM 2\\.5``) while markup in untrusted text stays inert.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import markdown_it
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.publish.render import markdown
from panel.publish.render.base import Comparison
from panel.publish.render.terminal import verdict_table
from panel.publish.render.view import page_view
from panel.records.io import read_record
from panel.records.schema import ComparisonRecord
from panel.records.store import Store
from panel.scoring.aggregate import aggregate, totals
from tests.support.records import make_record, tool

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "records"
RID = "2026-11-25/smolvlm-2-5-vs-mistral-medium-3"
MD = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _recused_record() -> ComparisonRecord:
    """p2 is recused on alpha (it says ship); p1 says skip everywhere."""
    record = make_record(
        tool("alpha"),
        tool("beta"),
        providers=("p/one", "p/two"),
        verdict=lambda persona, slug, provider: "ship" if provider == "p/two" else "skip",
    )
    calls = [
        c.model_copy(update={"conflict": True, "recused": True})
        if c.provider == "p/two" and c.tool == "alpha"
        else c
        for c in record.calls
    ]
    scores = aggregate(record.tools, record.panel.personas, calls)
    return record.model_copy(update={"calls": calls, "scores": scores, "totals": totals(calls)})


def _column(table_cells: list[Text]) -> list[str]:
    return [cell.plain for cell in table_cells]


def test_terminal_table_ships_agree_with_the_panel_ship_beside_them() -> None:
    record = _recused_record()
    alpha = record.scores.tools[0]
    assert (alpha.ships, alpha.valid, alpha.recused, alpha.ship_pct) == (0, 4, 4, 0.0)
    table = verdict_table(page_view(record))
    cells = _column(table.columns[1]._cells)  # type: ignore[arg-type]
    persona_rows = cells[:4]
    # Before: "skip ship" in every row, 4 ships shown beside "Panel ship 0%".
    assert sum(row.split().count("ship") for row in persona_rows) == alpha.ships == 0
    assert all(row.split() == ["skip", "recused"] for row in persona_rows)
    assert cells[4] == "0% (0 of 4 valid)"  # the denominator is stated
    assert cells[5] == "4 recused"
    assert "ship verdicts / valid verdicts" in str(table.caption)


def test_show_counts_valid_failed_and_recused_apart(home: Home) -> None:
    path = home.runs / "2026-11-25"
    path.mkdir(parents=True)
    shutil.copy(DATA / "v4.json", path / "smolvlm-2-5-vs-mistral-medium-3.json")
    result = runner.invoke(app, ["show", RID])
    assert result.exit_code == 0, result.output
    assert (
        "16 verdict calls: 12 valid, 0 failed, 4 recused; 16 head-to-head calls: 8 valid, "
        "0 failed, 8 recused (conflict of interest)"
    ) in " ".join(result.stdout.split())
    assert "20/32 valid verdicts" not in result.stdout


def _editor_checked(home: Home) -> None:
    folder = home.runs / "2026-11-25"
    folder.mkdir(parents=True)
    shutil.copy(DATA / "v5.json", folder / "smolvlm-2-5-vs-mistral-medium-3.json")
    override = [
        "override", RID, "--persona", "dx", "--tool", "smolvlm-2-5", "--verdict", "skip",
        "--note", "The docs are thin [see](javascript:alert(1))", "--by", "alice",
    ]  # fmt: skip
    assert runner.invoke(app, override).exit_code == 0
    assert runner.invoke(app, ["approve", RID, "--by", "bob"]).exit_code == 0
    store = Store.open(home.runs)
    try:
        store.set_votes([("smolvlm-2-5", 12, 3)], "test")
    finally:
        store.close()


def test_show_markdown_is_the_page_plus_what_an_editor_checks(home: Home) -> None:
    _editor_checked(home)
    result = runner.invoke(app, ["show", RID, "--markdown"])
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert "**Editorial status: approved**" in md and "approved by bob" in md
    assert "**Editor's verdict: SKIP** (alice," in md and "The docs are thin" in md
    assert md.count("- *recused* (mi, not counted") == 4
    assert "Recused for a conflict of interest: 4 verdicts (mi on Mistral Medium 3)" in md
    assert "## Head-to-head" in md
    assert "| DX | mi | SmolVLM 2.5 | Mistral Medium 3 | none | recused |" in md
    assert "80% ship (15 votes)" in md  # community votes from the store
    assert "## Editorial history" in md and "**override** by alice" in md
    assert "16 verdict calls: 12 valid, 0 failed, 4 recused; 16 head-to-head calls: 8" in md
    assert "SmolVLM 2.5" in md and "SmolVLM 2\\.5" not in md  # not over-escaped
    rendered = MD.render(md)
    assert "javascript:" not in rendered.replace("[see](javascript:alert(1))", "")
    assert "<a " not in rendered


def test_show_in_the_terminal_carries_the_same_checks(home: Home) -> None:
    _editor_checked(home)
    result = runner.invoke(app, ["show", RID], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Editorial: approved" in out and "approved by bob" in out
    assert "editor: skip (alice" in out
    assert "recused ship [mi]" in out
    assert "Head-to-head:" in out
    assert any(
        line.split()[:2] == ["DX", "recused"] and line.endswith(" mi") for line in out.splitlines()
    )
    assert "community 80% ship (15 votes)" in out
    assert "Editorial history" in out and "override" in out
    assert "100% (4 of 4 valid)" in out and "4 recused" in out


HOSTILE = [
    "[click](javascript:alert(1))",
    "![pixel](https://tracker.example/p.png)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "# Fake heading",
    "1. fake list",
    "| fake | table |",
    "**bold** _em_ ~~gone~~ `code`",
    "&lt;b&gt; &#60;i&#62;",
    "line\n\n## break out\n---",
    "<https://autolink.example>",
]


def test_markdown_neutralises_markup_in_vendor_model_and_editor_text() -> None:
    evil = " ".join(HOSTILE)
    short = " ".join(HOSTILE[:4])
    a = tool("alpha", name=short[:200], tagline=evil, description=evil, category=HOSTILE[0])
    record = make_record(a, tool("beta"), quote=lambda persona, slug, provider: evil)
    rendered = MD.render(markdown.comparison(Comparison.of(record)))
    for tag in (
        "<a ",
        "<img",
        "<script",
        "<code>",
        "<s>",
        "<ol",
        "<table>\n<thead>\n<tr>\n<th>fake",
    ):
        assert tag not in rendered, tag
    assert rendered.count("<hr") == 1  # the footer rule only
    assert "<strong>bold" not in rendered and "<em>em</em>" not in rendered
    assert re.search(r"<strong>(Ship with .+?|No pick)\.</strong>", rendered)  # ours still works
    assert rendered.count("<h1>") == 1 and "Fake heading</h" not in rendered
    assert "break out</h2>" not in rendered
    assert html.escape("<script>alert(1)</script>", quote=False) in rendered  # shown as text


MARKUP = st.text(
    alphabet=st.sampled_from(list("ab1 9.)#>+-=*_`[]()!<>&;|~\\:/\"'xX\t\n")), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(MARKUP)
def test_escaped_text_renders_exactly_as_itself(text: str) -> None:
    folded = " ".join(text.split())
    rendered = MD.render(markdown.escape(text))
    expected = f"<p>{html.escape(folded, quote=False)}</p>\n".replace('"', "&quot;")
    assert rendered == (expected if folded else "")


def test_escape_leaves_ordinary_text_alone() -> None:
    for text in ("SmolVLM 2.5", "GPT-4o mini", "2.5 Pro", "C# tools", "gpt_4o_mini", "AT&T"):
        assert markdown.escape(text) == text


def test_old_record_still_shows(home: Home) -> None:
    record = read_record(DATA / "v1.json")
    md = markdown.comparison(Comparison.of(record))
    assert "**Editorial status: draft**" in md and "No editorial action yet." in md
