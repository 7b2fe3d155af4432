"""One interface for every output format: a renderer turns a subject into text or bytes.

A **subject** is what is rendered: a :class:`Comparison` (a record with its page
view), a :class:`ToolPage`, the :class:`IndexPage`, the :class:`Feed`, the
:class:`Sitemap` or a week's :class:`Digest`. Subjects are data only; the page
view has already cleaned untrusted text, and each renderer escapes it for its own
format.

A **renderer** is one output format (``terminal``, ``markdown``, ``json``,
``html``, ``atom``, ...). It says which subjects it renders, its media type and
file suffix, whether the site publishes it, and how to know its own files.
Renderers are listed in :mod:`panel.publish.render.registry`; nothing else names
them:

- ``panel show --format NAME`` renders a :class:`Comparison` with renderer NAME;
- ``panel site build`` writes one file per subject and site renderer of that
  subject (``compare/<a>-vs-<b><suffix>``, ``tools/<slug><suffix>``,
  ``index<suffix>``, ``feed<suffix>``, ``sitemap<suffix>``);
- ``panel digest`` writes ``<week><suffix>`` for every renderer of a :class:`Digest`.

So a new output format is one module with a ``RENDERER`` and its line in the registry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rich.console import Console

from panel.errors import PanelError
from panel.inputs.votes import Votes
from panel.publish.render.view import PageView, PastVerdict, page_view
from panel.records.schema import ComparisonRecord

# -- subjects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One record and its page view (built once; renderers never re-derive scores)."""

    record: ComparisonRecord
    view: PageView
    state: str | None = None  # its shown state (publication.shown_state), when its pair is known

    @classmethod
    def of(
        cls,
        record: ComparisonRecord,
        votes: Mapping[str, Votes] | None = None,
        history: tuple[PastVerdict, ...] = (),
        state: str | None = None,
    ) -> Comparison:
        return cls(record, page_view(record, votes, history), state)


@dataclass(frozen=True)
class ToolPage:
    """One tool and the comparisons it is in, newest first."""

    tool: Mapping[str, str]  # slug, name, vendor, category, tagline, description, entry_price, url
    votes: Votes
    comparisons: list[dict[str, Any]]  # one listing per comparison page
    alternatives: list[dict[str, str]] = field(default_factory=list)  # name, href, why


@dataclass(frozen=True)
class IndexPage:
    title: str
    latest: list[dict[str, Any]]  # listings of the newest comparison pages
    tools: list[dict[str, str]]  # {"slug", "name"}, sorted by name


@dataclass(frozen=True)
class Entry:
    """One feed entry."""

    id: str  # the record id: a new record of the same pair is a new entry
    url: str  # absolute page URL
    title: str
    summary: str
    date: datetime  # when published (or reviewed, if never published)


@dataclass(frozen=True)
class Feed:
    title: str
    base_url: str  # absolute, ends with "/"
    entries: list[Entry]


@dataclass(frozen=True)
class Sitemap:
    pages: list[tuple[str, str | None]]  # (absolute URL, last-modified date or None)


@dataclass(frozen=True)
class DigestTool:
    name: str
    ship: str  # "75% panel ship", or "no valid verdicts"
    votes: str


@dataclass(frozen=True)
class DigestItem:
    title: str
    answer: str  # "Ship with X." or "No pick."
    reason: str  # a sentence
    quorum_note: str  # "" when the panel reached quorum
    url: str  # "" without a base URL
    tools: list[DigestTool]
    evidence: str = ""  # what each tool was reviewed from (sources.label), a sentence each


@dataclass(frozen=True)
class Digest:
    """A week's published comparisons, for the newsletter."""

    title: str  # "Weekly AI Tool Verdicts"
    label: str  # "2026-W48"
    subheading: str  # "Week 48, 2026: 23 Nov to 29 Nov 2026"
    items: list[DigestItem]
    disclosure: str


@dataclass(frozen=True)
class Seat:
    model: str  # kind/model, e.g. "openai/gpt-4o-mini"
    maker: str  # who makes the model; "" when panel cannot tell (a self-hosted server)
    personas: list[str]  # persona titles this model reviews for


@dataclass(frozen=True)
class Lens:
    title: str
    lens: str


@dataclass(frozen=True)
class Methodology:
    """The "How we review" page (panel.publish.methodology builds it from the configuration)."""

    title: str
    statement: str
    seats: list[Seat]
    lenses: list[Lens]
    pick_rule: str
    recusal: str
    head_to_head: str  # "" when the panel does not ask the head-to-head question
    evidence: str
    editors_do: list[str]
    editors_dont: list[str]

    def digest(self) -> str:
        """What the page shows: a change rebuilds it."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


Subject = Comparison | ToolPage | IndexPage | Feed | Sitemap | Digest | Methodology

# -- renderers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Where an output goes: what a renderer may need besides its subject."""

    site_title: str = "AI tool comparisons"  # [site] title
    newsletter_action: str = ""  # [site] newsletter_action ("" for no signup form)
    newsletter_field: str = "email"  # [site] newsletter_field
    url: str = ""  # the output's own absolute URL (canonical), "" when it has none
    base_url: str = ""  # the site's public URL, ends with "/" ("" when it has none)
    # The same subject in the other formats published beside it: media type -> relative link.
    alternates: Mapping[str, str] = field(default_factory=dict)
    console: Console | None = None  # the terminal the output is shown on, if any


class Renderer(Protocol):
    """One output format. A module defines one (``RENDERER``) and the registry lists it."""

    @property
    def name(self) -> str:
        """The --format name: a lower-case word, e.g. "markdown"."""
        ...

    @property
    def media_type(self) -> str:
        """e.g. "text/markdown; charset=utf-8"."""
        ...

    @property
    def suffix(self) -> str:
        """The file name's ending where an output is written, e.g. ".md"."""
        ...

    @property
    def subjects(self) -> tuple[type, ...]:
        """The subject types it renders."""
        ...

    @property
    def site(self) -> bool:
        """Whether the site build publishes it, for every subject it renders."""
        ...

    def render(self, subject: Subject, context: Context) -> str | bytes:
        """The output for ``subject``; :func:`unsupported` for a subject it does not render."""
        ...

    def marked(self, head: bytes) -> bool:
        """Whether a file starting with ``head`` (its first 8 KiB) is one panel wrote.

        The site build removes a stale page only if it carries this mark.
        """
        ...


def unsupported(renderer: Renderer, subject: object) -> PanelError:
    kinds = ", ".join(t.__name__ for t in renderer.subjects)
    return PanelError(
        f"the {renderer.name} format cannot render a {type(subject).__name__}; it renders: {kinds}"
    )


def as_bytes(output: str | bytes) -> bytes:
    return output.encode("utf-8") if isinstance(output, str) else output
