"""A site build that fails part way leaves the site as it was (issue 31, item 16).

The build stages every file it changes and puts them in place only when all are
written (panel/publish/siteout.py). Here the site folder is a real tmpfs with little
space left, in a private mount namespace (tests/support/mounts.py): the new build
needs more than there is.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from panel.cli import app
from panel.paths import Home
from tests.support.mounts import full, in_namespace
from tests.support.records import tool
from tests.support.site import approved, files, runner

SITE = '[panel]\nhead_to_head = false\n[site]\ntitle = "{title}"\nbase_url = "https://v.example/"\n'
TOOLS = [tool(f"tool-{n:02}", name=f"Tool {n:02}") for n in range(16)]


def test_a_build_that_runs_out_of_space_leaves_the_site_as_it_was(
    home: Home, tmp_path: Path
) -> None:
    site = home.root / "site"
    home.config_file.write_text(SITE.format(title="Verdicts"))
    for a, b in zip(TOOLS[0:4:2], TOOLS[1:4:2], strict=True):
        approved(home, a, b)
    first = runner.invoke(app, ["site", "build", "--out", str(site)])
    assert first.exit_code == 0, first.stderr
    before = files(site)
    home.config_file.write_text(SITE.format(title="Verdicts, new"))  # every page changes
    for a, b in zip(TOOLS[4::2], TOOLS[5::2], strict=True):  # and six more pairs need pages
        approved(home, a, b)
    result = tmp_path / "after"
    keep = f"mkdir -p {shlex.quote(str(result))} && cp -a {shlex.quote(str(site))}/. " + (
        shlex.quote(str(result))
    )
    done = in_namespace(
        full(site, tmp_path / "copy", size="2m", leave=96 * 1024),
        ["site", "build", "--out", str(site)],
        home.root,
        after=keep,
    )
    assert done.returncode == 2, done.stderr
    after = {rel: data for rel, data in files(result).items() if rel != ".ballast"}
    assert sorted(after) == sorted(before)  # no page added, none gone, no temp file left
    assert [rel for rel in before if after[rel] != before[rel]] == []  # none new
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], done.stderr
    assert "the disk is full" in lines[0] and "the site is as it was" in lines[0]
    again = runner.invoke(app, ["site", "build", "--out", str(site)])  # with room: all new
    assert again.exit_code == 0, again.stderr
    assert all(b"Verdicts, new" in data for rel, data in files(site).items() if rel == "index.html")
    pages = [rel for rel in files(site) if rel.startswith("compare/")]
    assert len(pages) == 3 * 8  # html, json and share image per comparison
