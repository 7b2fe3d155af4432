"""HTML pages from page views: one autoescaping jinja environment, no inline script.

Every value reaching a template is escaped by jinja's autoescape, so vendor and LLM
text renders as text: ``<script>``, ``{{ }}`` and a stray ``</`` stay inert. Links
come only from :func:`panel.render.view.http_url`, so only http(s) URLs are ever
clickable. A Content-Security-Policy meta tag forbids scripts outright.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import jinja2

from panel.render.view import DISCLOSURE, PAGE_INTRO, PAGE_QUESTION, PageView

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = ("style.css", "favicon.svg")  # copied into the site as they are
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; script-src 'none'; object-src 'none'"
)


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def templates_digest() -> str:
    """sha256 over every template and the stylesheet: a change rebuilds every page."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _render(template: str, **context: Any) -> bytes:
    page = environment().get_template(template).render(csp=CSP, **context)
    return page.encode("utf-8")


def comparison_page(view: PageView, *, site_title: str, canonical: str, data_json: str) -> bytes:
    return _render(
        "comparison.html.j2",
        view=view,
        page_title=f"{view.title}: {PAGE_QUESTION.lower()}",
        description=f"{view.title}. {PAGE_QUESTION} {PAGE_INTRO}",
        question=PAGE_QUESTION,
        intro=PAGE_INTRO,
        disclosure=DISCLOSURE,
        site_title=site_title,
        canonical=canonical,
        data_json=data_json,
        root="../",
    )


def tool_page(
    tool: dict[str, Any],
    comparisons: list[dict[str, Any]],
    *,
    site_title: str,
    canonical: str,
    data_json: str,
) -> bytes:
    return _render(
        "tool.html.j2",
        tool=tool,
        comparisons=comparisons,
        page_title=f"{tool['name']}: panel verdicts",
        description=tool["tagline"],
        site_title=site_title,
        canonical=canonical,
        data_json=data_json,
        root="../",
    )


def index_page(
    comparisons: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    site_title: str,
    canonical: str,
) -> bytes:
    return _render(
        "index.html.j2",
        comparisons=comparisons,
        tools=tools,
        page_title=site_title,
        description="",
        site_title=site_title,
        canonical=canonical,
        data_json="index.json",
        root="",
    )
