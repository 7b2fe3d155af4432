"""80 columns (issue 16, item 10): ids, names and addresses are never wrapped or cut.

Each test runs the real CLI with COLUMNS=80 and checks that every value a user
would copy appears whole on one line, with no ellipsis.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.providers.base import Completion, CompletionRequest
from panel.publish.render.columns import aligned
from tests.support import scripted
from tests.support.records import save_record, tool

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "records"
NARROW = {"COLUMNS": "80"}


def _lines(*args: str) -> list[str]:
    result = runner.invoke(app, list(args), env=NARROW)
    assert result.exit_code == 0, result.output
    assert "\u2026" not in result.stdout  # nothing ellipsised
    return result.stdout.splitlines()


def _whole(value: str, lines: list[str]) -> bool:
    return any(value in line for line in lines)


def test_list_prints_every_id_whole_on_one_line(home: Home) -> None:
    long_a, long_b = tool("smolvlm-2-5-instruct-preview"), tool("mistral-medium-3-enterprise")
    paths = [
        save_record(home.runs, long_a, long_b),
        save_record(home.runs, long_a, long_b),
        save_record(home.runs, tool("smolvlm-2-5"), tool("mistral-medium-3")),
    ]
    ids = [p.relative_to(home.runs).with_suffix("").as_posix() for p in paths]
    lines = _lines("list")
    assert lines[0].split() == ["state", "record", "review", "overrides", "providers", "id"]
    for rid in ids:
        assert any(line.split()[-1] == rid for line in lines), rid  # whole, and last
    typical = next(line for line in lines if line.endswith(ids[2]))
    # An everyday line fits a 100-column terminal (issue 25 added the review and providers).
    assert len(typical) <= 100


PROVIDERS = """
[panel]
providers = ["mistral/mistral-small-latest", "openai/gpt-4o-mini-2024-07-18"]

[providers.ollama-on-the-gpu-box]
kind = "openai"
model = "llama3.2:3b-instruct-q4_K_M"
base_url = "http://gpu-box.internal.example:11434/v1"
api_key_env = ""
"""


def test_providers_list_cuts_no_value(home: Home) -> None:
    home.config_file.write_text(PROVIDERS)
    lines = _lines("providers", "list")
    for value in (
        "mistral/mistral-small-latest",
        "openai/gpt-4o-mini-2024-07-18",
        "ollama-on-the-gpu-box = openai/llama3.2:3b-instruct-q4_K_M",
        "http://gpu-box.internal.example:11434/v1",
        "$MISTRAL_API_KEY",
    ):
        assert _whole(value, lines), value
    default = "[panel]\nhead_to_head = false\n"
    home.config_file.write_text(default)
    lines = _lines("providers", "list")
    assert _whole("local/smollm2", lines) and all(len(line) <= 80 for line in lines)


def test_rerun_cuts_no_value(home: Home, scripted_kind: dict[str, scripted.Script]) -> None:
    provider = "scripted/a-rather-long-model-name-that-must-stay-whole"
    home.config_file.write_text(f'[panel]\nproviders = ["{provider}"]\nhead_to_head = true\n')
    scripted_kind["a-rather-long-model-name-that-must-stay-whole"] = scripted.Script(
        default=scripted.valid(verdict="ship")
    )
    first = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    old = json.loads(first.stdout)["id"]
    ship, skip = scripted.valid(verdict="ship"), scripted.valid(verdict="skip")

    def answer(request: CompletionRequest) -> Completion:
        return (skip if request.schema_name == "dx_verdict" else ship)(request)  # type: ignore[operator]

    scripted_kind["a-rather-long-model-name-that-must-stay-whole"].default = answer
    lines = _lines("rerun", old)
    assert _whole(f"{provider}:", lines)
    assert _whole("alpha-tool-vs-beta-tool", lines) and _whole("beta-tool-vs-alpha-tool", lines)
    assert lines[-1].startswith("record: ") and f"rerun of {old} -> " in "\n".join(lines)
    answers = [line for line in lines if {"verdict", "pick"} & set(line.split())]
    assert len(answers) == 16
    changed = [line.split() for line in answers if line.startswith("*")]
    assert changed == [
        ["*", "dx", "verdict", "ship", "skip", "alpha-tool"],
        ["*", "dx", "verdict", "ship", "skip", "beta-tool"],
    ]


def test_aligned_pads_all_but_the_last_column() -> None:
    lines = aligned(("a", "bb", "c"), [("xxx", "y", "a long last value"), ("z", "", "v")])
    assert lines == ["a    bb  c", "xxx  y   a long last value", "z        v"]


def test_show_cuts_no_provider_at_80_columns(home: Home) -> None:
    long = {"oa": "openai/gpt-4o-mini-2024-07-18", "mi": "mistral/mistral-small-latest"}
    data = json.loads((DATA / "v5.json").read_text())
    for call in data["calls"]:
        call["provider"] = long[call["provider"]]
    for seat in data["scores"]["head_to_head"]["seats"]:
        seat["provider"] = long[seat["provider"]]
    folder = home.runs / "2026-11-25"
    folder.mkdir(parents=True)
    (folder / "smolvlm-2-5-vs-mistral-medium-3.json").write_text(json.dumps(data))
    lines = _lines("show", "2026-11-25/smolvlm-2-5-vs-mistral-medium-3")
    seats = [line for line in lines if line.split()[-1:] in ([p] for p in long.values())]
    assert len(seats) == 8  # one line per head-to-head seat, its model whole at the end
