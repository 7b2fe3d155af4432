"""Every output format panel knows, by name: one line per renderer.

``panel show --format``, the site build and the digest find their formats here,
and nowhere else. A new format is a module with a ``RENDERER`` (see
:class:`panel.publish.render.base.Renderer`) and its line in ``RENDERERS``; a
program embedding panel can also :func:`register` one at run time.
"""

from __future__ import annotations

import re

from panel.errors import PanelError, UnknownNameError
from panel.publish.render import feeds, html, markdown, pagedata, share, terminal
from panel.publish.render.base import Comparison, Renderer

RENDERERS: list[Renderer] = [
    terminal.RENDERER,
    markdown.RENDERER,
    pagedata.RENDERER,
    html.RENDERER,
    feeds.ATOM,
    feeds.JSON_FEED,
    feeds.SITEMAP,
    share.RENDERER,
]
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")


def _problem(renderer: Renderer, known: list[Renderer]) -> str | None:
    if not _NAME.match(renderer.name):
        return f"its name {renderer.name!r} is not a lower-case word (a-z, 0-9, -)"
    if not _SUFFIX.match(renderer.suffix):
        return f"its suffix {renderer.suffix!r} is not like '.html'"
    if not renderer.subjects:
        return "it renders no subject"
    for other in known:
        if other.name == renderer.name:
            return f"a format named {renderer.name!r} is registered already"
        shared = set(other.subjects) & set(renderer.subjects)
        if renderer.site and other.site and shared and other.suffix == renderer.suffix:
            return (
                f"the site already writes {renderer.suffix} files for "
                f"{', '.join(sorted(t.__name__ for t in shared))} with the {other.name} format"
            )
    return None


def register(renderer: Renderer) -> Renderer:
    """Add a format after the built-in ones; a PanelError if it clashes with one."""
    if problem := _problem(renderer, RENDERERS):
        raise PanelError(f"cannot register the output format {renderer.name!r}: {problem}")
    RENDERERS.append(renderer)
    return renderer


def unregister(name: str) -> None:
    """Remove the format called ``name`` (a program's own, registered at run time)."""
    RENDERERS[:] = [r for r in RENDERERS if r.name != name]


def for_subject(subject: type, *, site: bool | None = None) -> list[Renderer]:
    """The formats that render ``subject`` (only the site's, or only the others), in order."""
    return [r for r in RENDERERS if subject in r.subjects and (site is None or r.site == site)]


def names(subject: type = Comparison) -> list[str]:
    return [r.name for r in for_subject(subject)]


def get(name: str, subject: type = Comparison) -> Renderer:
    """The format called ``name`` that renders ``subject``; a one-line error with the choices."""
    for renderer in for_subject(subject):
        if renderer.name == name:
            return renderer
    known = names(subject)
    raise UnknownNameError("format", name, known, f"use one of: {', '.join(known)}")
