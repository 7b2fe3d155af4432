"""End to end on the real embedded model (SmolLM2-135M via llama-cpp-python), in a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from panel.defences.fence_key import KEY_FILE
from panel.records.io import read_record
from tests.support.local_extra import needs_local

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.e2e, needs_local, pytest.mark.real_clock]  # panel runs in a subprocess


@pytest.mark.timeout(900)  # 16 real calls; about a minute on 2 idle cores, longer when busy
def test_review_on_the_embedded_model_writes_a_valid_record(tmp_path: Path) -> None:
    for folder in ("catalog", "personas", "prompts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / KEY_FILE).write_bytes(b"e2e-fixed-key-for-repeatability!")
    env = {**os.environ, "PANEL_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "panel", "review", "mistral-medium-3", "gpt-4o-mini", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=840,
        check=False,
    )
    assert proc.returncode in (0, 1, 3), proc.stderr  # 3: a tiny-model failure broke quorum
    data = json.loads(proc.stdout)
    record = read_record(tmp_path / "runs" / f"{data['id']}.json")
    assert record.panel.providers == ["local/smollm2"]
    verdicts = [c for c in record.calls if c.kind == "verdict"]
    assert len(verdicts) == 8
    assert {(c.persona, c.tool) for c in verdicts} == {
        (p, t)
        for p in ("dx", "competitive", "futurist", "business")
        for t in ("mistral-medium-3", "gpt-4o-mini")
    }
    # the head-to-head question, per persona, in both orders, on the real model too
    asked = [c for c in record.calls if c.kind == "head_to_head"]
    assert sorted({c.tool for c in asked}) == [
        "gpt-4o-mini-vs-mistral-medium-3",
        "mistral-medium-3-vs-gpt-4o-mini",
    ]
    assert len(asked) == 8 and record.scores.head_to_head is not None
    assert not any(c.conflict for c in record.calls)  # Hugging Face's model, neither tool's
    expected = 3 if record.status == "incomplete" else (0 if record.totals.failed == 0 else 1)
    assert proc.returncode == expected
    valid = [c for c in verdicts if c.ok]
    assert len(valid) >= 6, [c.failure for c in verdicts if not c.ok]
    for call in valid:
        assert call.verdict in ("ship", "skip")
        assert call.model_version == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert call.mode == "grammar"
        assert call.completion_tokens > 0 and call.latency_ms > 0
        assert len(call.quote or "") >= 40
    for call in record.calls:
        assert call.ok or (call.failure is not None and call.failure.reason) or call.flags
    ship = record.scores.tools[0]
    assert ship.valid + ship.failed == 4
    assert set(record.provenance.catalog) == {"mistral-medium-3", "gpt-4o-mini"}
