"""A run of the evidence fetcher: which sources, in what order, within what budget.

Sources are fetched by ``[evidence] workers`` threads. Each takes the next source of
the host that may be asked soonest and that no other thread is fetching, so requests to
one host go one at a time, at most one a second (``polite.Pacer``), while other hosts
are fetched meanwhile. A source listed by several tools is fetched once. Past the run's
time or size budget no new source starts; the rest keep their last snapshots and are
reported as deferred. ``panel evidence fetch`` and the nightly both run through here.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from panel.clock import now as clock_now
from panel.config import Config
from panel.errors import PanelError
from panel.evidence.apis import Apis, requests_for
from panel.evidence.fetching import API_KINDS, Context, Outcome, fetch_source
from panel.evidence.polite import Clock, Pacer, Robots, Sleep, user_agent
from panel.evidence.snapshots import Snapshot, read_snapshot
from panel.inputs.catalog import Catalog
from panel.inputs.toolsources import SourceRef
from panel.paths import Home


@dataclass(frozen=True)
class FetchBudget:
    seconds: float | None = None  # no new source starts after this long
    bytes: int | None = None  # nor once this much was downloaded


@dataclass
class SourceLine:
    tools: list[str]
    url: str
    kind: str
    status: str  # new, changed, unchanged, failed, deferred
    detail: str = ""


@dataclass
class FetchReport:
    """What a run fetched: per source, and in total (for the CLI and the nightly summary)."""

    sources: list[SourceLine] = field(default_factory=list)
    seconds: float = 0.0
    bytes: int = 0
    budget_seconds: float | None = None
    budget_bytes: int | None = None

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("new", "changed", "unchanged", "failed", "deferred"), 0)
        for line in self.sources:
            counts[line.status] += 1
        return counts

    def summary(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in self.counts().items())
        return f"evidence: {len(self.sources)} sources ({counts}) in {self.seconds:.1f} s, " + (
            f"{self.bytes:,} bytes"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "bytes": self.bytes,
            "budget_seconds": self.budget_seconds,
            "budget_bytes": self.budget_bytes,
            "sources": [asdict(line) for line in self.sources],
        }


def _host(ref: SourceRef, apis: Apis) -> str:
    """The host a source's first request goes to: what its pacing is keyed by."""
    url = ref.url
    if ref.kind in API_KINDS:
        try:
            url = requests_for(ref.url, ref.kind, apis)[0].url
        except PanelError:  # the fetch reports the bad URL; schedule it anywhere
            return ""
    return (urlsplit(url).hostname or "").lower()


class _Queue:
    """Sources grouped by host: a host is fetched by one thread at a time, soonest first."""

    def __init__(self, refs: Sequence[SourceRef], apis: Apis, pacer: Pacer) -> None:
        self.pacer = pacer
        self.hosts: dict[str, deque[SourceRef | str]] = {}
        for ref in refs:
            queue = self.hosts.setdefault(_host(ref, apis), deque())
            if ref.kind not in API_KINDS and not any(isinstance(i, str) for i in queue):
                queue.appendleft(ref.url)  # its robots.txt first, as a step of its own
            queue.append(ref)
        self.busy: set[str] = set()
        self.cond = threading.Condition()

    def take(self) -> tuple[str, SourceRef | str] | None:
        """The next item of the free host that may be asked soonest: a source, or a page URL
        whose robots.txt is to be read (a step of its own, so no thread holds a host while
        waiting out the second between robots.txt and the first page)."""
        with self.cond:
            while True:
                free = [h for h, q in self.hosts.items() if q and h not in self.busy]
                if free:
                    host = min(free, key=self.pacer.ready_at)
                    self.busy.add(host)
                    return host, self.hosts[host].popleft()
                if not self.busy:
                    return None
                self.cond.wait()

    def done(self, host: str) -> None:
        with self.cond:
            self.busy.discard(host)
            self.cond.notify_all()


def fetch_refs(
    ctx: Context,
    refs: Sequence[SourceRef],
    workers: int,
    budget: FetchBudget,
    clock: Clock,
) -> dict[SourceRef, Outcome]:
    """Fetch each of ``refs`` once, within ``budget``; outcomes by source."""
    queue = _Queue(list(dict.fromkeys(refs)), ctx.apis, ctx.pacer)
    outcomes: dict[SourceRef, Outcome] = {}
    lock = threading.Lock()
    started = clock()
    used = [0]

    def over() -> str:
        if budget.seconds is not None and clock() - started >= budget.seconds:
            return f"the run's time budget ({budget.seconds:g} s) was used up"
        if budget.bytes is not None and used[0] + ctx.robots.fetched >= budget.bytes:
            return f"the run's size budget ({budget.bytes:,} bytes) was used up"
        return ""

    def work() -> None:
        while (taken := queue.take()) is not None:
            host, ref = taken
            if isinstance(ref, str):
                try:
                    ctx.robots.check(ref)  # read once and kept for the run
                finally:
                    queue.done(host)
                continue
            try:
                why = over()
                outcome = Outcome("deferred", why) if why else fetch_source(ctx, ref)
            except Exception as exc:  # a bug must not stop the night: this source fails alone
                outcome = Outcome("failed", f"{ref.url}: internal error ({type(exc).__name__})")
            finally:
                queue.done(host)
            with lock:
                outcomes[ref] = outcome
                used[0] += outcome.bytes

    count = max(1, min(workers, len(queue.hosts)))  # more threads than hosts would idle
    threads = [threading.Thread(target=work, daemon=True) for _ in range(count - 1)]
    for thread in threads:
        thread.start()
    work()
    for thread in threads:
        thread.join()
    return outcomes


