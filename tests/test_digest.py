from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.paths import Home
from panel.publish.digest import Week
from panel.records.editorial import approve, reject
from tests.support.publishing import ERROR_DETAIL, save_degraded
from tests.support.records import save_record, tool

runner = CliRunner()
A, B, C = tool("alpha-tool"), tool("beta-tool"), tool("gamma-tool")


@pytest.mark.parametrize(
    ("text", "message"),
    [("2026-48", "not an ISO week"), ("2026-W54", "has no week 54"), ("W48", "not an ISO")],
)
def test_week_parse_errors(text: str, message: str) -> None:
    with pytest.raises(PanelError, match=message):
        Week.parse(text)


def test_week_bounds() -> None:
    week = Week.parse("2026-W48")
    assert week.start.isoformat() == "2026-11-23"
    assert week.contains(datetime(2026, 11, 29, 23, 59, tzinfo=UTC))
    assert not week.contains(datetime(2026, 11, 30, 0, 0, tzinfo=UTC))
    assert not week.contains(datetime(2026, 11, 22, 23, 59, tzinfo=UTC))


def test_digest_has_the_weeks_published_verdicts_only(home: Home, tmp_path: Path) -> None:
    a, b, c = tool("alpha-tool"), tool("beta-tool", name="Beta <b>bold</b>"), tool("gamma-tool")
    in_week = save_record(home.runs, a, b, created=datetime(2026, 11, 24, 9, tzinfo=UTC))
    approve(home.runs, in_week, "ed", now=datetime(2026, 11, 24, 10, tzinfo=UTC))
    save_record(home.runs, a, c, created=datetime(2026, 11, 25, 9, tzinfo=UTC))  # draft
    old = save_record(home.runs, b, c, created=datetime(2026, 11, 16, 9, tzinfo=UTC))
    approve(home.runs, old, "ed", now=datetime(2026, 11, 16, 10, tzinfo=UTC))
    (home.root / "panel.toml").write_text('[site]\nbase_url = "https://v.example/"\n')
    result = runner.invoke(app, ["digest", "--week", "2026-W48", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "digest 2026-W48: 1 comparison\n" in result.stdout
    md = (tmp_path / "2026-W48.md").read_text()
    html = (tmp_path / "2026-W48.html").read_text()
    assert md.startswith("# Weekly AI Tool Verdicts")
    assert "Alpha Tool vs Beta &lt;b&gt;bold&lt;/b&gt;" in md
    assert "(<https://v.example/compare/alpha-tool-vs-beta-tool.html>)" in md
    assert "Gamma" not in md and "Gamma" not in html
    assert "Weekly AI Tool Verdicts" in html and "<b>bold</b>" not in html
    assert "Beta &lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="https://v.example/compare/alpha-tool-vs-beta-tool.html"' in html
    assert "<script" not in html


SUNDAY_W47 = datetime(2026, 11, 22, 20, tzinfo=UTC)
MONDAY_W48 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_a_record_is_in_the_week_it_was_approved_not_reviewed(home: Home, tmp_path: Path) -> None:
    path = save_record(home.runs, A, B, created=SUNDAY_W47)
    approve(home.runs, path, "ed", now=MONDAY_W48)
    w47 = runner.invoke(app, ["digest", "--week", "2026-W47", "--out", str(tmp_path)])
    assert w47.exit_code == 3 and not (tmp_path / "2026-W47.md").exists()
    w48 = runner.invoke(app, ["digest", "--week", "2026-W48", "--out", str(tmp_path)])
    assert w48.exit_code == 0, w48.output
    assert "Alpha Tool vs Beta Tool" in (tmp_path / "2026-W48.md").read_text()


def test_a_page_taken_down_is_not_in_the_digest(home: Home, tmp_path: Path) -> None:
    path = save_record(home.runs, A, B, created=SUNDAY_W47)
    approve(home.runs, path, "ed", now=MONDAY_W48)
    reject(home.runs, path, "ed", "wrong pricing", now=MONDAY_W48)
    result = runner.invoke(app, ["digest", "--week", "2026-W48", "--out", str(tmp_path)])
    assert result.exit_code == 3


def test_no_pick_and_zero_verdict_comparisons_are_in_and_labelled(
    home: Home, tmp_path: Path
) -> None:
    tie = save_record(home.runs, A, B, created=MONDAY_W48)  # both 100%: no pick
    approve(home.runs, tie, "ed", now=MONDAY_W48)
    none = save_degraded(home.runs, A, C, lambda c: False, created=MONDAY_W48)
    approve(home.runs, none, "ed", now=MONDAY_W48, force=True)
    result = runner.invoke(app, ["digest", "--week", "2026-W48", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 comparisons" in result.stdout
    md = (tmp_path / "2026-W48.md").read_text()
    html = (tmp_path / "2026-W48.html").read_text()
    assert "**No pick.** The two tie on panel ship rate" in md
    assert "**No pick.** No reviewer gave a valid verdict." in md
    assert "*Below quorum.* The panel did not reach quorum: 0 of 8 verdicts valid" in md
    assert "Gamma Tool: no valid verdicts, community" in md
    assert "<strong>Below quorum.</strong> The panel did not reach quorum" in html
    assert ERROR_DETAIL not in md and ERROR_DETAIL not in html


def test_base_url_option_links_without_panel_toml(home: Home, tmp_path: Path) -> None:
    path = save_record(home.runs, A, B, created=MONDAY_W48)
    approve(home.runs, path, "ed", now=MONDAY_W48)
    args = ["digest", "--week", "2026-W48", "--out", str(tmp_path)]
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0 and "no links" in plain.stderr
    assert "https://" not in (tmp_path / "2026-W48.md").read_text().split("---")[0]
    linked = runner.invoke(app, [*args, "--base-url", "https://news.example/ai"])
    assert linked.exit_code == 0, linked.output
    md = (tmp_path / "2026-W48.md").read_text()
    assert "(<https://news.example/ai/compare/alpha-tool-vs-beta-tool.html>)" in md
    bad = runner.invoke(app, [*args, "--base-url", "javascript:alert(1)"])
    assert bad.exit_code == 2 and "not an http(s) URL" in bad.stderr


def test_disclosure_lists_the_models(home: Home, tmp_path: Path) -> None:
    one = save_record(home.runs, A, B, created=MONDAY_W48, providers=("openai/gpt-4o-mini",))
    two = save_record(home.runs, A, C, created=MONDAY_W48, providers=("mistral/small",))
    for path in (one, two):
        approve(home.runs, path, "ed", now=MONDAY_W48)
    runner.invoke(app, ["digest", "--week", "2026-W48", "--out", str(tmp_path)])
    html = (tmp_path / "2026-W48.html").read_text()
    assert "AI-generated by these models: mistral/small, openai/gpt-4o-mini." in html
    assert "models listed here" not in html


def test_an_empty_week_writes_nothing_and_says_so(home: Home, tmp_path: Path) -> None:
    result = runner.invoke(app, ["digest", "--week", "2026-W01", "--out", str(tmp_path / "d")])
    assert result.exit_code == 3
    assert "no comparisons were published that week; nothing written" in result.stdout
    assert not (tmp_path / "d").exists()
    bad = runner.invoke(app, ["digest", "--week", "next week"])
    assert bad.exit_code == 2 and "ISO week" in bad.stderr
    far = runner.invoke(app, ["digest", "--week", "9999-W52"])
    assert far.exit_code == 2 and "out of range" in far.stderr and "Traceback" not in far.output


def test_digest_files_are_0644_under_umask_022(home: Home, tmp_path: Path) -> None:
    path = save_record(home.runs, A, B, created=MONDAY_W48)
    approve(home.runs, path, "ed", now=MONDAY_W48)
    old = os.umask(0o022)
    try:
        assert runner.invoke(app, ["digest", "--week", "2026-W48"]).exit_code == 0
    finally:
        os.umask(old)
    folder = home.runs / "digests"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    for name in ("2026-W48.md", "2026-W48.html"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644
