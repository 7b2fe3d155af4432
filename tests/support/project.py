"""Fixture personas and prompts: tests pin call counts to these, not to the real folders.

They are a copy of the shipped personas/ and prompts/ as of the layout step, so a new
default persona in personas/ changes no test's expected call count. Tests of the shipped
folders themselves (they load, they render) name the real folders on purpose.
"""

from __future__ import annotations

from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "fixture"
PERSONAS = FIXTURE / "personas"
PROMPTS = FIXTURE / "prompts"
