"""Rule mutants: each scoring rule the mutation issue names, reversed by hand.

mutmut mutates function bodies only. It leaves module constants (the agreement
thresholds), class bodies (the head-to-head answer's limits) and swaps it has no
operator for (max -> min, any -> all) alone. benchmarks/mutation_rules.toml lists those
rules as source edits, each with the tests that must fail once the rule is reversed.
Each edit is applied to a copy of the project, never to the working tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

# Each scoring module and its file: the numbers on the page come from these five.
MODULE_PATHS = {
    "aggregate": "panel/scoring/aggregate.py",
    "trust": "panel/scoring/trust.py",
    "agreement": "panel/scoring/agreement.py",
    "calibrate": "panel/scoring/calibrate.py",
    "headtohead": "panel/pipeline/headtohead.py",
}

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "benchmarks" / "mutation_rules.toml"
# What the tests need from the project besides the code.
COPY = ("panel", "tests", "personas", "prompts", "catalog", "pyproject.toml")
PYTEST = ["-m", "pytest", "-q", "-x", "-m", "not e2e"]


@dataclass(frozen=True)
class Rule:
    id: str
    module: str
    rule: str
    find: str
    replace: str
    tests: list[str]


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    killed: bool
    detail: str


def load(path: Path = RULES) -> list[Rule]:
    data = tomllib.loads(path.read_text())
    rules = [Rule(**entry) for entry in data["rule"]]
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SystemExit(f"{path}: duplicate rule ids {duplicates}")
    return rules


def _copy_project(into: Path) -> None:
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
            shutil.copytree(source, into / name, ignore=ignore)
        else:
            shutil.copy2(source, into / name)


def _pytest(project: Path, tests: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *PYTEST, *tests],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _check_isolation(project: Path) -> None:
    """The copy, not the working tree's editable install, must be what the tests import."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    found = subprocess.run(
        [sys.executable, "-c", "import panel; print(panel.__file__)"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(project.resolve()):
        raise SystemExit(f"rule mutants: tests would import {found}, not the mutated copy")


def run(rules: list[Rule]) -> list[Outcome]:
    """Apply each rule's edit alone, run its tests; killed means they failed (exit 1)."""
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="panel-rule-mutants-") as tmp:
        project = Path(tmp)
        _copy_project(project)
        _check_isolation(project)
        all_tests = sorted({t for r in rules for t in r.tests})
        control = _pytest(project, all_tests)
        if control.returncode != 0:
            raise SystemExit(
                "rule mutants: the named tests fail on unmutated code:\n" + control.stdout[-2000:]
            )
        for rule in rules:
            target = project / MODULE_PATHS[rule.module]
            original = target.read_text()
            count = original.count(rule.find)
            if count != 1:
                outcomes.append(
                    Outcome(rule, False, f"stale: `find` occurs {count} times in {rule.module}")
                )
                continue
            target.write_text(original.replace(rule.find, rule.replace))
            try:
                result = _pytest(project, rule.tests)
            finally:
                target.write_text(original)
            if result.returncode == 1:
                outcomes.append(Outcome(rule, True, "killed"))
            elif result.returncode == 0:
                outcomes.append(Outcome(rule, False, "survived: the named tests still pass"))
            else:
                tail = (result.stdout + result.stderr).strip().splitlines()[-1:]
                outcomes.append(
                    Outcome(rule, False, f"error: pytest exit {result.returncode} {tail}")
                )
            mark = "killed  " if outcomes[-1].killed else "SURVIVED"
            print(f"  {mark} {rule.module}: {rule.id}", flush=True)
    return outcomes
