"""One run of the nightly over its selected comparisons, a slice at a time.

A night of 25,000 comparisons is never in memory at once: comparisons are planned
(prompts rendered), journaled, sent (batched or not), answered and recorded ``SLICE``
at a time, and what a slice held is let go before the next (``NightCalls.forget``).
Batch results are collected once, first. With ``--wait``, the comparisons still waiting
on a batch are taken again after each poll until nothing is open or the time is up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from panel import clock
from panel.jobs.nightly_calls import BatchRoutes, NightCalls
from panel.jobs.nightly_policy import same_answers
from panel.jobs.nightly_select import Selected
from panel.jobs.nightly_summary import NightSummary
from panel.jobs.review import Plan, answers_digest, index, journal, save
from panel.pipeline.calls import Call
from panel.records.schema import CallResult
from panel.records.store import Store
from panel.scoring.aggregate import tally_by_kind

ProgressHook = Callable[[str], None]
# Comparisons per slice: about one batch's lines (pipeline/batch_path.MAX_LINES) when a
# tool's calls are shared by the two pairs it is in.
SLICE = 500


@dataclass
class Planner:
    """Plans selected comparisons (renders their prompts); ``plan(tool, rival)`` is
    ``review.plan_tools`` with the night's shared catalog, personas and builder."""

    plan: Callable[[Selected], Plan]
    forget: Callable[[], None] = lambda: None  # let go of what planning a slice rendered

    def slice(self, chosen: Sequence[Selected]) -> list[tuple[Selected, Plan]]:
        # A tool's calls are the same in every pair it is in: one Call each, sent once.
        # The builder renders a prompt once and the session makes one client per provider,
        # so (client, prompt) names a call without hashing it again; ``same`` keeps both
        # alive for the slice.
        same: dict[tuple[int, int], Call] = {}
        plans = []
        for selected in chosen:
            plan = self.plan(selected)
            plan.calls = [same.setdefault((id(c.provider), id(c.rendered)), c) for c in plan.calls]
            plans.append((selected, plan))
        return plans


def slices(chosen: Sequence[Selected], size: int = SLICE) -> Iterator[Sequence[Selected]]:
    for start in range(0, len(chosen), size):
        yield chosen[start : start + size]


@dataclass(kw_only=True)
class Night:
    """One run of the nightly: plan, send, answer and record the chosen comparisons."""

    chosen: list[Selected]
    planner: Planner
    calls: NightCalls
    routes: BatchRoutes
    store: Store
    out: Path
    run_id: str
    summary: NightSummary
    log: ProgressHook
    check: Callable[[list[Call]], None] = lambda calls: None  # prices known, say
    entries: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    async def run(self, wait: float | None) -> None:
        night = self.calls
        if night.batch is not None:
            await night.batch.collect()  # first what earlier runs sent
        waiting = await self.over(self.chosen)
        if not wait or night.batch is None or not waiting:
            return  # nothing waits on a batch: no "waiting" line
        self.log(f"waiting up to {wait:.0f}s for batches")
        deadline = time.monotonic() + wait
        while waiting and night.batch.journal.open():
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(night.batch.poll, max(0.0, deadline - time.monotonic())))
            await night.batch.collect()
            waiting = await self.over(waiting)

    async def over(self, chosen: Sequence[Selected]) -> list[Selected]:
        """Take ``chosen`` a slice at a time; the comparisons still waiting on a batch."""
        waiting: list[Selected] = []
        for part in slices(chosen):
            plans = self.planner.slice(part)
            for _, plan in plans:
                plan.calls = self.calls.route(plan.calls, self.routes)
            self.check([c for _, plan in plans for c in plan.calls])
            with self.store.transaction():
                for _, plan in plans:
                    journal(plan, self.store, self.run_id)
            await self.calls.submit([c for _, plan in plans for c in plan.calls])
            self.calls.refresh([c.key for _, plan in plans for c in plan.calls])
            done = await asyncio.gather(*(self.one(s, p) for s, p in plans))
            waiting += [s for (s, _), finished in zip(plans, done, strict=True) if not finished]
            self.calls.forget()
            self.planner.forget()
        return waiting

    async def one(self, selected: Selected, plan: Plan) -> bool:
        """Answer one comparison's calls and record it (or say why not); False: waiting."""
        started = clock.now()
        summary, pair = self.summary, f"{selected.tool.slug} vs {selected.rival.slug}"
        entry: dict[str, Any] = {
            "tool": selected.tool.slug,
            "rival": selected.rival.slug,
            "reason": selected.reason,
        }
        self.entries[(selected.tool.slug, selected.rival.slug)] = entry
        complete, calls = await self.calls.answer(plan.calls)
        self.calls.settle(calls)
        if not complete:
            summary.count(calls, self.calls)  # what ended tonight; the record waits for the rest
            entry["status"] = "waiting"
            self.log(f"waiting {pair}: calls in a batch")
            return False
        if summary.add(plan, calls, self.calls):
            summary.deferred += 1
            entry["status"] = "deferred"
            self.log(f"deferred {pair}: budget reached")
        elif same_answers(
            self.store.last_record(_pair(plan)), answers := answers_digest(plan, calls)
        ):
            summary.unchanged += 1
            entry["status"] = "unchanged"
            self.log(f"unchanged {pair}: no new record")
        else:
            entry.update(await self._record(plan, calls, started, answers))
        return True

    def finish(self) -> None:
        """The comparisons' entries, in the order chosen, into the summary."""
        summary = self.summary
        summary.comparisons += list(self.entries.values())
        summary.waiting = sum(1 for e in self.entries.values() if e["status"] == "waiting")

    async def _record(
        self, plan: Plan, calls: list[CallResult], started: datetime, answers: str
    ) -> dict[str, Any]:
        # Off the event loop: the record's fsyncs would stall every call in flight.
        record, path = await asyncio.to_thread(save, plan, calls, self.out, started)
        index(self.store, plan, record, path, self.run_id, answers)
        count = record.totals
        if count.valid == 0:
            self.summary.failed += 1  # not one valid verdict: the record says why, call by call
        elif record.status == "complete":
            self.summary.done += 1
        else:
            self.summary.incomplete += 1
        self.log(f"{record.status} {record.id} ({tally_by_kind(record.calls)})")
        return {
            "status": record.status,
            "record": record.id,
            "calls": count.calls,
            "valid": count.valid,
            "failed": count.failed,
            "recused": count.recused,
        }


def _pair(plan: Plan) -> tuple[str, str]:
    return (plan.tools[0].slug, plan.tools[1].slug)
