"""Issue 25, item 5: one rule decides what is live, and every surface uses it.

A superseded record used to claim "published (live on the site)" in `panel show` and the
desk, `panel list --status published` listed 5 records for 4 pages, and the desk said
"live" right after an approval, before any build.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.editorial import approve
from tests.support.desk import client
from tests.support.records import NOW, save_record
from tests.support.site import APPROVED_AT, BASE, A, B

runner = CliRunner()


def _rid(path: Path) -> str:
    return path.relative_to(path.parent.parent).with_suffix("").as_posix()


def _build(home: Home) -> None:
    out = home.root / "site"
    built = runner.invoke(app, ["site", "build", "--out", str(out), "--base-url", BASE])
    assert built.exit_code == 0, built.stderr


def _two_built(home: Home) -> tuple[str, str]:
    """A-vs-B approved and built, then a newer A-vs-B approved and built: its page is .2."""
    first = save_record(home.runs, A, B)
    approve(home.runs, first, "gina", now=APPROVED_AT)
    _build(home)
    second = save_record(home.runs, A, B, created=NOW + timedelta(hours=2))
    approve(home.runs, second, "gina", now=APPROVED_AT + timedelta(hours=2))
    _build(home)
    return _rid(first), _rid(second)


def test_show_and_list_say_a_superseded_record_is_not_live(home: Home) -> None:
    first, second = _two_built(home)
    shown = runner.invoke(app, ["show", first, "--format", "markdown"]).stdout
    assert "live on the site" not in shown
    assert "Editorial status: superseded** (not the pair's page" in shown
    assert "live on the site" in runner.invoke(app, ["show", second, "--format", "markdown"]).stdout
    listed = json.loads(runner.invoke(app, ["list", "--status", "published", "--json"]).stdout)
    assert [r["id"] for r in listed] == [second]  # one page, one live record
    rows = {r["id"]: r for r in json.loads(runner.invoke(app, ["list", "--json"]).stdout)}
    assert rows[first]["state"] == "superseded" and rows[first]["editorial"] == "published"
    table = runner.invoke(app, ["list"]).stdout
    assert re.search(
        rf"^superseded\s+complete\s+real\s+0\s+openai/gpt-4o-mini\s+{re.escape(first)}$",
        table,
        re.M,
    )
    old = runner.invoke(app, ["list", "--status", "superseded", "--json"]).stdout
    assert [r["id"] for r in json.loads(old)] == [first]


def test_the_desk_says_live_only_of_the_built_page(home: Home) -> None:
    first, second = _two_built(home)
    desk = client(home)
    old = desk.get(f"/records/{first}").text
    assert "Live on the site" not in old and 'class="live"' not in old
    assert "Not the pair&#39;s page" in old or "Not the pair's page" in old
    assert 'class="live"' in desk.get(f"/records/{second}").text
    queue = desk.get("/?status=published").text
    assert re.findall(r'data-record="([^"]+)"', queue) == [second]


def test_the_desk_does_not_say_live_right_after_an_approval(home: Home) -> None:
    path = save_record(home.runs, A, B)
    approve(home.runs, path, "gina", now=APPROVED_AT)
    desk = client(home)
    page = desk.get(f"/records/{_rid(path)}").text
    assert 'class="live"' not in page and "page at the next build" in page
    assert "not on the site yet" in page
    queue = desk.get("/").text
    assert 'class="live"' not in queue and "next build" in queue
    _build(home)
    assert 'class="live"' in desk.get("/").text
