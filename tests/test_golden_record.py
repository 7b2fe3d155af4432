"""Golden records: the same inputs on the scripted provider give the same record bytes.

The pipeline's output is pinned against records stored in tests/data/golden/, made
in the test project of tests/conftest.py (fixture personas and prompts, two tools; the
real folders can change without touching this test). Only what differs by nature
between two runs is set to a fixed value before comparing: the clock (timestamps, the
date in ids and paths) and measured latencies. Everything else, byte for byte:
verdicts, scores, the pick, trust, totals, provenance digests and field order.

To regenerate after an intended change of output: PANEL_UPDATE_GOLDEN=1 pytest
tests/test_golden_record.py, then review the diff of tests/data/golden/*.json.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from tests.support import scripted

GOLDEN = Path(__file__).parent / "data" / "golden"
runner = CliRunner()

_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_VOLATILE_NUMBERS = {"latency_ms", "duration_s", "elapsed_s", "wall_s"}


def _normalise(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, key) for v in value]
    if key in _VOLATILE_NUMBERS and isinstance(value, int | float):
        return 0
    if isinstance(value, str):
        return _DAY.sub("2000-01-01", _STAMP.sub("2000-01-01T00:00:00Z", value))
    return value


def _project(home: Home, head_to_head: bool) -> Home:
    """The test project (fixture personas and prompts, two tools), with the case's panel.toml."""
    home.config_file.write_text(f"[panel]\nhead_to_head = {str(head_to_head).lower()}\n")
    # The fence key is random per project; the golden runs pin it so prompts are stable.
    home.runs.mkdir(exist_ok=True)
    (home.runs / ".fence-key").write_bytes(b"g" * 32)
    return home


def _answers(request: Any) -> scripted.Completion:
    """Deterministic and varied: the verdict and confidence follow the request's schema name."""
    name = request.schema_name
    if "head_to_head" in name:  # dx and competitive pick the first card, the others the second
        pick = "first" if name.startswith(("dx", "competitive")) else "second"
        reason = "The tool shown in that position fits the stated job better, on balance."
        return scripted.text(json.dumps({"reason": reason, "pick": pick, "confidence": 3}))
    verdict = "skip" if name.startswith(("futurist", "business")) else "ship"
    return scripted.valid(verdict, 2 + len(name) % 4)(request)


CASES = {"verdicts-only": False, "with-head-to-head": True}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_record_is_byte_identical_to_the_golden_one(
    case: str, home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    _project(home, CASES[case])
    scripted_kind["golden"] = scripted.Script(default=_answers)
    scripted_kind["second"] = scripted.Script(default=scripted.valid("skip", 3))
    result = runner.invoke(
        app,
        ["review", "alpha-tool", "beta-tool", "-p", "scripted/golden", "-p", "scripted/second"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    (path,) = sorted(home.runs.glob("*/*.json"))
    got = json.dumps(_normalise(json.loads(path.read_bytes())), indent=2) + "\n"
    golden = GOLDEN / f"{case}.json"
    if os.environ.get("PANEL_UPDATE_GOLDEN") == "1":
        golden.write_text(got)
    assert got == golden.read_text(), f"{case}: output changed; see this module's docstring"
