from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from panel.cli import app
from panel.paths import Home
from panel.publish.site import build
from panel.records.editorial import override, reject
from panel.records.io import read_record
from panel.records.store import Store
from tests.support import scripted
from tests.support.records import NOW, save_record, tool
from tests.support.site import (
    BASE,
    A,
    B,
    C,
    Page,
    approved,
    files,
    options,
    runner,
    without_jsonld,
)


def test_comparison_page_has_every_part_of_the_seed_layout(home: Home, tmp_path: Path) -> None:
    approved(home, providers=("openai/gpt-4o-mini", "mistral/mistral-small-latest"))
    Store.open(home.runs).set_votes([("alpha-tool", 30, 10)], "test")
    report = build(home, options(tmp_path / "site"))
    assert report.comparisons == 1 and report.tools == 2
    html = (tmp_path / "site/compare/alpha-tool-vs-beta-tool.html").read_text()
    page = Page(html)
    text = page.all_text()
    assert "Alpha Tool vs Beta Tool" in text and "Which one should you ship with?" in text
    assert [c.strip() for c in page.classes["tool-name"]] == ["Alpha Tool", "Beta Tool"]
    assert [c.strip() for c in page.classes["community"]] == ["75% ship (40 votes)", "\u2014"]
    assert [c.strip() for c in page.classes["panel-ship"]] == ["100%", "100%"]
    assert [c.strip() for c in page.classes["entry"]] == ["Paid", "Paid"]
    assert page.classes["category"][0].strip() == "LLM APIs"
    assert "The alpha-tool tagline" in text and "alpha-tool does useful things" in text
    published = page.classes["published"]
    assert len(published) == 8  # one published quote per persona per tool
    for persona in ("dx", "competitive", "futurist", "business"):
        for slug in ("alpha-tool", "beta-tool"):
            assert f"Quote by {persona} on {slug} from openai/gpt-4o-mini" in text
    assert "Reviewer split" in text and "Reviewer scorecard" in text
    assert "openai/gpt-4o-mini" in page.classes["models"][0]
    assert "mistral/mistral-small-latest" in page.classes["models"][0]
    assert "AI-generated" in page.classes["disclosure"][0]
    assert "Last reviewed 2026-11-24" in text
    assert read_record(home.runs / "2026-11-24/alpha-tool-vs-beta-tool.json").editorial.status == (
        "published"
    )


def test_only_approved_records_are_published_newest_per_pair(home: Home, tmp_path: Path) -> None:
    older = approved(home, quote=lambda p, s, v: f"old quote {p} {s}")
    save_record(home.runs, A, B, created=NOW + timedelta(hours=1))  # newer draft: not shown
    rejected = save_record(home.runs, A, C)
    reject(home.runs, rejected, "editor", "wrong")
    build(home, options(tmp_path / "site"))
    out = tmp_path / "site"
    assert sorted(p.name for p in (out / "compare").glob("*.html")) == [
        "alpha-tool-vs-beta-tool.html"
    ]
    assert "old quote dx alpha-tool" in (out / "compare/alpha-tool-vs-beta-tool.html").read_text()
    assert not (out / "tools/gamma-tool.html").exists()
    assert read_record(older).editorial.published_at is not None


def test_override_shows_as_editors_note_beside_the_panel_verdict(
    home: Home, tmp_path: Path
) -> None:
    path = approved(home)
    override(
        home.runs,
        path,
        persona="business",
        tool="beta-tool",
        verdict="skip",
        note="Pricing page contradicts the claim.",
        by="gina",
    )
    build(home, options(tmp_path / "site"))
    page = Page((tmp_path / "site/compare/alpha-tool-vs-beta-tool.html").read_text())
    (note,) = page.classes["editor-note"]
    assert "Editor's note:" in note and "skip" in note
    assert "Pricing page contradicts the claim." in note
    assert "gina" in note and "The panel's own verdict: ship" in note
    data = json.loads((tmp_path / "site/compare/alpha-tool-vs-beta-tool.json").read_text())
    business = next(r for r in data["scorecard"] if r["persona"] == "business")
    cell = business["tools"]["beta-tool"]
    assert (cell["panel_verdict"], cell["verdict"], cell["editor_note"]["by"]) == (
        "ship",
        "skip",
        "gina",
    )


