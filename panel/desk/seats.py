"""The desk's seats page (``GET /seats``): `panel seats` as a table, and its plot.

The plot is inline SVG drawn here (no script, no image file): one point per seat, its cost
per valid verdict across, its agreement with editors (1 - the share of its verdicts editors
overrode) up, so the seats worth their cost sit top left. Seats missing either number (no
price, or no verdict an editor acted on) are named under the plot instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from panel.desk.app import Desk
from panel.desk.auth import Session
from panel.scoring.seats import Proportion, SeatRow, seats_in

WIDTH, HEIGHT, MARGIN = 560, 320, 56


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    title: str


@dataclass(frozen=True)
class Plot:
    points: list[Point]
    unplotted: list[str]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    margin: int = MARGIN


def name(row: SeatRow) -> str:
    return f"{row.provider} as {row.persona}"


def proportion(p: Proportion) -> str:
    """``3/4 75% [30–95%]``, or ``0/0``."""
    if p.share is None or p.low is None or p.high is None:
        return f"{p.k}/{p.n}"
    return f"{p.k}/{p.n} {p.share:.0%} [{p.low:.0%}–{p.high:.0%}]"


def plot(rows: list[SeatRow]) -> Plot:
    """Cost per valid verdict against agreement with editors, one point per seat."""
    known = [
        r for r in rows if r.cost_per_valid_verdict is not None and r.editor_agreement is not None
    ]
    unplotted = [name(r) for r in rows if r not in known]
    top = max((r.cost_per_valid_verdict or 0.0 for r in known), default=0.0) or 1e-6
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def x(cost: float) -> float:
        return round(MARGIN + inner_w * cost / top, 1)

    def y(share: float) -> float:
        return round(HEIGHT - MARGIN - inner_h * share, 1)

    points = [
        Point(
            x(r.cost_per_valid_verdict or 0.0),
            y(r.editor_agreement or 0.0),
            name(r),
            f"{name(r)}: ${r.cost_per_valid_verdict or 0:.6f} per valid verdict, editors "
            f"let {r.overridden.n - r.overridden.k} of {r.overridden.n} verdicts stand",
        )
        for r in known
    ]
    x_ticks = [(x(top * f), f"${top * f:.6f}") for f in (0.0, 0.5, 1.0)]
    y_ticks = [(y(f), f"{f:.0%}") for f in (0.0, 0.5, 1.0)]
    return Plot(points, unplotted, x_ticks, y_ticks)


async def seats_page(desk: Desk, request: Request, session: Session) -> Response:
    raw = request.query_params.get("since", "")
    notices = []
    since = None
    if raw:
        try:
            since = date.fromisoformat(raw)
        except ValueError:
            notices.append(f"{raw!r} is not a date (YYYY-MM-DD): showing every record")
    rows = await run_in_threadpool(seats_in, desk.settings.home.runs, since)
    return desk.render(
        request,
        session,
        "seats.html.j2",
        rows=rows,
        since=since,
        notices=notices,
        plot=plot(rows),
        name=name,
        proportion=proportion,
    )
