"""Importing launch feeds (RSS/Atom), CSV and URLs: bad items skipped, the rest imported."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.inputs.catalog import Catalog
from panel.inputs.fetch import fetch
from panel.inputs.intake import import_source
from panel.paths import Home

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Launches</title>
<item><title>Gamma Agent</title><link>https://gamma.example/</link>
  <description>&lt;p&gt;Gamma is an &lt;b&gt;agent&lt;/b&gt; for code.&lt;/p&gt;</description>
  <category>Coding agents</category><pubDate>Mon, 23 Nov 2026 09:00:00 GMT</pubDate></item>
<item><title></title><description>No title at all</description></item>
<item><title>Alpha Tool</title><description>Alpha, relaunched.</description></item>
<item><title>Gamma Agent</title><link>https://gamma.example/v2</link>
  <description>Gamma, second mention.</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Launches</title>
<entry><title>Delta Runtime</title><link href="https://delta.example/"/>
  <updated>2026-11-22T10:00:00Z</updated><summary>Delta runs models.</summary></entry>
<entry><title>Evil</title><link href="javascript:alert(1)"/><summary>x</summary></entry>
</feed>"""

CSV = (
    "name,description,entry_price,competitors,url\n"
    "Omega,Omega does things,freemium,alpha-tool;beta-tool,https://omega.example\n"
    "Bad Price,Has a bad price,sometimes,,\n"
    "Extra,too,many,cells,here,and here\n"
    ",no name,free,,\n"
)


def test_rss_items_import_and_bad_items_are_skipped(home: Home, tmp_path: Path) -> None:
    feed = tmp_path / "launches.xml"
    feed.write_bytes(RSS)
    before = (home.catalog / "alpha-tool.toml").read_bytes()
    report = import_source(Catalog.load(home.catalog), str(feed))
    assert report.added == ["gamma-agent"] and report.updated == []
    assert len(report.skipped) == 1 and "item 2" in report.skipped[0]
    gamma = Catalog.load(home.catalog).get("gamma-agent")
    assert gamma.url == "https://gamma.example/v2"  # duplicates merge by slug; last wins
    assert gamma.description == "Gamma, second mention."
    assert Catalog.load(home.catalog).source_of("gamma-agent") == str(feed.resolve())
    # an editor's entry is never changed by a feed: a conflict, reported
    assert len(report.conflicts) == 1 and "item 3" in report.conflicts[0]
    assert "catalog entry alpha-tool" in report.conflicts[0]
    assert (home.catalog / "alpha-tool.toml").read_bytes() == before


def test_rss_fields_are_mapped(home: Home, tmp_path: Path) -> None:
    feed = tmp_path / "one.rss"
    feed.write_bytes(
        RSS.replace(
            b"<item><title>Gamma Agent</title><link>https://gamma.example/v2",
            b"<item><title>Other</title><link>https://o.example",
        )
    )
    import_source(Catalog.load(home.catalog), str(feed))
    gamma = Catalog.load(home.catalog).get("gamma-agent")
    assert gamma.description == "Gamma is an agent for code."  # HTML stripped
    assert gamma.category == "Coding agents"
    assert str(gamma.launched) == "2026-11-23"


def test_atom_and_url_import(home: Home, tmp_path: Path) -> None:
    (tmp_path / "feed.atom").write_bytes(ATOM)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        report = import_source(Catalog.load(home.catalog), f"{url}/feed.atom")
        assert report.added == ["delta-runtime"]
        assert len(report.skipped) == 1 and "url" in report.skipped[0]
        delta = Catalog.load(home.catalog).get("delta-runtime")
        assert str(delta.launched) == "2026-11-22"
        with pytest.raises(PanelError, match="HTTP 404"):
            import_source(Catalog.load(home.catalog), f"{url}/missing.xml")
    finally:
        server.shutdown()


def test_csv_rows_import_and_bad_rows_are_reported(home: Home, tmp_path: Path) -> None:
    sheet = tmp_path / "launches.csv"
    sheet.write_text(CSV)
    report = import_source(Catalog.load(home.catalog), str(sheet))
    assert report.added == ["omega"]
    assert len(report.skipped) == 3
    assert any(":3: field 'entry_price'" in s for s in report.skipped)
    assert any("more cells than header" in s for s in report.skipped)
    omega = Catalog.load(home.catalog).get("omega")
    assert omega.competitors == ["alpha-tool", "beta-tool"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.xml", b"<rss><channel><tit", "not a readable RSS/Atom feed"),
        ("headless.csv", b"just,some,cells\n1,2,3\n", "header with at least 'name'"),
        ("notes.txt", b"hello", "unknown format"),
    ],
)
def test_malformed_sources_fail_clearly(
    home: Home, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = sorted(p.name for p in home.catalog.iterdir())
    with pytest.raises(PanelError, match=message):
        import_source(Catalog.load(home.catalog), str(path))
    assert sorted(p.name for p in home.catalog.iterdir()) == before


def test_truncated_feed_imports_what_is_valid(home: Home, tmp_path: Path) -> None:
    cut = RSS[: RSS.index(b"<item><title></title>")]  # ends mid-channel, after one good item
    path = tmp_path / "cut.xml"
    path.write_bytes(cut)
    report = import_source(Catalog.load(home.catalog), str(path))
    assert report.added == ["gamma-agent"] and not report.skipped


def test_cli_reports_skips_on_stderr(home: Home, tmp_path: Path) -> None:
    sheet = tmp_path / "launches.csv"
    sheet.write_text(CSV)
    result = CliRunner().invoke(app, ["tools", "import", str(sheet)])
    assert result.exit_code == 0
    assert "imported 1 new, updated 0, skipped 3, conflicts 0" in result.stdout
    assert result.stderr.count("panel: skipped") == 3


def test_only_http_urls(home: Home) -> None:
    with pytest.raises(PanelError, match="only http"):
        fetch("file:///etc/passwd")
    with pytest.raises(PanelError, match="only http"):
        import_source(Catalog.load(home.catalog), "ftp://127.0.0.1/feed.xml")
