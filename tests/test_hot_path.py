"""Issue 18, item 2: the per-call overhead the nightly's profile pointed to, cut.

Each test pins one cut by behaviour (never by timing): the openai body skips the SDK's
typed transform, a night plans from one catalog and one prompt builder, a prompt is
rendered and a template digested once per builder, and records are written off the
event loop.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from openai.resources.chat.completions import AsyncCompletions
from typer.testing import CliRunner

from panel.cli import app
from panel.inputs.catalog import Catalog, Tool
from panel.inputs.personas import load_personas
from panel.jobs import nightly_run as nightly
from panel.paths import Home
from panel.pipeline.prompts import PromptBuilder
from tests.support import project as fixture
from tests.support.fake_llm import FakeLLM, panel_toml

TOOL = Tool(slug="alpha", name="Alpha", description="Alpha turns prompts into pull requests.")


async def test_the_openai_kind_does_not_go_through_the_sdks_typed_transform(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``create()`` deep-walks messages and schema on every call; panel posts plain JSON."""
    from tests.test_wire_bytes import request

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("chat.completions.create was called")

    monkeypatch.setattr(AsyncCompletions, "create", refuse)
    with FakeLLM() as server:
        from panel.providers import registry
        from panel.providers.base import ProviderSettings

        provider = registry.create(
            ProviderSettings(
                name="openai/m",
                kind="openai",
                model="m",
                base_url=server.openai_url,
                api_key_env="",
            )
        )
        try:
            completion = await provider.complete(request())
        finally:
            await provider.aclose()
    assert completion.text and server.count() == 1


def test_a_prompt_is_rendered_and_a_template_digested_once_per_builder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder = PromptBuilder(fixture.PROMPTS, b"k" * 32)
    persona = load_personas(fixture.PERSONAS, fixture.PROMPTS)["dx"]
    first = builder.render(persona, TOOL)
    assert builder.render(persona, TOOL) is first  # a rival's prompt is its own review's
    other = builder.render(persona, TOOL.model_copy(update={"description": "Changed."}))
    assert other is not first and other.messages != first.messages  # keyed by the entry
    digest = builder.template_digest("dx.j2")
    reads: list[Path] = []
    monkeypatch.setattr("panel.pipeline.prompts.read_regular", lambda p, *a: reads.append(p))
    assert builder.template_digest("dx.j2") == digest and reads == []


def test_an_entrys_digest_is_taken_once_and_afresh_for_a_changed_copy() -> None:
    tool = Tool.model_validate(TOOL.model_dump())
    assert tool.digest() == TOOL.digest()  # the same entry, the same digest
    changed = tool.model_copy(update={"description": "Changed."})
    fresh = Tool.model_validate({**tool.model_dump(), "description": "Changed."})
    assert changed.digest() == fresh.digest() != tool.digest()  # never the original's


