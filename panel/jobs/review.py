"""One comparison, end to end: plan the calls, run them, aggregate, write the record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from panel import __version__, clock
from panel.config import Config
from panel.defences.fence_key import fence_key
from panel.errors import PanelError
from panel.evidence.pack import EvidencePack
from panel.evidence.snapshots import load_pack
from panel.inputs.catalog import Catalog, Tool
from panel.inputs.personas import Persona, load_personas, select_personas
from panel.jobs import recusal
from panel.paths import Home
from panel.pipeline.calls import Call
from panel.pipeline.pricing import PriceBook
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.session import RunSession
from panel.providers import registry
from panel.providers.base import Provider, Sampling
from panel.records.editorial import auto_approved
from panel.records.io import check_folder, pair_stem, write_record
from panel.records.rows import ReviewInputs
from panel.records.schema import (
    CallResult,
    ComparisonRecord,
    Editorial,
    EvidenceRef,
    PanelInfo,
    Provenance,
)
from panel.records.store import Store
from panel.scoring.aggregate import aggregate, totals
from panel.scoring.trust import head_to_head, mark_conflicts, trust


@dataclass(frozen=True)
class Shared:
    """What every plan of one job reads alike, loaded and checked once: the whole catalog,
    the personas and one prompt builder (templates compiled once, digests taken once)."""

    catalog: Catalog
    personas: dict[str, Persona]
    prompts: PromptBuilder


@dataclass
class Plan:
    """Everything a review will do, decided before the first call is sent."""

    tools: tuple[Tool, Tool]
    personas: list[Persona]
    providers: list[Provider]
    calls: list[Call]
    prompts: PromptBuilder
    config: Config
    vendors: dict[str, str] = field(default_factory=dict)  # provider address -> model vendor
    evidence: dict[str, str] = field(default_factory=dict)  # slug -> evidence pack digest
    # Calls that would be recused, left out before sending, with their place (jobs/recusal).
    recused: list[tuple[int, Call]] = field(default_factory=list)
    packs: dict[str, EvidencePack] = field(default_factory=dict)  # slug -> its evidence pack

    def evidence_refs(self) -> dict[str, list[EvidenceRef]]:
        """What the record keeps of each tool's sources: where and when, not the text."""
        return {
            tool.slug: [
                EvidenceRef(
                    id=s.id,
                    url=s.url,
                    kind=s.kind.value,
                    title=s.title,
                    fetched_at=s.fetched_at,
                    sha256=s.sha256,
                )
                for s in pack.sources
            ]
            for tool in self.tools
            if (pack := self.packs.get(tool.slug)) is not None and not pack.empty
        }

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
    home: Home,
    a: str,
    b: str,
    provider_names: Sequence[str],
    persona_names: Sequence[str],
    *,
    clients: dict[str, Provider],
    config: Config | None = None,
    shared: Shared | None = None,
    packs: Mapping[str, EvidencePack] | None = None,
) -> Plan:
    """Validate every name and render every prompt; raises PanelError before any call.

    Provider clients are taken from ``clients`` and the missing ones added to it: its
    owner (a ``RunSession``'s ``clients``) closes them, whether or not planning succeeds.
    ``shared``: what many plans of one job have in common, loaded once (the nightly).
    """
    if a == b:
        raise PanelError(f"both tools are {a!r}; compare two different tools")
    catalog = shared.catalog if shared else Catalog.load_some(home.catalog, [a, b])
    tools = (catalog.get(a), catalog.get(b))
    return plan_tools(
        home,
        tools,
        provider_names,
        persona_names,
        clients=clients,
        config=config,
        shared=shared,
        packs=packs,
    )


