"""Structured data for search engines: schema.org JSON-LD on comparison and tool pages.

What it claims, and what it never does:

- each tool is a ``SoftwareApplication`` (name, category, description, its website);
- the panel's verdict on a tool is a ``Review`` whose author and publisher are the site's
  ``Organization``: the reviews are written by AI models and approved by editors, so they are
  never presented as a ``Person``'s (the FTC's rule on fake reviews, 2024); its rating is the
  panel ship % (0 to 100);
- an ``AggregateRating`` comes only from real community votes, with their count, and only when
  there are any.

The JSON is embedded in ``<script type="application/ld+json">``, a data block the CSP's
``script-src 'none'`` does not run. ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so
no untrusted text can close the element.
"""

from __future__ import annotations

import json
from typing import Any

from panel.inputs.votes import Votes
from panel.publish.render.view import Card, PageView

CONTEXT = "https://schema.org"


def organization(site_title: str, site_url: str) -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "Organization", "name": site_title}
    if site_url:
        org["url"] = site_url
    return org


def aggregate_rating(votes: Votes) -> dict[str, Any] | None:
    """Community votes as a rating out of 100 (the ship share), or None without votes."""
    if votes.ship_pct is None:
        return None
    return {
        "@type": "AggregateRating",
        "ratingValue": round(votes.ship_pct, 1),
        "bestRating": 100,
        "worstRating": 0,
        "ratingCount": votes.total,
    }


def application(
    name: str,
    category: str,
    description: str,
    url: str,
    votes: Votes,
) -> dict[str, Any]:
    app: dict[str, Any] = {
        "@type": "SoftwareApplication",
        "name": name,
        "applicationCategory": category or "DeveloperApplication",
    }
    if description:
        app["description"] = description
    if url:
        app["url"] = url
    rating = aggregate_rating(votes)
    if rating is not None:
        app["aggregateRating"] = rating
    return app


def _review(card: Card, view: PageView, org: dict[str, Any], page_url: str) -> dict[str, Any]:
    review: dict[str, Any] = {
        "@type": "Review",
        "name": f"{view.title}: the panel's verdict on {card.name}",
        "author": org,
        "publisher": org,
        "reviewBody": f"{view.answer_reason} Panel ship for {card.name}: {card.ship_label}.",
    }
    if view.reviewed is not None:
        review["datePublished"] = view.reviewed.isoformat()
    if page_url:
        review["url"] = page_url
    if card.score.ship_pct is not None:
        review["reviewRating"] = {
            "@type": "Rating",
            "ratingValue": round(card.score.ship_pct, 1),
            "bestRating": 100,
            "worstRating": 0,
            "ratingExplanation": "panel ship %: ship verdicts of the valid AI reviewer verdicts",
        }
    return review


def comparison_graph(
    view: PageView, *, site_title: str, site_url: str, page_url: str
) -> list[dict[str, Any]]:
    """One SoftwareApplication per tool, each with the panel's editorial Review of it."""
    org = organization(site_title, site_url)
    graph = []
    for card in view.cards:
        app = application(card.name, card.category, card.tagline, card.url, card.votes)
        app["review"] = _review(card, view, org, page_url)
        graph.append(app)
    return graph


def tool_graph(tool: dict[str, Any], votes: Votes) -> list[dict[str, Any]]:
    return [
        application(
            str(tool["name"]),
            str(tool.get("category", "")),
            str(tool.get("tagline", "")),
            str(tool.get("url", "")),
            votes,
        )
    ]


def script_body(graph: list[dict[str, Any]]) -> str:
    """The JSON-LD text, safe inside <script type="application/ld+json">."""
    text = json.dumps({"@context": CONTEXT, "@graph": graph}, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
