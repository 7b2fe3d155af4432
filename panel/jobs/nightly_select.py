"""What the nightly reviews tonight: new launches and changed tools, each with a rival.

A rival is paired with a tool only if the panel can review it: a seat (a persona on a
provider) whose model's vendor made the rival is recused, and a rival no seat may
review can never meet quorum. Such a tool is skipped, with the reason in the summary.

Which tools are new and why a reviewed pair is planned again are ``nightly_policy``'s
rules; this module pairs and skips.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from panel.inputs.catalog import Catalog, Tool
from panel.jobs.nightly_panel import PanelUsed
from panel.jobs.nightly_policy import Look, new_tool, rereview
from panel.pipeline.session import RunSession
from panel.providers import registry
from panel.records.rows import ReviewInputs
from panel.records.store import Store
from panel.scoring.rules import Quorum, Recusal
from panel.scoring.trust import same_vendor

RIVAL_RULE = (
    "a competitor the catalog entry names (first one found in the catalog), "
    "then the most recently launched tool in the same category, "
    "then the most recently launched tool overall; "
    "only a rival the panel may review (not every seat recused from it)"
)


def _recency(tool: Tool) -> tuple[date, str]:
    return (tool.launched or date.min, tool.slug)


@dataclass
class Seats:
    """Who reviews: persona -> the model vendors of its providers, and the rules.

    ``load`` gives the vendors when first needed (it may build provider clients), so a
    night with nothing new builds none.
    """

    load: Callable[[], Mapping[str, Sequence[str]]]
    recusal: Recusal = Recusal.RECUSE
    quorum: Quorum = Quorum.EVERY_PERSONA
    _known: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def vendors(self) -> Mapping[str, Sequence[str]]:
        return self.load()

    def may_review(self, tool: Tool) -> bool:
        """Can the panel meet quorum on ``tool``: not every needed seat recused from it."""
        if self.recusal is not Recusal.RECUSE or not self.vendors:
            return True
        known = self._known.get(tool.vendor)
        if known is None:
            free = [
                any(not same_vendor(vendor, tool.vendor) for vendor in vendors)
                for vendors in self.vendors.values()
            ]
            known = all(free) if self.quorum is Quorum.EVERY_PERSONA else any(free)
            self._known[tool.vendor] = known
        return known


def seats_of(session: RunSession, panel: PanelUsed) -> Seats:
    """Persona -> the model vendors of its providers, for pairing (built when first needed)."""
    config = session.config

    def load() -> dict[str, list[str]]:
        vendors: dict[str, str] = {}
        for name in panel.providers:
            if name not in session.clients:
                session.clients[name] = registry.create(config.settings(name))
            vendors[name] = registry.model_vendor(config.settings(name), session.clients[name])
        return {persona: [vendors[n] for n in names] for persona, names in panel.personas.items()}

    return Seats(load, config.panel.recusal, config.panel.quorum)


def rival_for(tool: Tool, catalog: Catalog, seats: Seats | None = None) -> Tool | None:
    """The rival by ``RIVAL_RULE``; None when the catalog has none the panel may review."""
    ok = seats.may_review if seats is not None else (lambda t: True)
    for slug in tool.competitors:
        if slug in catalog.tools and slug != tool.slug and ok(catalog.tools[slug]):
            return catalog.tools[slug]
    others = [t for t in catalog.tools.values() if t.slug != tool.slug]
    same = [t for t in others if tool.category and t.category == tool.category and ok(t)]
    pool = same or [t for t in others if ok(t)]
    return max(pool, key=_recency) if pool else None


@dataclass(frozen=True)
class Selected:
    tool: Tool
    rival: Tool
    reason: str


def select(
    catalog: Catalog,
    store: Store,
    tonight: Look,
    current: Callable[[Tool, Tool], ReviewInputs],
    seats: Seats | None = None,
    skipped: list[dict[str, str]] | None = None,
) -> list[Selected]:
    """Tools to review tonight, each with its rival and the reason (``nightly_policy``'s).

    Tools that would be reviewed but have no rival the panel may review go to ``skipped``.
    """
    chosen: list[Selected] = []
    reviews = store.reviews()
    for tool in sorted(catalog.tools.values(), key=_recency, reverse=True):
        history = reviews.get(tool.slug, [])
        if not history:
            reason = new_tool(tool, tonight)
            if reason is None:
                continue
            rival = rival_for(tool, catalog, seats)
            if rival is None:
                if skipped is not None:
                    skipped.append({"tool": tool.slug, "reason": _no_rival(tool, catalog)})
            else:
                chosen.append(Selected(tool, rival, reason))
            continue
        last = history[-1]
        # keep the pairing it was reviewed in (a rival gone from the catalog is replaced)
        rival = catalog.tools.get(last.tools[1]) or rival_for(tool, catalog, seats)
        if rival is None:
            continue
        why = rereview(last, current(tool, rival), tonight)
        if why:
            chosen.append(Selected(tool, rival, why))
    return chosen


def _no_rival(tool: Tool, catalog: Catalog) -> str:
    if rival_for(tool, catalog) is None:
        return "no other tool in the catalog to compare with"
    return (
        "no rival the panel may review: every candidate is made by the vendor of the "
        "panel's models (recused); add a provider from another vendor or a competitor"
    )
