"""One comparison, end to end: plan the calls, run them, aggregate, write the record."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from panel import __version__
from panel.aggregate import aggregate, totals
from panel.catalog import Catalog, Tool
from panel.errors import PanelError
from panel.fence_key import fence_key
from panel.models import CallResult, ComparisonRecord, PanelInfo, Provenance
from panel.paths import Home
from panel.personas import Persona, load_personas, select_personas
from panel.prompts import PromptBuilder
from panel.providers import registry
from panel.providers.base import Provider
from panel.records import pair_stem, write_record
from panel.runner import Call, Runner


@dataclass
class Plan:
    """Everything a review will do, decided before the first call is sent."""

    tools: tuple[Tool, Tool]
    personas: list[Persona]
    providers: list[Provider]
    calls: list[Call]
    prompts: PromptBuilder

    def provenance(self, started: datetime, finished: datetime) -> Provenance:
        templates = {"_shared": self.prompts.template_digest("_system.j2")}
        templates.update(
            {p.spec.template: self.prompts.template_digest(p.spec.template) for p in self.personas}
        )
        return Provenance(
            panel_version=__version__,
            templates=templates,
            personas={p.name: p.digest for p in self.personas},
            catalog={t.slug: t.digest() for t in self.tools},
            started_at=started,
            finished_at=finished,
        )


def plan_review(
    home: Home, a: str, b: str, provider_specs: Sequence[str], persona_names: Sequence[str]
) -> Plan:
    """Validate every name and render every prompt; raises PanelError before any call."""
    if a == b:
        raise PanelError(f"both tools are {a!r}; compare two different tools")
    catalog = Catalog.load(home.catalog)
    tools = (catalog.get(a), catalog.get(b))
    personas = select_personas(load_personas(home.personas, home.prompts), list(persona_names))
    specs = list(dict.fromkeys(provider_specs)) or [registry.DEFAULT_PROVIDER]
    providers = [registry.create(spec) for spec in specs]
    prompts = PromptBuilder(home.prompts, fence_key(home.runs))
    calls = [
        Call(persona, tool, provider, prompts.render(persona, tool))
        for tool in tools
        for persona in personas
        for provider in providers
    ]
    return Plan(tools, personas, providers, calls, prompts)


async def run_plan(plan: Plan, runner: Runner) -> list[CallResult]:
    try:
        return await runner.run(plan.calls)
    finally:
        await asyncio.gather(*(p.aclose() for p in plan.providers), return_exceptions=True)


def build_record(
    plan: Plan, calls: list[CallResult], record_id: str, started: datetime, finished: datetime
) -> ComparisonRecord:
    count = totals(calls)
    return ComparisonRecord(
        id=record_id,
        created_at=finished,
        status="complete" if count.failed == 0 else "incomplete",
        tools=list(plan.tools),
        panel=PanelInfo(
            providers=[p.spec for p in plan.providers],
            personas=[p.name for p in plan.personas],
            persona_titles={p.name: p.spec.title for p in plan.personas},
        ),
        calls=calls,
        scores=aggregate(plan.tools, [p.name for p in plan.personas], calls),
        totals=count,
        provenance=plan.provenance(started, finished),
    )


def review(plan: Plan, runner: Runner, out: Path) -> tuple[ComparisonRecord, Path]:
    """Run the plan and write its record under ``out``; returns the record and its path."""
    started = datetime.now(UTC)
    calls = asyncio.run(run_plan(plan, runner))
    finished = datetime.now(UTC)
    built: list[ComparisonRecord] = []

    def build(record_id: str) -> ComparisonRecord:
        built.append(build_record(plan, calls, record_id, started, finished))
        return built[-1]

    stem = pair_stem(plan.tools[0].slug, plan.tools[1].slug)
    path = write_record(out, finished.astimezone().date(), stem, build)
    return built[-1], path
