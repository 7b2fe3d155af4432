"""How a judged call becomes a ``CallResult``: shared by the runner and the batch path.

The runner (synchronous calls) and ``pipeline/batch_path.py`` (Batch API lines) count the same
things per call: sends, re-asks, tokens, the model version and the structured-output mode.
Both end a call here, so a batched answer's record is built exactly like a synchronous one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from panel.pipeline.calls import Call
from panel.pipeline.judge import Accept, Reject
from panel.providers.base import Completion, StructuredMode
from panel.records.schema import CallResult


@dataclass
class CallUsage:
    """What one call has used so far, over its sends and re-asks."""

    attempts: int = 0
    reasks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # the part of prompt_tokens served from the provider's prompt cache
    model_version: str | None = None
    mode: StructuredMode | None = None
    started: float = field(default_factory=time.monotonic)

    def add(self, completion: Completion) -> None:
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.cached_tokens += completion.cached_tokens
        self.model_version = completion.model_version
        self.mode = completion.mode


def call_result(
    call: Call, tally: CallUsage, outcome: Accept | Reject, latency_ms: float | None = None
) -> CallResult:
    """The record of one call: who, what, how it went and what it cost.

    ``latency_ms``: the call's wall time when it is not ``tally.started`` to now (a
    batched call's, from its first submission to its collection).
    """
    answer = outcome.answer if isinstance(outcome, Accept) else None
    sampling = call.request().sampling
    if latency_ms is None:
        latency_ms = (time.monotonic() - tally.started) * 1000
    return CallResult(
        key=call.key,
        persona=call.persona.name,
        tool=call.subject,
        kind="claim_check" if call.check else "verdict" if call.pair is None else "head_to_head",
        provider=call.provider.spec,
        model=call.provider.model,
        status="ok" if answer is not None else "failed",
        verdict=None if answer is None else answer.verdict,
        confidence=None if answer is None or call.check else answer.confidence,
        quote=None if answer is None else answer.quote,
        fields={} if answer is None else dict(answer.fields),
        failure=outcome.failure if isinstance(outcome, Reject) else None,
        model_version=tally.model_version,
        mode=tally.mode,
        attempts=tally.attempts,
        reasks=tally.reasks,
        prompt_tokens=tally.prompt_tokens,
        completion_tokens=tally.completion_tokens,
        cached_tokens=tally.cached_tokens,
        latency_ms=round(latency_ms, 1),
        temperature=sampling.temperature,
        seed=sampling.seed,
        max_tokens=sampling.max_tokens,
        truncated_input=list(call.rendered.truncated),
        defences=list(call.rendered.defences),
        flags=list(outcome.flags) if isinstance(outcome, Accept) else [],
        citations=[] if answer is None else list(answer.citations),
        evidence=None if answer is None else answer.evidence,
        claims=list(outcome.claims) if isinstance(outcome, Accept) else [],
        cost_usd=(
            None
            if call.rate is None
            else round(
                call.rate.cost(tally.prompt_tokens, tally.completion_tokens, tally.cached_tokens),
                8,
            )
        ),
    )
