"""`panel site build` over 1,000 records: a full build, and a rebuild after one change.

Targets (issue 5): a full build of 1,000 records <= 5 s; a rebuild with one changed
record <= 0.5 s. Records are realistic in size: 4 personas x 2 tools x 3 providers
= 24 calls with ~60-word quotes each, across 200 tools. Each measurement runs the
real ``panel.publish.site.build`` in this process (wall clock, best of ``rounds``).

- ``first_build``: 1,000 approved records, empty site and cache. Includes marking
  all 1,000 records published (an atomic, fsynced rewrite of each record).
- ``full_build``: the same records (now published) into an empty folder with no
  cache: the pure read-and-render cost.
- ``noop_rebuild``: nothing changed.
- ``one_changed``: one record overridden by an editor, then rebuilt.

Usage: .venv/bin/python -m benchmarks.bench_site [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from panel.paths import Home
from panel.publish.site import SiteOptions, build
from panel.records.editorial import override
from panel.records.io import scan
from tests.support.records import NOW, save_record, tool

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "site.json"
PROVIDERS = ("openai/gpt-4o-mini", "mistral/mistral-small-latest", "local/smollm2")
WORDS = (
    "The primitive is clean and the first ten minutes work: install, point it at a model, "
    "and the moment of truth arrives quickly. Where it breaks is scale, and what kills it "
    "is a platform shipping the same thing for free. The buyer is a platform team with a "
    "budget line for this, and the moat is thin but real."
)


def make_records(runs: Path, n: int, status: Callable[[int], str] = lambda i: "approved") -> None:
    """``n`` records of distinct pairs over 200 tools; record ``i`` in state ``status(i)``."""
    tools = [tool(f"tool-{i:03d}", description=f"Tool {i}. " + WORDS) for i in range(200)]
    for i in range(n):
        a, b = tools[i % 200], tools[(i % 200 + 1 + i // 200) % 200]  # n distinct pairs
        save_record(
            runs,
            a,
            b,
            providers=PROVIDERS,
            created=NOW + timedelta(minutes=i),
            quote=lambda p, s, v: f"{p} on {s} via {v}: {WORDS}",
            status=status(i),
        )


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 records instead of 1,000")
    args = parser.parse_args()
    n = 200 if args.quick else 1000
    with tempfile.TemporaryDirectory(prefix="panel-bench-site-") as tmp:
        home = Home(Path(tmp))
        make_records(home.runs, n)
        records = scan(home.runs)
        pages = len({p.name.split(".")[0] for p in records})
        size = sum(p.stat().st_size for p in records) / len(records)
        out = Path(tmp) / "site"
        options = SiteOptions(out=out, base_url="https://verdicts.example/", title="Verdicts")
        first, report = timed(lambda: build(home, options))
        assert len(report.published) == n, len(report.published)
        noop, report = timed(lambda: build(home, options))
        assert report.written == [], len(report.written)
        full_times = []
        for _ in range(3):
            shutil.rmtree(out)
            shutil.rmtree(home.runs / ".site-cache")
            seconds, report = timed(lambda: build(home, options))
            full_times.append(seconds)
        one_times = []
        for i in range(5):
            override(
                home.runs,
                records[i * 17],
                persona="dx",
                tool=records[i * 17].name.split("-vs-")[0],
                verdict="skip",
                note=f"benchmark edit {i}",
                by="bench",
            )
            seconds, report = timed(lambda: build(home, options))
            assert report.records_read == 1, report.records_read
            one_times.append(seconds)
    results = {
        "records": n,
        "pages": pages,
        "mean_record_bytes": round(size),
        "first_build_s": round(first, 3),
        "full_build_s": round(min(full_times), 3),
        "full_build_runs_s": [round(t, 3) for t in full_times],
        "noop_rebuild_s": round(noop, 3),
        "one_changed_rebuild_s": round(min(one_times), 3),
        "one_changed_runs_s": [round(t, 3) for t in one_times],
        "targets": {"full_build_s": "<= 5", "one_changed_rebuild_s": "<= 0.5"},
        "pass": max(first, min(full_times)) <= 5 and max(one_times) <= 0.5,
    }
    for key, value in results.items():
        print(f"{key}: {value}")
    if not args.quick:
        write_results(RESULTS, **results)


if __name__ == "__main__":
    main()