def _token(config: Config) -> str:
    name = config.evidence.repository_token_env
    return os.environ.get(name, "").strip() if name else ""


def _order(
    catalog: Catalog, slugs: Sequence[str]
) -> tuple[list[SourceRef], dict[SourceRef, list[str]]]:
    refs: list[SourceRef] = []
    owners: dict[SourceRef, list[str]] = {}
    for slug in slugs:
        for ref in catalog.evidence_of(slug):
            if ref not in owners:
                refs.append(ref)
            owners.setdefault(ref, []).append(slug)
    return refs, owners


def fetch_evidence(
    home: Home,
    config: Config,
    catalog: Catalog,
    slugs: Sequence[str] | None = None,
    *,
    due: Callable[[Snapshot | None], bool] = lambda snapshot: True,
    budget: FetchBudget | None = None,
    now: Callable[[], datetime] = clock_now,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> FetchReport:
    """Fetch the sources of ``slugs`` (every tool by default) that are ``due``.

    Never-fetched sources go first, then the longest unconfirmed; each source is fetched
    once however many tools list it. Failures are reported, never raised.
    """
    named = [catalog.get(slug).slug for slug in slugs or ()]
    chosen = list(dict.fromkeys(named)) if named else sorted(catalog.tools)
    listed, owners = _order(catalog, chosen)
    states = {ref: read_snapshot(home, ref) for ref in listed}
    listed = [ref for ref in listed if due(states[ref])]
    never = datetime.min.replace(tzinfo=UTC)

    def confirmed(ref: SourceRef) -> datetime:
        state = states[ref]
        return state.fetched_at if state is not None and state.fetched_at else never

    refs = sorted(listed, key=confirmed)  # stable: catalog order among equals
    settings = config.evidence
    budget = budget or FetchBudget()
    policy = settings.policy(config.intake)
    agent = user_agent(config)
    pacer = Pacer(settings.host_interval, clock, sleep)
    ctx = Context(
        home=home,
        policy=policy,
        agent=agent,
        pacer=pacer,
        robots=Robots(policy, agent, pacer),
        apis=Apis(settings.repository_api, settings.pypi_api, settings.npm_api, _token(config)),
        max_source_tokens=settings.max_source_tokens,
        now=now,
    )
    started = clock()
    outcomes = fetch_refs(ctx, refs, settings.workers, budget, clock)
    report = FetchReport(budget_seconds=budget.seconds, budget_bytes=budget.bytes)
    report.seconds = clock() - started
    report.bytes = sum(o.bytes for o in outcomes.values()) + ctx.robots.fetched
    for ref in listed:  # reported in catalog order
        outcome = outcomes[ref]
        report.sources.append(
            SourceLine(owners[ref], ref.url, ref.kind.value, outcome.status, outcome.detail)
        )
    return report


def refresh_evidence(
    home: Home,
    log: Callable[[str], None],
    *,
    now: Callable[[], datetime] = clock_now,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> dict[str, object]:
    """The nightly's re-fetch, before planning: every source not confirmed within
    ``[evidence] refresh_hours`` (conditional GETs), within the night's own time and size
    budget. Returns the report for the night's summary; failures are logged, never raised.
    """
    config = Config.load(home.config_file)
    catalog = Catalog.load(home.catalog)
    if not catalog.evidence:
        return {}
    settings = config.evidence
    cutoff = now() - timedelta(hours=settings.refresh_hours)

    def due(snapshot: Snapshot | None) -> bool:
        return snapshot is None or snapshot.fetched_at is None or snapshot.fetched_at <= cutoff

    budget = FetchBudget(settings.nightly_seconds, settings.nightly_bytes)
    report = fetch_evidence(
        home, config, catalog, due=due, budget=budget, now=now, clock=clock, sleep=sleep
    )
    log(report.summary())
    for line in report.sources:
        if line.status in ("failed", "deferred"):
            log(f"evidence {line.status} {line.url} ({', '.join(line.tools)}): {line.detail}")
    return report.as_dict()
