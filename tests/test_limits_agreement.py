from __future__ import annotations

import pytest

from panel.pipeline.limits import RateLimiter
from panel.providers.base import FailureReason, classify_status, parse_retry_after, redact
from panel.scoring.agreement import krippendorff_alpha


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_requests_per_minute_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await limiter.acquire(1)
    assert clock.slept == []
    clock.now += 10
    await limiter.acquire(1)  # the 4th waits until the 1st leaves the window
    assert clock.slept == [pytest.approx(50.0)]


async def test_tokens_per_minute_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(tokens_per_minute=1000, clock=clock, sleep=clock.sleep)
    await limiter.acquire(600)
    clock.now += 5
    await limiter.acquire(300)
    assert clock.slept == []
    clock.now += 5
    await limiter.acquire(400)  # 1300 > 1000: wait for the 600 to expire (at +60)
    assert clock.slept == [pytest.approx(50.0)]
    await limiter.acquire(5_000)  # bigger than the budget: waits for an empty window
    assert clock.now == pytest.approx(1060 + 60)  # when the last entry (at 1060) expires


async def test_unlimited_never_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        await limiter.acquire(10_000)
    assert clock.slept == [] and not limiter.sent


def test_krippendorff_alpha_known_values() -> None:
    assert krippendorff_alpha([["ship", "ship"], ["skip", "skip"], ["ship", "skip"]]) == (
        pytest.approx(1 - 5 * 2 / 18)
    )
    assert krippendorff_alpha([["ship", "ship"], ["skip", "skip"]]) == 1.0
    assert krippendorff_alpha([["ship", "ship"], ["ship", "ship"]]) is None  # no variation
    assert krippendorff_alpha([["ship"], ["skip"]]) is None  # nothing pairable
    # Missing data: a unit with three raters counts, singletons are ignored.
    value = krippendorff_alpha([["ship", "ship", "skip"], ["skip", "skip"], ["ship"]])
    assert value is not None and -1 <= value <= 1


def test_retry_after_parsing() -> None:
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "100", "retry-after": "9"}) == 0.1
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (400, FailureReason.BAD_REQUEST, False),
        (401, FailureReason.AUTH, False),
        (403, FailureReason.AUTH, False),
        (404, FailureReason.BAD_REQUEST, False),
        (408, FailureReason.TIMEOUT, True),
        (409, FailureReason.SERVER_ERROR, True),
        (422, FailureReason.BAD_REQUEST, False),
        (429, FailureReason.RATE_LIMITED, True),
        (500, FailureReason.SERVER_ERROR, True),
        (503, FailureReason.SERVER_ERROR, True),
    ],
)
def test_status_classification(status: int, reason: FailureReason, retryable: bool) -> None:
    assert classify_status(status) == (reason, retryable)


def test_redact() -> None:
    assert redact("key sk-abc123 bad", "sk-abc123") == "key *** bad"
    assert redact("nothing", None, "") == "nothing"
