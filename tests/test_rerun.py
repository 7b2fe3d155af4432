"""`panel rerun`: the same comparison, the same settings, a verdict-by-verdict diff."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.io import read_record
from tests.support import scripted

runner = CliRunner()
CONFIG = """
[panel]
providers = ["scripted/m"]
head_to_head = {h2h}

[providers."scripted/m"]
temperature = {temperature}
seed = {seed}
"""


def test_rerun_repeats_with_the_recorded_settings_and_reports_changes(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    home.config_file.write_text(CONFIG.format(h2h="true", temperature=0.3, seed=11))
    scripted_kind["m"] = scripted.Script(default=scripted.valid(verdict="ship"))
    first = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "--json"])
    old = json.loads(first.stdout)
    # Everything that could drift after the review: config, catalog and the model's mind.
    home.config_file.write_text(CONFIG.format(h2h="false", temperature=1.5, seed=99))
    (home.root / "catalog" / "alpha-tool.toml").write_text(
        'slug = "alpha-tool"\nname = "Alpha Tool Renamed"\ndescription = "Changed since."\n'
    )
    original = scripted.valid(verdict="ship")
    flipped = scripted.valid(verdict="skip")

    def answer(request: object) -> object:
        name = request.schema_name  # type: ignore[attr-defined]
        return flipped(request) if name == "dx_verdict" else original(request)  # type: ignore[operator]

    scripted_kind["m"] = scripted.Script(default=answer)  # type: ignore[arg-type]
    result = runner.invoke(app, ["rerun", old["id"], "--json"])
    assert result.exit_code == 0, result.output
    diff = json.loads(result.stdout)
    assert diff["before"] == old["id"] and diff["after"] != old["id"]
    assert diff["answers"] == 16  # 8 verdicts + 8 head-to-head answers, as in the original
    changed = [c for c in diff["changes"] if c["changed"]]
    assert {(c["persona"], c["tool"], c["before"], c["after"]) for c in changed} == {
        ("dx", "alpha-tool", "ship", "skip"),
        ("dx", "beta-tool", "ship", "skip"),
    }
    new = read_record(home.runs / f"{diff['after']}.json")
    assert [t.name for t in new.tools] == ["Alpha Tool", "Beta Tool"]  # the record's entries
    assert {(c.temperature, c.seed) for c in new.calls} == {(0.3, 11)}  # the record's sampling
    assert all(not c.cached for c in new.calls)  # really asked again
    assert all(c.model_version == "scripted-1" for c in new.calls)
    text = runner.invoke(app, ["rerun", old["id"]])
    assert "2 of 16 answers changed" in text.stdout


def test_rerun_of_a_missing_record_or_persona_is_a_clear_error(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    missing = runner.invoke(app, ["rerun", "2026-01-01/nope"])
    assert missing.exit_code == 2 and "no record" in missing.stderr
    scripted_kind["m"] = scripted.Script(default=scripted.valid())
    first = runner.invoke(
        app,
        [
            "review",
            "alpha-tool",
            "beta-tool",
            "-p",
            "scripted/m",
            "--persona",
            "security",
            "--json",
        ],
    )
    rid = json.loads(first.stdout)["id"]
    (home.personas / "security.toml").unlink()
    gone = runner.invoke(app, ["rerun", rid])
    assert gone.exit_code == 2 and "security" in gone.stderr and "Traceback" not in gone.output
