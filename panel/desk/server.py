"""Running the desk: bind the socket first (a clear error if it cannot), then uvicorn.

Binding before uvicorn starts turns "address in use" or "no such address" into a
one-line error instead of a log message and an exit from inside the server, and
gives the real port for ``--port 0``. uvicorn's own proxy-header handling is off
(it would trust ``X-Forwarded-For`` from any loopback client, so one client could
be a new address on every login): the app reads those headers itself, and only
from the proxies named in ``[desk] trusted_proxies`` (:func:`panel.desk.app.create_app`).
"""

from __future__ import annotations

import os
import socket

import uvicorn
from starlette.applications import Starlette

from panel.errors import PanelError


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free port)."""
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    try:
        return socket.create_server((name, port), family=family, backlog=128)
    except (OSError, OverflowError) as exc:
        errno = getattr(exc, "errno", None)
        reason = os.strerror(errno) if errno else str(exc)
        raise PanelError(
            f"cannot listen on {host}:{port}: {reason}; pass another --port, "
            "or a --host address of this machine"
        ) from None


def address(sock: socket.socket) -> str:
    """http://host:port of a listening socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def root_path(value: str) -> str:
    """``--root-path``: "" or "/prefix" (the path a reverse proxy serves the desk under)."""
    cleaned = value.strip().strip("/")
    if any(ch in cleaned for ch in "?#\\ ") or ".." in cleaned.split("/"):
        raise PanelError(
            f"--root-path {value!r} is not a URL path such as /desk; give the prefix "
            "the reverse proxy serves the desk under"
        )
    return f"/{cleaned}" if cleaned else ""


def run(app: Starlette, sock: socket.socket, prefix: str = "") -> None:
    """Serve until interrupted (Ctrl-C stops it cleanly)."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # the desk writes its own, with the editor's name
        proxy_headers=False,  # the app trusts [desk] trusted_proxies only
        root_path=prefix,
        server_header=False,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])
