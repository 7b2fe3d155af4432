"""The grounding benchmark's data (issue 26, "Measured"): well-formed, big enough, honest."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks import bench_grounding
from benchmarks.bench_grounding import MIN_CASES, load


def test_the_cases_are_well_formed_and_there_are_enough() -> None:
    sets, sources = load()
    cases = [c for group in sets.values() for c in group]
    assert len(sets["development"]) >= MIN_CASES
    labels = Counter(label.expect for c in cases for label in c.claims)
    # every kind of label the issue names is present
    assert {"supported", "contradicted", "uncited", "unknown_source"} <= set(labels)
    categories = {c.category for c in cases}
    for needed in ("format", "paraphrase", "fabricated", "uncited", "prose"):
        assert needed in categories
    for case in cases:
        pack = bench_grounding.pack_for(case, sources)
        assert len(pack.sources) == len(case.sources)
        # the ids cited inline are listed, and a fabricated case cites an id beyond the pack
        if case.category == "fabricated":
            assert any(pack.get(i) is None for i in case.cited), case.id
        else:
            assert all(pack.get(i) is not None for i in case.cited), case.id


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[case]]\nid = "x"\ncategory = "c"\nsources = ["s"]\ncited = []\n'
         'quote = "A quote long enough to pass."\nclaims = [{ text = "x", expect = "supported" }]',
         "must occur once"),
        ('[[case]]\nid = "x"\ncategory = "c"\nsources = ["s"]\ncited = []\n'
         'quote = "A quote long enough to pass."\nclaims = []\nextra = 1', "extra"),
        ('[[case]]\nid = "x"\ncategory = "c"\nsources = ["t"]\ncited = []\n'
         'quote = "A quote long enough to pass."\nclaims = []', "unknown sources"),
        ('[[case]]\nid = "x"\ncategory = "c"\nsources = ["s"]\ncited = []\n'
         'quote = "A quote long enough: 5 of them."\nclaims = [{ text = "5", expect = "maybe" }]',
         "expect"),
    ],
)  # fmt: skip
def test_a_malformed_case_is_an_error(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "sources.toml").write_text(
        '[s]\nkind = "docs"\nurl = "https://x.example"\ntitle = "t"\ntext = "words"\n'
    )
    development, held_out = bench_grounding.SETS.values()
    (tmp_path / development).write_text(text)
    (tmp_path / held_out).write_text(text.replace('id = "x"', 'id = "y"'))
    with pytest.raises(ValueError, match=error):
        load(tmp_path)


def test_the_benchmark_counts_a_miss_as_a_miss() -> None:
    sets, sources = load()
    case = next(c for c in sets["development"] if c.id == "quill-business-wrong")
    results = bench_grounding.evaluate([case], sources)
    assert results["recall_contradicted"] == {"flagged": 1, "of": 1, "rate": 1.0}
    # the same quote labelled (wrongly) as supported is a false flag
    relabelled = case.model_copy(
        update={"claims": (case.claims[0].model_copy(update={"expect": "supported"}),)}
    )
    results = bench_grounding.evaluate([relabelled], sources)
    assert results["false_flags_supported"]["flagged"] == 1
    assert results["misses"][0]["case"] == "quill-business-wrong"
