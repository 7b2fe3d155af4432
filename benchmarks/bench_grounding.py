"""The deterministic grounding check against hand-labelled quotes (issue 26, "Measured").

Cases (``benchmarks/grounding/cases.toml``) are reviewer quotes about invented tools, with
evidence snapshots (``sources.toml``) and labelled claims; see the head of cases.toml for the
labels. Each labelled claim is matched to the check's claims by span (any overlap; the worst
outcome wins); a labelled claim the check does not see counts as not flagged.

Goals: recall on contradicted and on uncited claims >= 95% (flagged: unsupported,
contradicted or unknown_source), false flags on supported claims <= 10%. Also reported:
flags on text no label covers (prose numbers), the quote-level confusion (publishable or
withheld) and every miss, so BENCHMARKS.md can say what fails and why.

Usage: .venv/bin/python -m benchmarks.bench_grounding [--quiet]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from benchmarks.bench_runner import write_results
from panel.evidence.grounding import Grounding, Outcome, check
from panel.evidence.pack import EvidencePack, EvidenceSource, SourceKind

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "grounding"
RESULTS = ROOT / "benchmarks" / "results" / "grounding.json"
FETCHED = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # when every snapshot was "fetched"
FLAGGED = frozenset({Outcome.UNSUPPORTED, Outcome.CONTRADICTED, Outcome.UNKNOWN_SOURCE})
Expect = Literal["supported", "contradicted", "unsupported", "uncited", "unknown_source"]
MIN_CASES = 60


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    kind: SourceKind
    url: str
    title: str
    text: str = Field(min_length=1)


class Label(_Strict):
    text: str = Field(min_length=1)
    expect: Expect


class Case(_Strict):
    id: str
    category: str
    sources: tuple[str, ...]
    cited: tuple[str, ...]
    quote: str = Field(min_length=20)
    claims: tuple[Label, ...]
    questions: tuple[str, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _labels_are_in_the_quote_once(self) -> Case:
        for label in self.claims:
            if self.quote.count(label.text) != 1:
                raise ValueError(f"{self.id}: {label.text!r} must occur once in the quote")
        return self

    @property
    def publishable(self) -> bool:
        return all(c.expect == "supported" for c in self.claims)

    def span(self, label: Label) -> tuple[int, int]:
        start = self.quote.index(label.text)
        return start, start + len(label.text)


SETS = {"development": "cases.toml", "held_out": "heldout.toml"}


def load(folder: Path = DATA) -> tuple[dict[str, list[Case]], dict[str, Source]]:
    """The cases of each set and their sources, validated: unknown fields, unknown sources,
    repeated ids and labels that are not in their quote are errors."""
    with (folder / "sources.toml").open("rb") as handle:
        sources = {k: Source.model_validate(v) for k, v in tomllib.load(handle).items()}
    sets = {}
    for name, file in SETS.items():
        with (folder / file).open("rb") as handle:
            sets[name] = [Case.model_validate(c) for c in tomllib.load(handle)["case"]]
    cases = [c for group in sets.values() for c in group]
    ids = Counter(c.id for c in cases)
    repeated = sorted(i for i, n in ids.items() if n > 1)
    if repeated:
        raise ValueError(f"repeated case ids: {repeated}")
    for case in cases:
        missing = [s for s in case.sources if s not in sources]
        if missing:
            raise ValueError(f"{case.id}: unknown sources {missing}")
    return sets, sources


def pack_for(case: Case, sources: dict[str, Source]) -> EvidencePack:
    snapshots = []
    for number, name in enumerate(case.sources, 1):
        s = sources[name]
        digest = hashlib.sha256(s.text.encode()).hexdigest()
        snapshots.append(
            EvidenceSource(f"S{number}", s.url, s.kind, s.title, FETCHED, digest, s.text)
        )
    return EvidencePack(case.id, tuple(snapshots))


def _predicted(result: Grounding, start: int, end: int) -> str:
    hits = [c.outcome for c in result.claims if c.start < end and start < c.end]
    if not hits:
        return "not_checked"
    flagged = [o for o in hits if o in FLAGGED]
    return (flagged[0] if flagged else Outcome.SUPPORTED).value


def _rate(hit: int, total: int) -> float | None:
    return round(hit / total, 4) if total else None


def evaluate(cases: list[Case], sources: dict[str, Source]) -> dict[str, Any]:
    confusion: Counter[tuple[str, str]] = Counter()
    misses: list[dict[str, str]] = []
    spurious: list[dict[str, str]] = []
    quotes: Counter[str] = Counter()
    for case in cases:
        result = check(case.quote, case.cited, pack_for(case, sources), questions=case.questions)
        spans = [case.span(label) for label in case.claims]
        for label, (start, end) in zip(case.claims, spans, strict=True):
            predicted = _predicted(result, start, end)
            confusion[(label.expect, predicted)] += 1
            flagged = predicted in {o.value for o in FLAGGED}
            if flagged != (label.expect != "supported"):
                misses.append(
                    {"case": case.id, "claim": label.text, "expect": label.expect,
                     "predicted": predicted, "category": case.category}
                )  # fmt: skip
        for claim in result.claims:
            covered = any(claim.start < e and s < claim.end for s, e in spans)
            if not covered and claim.outcome in FLAGGED:
                spurious.append({"case": case.id, "claim": claim.text, "reason": claim.reason})
        quotes[f"expected_{_word(case.publishable)}_got_{_word(result.publishable)}"] += 1

    def flagged_share(expect: str) -> tuple[int, int]:
        row = {p: n for (e, p), n in confusion.items() if e == expect}
        total = sum(row.values())
        return sum(n for p, n in row.items() if p in {o.value for o in FLAGGED}), total

    rates = {}
    for expect in ("contradicted", "uncited", "unknown_source", "unsupported", "supported"):
        hit, total = flagged_share(expect)
        rates[expect] = {"flagged": hit, "of": total, "rate": _rate(hit, total)}
    bad_hit = sum(rates[e]["flagged"] or 0 for e in ("contradicted", "uncited"))  # type: ignore[misc]
    bad_total = sum(rates[e]["of"] or 0 for e in ("contradicted", "uncited"))  # type: ignore[misc]
    return {
        "cases": len(cases),
        "labelled_claims": sum(confusion.values()),
        "recall_contradicted": rates["contradicted"],
        "recall_uncited": rates["uncited"],
        "recall_contradicted_and_uncited": {
            "flagged": bad_hit, "of": bad_total, "rate": _rate(bad_hit, bad_total),
            "goal": ">= 0.95", "pass": bad_total > 0 and bad_hit / bad_total >= 0.95,
        },
        "recall_unknown_source": rates["unknown_source"],
        "recall_wrong_source": rates["unsupported"],
        "false_flags_supported": {
            **rates["supported"], "goal": "<= 0.10",
            "pass": (rates["supported"]["rate"] or 0) <= 0.10,
        },
        "flags_on_unlabelled_text": len(spurious),
        "quotes": dict(sorted(quotes.items())),
        "confusion": {
            expect: {p: n for (e, p), n in sorted(confusion.items()) if e == expect}
            for expect in ("supported", "contradicted", "uncited", "unsupported", "unknown_source")
        },
        "by_category": _by_category(cases, misses),
        "misses": misses,
        "spurious": spurious,
    }  # fmt: skip


def _word(publishable: bool) -> str:
    return "publishable" if publishable else "withheld"


def _by_category(cases: list[Case], misses: list[dict[str, str]]) -> dict[str, dict[str, int]]:
    claims = Counter(c.category for c in cases for _ in c.claims)
    missed = Counter(m["category"] for m in misses)
    return {k: {"claims": claims[k], "misses": missed[k]} for k in sorted(claims)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quiet", action="store_true", help="print the headline numbers only")
    args = parser.parse_args()
    sets, sources = load()
    results = {name: evaluate(cases, sources) for name, cases in sets.items()}
    results["all"] = evaluate([c for cases in sets.values() for c in cases], sources)
    keys = ("cases", "recall_contradicted", "recall_uncited", "false_flags_supported")
    shown = {n: {k: r[k] for k in keys} for n, r in results.items()} if args.quiet else results
    print(json.dumps(shown, indent=2))
    write_results(RESULTS, benchmark="grounding", rules=Grounding.model_fields["rules"].default,
                  **results)  # fmt: skip


if __name__ == "__main__":
    main()
