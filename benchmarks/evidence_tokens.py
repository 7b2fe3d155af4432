"""The cost of evidence (issue 26): prompt tokens per call with and without a pack.

For the verdict calls of one tool (the default personas), counts the exact prompt tokens of
each call on SmolLM2's tokenizer (the model loaded vocabulary-only, with its chat
template, as ``benchmarks/local_prefix.py`` does) in three cases: the card alone, a typical
pack (a homepage, a pricing page, a docs page and a package's facts, about 4,000
characters) and a pack at panel's cap (``PACK_TEXT_CAP`` characters of page text). For each
it also counts what a provider evaluates afresh: llama.cpp reuses the longest common prefix
of consecutive prompts, and OpenAI caches prefixes of 1,024 tokens or more in 128-token
steps, so a tool's four personas share its system message (the rules, the card and the
pack). Token counts do not depend on the machine's load; panel's own upper-bound estimate
(``pricing.estimate_tokens``, used for budgets) is given beside them.

Usage: .venv/bin/python -m benchmarks.evidence_tokens [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from panel.evidence.pack import EvidencePack, EvidenceSource, SourceKind
from panel.pipeline.evidence import PACK_TEXT_CAP, SOURCE_CAPS

ROOT = Path(__file__).resolve().parent.parent
TOOL = "mistral-medium-3"
FETCHED = datetime(2026, 12, 3, tzinfo=UTC)
PAGES = {
    SourceKind.HOMEPAGE: (
        "Mistral Medium 3 is a frontier-class multimodal model for enterprises. It delivers "
        "state-of-the-art performance at 8x lower cost than comparable models, and it can be "
        "deployed on any cloud, including self-hosted environments of four GPUs and above. "
        "Medium 3 excels at coding and STEM tasks and reaches 90% of the scores of larger "
        "models on common benchmarks. It is available on Mistral La Plateforme, Amazon "
        "SageMaker, and soon on IBM WatsonX, NVIDIA NIM, Azure AI Foundry and Google Cloud "
        "Vertex. Customers in financial services, energy and healthcare use it for customer "
        "service, workflow automation and the analysis of complex datasets. "
    )
    * 2,
    SourceKind.PRICING: (
        "Pricing. Mistral Medium 3: $0.40 per million input tokens and $2 per million output "
        "tokens. Mistral Small 3.1: $0.10 per million input tokens, $0.30 per million output "
        "tokens. Batch requests are billed at 50% of the list price. Fine-tuning: $4 per "
        "million training tokens and a $2 monthly storage fee per model. Free experiment "
        "tier: rate-limited, no credit card required. Enterprise: volume discounts, "
        "private deployment and support SLAs; contact sales."
    ),
    SourceKind.DOCS: (
        "Quickstart. Install the client with pip install mistralai, set MISTRAL_API_KEY and "
        "call client.chat.complete(model='mistral-medium-latest', messages=[...]). The model "
        "supports a 128k-token context window, function calling, JSON mode and structured "
        "outputs with a JSON schema, and image inputs up to 10 MB each. Rate limits depend "
        "on your workspace tier: the free tier allows 1 request per second and 500,000 tokens "
        "a minute. Errors use standard HTTP codes; 429 responses carry a Retry-After header. "
    )
    * 2,
    SourceKind.PACKAGE: (
        "name: mistralai\nlatest version: 1.9.2\nreleased: 2026-11-28\nlicence: Apache-2.0\n"
        "requires python: >=3.9\nsummary: Python Client SDK for the Mistral AI API."
    ),
}


def _source(number: int, kind: SourceKind, text: str) -> EvidenceSource:
    return EvidenceSource(
        id=f"S{number}",
        url=f"https://mistral.example/{kind.value}",
        kind=kind,
        title=f"Mistral Medium 3 {kind.value}",
        fetched_at=FETCHED,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
    )


def packs() -> dict[str, EvidencePack | None]:
    typical = tuple(_source(i, k, t) for i, (k, t) in enumerate(PAGES.items(), start=1))
    filler = " ".join(PAGES.values())
    per_source = SOURCE_CAPS["text"]
    capped = tuple(
        _source(i, SourceKind.DOCS, (filler * 10)[:per_source])
        for i in range(1, PACK_TEXT_CAP // per_source + 1)
    )
    return {
        "card_only": None,
        "typical_pack": EvidencePack(TOOL, typical),
        "capped_pack": EvidencePack(TOOL, capped),
    }


def _cached(tokens: int, common: int) -> int:
    """What OpenAI's prompt cache would serve: the shared prefix, in 128-token steps, if
    the prefix is at least 1,024 tokens."""
    return 0 if common < 1024 else (common // 128) * 128


def measure() -> dict[str, Any]:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from panel.inputs.catalog import Catalog
    from panel.inputs.personas import load_personas, select_personas
    from panel.pipeline.pricing import estimate_tokens
    from panel.pipeline.prompts import PromptBuilder
    from panel.providers.local import smollm2_path

    llm = Llama(model_path=str(smollm2_path()), vocab_only=True, verbose=False)
    chat = Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token="<|im_end|>",
        bos_token="<|im_start|>",
    )
    personas = select_personas(load_personas(ROOT / "personas", ROOT / "prompts"), [])
    tool = Catalog.load(ROOT / "catalog").get(TOOL)
    out: dict[str, Any] = {}
    for name, pack in packs().items():
        builder = PromptBuilder(ROOT / "prompts", b"k" * 32)
        previous: list[int] = []
        per_call, fresh, cached, estimated = [], [], [], []
        for persona in personas:
            rendered = builder.render(persona, tool, pack)
            prompt = chat(messages=[m.as_dict() for m in rendered.messages]).prompt
            tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
            common = 0
            for x, y in zip(previous, tokens, strict=False):
                if x != y:
                    break
                common += 1
            per_call.append(len(tokens))
            fresh.append(len(tokens) - common)
            cached.append(_cached(len(tokens), common))
            estimated.append(sum(estimate_tokens(m.content) for m in rendered.messages))
            previous = tokens
        n = len(per_call)
        out[name] = {
            "sources": 0 if pack is None else len(pack.sources),
            "page_chars": 0 if pack is None else sum(len(s.text) for s in pack.sources),
            "calls": n,
            "prompt_tokens_per_call": round(sum(per_call) / n),
            "prompt_tokens_per_tool": sum(per_call),
            "evaluated_per_tool_with_prefix_reuse": sum(fresh),
            "openai_cached_per_tool": sum(cached),
            "estimate_per_call": round(sum(estimated) / n),
        }
    base = out["card_only"]["prompt_tokens_per_call"]
    for name in ("typical_pack", "capped_pack"):
        out[name]["ratio_to_card_only"] = round(out[name]["prompt_tokens_per_call"] / base, 2)
    return {"tokenizer": "SmolLM2-135M-Instruct (chat template)", "tool": TOOL, **out}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/evidence-tokens.json"
    )
    results = measure()
    for name in ("card_only", "typical_pack", "capped_pack"):
        r = results[name]
        print(
            f"{name}: {r['prompt_tokens_per_call']} prompt tokens a call, "
            f"{r['evaluated_per_tool_with_prefix_reuse']} evaluated per tool with prefix reuse"
        )
    write_results(parser.parse_args().out, **results)


if __name__ == "__main__":
    main()
