"""What calls cost: each provider kind's list prices, overridable in panel.toml.

The list prices (USD per million tokens) live in each kind's descriptor
(``ProviderKind.prices``: input, output and, where the vendor lists one, cached input,
with the date they were read); panel.toml's ``[prices."kind/model"]`` (or
``[prices.<name>]``) wins. Kinds that run in-process cost nothing. A model with no
known price has cost ``None``: shown as unknown, and refused under --max-cost.

Cached input tokens (the part of a prompt the provider served from its prompt cache,
``usage.prompt_tokens_details.cached_tokens``) are a part of ``prompt_tokens`` and are
billed at the cached rate; a price with no cached rate bills them as input (never less
than the vendor would).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from panel.defences.untrusted import DATAMARK
from panel.providers import registry
from panel.providers.base import ProviderSettings

Listed = tuple[float, float] | tuple[float, float, float]  # (input, output[, cached input])


class PriceLike(Protocol):
    """A panel.toml price entry (``config.Price``)."""

    def listed(self) -> Listed: ...


@dataclass(frozen=True)
class Rate:
    input: float  # USD per 1M input tokens
    output: float
    cached: float | None = None  # USD per 1M cached input tokens; None: billed as input

    @property
    def cached_input(self) -> float:
        return self.input if self.cached is None else self.cached

    @property
    def discounts_cache(self) -> bool:
        """Cached input costs less than input: warming a shared prefix saves money."""
        return self.cached_input < self.input

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """USD for one answer; ``cached_tokens`` are part of ``prompt_tokens`` (as reported)."""
        cached = min(max(cached_tokens, 0), max(prompt_tokens, 0))
        fresh = prompt_tokens - cached
        return (
            fresh * self.input + cached * self.cached_input + completion_tokens * self.output
        ) / 1_000_000

    def scaled(self, share: float) -> Rate:
        """Every rate times ``share`` (the Batch API's discount)."""
        cached = None if self.cached is None else self.cached * share
        return Rate(self.input * share, self.output * share, cached)


FREE = Rate(0.0, 0.0)


def rate_of(listed: Listed) -> Rate:
    return Rate(*listed)


class PriceBook:
    def __init__(self, overrides: Mapping[str, Listed] | None = None) -> None:
        self.overrides = dict(overrides or {})

    @classmethod
    def of(cls, prices: Mapping[str, PriceLike]) -> PriceBook:
        """From panel.toml's ``[prices]`` (``config.Price`` entries)."""
        return cls({k: v.listed() for k, v in prices.items()})

    def rate(self, settings: ProviderSettings) -> Rate | None:
        kind = registry.describe(settings.kind)
        if kind.free:
            return FREE
        for key in (settings.name, f"{settings.kind}/{settings.model}"):
            if key in self.overrides:
                return rate_of(self.overrides[key])
        listed = kind.prices.get(settings.model)
        return None if listed is None else rate_of(listed)


CACHE_MIN_TOKENS = 1024  # OpenAI caches prompt prefixes of 1,024 tokens or more ...
CACHE_STEP = 128  # ... in steps of 128 tokens


def cacheable_tokens(prefix: str) -> int:
    """The tokens of ``prefix`` a prompt cache is expected to serve, counted low.

    A deliberately low count (5 characters a token, where real tokenizers give about 4 on
    English), cut to the cache's 128-token steps, 0 under 1,024 tokens: an expected hit
    never makes an estimate cheaper than the answer is likely to be.
    """
    tokens = len(prefix) // 5
    return 0 if tokens < CACHE_MIN_TOKENS else tokens // CACHE_STEP * CACHE_STEP


def estimate_tokens(text: str) -> int:
    """A deliberately generous token estimate: about 3.5 characters per token, and a token
    more for each datamark, since a word joined by one loses its one-token form (issue 26:
    without it a datamarked evidence pack was estimated at 73% of its tokens on SmolLM2's
    tokenizer; benchmarks/evidence_tokens.py)."""
    return int(len(text) / 3.5) + text.count(DATAMARK) + 8