def test_a_card_is_cleaned_once_per_entry_for_every_persona(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from panel.pipeline import prompts

    cleaned: list[str] = []
    clean = prompts.clean
    monkeypatch.setattr(prompts, "clean", lambda text, *a: cleaned.append(text) or clean(text, *a))
    builder = PromptBuilder(fixture.PROMPTS, b"k" * 32)
    personas = list(load_personas(fixture.PERSONAS, fixture.PROMPTS).values())
    for persona in personas:
        builder.render(persona, TOOL)
    fields = len(prompts.FIELD_CAPS)
    assert len(personas) > 1 and len(cleaned) == fields  # once, not once per persona
    changed = TOOL.model_copy(update={"description": "Alpha now writes tests."})
    rendered = builder.render(personas[0], changed)
    assert len(cleaned) == 2 * fields and "writes^tests." in rendered.system


@pytest.fixture
def night(home: Home) -> Home:
    for path in home.catalog.iterdir():
        path.unlink()
    catalog = Catalog.load(home.catalog)
    for slug, category in (("new-a", "Agents"), ("new-b", "Agents"), ("new-c", "Runtimes")):
        catalog.save(
            Tool.model_validate(
                {"slug": slug, "name": slug.title(), "category": category,
                 "launched": "2026-11-23", "description": f"{slug} does things."}
            )
        )  # fmt: skip
    return home


def test_a_night_plans_from_one_catalog_and_writes_records_off_the_event_loop(
    night: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    def per_pair(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the catalog was read again for one pair")

    monkeypatch.setattr(Catalog, "load_some", per_pair)
    builders: list[PromptBuilder] = []
    original_init = PromptBuilder.__init__

    def counting_init(self: PromptBuilder, *args: Any, **kwargs: Any) -> None:
        builders.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(PromptBuilder, "__init__", counting_init)
    threads: list[threading.Thread] = []
    save = nightly.save

    def recording_save(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return save(*args, **kwargs)

    monkeypatch.setattr(nightly, "save", recording_save)
    with FakeLLM() as server:
        night.config_file.write_text(panel_toml(server, max_in_flight=2))
        result = CliRunner().invoke(app, ["nightly", "--since", "2026-11-20"])
    assert result.exit_code == 0, result.stderr
    assert len(threads) == 3  # three comparisons, three records
    assert all(t is not threading.main_thread() for t in threads)
    assert len(builders) == 1  # one prompt builder for the night


def test_the_system_message_is_rendered_once_per_card_for_every_persona(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import jinja2

    rendered: list[str | None] = []
    render = jinja2.Template.render

    def counting(self: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        rendered.append(self.name)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", counting)
    builder = PromptBuilder(fixture.PROMPTS, b"k" * 32)
    personas = list(load_personas(fixture.PERSONAS, fixture.PROMPTS).values())
    systems = {builder.render(p, TOOL).system for p in personas}
    assert len(systems) == 1 and rendered.count("_system.j2") == 1
    assert rendered.count("dx.j2") == 1  # each persona's own message, still per persona


@pytest.mark.parametrize(
    "edit",
    [
        {"_system.j2": "You are the {{ persona.title }} reviewer.\n"},  # read directly
        {"_system.j2": '{% include "_who.j2" %}\n', "_who.j2": "Lens: {{ persona.lens }}"},
    ],
)
def test_a_system_template_that_reads_the_persona_is_rendered_per_persona(
    tmp_path: Path, edit: dict[str, str]
) -> None:
    import shutil

    prompts = tmp_path / "prompts"
    shutil.copytree(fixture.PROMPTS, prompts)
    for name, text in edit.items():
        path = prompts / name
        path.write_text(text + (path.read_text() if path.exists() else ""))
    builder = PromptBuilder(prompts, b"k" * 32)
    personas = list(load_personas(fixture.PERSONAS, prompts).values())
    systems = [builder.render(p, TOOL).system for p in personas]
    assert len(set(systems)) == len(personas) > 1  # never one persona's text for another


def test_a_schemas_strict_form_is_worked_out_once_per_schema_object() -> None:
    from panel.providers.ladder import strict_schema, strict_schema_of

    schema = load_personas(fixture.PERSONAS, fixture.PROMPTS)["dx"].json_schema()
    first = strict_schema_of(schema)
    assert first == strict_schema(schema) and strict_schema_of(schema) is first
    other = {**schema, "properties": {"quote": {"type": "string", "maxLength": 9}}}
    assert strict_schema_of(other) == {**first, "properties": {"quote": {"type": "string"}}}


def test_two_new_tools_that_are_each_others_rival_share_their_calls(night: Home) -> None:
    """new-a and new-b (one category) each get the other as rival: their verdicts and their
    head-to-head in both orders are the same calls in both comparisons, sent once."""
    from panel.records.store import Store

    with FakeLLM() as server:
        night.config_file.write_text(
            panel_toml(server, max_in_flight=4).replace(
                "head_to_head = false", "head_to_head = true"
            )
        )
        result = CliRunner().invoke(app, ["nightly", "--since", "2026-11-20"])
        assert result.exit_code == 0, result.stderr
        sent = server.count()
    with Store.open(night.runs) as store:
        journaled = sum(store.states().values())
    rivals = {(c["tool"], c["rival"]) for c in json.loads(result.stdout)["comparisons"]}
    assert {("new-a", "new-b"), ("new-b", "new-a")} <= rivals
    verdicts = 3 * 4  # new-a, new-b, new-c by four personas (new-c's rival is a or b)
    head_to_head = 2 * 2 * 4  # {a, b} and {c, its rival}: both orders, four personas
    assert sent == journaled == verdicts + head_to_head and len(rivals) == 3
