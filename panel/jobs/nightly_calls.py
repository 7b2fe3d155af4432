"""How the nightly answers its calls: the cache, the Batch APIs, the retry cap, the runner.

Every call of the night ends one of these ways, in this order:

- **cached**: answered before (the store's cache);
- **batched**: its provider goes through a Batch API tonight (``--batch``, ``[panel]
  batch`` or the provider's ``batch``): it is judged from its batch line when the
  result is in, else it is *waiting* (its comparison is recorded on a later run);
- **given up**: it failed on ``retry_nights`` nights already; its last failure stands;
- **held**: it failed earlier today; a failed call is retried at most once a night;
- otherwise it is sent synchronously by the session's runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from panel import clock
from panel.pipeline.batch import BatchPath, batch_rate
from panel.pipeline.calls import Call
from panel.pipeline.judge import Reject
from panel.pipeline.outcome import Tally, call_result
from panel.pipeline.pricing import Rate
from panel.pipeline.runner import Runner
from panel.providers.base import FailureReason, ProviderSettings
from panel.providers.batch import batch_api
from panel.records.schema import CallResult, Failure
from panel.records.store import Store


def batched(call: Call, on: bool) -> bool:
    """Does ``call`` go through its provider's Batch API tonight?"""
    settings = getattr(call.provider, "settings", None)
    wanted = on or (isinstance(settings, ProviderSettings) and settings.batch is True)
    return wanted and batch_api(call.provider) is not None


def with_batch_price(call: Call) -> Call:
    """``call`` priced at its provider's batch rate (``batch_discount`` of the list price)."""
    settings = getattr(call.provider, "settings", None)
    discount = settings.batch_discount if isinstance(settings, ProviderSettings) else 0.5
    return Call(
        call.persona, call.tool, call.provider, call.rendered, batch_rate(call.rate, discount),
        call.pair,
    )  # fmt: skip


@dataclass
class NightCalls:
    """The night's calls, answered by the cheapest way that is due."""

    store: Store
    runner: Runner
    batch: BatchPath | None
    retry_nights: int
    today: str = field(default_factory=lambda: clock.today().isoformat())
    list_rates: dict[str, Rate | None] = field(default_factory=dict)  # key -> list price
    batch_keys: set[str] = field(default_factory=set)  # calls routed to a Batch API tonight
    gave_up: list[dict[str, Any]] = field(default_factory=list)
    tonight: dict[str, CallResult] = field(default_factory=dict)  # calls answered this run
    _counted: set[str] = field(default_factory=set)
    _failing: set[str] | None = None
    _pending: set[str] | None = None
    _handed: set[str] = field(default_factory=set)  # batch results already counted tonight

    def refresh(self) -> None:
        """Read which calls wait on a batch again (after collecting or submitting)."""
        self._pending = self.batch.pending() if self.batch else set()

    def route(self, calls: Sequence[Call], on: bool) -> list[Call]:
        """The calls, batch-priced where they go through a Batch API tonight."""
        out = []
        for call in calls:
            self.list_rates[call.key] = call.rate
            if self.batch is not None and batched(call, on):
                self.batch_keys.add(call.key)
                call = with_batch_price(call)
            out.append(call)
        return out

    def _gate(self, call: Call) -> CallResult | None:
        """The last failure of a call that is not due tonight, else None (send it)."""
        if self._failing is None:
            self._failing = self.store.failing_keys()  # failed before this run
        if call.key not in self._failing:
            return None
        nights, failed_on, last = self.store.failed_before(call.key)
        if last is None or self.store.cached(call.key) is not None:
            return None
        if nights >= self.retry_nights:
            if call.key not in self._counted:
                self._counted.add(call.key)
                self.gave_up.append(_given_up(last, nights))
            return last.model_copy(update={"cached": True})
        if failed_on == self.today:
            return last.model_copy(update={"cached": True})
        return None

    def due(self, calls: Sequence[Call]) -> list[Call]:
        """Tonight's batch-routed calls that may be sent (neither given up nor held)."""
        return [c for c in calls if c.key in self.batch_keys and self._gate(c) is None]

    async def submit(self, calls: Sequence[Call], wait: float | None = None) -> None:
        """Send the due batch-routed calls (after collecting open batches); with ``wait``,
        poll, judge and send re-asks for that many seconds or until nothing is open."""
        if self.batch is None:
            return
        due = self.due(calls)
        await self.batch.submit(due)
        if wait:
            await self.batch.wait(wait, due)

    async def answer(self, calls: Sequence[Call]) -> tuple[bool, list[CallResult]]:
        """(True, every call's result in order), or (False, the results that ended this run)
        while some call waits on a batch. Synchronous calls are made either way."""
        if self._pending is None:
            self.refresh()
        pending = self._pending or set()
        waiting = False
        results: dict[int, CallResult] = {}
        send: list[tuple[int, Call]] = []
        for n, call in enumerate(calls):
            if self.batch and call.key in self.batch.finished:
                # paid for once: a tool's calls are in every pair it is in
                first = call.key not in self._handed
                self._handed.add(call.key)
                result = await self.runner.checked(call, self.batch.finished[call.key])
                results[n] = result if first else result.model_copy(update={"cached": True})
                if first and self.runner.progress is not None:
                    self.runner.progress(call, result)  # the progress bar counts it too
            elif call.key in pending:
                waiting = True
            elif (held := self._gate(call)) is not None:
                results[n] = held
            elif self.batch and call.key in self.batch_keys and self.store.cached(call.key) is None:
                if call.key in self.batch.deferred:
                    results[n] = _deferred(call)
                else:
                    waiting = True  # not sent yet (an upload to retry): the next run sends it
            else:
                send.append((n, call))
        answered = await self.runner.run([c for _, c in send])
        results.update({n: r for (n, _), r in zip(send, answered, strict=True)})
        if waiting:
            return False, [r for r in results.values() if not r.cached]
        return True, [results[n] for n in range(len(calls))]

    def settle(self, results: Sequence[CallResult]) -> None:
        """Note calls that failed tonight for the last time allowed (``retry_nights``)."""
        self.tonight.update((r.key, r) for r in results if not r.cached and r.attempts)
        for result in results:
            failure = result.failure
            if result.cached or failure is None or failure.reason is FailureReason.BUDGET:
                continue
            nights, _, _ = self.store.failed_before(result.key)
            if nights >= self.retry_nights and result.key not in self._counted:
                self._counted.add(result.key)
                self.gave_up.append(_given_up(result, nights))

    def sync_cost(self, result: CallResult) -> float:
        """What ``result`` would have cost synchronously, at the list price."""
        rate = self.list_rates.get(result.key)
        return (
            0.0
            if rate is None
            else rate.cost(result.prompt_tokens, result.completion_tokens, result.cached_tokens)
        )


def _given_up(last: CallResult, nights: int) -> dict[str, Any]:
    failure = last.failure
    return {
        "persona": last.persona,
        "tool": last.tool,
        "provider": last.provider,
        "nights": nights,
        "reason": failure.reason.value if failure else "",
        "detail": failure.detail if failure else "",
    }


def _deferred(call: Call) -> CallResult:
    """A batch-routed call the budget kept back: planned for the next run, like the runner's."""
    failure = Failure(reason=FailureReason.BUDGET, detail="--max-cost reached; batch not sent")
    return call_result(call, Tally(), Reject(failure))