def test_build_is_deterministic_and_incremental(home: Home, tmp_path: Path) -> None:
    approved(home)
    approved(home, A, C, created=NOW + timedelta(hours=2))
    first = build(home, options(tmp_path / "one"))
    assert first.written and not first.removed
    second_dir = build(home, options(tmp_path / "two"))
    assert files(tmp_path / "one") == files(tmp_path / "two")  # byte-identical
    assert second_dir.published == []
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "one").rglob("*") if p.is_file()}
    again = build(home, options(tmp_path / "one"))
    assert again.written == [] and again.records_read == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing rewritten


def test_one_changed_record_rewrites_only_what_shows_it(home: Home, tmp_path: Path) -> None:
    path = approved(home)
    approved(home, A, C, created=NOW + timedelta(hours=2))
    out = tmp_path / "site"
    build(home, options(out))
    override(home.runs, path, persona="dx", tool="beta-tool", verdict="skip", note="n", by="x")
    report = build(home, options(out))
    assert report.records_read == 1
    assert sorted(report.written) == [
        "compare/alpha-tool-vs-beta-tool.html",
        "compare/alpha-tool-vs-beta-tool.json",
    ]


def test_rejecting_a_published_record_takes_its_pages_down(home: Home, tmp_path: Path) -> None:
    path = approved(home)
    approved(home, A, C)
    out = tmp_path / "site"
    (out / "keep.txt").parent.mkdir(parents=True)
    (out / "keep.txt").write_text("not ours")
    build(home, options(out))
    reject(home.runs, path, "editor", "wrong pricing")
    report = build(home, options(out))
    assert "compare/alpha-tool-vs-beta-tool.html" in report.removed
    assert "tools/beta-tool.html" in report.removed
    assert not (out / "compare/alpha-tool-vs-beta-tool.json").exists()
    assert (out / "keep.txt").read_text() == "not ours"  # only files a build wrote go


def test_votes_change_rebuilds_the_pages_that_show_them(home: Home, tmp_path: Path) -> None:
    approved(home)
    approved(home, B, C)
    out = tmp_path / "site"
    build(home, options(out))
    Store.open(home.runs).set_votes([("gamma-tool", 1, 3)], "t")
    report = build(home, options(out))
    assert sorted(report.written) == [
        "compare/beta-tool-vs-gamma-tool.html",
        "compare/beta-tool-vs-gamma-tool.json",
        "tools/gamma-tool.html",
        "tools/gamma-tool.json",
    ]
    assert "25% ship (4 votes)" in (out / "tools/gamma-tool.html").read_text()


def test_feeds_and_sitemap_parse_back(home: Home, tmp_path: Path) -> None:
    approved(home)
    approved(home, A, C, created=NOW + timedelta(days=1))
    out = tmp_path / "site"
    build(home, options(out), now=datetime(2026, 11, 25, 9, tzinfo=UTC))
    atom = feedparser.parse((out / "feed.xml").read_bytes())
    assert not atom.bozo, atom.get("bozo_exception")
    assert atom.feed.title == "Verdicts"
    assert [e.title for e in atom.entries] == [
        "Alpha Tool vs Gamma Tool",
        "Alpha Tool vs Beta Tool",
    ]
    assert atom.entries[0].link == BASE + "compare/alpha-tool-vs-gamma-tool.html"
    summary = atom.entries[0].summary
    assert summary.startswith("No pick. The two tie on panel ship rate")
    assert "Panel ship: Alpha Tool 100%, Gamma Tool 100%." in summary
    assert summary.endswith("Gamma Tool: reviewed from the vendor's description only.")
    feed = json.loads((out / "feed.json").read_text())
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == BASE + "feed.json"
    assert {i["url"] for i in feed["items"]} == {
        BASE + "compare/alpha-tool-vs-beta-tool.html",
        BASE + "compare/alpha-tool-vs-gamma-tool.html",
    }
    assert all(i["date_published"] == "2026-11-25T09:00:00Z" for i in feed["items"])
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.parse(out / "sitemap.xml").getroot().findall("s:url/s:loc", ns)]
    assert BASE + "index.html" in locs and BASE + "tools/gamma-tool.html" in locs
    assert len(locs) == 1 + 1 + 2 + 3  # index, methodology, 2 comparisons, 3 tools
    assert BASE + "methodology.html" in locs
    index = json.loads((out / "index.json").read_text())
    assert [c["page"] for c in index["latest"]] == [
        "alpha-tool-vs-gamma-tool",
        "alpha-tool-vs-beta-tool",
    ]


