"""The batch path: calls through providers' Batch APIs, durable across runs.

Used by the nightly through its ``RunSession`` (``BatchPath(session, run_id)``):

1. ``collect()`` first: every open batch in the journal (records/batch_journal.py) moves on.
   A batch whose submission was interrupted is uploaded or created now (never twice:
   a created batch is found by its tag, before any retry of a create too); a finished
   one's files are streamed to disk (``batch_files``) and each line's raw answer or typed
   error is journaled in one transaction. A batch open past its window plus a margin is
   expired here (``batch_admin``). A provider's reply never stops the night.
2. ``submit(calls)``: calls with a result in are judged exactly as synchronous answers
   are (``Judge.judge``, then ``result.call_result``): accepted or rejected calls end
   in the store's journal and cache, re-asks go into the next batch. Calls not yet sent
   are grouped per provider into a new batch each, journaled before every step. A call
   whose line came back without a result ``resends`` times today fails instead.
3. under ``--wait``, the nightly (``jobs/nightly_run.py``) collects and submits again
   every ``poll`` seconds until nothing is open or the time is up.

Upload and create go through the session's one retry policy. Nothing here is
provider-specific: each kind's ``BatchApi`` (providers/batch.py) speaks its SDK.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from panel import clock
from panel.errors import PanelError
from panel.pipeline import batch_admin, batch_files
from panel.pipeline.batch_admin import expire_overdue
from panel.pipeline.budget import Budget
from panel.pipeline.calls import Call
from panel.pipeline.judge import Judge, Reask, Reject
from panel.pipeline.pricing import PriceBook, Rate
from panel.pipeline.result import CallUsage, call_result
from panel.pipeline.retry import RetryPolicy
from panel.providers import registry
from panel.providers.base import (
    Completion,
    FailureReason,
    Message,
    Provider,
    ProviderError,
    StructuredMode,
)
from panel.providers.batch import BatchApi, BatchSource, BatchState, FileTooLargeError
from panel.records.batch_journal import Batch, BatchJournal, Line, Ready
from panel.records.schema import CallResult, Failure
from panel.records.store import Store

Log = Callable[[str], None]
POLL = 30.0  # seconds between status checks under --wait ([panel] batch_poll)
# Lines per batch: well under OpenAI's 50,000 requests and 200 MB a file (Mistral's are
# similar), and small enough that one input file is a few MB in memory.
MAX_LINES = 2_000
FILE_CAP = 1_024 * 1_000_000  # bytes ([panel] batch_max_file_mb)
RESENDS = 3  # a line lost this many times tonight fails its call ([panel] batch_resends)


def batch_rate(rate: Rate | None, discount: float) -> Rate | None:
    """The batch price: ``discount`` times the list price (unknown stays unknown)."""
    return None if rate is None else rate.scaled(discount)


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
    file_cap: int = FILE_CAP
    resends: int = RESENDS
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
        return registry.batch_api(self.clients[name])

    def pending(self, keys: Collection[str] | None = None) -> set[str]:
        return self.journal.pending(keys)

    # -- collect -------------------------------------------------------------
    async def collect(self) -> None:
        """Move every open batch on: finish interrupted submissions, settle finished ones."""
        for batch in self.journal.open():
            api = self.api(batch.provider)
            if api is None:
                if not await expire_overdue(self.journal, None, batch, self.log):
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
                await expire_overdue(self.journal, api, batch, self.log)
            except (PanelError, OSError):  # the store or the local disk: not the provider's
                raise
            except Exception as exc:
                # a reply no client anticipated must not stop the night before its
                # synchronous work: the batch stays open (and expires here in time)
                self.log(
                    f"batch {batch.id} on {batch.provider}: unreadable reply "
                    f"({type(exc).__name__}); it stays open"
                )
                await expire_overdue(self.journal, api, batch, self.log)

    async def _poll(self, api: BatchApi, batch: Batch) -> None:
        assert batch.batch_id is not None
        status = await self.retrying(lambda: api.status(str(batch.batch_id)))
        if not status.state.finished:
            self.journal.polled(batch.id, status.done + status.failed)
            if not status.known:
                self.log(
                    f"warning: batch {batch.id} on {batch.provider} reports {status.raw!r}, "
                    "a status panel does not know: counted as running until it expires here"
                )
            await expire_overdue(self.journal, api, batch, self.log)
            return
        rate = self._rate(batch.provider, api)
        completed = status.state is BatchState.COMPLETED
        state = status.state.value
        with batch_files.spooled() as output, batch_files.spooled() as errors:
            try:
                for file_id, into in ((status.output_file, output), (status.error_file, errors)):
                    if file_id:
                        await batch_files.fetch(api, file_id, into, self.file_cap, self.retrying)
            except FileTooLargeError as exc:  # closed here: the next night does not fetch it again
                lost = self.journal.settle(batch.id, "failed", (), f"closed here: {exc}")
                self.log(
                    f"batch {batch.id} on {batch.provider} closed here: {exc}; "
                    f"{lost} lines go back to planned"
                )
                return
            rows = (
                row
                for file in (output, errors)
                for row in batch_files.results(api, batch_files.lines(file), rate, completed)
            )
            lost = self.journal.settle(batch.id, state, rows, status.detail or None)
        back = "line without a result goes" if lost == 1 else "lines without a result go"
        note = f", {lost} {back} back to planned" if lost else ""
        raw = "" if status.raw.lower() == str(state).lower() else f" ({status.raw})"
        self.log(f"batch {batch.id} on {batch.provider} {state}{raw}{note}")

    def _rate(self, name: str, api: BatchApi) -> Rate | None:
        provider = self.clients[name]
        if not isinstance(provider, BatchSource):
            return None
        return batch_rate(self.prices.rate(provider.settings), api.discount)

    async def retrying(self, step: Callable[[], Any]) -> Any:
        async for attempt in self.policy.retrying():
            with attempt:
                self.requests += 1
                return await step()
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    # -- submit --------------------------------------------------------------
    async def submit(self, calls: Iterable[Call], fresh: Collection[str] = ()) -> None:
        """Judge the calls with a result in, and send the rest (and re-asks) in new batches.

        A call whose key is in ``fresh`` is sent even when an answer is cached (a withheld
        answer's retry).

        Judging writes its verdicts in one transaction: a crash before it commits leaves
        every line to be judged again by the next run.
        """
        calls = list(calls)
        keys = {call.key for call in calls}
        ready = self.journal.ready(keys)
        pending = self.journal.pending(keys)
        done = self.store.done_keys(keys)
        lost = self.journal.lost_tonight(keys)
        lines: dict[str, list[tuple[Call, Line, str | None]]] = {}
        seen: set[str] = set()
        with self.store.transaction():
            for call in calls:
                key = call.key
                if key in seen or key in pending or key in self.finished:
                    continue
                seen.add(key)
                if key in done and (key not in fresh or key in self.finished):
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
                elif lost.get(key, 0) >= self.resends:
                    self._lost(call, lost[key])
                    continue
                else:
                    line = Line("", key, 0, [], {})
                lines.setdefault(name, []).append((call, line, reasked))
        for name, chosen in lines.items():
            for start in range(0, len(chosen), MAX_LINES):
                await self._new_batch(name, chosen[start : start + MAX_LINES])

    def _judge(self, call: Call, ready: Ready) -> Line | None:
        """End ``call`` from its line's result (None), or the re-ask line to send next."""
        carried = ready.carried
        tally = CallUsage(
            attempts=int(carried.get("attempts", 0)) + 1,
            reasks=ready.reasks,
            prompt_tokens=int(carried.get("prompt_tokens", 0)),
            completion_tokens=int(carried.get("completion_tokens", 0)),
            cached_tokens=int(carried.get("cached_tokens", 0)),
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
                "cached_tokens": tally.cached_tokens,
                "started": carried.get("started", clock.timestamp()),
            }
            return Line("", call.key, ready.reasks + 1, _dicts(outcome.messages), carried)
        elapsed = (clock.timestamp() - float(carried.get("started", clock.timestamp()))) * 1000
        result = call_result(call, tally, outcome, latency_ms=elapsed)
        self.store.finish(result)
        self.journal.use([ready.custom_id])
        self.finished[call.key] = result
        return None

    def _lost(self, call: Call, times: int) -> None:
        """End a call whose batch line came back with no result ``times`` times tonight as a
        failure: the nightly's retry rule (``retry_nights``) decides when it is sent again."""
        failure = Failure(
            reason=FailureReason.SERVER_ERROR,
            detail=f"{call.provider.spec}: its batch line came back without a result {times} "
            "times tonight; not sent again tonight ([panel] batch_resends)",
        )
        result = call_result(call, CallUsage(attempts=times), Reject(failure), latency_ms=0.0)
        self.store.finish(result)
        self.finished[call.key] = result
        self.log(f"{call.persona.name}/{call.subject}: {failure.detail}")

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
            file_id = await self.retrying(lambda: api.upload(f"{batch.id}.jsonl", data))
            self.journal.uploaded(batch.id, str(file_id))
        else:  # created before a crash, its id never journaled? find it by its tag
            found = await self.retrying(lambda: api.find(batch.id))
            if found is not None:
                self.journal.submitted(batch.id, str(found))
                return
        remote = await self._create(api, batch, str(file_id))
        self.journal.submitted(batch.id, str(remote))
        lines = f"{batch.lines} line{'' if batch.lines == 1 else 's'}"
        self.log(f"batch {batch.id} submitted to {batch.provider}: {lines}")

    async def _create(self, api: BatchApi, batch: Batch, file_id: str) -> str:
        """Create the batch under the retry policy, looking it up by its tag before each
        retry: a create whose answer was lost (a 502, a dropped connection) may have made
        it, and a second create would send and bill every line twice."""
        tried = False
        async for attempt in self.policy.retrying():
            with attempt:
                self.requests += 1
                if tried:
                    found = await api.find(batch.id)
                    if found is not None:
                        self.log(f"batch {batch.id}: its create's answer was lost; found it")
                        return found
                tried = True
                return await api.create(file_id, batch.id)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    async def cancel(self, ident: str) -> Batch:
        """Ask the provider to cancel a batch (by panel's id or the provider's)."""
        return await batch_admin.cancel(self.journal, ident, self.api, self.retrying)

    def close(self, ident: str) -> tuple[Batch, int]:
        """Close a batch here, whatever its provider says; its calls go back to planned."""
        return batch_admin.close(self.journal, ident)


def _messages(dicts: Iterable[dict[str, str]]) -> tuple[Message, ...]:
    return tuple(Message(m["role"], m["content"]) for m in dicts)


def _dicts(messages: Iterable[Message]) -> list[dict[str, str]]:
    return [m.as_dict() for m in messages]


def _completion(data: dict[str, Any]) -> Completion:
    return Completion(**{**data, "mode": StructuredMode(data["mode"])})
