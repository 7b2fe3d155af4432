"""Intake may add tools, never take over an entry: by name, by look-alike, or by provenance."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.inputs.catalog import Catalog
from panel.inputs.intake import import_source
from panel.inputs.lookalike import skeleton
from panel.paths import Home
from tests.conftest import NO_HEAD_TO_HEAD
from tests.support import scripted
from tests.support.clock import TODAY

runner = CliRunner()
PHISH = "https://aider.phish.example/login"
RECENT = (TODAY - timedelta(days=2)).isoformat()  # on the suite's clock (tests/support/clock.py)
AIDER = f"""\
slug = "aider"
name = "Aider"
vendor = "Aider"
category = "Coding agents"
tagline = "AI pair programming in your terminal"
entry_price = "open-source"
url = "https://aider.chat/"
launched = {RECENT}
description = "Aider edits code in your local git repository."
"""
# By name, fullwidth, Cyrillic A, dotted, and a zero-width space: all read "Aider".
TAKEOVERS = ("Aider", "\uff21\uff49\uff44\uff45\uff52", "\u0410ider", "A.i.d.e.r", "Ai\u200bder")


def rss(*items: tuple[str, str, str]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><description>{text}</description></item>"
        for title, link, text in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>L</title>'
        f"{body}</channel></rss>"
    ).encode()


@pytest.fixture
def aider(home: Home) -> Home:
    (home.catalog / "aider.toml").write_text(AIDER)
    return home


def snapshot(home: Home) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.catalog.iterdir())}


def test_lookalike_names_share_a_skeleton() -> None:
    assert {skeleton(name) for name in TAKEOVERS} == {"aider"}
    assert skeleton("Aider Pro") != skeleton("Aider")
    assert skeleton("Claude Code") == skeleton("claude-code")


def test_feed_cannot_take_over_an_entry_by_name_or_lookalike(aider: Home, tmp_path: Path) -> None:
    before = snapshot(aider)
    feed = tmp_path / "launches.xml"
    items = [(name, PHISH, "Log in to keep using Aider.") for name in TAKEOVERS]
    feed.write_bytes(rss(*items, ("Brand New", "https://new.example/", "A new tool.")))
    report = import_source(Catalog.load(aider.catalog), str(feed))
    assert report.added == ["brand-new"] and report.updated == []
    assert len(report.conflicts) == len(TAKEOVERS)
    assert all("catalog entry aider" in c for c in report.conflicts)
    assert all("written by an editor" in c for c in report.conflicts)
    after = snapshot(aider)
    assert after.pop("brand-new.toml") and after == before
    assert all(PHISH.encode() not in data for data in after.values())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("takeover.csv", f"slug,name,description,url\naider,Aider,Phish,{PHISH}\n"),
        ("lookalike.csv", f"name,description,url\n\uff21\uff49\uff44\uff45\uff52,Phish,{PHISH}\n"),
        ("takeover.jsonl", json.dumps({"name": "Aider", "description": "P", "url": PHISH})),
        ("lookalike.jsonl", json.dumps({"name": "\u0410ider", "description": "P", "url": PHISH})),
    ],
)
def test_csv_and_json_lines_cannot_take_over_either(
    aider: Home, tmp_path: Path, name: str, content: str
) -> None:
    before = snapshot(aider)
    path = tmp_path / name
    path.write_text(content + "\n")
    result = runner.invoke(app, ["tools", "import", str(path)])
    assert result.exit_code == 1, result.output  # 1: imported what it could, with conflicts
    assert "conflicts 1" in result.stdout
    lines = [line for line in result.stderr.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("panel: conflict ")
    assert "catalog entry aider" in lines[0]
    assert snapshot(aider) == before


def sources_toml(**sources: dict[str, object]) -> str:
    out = NO_HEAD_TO_HEAD
    for name, fields in sources.items():
        out += f"[intake.sources.{name}]\n"
        out += "".join(f"{key} = {json.dumps(value)}\n" for key, value in fields.items())
    return out


def test_a_source_updates_only_its_own_entries_and_only_if_allowed(
    aider: Home, tmp_path: Path
) -> None:
    launches, other = tmp_path / "launches.xml", tmp_path / "other.xml"
    aider.config_file.write_text(
        sources_toml(
            launches={"path": str(launches), "may_update": True}, other={"path": str(other)}
        )
    )
    launches.write_bytes(rss(("Gamma Agent", "https://gamma.example/", "Gamma, v1.")))
    assert runner.invoke(app, ["tools", "import", "--source", "launches"]).exit_code == 0
    assert Catalog.load(aider.catalog).source_of("gamma-agent") == "launches"
    assert 'source = "launches"' in (aider.catalog / "gamma-agent.toml").read_text()

    # the same source, allowed to update: the entry changes, provenance stays
    launches.write_bytes(rss(("Gamma Agent", "https://gamma.example/", "Gamma, v2.")))
    result = runner.invoke(app, ["tools", "import", "-s", "launches"])
    assert result.exit_code == 0 and "updated gamma-agent" in result.stdout
    catalog = Catalog.load(aider.catalog)
    assert catalog.get("gamma-agent").description == "Gamma, v2."
    assert catalog.source_of("gamma-agent") == "launches"

    # an item that repeats the entry exactly is unchanged, not a conflict
    result = runner.invoke(app, ["tools", "import", "-s", "launches"])
    assert result.exit_code == 0 and "conflicts 0, unchanged 1" in result.stdout

    # another source may add, but not change launches' entry (nor the editor's)
    other.write_bytes(
        rss(
            ("Gamma Agent", PHISH, "Gamma, hijacked."),
            ("Aider", PHISH, "Aider, hijacked."),
            ("Delta", "https://delta.example/", "Delta."),
        )
    )
    result = runner.invoke(app, ["tools", "import", "-s", "other"])
    assert result.exit_code == 1 and "added   delta" in result.stdout
    assert "from source 'launches'" in result.stderr and "written by an editor" in result.stderr
    catalog = Catalog.load(aider.catalog)
    assert catalog.get("gamma-agent").description == "Gamma, v2."
    assert catalog.get("aider").url == "https://aider.chat/"
    assert catalog.source_of("delta") == "other" and catalog.source_of("aider") == ""

    # other's own entry: it may not update it either, without may_update
    other.write_bytes(rss(("Delta", PHISH, "Delta, changed.")))
    result = runner.invoke(app, ["tools", "import", "-s", "other"])
    assert result.exit_code == 1 and "set may_update = true" in result.stderr
    assert Catalog.load(aider.catalog).get("delta").url == "https://delta.example/"


def test_provenance_cannot_be_forged_and_is_not_part_of_the_tool(
    aider: Home, tmp_path: Path
) -> None:
    path = tmp_path / "tools.jsonl"
    line = {"name": "Forged", "description": "d", "source": "launches"}
    path.write_text(json.dumps(line) + "\n")
    import_source(Catalog.load(aider.catalog), str(path))
    catalog = Catalog.load(aider.catalog)
    assert catalog.source_of("forged") == str(path.resolve())
    # provenance sits beside the tool, not in it: records and digests never see it
    assert "source" not in catalog.get("forged").model_dump()
    text = (aider.catalog / "forged.toml").read_text()
    plain = "\n".join(x for x in text.splitlines() if not x.startswith("source ="))
    (aider.catalog / "plain.toml").write_text(plain.replace('"forged"', '"plain"'))
    again = Catalog.load(aider.catalog)
    assert again.get("plain").model_copy(update={"slug": "forged"}) == again.get("forged")
    assert again.source_of("plain") == ""


def nightly(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["nightly", "-p", "scripted/m", "--since", RECENT, *args])
    return result.exit_code, result.stdout + result.stderr


def test_with_auto_approve_a_takeover_reaches_neither_the_nightly_nor_the_site(
    aider: Home, tmp_path: Path, scripted_kind: dict[str, scripted.Script]
) -> None:
    aider.config_file.write_text(NO_HEAD_TO_HEAD + "[site]\nauto_approve = true\n")
    code, out = nightly()
    assert code == 0, out
    assert '"record": "' in out  # aider (launched recently) was reviewed and auto-approved

    feed = tmp_path / "launches.xml"
    feed.write_bytes(rss(*((name, PHISH, "Log in again.") for name in TAKEOVERS)))
    result = runner.invoke(app, ["tools", "import", str(feed)])
    assert result.exit_code == 1 and result.stderr.count("panel: conflict") == len(TAKEOVERS)

    code, out = nightly("--dry-run")
    assert code == 0 and json.loads(out)["comparisons"] == []  # nothing changed: nothing to do
    site = tmp_path / "site"
    result = runner.invoke(
        app, ["site", "build", "--out", str(site), "--base-url", "https://v.example/"]
    )
    assert result.exit_code == 0, result.output
    pages = [p.read_bytes() for p in site.rglob("*") if p.is_file()]
    assert any(b"aider.chat" in page for page in pages)
    assert not any(b"phish" in page for page in pages)


def test_the_nightly_imports_configured_sources_under_the_same_rules(
    aider: Home, tmp_path: Path, scripted_kind: dict[str, scripted.Script]
) -> None:
    feed = tmp_path / "launches.xml"
    feed.write_bytes(
        rss(("Aider", PHISH, "Log in again."), ("Gamma Agent", "https://g.example/", "Gamma."))
    )
    aider.config_file.write_text(
        sources_toml(
            broken={"path": str(tmp_path / "gone.xml")},
            launches={"path": str(feed), "may_update": True},
        )
        + "[site]\nauto_approve = true\n"
    )
    _, out = nightly("--dry-run")  # a dry run imports nothing
    assert "gamma-agent" not in out and not (aider.catalog / "gamma-agent.toml").exists()
    _, out = nightly()
    assert "intake launches: imported 1 new, updated 0, skipped 0, conflicts 1" in out
    assert "intake launches: conflict" in out and "catalog entry aider" in out
    assert "intake broken: error: " in out and "gone.xml: no such file" in out  # logged, no stop
    assert Catalog.load(aider.catalog).get("aider").url == "https://aider.chat/"
    assert (aider.catalog / "gamma-agent.toml").exists()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[intake.sources.x]\nurl = "https://a.example/f"\npath = "f.csv"\n', "exactly one"),
        ("[intake.sources.x]\nmay_update = true\n", "exactly one"),
        ('[intake.sources."Bad Name"]\npath = "f.csv"\n', "Bad Name"),
        ('[intake.sources.x]\nurl = "ftp://a.example/f"\n', "url"),
        ("[intake]\ntimeout = 0\n", "timeout"),
    ],
)
def test_intake_settings_are_validated(home: Home, toml: str, message: str) -> None:
    home.config_file.write_text(toml)
    result = runner.invoke(app, ["tools", "import"])
    assert result.exit_code == 2 and "panel.toml" in result.stderr and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_without_a_source_says_how(home: Home) -> None:
    result = runner.invoke(app, ["tools", "import"])
    assert result.exit_code == 2 and "[intake.sources.<name>]" in result.stderr
    result = runner.invoke(app, ["tools", "import", "--source", "nope"])
    assert result.exit_code == 2 and "unknown intake source 'nope'" in result.stderr
