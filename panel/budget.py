"""The --max-cost cap: refuse a review whose estimate exceeds it; stop scheduling at it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Budget:
    cap: float | None = None  # USD; None = no cap
    spent: float = 0.0

    @property
    def exhausted(self) -> bool:
        return self.cap is not None and self.spent >= self.cap

    def charge(self, usd: float | None) -> None:
        if usd:
            self.spent += usd
