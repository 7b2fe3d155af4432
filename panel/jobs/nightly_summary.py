"""What a night did, counted: the summary written to runs/nightly/<date>[.N].json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from panel.jobs.nightly_calls import NightCalls
from panel.jobs.nightly_select import RIVAL_RULE
from panel.jobs.review import Plan
from panel.records.schema import CallResult


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
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # tools with no reviewable rival
    given_up: list[dict[str, Any]] = field(default_factory=list)  # failed on retry_nights nights

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
