"""The evidence fetch of a night of 250 tools against a loopback site (issue 26).

A site process (its own process, so its threads do not share panel's interpreter lock)
serves, for each tool, a vendor host of its own (``127.0.1.N``: robots.txt, homepage,
pricing, docs and changelog, ~40 KB of HTML each, with ETags) and, for a share of the
tools, a repository on one shared repository-API host and a package on one shared
registry host, as GitHub and PyPI are shared in real life. Every answer waits
``--latency`` seconds first (a web server's time to first byte).

panel then runs the nightly's re-fetch (``panel.evidence.run.refresh_evidence``, the
function the nightly calls) twice: night 1 with nothing stored (every page fetched and
extracted), night 2 a day later (every source due again: conditional GETs, all 304).
Each night is measured as wall time and panel's CPU time. The per-host pacing (one
request a second) is real: nothing is faked.

Usage: .venv/bin/python -m benchmarks.bench_evidence_fetch [--tools 250]
       [--repo-share 0.0] [--package-share 0.0] [--latency 0.05] [--out NAME]
Writes benchmarks/results/<NAME>.json (default evidence-fetch.json).
"""

from __future__ import annotations

import argparse
import http.server
import json
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from panel.config import EvidenceSection

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PAGES = ("/", "/pricing", "/docs", "/changelog")
API_HOST = "127.0.2.1"
REGISTRY_HOST = "127.0.2.2"
WORDS = [
    *("model", "context", "agent", "latency", "tokens", "pricing", "seat", "team", "plan"),
    *("enterprise", "deploy", "local", "inference", "api", "key", "rate", "limit"),
    *("dashboard", "workflow", "integration", "editor", "terminal", "review"),
]


def vendor_host(n: int) -> str:
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def page(n: int, path: str) -> bytes:
    """A ~40 KB vendor page: navigation, main text with numbers, a footer, a script."""
    nav = "".join(f"<a href='/p{k}'>Link {k}</a> " for k in range(60))
    paragraphs = []
    for k in range(40):
        words = " ".join(WORDS[(n + k + j) % len(WORDS)] for j in range(110))
        paragraphs.append(
            f"<p>Tool {n} {path} section {k}: {words}. It costs ${10 + k} per month.</p>"
        )
    return (
        f"<!doctype html><html><head><title>Tool {n} {path}</title>"
        f"<script>var x = {n};</script></head><body><nav>{nav}</nav><main><h1>Tool {n}</h1>"
        f"{''.join(paragraphs)}</main><footer>Copyright 2026 Vendor {n}. {nav}</footer>"
        "</body></html>"
    ).encode()


def _handler(latency: float, kind: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            time.sleep(latency)
            body, ctype = self._answer()
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = f'"{zlib.crc32(body):x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def _answer(self) -> tuple[bytes | None, str]:
            host = self.server.server_address[0]
            if kind == "vendor":
                octets = [int(x) for x in str(host).split(".")]
                n = (octets[2] - 1) * 250 + octets[3] - 1
                if self.path == "/robots.txt":
                    return b"User-agent: *\nDisallow: /admin/\n", "text/plain"
                if self.path in PAGES:
                    return page(n, self.path), "text/html; charset=utf-8"
                return None, ""
            parts = self.path.strip("/").split("/")
            if kind == "api" and parts[0] == "repos":
                n = int(parts[2].removeprefix("tool"))
                if parts[3:] == ["releases", "latest"]:
                    data: dict[str, Any] = {
                        "tag_name": f"v1.{n}",
                        "published_at": "2026-11-30T00:00:00Z",
                    }
                else:
                    data = {
                        "full_name": f"org{n}/tool{n}",
                        "stargazers_count": 100 + n,
                        "forks_count": n,
                        "license": {"spdx_id": "MIT"},
                        "pushed_at": "2026-12-01T00:00:00Z",
                    }
                return json.dumps(data).encode(), "application/json"
            if kind == "registry" and parts[0] == "pypi":
                info = {"name": parts[1], "version": "1.0", "license": "MIT"}
                return json.dumps({"info": info, "urls": []}).encode(), "application/json"
            return None, ""

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def serve_site(tools: int, latency: float, conn: Connection) -> None:
    servers = []
    plan = [(vendor_host(n), "vendor") for n in range(tools)]
    plan += [(API_HOST, "api"), (REGISTRY_HOST, "registry")]
    for host, kind in plan:
        server = http.server.ThreadingHTTPServer((host, 0), _handler(latency, kind))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    conn.send({str(s.server_address[0]): int(s.server_address[1]) for s in servers})
    conn.recv()  # until told to stop


def make_project(
    root: Path, tools: int, ports: dict[str, int], repo: float, package: float, workers: int | None
) -> None:
    (root / "catalog").mkdir(parents=True)
    api, registry = (
        f"http://{API_HOST}:{ports[API_HOST]}",
        f"http://{REGISTRY_HOST}:{ports[REGISTRY_HOST]}",
    )
    (root / "panel.toml").write_text(
        '[intake]\nallow = ["127.0.0.0/8"]\n[evidence]\ncontact = "https://bench.example/"\n'
        f'repository_api = "{api}"\npypi_api = "{registry}"\nnightly_seconds = 3600\n'
        + (f"workers = {workers}\n" if workers else "")
    )
    for n in range(tools):
        base = f"http://{vendor_host(n)}:{ports[vendor_host(n)]}"
        kinds = ("homepage", "pricing", "docs", "changelog")
        lines = [f'slug = "tool-{n:03d}"', f'name = "Tool {n:03d}"', 'description = "A tool."']
        sources = [(f"{base}{p}", k) for p, k in zip(PAGES, kinds, strict=True)]
        if n < round(tools * repo):
            sources.append((f"https://github.com/org{n}/tool{n}", "repository"))
        if n < round(tools * package):
            sources.append((f"https://pypi.org/project/tool-{n}/", "package"))
        for url, kind in sources:
            lines += ["[[sources]]", f'url = "{url}"', f'kind = "{kind}"']
        (root / "catalog" / f"tool-{n:03d}.toml").write_text("\n".join(lines) + "\n")


def night(root: Path, when: datetime) -> dict[str, Any]:
    from panel.evidence.run import refresh_evidence
    from panel.paths import Home

    wall, cpu = time.perf_counter(), time.process_time()
    report = refresh_evidence(Home(root), lambda line: None, now=lambda: when)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sources = report.get("sources", [])
    assert isinstance(sources, list)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "counts": report.get("counts"),
        "bytes": report.get("bytes"),
    }