def plan_tools(
    home: Home,
    tools: tuple[Tool, Tool],
    provider_names: Sequence[str],
    persona_names: Sequence[str],
    *,
    clients: dict[str, Provider],
    config: Config | None = None,
    sampling: dict[str, Sampling] | None = None,
    shared: Shared | None = None,
    packs: Mapping[str, EvidencePack] | None = None,
) -> Plan:
    """A plan for two given tool entries; ``sampling`` overrides providers' settings.

    ``shared``, when given, is what many plans of one job read alike (the nightly's):
    templates compile and persona files are read once. ``packs``: tool slug -> its
    evidence pack (issue 26), read from the stored snapshots when not given
    (``evidence.snapshots.load_pack``, no network); a tool without sources is reviewed from
    its card alone.
    """
    config = config or Config.load(home.config_file)
    available = shared.personas if shared else load_personas(home.personas, home.prompts)
    personas = select_personas(available, list(persona_names))
    panels = {p.name: config.panel_for(p.name, list(provider_names)) for p in personas}
    names = list(dict.fromkeys(n for names in panels.values() for n in names))
    settings = {name: config.settings(name) for name in names}
    for name, chosen in (sampling or {}).items():
        if name in settings:
            settings[name] = replace(settings[name], sampling=chosen)
    prices = PriceBook.of(config.prices)
    for name in names:  # one client per provider, shared by every plan of the session
        if name not in clients:
            clients[name] = registry.create(settings[name])
    providers = {name: clients[name] for name in names}
    prompts = shared.prompts if shared else PromptBuilder(home.prompts, fence_key(home.runs))
    if packs is None:
        catalog = shared.catalog if shared else None
        packs = {t.slug: load_pack(home, t, catalog=catalog, config=config) for t in tools}
    shown = {t.slug: p for t in tools if (p := packs.get(t.slug)) is not None and not p.empty}
    calls = [
        Call(
            persona,
            tool,
            providers[name],
            rendered,
            prices.rate(settings[name]),
            evidence=shown.get(tool.slug),
        )
        for tool in tools
        for persona in personas
        for rendered in [prompts.render(persona, tool, shown.get(tool.slug))]
        for name in panels[persona.name]
    ]
    if config.panel.head_to_head:
        calls += [
            Call(
                persona,
                first,
                providers[name],
                rendered,
                prices.rate(settings[name]),
                (first, second),
            )
            for first, second in (tools, tools[::-1])
            for persona in personas
            for rendered in [prompts.render_pair(persona, first, second)]
            for name in panels[persona.name]
        ]
    vendors = {providers[n].spec: registry.model_vendor(settings[n], providers[n]) for n in names}
    evidence = {slug: pack.digest() for slug, pack in shown.items()}
    clients_used = list(providers.values())
    send, recused = recusal.split(calls, vendors, config.panel.recusal)
    return Plan(
        tools, personas, clients_used, send, prompts, config, vendors, evidence, recused, shown
    )


def build_record(
    plan: Plan, calls: list[CallResult], record_id: str, started: datetime, finished: datetime
) -> ComparisonRecord:
    rule = plan.config.panel.recusal
    calls = mark_conflicts(recusal.restore(calls, plan.recused), plan.tools, plan.vendors, rule)
    count = totals(calls)
    quorum = plan.config.panel.quorum
    personas = [p.name for p in plan.personas]
    scores = aggregate(plan.tools, personas, [c for c in calls if c.kind == "verdict"], quorum)
    scores = scores.model_copy(
        update={
            "head_to_head": head_to_head(calls, plan.tools),
            "trust": trust(calls, plan.tools, personas, scores.split, rule),
        }
    )
    complete = all(s.quorum_met for s in scores.tools)
    return ComparisonRecord(
        id=record_id,
        created_at=finished,
        status="complete" if complete else "incomplete",
        tools=list(plan.tools),
        panel=PanelInfo(
            providers=[p.spec for p in plan.providers],
            personas=[p.name for p in plan.personas],
            persona_titles={p.name: p.spec.title for p in plan.personas},
        ),
        calls=calls,
        scores=scores,
        totals=count,
        provenance=plan.provenance(started, finished),
        editorial=(
            auto_approved(finished)
            if plan.config.site.auto_approve and complete and not _stand_ins(calls)
            else Editorial()  # a mock's or the embedded model's answers wait for an editor
        ),
        evidence=plan.evidence_refs(),
    )


def _stand_ins(calls: list[CallResult]) -> bool:
    return any(registry.stand_in(c.provider, c.model, c.model_version) for c in calls)


def exit_code(record: ComparisonRecord) -> int:
    """0 every call valid; 1 some calls failed but quorum held; 3 quorum not met."""
    if record.status == "incomplete":
        return 3
    return 0 if record.totals.failed == 0 else 1


def journal(plan: Plan, store: Store, run_id: str) -> None:
    store.plan(
        (
            (c.key, c.provider.spec, c.provider.model, c.persona.name, c.tool.slug)
            for c in plan.calls
        ),
        run_id,
    )


