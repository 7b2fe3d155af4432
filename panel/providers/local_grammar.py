"""The verdict grammar for the embedded model, checked on the likely tokens first.

llama-cpp-python's sampler chain applies a grammar to the whole vocabulary (49,152
tokens for SmolLM2) at every step, before top-k: on 2 cores that took generation from
about 58 tokens/s to 12-39. ``GrammarAfterTopK`` is a logits processor that checks the
grammar on the ``TOP_K`` highest logits first and scans the whole vocabulary only when
none of them is allowed (llama.cpp's own server samples the same way). The chain's
top-k keeps at most ``TOP_K`` tokens anyway, so the tokens it can pick are the allowed
ones among the same likely tokens (issue 18).
"""

from __future__ import annotations

import ctypes
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_cpp import Llama

TOP_K = 40  # llama-cpp-python's default top_k, which panel keeps
DECODING = f"grammar=top{TOP_K}-first"  # part of the call key (Provider.decoding)


class GrammarAfterTopK:
    """A llama-cpp-python logits processor enforcing the JSON-schema grammar ``schema``.

    One instance per completion: it accepts each sampled token into its grammar state
    (seen as the last input id on the next call) and frees that state on ``close()``.
    """

    def __init__(self, llm: Llama, schema: dict[str, Any]) -> None:
        self.llm = llm
        self.schema = schema
        self._sampler: Any = None
        self._seen = -1  # input length at the previous step
        self.full_scans = 0

    def _start(self) -> None:
        import llama_cpp
        from llama_cpp.llama_grammar import LlamaGrammar

        grammar = LlamaGrammar.from_json_schema(json.dumps(self.schema), verbose=False)
        self._sampler = llama_cpp.llama_sampler_init_grammar(
            self.llm._model.vocab, grammar._grammar.encode(), grammar._root.encode()
        )

    def _allowed(self, ids: Any, logits: Any) -> list[int]:
        import llama_cpp
        import numpy as np

        data = (llama_cpp.llama_token_data * len(ids))()
        for i, token in enumerate(ids):
            data[i].id = int(token)  # type: ignore[assignment]
            data[i].logit = float(logits[token])
        candidates = llama_cpp.llama_token_data_array(
            data=data, size=len(ids), selected=-1, sorted=False
        )
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(candidates))
        size = int(candidates.size)
        return [int(data[i].id) for i in range(size) if np.isfinite(data[i].logit)]

    def __call__(self, input_ids: Any, logits: Any) -> Any:
        import llama_cpp
        import numpy as np  # llama-cpp-python's own dependency (panel[local])

        if self._sampler is None:
            self._start()
        elif len(input_ids) > self._seen:  # the token sampled last step joins the grammar
            llama_cpp.llama_sampler_accept(self._sampler, int(input_ids[-1]))
        self._seen = len(input_ids)
        allowed = self._allowed(np.argpartition(logits, -TOP_K)[-TOP_K:], logits)
        if not allowed:
            self.full_scans += 1
            allowed = self._allowed(np.arange(len(logits)), logits)
        out = np.full_like(logits, -np.inf)
        out[allowed] = logits[allowed]
        return out

    def close(self) -> None:
        if self._sampler is not None:
            import llama_cpp

            llama_cpp.llama_sampler_free(self._sampler)
            self._sampler = None
