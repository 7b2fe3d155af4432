"""Which models earn their seat (issue 30): one row per seat, from records alone.

A seat is a provider and model sitting as one persona. Its row, over the records given
(``panel seats --since`` picks them):

- **calls** and what became of them: valid, failed by reason (``withheld`` when the leak or
  quote checks set the answer aside), recused, abstained (an outcome the evidence work adds;
  0 until records have it). A call reused by a later record (the same call key: the response
  cache, or a tool's calls shared by two pairs) counts once, in the first record it is in.
- **mean latency** of the calls really sent (answers served from the cache took no time).
- **cost per valid verdict**: every counted call's ``cost_usd`` (cached prompt tokens at the
  cached rate; failed calls and head-to-head answers included: the seat paid for them) over
  its valid verdicts; unknown if a price is.
- **order consistency**: of its head-to-head questions answered in both orders, the share
  where it picked the same tool both times (the newest record of each pair).
- **agreement with the other seats** of its persona: Cohen's kappa over the pairs (this
  seat's verdict, another seat's verdict) on the same tool, pooled over the other seats (each
  seat's newest valid verdict per tool), with the number of pairs.
- **agreement with editors**, over the records an editor acted on (any editorial history):
  the share of its valid verdicts an editor overrode to the other verdict, and the share of
  its records that stand rejected, each with its counts and a 95% Wilson interval, so that
  3 of 4 does not read as a certain 75%.

Pure: records in, rows out. ``panel/cli/seats.py`` and the desk's seats page show them;
the nightly summary names seats below the ``[panel]`` thresholds (``below``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

from panel.config import PanelSection
from panel.records.io import iter_records
from panel.records.schema import CallResult, ComparisonRecord

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


@dataclass(frozen=True)
class Proportion:
    """``k`` of ``n``, with its 95% Wilson score interval (None when ``n`` is 0)."""

    k: int
    n: int
    share: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, k: int, n: int) -> Proportion:
        interval = wilson(k, n)
        share = k / n if n else None
        return cls(k, n, share, *(interval if interval is not None else (None, None)))


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for ``k`` successes in ``n`` trials; None for 0 of 0.

    At 0 of n the low end is 0 and at n of n the high end is 1, exactly (the formula gives
    them up to rounding).
    """
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"{k} of {n} is not a proportion")
    p = k / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Kappa:
    value: float | None  # None: no pairs, or no variation to agree beyond chance on
    pairs: int


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> Kappa:
    """Cohen's kappa for two raters over ``pairs`` of labels (this seat, another seat)."""
    n = len(pairs)
    if n == 0:
        return Kappa(None, 0)
    observed = sum(1 for a, b in pairs if a == b) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(left[label] * right[label] for label in left) / (n * n)
    if expected >= 1.0:
        return Kappa(None, n)
    return Kappa(round((observed - expected) / (1 - expected), 4), n)


@dataclass
class SeatRow:
    provider: str
    model: str
    persona: str
    calls: int = 0
    valid: int = 0
    verdicts: int = 0  # valid verdicts (head-to-head answers are not verdicts)
    failures: dict[str, int] = field(default_factory=dict)
    recused: int = 0
    abstained: int = 0
    mean_latency_ms: float | None = None
    cost_usd: float | None = 0.0
    cost_per_valid_verdict: float | None = None
    cached_tokens: int = 0
    order: Proportion = field(default_factory=lambda: Proportion.of(0, 0))
    agreement: Kappa = field(default_factory=lambda: Kappa(None, 0))
    overridden: Proportion = field(default_factory=lambda: Proportion.of(0, 0))
    rejected: Proportion = field(default_factory=lambda: Proportion.of(0, 0))

    @property
    def seat(self) -> tuple[str, str, str]:
        return self.provider, self.model, self.persona

    @property
    def valid_share(self) -> float | None:
        return self.valid / self.calls if self.calls else None

    @property
    def editor_agreement(self) -> float | None:
        """1 - the overridden share: how often editors let its verdict stand."""
        share = self.overridden.share
        return None if share is None else 1 - share


def _seat(call: CallResult) -> tuple[str, str, str]:
    return call.provider, call.model, call.persona


def _failure(call: CallResult) -> str:
    return call.failure.reason.value if call.failure is not None else "withheld"


def seats(records: Iterable[ComparisonRecord]) -> list[SeatRow]:
    """One row per seat in ``records``, sorted by provider, model and persona."""
    ordered = sorted(records, key=lambda r: (r.created_at, r.id))
    rows: dict[tuple[str, str, str], SeatRow] = {}
    latencies: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    seen: set[str] = set()
    latest: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)  # seat -> tool -> v
    orders: dict[tuple[frozenset[str], str, str], bool | None] = {}
    reviewed: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for record in ordered:
        for call in record.calls:
            seat = _seat(call)
            row = rows.setdefault(seat, SeatRow(*seat))
            if call.kind == "verdict" and call.ok and call.verdict is not None:
                latest[seat][call.tool] = call.verdict
            if call.key in seen:
                continue
            seen.add(call.key)
            _count(row, call)
            if not call.cached and call.attempts:
                latencies[seat].append(call.latency_ms)
        _editors(record, reviewed)
        if record.scores.head_to_head is not None:
            pair = frozenset(t.slug for t in record.tools)
            for s in record.scores.head_to_head.seats:
                orders[(pair, s.persona, s.provider)] = None if s.recused else s.consistent
    for seat, row in rows.items():
        if latencies[seat]:
            row.mean_latency_ms = round(mean(latencies[seat]), 1)
        if row.cost_usd is not None and row.verdicts:
            row.cost_per_valid_verdict = round(row.cost_usd / row.verdicts, 8)
        answered = [
            v
            for (_, persona, provider), v in orders.items()
            if (provider, persona) == (row.provider, row.persona) and v is not None
        ]
        row.order = Proportion.of(sum(answered), len(answered))
        row.agreement = _agreement(seat, latest)
        verdicts, overridden, acted_on, rejected = reviewed[seat]
        row.overridden = Proportion.of(overridden, verdicts)
        row.rejected = Proportion.of(rejected, acted_on)
    return [rows[s] for s in sorted(rows)]


