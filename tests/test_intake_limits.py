"""Hangs and unbounded reads: FIFOs, /dev/zero, huge sparse files and slow-drip servers.

Every command runs in a subprocess with a timeout as a hang guard and a memory cap,
so code that blocks on a FIFO or reads /dev/zero fails the test instead of hanging
it or eating the machine's memory. Nothing here asserts how fast anything is.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel.paths import Home

HANG_GUARD = 120  # seconds; a command that takes this long is hung
# Fixed dates, never "yesterday" read at import: these commands run in subprocesses on the real
# clock, and a run that crossed midnight saw its tools drop out of the plan. The nightly is
# told where to start (--since), so what it plans does not depend on the day the suite runs.
RECENT = "2026-11-20"
SINCE = ("--since", "2026-11-19")
# A panel with a provider that is never called (dry runs and failures before any call).
CONFIG = """\
[panel]
providers = ["fake"]
head_to_head = false

[providers.fake]
kind = "openai"
model = "m"
base_url = "http://127.0.0.1:9/v1"
api_key_env = ""
"""


def _cap_memory() -> None:
    limit = 2 * 1024**3  # reading /dev/zero or a 3 GB file into memory fails fast
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def guarded(home: Home, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``argv`` in a subprocess under the hang guard and the memory cap."""
    env = {**os.environ, "PANEL_HOME": str(home.root), "COLUMNS": "200"}
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env=env,
        preexec_fn=_cap_memory,
        check=False,
    )


def panel(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    return guarded(home, [sys.executable, "-m", "panel", *args])


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("panel: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def project(home: Home) -> Home:
    """Two tools launched yesterday (so a nightly plans them) and a provider never called."""
    for name in ("alpha-tool", "beta-tool"):
        path = home.catalog / f"{name}.toml"
        path.write_text(path.read_text() + f"launched = {RECENT}\n")
    home.config_file.write_text(CONFIG)
    return home


def special(path: Path, kind: str) -> None:
    path.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


def test_the_project_works_before_anything_is_broken(project: Home, tmp_path: Path) -> None:
    assert panel(project, "tools", "list").returncode == 0
    result = panel(project, "nightly", "--dry-run", *SINCE)
    assert result.returncode == 0 and '"alpha-tool"' in result.stdout, result.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_special_file_in_catalog_never_hangs_a_command(
    project: Home, tmp_path: Path, kind: str
) -> None:
    special(project.catalog / "evil.toml", kind)
    lines = tmp_path / "new.jsonl"
    lines.write_text('{"name": "New", "description": "d"}\n')
    for args in (
        ["tools", "list"],
        ["tools", "show", "alpha-tool"],
        ["tools", "import", str(lines)],
        ["nightly", "--dry-run", *SINCE],
    ):
        one_line_error(panel(project, *args), "evil.toml", "not a regular file")
    assert not (project.catalog / "new.toml").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("panel.toml", "panel.toml"),
        ("personas/dx.toml", "dx.toml"),
        ("prompts/_card.j2", "_card.j2"),  # a partial every prompt includes
    ],
)
def test_a_special_config_persona_or_prompt_file_never_hangs(
    project: Home, kind: str, target: str, needle: str
) -> None:
    special(project.root / target, kind)
    one_line_error(panel(project, "nightly", "--dry-run", *SINCE), needle, "not a regular file")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_special_partial_never_hangs_the_templates_digest(project: Home, kind: str) -> None:
    """The nightly digests every partial to see whether prompts changed since a review."""
    special(project.prompts / "_unused.j2", kind)
    code = (
        "import sys; from pathlib import Path; from panel.errors import PanelError;"
        "from panel.pipeline.prompts import PromptBuilder\n"
        "try: PromptBuilder(Path(sys.argv[1]), b'k').template_digest('dx.j2')\n"
        "except PanelError as exc: sys.exit(f'panel: error: {exc}')"
    )
    result = guarded(project, [sys.executable, "-c", code, str(project.prompts)])
    assert result.returncode == 1 and "_unused.j2 is not a regular file" in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize("command", [["tools", "import"], ["votes", "import"]])
def test_a_special_file_to_import_is_refused(
    project: Home, tmp_path: Path, kind: str, command: list[str]
) -> None:
    path = tmp_path / "launches.csv"
    special(path, kind)
    one_line_error(panel(project, *command, str(path)), "launches.csv", "not a regular file")


@pytest.mark.parametrize("command", [["tools", "import"], ["votes", "import"]])
def test_a_3gb_sparse_file_is_refused_by_its_size(
    project: Home, tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: no disk used
    one_line_error(panel(project, *command, str(path)), "huge.csv", "3,221,225,472 bytes")


@contextlib.contextmanager
def drip_server(interval: float) -> Iterator[str]:
    """Answers every request with a valid-looking feed, one byte every ``interval`` s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n"
        b'<?xml version="1.0"?><rss version="2.0"><channel>' + b" " * 100_000
    )

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            for byte in answer:
                if stop.wait(interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up: good

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    finally:
        stop.set()
        listener.close()


def test_a_slow_drip_feed_is_cut_off_at_the_overall_deadline(project: Home) -> None:
    project.config_file.write_text(CONFIG + "\n[intake]\ntimeout = 3\n")
    before = sorted(p.name for p in project.catalog.iterdir())
    with drip_server(interval=2.0) as url:  # a per-read timeout (20 s) never fires on this
        result = panel(project, "tools", "import", url)
    one_line_error(result, url, "within 3 s", "[intake] timeout")
    assert sorted(p.name for p in project.catalog.iterdir()) == before
