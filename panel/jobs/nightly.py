"""The nightly batch: select tools, pair each with a rival, run, record, summarise.

Durable by construction: every call goes through the store's journal and cache,
so a rerun (after a crash, kill -9, Ctrl-C or a budget stop) pays only for calls
that never finished, and a finished night reruns with zero provider calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from panel import clock
from panel.defences.fence_key import fence_key
from panel.errors import PanelError
from panel.evidence.run import refresh_evidence
from panel.evidence.snapshots import evidence_digests
from panel.inputs.catalog import Catalog, Tool
from panel.inputs.personas import load_personas, select_personas
from panel.inputs.sources import refresh
from panel.jobs.nightly_calls import NightCalls, batched, with_batch_price
from panel.jobs.nightly_panel import (
    PanelUsed,
    batch_refusal,
    describe_panel,
    embedded_refusal,
    not_batched,
    require_keys,
)
from panel.jobs.nightly_select import RIVAL_RULE, Selected, rival_for, seats_of, select
from panel.jobs.nightly_summary import write_summary
from panel.jobs.review import (
    Plan,
    Shared,
    answers_digest,
    fingerprint,
    index,
    journal,
    plan_tools,
    save,
)
from panel.pipeline.calls import Call
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.session import RunSession
from panel.records.schema import CallResult
from panel.records.store import Store
from panel.scoring.aggregate import tally_by_kind

__all__ = ["RIVAL_RULE", "NightlyOptions", "Summary", "dry_run_report", "rival_for", "run_nightly"]

KIND = "nightly"


@dataclass
class Summary:
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

    def add(self, plan: Plan, reason: str, calls: list[CallResult], night: NightCalls) -> str:
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
        return "deferred" if deferred else ""


ProgressHook = Callable[[str], None]


async def _run(
    plans: list[tuple[Selected, Plan]],
    night: NightCalls,
    store: Store,
    out: Path,
    run_id: str,
    summary: Summary,
    log: ProgressHook,
    wait: float | None,
) -> None:
    if night.batch is not None:
        await night.batch.collect()  # first what earlier runs sent
        everything = [c for _, plan in plans for c in plan.calls]
        if wait and (night.batch_keys or night.batch.journal.open()):
            log(f"waiting up to {wait:.0f}s for batches")
        await night.submit(everything, wait)
    night.refresh()

    async def one(selected: Selected, plan: Plan) -> None:
        started = clock.now()
        entry: dict[str, Any] = {
            "tool": selected.tool.slug,
            "rival": selected.rival.slug,
            "reason": selected.reason,
        }
        complete, calls = await night.answer(plan.calls)
        night.settle(calls)
        if not complete:
            summary.count(calls, night)  # what ended tonight; the record waits for the rest
            summary.waiting += 1
            entry["status"] = "waiting"
            log(f"waiting {selected.tool.slug} vs {selected.rival.slug}: calls in a batch")
        elif summary.add(plan, selected.reason, calls, night) == "deferred":
            summary.deferred += 1
            entry["status"] = "deferred"
            log(f"deferred {selected.tool.slug} vs {selected.rival.slug}: budget reached")
        elif _same_as_last(store, plan, calls):
            summary.unchanged += 1
            entry["status"] = "unchanged"
            log(f"unchanged {selected.tool.slug} vs {selected.rival.slug}: no new record")
        else:
            # Off the event loop: the record's fsyncs would stall every call in flight.
            record, path = await asyncio.to_thread(save, plan, calls, out, started)
            index(store, plan, record, path, run_id)
            count = record.totals
            entry.update(
                status=record.status,
                record=record.id,
                calls=count.calls,
                valid=count.valid,
                failed=count.failed,
                recused=count.recused,
            )
            if record.totals.valid == 0:
                summary.failed += 1  # not one valid verdict: the record says why, call by call
            elif record.status == "complete":
                summary.done += 1
            else:
                summary.incomplete += 1
            log(f"{record.status} {record.id} ({tally_by_kind(record.calls)})")
        summary.comparisons.append(entry)

    await asyncio.gather(*(one(s, p) for s, p in plans))


def _same_as_last(store: Store, plan: Plan, calls: list[CallResult]) -> bool:
    """Did the pair's last record say exactly this (same calls, same answers)?"""
    pair = (plan.tools[0].slug, plan.tools[1].slug)
    history = [r for r in store.records_for(pair[0]) if tuple(r["tools"]) == pair]
    if not history:
        return False
    return bool(history[-1]["provenance"].get("answers") == answers_digest(plan, calls))


