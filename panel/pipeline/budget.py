"""Run caps: --max-cost (USD) and --max-calls (provider requests). No new call starts past them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Budget:
    cap: float | None = None  # USD; None = no cap
    max_calls: int | None = None  # provider requests; None = no cap
    spent: float = 0.0
    calls: int = 0

    @property
    def exhausted(self) -> bool:
        return (self.cap is not None and self.spent >= self.cap) or (
            self.max_calls is not None and self.calls >= self.max_calls
        )

    def reason(self) -> str:
        if self.max_calls is not None and self.calls >= self.max_calls:
            return f"--max-calls {self.max_calls} reached; call not sent"
        return f"--max-cost ${self.cap or 0:.2f} reached; call not sent"

    def charge(self, usd: float | None) -> None:
        if usd:
            self.spent += usd

    def count_request(self) -> None:
        self.calls += 1
