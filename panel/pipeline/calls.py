"""What a call is: one persona's view of one tool on one provider, and the key of its answer.

A ``Call`` is planned (jobs/review.py), judged (judge.py) and sent (runner.py); this
module is what those three share, and it does neither: it renders the request, names
the subject, estimates the price and derives the cache key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from panel.evidence import claims
from panel.evidence.pack import EvidencePack
from panel.inputs.catalog import Tool
from panel.inputs.personas import Persona
from panel.pipeline import evidence as packs
from panel.pipeline import headtohead
from panel.pipeline.pricing import FREE, Rate, cacheable_tokens, estimate_tokens
from panel.pipeline.prompts import Rendered
from panel.pipeline.validate import evidence_schema
from panel.providers.base import CompletionRequest, Message, Provider


def call_key(provider: Provider, request: CompletionRequest, evidence: str = "") -> str:
    """sha256 of everything that decides the answer: provider, model, messages, schema, sampling.

    Also the provider's own decoding settings and the server it talks to (``endpoint``),
    and the evidence pack's digest (``evidence``: what the grounding check reads, beyond
    the capped text the prompt shows), each only where set, so that the embedded model's
    keys and card-only reviews' keys stay as they were.
    """
    payload = {
        "provider": provider.spec,
        "model": provider.model,
        "messages": [m.as_dict() for m in request.messages],
        "schema": request.schema,
        "sampling": dict(vars(request.sampling)),  # asdict's deep copy, without its cost
    }
    if provider.decoding:  # only where set, so that other providers' keys stay as they were
        payload["decoding"] = provider.decoding
    if provider.endpoint:  # an answer from one server is never reused for another
        payload["endpoint"] = provider.endpoint
    if evidence:  # a card-only review has none: its key is as before issue 26
        payload["evidence"] = evidence
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Checking:
    """What a model claim check checks: the verdict (its key) and the ids its quote cites."""

    of: str
    cited: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    """One planned request: a persona's view of one tool, on one provider."""

    persona: Persona
    tool: Tool
    provider: Provider
    rendered: Rendered
    rate: Rate | None = FREE  # None: price unknown
    pair: tuple[Tool, Tool] | None = None  # head-to-head: both tools, in the order shown
    evidence: EvidencePack | None = None  # the tool's sources (a verdict); None: card only
    check: Checking | None = None  # a model claim check: of which verdict, citing which ids

    @property
    def pack(self) -> EvidencePack | None:
        """The evidence this call's answer cites and is checked against, if it has any."""
        return self.evidence if self.pair is None and packs.present(self.evidence) else None

    @property
    def subject(self) -> str:
        """What the call is about: a tool slug, or ``<first>-vs-<second>`` head-to-head."""
        return (
            self.tool.slug if self.pair is None else f"{self.pair[0].slug}-vs-{self.pair[1].slug}"
        )

    def estimated_tokens(self) -> tuple[int, int]:
        """(prompt, completion) upper-bound estimate for one send."""
        prompt = sum(estimate_tokens(m.content) for m in self.rendered.messages)
        return prompt, self.request().sampling.max_tokens

    def estimated_cost(self, cached_tokens: int = 0) -> float | None:
        """Upper bound for one send; ``cached_tokens``: the prompt tokens expected cached."""
        if self.rate is None:
            return None
        return self.rate.cost(*self.estimated_tokens(), cached_tokens)

    def request(self, messages: tuple[Message, ...] | None = None) -> CompletionRequest:
        pack = self.pack
        if self.check is not None:  # the claim check's schema and sampling (evidence/claims)
            return CompletionRequest(
                messages or self.rendered.messages, claims.schema(), claims.SCHEMA_NAME,
                claims.SAMPLING,
            )  # fmt: skip
        if self.pair is not None:
            schema, name = headtohead.schema(), f"{self.persona.name}_head_to_head"
        elif pack is not None:  # the answer cites the pack's sources (issue 26)
            schema, name = evidence_schema(self.persona, pack.ids()), f"{self.persona.name}_verdict"
        else:
            schema, name = self.persona.json_schema(), f"{self.persona.name}_verdict"
        return CompletionRequest(
            messages=messages or self.rendered.messages,
            schema=schema,
            schema_name=name,
            sampling=self.provider.sampling,
            cache_key=self.prefix_key,
        )

    @functools.cached_property
    def prefix_key(self) -> str:
        """Names the prompt's shared prefix (its system message: the rules and the card, the
        same for every persona on a tool, issue 18) for the server's prompt cache. A digest,
        so neither the canary nor the card's text is sent a second time."""
        return "panel-" + hashlib.sha256(self.rendered.system.encode()).hexdigest()[:24]

    @property
    def warms(self) -> bool:
        """Worth sending alone before the calls sharing its prefix: the prefix is long enough
        for a prompt cache and cached input is cheaper (or the price is unknown)."""
        if self.rate is not None and not self.rate.discounts_cache:
            return False
        return cacheable_tokens(self.rendered.system) > 0

    @functools.cached_property
    def key(self) -> str:
        return call_key(self.provider, self.request(), packs.key_part(self.pack))


def expected_cached(calls: Iterable[Call]) -> dict[int, int]:
    """Prompt tokens each call (by position) is expected to find in the server's cache.

    The runner sends the first call of each shared prefix alone and the rest after it
    (``Runner.run``), so every later call with that prefix on the same provider is expected
    to hit it: ``pricing.cacheable_tokens`` of the prefix, counted low (5 characters a
    token). The first call of a prefix, and calls whose rate gives no cache discount,
    expect none.
    """
    seen: set[tuple[str, str]] = set()
    expected: dict[int, int] = {}
    for n, call in enumerate(calls):
        if not call.warms:
            continue
        group = (call.provider.spec, call.prefix_key)
        if group in seen:
            expected[n] = cacheable_tokens(call.rendered.system)
        seen.add(group)
    return expected


def estimated_costs(calls: Iterable[Call]) -> list[float | None]:
    """Each call's estimate for one send, with the cache hits the call order should give
    (``expected_cached``); None where its price is unknown."""
    calls = list(calls)
    cached = expected_cached(calls)
    return [c.estimated_cost(cached.get(n, 0)) for n, c in enumerate(calls)]


def estimated_cost(calls: Iterable[Call]) -> float | None:
    """USD for one send of every call (``estimated_costs``); None if any price is unknown."""
    costs = estimated_costs(calls)
    if any(c is None for c in costs):
        return None
    return sum(c for c in costs if c is not None)


def unpriced(calls: Iterable[Call]) -> list[str]:
    """The provider addresses among ``calls`` with no known price, sorted."""
    return sorted({c.provider.spec for c in calls if c.rate is None})
