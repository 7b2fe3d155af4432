"""The editor's desk (`panel serve`): the queue page over 1,000 records.

Target (issue 19): the queue page with 1,000 records renders in <= 300 ms on 2 cores.
Records are those of ``bench_site`` (30 KB each: 4 personas x 2 tools x 3 providers,
1,000 distinct pairs), in all four editorial states. Each measurement is a full GET
through the desk's ASGI app in this process (Starlette, the session and security
checks, the stat-keyed index, jinja rendering and the access log), wall clock; warm
numbers are the median of ``ROUNDS`` requests.

- ``cold``: the first queue page after start: every record file is read once.
- ``warm``: the queue as editors load it (drafts first, 100 rows a page).
- ``warm_all_rows``: all 1,000 rows on one page (``per=1000``).
- ``warm_filtered``: status, tool and date filters together.
- ``after_one_change``: an editor approved a record; the next queue page re-reads it only.
- ``http_all_rows``: all 1,000 rows from the real `panel serve` over loopback HTTP.
- ``record_page``: one record's page (its material, the page effect, the previous record).

Usage: .venv/bin/python -m benchmarks.bench_desk [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from benchmarks.bench_site import make_records
from panel.paths import Home
from panel.records.editorial import approve
from panel.records.io import read_record, scan
from tests.support.desk import client, start_desk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "desk.json"
STATES = ("draft", "approved", "published", "rejected")
TARGET_S = 0.3
ROUNDS = 15


def _seconds(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _median(action: Callable[[], Any], rounds: int = ROUNDS) -> float:
    return statistics.median(_seconds(action) for _ in range(rounds))


def _ok(response: Any, rows: int | None = None) -> None:
    assert response.status_code == 200, response.status_code
    if rows is not None:
        found = response.text.count('<tr class="row-')
        assert found == rows, (found, rows)


def _http(url: str, path: str, rows: int) -> float:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:

        def get() -> None:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200 and body.count(b'<tr class="row-') == rows

        get()  # the desk reads every record once
        return _median(get)
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 records, results not written")
    parser.add_argument("--records", type=int, default=1000, help="how many records")
    args = parser.parse_args()
    n = 200 if args.quick else args.records
    with tempfile.TemporaryDirectory(prefix="panel-bench-desk-") as tmp:
        home = Home(Path(tmp))
        make_records(home.runs, n, status=lambda i: STATES[i % 4])
        paths = scan(home.runs)
        size = sum(p.stat().st_size for p in paths) / len(paths)
        desk = client(home)
        index = desk.app.state.desk.index  # type: ignore[attr-defined]
        cold = _seconds(lambda: _ok(desk.get("/"), 100))
        assert index.reads == n, index.reads
        warm = _median(lambda: _ok(desk.get("/"), 100))
        all_rows = _median(lambda: _ok(desk.get("/?per=1000"), n))
        query = "/?status=draft&tool=tool-007&since=2026-11-24&until=2026-12-31"
        filtered = _median(lambda: _ok(desk.get(query)))
        changes = []
        drafts = [p for p in paths if read_record(p).editorial.status == "draft"][:5]
        for path in drafts:  # approving rewrites the file
            approve(home.runs, path, "bench")
            before = index.reads
            changes.append(_seconds(lambda: _ok(desk.get("/"), 100)))
            assert index.reads == before + 1, index.reads - before
        rid = drafts[0].relative_to(home.runs).with_suffix("").as_posix()
        record_page = _median(lambda: _ok(desk.get(f"/records/{rid}")))
        with start_desk(home) as (url, _):
            over_http = _http(url, "/?per=1000", n)
    results = {
        "records": n,
        "mean_record_bytes": round(size),
        "cold_s": round(cold, 4),
        "warm_s": round(warm, 4),
        "warm_all_rows_s": round(all_rows, 4),
        "warm_filtered_s": round(filtered, 4),
        "after_one_change_s": round(statistics.median(changes), 4),
        "http_all_rows_s": round(over_http, 4),
        "record_page_s": round(record_page, 4),
        "rounds": ROUNDS,
        "targets": {"warm_all_rows_s": f"<= {TARGET_S}", "http_all_rows_s": f"<= {TARGET_S}"},
        "pass": max(warm, all_rows, filtered, over_http, *changes) <= TARGET_S,
    }
    if args.quick or n != 1000:
        print(json.dumps(results, indent=2))
    else:
        write_results(RESULTS, **results)
        print(RESULTS.read_text())


if __name__ == "__main__":
    main()
