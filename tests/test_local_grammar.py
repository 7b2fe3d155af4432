"""Issue 18: the embedded model's grammar, checked on the likely tokens first.

Runs llama.cpp's real grammar sampler over SmolLM2's real vocabulary (loaded
vocabulary-only: no weights, no decoding), with made-up logits, so what is pinned is
the processor's behaviour: only tokens the grammar allows survive, the whole vocabulary
is scanned only when none of the top tokens is allowed, and following its choices
always spells a schema-valid answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

llama_cpp = pytest.importorskip("llama_cpp")
np = pytest.importorskip("numpy")

from panel.providers.local import smollm2_path  # noqa: E402
from panel.providers.local_grammar import TOP_K, GrammarAfterTopK  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"enum": ["ship", "skip"]}, "confidence": {"enum": [1, 2, 3]}},
    "required": ["verdict", "confidence"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def vocab() -> Iterator[Any]:
    llm = llama_cpp.Llama(model_path=str(smollm2_path()), vocab_only=True, verbose=False)
    yield llm
    llm.close()


def spell(vocab: Any, logits_for: Any, steps: int = 60) -> tuple[str, GrammarAfterTopK]:
    """Greedy decoding through the processor: the text it spells and the processor."""
    grammar = GrammarAfterTopK(vocab, SCHEMA)
    ids: list[int] = [1, 2, 3]  # a stand-in prompt
    eos = vocab.token_eos()
    try:
        for step in range(steps):
            allowed = grammar(np.array(ids), logits_for(step))
            token = int(np.argmax(allowed))
            assert np.isfinite(allowed[token])
            if token == eos:
                break
            ids.append(token)
    finally:
        grammar.close()
    return vocab.detokenize(ids[3:]).decode(), grammar


def test_only_allowed_tokens_survive_and_the_answer_is_schema_valid(vocab: Any) -> None:
    rng = np.random.default_rng(7)
    n = vocab.n_vocab()
    text, grammar = spell(vocab, lambda step: rng.standard_normal(n).astype(np.float32))
    answer = json.loads(text)
    assert answer["verdict"] in ("ship", "skip") and answer["confidence"] in (1, 2, 3)
    assert grammar.full_scans > 0  # random logits: the top tokens are rarely allowed


def test_the_whole_vocabulary_is_scanned_only_when_no_top_token_is_allowed(vocab: Any) -> None:
    wanted = vocab.tokenize(b'{"verdict": "ship", "confidence": 2}', add_bos=False)
    n = vocab.n_vocab()

    def favour(step: int) -> Any:  # the next wanted token is among the top ones
        logits = np.zeros(n, dtype=np.float32)
        logits[wanted[min(step, len(wanted) - 1)]] = 5.0
        logits[vocab.token_eos()] = 4.0 if step >= len(wanted) else -9.0
        return logits

    text, grammar = spell(vocab, favour)
    assert json.loads(text) == {"verdict": "ship", "confidence": 2}
    assert grammar.full_scans == 0 and TOP_K >= 2
