"""The verdict schema in the shape llama.cpp's grammar engine enforces well.

Shared by the embedded provider (``local.py``, in-process grammar) and by HTTP
providers talking to a grammar-backed server (llama.cpp's ``llama-server``,
llama-cpp-python's server): both turn the schema into a GBNF grammar, and a raw
persona schema (long ``maxLength`` strings) becomes repetitions llama.cpp refuses
("number of rules that are going to be repeated multiplied by the new repetition
exceeds sane defaults"); llama-cpp-python's server died on it (issue 27). The
runner still validates every answer against the full schema.
"""

from __future__ import annotations

from typing import Any

_GRAMMAR_IGNORED = frozenset({"pattern", "format"})
GRAMMAR_STRING_CAP = 240  # characters: bounds worst-case output to ~700 tokens, and longer caps
# make llama.cpp's grammar slow to build (and, at a few thousand, refused)


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


_CACHE: dict[int, tuple[Any, Any]] = {}  # id -> (the schema, held so no id is reused; rewritten)


def grammar_schema_of(schema: dict[str, Any]) -> Any:
    """``grammar_schema(schema)``, worked out once per schema object (as ``strict_schema_of``)."""
    hit = _CACHE.get(id(schema))
    if hit is None or hit[0] is not schema:
        if len(_CACHE) > 256:
            _CACHE.clear()
        hit = _CACHE[id(schema)] = (schema, grammar_schema(schema))
    return hit[1]
