"""The README's cron lines, run verbatim under cron's bare environment (``env -i``).

Issue 25, item 1: ``>> runs/nightly/cron.log`` failed on a fresh install (no such folder),
and a line that names no keys failed only on the first night with work. Each ``cron`` block
line of the README is run as cron runs it: ``env -i sh -c LINE``, with ``/srv/panel`` a
fresh project, ``/etc/panel/keys.env`` a keys file and ``.venv/bin/panel`` this checkout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel.paths import Home
from tests.support.catalog import make_catalog
from tests.support.fake_llm import FakeLLM, panel_toml

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
KEY_ENV = "CRON_TEST_KEY"


def cron_lines() -> list[str]:
    blocks = re.findall(r"```cron\n(.*?)```", README, re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    return [line.split(None, 5)[5] for line in lines]  # the command after the schedule


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def project(home: Home, server: FakeLLM, tmp_path: Path) -> Home:
    """A fresh install: no runs/ yet, the panel in panel.toml, its key in an env file only."""
    make_catalog(home, {"a-tool": ("Coding agents", "2026-01-10", [])})
    toml = panel_toml(server).replace('api_key_env = ""', f'api_key_env = "{KEY_ENV}"')
    home.config_file.write_text(toml + "batch = true\n")
    venv = home.root / ".venv" / "bin"
    venv.mkdir(parents=True)
    script = venv / "panel"  # the console script, importing this checkout
    script.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "from panel.cli import app\nsys.exit(app())\n"
    )
    script.chmod(0o755)
    return home


def run(line: str, project: Home, keys: Path) -> subprocess.CompletedProcess[str]:
    command = line.replace("/srv/panel", str(project.root)).replace(
        "/etc/panel/keys.env", str(keys)
    )
    return subprocess.run(
        ["env", "-i", "sh", "-c", command], capture_output=True, text=True, timeout=120
    )


def test_the_readme_shows_cron_lines() -> None:
    lines = cron_lines()
    assert len(lines) >= 3 and all(".venv/bin/panel nightly" in line for line in lines)


@pytest.mark.parametrize("n", range(len(cron_lines())))
def test_each_readme_cron_line_works_verbatim_under_env_i(
    n: int, project: Home, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.env"
    keys.write_text(f"{KEY_ENV}=sk-cron-test\n")
    keys.chmod(0o600)
    assert not project.runs.exists()
    done = run(cron_lines()[n], project, keys)
    assert done.returncode == 0, done.stderr
    last = (project.runs / "nightly" / "cron.log").read_text().splitlines()[-1]
    assert " panel nightly: planned 0: done 0" in last and "; summary " in last


@pytest.mark.parametrize("n", range(len(cron_lines())))
def test_a_cron_line_without_the_key_fails_on_a_night_with_nothing_to_do(
    n: int, project: Home, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.env"
    keys.write_text("OTHER_KEY=x\n")
    done = run(cron_lines()[n], project, keys)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"needs an API key in ${KEY_ENV}" in done.stderr
    last = (project.runs / "nightly" / "cron.log").read_text().splitlines()[-1]
    assert f"panel nightly: error: provider fake needs an API key in ${KEY_ENV}" in last
