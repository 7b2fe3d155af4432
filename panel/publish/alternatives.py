"""A tool page's alternatives: the catalog's named competitors, then tools of the same category.

Each links to its comparison with the tool where one is published, else to its own tool page
where it has one, else is named without a link. Named competitors come from the catalog (an
unreadable catalog leaves them out: the site never fails for it); categories come from the
published records themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

from panel.errors import PanelError
from panel.inputs.catalog import Catalog
from panel.paths import Home
from panel.publish.sitecache import ToolSummary

MAX_ALTERNATIVES = 8


def competitors(home: Home) -> dict[str, list[str]]:
    """Per tool slug, the competitors its catalog entry names (empty if unreadable)."""
    try:
        catalog = Catalog.load(home.catalog)
    except PanelError:
        return {}
    return {slug: list(tool.competitors) for slug, tool in catalog.tools.items()}


def alternatives(
    tool: ToolSummary,
    tools: Mapping[str, ToolSummary],
    named: Mapping[str, list[str]],
    pages: set[str],
) -> list[dict[str, str]]:
    """``{"name", "href", "why"}`` per alternative, named competitors first; hrefs relative to
    ``tools/``. ``tools``: every tool with a page; ``pages``: every published pair page."""
    chosen: list[tuple[str, str]] = [(s, "named competitor") for s in named.get(tool.slug, [])]
    if tool.category:
        chosen += [
            (s, f"also in {tool.category}")
            for s, other in sorted(tools.items(), key=lambda kv: kv[1].name.casefold())
            if other.category == tool.category
        ]
    out: list[dict[str, str]] = []
    seen = {tool.slug}
    for slug, why in chosen:
        if slug in seen or len(out) >= MAX_ALTERNATIVES:
            continue
        seen.add(slug)
        other = tools.get(slug)
        name = other.name if other else slug
        pair = next(
            (p for p in (f"{tool.slug}-vs-{slug}", f"{slug}-vs-{tool.slug}") if p in pages), ""
        )
        href = f"../compare/{pair}.html" if pair else f"{slug}.html" if other else ""
        out.append({"name": name, "href": href, "why": why, "compared": "yes" if pair else ""})
    return out
