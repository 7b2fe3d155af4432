"""The one wall clock: every date and time panel records, compares or prints comes from here.

One calendar (issue 25, issue 31 item 14): times are aware and in UTC, and "today" is the UTC
date, whatever the machine's time zone, so a record's folder, its ``created_at``, its page, the
desk's filters and the digest's weeks all agree. Durations and deadlines use
``time.monotonic`` instead: they are not dates.

Tests never read the real clock: ``tests/conftest.py`` installs a source that starts at a fixed
instant (``use``), so the suite passes on any date and in any time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Source = Callable[[], datetime]


def system() -> datetime:
    return datetime.now(UTC)


_source: Source = system


def now() -> datetime:
    """The current time, aware, in UTC."""
    moment = _source()
    if moment.tzinfo is None:
        raise ValueError("a clock source must return an aware datetime")
    return moment.astimezone(UTC)


def today() -> date:
    """Today's date on the UTC calendar."""
    return now().date()


def timestamp() -> float:
    """Seconds since the epoch, from the same source as ``now``."""
    return now().timestamp()


def use(source: Source) -> Source:
    """Make ``source`` the clock and return the one it replaces (to put it back)."""
    global _source
    previous, _source = _source, source
    return previous
