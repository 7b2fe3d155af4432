"""The desk's only coupling to the site's renderers: the published page, its views, its CSP.

Every other desk module imports renderer things from here, never from
``panel.publish.render``: when the renderers change interface, this module is
the one to adapt. What it promises:

- :func:`published_page` and :func:`published_data`: the comparison page and its JSON,
  byte for byte what ``panel site build`` writes for the record with the same votes
  and [site] settings;
- :func:`views`: the page view and the editor's view (data only, text cleaned);
- :func:`safe` and :func:`when`: cleaning untrusted text, formatting a timestamp;
- the Content-Security-Policy of the site, and the desk's own derived from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import jinja2

from panel.inputs.votes import Votes
from panel.publish.history import pair_history
from panel.publish.render import html, pagedata
from panel.publish.render.base import Comparison, as_bytes
from panel.publish.render.editor import EditorView, editor_view
from panel.publish.render.editor import when as _when
from panel.publish.render.view import PageView, page_view
from panel.publish.render.view import safe as _safe
from panel.publish.site import SiteOptions
from panel.publish.siteout import outputs, place
from panel.records.publication import pair_key
from panel.records.schema import ComparisonRecord

# The site's policy with the desk's own forms allowed, and frames only from the desk.
DESK_CSP = html.CSP.format(form="'self'") + "; frame-src 'self'; frame-ancestors 'none'"
# The files the published page links to, served beside the preview as the site serves them.
STATIC: dict[str, Path] = {name: html.TEMPLATES / name for name in html.STATIC}

__all__ = [
    "DESK_CSP",
    "STATIC",
    "EditorView",
    "PageView",
    "page_csp",
    "page_file",
    "published_data",
    "published_page",
    "safe",
    "site_environment",
    "views",
    "when",
]


def site_environment(folder: Path) -> jinja2.Environment:
    """The site's jinja environment settings (autoescape, strict undefined) over ``folder``."""
    return html.environment().overlay(loader=jinja2.FileSystemLoader(folder))


def safe(text: str | None) -> str:
    """Untrusted text without control or invisible characters (escape it when rendering)."""
    return _safe(text)


def when(at: datetime) -> str:
    """A timestamp as editors read it: UTC, to the minute."""
    return _when(at)


def views(
    record: ComparisonRecord, votes: Mapping[str, Votes], state: str | None = None
) -> tuple[PageView, EditorView]:
    """The page view and the editor's view; ``state``: the record's shown state."""
    view = page_view(record, votes)
    return view, editor_view(record, view, state)


def page_file(record: ComparisonRecord) -> str:
    """The page's name on the site: ``<a>-vs-<b>`` (as in ``compare/<a>-vs-<b>.html``)."""
    return pair_key(record)


def _chrome(options: SiteOptions) -> html.Chrome:
    return html.Chrome(options.title, options.newsletter_action, options.newsletter_field)


def page_csp(options: SiteOptions) -> str:
    """The published page's own policy; inside the desk it may be framed by the desk only."""
    return _chrome(options).csp + "; frame-ancestors 'self'"


def published_page(
    record: ComparisonRecord, votes: Mapping[str, Votes], options: SiteOptions, runs: Path
) -> bytes:
    """The comparison page exactly as ``panel site build`` writes it for ``record``: the same
    renderer, context (links to its other formats) and pair history."""
    stem = place(Comparison, page_file(record))
    made = outputs(Comparison, stem)
    rel = next(rel for rel, r in made if r is html.RENDERER)
    subject = Comparison.of(record, votes, pair_history(runs, record))
    return as_bytes(html.RENDERER.render(subject, options.context(made, rel)))


def published_data(record: ComparisonRecord, votes: Mapping[str, Votes]) -> bytes:
    """The page's JSON exactly as the site build writes it."""
    page = page_file(record)
    return pagedata.dumps(pagedata.comparison_data(page_view(record, votes), record, page))
