"""``mock/<name>``: schema-valid answers with no model, no key and no network.

For trying panel offline, for panel's own tests and for downstream users' tests, as
Inspect ships ``mockllm`` and httpx ``MockTransport``: ``panel review A B --provider
mock/any`` works on a fresh clone. Any name works; each name is its own reviewer.

Every answer is a JSON object valid against the request's schema: any persona's verdict
schema, the head-to-head schema, and any schema built from objects, arrays (lengths,
unique items), strings (lengths, the common formats), numbers, booleans, enums, consts,
``anyOf``/``oneOf``/``allOf`` and ``$ref``. A string ``pattern`` cannot be honoured and
is refused as a bad request.

Answers are deterministic: the seed is a hash of the model name, the sampling seed
(``seed`` in panel.toml, 7 by default) and the request (messages and schema name; the
fence markers and canary keyed per project are left out). The same review gets the same
answers in any project; another name, seed, tool or persona gets other ones.

Verdicts, picks and confidences vary, and the prose agrees with the verdict (or the pick)
and says it is a mock, so a mock review is never mistaken for a model's. An answer
longer than ``max_tokens`` (at ~4 characters a token) is cut off with
``finish_reason=length``, as a model's would be.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from typing import Any

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.kind import Capabilities, ProviderKind

# Part of the cache key (as ``decoding``): bump it whenever the same request would get
# another answer, so no cached answer of an older generator is reused.
GENERATOR = "mock-generator=1"
MODEL_VERSION = "panel-mock-1"
CHARS_PER_TOKEN = 4
SHIP_SHARE = 0.55  # how often a verdict is "ship"

OPENING = "This is a mock answer: no model was asked."
UPBEAT = (
    "The setup path is short and the defaults are sensible.",
    "A working first call takes minutes, not an afternoon.",
    "Errors name the fix, which keeps a new user moving.",
    "Pricing is easy to predict for a small team.",
    "The API surface is small enough to learn in one sitting.",
    "It fits into an existing stack without new infrastructure.",
    "Documentation covers the awkward cases as well as the happy path.",
    "Latency stays steady under a realistic load.",
    "The vendor ships fixes quickly and says what changed.",
    "It solves a real problem that teams already pay to solve.",
)
WARY = (
    "The setup needs more glue code than it should.",
    "Costs are hard to forecast once usage grows.",
    "Important limits are buried deep in the documentation.",
    "Error messages leave a new user guessing.",
    "Lock-in risk is high, since data is hard to export.",
    "The free tier is too small for a fair trial.",
    "Better-known alternatives already cover most of this ground.",
    "Breaking changes arrive without much warning.",
    "Self-hosting is not an option for stricter teams.",
    "The core feature still feels like a preview.",
)
CLOSING_SHIP = "On balance it earns a ship for now."
CLOSING_SKIP = "On balance it is a skip until that changes."
CLOSING_PICK = "On balance the {pick} tool is the better bet."
PHRASES = (
    "clear quick-start guide",
    "predictable pricing",
    "small API surface",
    "typed client libraries",
    "usage dashboard",
    "self-hosted option",
    "streaming responses",
    "batch endpoint",
    "audit logging",
    "single sign-on",
    "open weights",
    "plugin ecosystem",
    "local development mode",
    "generous free tier",
    "regional data residency",
)
FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00Z",
    "email": "mock@example.com",
    "uri": "https://example.com/mock",
    "url": "https://example.com/mock",
}


# The fence markers and canary panel puts in prompts (``panel.defences.untrusted``): keyed by
# the project's fence key, so left out of the seed; the same review in another project (a
# fresh test directory) gets the same answers.
_KEYED = re.compile(r"\b(?:DATA-[0-9A-F]{16}|CANARY-[0-9A-F]{12})\b")


def seed_for(model: str, request: CompletionRequest) -> int:
    """The answer's seed: the model name, the sampling seed and the request (keyed tokens out)."""
    payload = {
        "model": model,
        "seed": request.sampling.seed,
        "messages": [[m.role, _KEYED.sub("", m.content)] for m in request.messages],
        "schema": request.schema_name,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:8], "big")


class UnsupportedSchemaError(ValueError):
    """A schema the mock cannot honour (a string pattern)."""


