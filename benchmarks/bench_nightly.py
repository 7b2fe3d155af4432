"""The nightly-shaped benchmark, paired with a bare SDK loop on the same bodies (issue 18).

One run on this machine, against a loopback fake server (its own process) at
200 ms per answer:

- **panel**: `panel nightly` over 250 synthetic tools x 4 personas (head-to-head
  off), one openai-kind provider at ``max_in_flight = 32``: 1,000 distinct verdict
  calls (a rival's calls are the same calls as its own review: shared, not sent
  twice), plus whatever re-asks the judge makes. The fake server records every
  request body it receives.
- **bare**: ``benchmarks/bare_loop.py`` sends exactly those recorded bodies (same
  messages, same ``response_format``, re-asks included) with the ``openai`` SDK at
  concurrency 32 and parses each answer.

Each side is its own process, measured whole (interpreter start and imports
included) from ``wait4``: wall time, CPU time (user + system) and peak RSS.
One unmeasured round first (bytecode, page cache); then rounds alternate panel and
bare, and the ratios are the median of each round's ratio (the ratio of the two
sides' medians is reported beside them). Targets:
wall per request <= 1.1x the bare loop's, CPU per request <= 1.5x, peak RSS
<= 150 MB. Writes benchmarks/results/nightly.json.

Usage: .venv/bin/python -m benchmarks.bench_nightly [--rounds 3] [--tools 250]
       [--profile runs/nightly.prof]   (one panel run under cProfile, nothing measured)
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from benchmarks.bench_runner import fake_server_cmd, write_results
from panel.inputs.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "nightly.json"
LATENCY = 0.2
CONCURRENCY = 32


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    requests: int


def make_project(root: Path, tools: int, base_url: str) -> Path:
    """A project with ``tools`` synthetic launches and one openai-kind provider."""
    for folder in ("personas", "prompts"):
        shutil.copytree(ROOT / folder, root / folder)
    (root / "catalog").mkdir()
    base = sorted(Catalog.load(ROOT / "catalog").tools.values(), key=lambda t: t.slug)
    today = date.today()
    for i in range(tools):
        tool = base[i % len(base)]
        entry = tool.model_dump(mode="json", exclude_none=True)
        entry.update(
            slug=f"{tool.slug}-n{i}",
            name=f"{tool.name} {i}",
            launched=(today - timedelta(days=i % 30)).isoformat(),
            competitors=[],
        )
        entry["launched"] = date.fromisoformat(entry["launched"])
        (root / "catalog" / f"{entry['slug']}.toml").write_bytes(tomli_w.dumps(entry).encode())
    config = {
        "panel": {"providers": ["bench"], "head_to_head": False},
        "providers": {
            "bench": {
                "kind": "openai",
                "model": "bench",
                "base_url": f"{base_url}/v1",
                "api_key_env": "",
                "max_in_flight": CONCURRENCY,
            }
        },
    }
    (root / "panel.toml").write_bytes(tomli_w.dumps(config).encode())
    return root


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run a child to the end: wall s, CPU s (user + system), peak RSS MB, its stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[2:4]} exited {proc.returncode}: {text[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


class FakeServer:
    """The fake LLM in its own process; ``stop()`` writes the bodies it received."""

    def __init__(self, record: Path) -> None:
        self.record = record
        cmd = [*fake_server_cmd(LATENCY), "--record", str(record)]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{self.proc.stdout.readline().strip()}"

    def stop(self) -> list[str]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)
        return self.record.read_text(encoding="utf-8").splitlines()


def panel_run(work: Path, tools: int, profile: Path | None = None) -> tuple[Measured, Path]:
    """`panel nightly` in a fresh project; the bodies it sent are in the returned file."""
    bodies = work / "bodies.jsonl"
    server = FakeServer(bodies)
    try:
        home = make_project(work / "project", tools, server.url)
        env = {**os.environ, "PANEL_HOME": str(home)}
        runner = ["-m", "cProfile", "-o", str(profile)] if profile else []
        argv = [sys.executable, *runner, "-m", "panel", "nightly", "--since", "2000-01-01"]
        wall, cpu, rss, _ = measure(argv, env)
    finally:
        sent = server.stop()
    summaries = list((home / "runs" / "nightly").glob("*.json"))
    summary = json.loads(summaries[0].read_text())
    if summary["failed"] or summary["planned"] != tools:
        raise SystemExit(f"the nightly did not complete: {summary['failures'][:3]}")
    return Measured(wall, cpu, rss, len(sent)), bodies


def bare_run(bodies: Path, work: Path) -> Measured:
    server = FakeServer(work / "bare-bodies.jsonl")
    try:
        argv = [sys.executable, "-m", "benchmarks.bare_loop", str(bodies), f"{server.url}/v1"]
        argv += ["--concurrency", str(CONCURRENCY)]
        wall, cpu, rss, out = measure(argv, dict(os.environ))
    finally:
        sent = server.stop()
    if int(out.strip()) != len(sent):
        raise SystemExit(f"the bare loop sent {len(sent)} requests but finished {out.strip()}")
    return Measured(wall, cpu, rss, len(sent))


def side(runs: list[Measured]) -> dict[str, Any]:
    requests = runs[0].requests
    wall = statistics.median(r.wall_s for r in runs)
    cpu = statistics.median(r.cpu_s for r in runs)
    return {
        "requests": requests,
        "wall_s": [round(r.wall_s, 2) for r in runs],
        "cpu_s": [round(r.cpu_s, 2) for r in runs],
        "peak_rss_mb": max(round(r.peak_rss_mb, 1) for r in runs),
        "wall_ms_per_request": round(wall / requests * 1000, 3),
        "cpu_ms_per_request": round(cpu / requests * 1000, 3),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tools", type=int, default=250)
    parser.add_argument("--profile", type=Path, help="profile one panel run; measure nothing")
    args = parser.parse_args()
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="panel-nightly-") as tmp:
            measured, _ = panel_run(Path(tmp), args.tools, args.profile.resolve())
        print(f"profiled {measured.requests} requests into {args.profile}")
        return
    # panel's bytecode, as `make install` and a wheel install write it: with
    # PYTHONDONTWRITEBYTECODE set, an editable install would compile every module each run.
    compileall.compile_dir(ROOT / "panel", quiet=1)
    with tempfile.TemporaryDirectory(prefix="panel-nightly-") as tmp:
        # Unmeasured: the first run after an edit fills the page cache.
        bare_run(panel_run(Path(tmp), args.tools)[1], Path(tmp))
    load_before = load_average()
    panel: list[Measured] = []
    bare: list[Measured] = []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="panel-nightly-") as tmp:
            measured, bodies = panel_run(Path(tmp), args.tools)
            panel.append(measured)
            bare.append(bare_run(bodies, Path(tmp)))
        print(f"round {n + 1}: panel {panel[-1]}, bare {bare[-1]}", file=sys.stderr)
    p, b = side(panel), side(bare)
    # Each round's two sides run back to back, so a round's ratio cancels the machine's drift
    # (another tenant, clock changes) that the sides' separate medians keep: the median of
    # those ratios is the headline, the ratio of the medians is kept beside it.
    wall_ratio = statistics.median(
        (pr.wall_s / pr.requests) / (br.wall_s / br.requests)
        for pr, br in zip(panel, bare, strict=True)
    )
    cpu_ratio = statistics.median(
        (pr.cpu_s / pr.requests) / (br.cpu_s / br.requests)
        for pr, br in zip(panel, bare, strict=True)
    )
    result = {
        "tools": args.tools,
        "personas": 4,
        "latency_s": LATENCY,
        "concurrency": CONCURRENCY,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "panel_nightly": p,
        "bare_sdk_loop": b,
        "wall_ratio": round(wall_ratio, 3),
        "cpu_ratio": round(cpu_ratio, 3),
        "ratio_of_medians": {
            "wall": round(p["wall_ms_per_request"] / b["wall_ms_per_request"], 3),
            "cpu": round(p["cpu_ms_per_request"] / b["cpu_ms_per_request"], 3),
        },
        "targets": {"wall_ratio": "<= 1.1", "cpu_ratio": "<= 1.5", "peak_rss_mb": "<= 150"},
        "pass": wall_ratio <= 1.1 and cpu_ratio <= 1.5 and p["peak_rss_mb"] <= 150,
    }
    print(json.dumps(result, indent=2))
    write_results(RESULTS, nightly=result)


if __name__ == "__main__":
    main()
