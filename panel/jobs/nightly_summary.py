"""Where a night's summary goes: a run that sends work keeps its own file; one that only
collects batches (or finds nothing to do) updates the night's latest summary.

``runs/nightly/<date>.json`` is the night's first run, ``<date>.2.json`` the next run that
sent something, and so on: an existing summary of a run that sent work is never replaced
by another such run. The hourly collector of a batch night sends nothing, so it merges what
it found (records written, batches still open, what the answers cost) into the latest
summary of its night instead of writing a file every hour.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from panel.atomic import write_atomic, write_new
from panel.errors import PanelError
from panel.safeio import no_duplicate_keys, read_regular

ADDED = (  # what each run adds to the night
    "calls_made", "calls_cached", "calls_deferred", "prompt_tokens", "completion_tokens",
    "spent_usd", "cost_usd", "sync_usd", "batch_lines",
)  # fmt: skip
LATEST = ("panel", "rival_rule", "batches_open", "not_batched", "skipped")


def summary_paths(folder: Path, day: str) -> Iterator[Path]:
    """``<day>.json``, then ``<day>.2.json``, ``.3``...: every run that sends keeps its own."""
    yield folder / f"{day}.json"
    for n in itertools.count(2):
        yield folder / f"{day}.{n}.json"


def latest(folder: Path, day: str) -> Path | None:
    """The night's newest summary file, or None."""
    found = None
    for path in summary_paths(folder, day):
        if not path.exists():
            break
        found = path
    return found


def _key(entry: dict[str, Any]) -> tuple[str, str]:
    return (str(entry.get("tool", "")), str(entry.get("rival", "")))


def merge(night: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The night's summary updated with a run that sent nothing: its comparisons replace the
    night's entries for the same pair, the counts are recounted from them, and the money,
    calls and tokens are added."""
    merged = dict(night)
    for name in ADDED:
        merged[name] = round(night.get(name, 0) + run.get(name, 0), 6)
    for name in LATEST:
        merged[name] = run.get(name, night.get(name))
    entries = {_key(e): e for e in night.get("comparisons", [])}
    entries.update({_key(e): e for e in run.get("comparisons", [])})
    merged["comparisons"] = list(entries.values())
    merged.update(_recount(merged["comparisons"]))
    for name in ("failures", "given_up"):
        seen = list(night.get(name, []))
        merged[name] = seen + [x for x in run.get(name, []) if x not in seen]
    merged["runs"] = int(night.get("runs", 1)) + 1
    return merged


def _recount(entries: list[dict[str, Any]]) -> dict[str, int]:
    status = [e.get("status") for e in entries]
    recorded = [e for e in entries if "record" in e]
    return {
        "planned": sum(1 for s in status if s != "skipped"),
        "waiting": status.count("waiting"),
        "deferred": status.count("deferred"),
        "unchanged": status.count("unchanged"),
        "failed": sum(1 for e in recorded if e.get("valid") == 0),
        "done": sum(1 for e in recorded if e.get("valid") and e.get("status") == "complete"),
        "incomplete": sum(1 for e in recorded if e.get("valid") and e.get("status") != "complete"),
    }


def write_summary(folder: Path, day: str, report: dict[str, Any], sent: bool) -> Path:
    """Write tonight's ``report``: a new file if this run sent work (or is the night's first),
    else merged into the night's latest summary. Returns the path written."""
    last = None if sent else latest(folder, day)
    if last is not None:
        try:
            night = json.loads(read_regular(last), object_pairs_hook=no_duplicate_keys)
        except (PanelError, ValueError):
            night = None  # unreadable: keep it, write this run's own file
        if isinstance(night, dict):
            write_atomic(last, (json.dumps(merge(night, report), indent=2) + "\n").encode())
            return last
    data = (json.dumps(report, indent=2) + "\n").encode()
    return write_new(summary_paths(folder, day), lambda _: data)
