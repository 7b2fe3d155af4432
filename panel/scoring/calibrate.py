"""`panel calibrate`: does the panel's ship % track what the community votes?

One point per tool that has community votes: the panel's ship share for it (from
the newest record reviewing it that was not rejected) against the community's
ship share. Reported:

- **correlation**: Pearson's r between panel and community ship shares;
- **Brier score**: mean of (panel share - outcome)^2, the outcome being 1 when
  the community majority ships and 0 when it skips (ties left out); 0 is perfect,
  0.25 is what always answering 50% scores;
- **bias**: mean of (panel share - community share), overall, per persona and per
  provider (positive: the panel ships more readily than the community);
- a reliability plot (PNG): panel share in bins against how often the community
  majority shipped, with the diagonal of perfect calibration.

With fewer than ``minimum`` voted tools it says so and reports nothing else:
a handful of points gives noise, not calibration.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

from panel.errors import PanelError
from panel.records.io import iter_records
from panel.records.publication import newest_reviews, standing
from panel.records.schema import ComparisonRecord

MINIMUM = 10
BINS = 5


@dataclass(frozen=True)
class Point:
    tool: str
    record: str
    panel: float  # panel ship share, 0..1
    community: float  # community ship share, 0..1
    votes: int
    personas: dict[str, float]  # persona -> its ship share for this tool
    providers: dict[str, float]  # provider -> its ship share for this tool


@dataclass
class Calibration:
    points: list[Point]
    minimum: int
    enough: bool
    correlation: float | None = None
    brier: float | None = None
    brier_n: int = 0
    bias: float | None = None
    persona_bias: dict[str, float] = field(default_factory=dict)
    provider_bias: dict[str, float] = field(default_factory=dict)
    bins: list[dict[str, float | int]] = field(default_factory=list)

    @property
    def message(self) -> str:
        if not self.enough:
            return (
                f"only {len(self.points)} reviewed tool(s) have community votes; calibration "
                f"needs at least {self.minimum} to say anything (import more with "
                "`panel votes import`)"
            )
        return f"calibrated on {len(self.points)} tools with community votes"


def _share(verdicts: list[str]) -> float | None:
    return sum(v == "ship" for v in verdicts) / len(verdicts) if verdicts else None


def _point(record: ComparisonRecord, slug: str, ship: int, skip: int) -> Point | None:
    score = next((s for s in record.scores.tools if s.tool == slug), None)
    if score is None or score.ship_pct is None or ship + skip == 0:
        return None
    by_persona: dict[str, list[str]] = defaultdict(list)
    by_provider: dict[str, list[str]] = defaultdict(list)
    for call in record.calls:
        if call.kind == "verdict" and call.tool == slug and call.ok and call.verdict:
            by_persona[call.persona].append(call.verdict)
            by_provider[call.provider].append(call.verdict)
    return Point(
        tool=slug,
        record=record.id,
        panel=score.ship_pct / 100,
        community=ship / (ship + skip),
        votes=ship + skip,
        personas={p: s for p, v in by_persona.items() if (s := _share(v)) is not None},
        providers={p: s for p, v in by_provider.items() if (s := _share(v)) is not None},
    )


def points(runs: Path, votes: dict[str, tuple[int, int]]) -> list[Point]:
    """One point per voted tool, from the newest record reviewing it that is not rejected."""
    newest = newest_reviews((standing(record), record) for _, record in iter_records(runs))
    found = []
    for slug, record in sorted(newest.items()):
        if slug in votes and (point := _point(record, slug, *votes[slug])) is not None:
            found.append(point)
    return found


def pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = mean(xs), mean(ys)
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    if sx == 0 or sy == 0:
        return None  # no variation: undefined
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (sx * sy)


def _bias(pairs: list[tuple[float, float]]) -> float:
    return round(mean(p - c for p, c in pairs), 4)


def calibrate(found: list[Point], minimum: int = MINIMUM) -> Calibration:
    if minimum < 2:
        raise PanelError(f"--min {minimum} is too small; calibration needs at least 2 tools")
    result = Calibration(points=found, minimum=minimum, enough=len(found) >= minimum)
    if not result.enough:
        return result
    r = pearson([p.panel for p in found], [p.community for p in found])
    result.correlation = None if r is None else round(r, 4)
    decided = [(p.panel, 1.0 if p.community > 0.5 else 0.0) for p in found if p.community != 0.5]
    result.brier_n = len(decided)
    result.brier = round(mean((f - o) ** 2 for f, o in decided), 4) if decided else None
    result.bias = _bias([(p.panel, p.community) for p in found])
    per_persona: dict[str, list[tuple[float, float]]] = defaultdict(list)
    per_provider: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for p in found:
        for name, share in p.personas.items():
            per_persona[name].append((share, p.community))
        for name, share in p.providers.items():
            per_provider[name].append((share, p.community))
    result.persona_bias = {k: _bias(v) for k, v in sorted(per_persona.items())}
    result.provider_bias = {k: _bias(v) for k, v in sorted(per_provider.items())}
    for i in range(BINS):
        low, high = i / BINS, (i + 1) / BINS
        inside = [(f, o) for f, o in decided if low <= f < high or (i == BINS - 1 and f == 1.0)]
        if inside:
            result.bins.append(
                {
                    "low": low,
                    "high": high,
                    "n": len(inside),
                    "predicted": round(mean(f for f, _ in inside), 4),
                    "observed": round(mean(o for _, o in inside), 4),
                }
            )
    return result


def plot(result: Calibration, path: Path) -> Path:  # pragma: no mutate block (drawing)
    """The reliability diagram and the scatter, as a PNG for editors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    left.plot([0, 1], [0, 1], linestyle="--", color="#999999", label="perfect calibration")
    if result.bins:
        left.plot(
            [b["predicted"] for b in result.bins],
            [b["observed"] for b in result.bins],
            marker="o",
            color="#17663a",
            label="panel",
        )
        for b in result.bins:
            left.annotate(f"n={b['n']}", (b["predicted"], b["observed"]), fontsize=8)
    left.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="panel ship share",
        ylabel="share of tools the community majority ships",
        title=f"Reliability (Brier {result.brier})",
    )
    left.legend(loc="upper left")
    right.scatter([p.panel for p in result.points], [p.community for p in result.points])
    right.plot([0, 1], [0, 1], linestyle="--", color="#999999")
    right.set(
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
        xlabel="panel ship share",
        ylabel="community ship share",
        title=f"Panel vs community (r = {result.correlation})",
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure)
    tmp.replace(path)
    return path
