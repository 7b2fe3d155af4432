"""Calibration on synthetic records whose answer is known by construction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.paths import Home
from panel.records.store import Store
from panel.scoring.calibrate import calibrate, pearson, points
from tests.support.records import save_record, tool

runner = CliRunner()
PERSONAS = ("dx", "competitive", "futurist", "business")
K = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]  # ships out of 4 personas, per tool


def build(home: Home, ks: list[int], dx_always_ships: bool = False) -> dict[str, int]:
    """Records where tool i gets k_i ship verdicts of 4; returns slug -> k."""
    slugs = [f"tool-{i:02d}" for i in range(len(ks))]
    wanted = dict(zip(slugs, ks, strict=True))

    def verdict(persona: str, slug: str, provider: str) -> str:
        if dx_always_ships and persona == "dx":
            return "ship"
        rank = PERSONAS.index(persona) - (1 if dx_always_ships else 0)
        return "ship" if rank < wanted[slug] - (1 if dx_always_ships else 0) else "skip"

    for a, b in zip(slugs[::2], slugs[1::2], strict=True):
        save_record(home.runs, tool(a), tool(b), verdict=verdict)
    return wanted


def vote(home: Home, counts: dict[str, tuple[int, int]]) -> None:
    store = Store.open(home.runs)
    store.set_votes([(s, ship, skip) for s, (ship, skip) in counts.items()], "test")
    store.close()


def test_panel_matching_the_community_is_perfectly_correlated_and_unbiased(home: Home) -> None:
    wanted = build(home, K)
    vote(home, {s: (k * 25, (4 - k) * 25) for s, k in wanted.items()})
    result = calibrate(points(home.runs, Store.open(home.runs).votes()))
    assert result.enough and len(result.points) == 10
    assert result.correlation == pytest.approx(1.0)
    assert result.bias == 0.0
    # Brier: ties (k=2) left out; k=0 -> 0, k=1 -> .0625, k=3 -> .0625, k=4 -> 0; twice each.
    assert result.brier_n == 8
    assert result.brier == pytest.approx(0.03125, abs=1e-4)
    assert set(result.persona_bias) == set(PERSONAS)
    bins = {round(b["predicted"], 2): b["observed"] for b in result.bins}
    assert bins == {0.0: 0.0, 0.25: 0.0, 0.75: 1.0, 1.0: 1.0}


def test_a_persona_that_always_ships_shows_its_bias(home: Home) -> None:
    ks = [1, 1, 2, 2, 3, 3, 4, 4, 1, 2]
    wanted = build(home, ks, dx_always_ships=True)
    community = {s: (k * 10, (4 - k) * 10) for s, k in wanted.items()}
    vote(home, community)
    result = calibrate(points(home.runs, Store.open(home.runs).votes()))
    shares = [k / 4 for k in ks]
    # dx says ship (1.0) everywhere: its bias is mean(1 - community share).
    assert result.persona_bias["dx"] == pytest.approx(sum(1 - s for s in shares) / 10, abs=1e-4)
    assert result.bias == pytest.approx(0.0, abs=1e-4)  # the panel as a whole still matches


def test_anti_correlated_panel() -> None:
    assert pearson([0.0, 0.5, 1.0], [1.0, 0.5, 0.0]) == pytest.approx(-1.0)
    assert pearson([0.5, 0.5], [0.0, 1.0]) is None  # no variation: undefined


def test_too_few_voted_tools_says_so_instead_of_printing_noise(home: Home, tmp_path: Path) -> None:
    wanted = build(home, [1, 3, 2, 4])
    vote(home, {s: (k, 4 - k) for s, k in wanted.items()})
    result = runner.invoke(app, ["calibrate", "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 0
    assert "only 4 reviewed tool(s) have community votes" in result.stdout
    assert "correlation" not in result.stdout
    assert not (tmp_path / "p.png").exists()


def test_cli_reports_and_draws_the_plot(home: Home, tmp_path: Path) -> None:
    wanted = build(home, K)
    vote(home, {s: (k * 25, (4 - k) * 25) for s, k in wanted.items()})
    plot = tmp_path / "calibration.png"
    result = runner.invoke(app, ["calibrate", "--plot", str(plot), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["correlation"] == pytest.approx(1.0) and data["plot"] == str(plot)
    assert plot.read_bytes().startswith(b"\x89PNG")
    text = runner.invoke(app, ["calibrate", "--plot", str(plot)])
    assert "Brier score: 0.031" in text.stdout and "persona dx" in text.stdout
    bad = runner.invoke(app, ["calibrate", "--min", "1"])
    assert bad.exit_code == 2 and "too small" in bad.stderr
