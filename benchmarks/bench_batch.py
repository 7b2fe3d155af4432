"""The nightly through the Batch API at provider scale (issues 15 and 29).

A simulated night of 4 calls a tool (N new tools x 4 personas, head-to-head off) goes
through `panel nightly --batch` against the loopback fake of OpenAI's Batch API
(tests/support/fake_batch.py), in its own process so its CPU is not counted as panel's.

  1. submit: the first run plans the night and sends its batches;
  2. collect: the batches finish at the (fake) provider while panel is not running, then
     the second run downloads the results, judges every answer and writes the records;
  3. rerun: a third run, with everything done: <= 2 s and zero requests.

Targets (``targets``): panel's CPU for submit + collect <= 60 s at 10,000 calls and
<= 200 s at 100,000 (issue 29); peak RSS <= 300 MB whatever the night's size; at 100,000
calls a store no larger than 367 MB; the rerun <= 2 s wall with 0 requests. Also the
night's cost at gpt-4o-mini's list prices, synchronously vs batched.

Usage: .venv/bin/python -m benchmarks.bench_batch [--quick | --tools N | --series]
  --series: 250, 2,500 and 25,000 tools (1,000, 10,000 and 100,000 calls), one after
  another, with the growth between them. Writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import server_process, write_results
from panel.inputs.catalog import Catalog, Tool
from panel.paths import Home

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "batch.json"
PERSONAS = ("dx", "competitive", "futurist", "business")
LIST_PRICE = (0.15, 0.60)  # gpt-4o-mini, USD per 1M tokens (input, output)


def batch_server() -> contextlib.AbstractContextManager[str]:
    """The fake Batch APIs in their own process (batches finish on the first poll)."""
    return server_process("tests.support.fake_batch", "--steps", "1")


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as response:
        data: dict[str, int] = json.loads(response.read())
    return data


def finish_at_the_provider(url: str) -> float:
    """Let the fake answer every batch now (the provider's work, not panel's): seconds."""
    start = time.perf_counter()
    with urllib.request.urlopen(f"{url}/v1/batches", timeout=600) as response:
        jobs = json.loads(response.read())["data"]
    for job in jobs:
        with urllib.request.urlopen(f"{url}/v1/batches/{job['id']}", timeout=600) as response:
            response.read()
    return time.perf_counter() - start


def project(url: str, tools: int) -> Home:
    """``tools`` new tools in pairs that name each other as competitors."""
    root = Path(tempfile.mkdtemp(prefix="panel-batch-"))
    (root / "personas").mkdir()
    for name in PERSONAS:
        shutil.copy(ROOT / "personas" / f"{name}.toml", root / "personas")
    shutil.copytree(ROOT / "prompts", root / "prompts")
    (root / "catalog").mkdir()
    catalog = Catalog(root / "catalog", {})
    for i in range(tools):
        partner = i + 1 if i % 2 == 0 else i - 1
        catalog.save(
            Tool.model_validate(
                {"slug": f"tool-{i}", "name": f"Tool {i}", "category": f"Category {i // 2}",
                 "launched": "2026-11-23", "competitors": [f"tool-{partner}"],
                 "vendor": f"Vendor {i}", "description": f"Tool number {i}, for benchmarking."}
            )
        )  # fmt: skip
    (root / "panel.toml").write_text(
        f'[panel]\nproviders = ["fake"]\nhead_to_head = false\n'
        f'[providers.fake]\nkind = "openai"\nmodel = "m"\nbase_url = "{url}/v1"\n'
        f'api_key_env = ""\nbatch = true\n'
        f'[prices."openai/m"]\ninput = {LIST_PRICE[0]}\noutput = {LIST_PRICE[1]}\n'
    )
    return Home(root)


def nightly(home: Home) -> dict[str, Any]:
    """One `panel nightly` in a subprocess: its summary, wall and CPU time, peak RSS so far."""
    env = {**os.environ, "PANEL_HOME": str(home.root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "panel", "nightly", "--since", "2026-11-20"],
        env=env, capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "summary": json.loads(proc.stdout),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
    }


def bench(tools: int) -> dict[str, Any]:
    with batch_server() as url:
        home = project(url, tools)
        submit = nightly(home)
        after_submit = stats(url)
        provider_s = finish_at_the_provider(url)
        after_finish = stats(url)
        collect = nightly(home)
        after_collect = stats(url)
        rerun = nightly(home)
        after_rerun = stats(url)
    night = collect["summary"]
    store = home.runs / "panel.db"
    store_mb = sum(p.stat().st_size for p in store.parent.glob("panel.db*")) / 2**20
    # panel's own time: the CPU its processes used. Wall time is reported too; on this
    # machine, shared with other work, it varies with the load (see BENCHMARKS.md).
    own = submit["cpu_s"] + collect["cpu_s"]
    wall = submit["wall_s"] + collect["wall_s"]
    rerun_requests = sum(after_rerun.values()) - sum(after_collect.values())
    result = {
        "tools": tools,
        "calls": submit["summary"]["batch_lines"],
        "synchronous_calls": after_collect["chat"],
        "batches": after_submit["batch_api"] // 2,  # an upload and a create each
        "fake_provider_answering_s": round(provider_s, 2),
        "submit": {k: submit[k] for k in ("wall_s", "cpu_s")},
        "collect": {k: collect[k] for k in ("wall_s", "cpu_s")},
        "submit_plus_collect_cpu_s": round(own, 2),
        "submit_plus_collect_wall_s": round(wall, 2),
        "records": len(list(home.runs.glob("2*/*.json"))),
        "peak_rss_mb": max(submit["peak_rss_mb"], collect["peak_rss_mb"]),
        "store_mb": round(store_mb, 1),
        "cost_list_price_sync_usd": night["sync_usd"],
        "cost_batched_usd": night["spent_usd"],
        "rerun_s": rerun["wall_s"],
        "rerun_requests": rerun_requests,
        "batch_api_requests": {
            "submit": after_submit["batch_api"],
            "collect": after_collect["batch_api"] - after_finish["batch_api"],
        },
    }
    cpu, store_cap = targets(tools)
    result["targets"] = (
        f"submit + collect <= {cpu:.0f} s of panel's own (CPU) time on 2 cores; RSS <= 300 MB; "
        + (f"store <= {store_cap:.0f} MB; " if store_cap else "")
        + "rerun <= 2 s wall, 0 requests"
    )
    result["pass"] = (
        own <= cpu
        and result["peak_rss_mb"] <= 300
        and (store_cap is None or store_mb <= store_cap)
        and rerun["wall_s"] <= 2
        and rerun_requests == 0
        and result["synchronous_calls"] == 0
    )
    shutil.rmtree(home.root, ignore_errors=True)
    return result


def targets(tools: int) -> tuple[float, float | None]:
    """(CPU seconds for submit + collect, store MB or None) for a night of ``tools`` tools."""
    if tools >= 25_000:
        return 200.0 * tools / 25_000, 367.0 * tools / 25_000
    return 60.0, None


GROWTH = ("submit_cpu_s", "collect_cpu_s", "peak_rss_mb", "store_mb", "rerun_s")


def growth(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """How much each measure grew from one night to a larger one (x times)."""

    def measures(r: dict[str, Any]) -> dict[str, float]:
        return {
            "submit_cpu_s": r["submit"]["cpu_s"],
            "collect_cpu_s": r["collect"]["cpu_s"],
            "peak_rss_mb": r["peak_rss_mb"],
            "store_mb": r["store_mb"],
            "rerun_s": r["rerun_s"],
        }

    a, b = measures(before), measures(after)
    return {k: round(b[k] / a[k], 2) if a[k] else 0.0 for k in GROWTH}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="250 tools instead of 2,500")
    parser.add_argument("--tools", type=int, help="this many tools (4 calls each)")
    parser.add_argument("--series", action="store_true", help="250, 2,500 and 25,000 tools")
    args = parser.parse_args()
    if args.series:
        nights = []
        for tools in (250, 2_500, 25_000):
            nights.append(bench(tools))
            print("batch", json.dumps(nights[-1]), flush=True)
        steps = [growth(a, b) for a, b in itertools.pairwise(nights)]
        write_results(RESULTS, quick=False, series=nights, growth=steps, night=nights[1])
        return
    result = bench(args.tools or (250 if args.quick else 2_500))
    print("batch", json.dumps(result))
    write_results(RESULTS, quick=args.quick, night=result)


if __name__ == "__main__":
    main()
