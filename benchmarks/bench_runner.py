"""Runner benchmarks against a loopback fake server in a separate process (issue 3).

Measures, in one run on this machine, as ratios:
  1. review latency: a 16-call review on 2 providers at 200 ms/call vs the slowest single call
     (target <= 1.3x);
  2. throughput: 1,000 calls at concurrency 32, 200 ms/call, vs the ideal 32/0.2 s
     (target >= 0.85);
  3. overhead: panel's client CPU time per call (render, validate, aggregate, record) vs a bare
     loop of the same SDK calls, zero-latency server (target <= 1.5x);
  4. 20% 429s with retry-after-ms 100: every call completes, throughput >= 0.5 of the no-429 run.
Writes benchmarks/results/runner.json and prints a summary.

Usage: .venv/bin/python -m benchmarks.bench_runner [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openai

from panel.inputs.catalog import Catalog
from panel.inputs.personas import load_personas
from panel.jobs.review import build_record, plan_review
from panel.paths import Home
from panel.pipeline.budget import Budget
from panel.pipeline.calls import Call
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.runner import Runner
from panel.providers import registry
from panel.providers.base import Limits, Provider, ProviderSettings
from panel.providers.ladder import strict_schema
from panel.records.io import write_record
from panel.records.schema import CallResult

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "runner.json"
KEY = "bench-key"


def fake_server_args(latency: float = 0.0, rate_429: float = 0.0) -> list[str]:
    """The arguments of a FakeLLM run as ``python -m tests.support.fake_llm``."""
    return ["--latency", str(latency), "--rate-429", str(rate_429), "--retry-after-ms", "100"]


def fake_server_cmd(latency: float = 0.0, rate_429: float = 0.0) -> list[str]:
    """The command line of a FakeLLM in its own process (it prints its port)."""
    return [sys.executable, "-m", "tests.support.fake_llm", *fake_server_args(latency, rate_429)]


@contextmanager
def server_process(module: str, *args: str) -> Iterator[str]:
    """A fake server (``python -m module args``) in its own process, so its CPU never
    competes with the measured client; it prints its port and stops when stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    port = proc.stdout.readline().strip()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stdin.close()
        proc.wait(10)


def fake_server(latency: float = 0.0, rate_429: float = 0.0) -> AbstractContextManager[str]:
    """A FakeLLM in its own process."""
    return server_process("tests.support.fake_llm", *fake_server_args(latency, rate_429))


def settings(kind: str, url: str, in_flight: int) -> ProviderSettings:
    return ProviderSettings(
        name=f"{kind}/bench",
        kind=kind,
        model="bench",
        base_url=f"{url}/v1" if kind == "openai" else url,
        api_key_env="",
        limits=Limits(max_in_flight=in_flight),
        timeout=30,
    )


def project() -> Home:
    root = Path(tempfile.mkdtemp(prefix="panel-bench-"))
    for folder in ("catalog", "personas", "prompts"):
        shutil.copytree(ROOT / folder, root / folder)
    return Home(root)


def calls_for(provider: Provider, n: int) -> list[Call]:
    """n distinct calls (distinct keys: identical calls are shared, not sent twice)."""
    personas = list(load_personas(ROOT / "personas", ROOT / "prompts").values())[:4]
    base = list(Catalog.load(ROOT / "catalog").tools.values())
    prompts = PromptBuilder(ROOT / "prompts", b"k" * 32)
    calls = []
    for i in range(n):
        tool = base[i % len(base)].model_copy(update={"slug": f"bench-{i}"})
        persona = personas[i % len(personas)]
        calls.append(Call(persona, tool, provider, prompts.render(persona, tool)))
    assert len({c.key for c in calls}) == n
    return calls


async def run_plan(calls: list[Call], clients: dict[str, Provider]) -> list[CallResult]:
    """The runner alone (no store, no cache), then the plan's clients closed, on one loop."""
    try:
        return await Runner().run(calls)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients.values()))