def review(
    session: RunSession,
    plan: Plan,
    out: Path,
    run_id: str | None = None,
    detached: bool = False,
) -> tuple[ComparisonRecord, Path]:
    """Run the plan in ``session`` and write its record under ``out``: the record, its path.

    ``out`` is checked first: no call is sent, and nothing paid for, if the record could
    not be written there. Calls are journaled in the session's store and answered from
    its cache when possible, and the record is indexed. ``detached``: ``out`` is not the
    project's runs/ (``--out``): the record gets an ``out:`` id and is not indexed, so
    the nightly never takes it for the project's own review of the pair.
    """
    started = clock.now()
    check_folder(out, started.date(), "--out folder" if detached else "runs folder")
    store = session.store
    run_id = run_id or f"review-{started.strftime('%Y%m%dT%H%M%S.%fZ')}"
    store.begin_run(run_id, "review")
    journal(plan, store, run_id)
    calls = session.run(session.runner.run(plan.calls))
    record, path = save(plan, calls, out, started, detached)
    if not detached:
        index(store, plan, record, path, run_id)
    store.end_run(run_id, record.status)
    return record, path


def save(
    plan: Plan, calls: list[CallResult], out: Path, started: datetime, detached: bool = False
) -> tuple[ComparisonRecord, Path]:
    """Build the record and write it under ``out`` (never over an existing one)."""
    finished = clock.now()
    built: list[ComparisonRecord] = []

    def build(record_id: str) -> ComparisonRecord:
        built.append(build_record(plan, calls, record_id, started, finished))
        return built[-1]

    stem = pair_stem(plan.tools[0].slug, plan.tools[1].slug)
    path = write_record(out, finished.date(), stem, build, detached)
    return built[-1], path


def fingerprint(
    personas: Sequence[Persona],
    template_digest: Callable[[str], str],
    tools: Sequence[Tool],
    models: Sequence[str],
    evidence: Mapping[str, str] | None = None,
) -> ReviewInputs:
    """What decides a comparison's answers, for re-review on change (no prompt rendering).

    ``evidence``: slug -> evidence pack digest, for tools with evidence only (a tool without
    any keeps the fingerprint it had before sources existed).
    """
    return ReviewInputs(
        templates={p.spec.template: template_digest(p.spec.template) for p in personas},
        personas={p.name: p.digest for p in personas},
        catalog={t.slug: t.digest() for t in tools},
        models=tuple(sorted(models)),
        evidence=dict(sorted((evidence or {}).items())),
    )


def plan_fingerprint(plan: Plan) -> ReviewInputs:
    every = [*plan.calls, *(c for _, c in plan.recused)]
    models = {f"{c.provider.spec}={c.provider.model}" for c in every}
    return fingerprint(
        plan.personas, plan.prompts.template_digest, plan.tools, list(models), plan.evidence
    )


def index(
    store: Store,
    plan: Plan,
    record: ComparisonRecord,
    path: Path,
    run_id: str,
    answers: str | None = None,
) -> None:
    """Index the record with what decided it, its failed calls and a digest of its answers
    (``answers``: that digest, when the caller has taken it already)."""
    inputs = replace(
        plan_fingerprint(plan),
        answers=answers or answers_digest(plan, record.calls),
        failed=tuple(sorted({c.key for c in record.calls if c.outcome == "failed"})),
    )
    store.index_record(
        record.id,
        path,
        run_id,
        (plan.tools[0].slug, plan.tools[1].slug),
        record.status,
        inputs,
    )


def answers_digest(plan: Plan, calls: Sequence[CallResult]) -> str:
    """sha256 of what a record says: each call's answer or failure (not its timing or cost),
    and what turns answers into scores (quorum, recusal, the providers' vendors).

    The nightly writes a record for a pair again only when this changes. Calls recused
    before sending are left out: the rules already say which they are.
    """
    not_asked = {c.key for _, c in plan.recused}
    rows = sorted(
        json.dumps(_said(c), sort_keys=True, default=str) for c in calls if c.key not in not_asked
    )
    panel = plan.config.panel
    rules = json.dumps([panel.quorum, panel.recusal, sorted(plan.vendors.items())], default=str)
    return hashlib.sha256("\n".join([rules, *rows]).encode()).hexdigest()


def _said(c: CallResult) -> list[object]:
    """One call's part of ``answers_digest``; a card-only call's is as before issue 26."""
    row: list[object] = [
        c.key, c.status, c.verdict, c.confidence, c.quote, c.fields, c.flags,
        c.failure.reason.value if c.failure else None,
    ]  # fmt: skip
    if c.evidence is not None:
        row += [c.evidence, c.citations, [[x.text, x.outcome] for x in c.claims]]
    return row
