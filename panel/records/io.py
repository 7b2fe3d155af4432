"""Comparison records on disk: written once, atomically; read with migration and checks.

A record lives at ``runs/YYYY-MM-DD/<a>-vs-<b>.json``. A second run of the same
pair on the same day gets ``<a>-vs-<b>.2.json`` (then ``.3``...): nothing
already written is ever replaced. A record's id is its path under runs/
without ``.json``, e.g. ``2026-11-24/smolvlm-2-5-vs-mistral-medium-3`` (see
``ids.py``; a record written outside runs/ gets an ``out:`` id).

Every reader of runs/ goes through :func:`iter_records`: each file is read only
if it is a regular file under the size cap, validated against the schema and
for consistency, and its id must match its place. A file that fails is skipped
with a one-line warning naming it, and the rest are read.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panel import clock
from panel.atomic import sweep_temp_files, write_new
from panel.errors import PanelError, describe_error
from panel.records.checks import inconsistency
from panel.records.ids import inside_runs as inside_runs  # re-exported for callers
from panel.records.ids import is_day, is_record_id, location_id
from panel.records.ids import resolve as resolve
from panel.records.ids import resolve_in_runs as resolve_in_runs
from panel.records.schema import SCHEMA_VERSION, CallResult, ComparisonRecord
from panel.safeio import no_duplicate_keys, read_regular
from panel.scoring.aggregate import set_aside, total_cost
from panel.scoring.rules import Quorum, tool_rule

MAX_SAME_DAY = 999
MAX_RECORD_BYTES = 50 * 1024 * 1024
FUTURE_SLACK = timedelta(days=1)


# from_version -> function upgrading a record dict to from_version + 1.
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 adds the editorial gate: an old record is an unreviewed draft."""
    return {**data, "editorial": {"status": "draft", "overrides": [], "history": []}}


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """v3 records the injection defences and leak flags per call; older: not recorded."""
    calls = data.get("calls")
    if isinstance(calls, list):
        data = {
            **data,
            "calls": [
                {**c, "defences": [], "flags": []} if isinstance(c, dict) else c for c in calls
            ],
        }
    return data


def _v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """v4 adds head-to-head calls, conflicts of interest and trust scores.

    Older records had neither: every call is a verdict, none conflicted, and the
    scores carry no head-to-head or trust section (null).
    """
    return data  # every new field has a default that states exactly that


def _v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    """v5 counts recused answers apart from valid and failed ones, splits the cost, and
    says how each tool score was computed.

    ``totals.recused`` and ``scores.tools[].recused`` count answers set aside for a
    conflict of interest; ``totals.spent_usd`` is what the run paid (calls not served
    from the cache), ``totals.cost_usd`` stays what the answers cost. All three follow
    from the calls, so an older record gets exact values. ``scores.tools[].rule``
    follows from the record's quorum: the ship % formula has not changed since v1.
    """
    raw = data.get("calls")
    totals, scores = data.get("totals"), data.get("scores")
    if not isinstance(raw, list) or not isinstance(totals, dict):
        return data  # validation names what is wrong
    calls = [CallResult.model_validate(c) for c in raw]
    data = {
        **data,
        "totals": {
            **totals,
            "recused": sum(1 for c in calls if set_aside(c)),
            "spent_usd": total_cost([c for c in calls if not c.cached]),
        },
    }
    if isinstance(scores, dict) and isinstance(scores.get("tools"), list):
        verdicts = [c for c in calls if c.kind == "verdict"]
        rule = _rule(scores.get("quorum", Quorum.EVERY_PERSONA))
        data["scores"] = {
            **scores,
            "tools": [
                {
                    **s,
                    "recused": sum(1 for c in verdicts if c.tool == s.get("tool") and set_aside(c)),
                    **({} if rule is None else {"rule": rule}),
                }
                if isinstance(s, dict)
                else s
                for s in scores["tools"]
            ],
        }
    return data


def _v5_to_v6(data: dict[str, Any]) -> dict[str, Any]:
    """v6 carries the evidence behind verdicts (issue 26): per tool, the sources its
    reviewers were shown (``evidence``: id, URL, kind, title, fetch time, sha256; not the
    text), and per call the ids its quote cites, the reviewer's word on the evidence and
    each claim's grounding outcome; ``totals.abstained`` counts answers that found the
    evidence insufficient.

    Every review before v6 was made from the card alone: no evidence, no citations, no
    claims, no abstentions. Each new field's default says exactly that.
    """
    return data


