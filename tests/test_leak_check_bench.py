"""The leak-check benchmark: its rewrites, and the check on panel's real prompts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks import leak_check as bench
from panel.defences import leaks
from panel.defences.untrusted import DATAMARK, datamark

PROMPTS = bench.renders(bench.ROOT)


def test_rewrites_change_what_they_say_and_nothing_else() -> None:
    text = datamark("The model reads every invoice that the team uploads.")
    assert bench.verbatim(text) == text
    assert bench.unmarked(text) == "The model reads every invoice that the team uploads."
    assert bench.recased(text) == '"the model reads every invoice that the team uploads"'
    assert bench.function_words(text) == "a model reads every invoice a team uploads."
    # 1 in 2 content words replaced: model, reads, every, invoice, team, uploads
    changed = bench.reworded(2)(text).split()
    assert changed[1] == "model" and changed[2] != "reads" and changed[4] != "invoice"
    assert len(changed) == len(bench.unmarked(text).split())


def test_the_seed_pages_human_reviews_are_never_flagged() -> None:
    quotes = bench.seed_quotes()
    assert len(quotes) == 8 and all(len(q.split()) > 50 for q in quotes)
    alarms = bench.false_alarms(PROMPTS, quotes)
    assert alarms["checks"] == 8 * len(PROMPTS)
    assert alarms["flagged"] == 0, alarms["examples"]


def test_the_current_check_catches_what_the_verbatim_one_missed() -> None:
    found = bench.detection(PROMPTS)
    for kind in ("rule", "card"):
        assert found[kind]["verbatim"]["current"] == 1.0
        assert found[kind]["function_words"]["current"] >= 0.8
        for row in found[kind].values():
            assert row["current"] >= row["verbatim_only"]
    assert found["card"]["unmarked"] == {
        "cases": found["card"]["verbatim"]["cases"],
        "verbatim_only": 0.0,
        "current": 1.0,
    }
    words = found["rule"]["function_words"]  # the verbatim check misses some rewordings
    assert words["verbatim_only"] < words["current"] == 1.0
    # half the content words replaced is paraphrase: the documented limit
    assert found["card"]["reworded_1_in_2"]["current"] < 0.1


def test_card_sentences_are_the_datamarked_vendor_text() -> None:
    sentences = bench.card_sentences(PROMPTS[0])
    assert sentences and all(DATAMARK in s for s in sentences)
    assert all(len(s.split(DATAMARK)) >= bench.MIN_WORDS for s in sentences)


def test_main_writes_its_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "leak.json"
    monkeypatch.setattr(sys, "argv", ["leak_check", "--out", str(out)])
    bench.main()
    data = json.loads(out.read_text())
    assert data["settings"]["echo_words"] == leaks.ECHO_WORDS
    assert set(data["detection"]) == {"rule", "card"}
    assert data["false_alarms"]["flagged"] == 0
