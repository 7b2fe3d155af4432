"""Every kind of page in Chromium at a phone's and a desktop's width (issue 28): axe-core finds no
serious or critical accessibility violation, no text overflows its box, no stat wraps, and a
screenshot of each is kept (test-artifacts/browser/; `PANEL_UPDATE_SCREENSHOTS=1` copies them
into docs/images/ for the README).

axe-core comes from npm (`make test` installs it under .venv/npm); the test fails, it does not
skip, when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from panel.paths import Home
from panel.publish.site import SiteOptions, build
from panel.records.editorial import approve
from panel.records.store import Store
from tests.support.records import NOW, save_record, tool
from tests.test_browser import ARTIFACTS, ROOT, _errors, browser, server  # noqa: F401

AXE = Path(os.environ.get("PANEL_AXE", ROOT / ".venv/npm/node_modules/axe-core/axe.min.js"))
IMAGES = ROOT / "docs" / "images"
WIDTHS = (390, 1366)
PAGES = {
    "index": "index.html",
    "comparison": "compare/smolvlm-2-5-vs-mistral-medium-3.html",
    "tool": "tools/smolvlm-2-5.html",
    "methodology": "methodology.html",
}

# Elements whose content is cut off or spills out of their box (ignoring elements that scroll
# on purpose, like the split table's wrapper), and stats whose value wraps onto two lines.
OVERFLOW_JS = """
const out = [];
const root = document.documentElement;
if (root.scrollWidth > window.innerWidth + 1) out.push('page: ' + root.scrollWidth + 'px wide');
for (const el of document.querySelectorAll('main *, header.site *, footer.site *')) {
  const style = getComputedStyle(el);
  if (style.overflowX === 'auto' || style.overflowX === 'scroll') continue;
  if (el.closest('.split')) continue;
  // visually hidden on purpose (a table's header row on a phone, kept for screen readers)
  let hidden = false;
  for (let up = el; up; up = up.parentElement)
    if (up.getBoundingClientRect().width <= 1) hidden = true;
  if (hidden) continue;
  if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && style.overflowX !== 'visible')
    out.push('cut: ' + el.tagName + '.' + el.className + ' ' + el.textContent.slice(0, 40));
  const box = el.getBoundingClientRect();
  if (box.right > window.innerWidth + 1 && box.width > 0)
    out.push('spills: ' + el.tagName + '.' + el.className + ' ' + el.textContent.slice(0, 40));
}
for (const dd of document.querySelectorAll('.stats dd')) {
  const text = dd.firstChild;
  if (!text || text.nodeType !== Node.TEXT_NODE) continue;
  const range = document.createRange();
  range.selectNodeContents(text);
  const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  if (lines.size > 1) out.push('wrapped stat: ' + dd.textContent.trim());
}
return out;
"""


@pytest.fixture
def site(home: Home, server: tuple[str, Path, list[str]]) -> str:  # noqa: F811
    url, out, _ = server
    a = tool("smolvlm-2-5", name="SmolVLM 2.5", category="Developer Tools", entry_price="free")
    b = tool(
        "mistral-medium-3",
        name="Mistral Medium 3",
        category="Developer Tools",
        entry_price="open-source",
    )
    path = save_record(
        home.runs,
        a,
        b,
        providers=("openai/gpt-4o-mini", "mistral/mistral-small-latest"),
        verdict=lambda persona, slug, provider: "skip" if slug == b.slug else "ship",
    )
    approve(home.runs, path, "gina", now=NOW)
    store = Store.open(home.runs)
    store.set_votes([("smolvlm-2-5", 12_345, 4_321)], "test")
    store.close()
    build(home, SiteOptions(out=out, base_url="https://verdicts.example/", title="Verdicts"))
    return url


def _axe(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing; `make test` installs axe-core from npm")
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations))).catch(e => done(JSON.stringify("
        "[{id: 'axe-error', impact: 'critical', description: String(e), nodes: []}])));"
    )
    violations: list[dict[str, Any]] = json.loads(result)
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def _shoot(driver: webdriver.Chrome, name: str, width: int) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 120, 12_000))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}-{width}.png"
    driver.save_screenshot(str(shot))
    if os.environ.get("PANEL_UPDATE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, IMAGES / shot.name)


@pytest.fixture
def chromium(browser: webdriver.Chrome) -> Iterator[webdriver.Chrome]:  # noqa: F811
    browser.set_script_timeout(60)
    yield browser


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_kind_is_accessible_and_holds_its_layout(
    site: str, chromium: webdriver.Chrome, width: int
) -> None:
    problems: dict[str, Any] = {}
    for name, rel in PAGES.items():
        chromium.set_window_size(width, 900)
        chromium.get(site + rel)
        assert chromium.execute_script("return window.innerWidth") == width
        serious = _axe(chromium)
        overflow = chromium.execute_script(OVERFLOW_JS)
        if serious or overflow:
            problems[name] = {
                "axe": [(v["id"], v["impact"], len(v["nodes"])) for v in serious],
                "overflow": overflow,
            }
        _shoot(chromium, name, width)
        assert _errors(chromium) == [], name
    assert problems == {}


def test_dark_mode_keeps_contrast(site: str, chromium: webdriver.Chrome) -> None:
    chromium.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    chromium.set_window_size(1366, 900)
    for name, rel in PAGES.items():
        chromium.get(site + rel)
        background = chromium.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        assert background == "rgb(16, 19, 24)", (name, background)  # the dark palette applied
        assert _axe(chromium) == [], name
    _shoot(chromium, "comparison-dark", 1366)


def test_a_citation_free_page_reads_without_javascript(
    site: str, chromium: webdriver.Chrome
) -> None:
    """The pages carry no script that runs; everything is there with JavaScript off."""
    chromium.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    chromium.get(site + PAGES["comparison"])
    assert chromium.find_element(By.CSS_SELECTOR, ".answer .pick").text.startswith("Ship with")
    assert len(chromium.find_elements(By.CSS_SELECTOR, "blockquote.quote.published")) == 8