async def run_calls(calls: list[Call], provider: Provider) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    results = await Runner(policy=RetryPolicy(attempts=20, retry_after_cap=5)).run(calls)
    elapsed = time.perf_counter() - start
    await provider.aclose()
    return elapsed, results


def bench_latency(quick: bool) -> dict[str, Any]:
    latency = 0.2
    with fake_server(latency) as url_a, fake_server(latency) as url_b:
        home = project()
        home.config_file.write_text(
            f'[panel]\nproviders = ["a", "b"]\nhead_to_head = false  # the 16 verdict calls\n'
            f'[providers.a]\nkind = "openai"\nmodel = "m"\nbase_url = "{url_a}/v1"\n'
            f'api_key_env = ""\n'
            f'[providers.b]\nkind = "mistral"\nmodel = "m"\nbase_url = "{url_b}"\n'
            f'api_key_env = ""\n'
        )

        def review_once() -> float:
            clients: dict[str, Provider] = {}
            plan = plan_review(home, "smolvlm-2-5", "mistral-medium-3", [], [], clients=clients)
            start = time.perf_counter()
            results = asyncio.run(run_plan(plan.calls, clients))
            assert len(results) == 16 and all(r.ok for r in results)
            return time.perf_counter() - start

        def single_once(kind: str) -> float:
            provider = registry.create(settings(kind, url_a if kind == "openai" else url_b, 1))
            elapsed, results = asyncio.run(run_calls(calls_for(provider, 1), provider))
            assert results[0].ok
            return elapsed

        rounds = 2 if quick else 5
        review_once()  # warm-up: imports, first connections
        reviews = [review_once() for _ in range(rounds)]
        singles = [max(single_once("openai"), single_once("mistral")) for _ in range(rounds)]
    review_s, single_s = sorted(reviews)[len(reviews) // 2], max(singles)
    return {
        "calls": 16,
        "latency_per_call_s": latency,
        "review_s_median": round(review_s, 4),
        "slowest_single_call_s": round(single_s, 4),
        "ratio": round(review_s / single_s, 3),
        "target": "<= 1.3",
        "pass": review_s / single_s <= 1.3,
    }


def bench_throughput(n: int, rate_429: float = 0.0) -> dict[str, Any]:
    latency, concurrency = 0.2, 32
    with fake_server(latency, rate_429) as url:
        provider = registry.create(settings("openai", url, concurrency))
        elapsed, results = asyncio.run(run_calls(calls_for(provider, n), provider))
    ok = sum(1 for r in results if r.ok)
    attempts = sum(r.attempts for r in results)
    ideal = concurrency / latency
    achieved = n / elapsed
    return {
        "calls": n,
        "concurrency": concurrency,
        "latency_per_call_s": latency,
        "rate_429": rate_429,
        "completed_ok": ok,
        "attempts": attempts,
        "elapsed_s": round(elapsed, 3),
        "calls_per_s": round(achieved, 2),
        "ideal_calls_per_s": ideal,
        "ratio_to_ideal": round(achieved / ideal, 3),
    }


async def bare_loop(url: str, calls: list[Call], concurrency: int) -> None:
    client = openai.AsyncOpenAI(api_key="x", base_url=f"{url}/v1", max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Call) -> None:
        async with gate:
            request = call.request()
            response = await client.chat.completions.create(
                model="bench",
                messages=[m.as_dict() for m in request.messages],  # type: ignore[misc]
                temperature=0.2,
                max_tokens=900,
                seed=7,
                response_format={  # type: ignore[typeddict-item]
                    "type": "json_schema",
                    "json_schema": {
                        "name": request.schema_name,
                        "schema": strict_schema(request.schema),
                        "strict": True,
                    },
                },
            )
            json.loads(response.choices[0].message.content or "{}")

    await asyncio.gather(*(one(c) for c in calls))
    await client.close()


def bench_overhead(reviews: int) -> dict[str, Any]:
    concurrency = 8
    with fake_server(0.0) as url:
        home = project()
        home.config_file.write_text(
            f'[panel]\nproviders = ["a", "b"]\nhead_to_head = false  # the 16 verdict calls\n'
            f'[providers.a]\nkind = "openai"\nmodel = "m"\nbase_url = "{url}/v1"\n'
            f'api_key_env = ""\nmax_in_flight = {concurrency}\n'
            f'[providers.b]\nkind = "openai"\nmodel = "n"\nbase_url = "{url}/v1"\n'
            f'api_key_env = ""\nmax_in_flight = {concurrency}\n'
        )
        clients: dict[str, Provider] = {}
        plan = plan_review(home, "smolvlm-2-5", "mistral-medium-3", [], [], clients=clients)
        asyncio.run(bare_loop(url, plan.calls, concurrency))  # warm-up both paths
        asyncio.run(run_plan(plan.calls, clients))

        # panel: plan (render) + run (send, validate) + aggregate + atomic record write,
        # in one process with one client per provider (as `panel nightly` runs).
        def panel_once() -> tuple[float, int]:
            clients: dict[str, Provider] = {}

            async def all_reviews() -> int:
                total = 0
                for _ in range(reviews):
                    plan = plan_review(
                        home, "smolvlm-2-5", "mistral-medium-3", [], [], clients=clients
                    )
                    now = datetime.now(UTC)
                    results = await Runner(budget=Budget()).run(plan.calls)
                    total += len(results)
                    write_record(
                        home.runs, now.date(), "bench",
                        lambda rid, p=plan, r=results, t=now: build_record(p, r, rid, t, t),
                    )  # fmt: skip
                for client in clients.values():
                    await client.aclose()
                return total

            cpu = time.process_time()
            total = asyncio.run(all_reviews())
            return (time.process_time() - cpu) / total, total

        def bare_once() -> float:
            calls = plan.calls * reviews
            cpu = time.process_time()
            asyncio.run(bare_loop(url, calls, concurrency))
            return (time.process_time() - cpu) / len(calls)

        measured = [(panel_once(), bare_once()) for _ in range(3)]  # interleaved
        panel_cpu = min(m[0][0] for m in measured)
        total_calls = measured[0][0][1]
        bare_cpu = min(m[1] for m in measured)
    return {
        "calls": total_calls,
        "panel_cpu_ms_per_call": round(panel_cpu * 1000, 3),
        "bare_sdk_cpu_ms_per_call": round(bare_cpu * 1000, 3),
        "ratio": round(panel_cpu / bare_cpu, 3),
        "target": "<= 1.5",
        "pass": panel_cpu / bare_cpu <= 1.5,
    }


def write_results(path: Path, **results: Any) -> None:
    """Benchmark results with when and where they were measured."""
    data = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    args = parser.parse_args()
    n = 300 if args.quick else 1000
    latency = bench_latency(args.quick)
    print("latency", json.dumps(latency))
    clean = bench_throughput(n)
    clean["target"] = ">= 0.85"
    clean["pass"] = clean["ratio_to_ideal"] >= 0.85
    print("throughput", json.dumps(clean))
    overhead = bench_overhead(3 if args.quick else 20)
    print("overhead", json.dumps(overhead))
    limited = bench_throughput(n, rate_429=0.2)
    ratio = limited["calls_per_s"] / clean["calls_per_s"]
    limited.update(
        ratio_to_no_429=round(ratio, 3),
        target=">= 0.5 of the no-429 run, every call completes",
        **{"pass": ratio >= 0.5 and limited["completed_ok"] == n},
    )
    print("throughput_429", json.dumps(limited))
    write_results(
        RESULTS,
        quick=args.quick,
        review_latency=latency,
        throughput=clean,
        overhead=overhead,
        throughput_20pct_429=limited,
    )


if __name__ == "__main__":
    main()
