"""Real full disks and read-only folders for tests: a private mount namespace per command.

``in_namespace(setup, args)`` runs the shell commands ``setup`` and then ``panel ARGS``
under ``unshare --mount --propagation private``, so a tmpfs or a read-only bind mount
made there is seen by that command only and ends with it: nothing is mounted outside.
It needs the right to mount (root); without it the calling test skips and says why.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

UNSHARE = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
ROOT = Path(__file__).resolve().parent.parent.parent


@functools.cache
def cannot_mount() -> str | None:
    """None if this process may mount in a private namespace, else why not."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    with tempfile.TemporaryDirectory() as spot:
        probe = subprocess.run(
            [*UNSHARE, f"mount -t tmpfs -o size=64k tmpfs {shlex.quote(spot)}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    return None if probe.returncode == 0 else f"cannot mount here: {probe.stderr.strip()[:200]}"


def in_namespace(
    setup: str, args: list[str], home: Path, after: str = ""
) -> subprocess.CompletedProcess[str]:
    """``panel ARGS`` (project ``home``) after ``setup``, then ``after`` (its exit code in
    ``$rc``), in a private mount namespace; the process's exit code is panel's."""
    why = cannot_mount()
    if why is not None:
        pytest.skip(f"needs a private mount namespace (root): {why}")
    script = f'{setup} && {{ "$0" -m panel "$@"; rc=$?; {after or ":"}; exit $rc; }}'
    return subprocess.run(
        [*UNSHARE, script, sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PANEL_HOME": str(home), "COLUMNS": "200"},
        cwd=ROOT,
    )


def full(folder: Path, copy: Path, size: str = "1m", leave: int = 0) -> str:
    """Shell: ``folder`` on a tmpfs of ``size`` holding its files, then zeros until only
    ``leave`` bytes (about) are free."""
    where, saved = shlex.quote(str(folder)), shlex.quote(str(copy))
    ballast = (
        f"(dd if=/dev/zero of={where}/.ballast bs=4096 2>/dev/null; true)"
        if leave == 0
        else f"(dd if=/dev/zero of={where}/.ballast bs=4096 "
        f"count=$(( ($(stat -f -c '%a*%S' {where}) - {leave}) / 4096 )) 2>/dev/null; true)"
    )
    return (
        f"cp -a {where} {saved} && mount -t tmpfs -o size={size} tmpfs {where} && "
        f"cp -a {saved}/. {where}/ && {ballast}"
    )


def read_only(folder: Path) -> str:
    """Shell: ``folder`` as a read-only bind mount of itself."""
    where = shlex.quote(str(folder))
    return f"mount --bind {where} {where} && mount -o remount,bind,ro {where}"
