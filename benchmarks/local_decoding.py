"""The embedded model's repeat penalty: how many of its quotes are prose, at what cost.

SmolLM2-135M under llama.cpp's default repeat penalty (1.0) often loops: a quote
that is one date or word over and over ("2023-07-26, 2023-07-26, …"). This runs
the same verdict prompts (defences on, first answers only, no re-asks) at each
repeat penalty and counts, per setting:

- **valid**: schema-valid answers;
- **publishable**: valid answers that pass the leak check and the quote check;
- **repetitive**: valid answers whose quote is flagged ``repetitive-quote``;
- flags by kind, mean distinct words per valid quote, ship share, mean
  completion tokens and latency.

The prompts are the 36 (tool, persona) pairs whose clean cards the injection
benchmark reviews.
Calls go through panel's real runner and a store of their own
(``runs/local-decoding.db``; the penalty is part of the cache key), so an
interrupted run resumes without decoding twice.

Usage: .venv/bin/python -m benchmarks.local_decoding [--penalty 1.0 --penalty 1.15] [--out F]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from panel.defences.fence_key import fence_key
from panel.defences.quality import REPETITIVE
from panel.inputs.catalog import Catalog
from panel.inputs.personas import load_personas
from panel.paths import Home
from panel.pipeline.calls import Call
from panel.pipeline.judge import Judge
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.runner import Runner
from panel.providers.base import Sampling
from panel.providers.local import LocalProvider
from panel.records.schema import CallResult
from panel.records.store import Store

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = ("dx", "competitive", "futurist", "business")


def summary(results: list[CallResult], wall_s: float) -> dict[str, Any]:
    valid = [r for r in results if r.status == "ok"]
    flags = Counter(flag for r in valid for flag in r.flags)
    distinct = [len(set(re.findall(r"\w+", (r.quote or "").lower()))) for r in valid]
    n = len(results)
    return {
        "calls": n,
        "valid": len(valid),
        "publishable": sum(1 for r in valid if r.ok),
        "repetitive": flags[REPETITIVE],
        "flags": dict(flags),
        "ship_share": round(sum(r.verdict == "ship" for r in valid) / len(valid), 3)
        if valid
        else None,
        "mean_distinct_words": round(statistics.fmean(distinct), 1) if distinct else None,
        "mean_completion_tokens": round(statistics.fmean(r.completion_tokens for r in results)),
        "mean_latency_s": round(statistics.fmean(r.latency_ms for r in results) / 1000, 2),
        "wall_s": round(wall_s, 1),
    }


async def run(penalties: list[float], root: Path = ROOT) -> dict[str, Any]:
    home = Home(root)
    personas = load_personas(home.personas, home.prompts)
    tools = sorted(Catalog.load(home.catalog).tools.values(), key=lambda t: t.slug)
    builder = PromptBuilder(home.prompts, fence_key(home.runs))
    by_slug = {t.slug: t for t in tools}
    pairs = sorted({(tools[i % len(tools)].slug, PERSONAS[i % len(PERSONAS)]) for i in range(56)})
    out: dict[str, Any] = {}
    with Store(home.runs / "local-decoding.db") as store:
        for penalty in penalties:
            provider = LocalProvider("smollm2", Sampling(), repeat_penalty=penalty)
            calls = [
                Call(personas[p], by_slug[t], provider, builder.render(personas[p], by_slug[t]))
                for t, p in pairs
            ]
            runner = Runner(judge=Judge(max_reasks=0), store=store)
            started = time.monotonic()
            results = await runner.run(calls)
            out[str(penalty)] = summary(results, time.monotonic() - started)
            print(f"repeat_penalty {penalty}: {out[str(penalty)]}", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--penalty", type=float, action="append", dest="penalties")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "local-decoding.json"
    )
    args = parser.parse_args()
    penalties = args.penalties or [1.0, 1.1, 1.15, 1.3]
    results = asyncio.run(run(penalties))
    write_results(args.out, model="SmolLM2-135M-Instruct Q4_1", by_penalty=results)


if __name__ == "__main__":
    main()
