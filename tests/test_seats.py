"""`panel seats` (issue 30): one row per seat, on records built here, every figure by hand.

Three records, two seats as dx (A = openai/gpt-4o-mini, B = mistral/mistral-small-latest)
and B as business:

- 2026-11-20 alpha vs beta, approved, an editor overrode dx on alpha to skip: A said ship
  (overridden), B said skip (not). Head-to-head: A picks alpha in both orders, B does not.
- 2026-11-22 gamma vs delta, rejected: A's gamma call timed out; B's delta answer was withheld
  (a leak flag); B as business is recused on gamma.
- 2026-11-25 alpha vs beta again, a draft nobody has acted on: A's alpha answer is the same
  call again (served from the cache: counted once), B answers alpha anew (skip).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from panel.cli import app
from panel.config import PanelSection
from panel.paths import Home
from panel.records.io import write_record
from panel.records.schema import (
    CallResult,
    ComparisonRecord,
    Editorial,
    EditorialEvent,
    Override,
    PanelInfo,
    Provenance,
)
from panel.scoring.aggregate import aggregate, totals
from panel.scoring.seats import (
    Proportion,
    Thresholds,
    below,
    cohen_kappa,
    seat_warnings,
    seats,
    wilson,
)
from panel.scoring.trust import head_to_head
from tests.support import calls as c
from tests.support.records import tool

A, B = "openai/gpt-4o-mini", "mistral/mistral-small-latest"
runner = CliRunner()


def _record(
    day: date, first: str, second: str, made: list[CallResult], editorial: Editorial
) -> ComparisonRecord:
    tools = [tool(first), tool(second)]
    personas = sorted({m.persona for m in made})
    created = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return ComparisonRecord(
        id=f"{day}/{first}-vs-{second}",
        created_at=created,
        status="complete",
        tools=tools,
        panel=PanelInfo(providers=[A, B], personas=personas),
        calls=made,
        scores=aggregate(tools, personas, made).model_copy(
            update={"head_to_head": head_to_head(made, tools)}
        ),
        totals=totals(made),
        provenance=Provenance(
            panel_version="test",
            templates={},
            personas={},
            catalog={},
            started_at=created,
            finished_at=created,
        ),
        editorial=editorial,
    )


def _event(action: str, day: int) -> EditorialEvent:
    return EditorialEvent(action=action, by="alice", at=datetime(2026, 11, day, 13, tzinfo=UTC))  # type: ignore[arg-type]


def _records() -> list[ComparisonRecord]:
    a_alpha = c.ok(
        "dx",
        "alpha",
        "ship",
        A,
        key="a-alpha",
        cost_usd=0.001,
        latency_ms=100.0,
        cached_tokens=1024,
    )
    first = [
        a_alpha,
        c.ok("dx", "beta", "ship", A, key="a-beta", cost_usd=0.001, latency_ms=300.0),
        c.ok("dx", "alpha", "skip", B, key="b-alpha-1", cost_usd=0.0005, latency_ms=200.0),
        c.ok("dx", "beta", "ship", B, key="b-beta", cost_usd=0.0005, latency_ms=200.0),
        c.h2h(
            "dx",
            A,
            "alpha",
            "beta",
            "alpha",
            key="a-h1",
            cost_usd=0.0002,
            latency_ms=100.0,
            attempts=1,
        ),
        c.h2h(
            "dx",
            A,
            "beta",
            "alpha",
            "alpha",
            key="a-h2",
            cost_usd=0.0002,
            latency_ms=100.0,
            attempts=1,
        ),
        c.h2h(
            "dx",
            B,
            "alpha",
            "beta",
            "alpha",
            key="b-h1",
            cost_usd=0.0002,
            latency_ms=100.0,
            attempts=1,
        ),
        c.h2h(
            "dx",
            B,
            "beta",
            "alpha",
            "beta",
            key="b-h2",
            cost_usd=0.0002,
            latency_ms=100.0,
            attempts=1,
        ),
    ]
    override = Override(
        persona="dx",
        tool="alpha",
        verdict="skip",
        note="Not yet.",
        by="alice",
        at=datetime(2026, 11, 20, 13, tzinfo=UTC),
    )
    approved = Editorial(
        status="approved",
        overrides=[override],
        history=[_event("override", 20), _event("approved", 20)],
    )
    second = [
        c.failed(
            "dx",
            "gamma",
            A,
            key="a-gamma",
            cost_usd=0.0,
            latency_ms=50.0,
            failure={"reason": "timeout", "detail": "slow"},
        ),
        c.ok("dx", "delta", "ship", A, key="a-delta", cost_usd=0.001, latency_ms=100.0, attempts=1),
        c.ok("dx", "gamma", "ship", B, key="b-gamma", cost_usd=0.0005, latency_ms=200.0),
        c.ok(
            "dx",
            "delta",
            "ship",
            B,
            key="b-delta",
            cost_usd=0.0005,
            latency_ms=200.0,
            flags=["leak"],
        ),
        c.ok(
            "business",
            "gamma",
            "ship",
            B,
            key="b-biz",
            cost_usd=0.0005,
            latency_ms=200.0,
            recused=True,
            conflict=True,
        ),
    ]
    rejected = Editorial(status="rejected", history=[_event("rejected", 22)])
    third = [
        a_alpha.model_copy(update={"cached": True, "latency_ms": 0.0}),
        c.ok("dx", "alpha", "skip", B, key="b-alpha-2", cost_usd=0.0005, latency_ms=400.0),
    ]
    return [
        _record(date(2026, 11, 20), "alpha", "beta", first, approved),
        _record(date(2026, 11, 22), "gamma", "delta", second, rejected),
        _record(date(2026, 11, 25), "alpha", "beta", third, Editorial()),
    ]


def test_every_figure_of_every_seat_by_hand() -> None:
    rows = {(r.provider, r.persona): r for r in seats(_records())}
    assert sorted(rows) == [(B, "business"), (B, "dx"), (A, "dx")]
    a = rows[(A, "dx")]
    # a-alpha, a-beta, two head-to-head, a-gamma, a-delta; the draft's a-alpha is the same call
    assert (a.calls, a.valid, a.verdicts, a.recused, a.abstained) == (6, 5, 3, 0, 0)
    assert a.failures == {"timeout": 1} and a.valid_share == pytest.approx(5 / 6)
    assert a.mean_latency_ms == (100 + 300 + 100 + 100 + 50 + 100) / 6  # 125.0
    assert a.cost_usd == pytest.approx(0.001 + 0.001 + 0.0002 + 0.0002 + 0.0 + 0.001)
    assert a.cost_per_valid_verdict == pytest.approx(0.0034 / 3, abs=1e-8)
    assert a.cached_tokens == 1024
    assert (a.order.k, a.order.n) == (1, 1)  # alpha in both orders
    # its newest verdicts: alpha ship, beta ship, delta ship; B's: alpha skip (the draft),
    # beta ship, gamma ship. Pairs on alpha and beta: (ship, skip), (ship, ship):
    # observed 1/2, expected (2x1 + 0x1)/4 = 1/2, kappa 0
    assert (a.agreement.value, a.agreement.pairs) == (0.0, 2)
    # acted on: alpha and beta (approved, alpha overridden to skip), delta (rejected)
    assert (a.overridden.k, a.overridden.n) == (1, 3)
    assert (a.overridden.low, a.overridden.high) == pytest.approx((0.0615, 0.7923), abs=1e-4)
    assert (a.rejected.k, a.rejected.n) == (1, 2)
    assert (a.rejected.low, a.rejected.high) == pytest.approx((0.0945, 0.9055), abs=1e-4)
    assert a.editor_agreement == pytest.approx(2 / 3)

    b = rows[(B, "dx")]
    assert (b.calls, b.valid, b.verdicts, b.failures) == (7, 6, 4, {"withheld": 1})
    assert b.mean_latency_ms == (200 + 200 + 100 + 100 + 200 + 200 + 400) / 7  # 200.0
    assert b.cost_per_valid_verdict == pytest.approx(
        (0.0005 + 0.0005 + 0.0002 + 0.0002 + 0.0005 + 0.0005 + 0.0005) / 4, abs=1e-8
    )
    assert (b.order.k, b.order.n) == (0, 1)
    assert (b.order.low, b.order.high) == pytest.approx((0.0, 0.7935), abs=1e-4)
    assert (b.agreement.value, b.agreement.pairs) == (0.0, 2)
    assert (b.overridden.k, b.overridden.n) == (0, 3)  # the editor's skip on alpha was B's
    assert (b.rejected.k, b.rejected.n) == (1, 2)

    biz = rows[(B, "business")]
    assert (biz.calls, biz.valid, biz.recused, biz.verdicts) == (1, 0, 1, 0)
    assert biz.cost_per_valid_verdict is None  # no valid verdict to divide by
    assert (biz.overridden.n, biz.overridden.share) == (0, None)
    assert (biz.rejected.k, biz.rejected.n) == (1, 1)
    assert biz.agreement.value is None and biz.agreement.pairs == 0


def test_the_wilson_interval_at_its_boundaries() -> None:
    assert wilson(0, 0) is None
    assert Proportion.of(0, 0) == Proportion(0, 0, None, None, None)
    low, high = wilson(0, 10) or (None, None)
    assert low == 0.0 and high == pytest.approx(1.96**2 / (10 + 1.96**2), abs=1e-4)  # 0.2775
    low, high = wilson(10, 10) or (None, None)
    assert high == 1.0 and low == pytest.approx(10 / (10 + 1.96**2), abs=1e-4)  # 0.7225
    low, high = wilson(1, 1) or (None, None)
    assert (low, high) == (pytest.approx(0.2065, abs=1e-4), 1.0)
    assert wilson(3, 4) == pytest.approx((0.3006, 0.9544), abs=1e-4)  # 3 of 4 is not 75% sure
    with pytest.raises(ValueError, match="5 of 4"):
        wilson(5, 4)


def test_cohens_kappa_by_hand() -> None:
    pairs = [("ship", "ship"), ("ship", "ship"), ("skip", "skip"), ("ship", "skip")]
    # observed 3/4; expected (3x2 + 1x2)/16 = 1/2; kappa (3/4 - 1/2) / (1/2) = 1/2
    assert cohen_kappa(pairs).value == 0.5 and cohen_kappa(pairs).pairs == 4
    assert cohen_kappa([("ship", "ship")] * 3).value is None  # no variation
    assert cohen_kappa([]).pairs == 0


def test_panel_seats_on_a_store_of_records(home: Home) -> None:
    for record in _records():
        day = record.created_at.date()
        name = record.id.split("/")[1]
        write_record(home.runs, day, name, lambda rid, r=record: r.model_copy(update={"id": rid}))
    result = runner.invoke(app, ["seats", "--json"])
    assert result.exit_code == 0, result.output
    rows = {(r["provider"], r["persona"]): r for r in json.loads(result.stdout)}
    a = rows[(A, "dx")]
    assert (a["calls"], a["valid"], a["failures"], a["overridden"]["k"], a["overridden"]["n"]) == (
        6,
        5,
        {"timeout": 1},
        1,
        3,
    )
    assert a["valid_share"] == pytest.approx(5 / 6)
    # since 22 November: the rejected record and the draft. A's alpha answer is first seen in
    # the draft now (served from the cache there: counted, its latency not)
    since = json.loads(runner.invoke(app, ["seats", "--since", "2026-11-22", "--json"]).stdout)
    a = {(r["provider"], r["persona"]): r for r in since}[(A, "dx")]
    assert (a["calls"], a["valid"], a["mean_latency_ms"]) == (3, 2, 75.0)
    assert (a["overridden"]["k"], a["overridden"]["n"], a["rejected"]["k"]) == (0, 1, 1)
    table = runner.invoke(app, ["seats"]).stdout
    assert "openai/gpt-4o-mini (m) as dx" in table and "1/3 33% [6%-79%]" in table
    assert "unknown" not in table  # B as business has no valid verdict: "-", not "unknown"
    bad = runner.invoke(app, ["seats", "--since", "last week"])
    assert bad.exit_code == 2 and "use YYYY-MM-DD" in bad.output


def test_seats_below_the_thresholds_are_named() -> None:
    rows = seats(_records())
    assert below(rows, Thresholds(min_valid_share=0.8, min_calls=5)) == []  # 5/6 and 6/7
    lines = below(rows, Thresholds(min_valid_share=0.9, max_overridden_share=0.3, min_calls=5))
    assert lines == [
        f"seat {B} as dx: 6 of 7 calls valid (86%), under seat_min_valid_share 90%",
        f"seat {A} as dx: 5 of 6 calls valid (83%), under seat_min_valid_share 90%",
        f"seat {A} as dx: editors overrode 1 of 3 verdicts (33%), over "
        "seat_max_overridden_share 30%",
    ]
    assert below(rows, Thresholds(min_valid_share=0.99)) == []  # under 10 calls: not judged


def test_the_nightly_names_seats_under_the_panel_thresholds(home: Home) -> None:
    records = _records()
    for record in records:
        name = record.id.split("/")[1]
        write_record(
            home.runs, record.created_at.date(), name,
            lambda rid, r=record: r.model_copy(update={"id": rid}),
        )  # fmt: skip
    tonight = {c.key: c for record in records for c in record.calls}  # A's alpha: once
    today = date(2026, 11, 26)
    strict = PanelSection(seat_min_valid_share=0.85, seat_min_calls=5)
    assert seat_warnings(home.runs, strict, today, tonight) == [
        f"seat {A} as dx: 5 of 6 calls valid (83%), under seat_min_valid_share 85%"
    ]
    assert (
        seat_warnings(home.runs, strict, today, dict(list(tonight.items())[:3])) == []
    )  # too few to judge
    editors = PanelSection(
        seat_min_valid_share=None, seat_max_overridden_share=0.3, seat_min_calls=5
    )
    assert seat_warnings(home.runs, editors, today, {}) == [
        f"seat {A} as dx: editors overrode 1 of 3 verdicts (33%), over "
        "seat_max_overridden_share 30%"
    ]
    # the last 5 days (since 22 November): A has 3 calls there, too few to judge
    recent = editors.model_copy(update={"seat_window_days": 5})
    assert seat_warnings(home.runs, recent, today, {}) == []
    off = PanelSection(seat_min_valid_share=None, seat_min_calls=1)
    assert seat_warnings(home.runs, off, today, tonight) == []


def test_the_desk_shows_the_seats_table_and_plot(home: Home) -> None:
    from tests.support.desk import client

    for record in _records():
        name = record.id.split("/")[1]
        write_record(
            home.runs, record.created_at.date(), name,
            lambda rid, r=record: r.model_copy(update={"id": rid}),
        )  # fmt: skip
    desk = client(home)
    html = desk.get("/seats").text
    assert '<a href="/seats">Seats</a>' in html
    assert 'openai/gpt-4o-mini <span class="quiet">(m)</span> as dx' in html
    assert "1/3 33% [6%–79%]" in html and "timeout 1" in html and "withheld 1" in html
    # two points (A and B as dx); B as business has no valid verdict: not plotted
    assert html.count('<g class="seat-point">') == 2
    assert "Not plotted (no price, or no verdict an editor acted on): " in html
    assert f"{B} as business" in html and "<script" not in html
    # A: $0.001133 per valid verdict (the most: right edge), 2 of 3 verdicts stand
    assert re.search(r'<circle cx="504.0" cy="125.3" r="5"', html)
    later = desk.get("/seats?since=2026-11-26").text
    assert "No records since 2026-11-26" in later
    assert "is not a date" in desk.get("/seats?since=soon").text


@given(st.integers(0, 500), st.integers(0, 500))
def test_the_wilson_interval_holds_its_share(k: int, extra: int) -> None:
    n = k + extra
    interval = wilson(k, n)
    if n == 0:
        assert interval is None
        return
    assert interval is not None
    low, high = interval
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert (low == 0.0) is (k == 0) and (high == 1.0) is (k == n)