@dataclass
class NightlyOptions:
    since: date | None = None
    providers: list[str] = field(default_factory=list)
    dry_run: bool = False
    allow_embedded: bool = False  # run on the built-in default panel (the embedded model)
    batch: bool = False  # --batch: through Batch APIs where a provider has one
    wait: float | None = None  # --wait: seconds to poll open batches before returning
    today: date = field(default_factory=clock.today)


def prepare(
    session: RunSession, options: NightlyOptions
) -> tuple[Summary, list[tuple[Selected, Plan]]]:
    """Tonight's comparisons, planned (prompts rendered, nothing sent) in ``session``."""
    home, store, config = session.home, session.store, session.config
    catalog = Catalog.load(home.catalog)
    last = store.last_run(KIND, "done")
    since = options.since or (
        datetime.fromtimestamp(last[1], UTC).date() if last else options.today - timedelta(days=1)
    )

    available = load_personas(home.personas, home.prompts)
    personas = select_personas(available, [])
    panel = describe_panel(config, [p.name for p in personas], options.providers)
    if panel.defaulted and not (options.dry_run or options.allow_embedded):
        raise PanelError(embedded_refusal(panel.defaulted, len(personas)))
    if not options.dry_run:
        require_keys(config, list(panel.providers))
    refused = not_batched(config, list(panel.providers), options.batch or config.panel.batch)
    if options.batch and (error := batch_refusal(refused, list(panel.providers))):
        raise PanelError(error)
    prompts = PromptBuilder(home.prompts, fence_key(home.runs))
    digests = prompts.template_digest
    shared = Shared(catalog, available, prompts)
    models = [f"{name}={config.settings(name).model}" for name in panel.providers]

    def current(tool: Tool, rival: Tool) -> dict[str, Any]:
        evidence = evidence_digests(home, (tool, rival), catalog=catalog, config=config)
        return fingerprint(personas, digests, (tool, rival), models, evidence)

    settings = config.panel
    day = options.today.isoformat()

    def due(key: str) -> bool:  # a failed call is retried once a night, on retry_nights nights
        nights, failed_on, _ = store.failed_before(key)
        return nights < settings.retry_nights and failed_on != day

    skipped: list[dict[str, str]] = []
    seats = seats_of(session, panel)
    chosen = select(catalog, store, since, current, seats, skipped, due)
    plans = []
    # A tool's calls are the same in every pair it is in: one Call each, sent once. The
    # builder renders a prompt once and the session makes one client per provider, so
    # (client, prompt) names a call without hashing it again; ``same`` keeps both alive.
    same: dict[tuple[int, int], Call] = {}
    for s in chosen:
        plan = plan_tools(
            home,
            (s.tool, s.rival),
            options.providers,
            [],
            clients=session.clients,
            config=config,
            shared=shared,
        )
        plan.calls = [same.setdefault((id(c.provider), id(c.rendered)), c) for c in plan.calls]
        plans.append((s, plan))
    summary = Summary(
        date=options.today.isoformat(),
        since=since.isoformat(),
        panel=asdict(panel),
        planned=len(plans),
        skipped=skipped,
        not_batched=refused,
    )
    for entry in skipped:
        summary.comparisons.append({**entry, "status": "skipped"})
    return summary, plans


def dry_run_report(session: RunSession, options: NightlyOptions) -> dict[str, Any]:
    """What tonight would review and what it would cost; nothing is sent."""
    summary, plans = prepare(session, options)
    on = options.batch or session.settings.batch  # estimated at batch prices where batched
    for _, plan in plans:
        plan.calls = [with_batch_price(c) if batched(c, on) else c for c in plan.calls]
    return dry_run_plan(session.store, plans, summary)


