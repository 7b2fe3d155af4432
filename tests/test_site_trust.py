"""What a reader and a search engine need to trust a page (issue 28): the methodology page,
the byline and the pair's history, AI reviewer labels, JSON-LD checked against schema.org's
definitions, Open Graph tags and the share image, alternatives on tool pages."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from panel.paths import Home
from panel.publish.render import share
from panel.publish.site import build
from panel.records.editorial import approve, reject
from panel.records.store import Store
from tests.support.clock import TickingClock
from tests.support.records import save_record, tool
from tests.support.site import BASE, A, B, Page, approved, jsonld_blocks, options

SCHEMA = json.loads((Path(__file__).parent / "data" / "schemaorg-subset.json").read_text())
TYPES: dict[str, Any] = SCHEMA["types"]
PAGE = "alpha-tool-vs-beta-tool"


def _jsonld(text: str) -> list[dict[str, Any]]:
    blocks = jsonld_blocks(text)
    assert len(blocks) == 1, blocks
    data = json.loads(blocks[0])
    assert data["@context"] == "https://schema.org"
    graph: list[dict[str, Any]] = data["@graph"]
    return graph


def _properties(kind: str) -> dict[str, list[str]]:
    props: dict[str, list[str]] = {}
    while kind:
        props.update(TYPES[kind]["properties"])
        kind = TYPES[kind]["parent"]
    return props


def _is_a(kind: str, expected: str) -> bool:
    while kind:
        if kind == expected:
            return True
        kind = TYPES[kind]["parent"]
    return False


def _matches(value: Any, expected: list[str]) -> bool:
    for name in expected:
        if name in ("Text",) and isinstance(value, str):
            return True
        if name == "URL" and isinstance(value, str) and value.startswith(("https://", "http://")):
            return True
        if name == "Number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if name == "Integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if name in ("Date", "DateTime") and isinstance(value, str):
            try:
                datetime.fromisoformat(value)
                return True
            except ValueError:
                pass
        if isinstance(value, dict) and value.get("@type") in TYPES and _is_a(value["@type"], name):
            return True
    return False


def check_node(node: dict[str, Any], found: list[dict[str, Any]]) -> None:
    """Fails unless ``node`` and everything in it uses schema.org's types and properties."""
    kind = node.get("@type")
    assert kind in TYPES, node
    found.append(node)
    allowed = _properties(kind)
    for name in TYPES[kind]["required"]:
        assert name in node, (kind, name, node)
    for name, value in node.items():
        if name.startswith("@"):
            continue
        assert name in allowed, f"{kind} has no property {name!r} on schema.org"
        assert _matches(value, allowed[name]), (kind, name, value)
        if isinstance(value, dict):
            check_node(value, found)


def _site(home: Home, tmp_path: Path) -> Path:
    out = tmp_path / "site"
    build(home, options(out))
    return out


def test_comparison_json_ld_is_schema_org_and_never_a_person(home: Home, tmp_path: Path) -> None:
    approved(home, providers=("openai/gpt-4o-mini", "mistral/mistral-small-latest"))
    store = Store.open(home.runs)
    store.set_votes([("alpha-tool", 30, 10)], "test")  # beta-tool has no votes
    store.close()
    out = _site(home, tmp_path)
    graph = _jsonld((out / "compare" / f"{PAGE}.html").read_text())
    nodes: list[dict[str, Any]] = []
    for node in graph:
        check_node(node, nodes)
    apps = {n["name"]: n for n in graph}
    assert set(apps) == {"Alpha Tool", "Beta Tool"}
    assert all(n["@type"] == "SoftwareApplication" for n in graph)
    assert apps["Alpha Tool"]["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 75.0,
        "bestRating": 100,
        "worstRating": 0,
        "ratingCount": 40,
    }
    assert "aggregateRating" not in apps["Beta Tool"]  # no community votes: no rating at all
    review = apps["Alpha Tool"]["review"]
    assert review["author"] == {"@type": "Organization", "name": "Verdicts", "url": BASE}
    assert review["publisher"]["@type"] == "Organization"
    assert review["reviewRating"]["ratingValue"] == 100.0  # every fixture verdict ships
    assert review["url"] == f"{BASE}compare/{PAGE}.html"
    assert not [n for n in nodes if n["@type"] == "Person"]


def test_tool_page_json_ld(home: Home, tmp_path: Path) -> None:
    approved(home)
    out = _site(home, tmp_path)
    graph = _jsonld((out / "tools" / "alpha-tool.html").read_text())
    for node in graph:
        check_node(node, [])
    assert graph[0]["name"] == "Alpha Tool" and "aggregateRating" not in graph[0]


def test_untrusted_text_cannot_close_the_json_ld_block(home: Home, tmp_path: Path) -> None:
    evil = tool("alpha-tool", name="A</script><script>alert(1)</script>", tagline="<b>&</b>")
    approved(home, evil, B)
    out = _site(home, tmp_path)
    text = (out / "compare" / f"{PAGE}.html").read_text()
    assert text.count("<script") == 1 and "alert(1)</script>" not in text
    assert _jsonld(text)[0]["name"] == "A</script><script>alert(1)</script>"  # intact as data