def _rule(quorum: object) -> str | None:
    """The tool-score rule of an older record's quorum; None if the quorum is not one."""
    if not isinstance(quorum, str) or quorum not in [q.value for q in Quorum]:
        return None  # validation names the bad quorum
    return tool_rule(Quorum(quorum))


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
}


def pair_stem(a: str, b: str) -> str:
    return f"{a}-vs-{b}"


def _candidates(folder: Path, stem: str) -> Iterator[Path]:
    yield folder / f"{stem}.json"
    for n in range(2, MAX_SAME_DAY + 1):
        yield folder / f"{stem}.{n}.json"


def record_id(runs: Path, path: Path, detached: bool = False) -> str:
    return location_id(runs, path, detached)


def dump(record: ComparisonRecord) -> bytes:
    """The record's bytes. ``cached_tokens`` (call and totals) is left out where it is 0, so a
    record without prompt-cache hits is byte for byte what it was before the field existed."""
    calls = {n: {"cached_tokens"} for n, c in enumerate(record.calls) if not c.cached_tokens}
    exclude: dict[str, Any] = {"calls": calls} if calls else {}
    if not record.totals.cached_tokens:
        exclude["totals"] = {"cached_tokens"}
    return (record.model_dump_json(indent=2, exclude=exclude or None) + "\n").encode()


def write_record(
    runs: Path,
    day: date,
    stem: str,
    build: Callable[[str], ComparisonRecord],
    detached: bool = False,
) -> Path:
    """Write ``build(id)`` to the first free name for ``stem`` on ``day``; return its path.

    ``detached``: ``runs`` is not the project's runs/ (``--out``), so the id gets the
    ``out:`` prefix and can never name a record in runs/.
    """
    folder = runs / day.isoformat()
    _sweep_once(folder)
    try:
        return write_new(
            _candidates(folder, stem), lambda p: dump(build(record_id(runs, p, detached)))
        )
    except FileExistsError:
        raise PanelError(
            f"{folder}: {MAX_SAME_DAY} records for {stem} today already; archive some"
        ) from None
    except OSError as exc:
        raise PanelError(f"cannot write a record in {folder}: {exc.strerror}") from None


_SWEPT: set[Path] = set()  # day folders this process has swept already
_SWEPT_LOCK = threading.Lock()


def _sweep_once(folder: Path) -> None:
    """Sweep stale temp files from ``folder`` the first time this process writes there.

    Once, not per record: a night writes thousands of records into one day folder, and a
    sweep reads the whole folder (a sweep per record made collecting a night quadratic).
    A temp file goes stale only after ``atomic.STALE_AFTER``; readers of runs/ sweep too.
    """
    with _SWEPT_LOCK:
        if folder in _SWEPT:
            return
        _SWEPT.add(folder)
    sweep_temp_files(folder)


def check_folder(folder: Path, day: date, what: str) -> None:
    """Fail now, before any paid call, if records cannot be written under ``folder``.

    The folder (and today's day folder in it) must be a folder or creatable as one,
    and a file must be creatable in it. Creates the folder.
    """
    for path in (folder, folder / day.isoformat()):
        if path.exists() and not path.is_dir():
            raise PanelError(
                f"{what} {path} exists and is not a folder; records need a folder there: "
                "move the file or pass another --out"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".panel-write-check.", suffix=".tmp", dir=folder)
        os.close(fd)
        Path(name).unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PanelError(
            f"cannot write records in {what} {folder}: {reason}; "
            "fix its permissions or pass another --out"
        ) from None


def scan(runs: Path) -> list[Path]:
    """Every candidate record file under ``runs`` (``YYYY-MM-DD/*.json``), sorted by id.

    Only lists names: nothing is opened, so a FIFO or a device named ``*.json`` is
    listed and then refused by the reader, never waited on.
    """
    if not runs.is_dir():
        return []
    return sorted(
        path
        for folder in runs.iterdir()
        if is_day(folder.name) and folder.is_dir()
        for path in folder.glob("*.json")
        if not path.name.startswith(".")
    )


