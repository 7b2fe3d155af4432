"""One calendar, in UTC, on any date and in any time zone (issue 25; issue 31 item 14).

Each test sets panel's clock (``wall_clock``, tests/conftest.py) to the moment it is about:
year end, ISO week 53, 29 February, a week across two months, a run across midnight. The
time-zone tests set TZ for the process (``time.tzset``), as ``TZ=Pacific/Kiritimati`` would.
"""

from __future__ import annotations

import contextlib
import locale
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel import clock
from panel.cli import app
from panel.paths import Home
from panel.publish.digest import Week
from panel.records.editorial import approve
from panel.records.io import read_record
from panel.records.store import Store
from tests.support import scripted
from tests.support.calls import failed
from tests.support.clock import TickingClock
from tests.support.records import save_record, tool

runner = CliRunner()
A, B = tool("alpha-tool"), tool("beta-tool")
NOON_UTC = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # 2026-12-05 02:00 in Kiritimati (UTC+14)


@pytest.fixture
def kiritimati(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is UTC+14, a day ahead of UTC for ten hours a day."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_clock_is_aware_utc_and_today_is_the_utc_date(
    wall_clock: TickingClock, kiritimati: None
) -> None:
    wall_clock.set(NOON_UTC)
    assert datetime.fromtimestamp(NOON_UTC.timestamp()).date() == date(2026, 12, 5)  # local
    assert clock.now().tzinfo is UTC
    assert clock.today() == date(2026, 12, 4)
    assert abs(clock.timestamp() - NOON_UTC.timestamp()) < 60


def test_a_naive_clock_source_is_refused() -> None:
    previous = clock.use(lambda: datetime(2026, 12, 4, 12, 0))
    try:
        with pytest.raises(ValueError, match="aware"):
            clock.now()
    finally:
        clock.use(previous)


def test_a_review_east_of_utc_is_filed_under_its_utc_day(
    home: Home,
    wall_clock: TickingClock,
    kiritimati: None,
    scripted_kind: dict[str, scripted.Script],
) -> None:
    """Was: runs/2026-12-05/ (the local date) with created_at 2026-12-04 (UTC)."""
    wall_clock.set(NOON_UTC)
    result = runner.invoke(app, ["review", "alpha-tool", "beta-tool", "-p", "scripted/m"])
    assert result.exit_code == 0, result.output
    path = home.runs / Path(result.stdout.split("record: ")[1].split()[0]).relative_to(home.runs)
    assert path.parent.name == "2026-12-04"
    assert read_record(path).created_at.date() == date(2026, 12, 4)
    assert not (home.runs / "2026-12-05").exists()


def _failed_nights(store: Store, *moments: datetime, wall_clock: TickingClock) -> int:
    for moment in moments:
        wall_clock.set(moment)
        store.finish(failed("dx", "alpha-tool"))
    return store.failed_before(failed("dx", "alpha-tool").key).nights


def test_a_run_that_crosses_midnight_fails_on_two_nights(
    tmp_path: Path, wall_clock: TickingClock
) -> None:
    store = Store(tmp_path / "panel.db")
    before = datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)
    nights = _failed_nights(
        store, before, before + timedelta(seconds=4), wall_clock=wall_clock
    )  # 2027-01-01 00:00:02
    store.close()
    assert nights == 2


def test_failure_nights_are_utc_days_east_of_utc(
    tmp_path: Path, wall_clock: TickingClock, kiritimati: None
) -> None:
    """09:00 and 11:00 UTC are 23:00 and 01:00 the next day in Kiritimati: one UTC night."""
    store = Store(tmp_path / "panel.db")
    morning = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    nights = _failed_nights(store, morning, morning + timedelta(hours=2), wall_clock=wall_clock)
    store.close()
    assert nights == 1


@pytest.mark.parametrize(
    ("approved", "label", "start"),
    [
        # 2026 has an ISO week 53: 2026-12-28 to 2027-01-03, across the year end.
        (datetime(2027, 1, 2, 18, tzinfo=UTC), "2026-W53", date(2026, 12, 28)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "2026-W53", date(2026, 12, 28)),
        # 29 February 2028 is a Tuesday of 2028-W09.
        (datetime(2028, 2, 29, 12, tzinfo=UTC), "2028-W09", date(2028, 2, 28)),
        # 2026-W49 spans November and December.
        (datetime(2026, 11, 30, 0, 0, tzinfo=UTC), "2026-W49", date(2026, 11, 30)),
        (datetime(2026, 12, 6, 23, 59, tzinfo=UTC), "2026-W49", date(2026, 11, 30)),
    ],
)
def test_the_digest_finds_a_record_in_the_iso_week_it_was_approved(
    home: Home,
    tmp_path: Path,
    wall_clock: TickingClock,
    approved: datetime,
    label: str,
    start: date,
) -> None:
    wall_clock.set(approved + timedelta(days=1))  # the digest is made the day after
    assert Week.parse(label).start == start
    path = save_record(home.runs, A, B, created=approved - timedelta(hours=1))
    approve(home.runs, path, "ed", now=approved)
    result = runner.invoke(app, ["digest", "--week", label, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"digest {label}: 1 comparison\n" in result.stdout
    assert "Alpha Tool vs Beta Tool" in (tmp_path / f"{label}.md").read_text()
    neighbours = [start - timedelta(days=7), start + timedelta(days=7)]
    for monday in neighbours:
        other = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
        empty = runner.invoke(app, ["digest", "--week", other, "--out", str(tmp_path)])
        assert empty.exit_code == 3, (other, empty.output)


def test_2027_has_no_week_53() -> None:
    with pytest.raises(Exception, match="has no week 53"):
        Week.parse("2027-W53")


def test_the_digest_names_months_in_english_whatever_the_locale(
    home: Home, tmp_path: Path, wall_clock: TickingClock
) -> None:
    wall_clock.set(datetime(2027, 1, 4, 9, tzinfo=UTC))
    path = save_record(home.runs, A, B, created=datetime(2026, 12, 30, 9, tzinfo=UTC))
    approve(home.runs, path, "ed", now=datetime(2026, 12, 30, 10, tzinfo=UTC))
    saved = locale.setlocale(locale.LC_TIME)
    try:
        # Where no German locale is installed, the check below still pins the English names.
        with contextlib.suppress(locale.Error):
            locale.setlocale(locale.LC_TIME, "de_DE.UTF-8")
        result = runner.invoke(app, ["digest", "--week", "2026-W53", "--out", str(tmp_path)])
    finally:
        locale.setlocale(locale.LC_TIME, saved)
    assert result.exit_code == 0, result.output
    assert "Week 53, 2026: 28 Dec to 03 Jan 2027" in (tmp_path / "2026-W53.md").read_text()


# What reads the wall clock, the time zone or the locale's calendar: only panel/clock.py.
WALL_CLOCK = re.compile(
    r"\b(?:time\.(?:time|localtime|gmtime|strftime|ctime)|datetime\.(?:now|utcnow|today)|"
    r"date\.today)\(|\.astimezone\(\)|fromtimestamp\((?:[^(),]|\([^()]*\))*\)"
)


def test_only_panel_clock_reads_the_wall_clock() -> None:
    root = Path(__file__).resolve().parents[1] / "panel"
    hits = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "clock.py" or path.parent != root
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert hits == [], "read the time through panel.clock (one calendar, UTC):\n" + "\n".join(hits)
