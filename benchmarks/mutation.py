"""`make mutation`: how well the fast tests pin the scoring rules down (issue 21).

1. mutmut (configured in pyproject.toml, [tool.mutmut]) mutates panel/scoring/aggregate.py,
   trust.py, agreement.py, calibrate.py and headtohead.py in a copy under mutants/ and
   runs the fast tests that cover each mutated function;
2. survivors judged equivalent (no test can tell them from the original) are read from
   benchmarks/mutation_equivalents.toml, each with its reason, and left out of the score;
3. the rule mutants of benchmarks/mutation_rules.toml (see benchmarks/mutation_rules.py)
   reverse each rule the issue names, including the ones mutmut cannot reach.

Writes benchmarks/results/mutation.json and exits 1 when a module scores under 90%, a rule
mutant survives, or an equivalent listed no longer matches a surviving mutant.

Usage: .venv/bin/python -m benchmarks.mutation [--workers 2] [--keep] [--no-rules]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import mutation_rules
from benchmarks.bench_runner import write_results

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
EQUIVALENTS = ROOT / "benchmarks" / "mutation_equivalents.toml"
MODULE_PATHS = mutation_rules.MODULE_PATHS
MODULES = tuple(MODULE_PATHS)
TARGET = 90.0
KILLED = {"killed", "timeout", "caught by type check"}


@dataclass(frozen=True)
class Mutant:
    name: str  # mutmut's name, e.g. panel.scoring.aggregate.x_score_tool__mutmut_12
    module: str
    function: str
    before: str  # the original line(s), whitespace collapsed
    after: str  # the mutated line(s)
    occurrence: int  # 1 unless the same edit appears more than once in the function
    status: str

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.module, self.function, self.before, self.after, self.occurrence)


def _squash(lines: list[str]) -> str:
    return " ".join(re.sub(r"\s+", " ", line.strip()) for line in lines if line.strip())


def _function(name: str) -> str:
    mangled = re.sub(r"__mutmut_\d+$", "", name.rpartition(".")[2])
    return mangled.removeprefix("x_").replace("ǁ", ".").strip(".")


def collect() -> list[Mutant]:
    """Every mutant mutmut made in the scoring modules, with its status and its edit."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    mutants = []
    for module in MODULES:
        meta = ROOT / "mutants" / f"{MODULE_PATHS[module]}.meta"
        if not meta.is_file():
            continue
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        seen: Counter[tuple[str, str, str]] = Counter()
        ordered = sorted(codes, key=lambda n: (_function(n), int(n.rpartition("_")[2])))
        for name in ordered:
            diff = get_diff_for_mutant(name, path=MODULE_PATHS[module]).splitlines()[2:]
            before = _squash([d[1:] for d in diff if d.startswith("-")])
            after = _squash([d[1:] for d in diff if d.startswith("+")])
            function = _function(name)
            seen[(function, before, after)] += 1
            status = status_by_exit_code[codes[name]]
            mutants.append(
                Mutant(
                    name, module, function, before, after, seen[(function, before, after)], status
                )
            )
    return mutants


def load_equivalents(path: Path = EQUIVALENTS) -> dict[tuple[str, str, str, str, int], str]:
    """(module, function, before, after, occurrence) -> the reason it is equivalent."""
    entries = tomllib.loads(path.read_text()).get("equivalent", [])
    judged = {}
    for entry in entries:
        key = (
            entry["module"],
            entry["function"],
            _squash([entry["before"]]),
            _squash([entry["after"]]),
            int(entry.get("occurrence", 1)),
        )
        if key in judged:
            raise SystemExit(f"{path}: listed twice: {key}")
        judged[key] = entry["reason"]
    return judged


def run_mutmut(workers: int, keep: bool) -> float:
    if not keep:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    (ROOT / "mutants").mkdir(exist_ok=True)
    log = ROOT / "mutants" / "mutmut-run.log"
    print(f"mutmut run --max-children {workers} (progress in {log.relative_to(ROOT)})", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(workers)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"mutmut failed (exit {done.returncode}); see {log}")
    return time.monotonic() - started