class _Writer:
    """Writes one schema-valid value; ``ship`` sets the tone of every sentence."""

    def __init__(self, rng: random.Random, root: dict[str, Any]) -> None:
        self.rng = rng
        self.root = root
        self.ship = rng.random() < SHIP_SHARE
        self.pick: str | None = None  # "first" or "second", once a head-to-head pick is made
        self.used: set[str] = set()

    def resolve(self, schema: Any) -> dict[str, Any]:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            target: Any = self.root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema = target
        return schema if isinstance(schema, dict) else {}

    def value(self, schema: Any) -> Any:
        node = self.resolve(schema)
        if "const" in node:
            return node["const"]
        if node.get("enum"):
            return self.choice(list(node["enum"]))
        for key in ("anyOf", "oneOf"):
            if node.get(key):
                options = [s for s in node[key] if self.resolve(s).get("type") != "null"]
                return self.value((options or node[key])[0])
        if node.get("allOf"):
            merged: dict[str, Any] = {}
            for part in node["allOf"]:
                merged.update(self.resolve(part))
            return self.value(merged | {k: v for k, v in node.items() if k != "allOf"})
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in node else "array" if "items" in node else "string"
        writers = {
            "object": self._object,
            "array": self._array,
            "integer": self._integer,
            "number": self._number,
            "boolean": self._boolean,
            "null": self._null,
        }
        return writers.get(kind, self._string)(node)

    def choice(self, options: list[Any]) -> Any:
        if {"ship", "skip"} <= set(options):
            return "ship" if self.ship else "skip"
        if {"sufficient", "insufficient"} <= set(options):
            return "sufficient"  # a mock never abstains: the whole path runs offline
        chosen = self.rng.choice(options)
        if {"first", "second"} <= set(options):
            self.pick = chosen
        return chosen

    def _object(self, node: dict[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = node.get("properties", {})
        # Choices first, so the prose written after them can agree with them.
        order = sorted(properties, key=lambda name: self._is_text(properties[name]))
        filled = {name: self.value(properties[name]) for name in order}
        if isinstance(filled.get("quote"), str) and isinstance(filled.get("citations"), list):
            filled["quote"], filled["citations"] = self.cite(
                filled["quote"], self.resolve(properties["citations"])
            )
        return {name: filled[name] for name in properties}

    def cite(self, quote: str, node: dict[str, Any]) -> tuple[str, list[str]]:
        """A verdict on a tool with sources cites one or two of them inline, like [S1]
        (issue 26): after the first and the last of its sentences past the opening."""
        item = self.resolve(node.get("items", {}))
        ids = [str(i) for i in item.get("enum", [item["const"]] if "const" in item else [])]
        if not ids:
            return quote, []
        cited = sorted(self.rng.sample(ids, min(len(ids), 2)))
        sentences = quote.split(". ")
        spots = [1, len(sentences) - 1] if len(sentences) > 2 else [len(sentences) - 1]
        for spot, source in zip(spots, cited, strict=False):
            text = sentences[spot]
            end = "." if text.endswith(".") else ""
            sentences[spot] = f"{text.removesuffix('.')} [{source}]{end}"
        used = cited[: len(spots)]
        return ". ".join(sentences), used

    def _is_text(self, schema: Any) -> bool:
        node = self.resolve(schema)
        return node.get("type") == "string" and "enum" not in node and "const" not in node

    def _array(self, node: dict[str, Any]) -> list[Any]:
        low = int(node.get("minItems", 0))
        high = int(node.get("maxItems", low + 3))
        count = self.rng.randint(max(low, min(1, high)), max(low, min(high, low + 3)))
        items: list[Any] = []
        for _ in range(count * 10 if node.get("uniqueItems") else count):
            item = self.value(node.get("items", {}))
            if not node.get("uniqueItems") or item not in items:
                items.append(item)
            if len(items) == count:
                break
        return items

    def _integer(self, node: dict[str, Any]) -> int:
        low = int(node.get("minimum", node.get("exclusiveMinimum", -1) + 1))
        high = int(node.get("maximum", node.get("exclusiveMaximum", low + 11) - 1))
        return self.rng.randint(low, max(low, high))

    def _number(self, node: dict[str, Any]) -> float:
        low = float(node.get("minimum", node.get("exclusiveMinimum", 0.0)))
        high = float(node.get("maximum", node.get("exclusiveMaximum", low + 10.0)))
        return low + (max(low, high) - low) * self.rng.uniform(0.1, 0.9)  # inside either bound

    def _boolean(self, node: dict[str, Any]) -> bool:
        return self.rng.random() < 0.5

    def _null(self, node: dict[str, Any]) -> None:
        return None

    def _string(self, node: dict[str, Any]) -> str:
        if "pattern" in node:
            raise UnsupportedSchemaError(f"a string with pattern {node['pattern']!r}")
        low = int(node.get("minLength", 1))
        high = int(node.get("maxLength", max(low, 600)))
        text = FORMATS.get(str(node.get("format")))
        if text is None:
            text = self.prose(low, high) if low >= 10 else self.phrase(high)
        return fit(text, low, high)

    def phrase(self, high: int) -> str:
        """A short name or sentence: list items and single analysis fields."""
        if high <= 120:
            fresh = [p for p in PHRASES if p not in self.used] or list(PHRASES)
            chosen = self.rng.choice(fresh)
            self.used.add(chosen)
            return chosen
        return " ".join(self.rng.sample(UPBEAT if self.ship else WARY, 2))

    def prose(self, low: int, high: int) -> str:
        """A paragraph that says it is a mock and agrees with the verdict."""
        bank = UPBEAT if self.ship else WARY
        target = min(high, max(low, self.rng.randint(180, 420)))
        sentences = [OPENING]
        for sentence in self.rng.sample(bank, len(bank)):
            if len(" ".join(sentences)) >= target:
                break
            sentences.append(sentence)
        if self.pick is not None:
            sentences.append(CLOSING_PICK.format(pick=self.pick))
        else:
            sentences.append(CLOSING_SHIP if self.ship else CLOSING_SKIP)
        return " ".join(sentences)


def fit(text: str, low: int, high: int) -> str:
    """``text`` between ``low`` and ``high`` characters, cut at a word where it can be."""
    while len(text) < low:
        text = f"{text} {OPENING}".strip()
    if len(text) > high:
        cut = text[: high + 1].rsplit(" ", 1)[0]
        text = cut if low <= len(cut) <= high else text[:high]
    return text


def answer(model: str, request: CompletionRequest) -> Any:
    """The mock's answer to ``request``: a value valid against ``request.schema``."""
    rng = random.Random(seed_for(model, request))
    return _Writer(rng, request.schema).value(request.schema)


class MockProvider:
    """In-process, instant, free: no key, no model, no network."""

    decoding = GENERATOR
    endpoint = ""  # in-process: no server

    def __init__(self, settings: ProviderSettings) -> None:
        self.spec = settings.name
        self.model = settings.model
        self.sampling = settings.sampling
        self.limits = settings.limits

    async def complete(self, request: CompletionRequest) -> Completion:
        await asyncio.sleep(0)  # yield, as a real request would
        try:
            text = json.dumps(answer(self.model, request), ensure_ascii=False)
        except UnsupportedSchemaError as exc:
            raise ProviderError(
                FailureReason.BAD_REQUEST, f"{self.spec}: the mock kind cannot write {exc}"
            ) from None
        prompt = sum(len(m.content) for m in request.messages) // CHARS_PER_TOKEN + 1
        tokens = len(text) // CHARS_PER_TOKEN + 1
        finish = "stop"
        if tokens > request.sampling.max_tokens:  # cut off, as a model would be
            text = text[: request.sampling.max_tokens * CHARS_PER_TOKEN]
            tokens, finish = request.sampling.max_tokens, "length"
        return Completion(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt,
            completion_tokens=tokens,
            model_version=MODEL_VERSION,
            mode=StructuredMode.JSON_SCHEMA,
        )

    async def aclose(self) -> None:
        return None


KIND = ProviderKind(
    name="mock",
    create=MockProvider,
    summary="schema-valid answers with no model, key or network: for trying panel and tests",
    capabilities=Capabilities(structured=(StructuredMode.JSON_SCHEMA,)),
    example="<name>",
    free=True,
    stand_in="mock answers: no model was asked",
    stand_in_models={MODEL_VERSION: "mock answers: no model was asked"},  # a named mock
)
