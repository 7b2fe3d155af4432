"""The README against reality (issue 16, item 14): samples, links and named files."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from panel.records.schema import (
    SCHEMA_VERSION,
    CallResult,
    ComparisonRecord,
    Editorial,
    ToolScore,
    Totals,
)

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _record_sample() -> str:
    match = re.search(r"```jsonc\n(\{\n  \"schema_version\".*?)```", README, re.S)
    assert match, "the README shows a sample record"
    return match.group(1)


def test_the_sample_record_is_the_current_version_with_every_field() -> None:
    sample = _record_sample()
    assert f'"schema_version": {SCHEMA_VERSION},' in sample
    models: list[type[BaseModel]] = [ComparisonRecord, CallResult, ToolScore, Totals, Editorial]
    missing = [
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if f'"{name}"' not in sample
    ]
    assert not missing, f"README sample record lacks {missing}"


def test_every_document_the_readme_names_exists() -> None:
    linked = re.findall(r"\]\(([^)#\s]+)\)", README)
    named = re.findall(r"`([\w./-]+\.md)`", README) + re.findall(
        r"(?<![/\w])([A-Z]+\.md)\b", README
    )
    local = [p for p in [*linked, *named] if "://" not in p]
    assert local, "the README names other documents"
    missing = sorted({p for p in local if not (ROOT / p).exists()})
    assert not missing, f"README names files that do not exist: {missing}"
