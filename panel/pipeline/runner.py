"""The runner: fans calls out to providers, within each provider's limits.

It is the only stage that talks to providers. Each call is sent under the
transport-retry policy, its answer validated, and re-asked with the error up to
the re-ask budget. Whatever happens, a call ends as a ``CallResult``: a failed
call is data, never an exception that stops the run.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from panel.defences.leaks import CARD_ECHO, COPIED_CARD, ECHOED_PROMPT, PROMPT_ECHO, leak_flags
from panel.defences.quality import NOT_PROSE, REPETITIVE, quote_flags
from panel.inputs.catalog import Tool
from panel.inputs.personas import Persona
from panel.pipeline import headtohead
from panel.pipeline.budget import Budget
from panel.pipeline.limits import RateLimiter
from panel.pipeline.pricing import FREE, Rate, estimate_tokens
from panel.pipeline.prompts import Rendered
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.validate import (
    MAX_REASKS,
    InvalidAnswerError,
    check,
    check_model,
    reask_messages,
    split_verdict,
)
from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    Message,
    Provider,
    ProviderError,
)
from panel.records.schema import CallResult, Failure
from panel.records.store import Store

# Flags that a fresh answer can fix: re-asked (within the budget) with these instructions.
# A canary leak is not: it is the clearest sign that a payload took over the answer.
REASK_FOR = {CARD_ECHO: COPIED_CARD, PROMPT_ECHO: ECHOED_PROMPT, REPETITIVE: NOT_PROSE}


def call_key(provider: Provider, request: CompletionRequest) -> str:
    """sha256 of everything that decides the answer: provider, model, messages, schema, sampling.

    Also the provider's own decoding settings and the server it talks to (``endpoint``),
    each only where set, so that the embedded model's keys stay as they were.
    """
    payload = {
        "provider": provider.spec,
        "model": provider.model,
        "messages": [m.as_dict() for m in request.messages],
        "schema": request.schema,
        "sampling": asdict(request.sampling),
    }
    if provider.decoding:  # only where set, so that other providers' keys stay as they were
        payload["decoding"] = provider.decoding
    if provider.endpoint:  # an answer from one server is never reused for another
        payload["endpoint"] = provider.endpoint
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Call:
    """One planned request: a persona's view of one tool, on one provider."""

    persona: Persona
    tool: Tool
    provider: Provider
    rendered: Rendered
    rate: Rate | None = FREE  # None: price unknown
    pair: tuple[Tool, Tool] | None = None  # head-to-head: both tools, in the order shown

    @property
    def subject(self) -> str:
        """What the call is about: a tool slug, or ``<first>-vs-<second>`` head-to-head."""
        return (
            self.tool.slug if self.pair is None else f"{self.pair[0].slug}-vs-{self.pair[1].slug}"
        )

    def estimated_tokens(self) -> tuple[int, int]:
        """(prompt, completion) upper-bound estimate for one send."""
        prompt = sum(estimate_tokens(m.content) for m in self.rendered.messages)
        return prompt, self.provider.sampling.max_tokens

    def estimated_cost(self) -> float | None:
        return None if self.rate is None else self.rate.cost(*self.estimated_tokens())

    def request(self, messages: tuple[Message, ...] | None = None) -> CompletionRequest:
        if self.pair is not None:
            schema, name = headtohead.schema(), f"{self.persona.name}_head_to_head"
        else:
            schema, name = self.persona.json_schema(), f"{self.persona.name}_verdict"
        return CompletionRequest(
            messages=messages or self.rendered.messages,
            schema=schema,
            schema_name=name,
            sampling=self.provider.sampling,
        )

    @functools.cached_property
    def key(self) -> str:
        return call_key(self.provider, self.request())


Progress = Callable[[Call, CallResult], None]


@dataclass
class _Tally:
    attempts: int = 0
    reasks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_version: str | None = None
    mode: str | None = None
    started: float = field(default_factory=time.monotonic)

    def add(self, completion: Completion) -> None:
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.model_version = completion.model_version
        self.mode = completion.mode


