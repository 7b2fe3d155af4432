"""Page weight (issue 28): each kind of page's HTML plus the stylesheet it loads, in bytes, on a
realistic comparison (4 personas x 2 tools x 3 models, ~60-word quotes), against a budget of
60 KB per page. The share image is reported beside it (it loads only in previews, not on the
page). No JavaScript is loaded by any page.

Usage: .venv/bin/python -m benchmarks.bench_page_weight
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.bench_runner import write_results
from benchmarks.bench_site import PROVIDERS, WORDS
from panel.paths import Home
from panel.publish.site import SiteOptions, build
from panel.records.editorial import approve
from panel.records.store import Store
from tests.support.records import NOW, save_record, tool

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "page-weight.json"
BUDGET = 60 * 1024
PAGES = {
    "index": "index.html",
    "comparison": "compare/tool-a-vs-tool-b.html",
    "tool": "tools/tool-a.html",
    "methodology": "methodology.html",
}


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(ROOT / "personas", root / "personas")
        shutil.copytree(ROOT / "prompts", root / "prompts")
        (root / "catalog").mkdir()
        (root / "panel.toml").write_text(
            '[panel]\nproviders = ["openai/gpt-4o-mini", "mistral/mistral-small-latest"]\n'
        )
        home = Home(root)
        a = tool("tool-a", name="Tool A", description="Tool A. " + WORDS)
        b = tool("tool-b", name="Tool B", description="Tool B. " + WORDS)
        path = save_record(
            home.runs, a, b, providers=PROVIDERS, quote=lambda p, s, v: f"{p} on {s}: {WORDS}"
        )
        approve(home.runs, path, "gina", now=NOW)
        store = Store.open(home.runs)
        store.set_votes([("tool-a", 1234, 321)], "bench")
        store.close()
        out = Path(tmp) / "site"
        build(home, SiteOptions(out=out, base_url="https://verdicts.example/", title="Verdicts"))
        css = (out / "style.css").stat().st_size
        pages = {}
        for name, rel in PAGES.items():
            html = (out / rel).stat().st_size
            pages[name] = {"html": html, "css": css, "total": html + css, "budget": BUDGET}
        share = (out / "compare" / "tool-a-vs-tool-b.png").stat().st_size
        return {
            "pages": pages,
            "share_image_bytes": share,
            "within_budget": all(p["total"] <= BUDGET for p in pages.values()),
        }


def main() -> None:
    results = measure()
    for name, page in results["pages"].items():
        print(
            f"{name:12} html {page['html']:>7,} B + css {page['css']:>6,} B = "
            f"{page['total']:>7,} B (budget {BUDGET:,} B)"
        )
    print(f"share image {results['share_image_bytes']:,} B")
    write_results(RESULTS, **results)


if __name__ == "__main__":
    main()
