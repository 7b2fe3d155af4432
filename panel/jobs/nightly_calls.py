"""How the nightly answers its calls: the cache, the Batch APIs, the retry cap, the runner.

Every call of the night ends one of these ways, in this order:

- **cached**: answered before (the store's cache);
- **batched**: its provider goes through a Batch API tonight (``--batch``, ``[panel]
  batch`` or the provider's ``batch``): it is judged from its batch line when the
  result is in, else it is *waiting* (its comparison is recorded on a later run);
- **given up**: it failed on ``retry_nights`` nights already; its last failure stands;
- **held**: it failed earlier today; a failed call is retried at most once a night;
- otherwise it is sent synchronously by the session's runner (a call whose answer was
  withheld is sent afresh, not served from the cache).

The rules (retry nights, given up) are ``nightly_policy``'s ``RetryRule``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from panel.jobs.nightly_policy import RetryRule, Standing
from panel.pipeline.batch_path import BatchPath, batch_rate
from panel.pipeline.calls import Call
from panel.pipeline.judge import Reject
from panel.pipeline.pricing import Rate
from panel.pipeline.result import CallUsage, call_result
from panel.pipeline.runner import Runner
from panel.providers import registry
from panel.providers.base import FailureReason
from panel.providers.batch import BatchApi
from panel.records.schema import CallResult, Failure
from panel.records.store import Store
from panel.scoring.seats import CallTally


class BatchRoutes:
    """Which calls go through their provider's Batch API tonight, and at what price.

    ``on``: ``--batch`` or ``[panel] batch``; a provider whose own settings ask for its
    Batch API (``batch = true``) is batched either way. One client per provider.
    """

    def __init__(self, on: bool) -> None:
        self.on = on
        self._apis: dict[str, BatchApi | None] = {}

    def api(self, call: Call) -> BatchApi | None:
        spec = call.provider.spec
        if spec not in self._apis:
            self._apis[spec] = registry.batch_api(call.provider)
        return self._apis[spec]

    def batched(self, call: Call) -> bool:
        api = self.api(call)
        return api is not None and (self.on or api.requested)

    def priced(self, call: Call) -> Call:
        """``call`` at its provider's batch rate (the kind's discount of the list price)."""
        api = self.api(call)
        assert api is not None
        return Call(
            call.persona, call.tool, call.provider, call.rendered,
            batch_rate(call.rate, api.discount), call.pair,
        )  # fmt: skip


@dataclass
class NightCalls:
    """The night's calls, answered by the cheapest way that is due."""

    store: Store
    runner: Runner
    batch: BatchPath | None
    retry: RetryRule
    list_rates: dict[str, Rate | None] = field(default_factory=dict)  # key -> list price
    batch_keys: set[str] = field(default_factory=set)  # calls routed to a Batch API tonight
    gave_up: list[dict[str, Any]] = field(default_factory=list)
    tonight: CallTally = field(default_factory=CallTally)  # calls answered this run, counted
    _counted: set[str] = field(default_factory=set)
    _fresh: set[str] = field(default_factory=set)  # due for a retry with an answer cached
    _failing: set[str] | None = None
    _pending: set[str] | None = None
    _done: set[str] | None = None  # answered (cached) among the slice's keys
    _handed: set[str] = field(default_factory=set)  # batch results already counted tonight

    def refresh(self, keys: Sequence[str] | None = None) -> None:
        """Read which calls (among ``keys``) wait on a batch (after collecting or submitting)."""
        self._pending = self.batch.pending(keys) if self.batch else set()
        self._done = self.store.done_keys(keys) if self.batch else set()

    def forget(self) -> None:
        """Let go of what one slice of the night held (results, prices, routes)."""
        self.list_rates.clear()
        self.batch_keys.clear()
        self._handed.clear()
        self._pending = None
        self._done = None
        if self.batch is not None:
            self.batch.finished.clear()

    def route(self, calls: Sequence[Call], routes: BatchRoutes) -> list[Call]:
        """The calls, batch-priced where they go through a Batch API tonight."""
        out = []
        for call in calls:
            self.list_rates[call.key] = call.rate
            if self.batch is not None and routes.batched(call):
                self.batch_keys.add(call.key)
                call = routes.priced(call)
            out.append(call)
        return out

    def _gate(self, call: Call) -> CallResult | None:
        """The last failure of a call that is not due tonight, else None (send it)."""
        if self._failing is None:
            self._failing = self.store.failing_keys()  # failed (or withheld) before this run
        if call.key not in self._failing:
            return None
        history = self.store.failed_before(call.key)
        standing = self.retry.standing(history)
        last = history.last
        if last is None or standing in (Standing.FRESH, Standing.DUE):
            if standing is Standing.DUE and self.store.cached(call.key) is not None:
                self._fresh.add(call.key)  # withheld last time: ask again, not the cache
            return None
        if standing is Standing.GIVEN_UP and call.key not in self._counted:
            self._counted.add(call.key)
            self.gave_up.append(_given_up(last, history.nights))
        return last.model_copy(update={"cached": True})

    def due(self, calls: Sequence[Call]) -> list[Call]:
        """Tonight's batch-routed calls that may be sent (neither given up nor held)."""
        return [c for c in calls if c.key in self.batch_keys and self._gate(c) is None]

    async def submit(self, calls: Sequence[Call]) -> None:
        """Judge the due batch-routed calls whose results are in; send the rest."""
        if self.batch is None:
            return
        await self.batch.submit(self.due(calls), fresh=self._fresh)

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
            elif self.batch and call.key in self.batch_keys and self._uncached(call.key):
                if call.key in self.batch.deferred:
                    results[n] = _deferred(call)
                else:
                    waiting = True  # not sent yet (an upload to retry): the next run sends it
            else:
                send.append((n, call))
        answered = await self.runner.run([c for _, c in send], fresh=self._fresh)
        results.update({n: r for (n, _), r in zip(send, answered, strict=True)})
        if waiting:
            return False, [r for r in results.values() if not r.cached]
        return True, [results[n] for n in range(len(calls))]

    def _uncached(self, key: str) -> bool:
        if self._done is None:
            self._done = self.store.done_keys()
        return key in self._fresh or key not in self._done

    def settle(self, results: Sequence[CallResult]) -> None:
        """Note calls that failed (or were withheld) tonight for the last time allowed."""
        for r in results:  # counted for the seat lines, not kept: memory stays flat
            if not r.cached and r.attempts:
                self.tonight.add(r)
        for result in results:
            failure = result.failure
            if result.cached or result.outcome != "failed":
                continue
            if failure is not None and failure.reason is FailureReason.BUDGET:
                continue
            history = self.store.failed_before(result.key)
            given_up = self.retry.standing(history) is Standing.GIVEN_UP
            if given_up and result.key not in self._counted:
                self._counted.add(result.key)
                self.gave_up.append(_given_up(result, history.nights))

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
        "reason": failure.reason.value if failure else "withheld",
        "detail": failure.detail if failure else ", ".join(last.flags),
    }


def _deferred(call: Call) -> CallResult:
    """A batch-routed call the budget kept back: planned for the next run, like the runner's."""
    failure = Failure(reason=FailureReason.BUDGET, detail="--max-cost reached; batch not sent")
    return call_result(call, CallUsage(), Reject(failure))
