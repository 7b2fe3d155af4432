"""Comparison records on disk: written once, atomically; read with migration.

A record lives at ``runs/YYYY-MM-DD/<a>-vs-<b>.json``. A second run of the same
pair on the same day gets ``<a>-vs-<b>.2.json`` (then ``.3``...): nothing
already written is ever replaced. A record's id is its path under runs/
without ``.json``, e.g. ``2026-11-24/smolvlm-2-5-vs-mistral-medium-3``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panel.aggregate import set_aside, total_cost
from panel.atomic import write_new
from panel.catalog import describe_error
from panel.errors import PanelError
from panel.models import SCHEMA_VERSION, CallResult, ComparisonRecord

MAX_SAME_DAY = 999


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
    """v5 counts recused answers apart from valid and failed ones, and splits the cost.

    ``totals.recused`` and ``scores.tools[].recused`` count answers set aside for a
    conflict of interest; ``totals.spent_usd`` is what the run paid (calls not served
    from the cache), ``totals.cost_usd`` stays what the answers cost. All three follow
    from the calls, so an older record gets exact values.
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
        data["scores"] = {
            **scores,
            "tools": [
                {
                    **s,
                    "recused": sum(1 for c in verdicts if c.tool == s.get("tool") and set_aside(c)),
                }
                if isinstance(s, dict)
                else s
                for s in scores["tools"]
            ],
        }
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
}


def pair_stem(a: str, b: str) -> str:
    return f"{a}-vs-{b}"


def _candidates(folder: Path, stem: str) -> Iterator[Path]:
    yield folder / f"{stem}.json"
    for n in range(2, MAX_SAME_DAY + 1):
        yield folder / f"{stem}.{n}.json"


def record_id(runs: Path, path: Path) -> str:
    return path.relative_to(runs).with_suffix("").as_posix()


def dump(record: ComparisonRecord) -> bytes:
    return (record.model_dump_json(indent=2) + "\n").encode()


def write_record(
    runs: Path, day: date, stem: str, build: Callable[[str], ComparisonRecord]
) -> Path:
    """Write ``build(id)`` to the first free name for ``stem`` on ``day``; return its path."""
    folder = runs / day.isoformat()
    try:
        return write_new(_candidates(folder, stem), lambda p: dump(build(record_id(runs, p))))
    except FileExistsError:
        raise PanelError(
            f"{folder}: {MAX_SAME_DAY} records for {stem} today already; archive some"
        ) from None
    except OSError as exc:
        raise PanelError(f"cannot write a record in {folder}: {exc.strerror}") from None


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def scan(runs: Path) -> list[Path]:
    """Every record file under ``runs`` (``YYYY-MM-DD/*.json``), sorted by id."""
    if not runs.is_dir():
        return []
    return sorted(
        path
        for folder in runs.iterdir()
        if folder.is_dir() and _DAY.match(folder.name)
        for path in folder.glob("*.json")
        if not path.name.startswith(".")
    )


def resolve(runs: Path, ref: str) -> Path:
    """A record path from a file path or a record id."""
    given = Path(ref).expanduser()
    for path in (given, runs / ref, runs / f"{ref}.json"):
        if path.is_file():
            return path
    raise PanelError(
        f"no record {ref!r}: not a file and not an id under {runs}; "
        "pass the path printed by `panel review`"
    )


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


MAX_RECORD_BYTES = 50 * 1024 * 1024
FUTURE_SLACK = timedelta(days=1)


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def read_record(path: Path) -> ComparisonRecord:
    where = str(path)
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise PanelError(f"{where}: larger than {MAX_RECORD_BYTES // 2**20} MB; not a record")
        data = json.loads(path.read_bytes(), object_pairs_hook=no_duplicate_keys)
    except OSError as exc:
        raise PanelError(f"{where}: cannot read ({exc.strerror})") from None
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
    if record.created_at > datetime.now(UTC) + FUTURE_SLACK:
        raise PanelError(
            f"{where}: created_at {record.created_at.isoformat()} is in the future; "
            "check the clock of the machine that wrote it"
        )
    return record