XSS = [
    "<script>alert(1)</script>",
    "</p></blockquote><script>alert(2)</script>",
    "{{ 7*7 }}{% raw %}",
    '" onmouseover="alert(3)" x="',
    "</",
    "<img src=x onerror=alert(4)>",
    "]]><!--",
    "\u202egnp.exe\u200b",
]


def _hostile_tool(slug: str, n: int) -> object:
    payload = XSS[n % len(XSS)]
    return tool(
        slug,
        name=f"Evil {payload}",
        category=f"Cat {payload}",
        tagline=f"Tag {payload}",
        description=f"Desc {payload}",
        vendor=f"Vendor {payload}",
        pricing_notes=f"Price {payload}",
        url='https://ok.example/" onmouseover="alert(5)' if n == 0 else "https://ok.example/a?b=c",
    )


def test_hostile_text_in_every_field_cannot_break_a_page(home: Home, tmp_path: Path) -> None:
    bad_a, bad_b = _hostile_tool("evil-a", 0), _hostile_tool("evil-b", 3)
    path = approved(
        home,
        bad_a,
        bad_b,
        providers=("openai/<script>x</script>",),
        quote=lambda p, s, v: f"Quote {XSS[len(p) % len(XSS)]} javascript:alert(6)",
        titles={p: f"{p} {XSS[i]}" for i, p in enumerate(("dx", "competitive", "futurist"))},
    )
    override(home.runs, path, persona="dx", tool="evil-a", verdict="skip", note=XSS[1], by=XSS[0])
    out = tmp_path / "site"
    build(home, options(out))
    pages = [p for p in out.rglob("*.html")]
    assert len(pages) == 5  # index, methodology, the comparison, two tool pages
    for page_path in pages:
        text = without_jsonld(page_path.read_text())
        assert "<script" not in text.lower(), page_path
        assert "\u202e" not in text and "\u200b" not in text
        page = Page(text)
        for tag, attrs in page.tags:
            assert tag not in ("script", "img", "iframe", "object"), (page_path, tag)
            assert not any(name.startswith("on") for name in attrs), (page_path, tag, attrs)
            for name in ("href", "src", "action"):
                value = attrs.get(name)
                if value is not None:
                    scheme_free = ":" not in value.split("/")[0]  # a relative link
                    assert value.startswith(("https://", "http://")) or scheme_free, value
        metas = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
        assert metas and "script-src 'none'" in (metas[0].get("content") or "")
    compare = Page((out / "compare/evil-a-vs-evil-b.html").read_text()).all_text()
    assert "Evil <script>alert(1)</script>" in compare  # shown as text, intact
    assert "{{ 7*7 }}" in compare and "49" not in compare
    assert "alert(5)" not in (out / "compare/evil-a-vs-evil-b.html").read_text()
    for feed_name in ("feed.xml", "sitemap.xml"):
        ET.parse(out / feed_name)  # still well-formed XML
    assert not feedparser.parse((out / "feed.xml").read_bytes()).bozo
    json.loads((out / "feed.json").read_text())
    data = json.loads((out / "compare/evil-a-vs-evil-b.json").read_text())
    assert data["cards"][0]["url"] == "" and data["cards"][1]["url"].startswith("https://")


