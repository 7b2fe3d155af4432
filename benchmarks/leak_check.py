"""How much the leak check catches, and how often it cries wolf. No model calls.

Leaks are built from panel's real prompts: for every persona and catalog tool,
the verdict prompt panel would send (a fixed key), and head-to-head prompts for
neighbouring tools. Two kinds of text must not reach a page:

- **rule**: a rule line of the system prompt (the persona's lens, voice and title
  are exempt: a review may echo its own brief);
- **card**: a sentence of 8 or more words from a vendor field (how an
  injected sentence gets itself published).

Each is set inside an ordinary review sentence after one of these rewrites:

- ``verbatim``: as the model saw it, datamarks included for card text;
- ``unmarked``: datamarks turned back into spaces (what a strong model writes);
- ``recased``: lower case, no punctuation, quoted;
- ``function_words``: articles swapped, "that"/"it" dropped, "just" inserted;
- ``reworded_1_in_N``: every Nth content word replaced by another word, for
  N = 8, 4, 2: the step from near-verbatim towards real paraphrase.

Each leak is scored by the checks panel had before (canary, 10-word runs of the
prompt, datamarked card runs: ``verbatim_only``) and by the current ones
(``current``: adds content-word runs of the prompt and unmarked card copies).

False alarms are measured on human-written reviews: the seed page's eight
scorecard quotes, each checked against every persona's prompt for every catalog
tool (the right card included), so any flag there is a false alarm.

Usage: .venv/bin/python -m benchmarks.leak_check [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from panel.defences import leaks
from panel.defences.untrusted import DATAMARK
from panel.inputs.catalog import Catalog
from panel.inputs.personas import load_personas
from panel.paths import Home
from panel.pipeline.prompts import PromptBuilder, Rendered

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "benchmarks" / "data" / "seed-page.txt"  # shared/seeds/000_554dd800fb3deac2.txt
KEY = b"leak-check-benchmark-key-0000000"
FRAME = "I read the card closely. {} Overall the tool is worth a look."
FILLERS = ("quantum", "banana", "ledger", "orbit", "velvet", "harbor", "signal", "meadow")
MIN_WORDS = 8


def verbatim(text: str) -> str:
    return text


def unmarked(text: str) -> str:
    return text.replace(DATAMARK, " ")


def recased(text: str) -> str:
    return '"' + re.sub(r"[^\w\s]", "", unmarked(text)).lower() + '"'


_SWAPS = {"the": "a", "a": "the", "an": "the", "that": "", "it": "", "is": "is just"}


def function_words(text: str) -> str:
    words = unmarked(text).split()
    return " ".join(w for w in (_SWAPS.get(word.lower(), word) for word in words) if w)


def reworded(every: int) -> Callable[[str], str]:
    """Replace every ``every``-th content word: a crude, repeatable paraphrase."""

    def rewrite(text: str) -> str:
        out, seen = [], 0
        for word in unmarked(text).split():
            if word.lower().strip(".,;:") not in leaks.FUNCTION_WORDS:
                seen += 1
                if seen % every == 0:
                    word = FILLERS[seen % len(FILLERS)]
            out.append(word)
        return " ".join(out)

    return rewrite


REWRITES: dict[str, Callable[[str], str]] = {
    "verbatim": verbatim,
    "unmarked": unmarked,
    "recased": recased,
    "function_words": function_words,
    **{f"reworded_1_in_{n}": reworded(n) for n in (8, 4, 2)},
}


def verbatim_only(answer: str, rendered: Rendered) -> bool:
    """The checks panel shipped before content-word and unmarked card runs."""
    return (
        leaks.canary_leak(answer, rendered.canary)
        # the card sits in the system prompt since issue 18: it is not panel's fixed text
        or leaks.prompt_echo(answer, rendered.system, (*rendered.exempt, *rendered.card))
        or leaks.card_marked_run(answer)
    )


def current(answer: str, rendered: Rendered) -> bool:
    return bool(
        leaks.leak_flags(rendered.system, rendered.canary, [answer], rendered.exempt, rendered.card)
    )


CHECKS: dict[str, Callable[[str, Rendered], bool]] = {
    "verbatim_only": verbatim_only,
    "current": current,
}


def rule_lines(rendered: Rendered) -> list[str]:
    """System-prompt rule lines with the exempt persona text cut out."""
    lines = []
    rules = rendered.system.split("Tool card", 1)[0]  # the card(s) follow the rules
    for line in rules.splitlines():
        text = line.removeprefix("- ")
        for part in rendered.exempt:
            text = text.replace(part, "")
        if len(text.split()) >= MIN_WORDS and "CANARY-" not in text:
            lines.append(text.strip())
    return lines


def card_sentences(rendered: Rendered) -> list[str]:
    """Sentences of the vendor fields as shown to the model (datamarked)."""
    after_sentence = rf"(?<=\.){re.escape(DATAMARK)}"
    parts = [p for field in rendered.card for p in re.split(after_sentence, field)]
    return [p for p in parts if len(p.split(DATAMARK)) >= MIN_WORDS]


def renders(root: Path) -> list[Rendered]:
    home = Home(root)
    personas = load_personas(home.personas, home.prompts)
    tools = sorted(Catalog.load(home.catalog).tools.values(), key=lambda t: t.slug)
    builder = PromptBuilder(home.prompts, KEY)
    single = [builder.render(p, t) for p in personas.values() for t in tools]
    pairs = list(itertools.pairwise(tools))
    return single + [builder.render_pair(p, a, b) for p in personas.values() for a, b in pairs]


def detection(prompts: list[Rendered]) -> dict[str, Any]:
    tally: Counter[tuple[str, str, str]] = Counter()
    cases: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[str, str]] = set()
    for rendered in prompts:
        leaked = [("rule", s) for s in rule_lines(rendered)]
        leaked += [("card", s) for s in card_sentences(rendered)]
        for kind, text in leaked:
            same = re.sub(r"DATA-[0-9A-F]+", "DATA-", text)
            if (kind, same) in seen:  # a rule line recurs for every tool, fence aside
                continue
            seen.add((kind, same))
            for name, rewrite in REWRITES.items():
                answer = FRAME.format(rewrite(text))
                cases[(kind, name)] += 1
                for check, caught in CHECKS.items():
                    tally[(kind, name, check)] += caught(answer, rendered)
    return {
        kind: {
            name: {
                "cases": cases[(kind, name)],
                **{
                    check: round(tally[(kind, name, check)] / cases[(kind, name)], 3)
                    for check in CHECKS
                },
            }
            for name in REWRITES
        }
        for kind in ("rule", "card")
    }


def seed_quotes() -> list[str]:
    """The eight scorecard quotes of the editors' seed page."""
    lines = SEED.read_text().splitlines()
    return [line.strip("\u201c\u201d") for line in lines if line.startswith("\u201c")]


