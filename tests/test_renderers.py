"""Issue 17, item 5: one renderer interface for `panel show --format`, the site and the digest.

A format is one module with a ``RENDERER`` and one line in the registry (or a
``register`` call). These tests add a throwaway CSV format from a module written
here and show that `panel show --format csv`, the site build (which writes, and
later takes down, ``compare/<page>.csv``) and the digest all use it, with no
other change.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.paths import Home
from panel.publish.render import registry
from panel.publish.render.base import Comparison, Context, Digest, Feed
from panel.publish.render.terminal import RENDERER as TERMINAL
from panel.publish.site import build
from panel.publish.siteout import is_output
from panel.records.editorial import reject
from tests.support.records import make_record, tool
from tests.support.site import BASE, approved, options

runner = CliRunner()
RID = "2026-11-24/alpha-tool-vs-beta-tool"
PAGE = "alpha-tool-vs-beta-tool"
THROWAWAY = '''
    """A throwaway output format: one CSV row per tool, for the site and the digest."""

    from __future__ import annotations

    import csv
    import io

    from panel.publish.render.base import Comparison, Context, Digest, Subject, unsupported

    MARK = "# panel csv"


    class CsvRenderer:
        name = "csv"
        media_type = "text/csv; charset=utf-8"
        suffix = ".csv"
        subjects = (Comparison, Digest)
        site = True

        def render(self, subject: Subject, context: Context) -> str:
            out = io.StringIO()
            rows = csv.writer(out, lineterminator="\\n")
            if isinstance(subject, Comparison):
                rows.writerow([MARK, subject.record.id, context.url])
                for card in subject.view.cards:
                    rows.writerow([card.slug, card.score.ship_pct, card.score.rule])
            elif isinstance(subject, Digest):
                rows.writerow([MARK, subject.label])
                for item in subject.items:
                    rows.writerow([item.title, item.answer])
            else:
                raise unsupported(self, subject)
            return out.getvalue()

        def marked(self, head: bytes) -> bool:
            return head.startswith(MARK.encode())


    RENDERER = CsvRenderer()
'''


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The CSV format, from a module that exists only for this test, registered."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "throwaway_csv.py").write_text(textwrap.dedent(THROWAWAY))
    monkeypatch.syspath_prepend(str(folder))
    module = importlib.import_module("throwaway_csv")
    registry.register(module.RENDERER)
    try:
        yield module
    finally:
        registry.unregister("csv")
        sys.modules.pop("throwaway_csv", None)


def test_show_uses_a_format_registered_from_one_new_module(
    home: Home, throwaway: ModuleType
) -> None:
    approved(home)
    result = runner.invoke(app, ["show", RID, "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"# panel csv,{RID},"  # no [site] base_url: no page URL
    assert lines[1].startswith('alpha-tool,100.0,"ship_pct = ship verdicts / valid verdicts')
    assert "csv" in registry.names()


def test_the_site_writes_and_takes_down_a_registered_site_format(
    home: Home, tmp_path: Path, throwaway: ModuleType
) -> None:
    path = approved(home)
    out = tmp_path / "site"
    report = build(home, options(out))
    page = out / "compare" / f"{PAGE}.csv"
    assert f"compare/{PAGE}.csv" in report.written and is_output(f"compare/{PAGE}.csv")
    assert page.read_text().startswith(f"# panel csv,{RID},{BASE}compare/{PAGE}.csv\n")
    assert (out / "tools" / "alpha-tool.html").is_file()  # a ToolPage: not a csv subject
    assert not (out / "tools" / "alpha-tool.csv").exists()
    reject(home.runs, path, "ed", "wrong")
    again = build(home, options(out))
    assert f"compare/{PAGE}.csv" in again.removed and not page.exists()


def test_the_digest_writes_every_digest_format(home: Home, throwaway: ModuleType) -> None:
    approved(home)
    week = f"{datetime(2026, 11, 24, tzinfo=UTC).isocalendar()[0]}-W48"
    result = runner.invoke(app, ["digest", "--week", week])
    assert result.exit_code == 0, result.output
    folder = home.runs / "digests"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{week}.csv",
        f"{week}.html",
        f"{week}.md",
    ]
    assert (folder / f"{week}.csv").read_text().splitlines()[1].startswith("Alpha Tool vs")


def test_show_format_json_and_html_are_the_sites_own_files(home: Home, tmp_path: Path) -> None:
    approved(home)
    site = f'\n[site]\ntitle = "Verdicts"\nbase_url = "{BASE}"\n'
    home.config_file.write_text(home.config_file.read_text() + site)
    out = tmp_path / "site"
    build(home, options(out))
    for fmt in ("json", "html"):
        shown = runner.invoke(app, ["show", RID, "--format", fmt])
        assert shown.exit_code == 0, shown.output
        assert shown.stdout_bytes == (out / "compare" / f"{PAGE}.{fmt}").read_bytes(), fmt


def test_markdown_flag_is_the_markdown_format(home: Home) -> None:
    approved(home)
    flag = runner.invoke(app, ["show", RID, "--markdown"])
    named = runner.invoke(app, ["show", RID, "--format", "markdown"])
    both = runner.invoke(app, ["show", RID, "--markdown", "--format", "markdown"])
    assert flag.exit_code == named.exit_code == both.exit_code == 0
    assert flag.stdout == named.stdout == both.stdout
    assert flag.stdout.startswith("# Alpha Tool vs Beta Tool: which one should you ship with?")
    plain = runner.invoke(app, ["show", RID])
    assert plain.stdout == runner.invoke(app, ["show", RID, "-f", "terminal"]).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "unknown format 'pdf'"),
        (["--format", "atom"], "unknown format 'atom'"),  # not a format of a comparison
        (["--format", "json", "--markdown"], "--markdown and --format json disagree"),
    ],
)
def test_a_bad_format_is_one_line_naming_the_choices(
    home: Home, args: list[str], message: str
) -> None:
    approved(home)
    result = runner.invoke(app, ["show", RID, *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    if "unknown" in message:
        assert lines[0].endswith("(use one of: terminal, markdown, json, html, png)")


def test_registration_refuses_a_clash_with_a_known_format(throwaway: ModuleType) -> None:
    with pytest.raises(PanelError, match="a format named 'csv' is registered already"):
        registry.register(throwaway.RENDERER)

    class Shadow(throwaway.CsvRenderer):  # type: ignore[name-defined,misc]
        name = "csv2"
        suffix = ".html"

    with pytest.raises(PanelError, match=r"already writes \.html files for Comparison"):
        registry.register(Shadow())


def test_every_format_says_what_it_cannot_render() -> None:
    feed = Feed(title="t", base_url=BASE, entries=[])
    for renderer in registry.for_subject(Comparison):
        with pytest.raises(PanelError, match=f"the {renderer.name} format cannot render a Feed"):
            renderer.render(feed, Context())
    assert [r.name for r in registry.for_subject(Digest)] == ["markdown", "html"]


def test_the_terminal_format_without_a_console_is_plain_text() -> None:
    text = TERMINAL.render(Comparison.of(make_record(tool("a"), tool("b"))), Context())
    assert isinstance(text, str) and "\x1b[" not in text
    assert "Editorial state" in text and "Record 2026-11-24/x: complete" in text
