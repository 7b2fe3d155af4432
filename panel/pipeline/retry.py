"""The one transport-retry policy: 429, 5xx, timeouts and dropped connections.

SDK-internal retries are switched off in every provider so attempts never
multiply; this policy is the only loop that re-sends a request for transport
reasons. It honours a server's Retry-After (capped), else backs off
exponentially with jitter. Validation re-asks are a separate budget (reask.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)
from tenacity.stop import stop_base

from panel.providers.base import ProviderError


class stop_when(stop_base):  # noqa: N801 (tenacity's naming)
    """Stop when a predicate on the retry state holds."""

    def __init__(self, predicate: Callable[[RetryCallState], bool]) -> None:
        self.predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.predicate(retry_state)


def _retryable(exc: BaseException) -> bool:
    """A transport failure worth sending again (a ladder step-down is the runner's own)."""
    return isinstance(exc, ProviderError) and exc.retryable and not exc.stepped_down


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total sends per request, first one included
    base_delay: float = 1.0
    max_delay: float = 30.0
    retry_after_cap: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.retry_after_cap)  # never shorter than the server asked
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, ProviderError) else None
        return self.delay(state.attempt_number, retry_after)

    def too_long(self, exc: BaseException) -> bool:
        """A Retry-After beyond the cap: fail now rather than wait or hot-loop."""
        return (
            isinstance(exc, ProviderError)
            and exc.retry_after is not None
            and exc.retry_after > self.retry_after_cap
        )

    def _stop_on_long_wait(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return exc is not None and self.too_long(exc)

    def retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts) | stop_when(self._stop_on_long_wait),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