class Runner:
    """Runs calls concurrently, at most ``limits.max_in_flight`` per provider."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        max_reasks: int = MAX_REASKS,
        progress: Progress | None = None,
        budget: Budget | None = None,
        store: Store | None = None,
        fresh: bool = False,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.store = store
        self.fresh = fresh  # True: ignore the cache (results are still journaled and cached)
        self.max_reasks = max_reasks
        self.progress = progress
        self.budget = budget or Budget()
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._inflight: dict[str, asyncio.Future[CallResult]] = {}

    def _slot(self, provider: Provider) -> asyncio.Semaphore:
        if provider.spec not in self._slots:
            self._slots[provider.spec] = asyncio.Semaphore(max(1, provider.limits.max_in_flight))
        return self._slots[provider.spec]

    def _limiter(self, provider: Provider) -> RateLimiter:
        if provider.spec not in self._limiters:
            limits = provider.limits
            self._limiters[provider.spec] = RateLimiter(
                limits.requests_per_minute, limits.tokens_per_minute
            )
        return self._limiters[provider.spec]

    async def run(self, calls: list[Call]) -> list[CallResult]:
        """Every call's result, in the order the calls were given."""
        return list(await asyncio.gather(*(self._run_one(call) for call in calls)))

    async def _run_one(self, call: Call) -> CallResult:
        shared = self._inflight.get(call.key)
        if shared is not None:  # the same call is already being made: wait for its answer
            result = (await asyncio.shield(shared)).model_copy(update={"cached": True})
        else:
            future: asyncio.Future[CallResult] = asyncio.get_running_loop().create_future()
            self._inflight[call.key] = future
            try:
                result = await self._answer(call)
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

    async def _answer(self, call: Call) -> CallResult:
        cached = None if self.store is None or self.fresh else self.store.cached(call.key)
        if cached is not None:
            # The checks run again: a stricter leak check applies to answers already paid for.
            flags = [] if cached.failure else self._flags(call, cached.quote, cached.fields)
            result = cached.model_copy(update={"cached": True, "flags": flags})
        else:
            async with self._slot(call.provider):
                if self.store is not None:
                    self.store.start(call.key)
                result = await self.execute(call)
                if self.store is not None:
                    # A call stopped by the budget before any request stays planned for
                    # the next run; everything else is journaled as it ended.
                    deferred = result.attempts == 0 and result.failure is not None
                    if deferred:
                        self.store.defer(call.key)
                    else:
                        self.store.finish(result)
        return result

    async def _send(self, call: Call, request: CompletionRequest, tally: _Tally) -> Completion:
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
        """One call through retries and re-asks to a verdict or a typed failure."""
        tally = _Tally()
        messages = call.rendered.messages
        while True:
            try:
                completion = await self._send(call, call.request(messages), tally)
            except ProviderError as exc:
                return self._result(call, tally, failure=self._failure(exc))
            tally.add(completion)
            if call.rate is not None:
                self.budget.charge(
                    call.rate.cost(completion.prompt_tokens, completion.completion_tokens)
                )
            try:
                outcome = self._outcome(call, completion)
                flags = self._flags(call, outcome.get("quote"), outcome.get("fields"))
                fixable = [REASK_FOR[flag] for flag in flags if flag in REASK_FOR]
                if fixable and tally.reasks < self.max_reasks:
                    # Vendor copy, our own rules or a repeated word is no review: ask for one
                    # in the model's own words. Out of re-asks, it is kept flagged, unpublished.
                    raise InvalidAnswerError(FailureReason.INVALID_OUTPUT, "; ".join(fixable))
            except InvalidAnswerError as exc:
                if exc.reason is FailureReason.REFUSED or tally.reasks >= self.max_reasks:
                    detail = exc.detail
                    if tally.reasks:
                        detail = f"{detail} (still invalid after {tally.reasks} re-asks)"
                    return self._result(
                        call, tally, failure=Failure(reason=exc.reason, detail=detail)
                    )
                tally.reasks += 1
                messages = reask_messages(messages, completion.text, exc.detail)
                continue
            return self._result(call, tally, **outcome, flags=flags)

    @staticmethod
    def _outcome(call: Call, completion: Completion) -> dict[str, object]:
        """The validated answer as CallResult fields, or ``InvalidAnswerError``."""
        if call.pair is not None:
            answer = check_model(headtohead.HeadToHeadAnswer, completion)
            chosen = call.pair[0] if answer.pick == "first" else call.pair[1]
            return {
                "confidence": answer.confidence,
                "quote": answer.reason,
                "fields": {"pick": chosen.slug, "position": answer.pick},
            }
        verdict = split_verdict(call.persona, check(call.persona, completion))
        return {
            "verdict": verdict.verdict,
            "confidence": verdict.confidence,
            "quote": verdict.quote,
            "fields": verdict.fields,
        }

    @staticmethod
    def _flags(call: Call, quote: object, fields: object) -> list[str]:
        texts = [str(quote or "")]
        for value in fields.values() if isinstance(fields, dict) else ():
            texts.extend(value if isinstance(value, list) else [str(value)])
        rendered = call.rendered
        leaks = leak_flags(rendered.system, rendered.canary, texts, rendered.exempt, rendered.card)
        if call.pair is not None:  # a head-to-head reason is never published
            return leaks
        return leaks + quote_flags(str(quote or ""))

    def _result(self, call: Call, tally: _Tally, **outcome: object) -> CallResult:
        sampling = call.provider.sampling
        return CallResult.model_validate(
            {
                "key": call.key,
                "persona": call.persona.name,
                "tool": call.subject,
                "kind": "verdict" if call.pair is None else "head_to_head",
                "provider": call.provider.spec,
                "model": call.provider.model,
                "status": "failed" if outcome.get("failure") else "ok",
                "model_version": tally.model_version,
                "mode": tally.mode,
                "attempts": tally.attempts,
                "reasks": tally.reasks,
                "prompt_tokens": tally.prompt_tokens,
                "completion_tokens": tally.completion_tokens,
                "latency_ms": round((time.monotonic() - tally.started) * 1000, 1),
                "temperature": sampling.temperature,
                "seed": sampling.seed,
                "max_tokens": sampling.max_tokens,
                "truncated_input": list(call.rendered.truncated),
                "defences": list(call.rendered.defences),
                "flags": [],
                "cost_usd": (
                    None
                    if call.rate is None
                    else round(call.rate.cost(tally.prompt_tokens, tally.completion_tokens), 8)
                ),
                **outcome,
            }
        )
