"""The suite's clock: panel's wall clock (``panel.clock``) starts at a fixed instant in every
test, so no test depends on the date, the time of day or the time zone it runs in.

It ticks with real elapsed (monotonic) time, so two runs in one test still get distinct ids
and ordered timestamps, but it never crosses midnight: a test would have to run for 12 hours.
The instant is a Thursday of ISO week 2026-W48, two days after the fixture records are made
(``tests.support.records.NOW``).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TODAY: date = START.date()
YESTERDAY: date = TODAY - timedelta(days=1)
WEEK = START.strftime("%G-W%V")  # 2026-W48


class TickingClock:
    """``start`` plus the real time elapsed since it was made; ``advance`` jumps ahead."""

    def __init__(self, start: datetime = START) -> None:
        self.start = start
        self.offset = timedelta()
        self._origin = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + self.offset + timedelta(seconds=time.monotonic() - self._origin)

    def advance(self, by: timedelta) -> None:
        self.offset += by

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware); the clock keeps ticking from there."""
        self.start, self.offset, self._origin = moment, timedelta(), time.monotonic()