def test_the_methodology_page_is_generated_from_the_configuration(
    home: Home, tmp_path: Path
) -> None:
    home.config_file.write_text(
        '[panel]\nproviders = ["openai/gpt-4o-mini", "mistral/mistral-small-latest"]\n'
        'assign = { futurist = ["openai/gpt-4o-mini"] }\nrecusal = "flag"\n'
    )
    approved(home)
    out = _site(home, tmp_path)
    page_text = (out / "methodology.html").read_text()
    page = Page(page_text)
    text = page.all_text()
    assert "written by AI models, not by people" in text
    assert "openai/gpt-4o-mini" in text and "mistral/mistral-small-latest" in text
    assert "<td>openai</td>" in page_text and "<td>mistral</td>" in page_text  # the makers
    assert "counted, and the page flags its verdict" in text  # recusal = "flag"
    assert "once with each tool first" in text  # head_to_head defaults to on
    assert "Developer experience" in text  # the DX persona's lens, from personas/
    rows = re.findall(r"<tr><td class=\"model\">(.*?)</td><td>.*?</td><td>(.*?)</td>", page_text)
    assert dict(rows)["mistral/mistral-small-latest"] == "DX, Competitive, Business, Security"
    for name in ("index.html", f"compare/{PAGE}.html", "tools/alpha-tool.html"):
        assert (
            'href="' in (out / name).read_text() and "methodology.html" in (out / name).read_text()
        )
    home.config_file.write_text(
        '[panel]\nproviders = ["openai/gpt-4o-mini"]\nhead_to_head = false\n'
    )
    build(home, options(out))
    again = (out / "methodology.html").read_text()
    assert "mistral" not in again and "once with each tool first" not in again


def test_byline_history_and_ai_labels(home: Home, tmp_path: Path, wall_clock: TickingClock) -> None:
    wall_clock.set(datetime(2026, 12, 5, 9, tzinfo=UTC))
    first = datetime(2026, 11, 20, 9, tzinfo=UTC)
    old = save_record(
        home.runs,
        A,
        tool("beta-tool", entry_price="free"),
        created=first,
        verdict=lambda p, s, v: "skip" if s == "alpha-tool" else "ship",
    )
    approve(home.runs, old, "gina", now=first + timedelta(hours=2))
    draft = save_record(home.runs, A, B, created=first + timedelta(days=1))  # never approved
    rejected = save_record(home.runs, A, B, created=first + timedelta(days=2))
    approve(home.runs, rejected, "gina", now=first + timedelta(days=2, hours=1))
    reject(home.runs, rejected, "gina", "wrong pricing", now=first + timedelta(days=2, hours=2))
    new = save_record(
        home.runs, A, B, created=datetime(2026, 12, 3, 9, tzinfo=UTC),
        providers=("openai/gpt-4o-mini", "mistral/mistral-small"),
    )  # fmt: skip
    approve(home.runs, new, "gina", now=datetime(2026, 12, 4, 8, tzinfo=UTC))
    assert draft.exists()
    out = _site(home, tmp_path)
    page_html = (out / "compare" / f"{PAGE}.html").read_text()
    page = Page(page_html)
    (byline,) = page.classes["byline"]
    assert byline.startswith(
        "Reviewed 2026-12-03 by gpt-4o-mini and mistral-small · approved by gina on 2026-12-04."
    )
    history = [h.strip() for h in page.classes["history"]]
    assert history == [
        "Was: Ship with Beta Tool, reviewed 2026-11-20; changed after a price change."
    ]  # the draft and the rejected record are not the panel's published word
    assert "AI reviewer" in page.all_text()
    headings = re.findall(r"<h3>.*?</h3>", page_html)
    assert len(headings) == 4 and all("AI reviewer" in h for h in headings)


def test_open_graph_and_the_share_image(home: Home, tmp_path: Path) -> None:
    approved(home)
    out = _site(home, tmp_path)
    text = (out / "compare" / f"{PAGE}.html").read_text()
    image_url = f"{BASE}compare/{PAGE}.png"
    assert f'<meta property="og:image" content="{image_url}">' in text
    assert '<meta name="twitter:card" content="summary_large_image">' in text
    assert f'<meta property="og:url" content="{BASE}compare/{PAGE}.html">' in text
    png = (out / "compare" / f"{PAGE}.png").read_bytes()
    image = Image.open(io.BytesIO(png))
    assert image.size == (1200, 630) and image.format == "PNG"
    assert share.RENDERER.marked(png[:8192])
    assert not share.RENDERER.marked(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)  # someone else's PNG
    before = png
    report = build(home, options(out))
    assert f"compare/{PAGE}.png" not in report.written  # cached by content
    assert (out / "compare" / f"{PAGE}.png").read_bytes() == before


def test_tool_pages_list_alternatives_linking_to_comparisons(home: Home, tmp_path: Path) -> None:
    (home.catalog / "alpha-tool.toml").write_text(
        (home.catalog / "alpha-tool.toml").read_text() + 'competitors = ["gamma-tool"]\n'
    )
    approved(home)  # alpha vs beta, both "LLM APIs"
    out = _site(home, tmp_path)
    page = (out / "tools" / "alpha-tool.html").read_text()
    items = re.findall(r'<ul class="alternatives">(.*?)</ul>', page, re.S)[0]
    assert "gamma-tool" in items and 'href="../compare/gamma' not in items  # named, no page
    assert f'<a href="../compare/{PAGE}.html">Beta Tool</a>' in items
    assert items.index("gamma-tool") < items.index("Beta Tool")  # named competitors first
