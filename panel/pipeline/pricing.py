"""What calls cost: a built-in price table (USD per million tokens), overridable in panel.toml.

Prices change; the table records list prices as of its date and panel.toml's
``[prices."kind/model"]`` wins. In-process models cost nothing. A model with no
known price has cost ``None``: shown as unknown, and refused under --max-cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from panel.providers.base import ProviderSettings

TABLE_DATE = "2025-06"
FREE_KINDS = frozenset({"local"})

# "kind/model" -> (input, output) USD per 1M tokens, list prices as of TABLE_DATE.
BUILTIN: dict[str, tuple[float, float]] = {
    "openai/gpt-4o-mini": (0.15, 0.60),
    "openai/gpt-4o": (2.50, 10.00),
    "openai/gpt-4.1": (2.00, 8.00),
    "openai/gpt-4.1-mini": (0.40, 1.60),
    "openai/gpt-4.1-nano": (0.10, 0.40),
    "mistral/mistral-small-latest": (0.10, 0.30),
    "mistral/mistral-medium-latest": (0.40, 2.00),
    "mistral/mistral-large-latest": (2.00, 6.00),
    "mistral/open-mistral-nemo": (0.15, 0.15),
}


@dataclass(frozen=True)
class Rate:
    input: float  # USD per 1M input tokens
    output: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


FREE = Rate(0.0, 0.0)


class PriceBook:
    def __init__(self, overrides: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.table = {**BUILTIN, **(overrides or {})}

    def rate(self, settings: ProviderSettings) -> Rate | None:
        if settings.kind in FREE_KINDS:
            return FREE
        for key in (settings.name, f"{settings.kind}/{settings.model}"):
            if key in self.table:
                return Rate(*self.table[key])
        return None


def estimate_tokens(text: str) -> int:
    """A deliberately generous token estimate: about 3.5 characters per token."""
    return int(len(text) / 3.5) + 8
