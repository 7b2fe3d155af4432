"""`panel show`: one record in any output format, with what that format needs.

A format the site publishes (``json``, ``html``) renders the record exactly as the
site would (``[site]`` title, signup form, the page's URL when ``[site] base_url``
is set, its data file linked beside it); any other format (``terminal``,
``markdown``) renders for the console it is shown on.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from panel.config import Config
from panel.inputs.votes import stored_votes
from panel.paths import Home
from panel.publish.history import pair_history
from panel.publish.render import registry
from panel.publish.render.base import Comparison, Context, Renderer
from panel.publish.site import SiteOptions
from panel.publish.siteout import outputs, place
from panel.records.editorial import shown
from panel.records.io import read_record, resolve
from panel.records.publication import pair_key


def context(home: Home, renderer: Renderer, subject: Comparison, console: Console) -> Context:
    if not renderer.site:
        return Context(console=console)
    site = Config.load(home.config_file).site
    options = SiteOptions.of(site, Path(), site.base_url or "")
    made = outputs(Comparison, place(Comparison, pair_key(subject.record)))
    rel = next(rel for rel, r in made if r.name == renderer.name)
    return options.context(made, rel)


def show(home: Home, record: str, name: str, console: Console | None = None) -> str | bytes:
    """Record ``record`` (an id or a path) in format ``name``, with the project's votes."""
    renderer = registry.get(name)
    path = resolve(home.runs, record)
    loaded = read_record(path)
    state = shown(home.runs, path, loaded)  # published only while it is the pair's page
    history = pair_history(home.runs, loaded)  # as the site build shows it
    subject = Comparison.of(loaded, stored_votes(home.runs), history, state=state)
    return renderer.render(subject, context(home, renderer, subject, console or Console()))