def score(
    mutants: list[Mutant], judged: dict[Any, str], rules: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    table = {}
    for module in MODULES:
        mine = [m for m in mutants if m.module == module]
        killed = sum(m.status in KILLED for m in mine)
        equivalent = sum(m.status not in KILLED and m.key in judged for m in mine)
        counted = len(mine) - equivalent
        reversed_rules = [r for r in rules if r["module"] == module]
        table[module] = {
            "mutants": len(mine),
            "killed": killed,
            "equivalent": equivalent,
            "survived": counted - killed,
            "score": round(100 * killed / counted, 1) if counted else None,
            "statuses": dict(Counter(m.status for m in mine)),
            "rule_mutants": len(reversed_rules),
            "rule_mutants_killed": sum(r["killed"] for r in reversed_rules),
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="mutmut --max-children")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ from the last run")
    parser.add_argument("--no-rules", action="store_true", help="skip the rule mutants")
    args = parser.parse_args()

    seconds = run_mutmut(args.workers, args.keep)
    mutants = collect()
    if any(m.status == "not checked" for m in mutants):
        raise SystemExit("mutmut left mutants unchecked; run again without --keep")
    judged = load_equivalents()
    survivors = [m for m in mutants if m.status not in KILLED]
    equivalents = [{**asdict(m), "reason": judged[m.key]} for m in survivors if m.key in judged]
    undecided = [asdict(m) for m in survivors if m.key not in judged]
    surviving_keys = {m.key for m in survivors}
    stale = [
        {"module": k[0], "function": k[1], "before": k[2], "after": k[3], "occurrence": k[4]}
        for k in judged
        if k not in surviving_keys
    ]

    rules: list[dict[str, Any]] = []
    if not args.no_rules:
        print("rule mutants (benchmarks/mutation_rules.toml)", flush=True)
        rules = [
            {**asdict(o.rule), "killed": o.killed, "outcome": o.detail}
            for o in mutation_rules.run(mutation_rules.load())
        ]
    table = score(mutants, judged, rules)

    write_results(
        RESULTS,
        tool=f"mutmut {version('mutmut')}",
        workers=args.workers,
        tests=tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"][
            "pytest_add_cli_args_test_selection"
        ],
        mutmut_seconds=round(seconds, 1),
        target=TARGET,
        modules=table,
        equivalents=equivalents,
        survivors=undecided,
        stale_equivalents=stale,
        rules=rules,
    )
    report(table, undecided, stale, rules)
    low = [m for m, row in table.items() if row["score"] is not None and row["score"] < TARGET]
    if low or stale or any(not r["killed"] for r in rules):
        sys.exit(1)


def report(
    table: dict[str, dict[str, Any]],
    undecided: list[dict[str, Any]],
    stale: list[dict[str, Any]],
    rules: list[dict[str, Any]],
) -> None:
    print(
        f"\n{'module':<12}{'mutants':>8}{'killed':>8}{'equiv':>7}{'survived':>9}{'score':>8}"
        f"{'rules killed':>14}"
    )
    for module, row in table.items():
        shown = "—" if row["score"] is None else f"{row['score']:.1f}%"
        ruled = f"{row['rule_mutants_killed']} of {row['rule_mutants']}"
        print(
            f"{module:<12}{row['mutants']:>8}{row['killed']:>8}{row['equivalent']:>7}"
            f"{row['survived']:>9}{shown:>8}{ruled:>14}"
        )
    for m in undecided:
        print(f"survived: {m['name']}: {m['before']!r} -> {m['after']!r}")
    for s in stale:
        print(f"stale equivalent (no surviving mutant matches it): {s}")
    if rules:
        killed = sum(r["killed"] for r in rules)
        print(f"rule mutants: {killed} of {len(rules)} killed")
        for r in rules:
            if not r["killed"]:
                print(f"  {r['id']}: {r['outcome']}")


if __name__ == "__main__":
    main()
