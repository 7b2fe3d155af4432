"""Issue 25, item 11: progress never shows ``None``, and piped output shows each call.

Head-to-head calls read ``6/16 dx/deepseek-v3: None``, and with stderr not a terminal
nothing showed for minutes. Now every finished call is one plain line on stderr.
"""

from __future__ import annotations

import re

from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home

runner = CliRunner()


def test_piped_review_prints_a_line_per_finished_call(home: Home) -> None:
    home.config_file.write_text("[panel]\nhead_to_head = true\n")
    done = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--provider", "mock/any"])
    assert done.exit_code == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("panel review: ")]
    total = int(re.match(r"panel review: \d+/(\d+) ", lines[0]).group(1))  # type: ignore[union-attr]
    assert len(lines) == total and total > 8
    assert [int(line.split()[2].split("/")[0]) for line in lines] == list(range(1, total + 1))
    assert not any("None" in line for line in lines)
    h2h = [line for line in lines if "-vs-" in line]
    assert h2h and all(" on mock/any: picks " in line for line in h2h)
    verdicts = [line for line in lines if "-vs-" not in line]
    assert all(line.endswith((": ship", ": skip")) or "withheld" in line for line in verdicts)
