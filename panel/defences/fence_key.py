"""The secret key behind prompt fence markers, kept in the runs folder (mode 0600).

Fence markers must be unguessable to vendors (so a description cannot forge an
END line) yet stable across runs (so identical calls have identical keys and
are never paid for twice). One random key per project gives both.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from panel.errors import PanelError

KEY_FILE = ".fence-key"
KEY_BYTES = 32


def _create(path: Path) -> None:
    """Publish a complete key file by hard link, so no reader sees a partial one."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def fence_key(state_dir: Path) -> bytes:
    path = state_dir / KEY_FILE
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create(path)
        key = path.read_bytes()
    except OSError as exc:
        raise PanelError(f"{path}: {exc.strerror}; check the runs folder's permissions") from None
    if len(key) != KEY_BYTES:
        raise PanelError(
            f"{path}: damaged fence key ({len(key)} bytes); delete it to make a new one"
        )
    return key
