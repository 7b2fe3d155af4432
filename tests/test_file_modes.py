"""Published output is readable by the web server's user: 0644 under umask 0022.

Records, editorial rewrites, catalog files and everything written through
panel.atomic (digests, nightly summaries, the site) get the process umask's
mode; only secrets are 0600. The site and the digest have their own checks in
test_site.py and test_digest.py.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from panel.atomic import write_atomic, write_new
from panel.defences.fence_key import KEY_FILE, fence_key
from panel.inputs.catalog import Catalog
from panel.paths import Home
from panel.records.editorial import approve
from tests.support.records import save_record, tool


@pytest.fixture(params=[0o022, 0o027])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_records_and_their_editorial_rewrites_get_the_umask_mode(home: Home, umask: int) -> None:
    path = save_record(home.runs, tool("alpha-tool"), tool("beta-tool"))
    assert mode(path) == 0o666 & ~umask
    assert mode(path.parent) == 0o777 & ~umask
    path.chmod(0o600)  # an older panel wrote it private
    approve(home.runs, path, "ed")
    assert mode(path) == 0o666 & ~umask


def test_catalog_files_get_the_umask_mode(home: Home, umask: int) -> None:
    catalog = Catalog.load(home.catalog)
    written = catalog.save(tool("gamma-tool"))
    assert mode(written) == 0o666 & ~umask


def test_atomic_writes_follow_the_umask_and_private_stays_private(
    tmp_path: Path, umask: int
) -> None:
    summary = tmp_path / "nightly" / "2026-11-24.json"
    write_atomic(summary, b"{}\n")
    assert mode(summary) == 0o666 & ~umask
    assert mode(summary.parent) == 0o777 & ~umask
    made = write_new(iter([tmp_path / "new.json"]), lambda p: b"{}\n")
    assert mode(made) == 0o666 & ~umask
    secret = tmp_path / "secret"
    write_atomic(secret, b"x", private=True)
    assert mode(secret) == 0o600


def test_the_fence_key_stays_private(tmp_path: Path, umask: int) -> None:
    fence_key(tmp_path)
    assert mode(tmp_path / KEY_FILE) == 0o600
