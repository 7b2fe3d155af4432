"""A loopback web site for the evidence fetcher: pages with ETags, APIs, hostile answers.

``serve(routes)`` answers GETs from ``routes`` (path -> ``Page``) on 127.0.0.1 (or another
loopback address), honours ``If-None-Match`` and ``If-Modified-Since`` with a 304, and
records every request (path and headers) in ``Site.hits``. A ``Page`` with ``stream``
set sends that many bytes in chunks, with or without a Content-Length, for the size cap.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str = ""
    last_modified: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    stream: int = 0  # send this many bytes instead of ``body``
    sized: bool = True  # with a Content-Length


@dataclass
class Hit:
    path: str
    headers: dict[str, str]


@dataclass
class Site:
    url: str
    host: str
    port: int
    routes: dict[str, Page]
    hits: list[Hit] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]


def json_page(data: Any, etag: str = "") -> Page:
    return Page(json.dumps(data).encode(), content_type="application/json", etag=etag)


def html(title: str, main: str, extra: str = "") -> bytes:
    """A vendor page: navigation and a footer around the main text, and a script."""
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        "<script>document.write('run me')</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/docs'>Docs</a> <a href='/blog'>Blog</a></nav>"
        f"<main><h1>{title}</h1>{main}</main>{extra}"
        "<footer>Copyright 2026 Acme Inc. All rights reserved.</footer></body></html>"
    ).encode()


@contextlib.contextmanager
def serve(routes: dict[str, Page], host: str = "127.0.0.1") -> Iterator[Site]:
    hits: list[Hit] = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            with lock:
                hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}))
            page = routes.get(self.path)
            if page is None:
                self._send(Page(b"not found", status=404, content_type="text/plain"))
                return
            fresh = (page.etag and self.headers.get("If-None-Match") == page.etag) or (
                page.last_modified and self.headers.get("If-Modified-Since") == page.last_modified
            )
            if fresh and page.status == 200:
                self.send_response(304)
                self.end_headers()
                return
            self._send(page)

        def _send(self, page: Page) -> None:
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if page.etag:
                self.send_header("ETag", page.etag)
            if page.last_modified:
                self.send_header("Last-Modified", page.last_modified)
            for key, value in page.headers.items():
                self.send_header(key, value)
            size = page.stream or len(page.body)
            if page.sized:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            with contextlib.suppress(OSError):
                if not page.stream:
                    self.wfile.write(page.body)
                    return
                chunk = b"x" * 65536
                sent = 0
                while sent < page.stream:
                    self.wfile.write(chunk)
                    sent += len(chunk)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        yield Site(f"http://{host}:{port}", host, port, routes, hits)
    finally:
        server.shutdown()
        server.server_close()


class FakeClock:
    """A monotonic clock that only moves when slept on: the per-host pacing, measured."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
