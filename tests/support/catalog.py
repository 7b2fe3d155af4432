"""Catalogs built by hand for nightly tests: slug -> (category, launch date, competitors)."""

from __future__ import annotations

from panel.inputs.catalog import Catalog, Tool
from panel.paths import Home

Entries = dict[str, tuple[str, str, list[str]]]


def make_catalog(home: Home, tools: Entries, **vendors: str) -> None:
    """Replace the project's catalog with ``tools``; ``vendors`` by slug with _ for -."""
    for path in home.catalog.iterdir():
        path.unlink()
    catalog = Catalog.load(home.catalog)
    for slug, (category, launched, competitors) in tools.items():
        catalog.save(
            Tool.model_validate(
                {"slug": slug, "name": slug.replace("-", " ").title(), "category": category,
                 "launched": launched, "competitors": competitors,
                 "vendor": vendors.get(slug.replace("-", "_"), f"{slug} Inc"),
                 "description": f"{slug} does things."}
            )
        )  # fmt: skip
