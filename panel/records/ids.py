"""Record ids, and turning what a user typed (an id or a path) into one record file.

An id is a record's path under runs/ without ``.json``: ``YYYY-MM-DD/<a>-vs-<b>``, or
``YYYY-MM-DD/<a>-vs-<b>.N`` for the Nth record of a pair on one day. An id names exactly
one record, the one in runs/: it is never looked up anywhere else, and it never
contains ``..``, a leading ``/`` or anything else that could lead out of runs/.

A record written outside runs/ (``panel review --out DIR``) is not the project's: its id
is ``out:YYYY-MM-DD/<a>-vs-<b>``, which can never be mistaken for an id in runs/, and
commands take its file path. Commands that change a record (approve, reject,
override) only change records in runs/, the ones the site publishes.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from panel.errors import PanelError
from panel.slugs import MAX_SLUG

DETACHED = "out:"  # the id prefix of a record written outside runs/
DAY_PATTERN = r"\d{4}-\d{2}-\d{2}"
_DAY = re.compile(rf"^{DAY_PATTERN}$")
_ID = re.compile(rf"^{DAY_PATTERN}/[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[1-9][0-9]{{0,2}})?$")
# "YYYY-MM-DD/" + two slugs joined by "-vs-" + ".999"
MAX_ID = len("YYYY-MM-DD/") + 2 * MAX_SLUG + len("-vs-") + len(".999")
_SHOWN = 60  # characters of a rejected reference quoted in an error


def is_day(name: str) -> bool:
    return bool(_DAY.match(name))


def is_record_id(text: str) -> bool:
    """True for an id of a record in runs/ (``YYYY-MM-DD/<a>-vs-<b>[.N]``)."""
    return len(text) <= MAX_ID and bool(_ID.match(text))


def is_valid_id(text: str) -> bool:
    """True for any id a record may carry: one in runs/, or one written with --out."""
    return is_record_id(text.removeprefix(DETACHED))


def location_id(runs: Path, path: Path, detached: bool = False) -> str:
    """The id of the record file at ``path`` under the folder ``runs``."""
    rel = path.relative_to(runs).with_suffix("").as_posix()
    return f"{DETACHED}{rel}" if detached else rel


def shown(text: str) -> str:
    """``text`` quoted for an error line, cut if long."""
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def id_problem(text: str) -> str:
    """Why ``text`` is not a record id, in a few words."""
    if len(text) > MAX_ID:
        return f"it is {len(text)} characters long and ids are at most {MAX_ID}"
    if ".." in text.split("/"):
        return "it contains '..'"
    if text.startswith(("/", "\\", "~")):
        return "it is an absolute path"
    return "it is not of the form YYYY-MM-DD/<a>-vs-<b> that `panel list` shows"


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):  # missing, too long a name, a NUL byte...
        return False


def resolve(runs: Path, ref: str) -> Path:
    """The record file ``ref`` names: an id (looked up in runs/ only) or a file path."""
    if ref.startswith(DETACHED):
        raise PanelError(
            f"{shown(ref)} is a record written outside {runs} (with --out); ids name records "
            "in runs/ only, so pass that record's file path instead"
        )
    if is_record_id(ref):
        path = runs / f"{ref}.json"
        if _is_file(path):
            return path
        raise PanelError(f"no record {ref} in {runs}; `panel list` shows the ids there")
    try:
        path = Path(ref).expanduser()
    except (RuntimeError, ValueError):  # "~nobody/..."
        path = Path(ref)
    if _is_file(path):
        return path
    hint = ""
    if ref.endswith(".json") and is_record_id(ref.removesuffix(".json")):
        hint = f" (did you mean the id {ref.removesuffix('.json')}?)"
    raise PanelError(
        f"no record {shown(ref)}: not a record id ({id_problem(ref)}) and not a file{hint}; "
        "pass an id as `panel list` shows it, or the path of a record file"
    )


def inside_runs(runs: Path, path: Path) -> Path:
    """``path`` if it is a record file of runs/ (``YYYY-MM-DD/<id>.json``, not a link)."""
    refusal = (
        f"{path} is not a record in {runs}; approve, reject and override change only "
        "records in runs/, the ones the site publishes (a record written with --out is not one)"
    )
    try:
        if path.is_symlink():
            raise PanelError(f"{refusal}: it is a symbolic link")
        real, root = path.resolve(strict=True), runs.resolve(strict=True)
    except (OSError, RuntimeError):
        raise PanelError(refusal) from None
    if not real.is_relative_to(root):
        raise PanelError(refusal)
    rel = real.relative_to(root)
    if len(rel.parts) != 2 or not is_day(rel.parts[0]) or rel.suffix != ".json":
        raise PanelError(refusal)
    if not is_record_id(rel.with_suffix("").as_posix()):
        raise PanelError(f"{refusal}: its file name is not a record id")
    return path


def resolve_in_runs(runs: Path, ref: str) -> Path:
    """Like :func:`resolve`, for commands that change a record: runs/ only."""
    return inside_runs(runs, resolve(runs, ref))