def false_alarms(prompts: list[Rendered], quotes: list[str]) -> dict[str, Any]:
    flagged: Counter[str] = Counter()
    examples: list[dict[str, str]] = []
    for quote in quotes:
        for rendered in prompts:
            for flag in leaks.leak_flags(
                rendered.system, rendered.canary, [quote], rendered.exempt, rendered.card
            ):
                flagged[flag] += 1
                if len(examples) < 5:
                    examples.append({"flag": flag, "quote": quote[:120]})
    checks = len(quotes) * len(prompts)
    return {
        "quotes": len(quotes),
        "checks": checks,
        "flagged": sum(flagged.values()),
        "rate": round(sum(flagged.values()) / checks, 4) if checks else None,
        "by_flag": dict(flagged),
        "examples": examples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/leak-check.json")
    args = parser.parse_args()
    prompts = renders(ROOT)
    found = detection(prompts)
    alarms = false_alarms(prompts, seed_quotes())
    for kind, rows in found.items():
        for name, row in rows.items():
            print(
                f"{kind:4} {name:18} n={row['cases']:3} "
                f"verbatim_only {row['verbatim_only']:.2f}  current {row['current']:.2f}"
            )
    print(f"false alarms on seed quotes: {alarms['flagged']}/{alarms['checks']}")
    write_results(
        args.out,
        prompts=len(prompts),
        min_words=MIN_WORDS,
        settings={
            "run_words": leaks.RUN_WORDS,
            "content_words": leaks.CONTENT_WORDS,
            "echo_words": leaks.ECHO_WORDS,
        },
        detection=found,
        false_alarms=alarms,
    )


if __name__ == "__main__":
    main()
