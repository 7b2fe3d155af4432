"""Prompt tokens the embedded model evaluates in one review, with llama.cpp's prefix reuse.

llama.cpp keeps the previous prompt's KV cache and evaluates a new prompt only from
the first token that differs. This counts, for the 16 calls of
``panel review mistral-medium-3 gpt-4o-mini`` (head-to-head on, the default
personas) in plan order, the prompt tokens in total and the tokens left to evaluate
after the common prefix with the previous prompt. It needs only the tokenizer (the
model is loaded vocabulary-only), so the count is exact and does not depend on the
machine's load, unlike wall time.

Usage: .venv/bin/python -m benchmarks.local_prefix [--root DIR]
  DIR: a source tree of panel to measure (its prompts/, personas/, catalog/ and
  panel/), e.g. an older commit unpacked with ``git archive``; default: this one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAIR = ("mistral-medium-3", "gpt-4o-mini")


def count(root: Path) -> dict[str, Any]:
    sys.path.insert(0, str(root))  # measure that tree's panel, not the installed one
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from panel.inputs.catalog import Catalog
    from panel.inputs.personas import load_personas, select_personas
    from panel.pipeline.prompts import PromptBuilder
    from panel.providers.local import smollm2_path

    llm = Llama(model_path=str(smollm2_path()), vocab_only=True, verbose=False)
    chat = Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token="<|im_end|>",
        bos_token="<|im_start|>",
    )
    personas = select_personas(load_personas(root / "personas", root / "prompts"), [])
    catalog = Catalog.load(root / "catalog")
    a, b = catalog.get(PAIR[0]), catalog.get(PAIR[1])
    builder = PromptBuilder(root / "prompts", b"k" * 32)
    rendered = [builder.render(p, t) for t in (a, b) for p in personas]
    rendered += [builder.render_pair(p, x, y) for x, y in ((a, b), (b, a)) for p in personas]
    previous: list[int] = []
    total = evaluated = 0
    for r in rendered:
        prompt = chat(messages=[m.as_dict() for m in r.messages]).prompt
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        common = 0
        for x, y in zip(previous, tokens, strict=False):
            if x != y:
                break
            common += 1
        total += len(tokens)
        evaluated += len(tokens) - common
        previous = tokens
    return {"calls": len(rendered), "prompt_tokens": total, "evaluated": evaluated}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=ROOT)
    print(json.dumps(count(parser.parse_args().root.resolve())))


if __name__ == "__main__":
    main()
