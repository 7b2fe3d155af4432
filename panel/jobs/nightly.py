"""The nightly batch: select tools, pair each with a rival, run, record, summarise.

Durable by construction: every call goes through the store's journal and cache,
so a rerun (after a crash, kill -9, Ctrl-C or a budget stop) pays only for calls
that never finished, and a finished night reruns with zero provider calls.
"""

from __future__ import annotations

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
from panel.jobs.nightly_calls import BatchRoutes, NightCalls
from panel.jobs.nightly_panel import (
    PanelUsed,
    batch_refusal,
    describe_panel,
    embedded_refusal,
    not_batched,
    require_keys,
)
from panel.jobs.nightly_policy import RetryRule, look
from panel.jobs.nightly_run import Night, Planner, ProgressHook, slices
from panel.jobs.nightly_select import RIVAL_RULE, Selected, rival_for, seats_of, select
from panel.jobs.nightly_summary import NightSummary, write_summary
from panel.jobs.review import Plan, Shared, fingerprint, plan_tools
from panel.pipeline.calls import estimated_costs
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.session import RunSession
from panel.records.rows import ReviewInputs
from panel.scoring.seats import seat_warnings

__all__ = [
    "RIVAL_RULE",
    "NightSummary",
    "NightlyOptions",
    "dry_run_report",
    "rival_for",
    "run_nightly",
]

KIND = "nightly"


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
) -> tuple[NightSummary, list[Selected], Planner]:
    """Tonight's comparisons (selected, nothing planned or sent yet) and their planner."""
    home, store, config = session.home, session.store, session.config
    catalog = Catalog.load(home.catalog)
    last = store.last_run(KIND, "done")
    since = options.since or (
        datetime.fromtimestamp(last.started_at, UTC).date()
        if last
        else options.today - timedelta(days=1)
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

    def current(tool: Tool, rival: Tool) -> ReviewInputs:
        evidence = evidence_digests(home, (tool, rival), catalog=catalog, config=config)
        return fingerprint(personas, digests, (tool, rival), models, evidence)

    retry = RetryRule(config.panel.retry_nights, options.today.isoformat())
    tonight = look(store, since, retry, catalog.tools, first=last is None)
    skipped: list[dict[str, str]] = []
    seats = seats_of(session, panel)
    chosen = select(catalog, store, tonight, current, seats, skipped)

    def plan(s: Selected) -> Plan:
        return plan_tools(
            home,
            (s.tool, s.rival),
            options.providers,
            [],
            clients=session.clients,
            config=config,
            shared=shared,
        )

    summary = NightSummary(
        date=options.today.isoformat(),
        since=since.isoformat(),
        panel=asdict(panel),
        planned=len(chosen),
        skipped=skipped,
        not_batched=refused,
    )
    for entry in skipped:
        summary.comparisons.append({**entry, "status": "skipped"})
    return summary, chosen, Planner(plan, prompts.forget)


def dry_run_report(session: RunSession, options: NightlyOptions) -> dict[str, Any]:
    """What tonight would review and what it would cost; nothing is sent."""
    summary, chosen, planner = prepare(session, options)
    # estimated at batch prices where batched
    routes = BatchRoutes(options.batch or session.settings.batch)
    rows: list[dict[str, Any]] = []
    total, unknown = 0.0, False
    for part in slices(chosen):  # a slice planned at a time, as a real night is
        for selected, plan in planner.slice(part):
            calls = [routes.priced(c) if routes.batched(c) else c for c in plan.calls]
            uncached = [c for c in calls if session.store.cached(c.key) is None]
            costs = estimated_costs(uncached)  # with the warming order's expected cache hits
            unknown = unknown or any(c is None for c in costs)
            estimate = sum(c for c in costs if c is not None)
            total += estimate
            rows.append(
                {
                    "tool": selected.tool.slug,
                    "rival": selected.rival.slug,
                    "reason": selected.reason,
                    "calls": len(calls),
                    "cached": len(calls) - len(uncached),
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
) -> tuple[NightSummary, Path]:
    """Run the night's comparisons and write the summary to runs/nightly/<date>[.N].json.

    The budget is the session's: past the cap no new call starts, and the calls not sent
    stay planned for the next run (there is no up-front refusal over an estimate).
    """
    home, store = session.home, session.store
    run_id = f"{KIND}-{clock.now().strftime('%Y%m%dT%H%M%S.%fZ')}"
    refresh(home, log)  # [intake.sources] first: today's launches join tonight's plan
    evidence = refresh_evidence(home, log)  # then their sources (conditional GETs, own budget)
    summary, chosen, planner = prepare(session, options)
    summary.evidence = evidence
    first = planner.slice(chosen[:1])  # every comparison has the same panel: its calls
    session.require_prices(c for _, plan in first for c in plan.calls)
    per = len(first[0][1].calls) if first else 0
    routes = BatchRoutes(options.batch or session.settings.batch)
    night = NightCalls(
        store,
        session.runner,
        session.batch_path(run_id, log),
        RetryRule(session.settings.retry_nights, options.today.isoformat()),
    )
    store.begin_run(run_id, KIND)
    total = per * len(chosen)
    log(PanelUsed(**summary.panel).line())
    for name, reason in summary.not_batched.items():
        log(f"not batched: {name} runs synchronously at full price: {reason}")
    log(
        f"planned {len(chosen)} comparison{'' if len(chosen) == 1 else 's'}, "
        f"{total} call{'' if total == 1 else 's'} (since {summary.since})"
    )
    for entry in summary.skipped:
        log(f"skipped {entry['tool']}: {entry['reason']}")
    on_plan(total)
    run = Night(
        chosen=chosen,
        planner=planner,
        calls=night,
        routes=routes,
        store=store,
        out=home.runs,
        run_id=run_id,
        summary=summary,
        log=log,
        check=session.require_prices,
    )
    try:
        session.run(run.run(options.wait))
    except BaseException as exc:
        store.end_run(run_id, "interrupted")
        if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, or SIGTERM (handled the same way)
            log(
                f"interrupted: run {run_id} is marked interrupted, calls not answered go back "
                "to planned, and the next run resumes them"
            )
        raise
    run.finish()
    summary.given_up = night.gave_up
    assert night.batch is not None
    summary.batch_lines = night.batch.submitted
    summary.batches_open = len(night.batch.journal.open())
    summary.spent_usd = round(summary.spent_usd, 6)
    summary.cost_usd = round(summary.cost_usd, 6)
    summary.sync_usd = round(summary.sync_usd, 6)
    summary.seats = seat_warnings(home.runs, session.settings, options.today, night.tonight)
    status = "partial" if summary.deferred or summary.waiting else "done"
    store.end_run(run_id, status, asdict(summary))
    sent = session.runner.budget.calls > 0 or summary.batch_lines > 0
    path = write_summary(home.runs / "nightly", summary.date, asdict(summary), sent)
    return summary, path
