"""The optional model claim check of published-to-be quotes (issue 26).

With ``fact_check = "PROVIDER"`` in ``[panel]``, every valid verdict on a tool with sources
gets a second opinion from that provider, unless it wrote the quote itself: it splits the
quote into atomic claims and labels each supported or not by the text of the sources cited
(``panel/evidence/claims.py``). The check is a ``Call`` of its own, sent by the runner like
any other: keyed (the quote, the pack and the checker decide it), cached in the store,
journaled, retried, re-asked and charged to the budget. Its outcome joins the verdict's
record: the labelled claims in ``claims`` (with ``checker`` set), a summary in
``fact_check``, and the flag ``claim-check-failed`` when a claim is not supported or no
usable check came back. The claim check can only withhold a quote, never release one the
deterministic check withheld (it is asked only about valid answers).
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.defences.quality import CLAIM_CHECK_FAILED
from panel.defences.untrusted import ALL_ON
from panel.evidence import claims
from panel.evidence.grounding import cited_ids
from panel.pipeline.calls import Call, Checking
from panel.pipeline.pricing import FREE, Rate
from panel.pipeline.prompts import Rendered
from panel.providers.base import Provider
from panel.records.schema import CallResult, FactCheck


@dataclass(frozen=True)
class FactChecker:
    """Who checks (a provider client the session owns), the project's fence key, the price."""

    provider: Provider
    key: bytes
    rate: Rate | None = FREE

    def plan(self, call: Call, result: CallResult) -> Call | None:
        """The claim check of ``result`` (the answer to ``call``), or None when there is
        nothing to check: no sources, no valid verdict, or the checker wrote the quote."""
        pack = call.pack
        if pack is None or call.check is not None or not result.ok or not result.quote:
            return None
        if self.provider.spec == call.provider.spec:  # never the author's own check
            return None
        request = claims.build_request(result.quote, pack, key=self.key)
        rendered = Rendered(messages=request.messages, defences=ALL_ON.names())
        return Call(
            call.persona,
            call.tool,
            self.provider,
            rendered,
            self.rate,
            evidence=pack,
            check=Checking(result.key, cited_ids(result.quote, result.citations)),
        )


def merged(result: CallResult, check: CallResult) -> CallResult:
    """``result`` with its claim check: the checker's claims added, the summary kept, and
    the answer withheld unless every claim was found supported."""
    found = [c for c in check.claims if c.checker == check.provider]
    passed = check.status == "ok" and all(c.outcome == "supported" for c in found)
    if check.failure is not None:
        reason = f"no usable claim check: {check.failure.reason.value}"
    else:
        reason = check.quote or ""
    summary = FactCheck(
        key=check.key,
        provider=check.provider,
        model=check.model,
        status=check.status,
        publishable=passed,
        reason=reason,
        cached=check.cached,
        attempts=check.attempts,
        prompt_tokens=check.prompt_tokens,
        completion_tokens=check.completion_tokens,
        cost_usd=check.cost_usd,
    )
    kept = [c for c in result.claims if c.checker == "deterministic"]
    flags = [f for f in result.flags if f != CLAIM_CHECK_FAILED]
    if not passed:
        flags.append(CLAIM_CHECK_FAILED)
    return result.model_copy(
        update={"claims": [*kept, *found], "flags": flags, "fact_check": summary}
    )
