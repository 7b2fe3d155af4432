"""The prompt-cache hit rate with and without ``prompt_cache_key`` and the warming order (issue 30).

In-process, against the loopback fake (``tests/support/fake_llm.py``) with its prefix cache
on (``PromptCache``: 4 machines, 4 characters a token, prompts of 1,024 tokens or more, hits
in 128-token steps; a request with a ``prompt_cache_key`` goes to the machine the key hashes
to, one without to a machine drawn at random; a prompt is stored when its answer has been
sent, so calls in flight together all miss), at 50 ms per answer. The shipped personas and
prompts review ``--tools`` synthetic tools on one openai-kind provider at ``max_in_flight =
16``, through panel's ``Runner`` (no store: every call is sent), in four arms: the cache key
sent or not, and the first call of each shared prefix sent alone (``Runner(warm=True)``) or
all at once. Two prompt layouts: the shipped one (the system message, rules and card, is about
1,200 characters, under 1,024 tokens: no cache can serve it), and the same with an
evidence-pack-sized block (``--pack`` characters) added to the system message, as issue 26's
evidence pack will.

Reported per arm: cached prompt tokens / prompt tokens (the hit rate), the share of calls with
a hit, the cost at gpt-4o-mini's list prices (0.15 input, 0.075 cached input, 0.60 output USD
per 1M) against the cost with no cache, and wall time. Writes benchmarks/results/cache.json.

The fake's routing is a model, not OpenAI's: OpenAI routes by a hash of the prompt's start
and the key, and overflows to other machines past about 15 requests a minute per prefix and
key. The gain from the key in this benchmark is the gain under that model.

Usage: .venv/bin/python -m benchmarks.bench_cache [--tools 25] [--pack 8000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from panel.inputs.catalog import Tool
from panel.inputs.personas import load_personas
from panel.pipeline.calls import Call
from panel.pipeline.pricing import Rate
from panel.pipeline.prompts import PromptBuilder, Rendered
from panel.pipeline.runner import Runner
from panel.providers import registry
from panel.providers.base import Limits, Message, ProviderSettings
from tests.support.fake_llm import Behavior, FakeLLM, PromptCache

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "cache.json"
RATE = Rate(0.15, 0.60, 0.075)  # gpt-4o-mini's list prices (panel/providers/openai.py)


def tools(n: int) -> list[Tool]:
    return [
        Tool.model_validate(
            {
                "slug": f"tool-{i:03d}",
                "name": f"Tool {i}",
                "vendor": f"Vendor {i}",
                "category": "Coding agents",
                "tagline": f"Tool {i} turns tickets into code",
                "entry_price": "free",
                "pricing_notes": "Free while in beta.",
                "url": f"https://tool{i}.example/",
                "launched": date(2026, 1, 1),
                "description": f"Tool {i} reads a ticket and opens a pull request. " * 6,
            }
        )
        for i in range(n)
    ]


def padded(rendered: Rendered, pack: int, slug: str) -> Rendered:
    """The system message with an evidence-pack-sized block after the card, per tool."""
    if not pack:
        return rendered
    line = f"- evidence for {slug}: a changelog entry, a docs page, a pricing page.\n"
    block = "\nEvidence:\n" + (line * (pack // len(line) + 1))[:pack]
    messages = tuple(
        Message(m.role, m.content + block) if m.role == "system" else m for m in rendered.messages
    )
    return replace(rendered, messages=messages)


async def arm(server: FakeLLM, calls: list[Call], warm: bool) -> float:
    runner = Runner(warm=warm)
    started = time.monotonic()
    await runner.run(calls)
    wall = time.monotonic() - started
    for provider in {id(c.provider): c.provider for c in calls}.values():
        await provider.aclose()
    return wall


def measure(n_tools: int, pack: int, key: bool, warm: bool) -> dict[str, Any]:
    personas = load_personas(ROOT / "personas", ROOT / "prompts")
    builder = PromptBuilder(ROOT / "prompts", b"b" * 32)
    with FakeLLM() as server:
        server.default = Behavior(latency=0.05)
        cache = PromptCache(machines=4, chars_per_token=4)
        server.prompt_cache = cache
        settings = ProviderSettings(
            name="fake", kind="openai", model="m", base_url=server.openai_url,
            api_key_env="", prompt_cache_key=key, limits=Limits(max_in_flight=16),
        )  # fmt: skip
        provider = registry.create(settings)
        calls = [
            Call(p, t, provider, padded(builder.render(p, t), pack, t.slug), RATE)
            for t in tools(n_tools)
            for p in personas.values()
        ]
        wall = asyncio.run(arm(server, calls, warm))
        usages = list(cache.usages)
    prompt = sum(p for p, _ in usages)
    cached = sum(c for _, c in usages)
    completion = Behavior().usage[1] * len(usages)
    cost = sum(RATE.cost(p, Behavior().usage[1], c) for p, c in usages)
    uncached = sum(RATE.cost(p, Behavior().usage[1]) for p, _ in usages)
    return {
        "prompt_cache_key": key,
        "warm_first": warm,
        "calls": len(usages),
        "prompt_tokens": prompt,
        "cached_tokens": cached,
        "completion_tokens": completion,
        "hit_rate": round(cached / prompt, 4) if prompt else 0.0,
        "calls_with_a_hit": round(sum(1 for _, c in usages if c) / len(usages), 4),
        "cost_usd": round(cost, 6),
        "cost_without_cache_usd": round(uncached, 6),
        "saved": round(1 - cost / uncached, 4) if uncached else 0.0,
        "wall_s": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tools", type=int, default=25)
    parser.add_argument("--pack", type=int, default=8000, help="evidence-pack characters")
    args = parser.parse_args()
    layouts: dict[str, list[dict[str, Any]]] = {}
    for name, pack in (("shipped", 0), ("with-evidence-pack", args.pack)):
        layouts[name] = []
        for key in (False, True):
            for warm in (False, True):
                row = measure(args.tools, pack, key, warm)
                layouts[name].append(row)
                print(name, row)
    write_results(
        RESULTS,
        setup={
            "tools": args.tools,
            "personas": len(load_personas(ROOT / "personas", ROOT / "prompts")),
            "pack_chars": args.pack,
            "latency_s": 0.05,
            "max_in_flight": 16,
            "fake": "PromptCache(machines=4, chars_per_token=4, minimum=1024, step=128)",
            "prices": "gpt-4o-mini: 0.15 input, 0.075 cached input, 0.60 output USD/1M",
        },
        layouts=layouts,
    )


if __name__ == "__main__":
    main()
