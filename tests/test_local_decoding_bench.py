"""The repeat-penalty benchmark's tally, on results with known answers."""

from __future__ import annotations

from benchmarks.local_decoding import summary
from panel.defences.quality import REPETITIVE
from panel.records.schema import CallResult


def _result(**extra: object) -> CallResult:
    base = {"key": "k", "persona": "dx", "tool": "t", "provider": "local/smollm2", "model": "m"}
    return CallResult.model_validate({**base, **extra})


def test_summary_counts_publishable_repetitive_and_costs() -> None:
    prose = "One two three four five six seven eight nine."
    results = [
        _result(status="ok", verdict="ship", quote=prose, completion_tokens=100, latency_ms=4000),
        _result(
            status="ok",
            verdict="skip",
            quote="loop loop loop",
            flags=[REPETITIVE],
            completion_tokens=300,
            latency_ms=8000,
        ),
        _result(status="failed", completion_tokens=200, latency_ms=6000),
    ]
    out = summary(results, 12.34)
    assert (out["calls"], out["valid"], out["publishable"], out["repetitive"]) == (3, 2, 1, 1)
    assert out["flags"] == {REPETITIVE: 1}
    assert out["ship_share"] == 0.5
    assert out["mean_distinct_words"] == 5.0  # (9 + 1) / 2
    assert (out["mean_completion_tokens"], out["mean_latency_s"], out["wall_s"]) == (200, 6.0, 12.3)
