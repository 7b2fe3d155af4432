"""The runner: sends calls to providers, within each provider's limits.

It is the only stage that talks to providers, and it owns the transport: a slot per
provider (``max_in_flight``), the rate limiter, the transport-retry policy, the run
budget, the response cache and the call journal (the store), and the sharing of an
identical call already in flight, in this process or in another (``inflight``). What
an answer is worth is not its business: every completion goes to the judge
(judge.py), whose outcome says accept, re-ask or reject.
Whatever happens, a call ends as a ``CallResult``: a failed call is data, never an
exception that stops the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection

from panel.pipeline.budget import Budget
from panel.pipeline.calls import Call
from panel.pipeline.factcheck import FactChecker, merged
from panel.pipeline.inflight import Claims
from panel.pipeline.judge import Judge, Reask, Reject
from panel.pipeline.limits import RateLimiter
from panel.pipeline.result import CallUsage, call_result
from panel.pipeline.retry import RetryPolicy
from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    Prepares,
    Provider,
    ProviderError,
)
from panel.records.schema import CallResult, Failure
from panel.records.store import Store

Progress = Callable[[Call, CallResult], None]


class Runner:
    """Runs calls concurrently, at most ``limits.max_in_flight`` per provider.

    Keyword-only, every part optional: ``policy`` transport retries; ``judge`` validation,
    flags and re-asks; ``budget`` the run's caps; ``store`` journal and cache (none: no
    journal, no cache); ``fresh`` ignore cached answers (results are still journaled and
    cached); ``progress`` called once per finished call; ``warm`` (default on) the first
    call of a shared prompt prefix goes alone, the rest after it (``run``); ``checker`` the
    model claim check of each valid verdict on a tool with sources (``fact_check``), sent like
    any call.
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        judge: Judge | None = None,
        budget: Budget | None = None,
        store: Store | None = None,
        fresh: bool = False,
        progress: Progress | None = None,
        warm: bool = True,
        checker: FactChecker | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.judge = judge or Judge()
        self.budget = budget or Budget()
        self.store = store
        self.fresh = fresh
        self.progress = progress
        self.warm = warm  # send the first call of a shared prompt prefix alone (``run``)
        self.checker = checker
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._preparing: dict[str, asyncio.Lock] = {}
        self._inflight: dict[str, asyncio.Future[CallResult]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.claims: Claims | None = None  # made with the first call that needs the store

    def _on_this_loop(self) -> None:
        """Semaphores and locks belong to one event loop: a runner used again on another
        (a session's next ``run``) gets new ones; the limiters keep their last minute."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._slots.clear()
            self._preparing.clear()
            for limiter in self._limiters.values():
                limiter.lock = asyncio.Lock()

    def _slot(self, provider: Provider) -> asyncio.Semaphore:
        self._on_this_loop()
        if provider.spec not in self._slots:
            self._slots[provider.spec] = asyncio.Semaphore(provider.limits.in_flight)
        return self._slots[provider.spec]

    async def _prepare(self, provider: Provider) -> None:
        """Let a provider learn its server's limits before its slots are sized (once)."""
        if not isinstance(provider, Prepares):
            return
        self._on_this_loop()
        lock = self._preparing.setdefault(provider.spec, asyncio.Lock())
        async with lock:
            await provider.prepare()

    def _limiter(self, provider: Provider) -> RateLimiter:
        self._on_this_loop()
        if provider.spec not in self._limiters:
            limits = provider.limits
            self._limiters[provider.spec] = RateLimiter(
                limits.requests_per_minute, limits.tokens_per_minute
            )
        return self._limiters[provider.spec]

    def close(self) -> None:
        """Let go of the claims file (what the session's close does; the store is its own)."""
        if self.claims is not None:
            self.claims.close()
            self.claims = None

    async def run(self, calls: list[Call], fresh: Collection[str] = ()) -> list[CallResult]:
        """Every call's result, in the order the calls were given; the calls whose key is in
        ``fresh`` are sent even when an answer is cached (a withheld answer's retry).

        The first call of each shared prompt prefix on a provider (``Call.warms``: a prefix
        long enough for the server's prompt cache, and a rate that makes cache hits
        cheaper) goes alone; the other calls with that prefix start when it has ended, so
        they find the prefix in the cache instead of all missing it at once.
        """
        firsts: dict[tuple[str, str], asyncio.Event] = {}
        order: list[tuple[asyncio.Event | None, asyncio.Event | None]] = []  # (wait, then set)
        for call in calls:
            if not (self.warm and call.warms):
                order.append((None, None))
                continue
            group = (call.provider.spec, call.prefix_key)
            if group in firsts:
                order.append((firsts[group], None))
            else:
                firsts[group] = asyncio.Event()
                order.append((None, firsts[group]))

        async def one(n: int, call: Call) -> CallResult:
            wait, done = order[n]
            if wait is not None:
                await wait.wait()
            try:
                return await self._run_one(call, fresh)
            finally:
                if done is not None:
                    done.set()

        return list(await asyncio.gather(*(one(n, call) for n, call in enumerate(calls))))

    async def _run_one(self, call: Call, fresh: Collection[str] = ()) -> CallResult:
        shared = self._inflight.get(call.key)
        if shared is not None:  # the same call is already being made: wait for its answer
            result = (await asyncio.shield(shared)).model_copy(update={"cached": True})
        else:
            future: asyncio.Future[CallResult] = asyncio.get_running_loop().create_future()
            self._inflight[call.key] = future
            try:
                result = await self.checked(call, await self._answer(call, call.key in fresh))
                future.set_result(result)
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, nobody logs it twice
                raise
            finally:
                del self._inflight[call.key]
        if self.progress is not None:
            self.progress(call, result)
        return result

    def _from_cache(self, call: Call, fresh: bool = False) -> CallResult | None:
        skip = self.store is None or self.fresh or fresh
        cached = None if skip or self.store is None else self.store.cached(call.key)
        if cached is None:
            return None
        # The checks run again: a stricter check applies to answers already paid for.
        return self.judge.recheck(call, cached)

    async def _answer(self, call: Call, fresh: bool = False) -> CallResult:
        cached = self._from_cache(call, fresh)
        if cached is not None:
            return cached
        await self._prepare(call.provider)  # the server's limits, before its slots
        if self.store is None:
            async with self._slot(call.provider):
                return await self.execute(call)
        if self.claims is None:
            self.claims = Claims(self.store.path.parent)
        # Another process sending the same call (a nightly beside a review) is waited for,
        # and its answer taken from the cache; the cache is looked at again once the slot is
        # ours too, since a call planned early may have been answered since.
        async with self.claims.claim(call.key), self._slot(call.provider):
            cached = self._from_cache(call, fresh)
            if cached is not None:
                return cached
            self.store.start(call.key)
            try:
                result = await self.execute(call)
            except BaseException:  # cancelled (Ctrl-C, SIGTERM): not in flight any more
                self.store.defer(call.key)
                raise
            # A call stopped by the budget before any request stays planned for the next
            # run; everything else is journaled as it ended.
            if result.attempts == 0 and result.failure is not None:
                self.store.defer(call.key)
            else:
                self.store.finish(result)
        return result

    async def checked(self, call: Call, result: CallResult) -> CallResult:
        """``result`` with its model claim check, when one is configured and due: sent
        synchronously, also for an answer collected from a Batch API."""
        check = None if self.checker is None else self.checker.plan(call, result)
        if check is None:
            return result
        return merged(result, await self._answer(check))

    async def _send(self, call: Call, request: CompletionRequest, tally: CallUsage) -> Completion:
        """One answer, through the transport retries. A step down the provider's output-mode
        ladder is sent again at once and spends no retry (the ladder is finite)."""
        while True:
            try:
                return await self._send_retrying(call, request, tally)
            except ProviderError as exc:
                if not exc.stepped_down:
                    raise

    async def _send_retrying(
        self, call: Call, request: CompletionRequest, tally: CallUsage
    ) -> Completion:
        prompt, completion = call.estimated_tokens()
        limiter = self._limiter(call.provider)
        async for attempt in self.policy.retrying():
            with attempt:
                if self.budget.exhausted:
                    raise ProviderError(FailureReason.BUDGET, self.budget.reason())
                await limiter.acquire(prompt + completion)
                tally.attempts += 1
                self.budget.count_request()
                return await call.provider.complete(request)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def _failure(self, exc: ProviderError) -> Failure:
        if self.policy.too_long(exc):
            return Failure(
                reason=FailureReason.RATE_LIMITED,
                detail=(
                    f"server asked to wait {exc.retry_after:.0f}s, more than the "
                    f"{self.policy.retry_after_cap:.0f}s cap: {exc}"
                ),
            )
        return Failure(reason=exc.reason, detail=str(exc))

    async def execute(self, call: Call) -> CallResult:
        """One call through retries and re-asks to a verdict or a typed failure (no cache)."""
        tally = CallUsage()
        messages = call.rendered.messages
        while True:
            try:
                completion = await self._send(call, call.request(messages), tally)
            except ProviderError as exc:
                return call_result(call, tally, Reject(self._failure(exc)))
            tally.add(completion)
            if call.rate is not None:
                self.budget.charge(call.rate.cost(*completion.tokens))
            outcome = self.judge.judge(call, messages, completion, tally.reasks)
            if not isinstance(outcome, Reask):
                return call_result(call, tally, outcome)
            tally.reasks += 1
            messages = outcome.messages
