"""Which page a pair shows, and which files the build owns: after a reject, a crash, or an
edited cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from panel.cli import app
from panel.lock import LockedError, exclusive
from panel.paths import Home
from panel.publish.site import build
from panel.publish.sitecache import BuildCache
from panel.records.editorial import approve, reject
from tests.support.records import NOW, save_record
from tests.support.site import A, B, approved, files, options, runner

# -- the editorial rule on the site: reject, supersede, put back ------------------------


def test_a_rejected_page_stays_down_and_an_older_approval_does_not_come_back(
    home: Home, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    older = approved(home, quote=lambda p, s, v: f"old quote {p} {s}")
    build(home, options(out))
    newer = approved(home, created=NOW + timedelta(hours=1))  # supersedes the older approval
    report = build(home, options(out))
    assert report.published == ["2026-11-24/alpha-tool-vs-beta-tool.2"]
    page = out / "compare/alpha-tool-vs-beta-tool.html"
    assert "old quote" not in page.read_text()
    reject(home.runs, newer, "editor", "quotes misread the pricing page")
    report = build(home, options(out))
    assert not page.exists() and "compare/alpha-tool-vs-beta-tool.html" in report.removed
    assert report.comparisons == 0 and report.published == []
    assert not (out / "tools/alpha-tool.html").exists()
    again = build(home, options(out))  # and it stays down
    assert again.written == [] and not page.exists()
    approve(home.runs, older, "editor")  # an explicit approve puts the older one back
    back = build(home, options(out))
    assert back.published == ["2026-11-24/alpha-tool-vs-beta-tool"]
    assert "old quote dx alpha-tool" in page.read_text()


def test_rejecting_a_draft_leaves_the_live_page_alone(home: Home, tmp_path: Path) -> None:
    out = tmp_path / "site"
    approved(home)
    build(home, options(out))
    draft = save_record(home.runs, A, B, created=NOW + timedelta(hours=1))
    reject(home.runs, draft, "editor", "not better than the live one")
    report = build(home, options(out))
    assert report.removed == [] and (out / "compare/alpha-tool-vs-beta-tool.html").exists()


# -- ownership after a crash, and the cache as untrusted input -----------------------

KILL_MID_BUILD = """
import os, pathlib, sys, time
from panel.cli import app

real_replace = pathlib.Path.replace

def replace(self, target):
    result = real_replace(self, target)
    if str(target).endswith("compare/alpha-tool-vs-beta-tool.html"):
        print("page written", flush=True)
        time.sleep(3600)  # the parent kills us here, mid-build
    return result

pathlib.Path.replace = replace
sys.argv = ["panel", "site", "build", "--out", sys.argv[1], "--base-url", "https://v.example/"]
app()
"""


def test_a_page_written_by_a_killed_build_comes_down_when_rejected(
    home: Home, tmp_path: Path
) -> None:
    path = approved(home)
    out = tmp_path / "site"
    env = {**os.environ, "PANEL_HOME": str(home.root)}
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_MID_BUILD, str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the page is on disk
        assert line == "page written\n", child.stderr.read() if child.stderr else line
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    page = out / "compare/alpha-tool-vs-beta-tool.html"
    assert page.exists() and child.returncode == -signal.SIGKILL
    result = runner.invoke(app, ["reject", str(path), "--reason", "wrong pricing", "--by", "ed"])
    assert result.exit_code == 0, result.output
    report = build(home, options(out))
    assert not page.exists(), "the rejected page stayed up"
    assert "compare/alpha-tool-vs-beta-tool.html" in report.removed
    assert not list(out.rglob(".*.tmp"))


def test_files_that_are_not_panels_are_never_removed(home: Home, tmp_path: Path) -> None:
    path = approved(home)
    out = tmp_path / "site"
    build(home, options(out))
    mine = {
        "compare/handwritten.html": "<p>mine</p>",
        "compare/x-vs-y.html": "<p>a page of my own with a panel-like name</p>",
        "tools/notes.json": '{"mine": true}',
        "compare/.x-vs-y.html.abc123.tmp": "not a leftover of ours? it is: swept",
    }
    for rel, text in mine.items():
        (out / rel).write_text(text)
    reject(home.runs, path, "editor", "wrong")
    report = build(home, options(out))
    assert sorted(report.removed) == [
        "compare/alpha-tool-vs-beta-tool.html",
        "compare/alpha-tool-vs-beta-tool.json",
        "compare/alpha-tool-vs-beta-tool.png",
        "tools/alpha-tool.html",
        "tools/alpha-tool.json",
        "tools/beta-tool.html",
        "tools/beta-tool.json",
    ]
    for rel in list(mine)[:3]:
        assert (out / rel).read_text() == mine[rel]
    assert not (out / "compare/.x-vs-y.html.abc123.tmp").exists()


def test_an_edited_cache_entry_cannot_make_the_build_write_outside_the_site(
    home: Home, tmp_path: Path
) -> None:
    approved(home)
    out = tmp_path / "site"
    build(home, options(out))
    before = files(out)
    (cache_file,) = (home.runs / ".site-cache").glob("*.json")
    cache = json.loads(cache_file.read_text())
    (entry,) = cache["records"].values()
    summary = entry["summary"]
    summary["page"] = "../../escaped"  # compare/../../escaped.html is beside the site
    summary["tools"][0]["slug"] = "../../escaped-tool"
    summary["ship"] = {"../../escaped-tool": "100%", "beta-tool": "100%"}
    summary["tools"][1]["url"] = "javascript:alert(1)"
    summary["title"] = "Hijacked \u202e title"
    cache["outputs"]["../../outside.txt"] = {"sha256": "x", "key": "y"}
    cache_file.write_text(json.dumps(cache))
    (tmp_path / "outside.txt").write_text("keep")
    (out / "compare/alpha-tool-vs-beta-tool.html").unlink()  # force a re-render
    report = build(home, options(out))
    outside = [p for p in tmp_path.rglob("*escaped*")] + list(home.root.rglob("*escaped*"))
    assert outside == []
    assert report.records_read == 1  # the bad entry was not trusted; the record was read
    assert (tmp_path / "outside.txt").read_text() == "keep"
    assert files(out) == before
    assert "Hijacked" not in (out / "index.html").read_text()


def test_one_build_at_a_time_per_site_folder(home: Home, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    held = BuildCache(home.runs, out, "").lock
    with exclusive(held, "test"), pytest.raises(LockedError, match="panel site build"):
        build(home, options(out))


def test_pages_written_by_an_older_panel_still_come_down(home: Home, tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / "compare").mkdir(parents=True)
    (out / "tools").mkdir()
    old_html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>x</title>\n'
        '</head>\n<body>\n<main>\n<article class="comparison" data-record="2026-11-20/a-vs-b">\n'
    )
    (out / "compare/old-a-vs-old-b.html").write_text(old_html)
    (out / "compare/old-a-vs-old-b.json").write_text('{"format":"panel.page/1","kind":"x"}\n')
    (out / "tools/listed.html").write_text("<p>no mark, but an old cache lists it</p>")
    cache = home.runs / ".site-cache"
    cache.mkdir(parents=True)
    tag = BuildCache(home.runs, out, "").path.name
    (cache / tag).write_text(json.dumps({"format": 1, "outputs": {"tools/listed.html": {}}}))
    report = build(home, options(out))
    assert sorted(report.removed) == [
        "compare/old-a-vs-old-b.html",
        "compare/old-a-vs-old-b.json",
        "tools/listed.html",
    ]
