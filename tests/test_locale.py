"""Output under a locale that is not UTF-8 degrades, never crashes (issue 31, item 13).

Each command runs in a subprocess whose stdout and stderr encode as Latin-1 or ASCII
(``PYTHONIOENCODING``, and ``LC_ALL=en_US.ISO-8859-1`` as an operator would set it):
panel's own "—" and "…" and non-Latin vendor text become "?", and the command does its
job with its usual exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from panel.paths import Home
from tests.support.desk import A, B
from tests.support.records import save_record

WIDE = """\
slug = "kanji-tool"
name = "漢字 Tool — “smart”"
vendor = "Ｖｅｎｄｏｒ 株式会社"
category = "Coding agents"
tagline = "A tagline long enough to be cut short with an ellipsis in a narrow table…"
entry_price = "paid"
description = "It writes 漢字."
"""


def _panel(home: Home, encoding: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "PANEL_HOME": str(home.root),
        "PYTHONIOENCODING": encoding,
        "LC_ALL": "en_US.ISO-8859-1",
        "COLUMNS": "50",
    }
    env.pop("PYTHONUTF8", None)
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [sys.executable, "-m", "panel", *args], env=env, capture_output=True, timeout=120, cwd=root
    )


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_output_in_a_non_utf8_locale_degrades_and_never_crashes(home: Home, encoding: str) -> None:
    (home.catalog / "kanji-tool.toml").write_text(WIDE, encoding="utf-8")
    record = save_record(home.runs, A, B)
    rid = record.relative_to(home.runs).with_suffix("").as_posix()
    for args in (
        ["show", rid],
        ["show", rid, "--markdown"],
        ["tools", "list"],
        ["tools", "show", "kanji-tool"],
        ["list"],
        ["show", "2026-01-01/no-such-record"],  # an error line
    ):
        done = _panel(home, encoding, *args)
        err = done.stderr.decode(encoding)  # every byte is valid in the stream's encoding
        out = done.stdout.decode(encoding)
        assert "Traceback" not in err and "UnicodeEncodeError" not in err, (args, err)
        if args[1:] == ["2026-01-01/no-such-record"]:
            assert done.returncode == 2 and err.startswith("panel: error: "), err
        else:
            assert done.returncode == 0, (args, err)
            assert out.strip(), args
    listed = _panel(home, encoding, "tools", "show", "kanji-tool").stdout.decode(encoding)
    assert "? Tool" in listed or "?? Tool" in listed  # the kanji, replaced
