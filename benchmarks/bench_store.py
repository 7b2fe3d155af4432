"""Nightly and store benchmarks against a loopback fake server in its own process (issue 4).

  1. rerun: a 2,000-call nightly that is already done, vs its first run's wall time
     (target <= 5%, with zero provider calls);
  2. store overhead: client CPU per call with the journal and cache vs without
     (target <= 0.5 ms per call).
Writes benchmarks/results/store.json.

Usage: .venv/bin/python -m benchmarks.bench_store [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import calls_for, fake_server, settings, write_results
from panel.inputs.catalog import Catalog, Tool
from panel.paths import Home
from panel.pipeline.runner import Runner
from panel.providers import registry
from panel.records.store import Store

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "store.json"


def night_project(url: str, pairs: int) -> Home:
    root = Path(tempfile.mkdtemp(prefix="panel-night-"))
    for folder in ("personas", "prompts"):
        shutil.copytree(ROOT / folder, root / folder)
    catalog = Catalog(root / "catalog", {})
    (root / "catalog").mkdir()
    for i in range(pairs):
        for kind, launched, competitors in (
            ("new", "2026-11-23", [f"old-{i}"]),
            ("old", "2020-01-01", []),
        ):
            catalog.save(
                Tool.model_validate(
                    {"slug": f"{kind}-{i}", "name": f"{kind.title()} Tool {i}",
                     "category": f"Category {i}", "launched": launched,
                     "competitors": competitors,
                     "description": f"{kind} tool number {i} for benchmarking."}
                )
            )  # fmt: skip
    (root / "panel.toml").write_text(
        f'[panel]\nproviders = ["fake"]\n[providers.fake]\nkind = "openai"\nmodel = "m"\n'
        f'base_url = "{url}/v1"\napi_key_env = ""\nmax_in_flight = 32\n'
    )
    return Home(root)


def nightly(home: Home) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "PANEL_HOME": str(home.root)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "panel", "nightly", "--since", "2026-11-20"],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return time.perf_counter() - start, json.loads(proc.stdout)


def bench_rerun(pairs: int) -> dict[str, Any]:
    with fake_server(0.2) as url:
        home = night_project(url, pairs)
        first_s, first = nightly(home)
        rerun_s, rerun = nightly(home)
    ratio = rerun_s / first_s
    return {
        "comparisons": first["planned"],
        "first_run_calls": first["calls_made"],
        "first_run_s": round(first_s, 3),
        "rerun_calls": rerun["calls_made"],
        "rerun_s": round(rerun_s, 3),
        "ratio": round(ratio, 4),
        "target": "<= 0.05 with zero calls",
        "pass": ratio <= 0.05 and rerun["calls_made"] == 0,
    }


def bench_overhead(n: int) -> dict[str, Any]:
    with fake_server(0.0) as url:

        def cpu(with_store: bool) -> float:
            provider = registry.create(settings("openai", url, 16))
            calls = calls_for(provider, n)
            store = Store(Path(tempfile.mkdtemp()) / "panel.db") if with_store else None
            if store is not None:
                rows = [(c.key, c.provider.spec, c.provider.model, c.persona.name, c.tool.slug)
                        for c in calls]  # fmt: skip

            async def go() -> float:
                start = time.process_time()
                if store is not None:
                    store.plan(rows, "bench")
                await Runner(store=store, fresh=True).run(calls)
                spent = time.process_time() - start
                await provider.aclose()
                return spent

            return asyncio.run(go()) / n

        cpu(False)  # warm-up
        bare = min(cpu(False) for _ in range(3))
        journaled = min(cpu(True) for _ in range(3))
    overhead_ms = (journaled - bare) * 1000
    return {
        "calls": n,
        "cpu_ms_per_call_without_store": round(bare * 1000, 3),
        "cpu_ms_per_call_with_store": round(journaled * 1000, 3),
        "store_overhead_ms_per_call": round(overhead_ms, 3),
        "ratio": round(journaled / bare, 3),
        "target": "<= 0.5 ms per call",
        "pass": overhead_ms <= 0.5,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rerun = bench_rerun(25 if args.quick else 250)  # 8 calls per comparison
    print("rerun", json.dumps(rerun))
    overhead = bench_overhead(300 if args.quick else 2000)
    print("store_overhead", json.dumps(overhead))
    write_results(RESULTS, quick=args.quick, rerun=rerun, store_overhead=overhead)


if __name__ == "__main__":
    main()
