"""What calls cost: each provider kind's list prices, overridable in panel.toml.

The list prices (USD per million tokens) live in each kind's descriptor
(``ProviderKind.prices``, with the date they were read); panel.toml's
``[prices."kind/model"]`` (or ``[prices.<name>]``) wins. Kinds that run in-process
cost nothing. A model with no known price has cost ``None``: shown as unknown, and
refused under --max-cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from panel.defences.untrusted import DATAMARK
from panel.providers import registry
from panel.providers.base import ProviderSettings


@dataclass(frozen=True)
class Rate:
    input: float  # USD per 1M input tokens
    output: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


FREE = Rate(0.0, 0.0)


class PriceBook:
    def __init__(self, overrides: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.overrides = dict(overrides or {})

    def rate(self, settings: ProviderSettings) -> Rate | None:
        kind = registry.describe(settings.kind)
        if kind.free:
            return FREE
        for key in (settings.name, f"{settings.kind}/{settings.model}"):
            if key in self.overrides:
                return Rate(*self.overrides[key])
        listed = kind.prices.get(settings.model)
        return None if listed is None else Rate(*listed)


def estimate_tokens(text: str) -> int:
    """A deliberately generous token estimate: about 3.5 characters per token, and a token
    more for each datamark, since a word joined by one loses its one-token form (issue 26:
    without it a datamarked evidence pack was estimated at 73% of its tokens on SmolLM2's
    tokenizer; benchmarks/evidence_tokens.py)."""
    return int(len(text) / 3.5) + text.count(DATAMARK) + 8
