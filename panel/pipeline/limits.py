"""Requests-per-minute and tokens-per-minute limits: a sliding one-minute window."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW = 60.0


class RateLimiter:
    """Waits until a request of ``tokens`` fits in the last minute's RPM and TPM budget."""

    def __init__(
        self,
        requests_per_minute: int = 0,
        tokens_per_minute: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rpm = requests_per_minute
        self.tpm = tokens_per_minute
        self.clock = clock
        self.sleep = sleep
        self.sent: deque[tuple[float, int]] = deque()
        self.lock = asyncio.Lock()

    @property
    def unlimited(self) -> bool:
        return self.rpm <= 0 and self.tpm <= 0

    def _wait_time(self, now: float, tokens: int) -> float:
        while self.sent and self.sent[0][0] <= now - WINDOW:
            self.sent.popleft()
        waits = [0.0]
        if self.rpm > 0 and len(self.sent) >= self.rpm:
            waits.append(self.sent[len(self.sent) - self.rpm][0] + WINDOW - now)
        if self.tpm > 0 and self.sent:
            used = sum(t for _, t in self.sent)
            # A request larger than the whole budget waits for an empty window.
            excess = used + min(tokens, self.tpm) - self.tpm
            for stamp, spent in self.sent:
                if excess <= 0:
                    break
                excess -= spent
                waits.append(stamp + WINDOW - now)
        return max(waits)

    async def acquire(self, tokens: int) -> None:
        if self.unlimited:
            return
        async with self.lock:  # FIFO: one waiter plans at a time
            while (wait := self._wait_time(self.clock(), tokens)) > 0:
                await self.sleep(wait)
            self.sent.append((self.clock(), tokens))
