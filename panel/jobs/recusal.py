"""Calls that would be recused are planned out before anything is sent.

Under ``Recusal.RECUSE`` (the default) an answer from a model whose vendor makes a tool under
review is set aside (a conflict of interest). Asking for it anyway pays for an answer
that no score counts, so a plan leaves such calls out (:func:`split`), and the record
gets each one back, in its place, as a recused call that was never sent
(:func:`restore`): no answer, no tokens, no cost, ``attempts`` 0. Under ``Recusal.FLAG`` the
calls are sent and their answers counted, marked as conflicted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from panel.inputs.catalog import Tool
from panel.pipeline.calls import Call
from panel.records.schema import CallResult
from panel.scoring.rules import Recusal
from panel.scoring.trust import same_vendor

NOT_ASKED = "Not asked: the model's vendor makes this tool (conflict of interest)."


def conflicted(call: Call, vendors: dict[str, str]) -> bool:
    """Does ``call``'s model come from the vendor of a tool it reviews?"""
    model_vendor = vendors.get(call.provider.spec, "")
    reviewed: Sequence[Tool] = call.pair if call.pair is not None else (call.tool,)
    return any(same_vendor(model_vendor, t.vendor) for t in reviewed)


def split(
    calls: Sequence[Call], vendors: dict[str, str], recusal: Recusal
) -> tuple[list[Call], list[tuple[int, Call]]]:
    """(the calls to send, the ones planned out with their place in ``calls``)."""
    if recusal != Recusal.RECUSE:
        return list(calls), []
    send: list[Call] = []
    out: list[tuple[int, Call]] = []
    for n, call in enumerate(calls):
        if conflicted(call, vendors):
            out.append((n, call))
        else:
            send.append(call)
    return send, out


def not_sent(call: Call) -> CallResult:
    """The record of a call recused before it was sent."""
    sampling = call.provider.sampling
    fields: dict[str, Any] = {}
    return CallResult(
        key=call.key,
        persona=call.persona.name,
        tool=call.subject,
        kind="verdict" if call.pair is None else "head_to_head",
        provider=call.provider.spec,
        model=call.provider.model,
        status="ok",
        quote=NOT_ASKED,
        fields=fields,
        attempts=0,
        temperature=sampling.temperature,
        seed=sampling.seed,
        max_tokens=sampling.max_tokens,
        cost_usd=0.0,
        conflict=True,
        recused=True,
    )


def restore(
    results: Sequence[CallResult], planned_out: Sequence[tuple[int, Call]]
) -> list[CallResult]:
    """``results`` (of the sent calls, in order) with each planned-out call back in its place."""
    merged = list(results)
    for n, call in sorted(planned_out, key=lambda item: item[0]):
        merged.insert(n, not_sent(call))
    return merged
