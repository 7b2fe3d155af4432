"""Call results built by hand, for tests of the pure scoring functions."""

from __future__ import annotations

from panel.providers.base import FailureReason
from panel.records.schema import CallResult, Failure


def ok(
    persona: str,
    tool: str,
    verdict: str,
    provider: str = "p/1",
    confidence: int | None = 3,
    **fields: object,
) -> CallResult:
    """A valid verdict; ``fields`` sets any other CallResult field (flags, recused, cost_usd…)."""
    data: dict[str, object] = {
        "key": f"{persona}|{tool}|{provider}",
        "persona": persona,
        "tool": tool,
        "provider": provider,
        "model": "m",
        "status": "ok",
        "verdict": verdict,
        "confidence": confidence,
        "quote": f"{persona} on {tool} via {provider}: a quote long enough.",
        "attempts": 1,
        **fields,
    }
    return CallResult.model_validate(data)


def failed(persona: str, tool: str, provider: str = "p/1", **fields: object) -> CallResult:
    """A call that got no valid answer."""
    data: dict[str, object] = {
        "key": f"{persona}|{tool}|{provider}",
        "persona": persona,
        "tool": tool,
        "provider": provider,
        "model": "m",
        "status": "failed",
        "failure": Failure(reason=FailureReason.INVALID_OUTPUT, detail="bad"),
        "attempts": 1,
        **fields,
    }
    return CallResult.model_validate(data)


def h2h(
    persona: str, provider: str, first: str, second: str, pick: str | None, **fields: object
) -> CallResult:
    """One order of a head-to-head question; ``pick`` is the tool named, None for a failure."""
    data: dict[str, object] = {
        "key": f"{persona}|{first}-vs-{second}|{provider}",
        "persona": persona,
        "tool": f"{first}-vs-{second}",
        "provider": provider,
        "model": "m",
        "status": "ok" if pick else "failed",
        "kind": "head_to_head",
        "fields": {"pick": pick} if pick else {},
        **fields,
    }
    return CallResult.model_validate(data)
