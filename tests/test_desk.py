"""The editor's desk (`panel serve`) through the ASGI test client: queue, record, actions."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from panel.paths import Home
from panel.publish.render.html import CSP
from panel.records.editorial import approve, reject
from panel.records.io import read_record
from panel.records.store import Store
from tests.support.desk import ORIGIN, A, B, client, csrf, flashes, post, save_rich
from tests.support.publishing import ERROR_DETAIL
from tests.support.records import NOW, save_record, tool
from tests.support.site import Page

SITE = '[site]\ntitle = "Verdicts"\nbase_url = "https://verdicts.example/"\n'
C, D = tool("gamma-tool", name="Gamma Tool"), tool("delta-tool", name="Delta Tool")


@pytest.fixture
def desk(home: Home) -> TestClient:
    (home.root / "panel.toml").write_text(SITE)
    return client(home)


def _ids(html: str) -> list[str]:
    return re.findall(r'<tr class="row-[a-z]+" data-record="([^"]+)"', html)


def _rows(html: str, css: str) -> list[str]:
    """The text of each table row with class ``css``, tags stripped, whitespace folded."""
    rows = re.findall(rf'<tr class="{css}[^"]*">(.*?)</tr>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in rows]


def _calls(html: str) -> list[tuple[str, str]]:
    """(reviewer, the call card's text) for each call on the record page, in page order."""
    out = []
    for group in re.findall(r'<details class="persona-calls"[^>]*>(.*?)</details>', html, re.S):
        title = re.search(r"<summary><strong>(.*?)</strong>", group)
        assert title is not None
        for card in re.findall(r'<article class="call [^"]*">(.*?)</article>', group, re.S):
            out.append((title.group(1), " ".join(re.sub(r"<[^>]+>", " ", card).split())))
    return out


def _rid(path: Path) -> str:
    return path.relative_to(path.parent.parent).with_suffix("").as_posix()


# -- the queue -----------------------------------------------------------------
def test_the_queue_lists_drafts_first_then_the_other_states_newest_first(
    home: Home, desk: TestClient
) -> None:
    old_draft = save_record(home.runs, A, B, created=NOW - timedelta(days=2))
    published = save_record(home.runs, C, D, created=NOW + timedelta(hours=3))
    approve(home.runs, published, "gina")
    rejected = save_record(home.runs, A, C, created=NOW + timedelta(hours=4))
    reject(home.runs, rejected, "gina", "wrong")
    new_draft = save_record(home.runs, B, D, created=NOW)
    response = desk.get("/")
    assert response.status_code == 200
    assert _ids(response.text) == [_rid(p) for p in (new_draft, old_draft, published, rejected)]
    assert "all 4" in response.text and "draft 2" in response.text


def test_a_queue_row_shows_pair_state_pick_flags_cost_and_age(home: Home, desk: TestClient) -> None:
    save_rich(
        home.runs,
        A,
        B,
        verdict=lambda p, s, v: "skip" if (p == "business") != v.startswith("mistral") else "ship",
        fail=lambda c: c.persona == "dx" and c.provider.startswith("openai"),
    )
    page = Page(desk.get("/").text)
    assert [t.strip() for t in page.classes["pair"]] == ["Alpha Tool vs Beta Chat"]
    assert page.classes["state"][0] == "draft"
    assert page.classes["incomplete"][0] == "incomplete"
    assert page.classes["pick"][0] == "No pick"
    assert page.classes["flag-withheld"][0] == "1 withheld"
    assert page.classes["flag-recused"][0] == "12 recused"
    assert page.classes["flag-agreement"][0].startswith("low agreement (α -0.")
    text = page.all_text()
    assert "$0.0096" in text and re.search(r"\b\d+ d\b", text)


def test_the_queue_filters_by_status_tool_date_and_flag(home: Home, desk: TestClient) -> None:
    ab = save_rich(home.runs, A, B, created=NOW - timedelta(days=3))
    cd = save_record(home.runs, C, D, created=NOW)
    ac = save_record(home.runs, A, C, created=NOW + timedelta(days=2))
    approve(home.runs, cd, "gina")
    assert _ids(desk.get("/?status=approved").text) == [_rid(cd)]
    assert _ids(desk.get("/?tool=alpha-tool").text) == [_rid(ac), _rid(ab)]
    assert _ids(desk.get("/?since=2026-11-24&until=2026-11-25").text) == [_rid(cd)]
    assert _ids(desk.get("/?since=2026-11-25").text) == [_rid(ac)]
    assert _ids(desk.get("/?flag=withheld").text) == [_rid(ab)]
    assert _ids(desk.get("/?flag=recused&status=draft").text) == [_rid(ab)]
    assert _ids(desk.get("/?flag=incomplete").text) == []
    bad = desk.get("/?status=bogus&since=yesterday&flag=%3Cb%3E")
    assert bad.status_code == 200 and len(_ids(bad.text)) == 3
    notices = Page(bad.text).classes["notice"]
    assert len(notices) == 3 and "ignored status='bogus'" in notices[0]
    assert "<b>" not in bad.text


def test_the_queue_pages_through_many_records(home: Home, desk: TestClient) -> None:
    tools = [tool(f"tool-{i:02d}") for i in range(12)]
    for i in range(60):
        save_record(home.runs, tools[i % 12], tools[(i + 1 + i // 12) % 12], created=NOW)
    first = desk.get("/?per=50")
    assert len(_ids(first.text)) == 50 and "page 1 of 2" in first.text
    second = desk.get("/?per=50&page=2")
    assert len(_ids(second.text)) == 10
    assert not set(_ids(first.text)) & set(_ids(second.text))
    assert len(_ids(desk.get("/?per=999").text)) == 60  # not a page size: the default, 100


def test_the_queue_reads_a_record_once_and_again_only_when_it_changes(
    home: Home, desk: TestClient
) -> None:
    path = save_record(home.runs, A, B)
    save_record(home.runs, C, D)
    index = desk.app.state.desk.index  # type: ignore[attr-defined]
    desk.get("/")
    assert index.reads == 2
    desk.get("/")
    desk.get("/?status=draft")
    assert index.reads == 2
    approve(home.runs, path, "gina")
    assert "approved" in Page(desk.get("/").text).classes["state"]
    assert index.reads == 3


def test_an_unreadable_file_is_left_out_of_the_queue_with_its_reason(
    home: Home, desk: TestClient
) -> None:
    save_record(home.runs, A, B)
    (home.runs / "2026-11-24" / "zzz-vs-yyy.json").write_text('{"schema_version": 2, "id": ')
    page = Page(desk.get("/").text)
    assert len(_ids(desk.get("/").text)) == 1
    assert "zzz-vs-yyy.json" in page.all_text() and "not a valid JSON record" in page.all_text()


# -- the record page -------------------------------------------------------------
def test_the_record_page_shows_the_editors_material(home: Home, desk: TestClient) -> None:
    older = save_rich(home.runs, A, B, created=NOW - timedelta(days=1))
    newer = save_rich(
        home.runs,
        A,
        B,
        verdict=lambda p, s, v: "skip" if v.startswith("mistral") else "ship",
        fail=lambda c: c.persona == "dx" and c.tool == "alpha-tool" and c.provider[0] == "o",
    )
    response = desk.get(f"/records/{_rid(newer)}")
    assert response.status_code == 200
    page = Page(response.text)
    text = page.all_text()
    # every call: persona, provider, verdict, confidence, structured fields
    cards = _calls(response.text)
    assert len(cards) == 32  # 16 verdicts, 16 head-to-head answers, each readable whole
    titles = [r for r, _ in cards]
    assert titles == sorted(titles, key=titles.index)  # each reviewer's calls together
    (card,) = [
        c
        for r, c in cards
        if r == "Competitive" and c.startswith("Alpha Tool verdict openai/gpt-4o-mini gpt-4o-mini")
    ]
    assert "answered · ship (4/5) Quote by competitive on alpha-tool" in card
    assert "best_for competitive teams risks lock-in, pricing" in card
    assert "head-to-head" in cards[-1][1] and "Beta Chat shown first" in cards[-1][1]
    assert "Alpha Tool (3/5) competitive prefers" not in cards[-1][1]
    assert f"server_error: {ERROR_DETAIL}" in text  # editors see why
    # withheld answers with their flag and reason
    withheld = page.classes["withheld"][0]
    assert "card-text-echo" in withheld and "copies 8 or more words of the vendor" in withheld
    # recused seats: the Mistral model on Mistral's tool, and its head-to-head seats
    recusals = page.classes["recusals"][0]
    assert recusals.count("mistral/mistral-small-latest") == 12
    # trust and agreement
    assert "Alpha Tool: 0 of 4 reviewers ship" in page.classes["trust"][0]  # ties counted apart
    assert "Krippendorff's alpha" in page.classes["agreement"][0]
    assert "Conflicts of interest: mistral/mistral-small-latest reviewing beta-chat" in text
    # the head-to-head in both orders
    assert "Alpha Tool: picked in both orders" in page.classes["h2h"][0]
    assert "Alpha Tool first" in page.classes["seats"][0]
    assert "Beta Chat first" in page.classes["seats"][0]
    # the diff against the previous record of the pair, as `panel rerun` shows it
    assert f"Against {_rid(older)}: 9 of 32 answers changed" in page.classes["diff-summary"][0]
    assert "failed (server_error)" in page.classes["diff"][-1]
    # the page as it will publish, framed
    (frame,) = [a for t, a in page.tags if t == "iframe"]
    name = "alpha-tool-vs-beta-chat"
    assert frame["src"] == f"/preview/{_rid(newer)}/compare/{name}.html"
    assert frame["sandbox"] == "allow-same-origin"
    first = Page(desk.get(f"/records/{_rid(older)}").text)
    assert "This is the first record of this pair." in first.all_text()


def test_the_preview_is_byte_for_byte_the_page_the_site_build_writes(
    home: Home, desk: TestClient
) -> None:
    path = save_rich(home.runs, A, B)
    Store.open(home.runs).set_votes([("alpha-tool", 30, 10)], "test")
    rid, name = _rid(path), "alpha-tool-vs-beta-chat"
    preview = desk.get(f"/preview/{rid}/compare/{name}.html")
    data = desk.get(f"/preview/{rid}/compare/{name}.json")
    assert preview.status_code == 200 and "75% ship (40 votes)" in Page(preview.text).all_text()
    assert preview.headers["content-security-policy"].startswith(CSP.format(form="'none'"))
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    assert desk.get(f"/preview/{rid}/style.css").headers["content-type"].startswith("text/css")
    assert desk.get(f"/preview/{rid}/tools/alpha-tool.html").status_code == 404
    assert desk.get(f"/preview/{rid}/compare/other.html").status_code == 404
    assert "approved by" not in preview.text  # a draft's byline names no approval yet
    assert post(desk, f"/records/{rid}/approve", {}).status_code == 303  # type: ignore[attr-defined]
    preview = desk.get(f"/preview/{rid}/compare/{name}.html")  # now with its approval's byline
    assert "approved by" in preview.text
    assert post(desk, "/site/build", {"next": "/"}).status_code == 303  # type: ignore[attr-defined]
    site = home.root / "site" / "compare"
    assert (site / f"{name}.html").read_bytes() == preview.content
    assert (site / f"{name}.json").read_bytes() == data.content


def test_an_unknown_or_malformed_record_id_is_a_404(home: Home, desk: TestClient) -> None:
    save_record(home.runs, A, B)
    for url in (
        "/records/2026-11-24/nope-vs-none",
        "/records/2026-11-24/..",
        "/records/..%2F..%2Fetc/passwd",
        "/records/2026-11-24/Alpha-Tool-vs-Beta",
        "/preview/2026-11-24/nope-vs-none/compare/nope-vs-none.html",
    ):
        response = desk.get(url)
        assert response.status_code == 404, url
    missing = desk.get("/records/2026-11-24/nope-vs-none")
    assert "no record 2026-11-24/nope-vs-none" in Page(missing.text).classes["refusal"][0]


# -- the actions -------------------------------------------------------------------
def _history(path: Path) -> list[tuple[str, str]]:
    return [(e.action, e.by) for e in read_record(path).editorial.history]


def test_approve_redirects_and_records_the_editor_in_the_history(
    home: Home, desk: TestClient
) -> None:
    path = save_record(home.runs, A, B)
    rid = _rid(path)
    response = post(desk, f"/records/{rid}/approve", {}, page=f"/records/{rid}")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/records/{rid}"  # type: ignore[attr-defined]
    assert _history(path) == [("approved", "alice")]
    shown = desk.get(f"/records/{rid}").text
    assert flashes(shown) == [
        f"approved {rid}; it is the Alpha Tool vs Beta Chat page from the next `panel site build`"
    ]
    assert flashes(desk.get(f"/records/{rid}").text) == []  # shown once
    again = post(desk, f"/records/{rid}/approve", {})
    assert again.status_code == 303  # type: ignore[attr-defined]
    assert "already approved and is its pair's page" in flashes(desk.get("/").text)[0]


def test_a_decision_on_a_record_that_changed_since_its_page_loaded_asks_again(
    home: Home, desk: TestClient
) -> None:
    path = save_record(home.runs, A, B)
    rid = _rid(path)
    other = TestClient(desk.app, base_url=ORIGIN)  # editor B, whose page loaded earlier
    stale = other.get(f"/records/{rid}").text
    version = re.search(r'name="version" value="(\d+)"', stale)
    assert version and version.group(1) == "0"
    post(desk, f"/records/{rid}/reject", {"reason": "phishing vendor"})  # editor A
    assert read_record(path).editorial.status == "rejected"
    said = []
    for form in ({"version": version.group(1)}, {}):  # B's stale Approve; a form without one
        clicked = other.post(
            f"/records/{rid}/approve",
            data={"csrf": csrf(stale), **form},
            headers={"origin": ORIGIN},
            follow_redirects=False,
        )
        assert clicked.status_code == 303 and clicked.headers["location"] == f"/records/{rid}"
        assert read_record(path).editorial.status == "rejected"  # nothing reversed
        said += flashes(other.get(f"/records/{rid}").text)
    assert said == [
        f"record {rid} changed since the page was loaded (rejected by alice ('phishing "
        "vendor')); nothing was done: look at it again and decide",
        "the form does not say which version of the record it was made on; reload the "
        "record and decide again",
    ]
    post(other, f"/records/{rid}/approve", {})  # from the page as it is now: a real decision
    assert _history(path) == [("rejected", "alice"), ("approved", "alice")]


def test_approving_an_incomplete_record_needs_the_confirmation(
    home: Home, desk: TestClient
) -> None:
    path = save_rich(home.runs, A, B, fail=lambda c: c.persona == "dx")
    rid = _rid(path)
    assert read_record(path).status == "incomplete"
    refused = post(desk, f"/records/{rid}/approve", {"confirm": "no"})
    assert refused.status_code == 303  # type: ignore[attr-defined]
    (message,) = flashes(desk.get(f"/records/{rid}").text)
    assert message.startswith(f"record {rid} is incomplete:") and "tick" in message
    assert read_record(path).editorial.status == "draft"
    post(desk, f"/records/{rid}/approve", {"confirm": "yes"})
    record = read_record(path)
    assert record.editorial.status == "approved"
    assert "the panel did not reach quorum" in (record.editorial.history[-1].reason or "")
    assert "with a below-quorum notice" in flashes(desk.get("/").text)[0]


def test_reject_needs_a_reason_and_keeps_it(home: Home, desk: TestClient) -> None:
    path = save_record(home.runs, A, B)
    rid = _rid(path)
    post(desk, f"/records/{rid}/reject", {"reason": "   "})
    assert "the reason is empty" in flashes(desk.get("/").text)[0]
    assert read_record(path).editorial.status == "draft"
    post(desk, f"/records/{rid}/reject", {"reason": "The quotes misread the pricing page."})
    record = read_record(path)
    assert record.editorial.status == "rejected"
    assert record.editorial.history[-1].reason == "The quotes misread the pricing page."
    assert record.editorial.history[-1].by == "alice"


def test_override_records_the_editors_verdict_and_note(home: Home, desk: TestClient) -> None:
    path = save_record(home.runs, A, B)
    rid = _rid(path)
    fields = {
        "persona": "business",
        "tool": "beta-chat",
        "verdict": "skip",
        "note": "Free tier ended.",
    }
    post(desk, f"/records/{rid}/override", fields)
    (override,) = read_record(path).editorial.overrides
    assert (override.persona, override.tool, override.verdict, override.by) == (
        "business",
        "beta-chat",
        "skip",
        "alice",
    )
    assert flashes(desk.get("/").text) == [
        f"override recorded on {rid}: business / beta-chat -> skip"
    ]
    for bad, why in (
        ({**fields, "persona": "nobody"}, "has no persona 'nobody'"),
        ({**fields, "verdict": "maybe"}, "the verdict must be one of ship, skip"),
        ({**fields, "note": ""}, "the note is empty"),
    ):
        post(desk, f"/records/{rid}/override", bad)
        assert why in flashes(desk.get("/").text)[0]
    assert len(read_record(path).editorial.history) == 1


def test_build_the_site_publishes_the_approved_page(home: Home, desk: TestClient) -> None:
    path = save_record(home.runs, A, B)
    approve(home.runs, path, "gina")
    response = post(desk, "/site/build", {"next": "/?status=approved"})
    assert response.headers["location"] == "/?status=approved"  # type: ignore[attr-defined]
    shown = flashes(desk.get("/").text)
    assert shown[0] == f"published {_rid(path)}"
    assert shown[1].startswith(f"site {home.root / 'site'}: 1 comparison, 2 tool pages")
    assert (home.root / "site" / "compare" / "alpha-tool-vs-beta-chat.html").is_file()
    assert read_record(path).editorial.status == "published"
    assert (
        post(desk, "/site/build", {"next": "https://evil.example/"}).headers[  # type: ignore[attr-defined]
            "location"
        ]
        == "/"
    )


def test_build_without_a_base_url_says_how_to_set_one(home: Home) -> None:
    desk = client(home)
    response = post(desk, "/site/build", {})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert "set [site] base_url in panel.toml" in flashes(desk.get("/").text)[0]
    assert not (home.root / "site").exists()
