"""A real nginx in front of the desk, on loopback, with a config written to a temp folder.

``make test`` installs Debian's nginx (the ``proxy`` target); where the binary is
missing the tests that need it skip, saying so. nginx runs in the foreground as
the current user (``daemon off``, ``master_process off``), with its prefix, pid
file, logs and temp folders under the test's own folder: no root-owned path is
read or written.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)

CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
{extra}
        }}
    }}
}}
"""


def need_nginx() -> str:
    if NGINX is None:
        pytest.skip("nginx is not installed (`make debian` installs Debian's nginx)")
    return NGINX


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def nginx(folder: Path, upstream: str, extra: str = "", port: int = 0) -> Iterator[int]:
    """nginx proxying every path to ``upstream`` (``http://127.0.0.1:PORT``); yields its port.

    ``extra`` is more directives for the location, e.g. ``proxy_set_header ...;``; ``port``
    0 picks a free one.
    """
    binary = need_nginx()
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    conf = folder / "nginx.conf"
    body = "\n".join(f"            {line.strip()}" for line in extra.splitlines() if line.strip())
    text = CONF.format(prefix=folder, port=port, upstream=upstream.rstrip("/"), extra=body)
    conf.write_text(text)
    errors = (folder / "stderr").open("w")
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")],
        stdout=errors,
        stderr=errors,
    )
    try:
        for _ in range(200):  # bounded: up to 10 s for nginx to listen
            if process.poll() is not None:
                raise AssertionError(f"nginx stopped: {(folder / 'stderr').read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("nginx did not listen within 10 s")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors.close()


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    source: str = "127.0.0.1",
) -> tuple[int, dict[str, str], str]:
    """One HTTP/1.1 request to 127.0.0.1:``port`` from the loopback address ``source``."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("content-type", "application/x-www-form-urlencoded")
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        found: dict[str, str] = {}
        for name, value in response.getheaders():  # keep every Set-Cookie
            key = name.lower()
            found[key] = f"{found[key]}\n{value}" if key in found else value
        return response.status, found, text
    finally:
        connection.close()
