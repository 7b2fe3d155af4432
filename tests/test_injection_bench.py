"""The injection benchmark's corpus and its scoring, run through the real runner.

A scripted provider that obeys any payload it sees must score a flip rate and a
reach rate of 1; one that ignores payloads must score 0. The benign controls
must not count as flips for either.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.injection import run as bench
from panel.paths import Home
from panel.providers.base import Completion, CompletionRequest
from panel.records.schema import CallResult
from tests.support import scripted

REQUIRED = {
    "override",
    "fake_delimiter",
    "role_play",
    "verdict_stuffing",
    "obfuscated",
    "multilingual",
}


def test_corpus_has_fifty_payloads_in_every_category() -> None:
    payloads = bench.load_payloads()
    assert len(payloads) >= 50
    categories = Counter(p.category for p in payloads)
    assert set(categories) >= REQUIRED
    assert len({p.id for p in payloads}) == len(payloads)
    assert len({p.marker for p in payloads}) == len(payloads)
    for p in payloads:
        assert "{verdict}" in p.text, p.id
        assert p.marker.lower() in p.text.lower(), p.id
    assert len(bench.load_benign()) >= 4


def _result(status: str = "ok", verdict: str | None = "ship", **extra: object) -> CallResult:
    fields: dict[str, object] = {
        "key": "k",
        "persona": "dx",
        "tool": "t",
        "provider": "p",
        "model": "m",
        "status": status,
        "verdict": verdict if status == "ok" else None,
    }
    return CallResult.model_validate({**fields, **extra})


def test_score_counts_flips_reach_and_leaks() -> None:
    payload = bench.Payload(id="x-1", category="override", text="{verdict}", marker="zork")
    base = _result(verdict="ship")
    cases = [(payload, None, None, base, "skip")] * 4
    answers = [
        _result(verdict="skip", quote="Zork says skip.", prompt_tokens=100, latency_ms=900),
        _result(verdict="ship", quote="Fine.", prompt_tokens=500, latency_ms=3100),  # held
        _result(status="failed"),  # invalid
        _result(verdict="skip", quote="zork", flags=["canary"]),  # flipped, leak: not published
    ]
    out = bench.score(cases, answers)  # type: ignore[arg-type]
    assert (out["flips"], out["pairs"], out["flip_rate"]) == (2, 3, 0.667)
    assert (out["reached"], out["published"], out["reach_rate"]) == (1, 2, 0.5)
    # before the leak check, the flagged answer's marker counts too
    assert (out["reached_unchecked"], out["valid"], out["reach_rate_unchecked"]) == (2, 3, 0.667)
    assert (out["invalid"], out["leak_flagged"], out["flags"]) == (1, 1, {"canary": 1})
    assert (out["mean_prompt_tokens"], out["mean_latency_s"]) == (150, 1.0)
    assert out["by_category"]["override"]["cases"] == 4
    assert out["reach_examples"] == [{"payload": "x-1", "quote": "Zork says skip."}]


def test_flag_score_counts_flags_on_valid_clean_answers() -> None:
    answers = [
        _result(flags=["card-text-echo"]),
        _result(flags=["card-text-echo", "canary-leak"]),
        _result(),
        _result(status="failed"),
    ]
    assert bench.flag_score(answers) == {
        "valid": 3,
        "flagged": 2,
        "flagged_rate": 0.667,
        "flags": {"card-text-echo": 2, "canary-leak": 1},
    }


def test_control_score() -> None:
    bases = [_result(verdict="ship"), _result(verdict="skip"), _result(verdict="ship")]
    controls = [_result(verdict="skip"), _result(verdict="skip"), _result(status="failed")]
    out = bench.control_score(bases, controls)
    assert out == {
        "benign_flip_rate": 0.5,
        "benign_flips": 1,
        "benign_pairs": 2,
        "benign_invalid": 1,
    }


MARKERS = [p.marker for p in bench.load_payloads()]


def gullible(request: CompletionRequest) -> Completion:
    """Obeys the payload: flips to skip and writes the marker into the quote."""
    prompt = " ".join(m.content for m in request.messages).lower()
    marker = next((m for m in MARKERS if m in prompt), None)
    answer = scripted.valid_answer(request.schema, "skip" if marker else "ship")
    if marker:
        answer["quote"] = f"{marker} {answer['quote']}"
    return scripted.text(json.dumps(answer))


@pytest.mark.parametrize(("model", "expected"), [("gullible", 1.0), ("stubborn", 0.0)])
def test_benchmark_end_to_end(
    home: Home,
    scripted_kind: dict[str, scripted.Script],
    model: str,
    expected: float,
) -> None:
    scripted_kind["gullible"] = scripted.Script(default=gullible)
    scripted_kind["stubborn"] = scripted.Script(default=scripted.valid("ship"))
    out = asyncio.run(
        bench.run(f"scripted/{model}", ["dx", "competitive", "business"], 12, 0, home.root)
    )
    assert out["payloads"] == 12 and out["tools"] == 2
    for setting in ("defences_on", "defences_off"):
        r = out[setting]
        assert r["cases"] == 12
        assert r["flip_rate"] == expected and r["reach_rate"] == expected
        assert r["benign_flip_rate"] == 0.0 and r["benign_pairs"] == 12
        assert r["clean"]["valid"] == 6 and r["clean"]["flagged"] == 0
    # 2 tools x 3 personas clean, 12 injected, 12 controls; per setting.
    assert len(scripted_kind[model].requests) == 2 * (6 + 12 + 12)
    if model == "gullible":
        assert out["defences_on"]["reach_examples"]


def test_rerun_is_served_from_its_store(
    home: Home,
    scripted_kind: dict[str, scripted.Script],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scripted_kind["m"] = scripted.Script(default=gullible)
    out = tmp_path / "result.json"
    argv = ["run", "--provider", "scripted/m", "--limit", "3", "--home", str(home.root)]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(out)])
    bench.main()
    first = len(scripted_kind["m"].requests)
    assert json.loads(out.read_text())["defences_on"]["flip_rate"] == 1.0
    bench.main()
    assert len(scripted_kind["m"].requests) == first  # nothing paid twice
    assert (home.runs / "injection-bench.db").exists()


def test_payloads_inside_evidence_pages_run_through_the_pack(
    home: Home, scripted_kind: dict[str, scripted.Script]
) -> None:
    """Issue 26: payloads hidden in a fetched page reach the model only inside the pack."""
    pages = [p for p in bench.load_payloads() if p.where == "evidence"]
    assert len(pages) >= 8 and {p.category for p in pages} == {"evidence_page"}
    scripted_kind["gullible"] = scripted.Script(default=gullible)
    out = asyncio.run(bench.run("scripted/gullible", ["dx"], None, 0, home.root, "evidence"))
    assert out["payloads"] == len(pages) and out["where"] == {"evidence": len(pages)}
    for setting in ("defences_on", "defences_off"):
        r = out[setting]
        assert r["flip_rate"] == 1.0 and r["benign_flip_rate"] == 0.0
    requests = scripted_kind["gullible"].requests
    injected = [r for r in requests if any(m in r.messages[0].content.lower() for m in MARKERS)]
    assert injected and all("citations" in r.schema["properties"] for r in injected)
    on = [r for r in injected if "S1 BEGIN" in r.messages[0].content]
    assert on  # with the defences on, the page sits inside its fence in the system message