def test_site_build_cli_needs_a_base_url_and_reports(home: Home, tmp_path: Path) -> None:
    approved(home)
    out = tmp_path / "site"
    missing = runner.invoke(app, ["site", "build", "--out", str(out)])
    assert missing.exit_code == 2 and "base_url" in missing.stderr
    bad = runner.invoke(app, ["site", "build", "--out", str(out), "--base-url", "javascript:x"])
    assert bad.exit_code == 2 and "not an http(s) URL" in bad.stderr
    (home.root / "panel.toml").write_text('[site]\nbase_url = "https://v.example"\n')
    ok = runner.invoke(app, ["site", "build", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "published 2026-11-24/alpha-tool-vs-beta-tool" in ok.stdout
    assert "https://v.example/index.html" in (out / "index.html").read_text()


def test_a_corrupt_record_is_skipped_with_a_report(home: Home, tmp_path: Path) -> None:
    approved(home)
    broken = home.runs / "2026-11-24" / "zzz-vs-yyy.json"
    broken.write_text('{"schema_version": 2, "id": ')
    report = build(home, options(tmp_path / "site"))
    assert report.comparisons == 1
    assert len(report.skipped) == 1 and "zzz-vs-yyy.json" in report.skipped[0]
    assert broken.read_text() == '{"schema_version": 2, "id": '  # untouched


def test_cache_damage_only_costs_a_full_rebuild(home: Home, tmp_path: Path) -> None:
    approved(home)
    out = tmp_path / "site"
    build(home, options(out))
    before = files(out)
    for cache in (home.runs / ".site-cache").iterdir():
        cache.write_text('{"format": 1, "outputs": {"../../escape.txt": {"key": "x"}}}')
    (tmp_path / "escape.txt").write_text("keep")
    build(home, options(out))
    assert files(out) == before
    assert (tmp_path / "escape.txt").read_text() == "keep"
    assert os.listdir(tmp_path / "site")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://ok.example/x?y=1", True),
        ("http://ok.example", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//evil.example/", False),
        ("https:///nohost", False),
        ("https://ok.example/\u0000", False),
        ("https://ok.example/ x", False),
        ("vbscript:msgbox", False),
        ("", False),
    ],
)
def test_only_http_links_survive(url: str, kept: bool) -> None:
    from panel.urls import http_url

    assert http_url(url) == (url if kept else "")


# -- file modes --------------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}


def test_site_files_are_0644_and_folders_0755_under_umask_022(
    home: Home, tmp_path: Path, umask_022: None
) -> None:
    approved(home)
    out = tmp_path / "site"
    build(home, options(out))
    modes = _modes(out)
    assert {"style.css", "feed.xml", "feed.json", "compare/alpha-tool-vs-beta-tool.html"} <= set(
        modes
    )
    for rel, mode in modes.items():
        assert mode == (0o755 if (out / rel).is_dir() else 0o644), (rel, oct(mode))
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    # A site left unreadable by an older panel is fixed, although no byte changes.
    for path in out.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)
    report = build(home, options(out))
    assert report.written == []
    for rel, mode in _modes(out).items():
        assert mode == (0o755 if (out / rel).is_dir() else 0o644), (rel, oct(mode))
    assert report.modes_fixed == len(modes)


def test_the_build_line_counts_in_words(
    home: Home, tmp_path: Path, scripted_kind: dict[str, scripted.Script]
) -> None:
    """One comparison reads "1 comparison", not "1 comparisons"."""
    scripted_kind["m"] = scripted.Script()
    out = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "-p", "scripted/m", "--json"])
    record_id = json.loads(out.stdout)["id"]
    assert runner.invoke(app, ["approve", record_id, "--by", "ed"]).exit_code == 0
    site = str(tmp_path / "site")
    built = runner.invoke(app, ["site", "build", "--out", site, "--base-url", BASE])
    assert built.exit_code == 0, built.output
    assert ": 1 comparison, 2 tool pages; " in built.stdout
