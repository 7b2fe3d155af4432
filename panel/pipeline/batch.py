"""The batch path: calls through providers' Batch APIs, durable across runs.

Used by the nightly through its ``RunSession`` (``BatchPath(session, run_id)``):

1. ``collect()`` first: every open batch in the journal (records/batches.py) moves on.
   A batch whose submission was interrupted is uploaded or created now (never twice:
   a created batch is found by its tag); a finished one is downloaded and each line's
   raw answer or typed error is journaled in one transaction.
2. ``submit(calls)``: calls with a result in are judged exactly as synchronous answers
   are (``Judge.judge``, then ``outcome.call_result``): accepted or rejected calls end
   in the store's journal and cache, re-asks go into the next batch. Calls not yet sent
   are grouped per provider into a new batch each, journaled before every step.
3. ``wait(seconds)``: poll (collect, judge, submit re-asks) until nothing is open or
   the time is up.

Upload and create go through the session's one retry policy. Nothing here is
provider-specific: each kind's ``BatchApi`` (providers/batch.py) speaks its SDK.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from panel import clock
from panel.errors import PanelError
from panel.pipeline.budget import Budget
from panel.pipeline.calls import Call
from panel.pipeline.judge import Judge, Reask, Reject
from panel.pipeline.outcome import Tally, call_result
from panel.pipeline.pricing import PriceBook, Rate
from panel.pipeline.retry import RetryPolicy
from panel.providers.base import (
    Completion,
    FailureReason,
    Message,
    Provider,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.batch import BatchApi, BatchState, batch_api
from panel.records.batches import Batch, BatchJournal, Line, Ready
from panel.records.schema import CallResult, Failure
from panel.records.store import Store

Log = Callable[[str], None]
POLL = 30.0  # seconds between status checks under --wait ([panel] batch_poll)
# Lines per batch: well under OpenAI's 50,000 requests and 200 MB a file (Mistral's are
# similar), and small enough that one input file is a few MB in memory.
MAX_LINES = 2_000


def batch_rate(rate: Rate | None, discount: float) -> Rate | None:
    """The batch price: ``discount`` times the list price (unknown stays unknown)."""
    return None if rate is None else Rate(rate.input * discount, rate.output * discount)


@dataclass
class BatchPath:
    """The batch side of one run: what it collected, judged, submitted and still waits for."""

    store: Store
    clients: dict[str, Provider]
    make: Callable[[str], Provider]  # provider name -> client (added to ``clients``)
    policy: RetryPolicy
    judge: Judge
    budget: Budget
    prices: PriceBook
    run_id: str
    log: Log = lambda message: None
    poll: float = POLL
    finished: dict[str, CallResult] = field(default_factory=dict)  # key -> ended this run
    submitted: int = 0  # lines sent this run
    deferred: set[str] = field(default_factory=set)  # keys kept back by the budget
    requests: int = 0  # HTTP requests to batch endpoints this run

    def __post_init__(self) -> None:
        self.journal = BatchJournal(self.store)

    # -- which calls go through batches --------------------------------------
    def api(self, name: str) -> BatchApi | None:
        """The batch endpoint of provider ``name``; None if it has none (or is gone)."""
        if name not in self.clients:
            try:
                self.clients[name] = self.make(name)
            except PanelError as exc:  # say, removed from panel.toml with a batch still open
                self.log(f"provider {name}: {exc}")
                return None
        return batch_api(self.clients[name])

    def pending(self) -> set[str]:
        return self.journal.pending()

    # -- collect -------------------------------------------------------------
    async def collect(self) -> None:
        """Move every open batch on: finish interrupted submissions, settle finished ones."""
        for batch in self.journal.open():
            api = self.api(batch.provider)
            if api is None:
                self.log(
                    f"batch {batch.id}: provider {batch.provider} has no batch API now; "
                    "it stays open (`panel batches cancel` closes it)"
                )
                continue
            try:
                if batch.state in ("preparing", "uploaded"):
                    await self._send(api, batch)
                else:
                    await self._poll(api, batch)
            except ProviderError as exc:  # left open: the next collect tries again
                self.log(f"batch {batch.id} on {batch.provider}: {exc}")

    async def _poll(self, api: BatchApi, batch: Batch) -> None:
        assert batch.batch_id is not None
        status = await self._retrying(lambda: api.status(str(batch.batch_id)))
        if not status.state.finished:
            self.journal.polled(batch.id, status.done + status.failed)
            return
        results: dict[str, tuple[str, dict[str, Any], float | None]] = {}
        rate = self._rate(batch.provider)
        for file_id in (status.output_file, status.error_file):
            if not file_id:
                continue
            data = await self._retrying(lambda f=file_id: api.download(f))  # type: ignore[misc]
            for raw in data.splitlines():
                line = _json_object(raw)
                if line is None:  # blank or unreadable: its call is lost and planned again
                    continue
                parsed = api.result(line)
                if parsed.completion is not None:
                    c = parsed.completion
                    cost = None if rate is None else rate.cost(c.prompt_tokens, c.completion_tokens)
                    results[parsed.custom_id] = ("answered", asdict(c), cost)
                elif parsed.error is not None and status.state is BatchState.COMPLETED:
                    # in an expired, failed or cancelled batch an unanswered line is lost
                    # (sent again), not a failure of its call
                    error = {"reason": parsed.error.reason.value, "detail": str(parsed.error)}
                    results[parsed.custom_id] = ("errored", error, None)
        state = status.state.value
        lost = batch.lines - len(results)
        self.journal.settle(batch.id, state, results, status.detail or None)
        back = "line without a result goes" if lost == 1 else "lines without a result go"
        note = f", {lost} {back} back to planned"
        note = note if lost else ""
        raw = "" if status.raw.lower() == str(state).lower() else f" ({status.raw})"
        self.log(f"batch {batch.id} on {batch.provider} {state}{raw}{note}")

    def _rate(self, name: str) -> Rate | None:
        settings = getattr(self.clients[name], "settings", None)
        if not isinstance(settings, ProviderSettings):
            return None
        return batch_rate(self.prices.rate(settings), settings.batch_discount)

    async def _retrying(self, step: Callable[[], Any]) -> Any:
        async for attempt in self.policy.retrying():
            with attempt:
                self.requests += 1
                return await step()
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    # -- submit --------------------------------------------------------------
    async def submit(self, calls: Iterable[Call]) -> None:
        """Judge the calls with a result in, and send the rest (and re-asks) in new batches.

        Judging writes its verdicts in one transaction: a crash before it commits leaves
        every line to be judged again by the next run.
        """
        ready = self.journal.ready()
        pending = self.journal.pending()
        done = self.store.done_keys()
        lines: dict[str, list[tuple[Call, Line, str | None]]] = {}
        seen: set[str] = set()
        with self.store.transaction():
            for call in calls:
                key = call.key
                if key in seen or key in pending or key in self.finished:
                    continue
                seen.add(key)
                if key in done:
                    if key in ready:
                        self.journal.use([ready[key]])
                    continue
                name = call.provider.spec
                reasked = None
                if key in ready:
                    line = self._judge(call, self.journal.line(ready[key]))
                    if line is None:
                        continue
                    reasked = ready[key]
                else:
                    line = Line("", key, 0, [], {})
                lines.setdefault(name, []).append((call, line, reasked))
        for name, chosen in lines.items():
            for start in range(0, len(chosen), MAX_LINES):
                await self._new_batch(name, chosen[start : start + MAX_LINES])

    def _judge(self, call: Call, ready: Ready) -> Line | None:
        """End ``call`` from its line's result (None), or the re-ask line to send next."""
        carried = ready.carried
        tally = Tally(
            attempts=int(carried.get("attempts", 0)) + 1,
            reasks=ready.reasks,
            prompt_tokens=int(carried.get("prompt_tokens", 0)),
            completion_tokens=int(carried.get("completion_tokens", 0)),
        )
        messages = _messages(ready.messages) or call.rendered.messages
        if ready.state == "errored":
            reason = FailureReason(ready.result["reason"])
            outcome: Any = Reject(Failure(reason=reason, detail=ready.result["detail"]))
        else:
            completion = _completion(ready.result)
            tally.add(completion)
            outcome = self.judge.judge(call, messages, completion, ready.reasks)
        if isinstance(outcome, Reask):
            carried = {
                "attempts": tally.attempts,
                "prompt_tokens": tally.prompt_tokens,
                "completion_tokens": tally.completion_tokens,
                "started": carried.get("started", clock.timestamp()),
            }
            return Line("", call.key, ready.reasks + 1, _dicts(outcome.messages), carried)
        elapsed = (clock.timestamp() - float(carried.get("started", clock.timestamp()))) * 1000
        result = call_result(call, tally, outcome, latency_ms=elapsed)
        self.store.finish(result)
        self.journal.use([ready.custom_id])
        self.finished[call.key] = result
        return None

    async def _new_batch(self, name: str, chosen: list[tuple[Call, Line, str | None]]) -> None:
        """One batch of ``chosen`` (call, line, the line it re-asks), journaled, then sent."""
        api = self.api(name)
        assert api is not None, f"{name} was routed to the batch path without a batch API"
        batch_id = f"pb-{uuid.uuid4().hex[:16]}"
        lines = []
        estimate = 0.0
        used = []
        for n, (call, line, reasked) in enumerate(chosen):
            cost = call.estimated_cost()
            cap = self.budget.cap
            if self.budget.exhausted or (cap is not None and self.budget.spent + (cost or 0) > cap):
                self.deferred.add(call.key)  # stays planned for the next run
                continue
            self.budget.charge(cost)  # a batch is paid for when sent: charge the estimate
            estimate += cost or 0.0
            self.budget.count_request()
            custom_id = f"{batch_id}-{n}"
            messages = _messages(line.messages) or call.rendered.messages
            carried = {**line.carried, "started": line.carried.get("started", clock.timestamp())}
            body = api.line(custom_id, call.request(messages))
            lines.append(replace(line, custom_id=custom_id, carried=carried, body=body))
            if reasked is not None:
                used.append(reasked)
        if not lines:
            return
        self.journal.prepare(batch_id, name, lines, self.run_id, used, estimate)
        self.submitted += len(lines)
        batch = self.journal.find(batch_id)
        assert batch is not None
        try:
            await self._send(api, batch)
        except ProviderError as exc:  # journaled: the next run uploads or creates it again
            self.log(f"batch {batch_id} on {name}: not submitted yet: {exc}")

    async def _send(self, api: BatchApi, batch: Batch) -> None:
        """Upload (if not yet) and create (if not yet), journaling each step before the next."""
        file_id = batch.file_id
        if file_id is None:
            data = self.journal.input_file(batch.id)
            file_id = await self._retrying(lambda: api.upload(f"{batch.id}.jsonl", data))
            self.journal.uploaded(batch.id, str(file_id))
        else:  # created before a crash, its id never journaled? find it by its tag
            found = await self._retrying(lambda: api.find(batch.id))
            if found is not None:
                self.journal.submitted(batch.id, str(found))
                return
        remote = await self._retrying(lambda: api.create(str(file_id), batch.id))
        self.journal.submitted(batch.id, str(remote))
        lines = f"{batch.lines} line{'' if batch.lines == 1 else 's'}"
        self.log(f"batch {batch.id} submitted to {batch.provider}: {lines}")

    # -- wait ----------------------------------------------------------------
    async def wait(self, seconds: float, calls: list[Call]) -> None:
        """Collect, judge and send re-asks until no batch is open or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while True:
            await self.collect()
            await self.submit(calls)
            if not self.journal.open() or time.monotonic() >= deadline:
                return
            await asyncio.sleep(min(self.poll, max(0.0, deadline - time.monotonic())))

    async def cancel(self, ident: str) -> Batch:
        """Ask the provider to cancel a batch (by panel's id or the provider's)."""
        batch = self.journal.find(ident)
        if batch is None:
            raise PanelError(f"no batch {ident!r} in the journal; see `panel batches list`")
        if batch.state not in ("preparing", "uploaded", "submitted"):
            raise PanelError(f"batch {ident} is already {batch.state}; nothing to cancel")
        api = self.api(batch.provider)
        if batch.batch_id is None or api is None:
            # never created at the provider, or the provider is gone: close it here; its
            # calls go back to planned
            why = "before it was created" if batch.batch_id is None else "its provider is gone"
            self.journal.settle(batch.id, "cancelled", {}, f"cancelled here: {why}")
        else:
            await self._retrying(lambda: api.cancel(str(batch.batch_id)))
        return batch


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """One line of an output or error file as a JSON object, or None."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _messages(dicts: Iterable[dict[str, str]]) -> tuple[Message, ...]:
    return tuple(Message(m["role"], m["content"]) for m in dicts)


def _dicts(messages: Iterable[Message]) -> list[dict[str, str]]:
    return [m.as_dict() for m in messages]


def _completion(data: dict[str, Any]) -> Completion:
    return Completion(**{**data, "mode": StructuredMode(data["mode"])})
