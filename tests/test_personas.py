from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from panel.errors import PanelError
from panel.inputs.personas import load_personas, select_personas
from tests.support import project as fixture

FIFTH = """\
name = "ops"
title = "Ops"
order = 6
template = "ops.j2"
lens = "Operations: what it costs to run at 3 a.m."
voice = "An SRE."

[[fields]]
name = "pager_risk"
description = "What pages you at night."

[[fields]]
name = "runbook"
kind = "list"
description = "Runbook steps."
max_items = 3

[[fields]]
name = "maturity"
kind = "choice"
choices = ["alpha", "beta", "ga"]
description = "How mature it is."
"""


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    personas, prompts = tmp_path / "personas", tmp_path / "prompts"
    shutil.copytree(fixture.PERSONAS, personas)
    shutil.copytree(fixture.PROMPTS, prompts)
    return personas, prompts


def test_a_new_persona_is_files_only(folders: tuple[Path, Path]) -> None:
    personas, prompts = folders
    (personas / "ops.toml").write_text(FIFTH)
    (prompts / "ops.j2").write_text('{% include "_tool.j2" %}\n{% include "_answer.j2" %}')
    loaded = load_personas(personas, prompts)
    ops = loaded["ops"]
    schema = ops.json_schema()
    assert schema["properties"]["runbook"]["maxItems"] == 3
    assert schema["properties"]["maturity"]["enum"] == ["alpha", "beta", "ga"]
    assert list(schema["properties"])[-3:] == ["quote", "verdict", "confidence"]
    assert "ops" in [p.name for p in select_personas(loaded, [])]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name = 'ops'\ntitle = ", "not valid TOML"),
        (FIFTH.replace('name = "ops"', 'name = "other"'), "must match the file name"),
        (
            FIFTH.replace('template = "ops.j2"', 'template = "nope.j2"'),
            "template 'nope.j2' not found",
        ),
        (FIFTH.replace('name = "pager_risk"', 'name = "verdict"'), "reserved"),
        (FIFTH.replace('choices = ["alpha", "beta", "ga"]', 'choices = ["ga"]'), "< 2 choices"),
        (FIFTH.replace('voice = "An SRE."', ""), "field 'voice'"),
    ],
)
def test_bad_persona_files_fail_clearly(
    folders: tuple[Path, Path], content: str, message: str
) -> None:
    personas, prompts = folders
    (prompts / "ops.j2").write_text("x")
    (personas / "ops.toml").write_text(content)
    with pytest.raises(PanelError, match=message) as err:
        load_personas(personas, prompts)
    assert "ops.toml" in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_persona_suggests_close_names() -> None:
    loaded = load_personas(fixture.PERSONAS, fixture.PROMPTS)
    with pytest.raises(PanelError, match="did you mean business"):
        select_personas(loaded, ["busines"])


REAL = Path(__file__).resolve().parent.parent


def test_the_shipped_personas_load_and_four_sit_on_the_default_panel() -> None:
    """The product's own folders (every other test uses the fixture copies)."""
    loaded = load_personas(REAL / "personas", REAL / "prompts")
    assert [p.name for p in select_personas(loaded, [])] == [
        "dx",
        "competitive",
        "futurist",
        "business",
    ]


def test_tests_pin_counts_to_fixture_personas_not_the_real_folder() -> None:
    """A new default persona in personas/ must break no test: only these name the real folder."""
    allowed = {"test_personas.py", "test_e2e_local.py", "test_docs.py", "test_wire_bytes.py"}
    # Reviews through real servers, like the e2e test, run the real project and compare each
    # server with the embedded model on the same personas: they pin no count.
    allowed.add("test_servers.py")
    real = re.compile(r"ROOT\s*/\s*[\"'](personas|prompts)[\"']|copytree\(\s*ROOT")
    offenders = [
        p.name
        for p in Path(__file__).parent.glob("**/*.py")
        if p.name not in allowed and real.search(p.read_text())
    ]
    assert offenders == []
