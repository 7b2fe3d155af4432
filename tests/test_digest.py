from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.digest import Week
from panel.editorial import approve
from panel.errors import PanelError
from panel.paths import Home
from tests.support.records import save_record, tool

runner = CliRunner()


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


def test_digest_has_the_weeks_approved_verdicts_only(home: Home, tmp_path: Path) -> None:
    a, b, c = tool("alpha-tool"), tool("beta-tool", name="Beta <b>bold</b>"), tool("gamma-tool")
    in_week = save_record(home.runs, a, b, created=datetime(2026, 11, 24, 9, tzinfo=UTC))
    approve(home.runs, in_week, "ed")
    save_record(home.runs, a, c, created=datetime(2026, 11, 25, 9, tzinfo=UTC))  # draft
    old = save_record(home.runs, b, c, created=datetime(2026, 11, 16, 9, tzinfo=UTC))
    approve(home.runs, old, "ed")
    (home.root / "panel.toml").write_text('[site]\nbase_url = "https://v.example/"\n')
    result = runner.invoke(app, ["digest", "--week", "2026-W48", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 comparisons" in result.stdout
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


def test_empty_week_says_so(home: Home, tmp_path: Path) -> None:
    result = runner.invoke(app, ["digest", "--week", "2026-W01", "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert "No verdicts were approved this week." in (tmp_path / "2026-W01.md").read_text()
    bad = runner.invoke(app, ["digest", "--week", "next week"])
    assert bad.exit_code == 2 and "ISO week" in bad.stderr
