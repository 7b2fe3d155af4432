"""Sources on catalog entries and `panel evidence` / `panel tools add-source` on the command
line: one-line errors naming the file, the sources listed by `tools show`, intake's
announcement source, and a fetch and show through the CLI (loopback only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.evidence.pack import SourceKind
from panel.inputs.catalog import Catalog
from panel.inputs.intake import import_source
from panel.inputs.toolsources import SourceRef
from panel.paths import Home
from tests.support.evidence_site import Page, html, serve
from tests.test_evidence_fetch import configure

runner = CliRunner()


def one_line_error(result: object, *needles: str) -> None:
    exit_code, stderr = result.exit_code, result.stderr
    assert exit_code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("panel: error: "), stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in stderr, stderr


def append(home: Home, slug: str, text: str) -> Path:
    path = home.catalog / f"{slug}.toml"
    path.write_text(path.read_text() + text)
    return path


@pytest.mark.parametrize(
    ("sources", "needle"),
    [
        ('[[sources]]\nurl = "ftp://alpha.example/"\nkind = "homepage"\n', "not an http(s) URL"),
        ('[[sources]]\nurl = "javascript:alert(1)"\nkind = "docs"\n', "not an http(s) URL"),
        (
            '[[sources]]\nurl = "https://alpha.example/"\nkind = "blog"\n',
            "kind 'blog' is not a source kind",
        ),
        ('[[sources]]\nurl = "https://alpha.example/"\n', "add kind"),
        (
            '[[sources]]\nurl = "https://a.example/"\nkind = "docs"\nnote = "x"\n',
            "unknown field 'note'",
        ),
        ('sources = "https://alpha.example/"\n', "must be an array of tables"),
        (
            '[[sources]]\nurl = "https://a.example/"\nkind = "docs"\n' * 2,
            "listed twice",
        ),
    ],
)
def test_a_bad_source_is_a_one_line_error_naming_the_file(
    home: Home, sources: str, needle: str
) -> None:
    path = append(home, "alpha-tool", sources)
    with pytest.raises(PanelError, match="sources") as caught:
        Catalog.load(home.catalog)
    assert str(path) in str(caught.value) and needle in str(caught.value)
    one_line_error(runner.invoke(app, ["tools", "show", "alpha-tool"]), str(path), needle)


def test_tools_show_lists_sources_and_add_source_appends_one(home: Home) -> None:
    result = runner.invoke(
        app, ["tools", "add-source", "alpha-tool", "https://alpha.example/", "--kind", "homepage"]
    )
    assert result.exit_code == 0 and "listed homepage https://alpha.example/" in result.stdout
    result = runner.invoke(
        app, ["tools", "add-source", "alpha-tool", "https://alpha.example/pricing", "-k", "pricing"]
    )
    assert result.exit_code == 0
    again = runner.invoke(
        app, ["tools", "add-source", "alpha-tool", "https://alpha.example/", "-k", "homepage"]
    )
    assert again.exit_code == 0 and "listed already" in again.stdout
    catalog = Catalog.load(home.catalog)
    assert catalog.evidence_of("alpha-tool") == (
        SourceRef("https://alpha.example/", SourceKind.HOMEPAGE),
        SourceRef("https://alpha.example/pricing", SourceKind.PRICING),
    )
    shown = runner.invoke(app, ["tools", "show", "alpha-tool"])
    assert "homepage: https://alpha.example/" in shown.stdout
    assert "pricing: https://alpha.example/pricing" in shown.stdout
    data = json.loads(runner.invoke(app, ["tools", "show", "alpha-tool", "--json"]).stdout)
    assert data["sources"] == [
        {"url": "https://alpha.example/", "kind": "homepage"},
        {"url": "https://alpha.example/pricing", "kind": "pricing"},
    ]
    one_line_error(
        runner.invoke(
            app, ["tools", "add-source", "alpha-tool", "https://a.example/", "-k", "blog"]
        ),
        "kind 'blog' is not a source kind",
    )
    one_line_error(
        runner.invoke(
            app, ["tools", "add-source", "alpha-tool", "file:///etc/passwd", "-k", "docs"]
        ),
        "not an http(s) URL",
    )
    one_line_error(
        runner.invoke(app, ["tools", "add-source", "nosuch", "https://a.example/", "-k", "docs"]),
        "unknown tool 'nosuch'",
    )


def test_intake_keeps_the_feed_items_link_as_an_announcement(home: Home, tmp_path: Path) -> None:
    feed = tmp_path / "launches.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>'
        "<item><title>Gamma Agent</title><link>https://news.example/gamma-launch</link>"
        "<description>Gamma writes code.</description></item></channel></rss>"
    )
    report = import_source(Catalog.load(home.catalog), str(feed))
    assert report.added == ["gamma-agent"]
    catalog = Catalog.load(home.catalog)
    assert catalog.evidence_of("gamma-agent") == (
        SourceRef("https://news.example/gamma-launch", SourceKind.ANNOUNCEMENT),
    )
    assert catalog.get("gamma-agent").url == "https://news.example/gamma-launch"
    assert "sources = [" in (home.catalog / "gamma-agent.toml").read_text()


def test_evidence_command_errors_are_one_line(home: Home) -> None:
    one_line_error(runner.invoke(app, ["evidence", "fetch"]), "no tool lists sources")
    one_line_error(runner.invoke(app, ["evidence", "fetch", "nosuch"]), "unknown tool 'nosuch'")
    one_line_error(
        runner.invoke(app, ["evidence", "fetch", "alpha-tool"]),
        "alpha-tool lists no sources",
        "add-source",
    )
    one_line_error(runner.invoke(app, ["evidence", "show", "nosuch"]), "unknown tool 'nosuch'")
    home.config_file.write_text("[evidence]\nhost_interval = 0.5\n")
    one_line_error(
        runner.invoke(app, ["evidence", "show", "alpha-tool"]), "panel.toml", "host_interval"
    )
    home.config_file.write_text("")
    shown = runner.invoke(app, ["evidence", "show", "beta-tool"])
    assert shown.exit_code == 0 and "reviewed from the catalog card only" in shown.stdout


def test_fetch_and_show_through_the_command_line(home: Home) -> None:
    routes = {"/docs": Page(html("Beta docs", "<p>Beta runs models locally on 8 GB of RAM.</p>"))}
    with serve(routes) as site:
        append(home, "beta-tool", f'[[sources]]\nurl = "{site.url}/docs"\nkind = "docs"\n')
        append(home, "beta-tool", f'[[sources]]\nurl = "{site.url}/gone"\nkind = "changelog"\n')
        configure(home, site)
        result = runner.invoke(app, ["evidence", "fetch", "beta-tool"])
        assert result.exit_code == 1  # one source failed (404); the other was fetched
        assert "new       beta-tool docs" in result.stdout
        assert "failed    beta-tool changelog" in result.stderr and "HTTP 404" in result.stderr
        assert (
            "evidence: 2 sources (1 new, 0 changed, 0 unchanged, 1 failed, 0 deferred)"
            in result.stdout
        )
    shown = runner.invoke(app, ["evidence", "show", "beta-tool"])
    assert shown.exit_code == 0
    assert "S1  docs" in shown.stdout and "[in the pack]" in shown.stdout
    assert "[never fetched successfully]" in shown.stdout and "HTTP 404" in shown.stdout
    assert "8 GB of RAM" in shown.stdout
    data = json.loads(runner.invoke(app, ["evidence", "show", "beta-tool", "--json"]).stdout)
    assert [s["id"] for s in data["pack"]] == ["S1"] and data["pack"][0]["kind"] == "docs"
    assert data["digest"] and data["sources"][1]["error"].endswith("HTTP 404")


def test_json_lines_may_list_sources_and_a_bad_one_fails_the_import(
    home: Home, tmp_path: Path
) -> None:
    good = tmp_path / "new.jsonl"
    good.write_text(
        json.dumps(
            {
                "name": "Delta Agent",
                "description": "Delta plans.",
                "sources": [{"url": "https://delta.example/pricing", "kind": "pricing"}],
            }
        )
        + "\n"
    )
    assert import_source(Catalog.load(home.catalog), str(good)).added == ["delta-agent"]
    assert Catalog.load(home.catalog).evidence_of("delta-agent") == (
        SourceRef("https://delta.example/pricing", SourceKind.PRICING),
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"name": "Echo", "description": "E.", "sources": [{"url": "x", "kind": "docs"}]})
        + "\n"
    )
    result = runner.invoke(app, ["tools", "import", str(bad)])
    one_line_error(result, "bad.jsonl:1: sources[1]", "not an http(s) URL")
    assert not (home.catalog / "echo.toml").exists()


def test_evidence_fetch_json(home: Home) -> None:
    routes = {"/": Page(html("Alpha", "<p>Alpha generates text at $3 per million tokens.</p>"))}
    with serve(routes) as site:
        append(home, "alpha-tool", f'[[sources]]\nurl = "{site.url}/"\nkind = "homepage"\n')
        configure(home, site)
        result = runner.invoke(app, ["evidence", "fetch", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"]["new"] == 1 and data["bytes"] > 0
    assert data["sources"] == [
        {
            "tools": ["alpha-tool"],
            "url": f"{site.url}/",
            "kind": "homepage",
            "status": "new",
            "detail": "",
        }
    ]
