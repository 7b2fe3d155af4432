"""Issue 26 on the page: each card lists its sources, citations link to them, a tool with
none says it was reviewed from the vendor's description only; feeds and digest say so too."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from panel.cli import app
from panel.desk.index import FLAGS
from panel.desk.material import call_row
from panel.paths import Home
from panel.publish.render import sources
from panel.publish.render.view import page_view
from panel.publish.site import build
from panel.records.editorial import approve
from panel.records.io import read_record, write_record
from panel.records.schema import Claim
from tests.support import evidence_records
from tests.support.records import NOW
from tests.support.site import APPROVED_AT, A, B, Page, options


def _published(home: Home, out: Path) -> Path:
    path = evidence_records.save(home.runs, A, B)
    approve(home.runs, path, "editor", now=APPROVED_AT)
    build(home, options(out), now=datetime(2026, 11, 25, 9, tzinfo=APPROVED_AT.tzinfo))
    return path


def test_the_card_lists_its_sources_and_quotes_link_their_citations(
    home: Home, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    _published(home, out)
    html = (out / "compare" / "alpha-tool-vs-beta-tool.html").read_text()
    page = Page(html)
    items = [a for t, a in page.tags if t == "li" and a.get("data-source")]
    assert [a["id"] for a in items] == [
        "source-alpha-tool-S1",
        "source-alpha-tool-S2",
        "source-alpha-tool-S3",
    ]
    text = page.all_text()
    assert "pricing , alpha.example, checked 2026-11-23" in text  # kind, domain, date
    links = [a for t, a in page.tags if t == "a" and "citation" in (a.get("class") or "")]
    assert {(a["data-source"], a["href"]) for a in links} == {
        ("S1", "https://www.alpha.example/"),
        ("S2", "https://alpha.example/pricing"),
    }  # S3's URL is not http(s): its marker stays text
    assert all(a["rel"] == "nofollow noopener noreferrer ugc" for a in links)
    assert "javascript:" not in html
    assert "[S1, S3]" not in text and "S3" in text
    assert page.classes["evidence-note"] == ["Reviewed from the vendor's description only."]


def test_feeds_and_the_digest_carry_the_same_labels(home: Home, tmp_path: Path) -> None:
    out = tmp_path / "site"
    path = _published(home, out)
    record = read_record(path)
    view = page_view(record)
    expected = " ".join(sources.label(c.name, c.sources) for c in view.cards)
    assert expected.startswith("Alpha Tool: sources S1 homepage, alpha.example, checked")
    assert expected.endswith("Beta Tool: reviewed from the vendor's description only.")
    feed = json.loads((out / "feed.json").read_text())
    assert feed["items"][0]["content_text"].endswith(expected)
    assert expected in (out / "feed.xml").read_text().replace("&apos;", "'")
    result = CliRunner().invoke(app, ["digest", "--week", "2026-W48", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert expected in (tmp_path / "2026-W48.html").read_text().replace("&#39;", "'")
    assert "Beta Tool: reviewed from the vendor" in (tmp_path / "2026-W48.md").read_text()


def test_a_quote_is_split_at_its_markers_and_only_known_sources_link() -> None:
    parts = sources.cited_parts(
        "Costs $20 [S2]; see [S1, S9].", {"S1": "https://a.example/", "S2": "https://b.example/"}
    )
    assert "".join(p.text for p in parts) == "Costs $20 [S2]; see [S1, S9]."
    assert [(p.text, p.href) for p in parts if p.href] == [
        ("S2", "https://b.example/"),
        ("S1", "https://a.example/"),
    ]


def test_panel_show_lists_sources_and_why_a_quote_was_withheld(home: Home) -> None:
    record = evidence_records.with_evidence(A, B)
    claim = Claim(
        text="$25 per month", kind="price", cited=["S2"], outcome="contradicted",
        reason="S2 states $20 per month",
    )  # fmt: skip
    calls = [
        c.model_copy(update={"flags": ["ungrounded-claim"], "claims": [claim]})
        if c.tool == A.slug and c.persona == "dx"
        else c
        for c in record.calls
    ]
    path = write_record(
        home.runs,
        NOW.date(),
        f"{A.slug}-vs-{B.slug}",
        lambda rid: record.model_copy(update={"calls": calls, "id": rid}),
    )
    rid = path.relative_to(home.runs).with_suffix("").as_posix()
    shown = CliRunner().invoke(app, ["show", rid], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    out = " ".join(shown.stdout.split())
    assert "Sources: S1 homepage, alpha.example, checked 2026-11-23" in out
    assert "Reviewed from the vendor's description only." in out
    assert "ungrounded-claim" in out and "$25 per month: S2 states $20 per month" in out
    md = CliRunner().invoke(app, ["show", rid, "--markdown"]).stdout
    assert "S2 [pricing, alpha.example, checked 2026-11-23](<https://alpha.example/pricing>)" in md
    assert "S3 docs, checked 2026-11-23" in md  # not http(s): no link, no domain
    assert "*Reviewed from the vendor's description only.*" in md


def test_the_desk_says_why_a_quote_was_withheld_and_flags_abstentions() -> None:
    record = evidence_records.with_evidence(A, B)
    call = record.calls[0].model_copy(
        update={
            "flags": ["ungrounded-claim"],
            "claims": [
                Claim(
                    text="$25",
                    kind="price",
                    cited=["S2"],
                    outcome="contradicted",
                    reason="S2 states $20 per month",
                )
            ],
        }
    )
    row = call_row(call, {}, {})
    assert row.outcome == "withheld"
    assert "sources it cites do not state" in row.detail and "$25: S2 states $20" in row.detail
    abstained = record.calls[0].model_copy(update={"evidence": "insufficient"})
    assert call_row(abstained, {}, {}).outcome == "abstained"
    assert "abstained" in FLAGS
