"""Issue 25, item 15: without the ``[local]`` extra, tests that need it are skipped.

Four tests failed in an install without llama-cpp-python. This runs them in a pytest whose
imports behave as in such an install (``tests/support/no_local_extra.py``): each is skipped
with the reason, none fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEEDS_LOCAL = [
    "tests/test_nightly.py::test_refuses_the_embedded_default_unless_asked",
    "tests/test_provider_kinds.py::test_the_vendor_for_recusal_is_decided_by_the_descriptor",
    "tests/test_reask.py::test_the_embedded_model_decodes_with_its_repeat_penalty",
    "tests/test_wire_bytes.py::test_the_arguments_handed_to_llama_cpp_are_pinned",
    "tests/test_local_grammar.py",
]


def test_tests_that_need_the_local_extra_are_skipped_without_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.no_local_extra", "-q",
         "-p", "no:cacheprovider", "-rs", *NEEDS_LOCAL],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "failed" not in done.stdout and f"{len(NEEDS_LOCAL)} skipped" in done.stdout
    assert done.stdout.count("needs the [local] extra") == len(NEEDS_LOCAL) - 1
