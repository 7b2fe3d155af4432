"""What a night did (``NightSummary``), and where its summary goes: a run that sends work
keeps its own file; one that only collects batches (or finds nothing to do) updates the
night's latest summary.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panel.atomic import write_atomic, write_new
from panel.errors import PanelError
from panel.jobs.nightly_calls import NightCalls
from panel.jobs.nightly_select import RIVAL_RULE
from panel.jobs.review import Plan
from panel.records.schema import CallResult
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


@dataclass
class NightSummary:
    date: str
    since: str
    rival_rule: str = RIVAL_RULE
    panel: dict[str, Any] = field(default_factory=dict)
    planned: int = 0
    done: int = 0
    incomplete: int = 0
    failed: int = 0
    deferred: int = 0
    waiting: int = 0  # comparisons with calls in an open batch: recorded on a later run
    unchanged: int = 0  # re-reviewed, same answers: no new record
    calls_made: int = 0
    calls_cached: int = 0
    calls_deferred: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    spent_usd: float = 0.0  # paid by this run: calls not served from the cache
    cost_usd: float = 0.0  # what the night's answers cost, cached ones included
    sync_usd: float = 0.0  # what the calls paid by this run would have cost synchronously
    batch_lines: int = 0  # requests sent in new batches by this run
    batches_open: int = 0  # batches still running at the provider when this run ended
    not_batched: dict[str, str] = field(default_factory=dict)  # asked to batch, cannot: why
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # tools with no reviewable rival
    given_up: list[dict[str, Any]] = field(default_factory=list)  # failed on retry_nights nights
    evidence: dict[str, Any] = field(default_factory=dict)  # the re-fetch: counts, time, bytes
    seats: list[str] = field(default_factory=list)  # seats under [panel]'s thresholds (issue 30)

    @property
    def exit_code(self) -> int:
        """0 nothing wrong (batches still running are not wrong); 1 otherwise."""
        return 0 if self.incomplete == 0 and self.failed == 0 and self.deferred == 0 else 1

    def count(self, calls: list[CallResult], night: NightCalls) -> list[CallResult]:
        """Count calls and what they cost; the deferred ones (never sent: the budget)."""
        self.sync_usd += sum(night.sync_cost(c) for c in calls if not c.cached)
        deferred = [c for c in calls if c.attempts == 0 and not c.cached and not c.ok]
        self.calls_cached += sum(1 for c in calls if c.cached)
        self.calls_made += sum(1 for c in calls if not c.cached and c.attempts > 0)
        self.calls_deferred += len(deferred)
        fresh = [c for c in calls if not c.cached]
        self.prompt_tokens += sum(c.prompt_tokens for c in fresh)
        self.completion_tokens += sum(c.completion_tokens for c in fresh)
        self.spent_usd += sum(c.cost_usd or 0.0 for c in fresh)
        self.cost_usd += sum(c.cost_usd or 0.0 for c in calls)
        return deferred

    def add(self, plan: Plan, calls: list[CallResult], night: NightCalls) -> bool:
        """Count a finished comparison's calls and list its failures; True if some calls
        were deferred (never sent: the budget)."""
        deferred = self.count(calls, night)
        for c in calls:
            if not c.ok and c.failure and c not in deferred:
                self.failures.append(
                    {
                        "comparison": f"{plan.tools[0].slug} vs {plan.tools[1].slug}",
                        "persona": c.persona,
                        "tool": c.tool,
                        "provider": c.provider,
                        "reason": c.failure.reason.value,
                        "detail": c.failure.detail,
                    }
                )
        return bool(deferred)
