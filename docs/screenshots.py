"""The README's screenshots of the editor's desk: the real `panel serve`, headless Chromium.

Writes a small demo project (records built by tests/support/desk.py: two models, the
head-to-head, a recusal, a withheld answer, an incomplete rerun), starts `panel serve`
on it, and saves docs/images/desk-queue.png and docs/images/desk-record.png.

Usage: .venv/bin/python docs/screenshots.py   (needs `make browser`)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from panel.paths import Home  # noqa: E402
from panel.records.editorial import approve, reject  # noqa: E402
from tests.support import project as fixture  # noqa: E402
from tests.support.desk import save_rich, start_desk  # noqa: E402
from tests.support.records import NOW, tool  # noqa: E402

IMAGES = ROOT / "docs" / "images"
PAIRS = [
    (tool("smolvlm-2-5", name="SmolVLM 2.5"), tool("le-chat", name="Le Chat", vendor="Mistral AI")),
    (tool("cursor", name="Cursor"), tool("windsurf", name="Windsurf")),
    (tool("ollama", name="Ollama"), tool("lm-studio", name="LM Studio")),
    (tool("perplexity", name="Perplexity"), tool("you-com", name="You.com")),
    (tool("claude-code", name="Claude Code"), tool("codex-cli", name="Codex CLI")),
]


def demo(home: Home) -> str:
    """Demo records; returns the id of the record the second screenshot shows."""
    for i, (a, b) in enumerate(PAIRS):
        path = save_rich(home.runs, a, b, created=NOW - timedelta(days=3 - i % 3, hours=i))
        if i == 3:
            approve(home.runs, path, "gina")
        if i == 4:
            reject(home.runs, path, "gina", "the quotes misread the pricing page")
    a, b = PAIRS[0]
    path = save_rich(
        home.runs,
        a,
        b,
        created=NOW,
        verdict=lambda p, s, v: "skip" if (p == "business") != v.startswith("mistral") else "ship",
        fail=lambda c: c.persona == "dx" and c.provider.startswith("openai"),
    )
    return path.relative_to(home.runs).with_suffix("").as_posix()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="panel-desk-shots-") as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(fixture.PERSONAS, root / "personas")
        shutil.copytree(fixture.PROMPTS, root / "prompts")
        (root / "catalog").mkdir()
        (root / "panel.toml").write_text(
            '[site]\ntitle = "Verdicts"\nbase_url = "https://verdicts.example/"\n'
        )
        home = Home(root)
        record = demo(home)
        with start_desk(home, by="gina") as (url, _process):
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for flag in (
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--window-size=1400,900",
            ):
                options.add_argument(flag)
            options.add_argument(f"--user-data-dir={tmp}/chromium")
            driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
            try:
                IMAGES.mkdir(parents=True, exist_ok=True)
                driver.get(url)
                driver.save_screenshot(str(IMAGES / "desk-queue.png"))
                driver.set_window_size(1400, 1700)
                driver.get(f"{url}records/{record}")
                driver.save_screenshot(str(IMAGES / "desk-record.png"))
            finally:
                driver.quit()
    print(f"wrote {IMAGES / 'desk-queue.png'} and {IMAGES / 'desk-record.png'}")


if __name__ == "__main__":
    main()
