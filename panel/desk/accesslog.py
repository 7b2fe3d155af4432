"""The desk's access log: one line per request, with the editor's name and what was done.

Lines go to ``runs/desk/access.log`` (or ``--access-log FILE``), appended, mode 0600:
they name editors and client addresses. ``panel serve`` also prints them on stderr.
A line::

    2026-11-24T12:00:03Z 127.0.0.1 alice "POST /records/2026-11-24/a-vs-b/approve" 303 approved
    2026-11-24/a-vs-b; it is the A vs B page from the next `panel site build`

(one line in the file).

Everything in a line that a client sent (the path, a login name) is cut to a
length and stripped of control characters, so a request cannot forge a line.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path
from typing import TextIO

from panel import clock
from panel.errors import PanelError

MAX_FIELD = 300


def clean(text: str, limit: int = MAX_FIELD) -> str:
    """One printable line: control and invisible characters become "?"; cut at ``limit``."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class AccessLog:
    """Appends lines to a file (opened once; never through a symlink) and maybe a stream."""

    def __init__(self, path: Path | None, stream: TextIO | None = None) -> None:
        self.path = path
        self.stream = stream
        self._lock = threading.Lock()
        self._fd: int | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                self._fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
            except OSError as exc:
                raise PanelError(
                    f"cannot open the access log {path}: {exc.strerror or exc}; "
                    "fix its folder's permissions or pass --access-log FILE"
                ) from None

    def write(
        self,
        client: str,
        editor: str | None,
        method: str,
        path: str,
        status: int,
        note: str = "",
        now: datetime | None = None,
    ) -> None:
        at = (now or clock.now()).strftime("%Y-%m-%dT%H:%M:%SZ")
        request = clean(f"{method} {path}").replace('"', "%22")
        who = clean(editor or "-", 80).replace(" ", "_") or "-"
        line = f'{at} {clean(client, 60)} {who} "{request}" {status}'
        if note:
            line += f" {clean(note, 600)}"
        with self._lock:
            if self._fd is not None:
                os.write(self._fd, (line + "\n").encode("utf-8", "replace"))
            if self.stream is not None:
                print(line, file=self.stream, flush=True)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
