"""The built site in a real browser: headless Debian Chromium driven by selenium.

`make test` installs chromium and chromium-driver. The test fails (it does not
skip) when they are missing, so a CI machine without a browser is noticed.
A screenshot of each page is saved under test-artifacts/browser/.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from panel.errors import PanelError
from panel.paths import Home
from panel.publish.site import SiteOptions, build
from panel.records.editorial import approve, reject
from panel.records.io import write_record
from panel.records.store import Store
from tests.support import evidence_records
from tests.support.publishing import ERROR_DETAIL, save_degraded
from tests.support.records import NOW, save_record, tool

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("PANEL_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PANEL_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,2400",
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves the built site as the README tells a web server to: ``Cache-Control: no-cache``,
    so a browser revalidates and a page taken down is gone on the next visit. With only
    Last-Modified, Chromium keeps a page fresh for a tenth of its age (heuristic freshness),
    and under a moved clock (libfaketime does not move file times) it served a rejected page
    from its cache."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served_site(home: Home, tmp_path: Path) -> Iterator[str]:
    a = tool("smolvlm-2-5", name="SmolVLM 2.5", category="Developer Tools", entry_price="free")
    b = tool("mistral-medium-3", name="Mistral Medium 3", category="Developer Tools")
    path = save_record(home.runs, a, b, providers=("openai/gpt-4o-mini", "mistral/small"))
    approve(home.runs, path, "editor")
    store = Store.open(home.runs)
    store.set_votes([("smolvlm-2-5", 12, 4)], "test")
    store.close()
    out = tmp_path / "site"
    build(home, SiteOptions(out=out, base_url="https://verdicts.example/", title="Verdicts"))
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(binary):
            pytest.fail(f"{binary} is missing; `make test` installs chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="panel-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _errors(driver: webdriver.Chrome) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def test_index_and_comparison_page_render_in_chromium(
    served_site: str, browser: webdriver.Chrome
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(served_site + "index.html")
    assert browser.title == "Verdicts"
    links = browser.find_elements(By.CSS_SELECTOR, "ol.latest a")
    assert [a.text for a in links] == ["SmolVLM 2.5 vs Mistral Medium 3"]
    browser.save_screenshot(str(ARTIFACTS / "index.png"))
    assert _errors(browser) == []

    links[0].click()
    assert browser.title == "SmolVLM 2.5 vs Mistral Medium 3: which one should you ship with?"
    h1 = browser.find_element(By.TAG_NAME, "h1").text
    assert h1 == "SmolVLM 2.5 vs Mistral Medium 3"
    cards = browser.find_elements(By.CSS_SELECTOR, "section.card")
    assert [c.find_element(By.CSS_SELECTOR, ".tool-name").text for c in cards] == [
        "SmolVLM 2.5",
        "Mistral Medium 3",
    ]
    # The vote count sits on its own line under the share (it never wraps mid-stat on a phone).
    community = [c.find_element(By.CSS_SELECTOR, ".community").text for c in cards]
    assert [" ".join(t.split()) for t in community] == [
        "75% ship (16 votes)",
        "\u2014",
    ]
    quotes = browser.find_elements(By.CSS_SELECTOR, "blockquote.quote.published")
    assert len(quotes) == 8
    for persona in ("dx", "competitive", "futurist", "business"):
        for slug in ("smolvlm-2-5", "mistral-medium-3"):
            (quote,) = browser.find_elements(
                By.CSS_SELECTOR,
                f'section.persona[data-persona="{persona}"] '
                f'div.persona-tool[data-tool="{slug}"] blockquote.published',
            )
            assert quote.is_displayed()
            assert f"Quote by {persona} on {slug} from openai/gpt-4o-mini" in quote.text
    # the stylesheet applied (a CSP or path mistake would leave the cards unstyled)
    assert cards[0].value_of_css_property("border-top-style") == "solid"
    browser.save_screenshot(str(ARTIFACTS / "comparison.png"))
    assert _errors(browser) == []


class _Site(_Quiet):
    """Static files, plus POST /subscribe recorded like an email provider's endpoint."""

    posts: list[str]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.posts.append(self.rfile.read(length).decode())
        body = b'<!DOCTYPE html><link rel="icon" href="data:,"><title>Subscribed</title><p>Thanks'

        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A loopback server for tmp_path/site: (base URL, site folder, form posts received)."""
    out = tmp_path / "site"
    out.mkdir()
    posts: list[str] = []
    handler = type("Handler", (_Site,), {"posts": posts})
    served = functools.partial(handler, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), served)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", out, posts
    finally:
        httpd.shutdown()
        httpd.server_close()


def _options(out: Path, **kwargs: str) -> SiteOptions:
    return SiteOptions(out=out, base_url="https://verdicts.example/", title="Verdicts", **kwargs)


PAIR = (
    tool("smolvlm-2-5", name="SmolVLM 2.5", category="Developer Tools", entry_price="free"),
    tool("mistral-medium-3", name="Mistral Medium 3", category="Developer Tools"),
)
PAGE = "compare/smolvlm-2-5-vs-mistral-medium-3.html"


def test_an_incomplete_record_approved_with_force_says_so_in_chromium(
    home: Home, server: tuple[str, Path, list[str]], browser: webdriver.Chrome
) -> None:
    url, out, _ = server
    path = save_degraded(
        home.runs,
        *PAIR,
        lambda c: c.persona == "dx" and c.provider == "openai/gpt-4o-mini",
        providers=("openai/gpt-4o-mini", "mistral/small"),
    )
    with pytest.raises(PanelError, match="pass --force"):
        approve(home.runs, path, "editor")
    approve(home.runs, path, "editor", force=True)
    build(home, _options(out))
    browser.get(url + PAGE)
    warning = browser.find_element(By.CSS_SELECTOR, ".quorum-warning")
    assert warning.is_displayed()
    assert warning.text.startswith("Below quorum. The panel did not reach quorum: 2 of 16")
    pick = browser.find_element(By.CSS_SELECTOR, ".answer .pick")
    assert pick.text == "No pick."
    silent = browser.find_elements(By.CSS_SELECTOR, ".no-answer")
    assert silent and all(s.text.startswith("No answer.") for s in silent)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert ERROR_DETAIL not in body and "server_error" not in body
    assert ERROR_DETAIL not in browser.page_source
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "below-quorum.png"))
    assert _errors(browser) == []


def test_a_rejected_live_page_is_gone_after_the_rebuild(
    home: Home, server: tuple[str, Path, list[str]], browser: webdriver.Chrome
) -> None:
    url, out, _ = server
    older = save_record(home.runs, *PAIR)
    approve(home.runs, older, "editor")
    build(home, _options(out))
    newer = save_record(home.runs, *PAIR, created=NOW + timedelta(hours=1))
    approve(home.runs, newer, "editor")
    build(home, _options(out))
    browser.get(url + PAGE)
    assert browser.find_element(By.TAG_NAME, "h1").text == "SmolVLM 2.5 vs Mistral Medium 3"
    reject(home.runs, newer, "editor", "the quotes misread the pricing page")
    report = build(home, _options(out))
    assert PAGE in report.removed
    browser.get(url + PAGE)
    assert "404" in browser.title or "File not found" in browser.page_source
    browser.get(url + "index.html")
    assert browser.find_elements(By.CSS_SELECTOR, "ol.latest a") == []
    assert (
        "No comparisons published yet." in browser.find_element(By.CSS_SELECTOR, "ol.latest").text
    )


def test_the_newsletter_form_posts_past_the_csp(
    home: Home, server: tuple[str, Path, list[str]], browser: webdriver.Chrome
) -> None:
    url, out, posts = server
    path = save_record(home.runs, *PAIR)
    approve(home.runs, path, "editor")
    build(home, _options(out, newsletter_action=url + "subscribe", newsletter_field="EMAIL"))
    browser.get(url + PAGE)
    field = browser.find_element(By.CSS_SELECTOR, "form.signup input[type=email]")
    assert field.is_displayed()
    field.send_keys("reader@example.com")
    browser.find_element(By.CSS_SELECTOR, "form.signup button").click()
    WebDriverWait(browser, 30).until(lambda d: d.title == "Subscribed")
    assert posts == ["EMAIL=reader%40example.com"]
    assert _errors(browser) == []


def test_a_citation_links_to_its_source_in_chromium(
    home: Home, server: tuple[str, Path, list[str]], browser: webdriver.Chrome
) -> None:
    """Issue 26: the card lists its sources; a quote's [S2] marker is a link to S2's page."""
    url, out, _ = server
    sources = [
        s.model_copy(update={"url": f"{url}vendor/pricing.html"}) if s.id == "S2" else s
        for s in evidence_records.SOURCES
    ]
    record = evidence_records.with_evidence(*PAIR).model_copy(
        update={"evidence": {PAIR[0].slug: sources}}
    )
    stem = f"{PAIR[0].slug}-vs-{PAIR[1].slug}"
    path = write_record(
        home.runs, NOW.date(), stem, lambda rid: record.model_copy(update={"id": rid})
    )
    approve(home.runs, path, "editor", now=NOW + timedelta(hours=1))
    build(home, _options(out))
    (out / "vendor").mkdir()
    (out / "vendor" / "pricing.html").write_text(
        '<!DOCTYPE html><link rel="icon" href="data:,"><title>Alpha pricing</title><p>$20'
    )
    browser.get(url + PAGE)
    card = browser.find_element(By.CSS_SELECTOR, f'section.card[data-tool="{PAIR[0].slug}"]')
    listed = card.find_elements(By.CSS_SELECTOR, "ol.sources li")
    assert [li.get_attribute("data-source") for li in listed] == ["S1", "S2", "S3"]
    assert "checked 2026-11-23" in listed[1].text
    other = browser.find_element(By.CSS_SELECTOR, f'section.card[data-tool="{PAIR[1].slug}"]')
    note = other.find_element(By.CSS_SELECTOR, ".evidence-note")
    assert note.text == "Reviewed from the vendor's description only."
    quote = browser.find_element(
        By.CSS_SELECTOR, f'div.persona-tool[data-tool="{PAIR[0].slug}"] blockquote.published'
    )
    link = quote.find_element(By.CSS_SELECTOR, 'a.citation[data-source="S2"]')
    assert link.text == "S2" and link.is_displayed()
    assert not quote.find_elements(By.CSS_SELECTOR, 'a.citation[data-source="S3"]')  # javascript:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "citations.png"))
    assert _errors(browser) == []
    link.click()
    WebDriverWait(browser, 10).until(lambda d: d.title == "Alpha pricing")
    assert browser.current_url == f"{url}vendor/pricing.html"