class CallTally:
    """Seat rows counted call by call, each call key once, without keeping the calls (a
    night answers 100,000 of them)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, str], SeatRow] = {}
        self._seen: set[str] = set()

    def add(self, call: CallResult) -> None:
        row = self._rows.setdefault(_seat(call), SeatRow(*_seat(call)))
        if call.key not in self._seen:
            self._seen.add(call.key)
            _count(row, call)

    def rows(self) -> list[SeatRow]:
        return [self._rows[s] for s in sorted(self._rows)]


def call_rows(calls: Iterable[CallResult]) -> list[SeatRow]:
    """Rows from calls alone (no records: no editors, no head-to-head pairs, no agreement)."""
    tally = CallTally()
    for call in calls:
        tally.add(call)
    return tally.rows()


def seats_in(runs: Path, since: date | None = None) -> list[SeatRow]:
    """``seats`` over the records in ``runs`` made on or after ``since`` (a UTC day)."""
    found = iter_records(runs, since=since)  # day folders before ``since`` are not opened
    return seats(r for _, r in found if since is None or r.created_at.date() >= since)


def as_json(row: SeatRow) -> dict[str, Any]:
    return {**asdict(row), "valid_share": row.valid_share, "editor_agreement": row.editor_agreement}


def _count(row: SeatRow, call: CallResult) -> None:
    row.calls += 1
    row.cached_tokens += call.cached_tokens
    outcome: str = call.outcome  # a str: the evidence work adds "abstained"
    if outcome == "valid":
        row.valid += 1
        row.verdicts += call.kind == "verdict"
    elif outcome == "recused":
        row.recused += 1
    elif outcome == "abstained":
        row.abstained += 1
    else:
        reason = _failure(call)
        row.failures[reason] = row.failures.get(reason, 0) + 1
    if row.cost_usd is not None:
        row.cost_usd = None if call.cost_usd is None else row.cost_usd + call.cost_usd


def _editors(record: ComparisonRecord, reviewed: dict[tuple[str, str, str], list[int]]) -> None:
    """Count, per seat, the verdicts and records an editor has acted on in ``record``."""
    editorial = record.editorial
    if not editorial.history:
        return  # nobody has looked at it: neither agreement nor disagreement
    in_record: set[tuple[str, str, str]] = set()
    for call in record.calls:
        seat = _seat(call)
        in_record.add(seat)
        if call.kind != "verdict" or not call.ok or call.verdict is None:
            continue
        counts = reviewed[seat]
        counts[0] += 1
        override = editorial.override_for(call.persona, call.tool)
        counts[1] += override is not None and override.verdict != call.verdict
    for seat in in_record:
        reviewed[seat][2] += 1
        reviewed[seat][3] += editorial.status == "rejected"


def _agreement(
    seat: tuple[str, str, str], latest: dict[tuple[str, str, str], dict[str, str]]
) -> Kappa:
    mine = latest.get(seat, {})
    pairs = [
        (verdict, theirs[tool])
        for other, theirs in sorted(latest.items())
        if other != seat and other[2] == seat[2]
        for tool, verdict in sorted(mine.items())
        if tool in theirs
    ]
    return cohen_kappa(pairs)


@dataclass(frozen=True)
class Thresholds:
    """``[panel]``'s seat thresholds; None: not checked."""

    min_valid_share: float | None = 0.8
    max_overridden_share: float | None = None
    min_calls: int = 10  # fewer calls than this: too few to judge a seat by


def below(rows: Iterable[SeatRow], limits: Thresholds) -> list[str]:
    """One line per seat whose numbers fall below ``limits``, for the nightly summary."""
    lines = []
    for row in rows:
        if row.calls < limits.min_calls:
            continue
        name = f"{row.provider} as {row.persona}"
        share = row.valid_share
        minimum = limits.min_valid_share
        if minimum is not None and share is not None and share < minimum:
            lines.append(
                f"seat {name}: {row.valid} of {row.calls} calls valid ({share:.0%}), "
                f"under seat_min_valid_share {minimum:.0%}"
            )
        over = row.overridden
        most = limits.max_overridden_share
        if most is not None and over.share is not None and over.share > most:
            lines.append(
                f"seat {name}: editors overrode {over.k} of {over.n} verdicts "
                f"({over.share:.0%}), over seat_max_overridden_share {most:.0%}"
            )
    return lines


def seat_warnings(
    runs: Path,
    panel: PanelSection,
    today: date,
    tonight: Mapping[str, CallResult] | CallTally,
) -> list[str]:
    """The nightly's lines: seats under ``[panel]``'s thresholds.

    The valid share is tonight's (``tonight``: the calls this run answered, by key or
    already counted in a ``CallTally``, so a night reads no extra file for it); the
    overridden share, which editors make later, is the last ``seat_window_days`` of
    records', and only read when a threshold asks for it.
    """
    lines = below(
        tonight.rows() if isinstance(tonight, CallTally) else call_rows(tonight.values()),
        Thresholds(min_valid_share=panel.seat_min_valid_share, min_calls=panel.seat_min_calls),
    )
    most = panel.seat_max_overridden_share
    if most is not None:
        since = today - timedelta(days=panel.seat_window_days - 1)
        limits = Thresholds(None, most, panel.seat_min_calls)
        lines += below(seats_in(runs, since), limits)
    return lines
