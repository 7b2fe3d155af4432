"""HTML (the ``html`` format): site pages and the digest's email body.

One autoescaping jinja environment, no inline script.

Every value reaching a template is escaped by jinja's autoescape, so vendor and LLM
text renders as text: ``<script>``, ``{{ }}`` and a stray ``</`` stay inert. Links
come only from :func:`panel.publish.render.view.http_url`, so only http(s) URLs are ever
clickable. A Content-Security-Policy meta tag forbids scripts outright, and
forms may post only to the newsletter endpoint's origin (or nowhere).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jinja2

from panel.inputs.votes import Votes
from panel.publish.render import structured
from panel.publish.render.base import (
    Comparison,
    Context,
    Digest,
    IndexPage,
    Methodology,
    Subject,
    ToolPage,
    unsupported,
)
from panel.publish.render.view import DISCLOSURE, PAGE_INTRO, PAGE_QUESTION, PageView
from panel.urls import form_origin

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = ("style.css", "favicon.svg")  # copied into the site as they are
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action {form}; script-src 'none'; object-src 'none'"
)
GENERATOR = '<meta name="generator" content="panel">'  # marks a page as panel's own
FIELD_PATTERN = r"^[A-Za-z0-9_.\[\]-]{1,64}$"


@dataclass(frozen=True)
class Chrome:
    """What every page shares: the site title and URL, and the newsletter signup, if any."""

    site_title: str
    newsletter_action: str = ""  # the email provider's form action (http(s)), or ""
    newsletter_field: str = "email"  # the name of the email field that provider expects
    site_url: str = ""  # the site's public URL ("" when unknown: a preview)

    @property
    def newsletter(self) -> dict[str, str] | None:
        origin = form_origin(self.newsletter_action)
        if not origin or not re.match(FIELD_PATTERN, self.newsletter_field):
            return None
        return {"action": self.newsletter_action, "field": self.newsletter_field}

    @property
    def csp(self) -> str:
        origin = form_origin(self.newsletter_action) if self.newsletter else ""
        return CSP.format(form=origin or "'none'")


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


def _render(template: str, chrome: Chrome, **context: Any) -> bytes:
    context.setdefault("jsonld", "")
    context.setdefault("share_image", "")
    context.setdefault("og_type", "website")
    page = (
        environment()
        .get_template(template)
        .render(
            csp=chrome.csp,
            generator=GENERATOR,
            site_title=chrome.site_title,
            newsletter=chrome.newsletter,
            **context,
        )
    )
    return page.encode("utf-8")


def comparison_page(
    view: PageView, *, chrome: Chrome, canonical: str, data_json: str, share_image: str = ""
) -> bytes:
    graph = structured.comparison_graph(
        view, site_title=chrome.site_title, site_url=chrome.site_url, page_url=canonical
    )
    return _render(
        "comparison.html.j2",
        chrome,
        view=view,
        page_title=f"{view.title}: {PAGE_QUESTION.lower()}",
        description=f"{view.title}. {PAGE_QUESTION} {view.answer_reason}".strip(),
        question=PAGE_QUESTION,
        intro=PAGE_INTRO,
        disclosure=DISCLOSURE,
        canonical=canonical,
        data_json=data_json,
        root="../",
        jsonld=structured.script_body(graph),
        share_image=share_image,
        og_type="article",
    )


def tool_page(
    tool: dict[str, Any],
    comparisons: list[dict[str, Any]],
    *,
    chrome: Chrome,
    canonical: str,
    data_json: str,
    votes: Votes,
    alternatives: list[dict[str, str]] | None = None,
) -> bytes:
    return _render(
        "tool.html.j2",
        chrome,
        tool=tool,
        comparisons=comparisons,
        alternatives=alternatives or [],
        page_title=f"{tool['name']}: panel verdicts",
        description=tool["tagline"],
        canonical=canonical,
        data_json=data_json,
        root="../",
        jsonld=structured.script_body(structured.tool_graph(tool, votes)),
    )


def methodology_page(subject: Methodology, *, chrome: Chrome, canonical: str) -> bytes:
    return _render(
        "methodology.html.j2",
        chrome,
        page=subject,
        page_title=f"{subject.title}: {chrome.site_title}",
        description="Who reviews, through which lenses and by which rules: AI models, "
        "checked by named editors.",
        canonical=canonical,
        data_json="",
        root="",
    )


def index_page(
    comparisons: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    chrome: Chrome,
    canonical: str,
    data_json: str = "index.json",
) -> bytes:
    return _render(
        "index.html.j2",
        chrome,
        comparisons=comparisons,
        tools=tools,
        page_title=chrome.site_title,
        description="",
        canonical=canonical,
        data_json=data_json,
        root="",
    )


def digest_email(subject: Digest) -> str:
    """The week's newsletter as an HTML email body."""
    template = environment().get_template("digest.html.j2")
    return template.render(
        heading=f"{subject.title}, {subject.label}",
        title=subject.title,
        subheading=subject.subheading,
        items=subject.items,
        disclosure=subject.disclosure,
    )


# Pages written before the generator mark: their <article> tag, within the first bytes.
_LEGACY = (b'<article class="comparison" data-record="', b'<article class="tool-page" data-tool="')


class HtmlRenderer:
    """The site's pages (comparison, tool, index), `show --format html`, the digest email."""

    name = "html"
    media_type = "text/html; charset=utf-8"
    suffix = ".html"
    subjects: tuple[type, ...] = (Comparison, ToolPage, IndexPage, Digest, Methodology)
    site = True

    def render(self, subject: Subject, context: Context) -> bytes | str:
        chrome = Chrome(
            context.site_title,
            context.newsletter_action,
            context.newsletter_field,
            context.base_url,
        )
        data = context.alternates.get("application/json", "")
        if isinstance(subject, Comparison):
            image = context.alternates.get("image/png", "")
            return comparison_page(
                subject.view,
                chrome=chrome,
                canonical=context.url,
                data_json=data,
                share_image=urljoin(context.url, image) if image and context.url else "",
            )
        if isinstance(subject, ToolPage):
            tool = {**subject.tool, "votes": subject.votes.label}
            return tool_page(
                tool,
                subject.comparisons,
                chrome=chrome,
                canonical=context.url,
                data_json=data,
                votes=subject.votes,
                alternatives=subject.alternatives,
            )
        if isinstance(subject, Methodology):
            return methodology_page(subject, chrome=chrome, canonical=context.url)
        if isinstance(subject, IndexPage):
            return index_page(
                subject.latest, subject.tools, chrome=chrome, canonical=context.url, data_json=data
            )
        if isinstance(subject, Digest):
            return digest_email(subject)
        raise unsupported(self, subject)

    def marked(self, head: bytes) -> bool:
        return GENERATOR.encode() in head or any(mark in head for mark in _LEGACY)


RENDERER = HtmlRenderer()