def dry_run_plan(
    store: Store, plans: list[tuple[Selected, Plan]], summary: Summary
) -> dict[str, Any]:
    rows = []
    total = 0.0
    unknown = False
    for selected, plan in plans:
        uncached = [c for c in plan.calls if store.cached(c.key) is None]
        costs = [c.estimated_cost() for c in uncached]
        unknown = unknown or any(c is None for c in costs)
        estimate = sum(c for c in costs if c is not None)
        total += estimate
        rows.append(
            {
                "tool": selected.tool.slug,
                "rival": selected.rival.slug,
                "reason": selected.reason,
                "calls": len(plan.calls),
                "cached": len(plan.calls) - len(uncached),
                "estimated_usd": round(estimate, 6),
            }
        )
    panel = summary.panel
    return {
        "since": summary.since,
        "panel": panel,
        "warning": (
            embedded_refusal(panel["defaulted"], len(panel["personas"]))
            if panel.get("defaulted")
            else None
        ),
        "rival_rule": RIVAL_RULE,
        "comparisons": rows,
        "skipped": summary.skipped,
        "not_batched": summary.not_batched,
        "calls": sum(r["calls"] for r in rows),
        "cached": sum(r["cached"] for r in rows),
        "estimated_usd": None if unknown else round(total, 6),
    }


def run_nightly(
    session: RunSession,
    options: NightlyOptions,
    log: ProgressHook,
    on_plan: Callable[[int], None] = lambda total: None,
) -> tuple[Summary, Path]:
    """Run the night's comparisons and write the summary to runs/nightly/<date>[.N].json.

    The budget is the session's: past the cap no new call starts, and the calls not sent
    stay planned for the next run (there is no up-front refusal over an estimate).
    """
    home, store = session.home, session.store
    run_id = f"{KIND}-{clock.now().strftime('%Y%m%dT%H%M%S.%fZ')}"
    refresh(home, log)  # [intake.sources] first: today's launches join tonight's plan
    evidence = refresh_evidence(home, log)  # then their sources (conditional GETs, own budget)
    summary, plans = prepare(session, options)
    summary.evidence = evidence
    session.require_prices(c for _, plan in plans for c in plan.calls)
    on = options.batch or session.settings.batch
    night = NightCalls(
        store,
        session.runner,
        session.batch_path(run_id, log),
        session.settings.retry_nights,
        options.today.isoformat(),
    )
    for _, plan in plans:
        plan.calls = night.route(plan.calls, on)
    store.begin_run(run_id, KIND)
    for _, plan in plans:
        journal(plan, store, run_id)
    total = sum(len(p.calls) for _, p in plans)
    log(PanelUsed(**summary.panel).line())
    for name, reason in summary.not_batched.items():
        log(f"not batched: {name} runs synchronously at full price: {reason}")
    log(
        f"planned {len(plans)} comparison{'' if len(plans) == 1 else 's'}, "
        f"{total} call{'' if total == 1 else 's'} (since {summary.since})"
    )
    for entry in summary.skipped:
        log(f"skipped {entry['tool']}: {entry['reason']}")
    on_plan(total)
    try:
        session.run(_run(plans, night, store, home.runs, run_id, summary, log, options.wait))
    except BaseException as exc:
        store.end_run(run_id, "interrupted")
        if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, or SIGTERM (handled the same way)
            log(
                f"interrupted: run {run_id} is marked interrupted, calls not answered go back "
                "to planned, and the next run resumes them"
            )
        raise
    summary.given_up = night.gave_up
    assert night.batch is not None
    summary.batch_lines = night.batch.submitted
    summary.batches_open = len(night.batch.journal.open())
    summary.spent_usd = round(summary.spent_usd, 6)
    summary.cost_usd = round(summary.cost_usd, 6)
    summary.sync_usd = round(summary.sync_usd, 6)
    status = "partial" if summary.deferred or summary.waiting else "done"
    store.end_run(run_id, status, asdict(summary))
    sent = session.runner.budget.calls > 0 or summary.batch_lines > 0
    path = write_summary(home.runs / "nightly", summary.date, asdict(summary), sent)
    return summary, path


def failure_reasons(summary: Summary) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in summary.failures:
        counts[f["reason"]] = counts.get(f["reason"], 0) + 1
    return counts
