from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel import clock
from panel.paths import Home
from panel.providers import registry
from tests.support import project as fixture
from tests.support import scripted
from tests.support.clock import TickingClock

TOOL_A = """\
slug = "alpha-tool"
name = "Alpha Tool"
vendor = "Alpha Inc"
category = "LLM APIs"
tagline = "The first tool"
entry_price = "paid"
pricing_notes = "Per-token pricing."
description = "Alpha Tool is an API for text generation."
"""

TOOL_B = """\
slug = "beta-tool"
name = "Beta Tool"
vendor = "Beta Labs"
category = "Local inference runtimes"
tagline = "The second tool"
entry_price = "open-source"
description = "Beta Tool runs models locally."
"""


NO_HEAD_TO_HEAD = "[panel]\nhead_to_head = false\n"


@pytest.fixture(autouse=True)
def wall_clock(request: pytest.FixtureRequest) -> Iterator[TickingClock]:
    """panel's clock in every test: a fixed start (tests.support.clock.START), never the date
    the suite happens to run on. A test moves it with ``wall_clock.set`` or ``advance``.

    A test marked ``real_clock`` runs panel in subprocesses that read the real clock, and
    reads their records in process: its clock is left real, so both agree. Such a test must
    not depend on the date (CI runs the suite again under faketime and another time zone).
    """
    source = TickingClock()
    if request.node.get_closest_marker("real_clock"):
        yield source
        return
    previous = clock.use(source)
    yield source
    clock.use(previous)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """An isolated panel project: the real personas and prompts, a two-tool catalog."""
    root = tmp_path / "project"
    shutil.copytree(fixture.PERSONAS, root / "personas")
    shutil.copytree(fixture.PROMPTS, root / "prompts")
    (root / "catalog").mkdir()
    (root / "catalog" / "alpha-tool.toml").write_text(TOOL_A)
    (root / "catalog" / "beta-tool.toml").write_text(TOOL_B)
    # Most tests pin the verdict pipeline's call counts; head-to-head has its own tests.
    (root / "panel.toml").write_text(NO_HEAD_TO_HEAD)
    monkeypatch.setenv("PANEL_HOME", str(root))
    return Home(root)


@pytest.fixture
def scripted_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, scripted.Script]]:
    """Registers the in-process ``scripted/<name>`` provider; yields its scripts by model."""
    monkeypatch.setitem(registry.KINDS, "scripted", "tests.support.scripted")
    scripted.SCRIPTS.clear()
    yield scripted.SCRIPTS
    scripted.SCRIPTS.clear()