def read_packs(root: Path) -> dict[str, Any]:
    """What planning pays per night once evidence is stored: every tool's pack digest."""
    from panel.config import Config
    from panel.evidence.snapshots import evidence_digests
    from panel.inputs.catalog import Catalog
    from panel.paths import Home

    home = Home(root)
    catalog = Catalog.load(home.catalog)
    config = Config.load(home.config_file)
    wall, cpu = time.perf_counter(), time.process_time()
    digests = evidence_digests(home, list(catalog.tools.values()), catalog=catalog, config=config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"tools": len(digests), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tools", type=int, default=250)
    parser.add_argument("--repo-share", type=float, default=0.0)
    parser.add_argument("--package-share", type=float, default=0.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=None, help="default: panel's")
    parser.add_argument("--out", default="evidence-fetch")
    args = parser.parse_args()

    here, there = multiprocessing.Pipe()
    site = multiprocessing.Process(target=serve_site, args=(args.tools, args.latency, there))
    site.start()
    ports = here.recv()
    root = Path(tempfile.mkdtemp(prefix="bench-evidence-"))
    try:
        make_project(root, args.tools, ports, args.repo_share, args.package_share, args.workers)
        import trafilatura  # noqa: F401  (imported once, as a night's first page would)

        load_before = os.getloadavg()
        t0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
        first = night(root, t0)
        print("night 1 (nothing stored)", json.dumps(first))
        second = night(root, t0 + timedelta(days=1))
        print("night 2 (conditional GETs)", json.dumps(second))
        third = night(root, t0 + timedelta(days=1, hours=1))
        print("night 3 (fetched ahead: nothing due)", json.dumps(third))
        packs = read_packs(root)
        print("reading every pack (the nightly's planning)", json.dumps(packs))
        stored = sum(
            f.stat().st_size for f in (root / "runs" / "evidence").rglob("*") if f.is_file()
        )
        write_results(
            RESULTS / f"{args.out}.json",
            evidence_fetch={
                "tools": args.tools,
                "sources_per_tool": "4 pages on the vendor's own host"
                + (f", a repository for {args.repo_share:.0%}" if args.repo_share else "")
                + (f", a package for {args.package_share:.0%}" if args.package_share else ""),
                "latency_s": args.latency,
                "workers": args.workers or EvidenceSection().workers,
                "host_interval_s": 1.0,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "night_1_cold": first,
                "night_2_conditional": second,
                "night_3_nothing_due": third,
                "read_every_pack": packs,
                "stored_bytes": stored,
            },
        )
    finally:
        here.send("stop")
        site.join(5)
        if site.is_alive():
            site.terminate()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