def sweep(runs: Path) -> None:
    """Remove stale temp files that killed writers left in runs/ and its folders."""
    if not runs.is_dir():
        return
    sweep_temp_files(runs)
    for folder in runs.iterdir():
        ours = folder.name in ("nightly", "digests", ".site-cache") or is_day(folder.name)
        if ours and folder.is_dir() and not folder.is_symlink():
            sweep_temp_files(folder)


Warn = Callable[[str], None]


def warn_on_stderr(message: str) -> None:
    print(f"panel: warning: {message}", file=sys.stderr)


def load_in_runs(runs: Path, path: Path) -> tuple[ComparisonRecord, bytes]:
    """The record at ``path`` in runs/ and its bytes; its id must match its place."""
    data = read_regular(path, MAX_RECORD_BYTES, "record")
    record = parse_record(data, str(path))
    expected = location_id(runs, path)
    if not is_record_id(expected):
        raise PanelError(f"{path}: the file name is not a record id; rename it <a>-vs-<b>.json")
    if record.id != expected:
        raise PanelError(
            f"{path}: its id is {record.id[:200]!r} but its place in runs/ makes it {expected!r}; "
            "a copied or moved record: restore its name or fix its id"
        )
    return record, data


def iter_records(
    runs: Path, warn: Warn = warn_on_stderr, since: date | None = None
) -> Iterator[tuple[Path, ComparisonRecord]]:
    """Every readable, valid record in runs/ (sorted by id); each other file is skipped.

    A skipped file gets one ``warn("skipped ...")`` line naming it and saying why. Stale
    temp files of killed writers are swept first. ``since``: only the day folders from that
    UTC day on (a record's folder is its UTC day), unopened before it.
    """
    sweep(runs)
    floor = since.isoformat() if since is not None else ""
    for path in scan(runs):
        if path.parent.name < floor:
            continue
        try:
            record, _ = load_in_runs(runs, path)
        except PanelError as exc:
            warn(f"skipped {exc}")
            continue
        yield path, record


def migrate(data: dict[str, Any], where: str) -> dict[str, Any]:
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise PanelError(f"{where}: no integer schema_version; is this a panel record?")
    if version > SCHEMA_VERSION:
        raise PanelError(
            f"{where}: schema_version {version} is newer than this panel reads "
            f"({SCHEMA_VERSION}); upgrade panel"
        )
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise PanelError(f"{where}: no migration from schema_version {version}")
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    return data


def read_record(path: Path) -> ComparisonRecord:
    """The record in the file at ``path`` (anywhere): read safely, migrated, checked."""
    return parse_record(read_regular(path, MAX_RECORD_BYTES, "record"), str(path))


def parse_record(raw: bytes, where: str) -> ComparisonRecord:
    """A record from its file's bytes; ``where`` names the file in errors."""
    try:
        data = json.loads(raw, object_pairs_hook=no_duplicate_keys)
    except RecursionError:
        raise PanelError(f"{where}: JSON nested too deeply; is this a panel record?") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise PanelError(f"{where}: not a valid JSON record ({exc})") from None
    if not isinstance(data, dict):
        raise PanelError(f"{where}: expected a JSON object; is this a panel record?")
    try:
        record = ComparisonRecord.model_validate(migrate(data, where))
    except ValidationError as exc:
        raise PanelError(f"{where}: invalid record, {describe_error(exc)}") from None
    if record.created_at > clock.now() + FUTURE_SLACK:
        raise PanelError(
            f"{where}: created_at {record.created_at.isoformat()} is in the future; "
            "check the clock of the machine that wrote it"
        )
    if problem := inconsistency(record):
        raise PanelError(
            f"{where}: inconsistent record: {problem}; it was edited or damaged, "
            "restore it from a backup or move it out of runs/"
        )
    return record


def records_folder(runs: Path, out: Path | None) -> tuple[Path, bool]:
    """(folder to write records in, whether it is outside the project's runs/) for ``--out``."""
    if out is None:
        return runs, False
    try:
        same = out.expanduser().resolve() == runs.resolve()
    except (OSError, RuntimeError):
        same = False
    return (runs, False) if same else (out.expanduser(), True)
