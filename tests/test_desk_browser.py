"""The editor's desk in a real browser: `panel serve` driven by headless Debian Chromium.

Starts the real `panel serve` in a child process, opens the queue, opens a draft,
approves it, builds the site from the desk, and finds the page published on the
built site. Like the site's browser test, it fails (it does not skip) without
chromium and chromium-driver. Screenshots go to test-artifacts/desk/.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from panel.paths import Home
from panel.records.editorial import approve
from panel.records.io import read_record
from tests.support.desk import A, B, save_rich, start_desk
from tests.support.records import NOW, save_record, tool
from tests.test_browser import ROOT, _errors, _Quiet
from tests.test_browser import browser as browser  # the site test's Chromium fixture

ARTIFACTS = ROOT / "test-artifacts" / "desk"
PAGE = "compare/alpha-tool-vs-beta-chat.html"


@pytest.fixture
def project(home: Home) -> Home:
    (home.root / "panel.toml").write_text(
        '[site]\ntitle = "Verdicts"\nbase_url = "https://verdicts.example/"\n'
    )
    return home


@pytest.fixture
def served(project: Home) -> Iterator[str]:
    """A loopback server for the site folder the desk builds into."""
    out = project.root / "site"
    out.mkdir()
    handler = functools.partial(_Quiet, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _shot(driver: webdriver.Chrome, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


def _flashes(driver: webdriver.Chrome) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "li.flash")]


def _wait(driver: webdriver.Chrome, shown: Callable[[webdriver.Chrome], object]) -> None:
    """Until the page a click led to shows what ``shown`` looks for (the old one may linger)."""
    WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(shown)


def test_an_editor_approves_a_draft_builds_the_site_and_finds_the_page(
    project: Home, served: str, browser: webdriver.Chrome
) -> None:
    draft = save_rich(project.runs, A, B)
    other = save_record(project.runs, tool("gamma-tool"), tool("delta-tool"), created=NOW)
    approve(project.runs, other, "gina")
    save_record(project.runs, tool("gamma-tool"), A, created=NOW - timedelta(days=1))
    with start_desk(project, by="gina") as (desk, _):
        browser.get(desk)
        assert browser.title == "Queue · panel desk"
        rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
        states = [r.find_element(By.CSS_SELECTOR, ".state").text for r in rows]
        assert states == ["DRAFT", "DRAFT", "APPROVED"]  # drafts first
        assert rows[0].find_element(By.CSS_SELECTOR, ".flag-withheld").text == "1 withheld"
        _shot(browser, "queue.png")
        assert _errors(browser) == []

        rows[0].find_element(By.CSS_SELECTOR, "a.pair").click()
        _wait(browser, lambda d: d.title.startswith("Alpha Tool vs Beta Chat"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Alpha Tool vs Beta Chat"
        withheld = browser.find_element(By.CSS_SELECTOR, "table.withheld").text
        assert "card-text-echo" in withheld
        frame = browser.find_element(By.CSS_SELECTOR, "iframe.page")
        browser.switch_to.frame(frame)
        assert browser.find_element(By.TAG_NAME, "h1").text == "Alpha Tool vs Beta Chat"
        card = browser.find_element(By.CSS_SELECTOR, "section.card")
        assert card.value_of_css_property("border-top-style") == "solid"  # the site's CSS
        browser.switch_to.default_content()
        _shot(browser, "record.png")
        assert _errors(browser) == []

        browser.find_element(By.CSS_SELECTOR, "form.approve button").click()
        _wait(browser, _flashes)  # posted, redirected, shown
        rid = draft.relative_to(project.runs).with_suffix("").as_posix()
        assert _flashes(browser)[0].startswith(f"approved {rid}; it is the Alpha Tool vs Beta")
        assert browser.find_element(By.CSS_SELECTOR, ".facts .state").text == "APPROVED"
        assert read_record(draft).editorial.history[-1].by == "gina"

        browser.find_element(By.CSS_SELECTOR, "button.build").click()
        _wait(browser, lambda d: any("published" in f for f in _flashes(d)))
        shown = _flashes(browser)
        assert f"published {rid}" in shown
        assert any(line.startswith("site ") and "2 comparisons" in line for line in shown)
        assert browser.find_element(By.CSS_SELECTOR, ".facts .state").text == "PUBLISHED"
        _shot(browser, "built.png")
        assert _errors(browser) == []
    log = (project.runs / "desk" / "access.log").read_text()
    assert f'gina "POST /records/{rid}/approve" 303 approved {rid}' in log

    browser.get(served + PAGE)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Alpha Tool vs Beta Chat"
    assert (project.root / "site" / Path(PAGE)).is_file()
    _shot(browser, "published.png")
    assert _errors(browser) == []


def test_the_desk_works_on_a_phone_and_keeps_the_decision_in_view(
    project: Home, browser: webdriver.Chrome
) -> None:
    """Issue 28 items 7 and 8: the queue fits a 390 px phone with every record's providers and
    stand-in mark; the record page keeps its decision bar in view, shows every call whole, and
    axe-core finds no serious or critical violation on either page."""
    from tests.test_site_design import OVERFLOW_JS, _axe, _shoot

    save_rich(project.runs, A, B)
    save_record(project.runs, tool("gamma-tool"), tool("delta-tool"), providers=("mock/any",))
    with start_desk(project, by="gina") as (desk, _):
        for width in (390, 1366):
            browser.set_window_size(width, 900)
            browser.get(desk)
            rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
            assert len(rows) == 2
            assert "mock/any" in rows[0].text + rows[1].text
            assert browser.find_elements(By.CSS_SELECTOR, ".flag-stand-in")
            width_used = browser.execute_script("return document.documentElement.scrollWidth")
            assert width_used <= width, width_used  # was 681 px of content at 390
            assert browser.execute_script(OVERFLOW_JS) == []
            assert _axe(browser) == []
            _shoot(browser, "desk-queue", width)

            browser.set_window_size(width, 900)
            browser.get(desk)
            link = next(
                a
                for a in browser.find_elements(By.CSS_SELECTOR, "a.pair")
                if a.text == "Alpha Tool vs Beta Chat"
            )
            link.click()
            _wait(browser, lambda d: d.title.startswith("Alpha Tool vs Beta Chat"))
            bar = browser.find_element(By.CSS_SELECTOR, ".decision-bar")
            browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
            top = browser.execute_script("return arguments[0].getBoundingClientRect().top", bar)
            assert top == 0  # sticky: the decision stays in view at the bottom of the page
            assert bar.find_element(By.CSS_SELECTOR, "form.approve button").is_displayed()
            cards = browser.find_elements(By.CSS_SELECTOR, "article.call")
            assert len(cards) == 32
            clipped = browser.execute_script(
                "return [...document.querySelectorAll('article.call .quote')]"
                ".filter(q => q.scrollWidth > q.clientWidth + 1).length"
            )
            assert clipped == 0
            assert browser.execute_script(OVERFLOW_JS) == [], width
            assert _axe(browser) == []
            browser.execute_script("window.scrollTo(0, 0)")
            _shoot(browser, "desk-record", width)
            browser.set_window_size(width, 900)
            for box in browser.find_elements(By.CSS_SELECTOR, "details.decide > summary"):
                box.click()  # open Reject and Override: their forms must fit too
            assert browser.execute_script(OVERFLOW_JS) == [], width
            assert _axe(browser) == []
            assert _errors(browser) == []
