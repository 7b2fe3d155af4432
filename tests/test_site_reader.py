"""What readers see on the site: one answer in plain words, no provider errors, the signup."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from panel.cli import app
from panel.paths import Home
from panel.publish.render.answer import evidence_sentence
from panel.publish.site import build
from panel.records.editorial import approve
from panel.records.io import dump, read_record
from panel.records.schema import CallResult, HeadToHead
from tests.support.publishing import ERROR_DETAIL, save_degraded
from tests.support.records import make_record
from tests.support.site import A, B, Page, approved, options, runner

# -- what readers see: no provider errors, one answer, names not slugs ------------------


def _forced(home: Home, keep: Callable[[CallResult], bool]) -> Path:
    path = save_degraded(
        home.runs,
        A,
        B,
        keep,
        withhold=lambda c: c.persona == "futurist",
        providers=("openai/gpt-4o-mini", "mistral/mistral-small-latest"),
    )
    approve(home.runs, path, "editor", force=True)
    return path


def test_an_incomplete_page_says_so_and_never_shows_provider_errors(
    home: Home, tmp_path: Path
) -> None:
    _forced(home, lambda c: c.persona == "dx" and c.provider == "openai/gpt-4o-mini")
    out = tmp_path / "site"
    build(home, options(out))
    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".png":  # share images hold no text
            text = path.read_text()
            assert ERROR_DETAIL not in text and "server_error" not in text, path
            assert "card-text-echo" not in text, path
    page = Page((out / "compare/alpha-tool-vs-beta-tool.html").read_text())
    (warning,) = page.classes["quorum-warning"]
    assert "The panel did not reach quorum: 2 of 16 verdicts valid" in warning
    assert "Alpha Tool and Beta Tool lack a valid verdict from every reviewer" in warning
    text = page.all_text()
    assert "more from the panel" not in text and "Failed on" not in text
    assert "No answer. (mistral/mistral-small-latest)" in text
    assert "Withheld. (openai/gpt-4o-mini)" in text
    assert re.search(r"Panel ship \d+% \(below quorum, from 1 valid verdict\)", text), text
    assert page.classes["pick-reason"][0].startswith("The panel did not reach quorum (a valid")
    data = json.loads((out / "compare/alpha-tool-vs-beta-tool.json").read_text())
    assert data["quorum"]["met"] is False and "did not reach quorum" in data["quorum"]["note"]
    feed = json.loads((out / "feed.json").read_text())
    assert "The panel did not reach quorum" in feed["items"][0]["content_text"]
    for listing in ("index.html", "tools/alpha-tool.html"):
        assert "pick: No pick · below quorum" in Page((out / listing).read_text()).all_text()


def _with_head_to_head(path: Path, pick: str, picks: dict[str, int]) -> None:
    record = read_record(path)
    h2h = HeadToHead(
        rule="both orders", seats=[], pick=pick, picks=picks, pairs=6, consistent=4,
        consistency=0.6667,
    )  # fmt: skip
    scores = record.scores.model_copy(update={"head_to_head": h2h})
    path.write_bytes(dump(record.model_copy(update={"scores": scores})))


def test_one_headline_answer_with_its_rule_and_the_head_to_head_as_evidence(
    home: Home, tmp_path: Path
) -> None:
    path = approved(
        home, verdict=lambda p, s, v: "ship" if s == "alpha-tool" or p == "dx" else "skip"
    )
    _with_head_to_head(path, "beta-tool", {"alpha-tool": 1, "beta-tool": 3})
    out = tmp_path / "site"
    build(home, options(out))
    page = Page((out / "compare/alpha-tool-vs-beta-tool.html").read_text())
    assert [p.strip() for p in page.classes["pick"]] == ["Ship with Alpha Tool."]
    (answer,) = page.classes["answer"]
    assert "Alpha Tool has the higher panel ship rate: 100% against 25% for Beta Tool." in answer
    assert "How the pick is made: the tool with the higher panel ship rate wins" in answer
    (evidence,) = page.classes["head-to-head"]
    assert "3 of 6 model seats picked Beta Tool both times (order consistency 67%)" in evidence
    assert "That differs from the pick, which weighs each tool's own verdicts" in evidence
    assert "alpha-tool" not in answer and "beta-tool" not in answer  # names, not slugs
    for sentence in answer.replace("\n", " ").split(". "):
        assert not sentence.strip() or sentence.strip()[0].isupper(), sentence
    feed = json.loads((out / "feed.json").read_text())
    assert feed["items"][0]["content_text"].startswith(
        "Ship with Alpha Tool. Alpha Tool has the higher panel ship rate"
    )


def test_a_tie_broken_by_reviewer_majorities_reads_as_a_sentence(
    home: Home, tmp_path: Path
) -> None:
    def verdict(persona: str, slug: str, provider: str) -> str:
        if slug == "alpha-tool":
            return "ship" if persona in ("dx", "competitive") else "skip"
        return "ship" if provider.startswith("openai") else "skip"

    approved(home, verdict=verdict, providers=("openai/gpt-4o-mini", "mistral/small"))
    out = tmp_path / "site"
    build(home, options(out))
    page = Page((out / "compare/alpha-tool-vs-beta-tool.html").read_text())
    (reason,) = page.classes["pick-reason"]
    assert reason.strip() == (
        "Both have a 50% panel ship rate; more reviewers ship Alpha Tool: "
        "2 of 4 against 0 of 4 for Beta Tool."
    )
    assert "persona majorities" not in page.all_text()


# -- the newsletter signup -----------------------------------------------------------


def test_newsletter_form_posts_to_the_configured_endpoint(home: Home, tmp_path: Path) -> None:
    approved(home)
    (home.root / "panel.toml").write_text(
        '[site]\nbase_url = "https://v.example/"\n'
        'newsletter_action = "https://list.example.net:8443/subscribe/post?u=1&id=2"\n'
        'newsletter_field = "EMAIL"\n'
    )
    out = tmp_path / "site"
    assert runner.invoke(app, ["site", "build", "--out", str(out)]).exit_code == 0
    for name in ("index.html", "compare/alpha-tool-vs-beta-tool.html", "tools/beta-tool.html"):
        page = Page((out / name).read_text())
        (form,) = [a for t, a in page.tags if t == "form"]
        assert form["action"] == "https://list.example.net:8443/subscribe/post?u=1&id=2"
        assert form["method"] == "post"
        (field,) = [a for t, a in page.tags if t == "input"]
        assert (field["type"], field["name"]) == ("email", "EMAIL")
        csp = next(a["content"] for t, a in page.tags if a.get("http-equiv"))
        assert "form-action https://list.example.net:8443;" in (csp or "")
        assert "Get the next comparison in your inbox" in page.all_text()
        assert any(a.get("href") == "feed.xml" or a.get("href") == "../feed.xml"
                   for t, a in page.tags if t == "a")  # fmt: skip


def test_without_a_newsletter_endpoint_there_is_no_form_and_feeds_stand_in(
    home: Home, tmp_path: Path
) -> None:
    approved(home)
    build(home, options(tmp_path / "site"))
    page = Page((tmp_path / "site/index.html").read_text())
    assert not [t for t, _ in page.tags if t in ("form", "input")]
    csp = next(a["content"] for t, a in page.tags if a.get("http-equiv"))
    assert "form-action 'none'" in (csp or "")
    assert "Get the next comparison in your feed reader" in page.all_text()


@pytest.mark.parametrize(
    "action",
    [
        "javascript:alert(1)",
        "https://user:pw@list.example/x",
        "https://list.example;script-src *",
        'https://list.example/"><script>',
        "ftp://list.example/",
    ],
)
def test_a_bad_newsletter_endpoint_is_a_one_line_error(home: Home, action: str) -> None:
    (home.root / "panel.toml").write_text(f"[site]\nnewsletter_action = {json.dumps(action)}\n")
    result = runner.invoke(app, ["site", "build", "--base-url", "https://v.example/"])
    assert result.exit_code == 2
    assert "newsletter_action" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("picks", "wording"),
    [
        ({"alpha-tool": 0, "beta-tool": 0}, "none of the 4 model seats that answered both times"),
        ({"alpha-tool": 2, "beta-tool": 2}, "split evenly (Alpha Tool 2, Beta Tool 2;"),
    ],
)
def test_a_head_to_head_without_a_pick_says_why(picks: dict[str, int], wording: str) -> None:
    record = make_record(A, B)
    consistent = sum(picks.values())
    h2h = HeadToHead(
        rule="both orders", seats=[], pick=None, picks=picks, pairs=4, consistent=consistent,
        consistency=consistent / 4,
    )  # fmt: skip
    record = record.model_copy(
        update={"scores": record.scores.model_copy(update={"head_to_head": h2h})}
    )
    sentence = evidence_sentence(record, {"alpha-tool": "Alpha Tool", "beta-tool": "Beta Tool"})
    assert wording in sentence and sentence.endswith("so the head-to-head has no pick.")
