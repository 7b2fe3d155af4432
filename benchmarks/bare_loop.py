"""The bare SDK loop that panel's nightly is measured against (issue 18).

Sends recorded request bodies (one JSON object a line: model, messages,
response_format, sampling) with the official ``openai`` SDK, at a fixed
concurrency, and parses each answer's JSON: what a hand-written script would do
with the same bodies. It imports nothing from panel, so its process measures the
SDK alone.

Usage: python -m benchmarks.bare_loop BODIES.jsonl BASE_URL [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import openai


async def send_all(bodies: list[dict[str, Any]], base_url: str, concurrency: int) -> int:
    client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(body: dict[str, Any]) -> bool:
        async with gate:
            response = await client.chat.completions.create(**body)
            json.loads(response.choices[0].message.content or "{}")
            return True

    try:
        done = await asyncio.gather(*(one(b) for b in bodies))
    finally:
        await client.close()
    return sum(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bodies", type=Path)
    parser.add_argument("base_url")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    lines = args.bodies.read_text(encoding="utf-8").splitlines()
    bodies = [json.loads(line) for line in lines if line]
    sent = asyncio.run(send_all(bodies, args.base_url, args.concurrency))
    print(sent)


if __name__ == "__main__":
    main()
