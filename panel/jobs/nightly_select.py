"""What the nightly reviews tonight: new launches and changed tools, each with a rival.

A rival is paired with a tool only if the panel can review it: a seat (a persona on a
provider) whose model's vendor made the rival is recused, and a rival no seat may
review can never meet quorum. Such a tool is skipped, with the reason in the summary.

A pair reviewed before is re-reviewed only when an input changed (catalog entry,
persona, prompt, model); an incomplete pair is planned again so that failed calls due
for a retry are retried, and the nightly writes a new record only if an answer changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from panel.inputs.catalog import Catalog, Tool
from panel.jobs.nightly_panel import PanelUsed
from panel.pipeline.session import RunSession
from panel.providers import registry
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
    since: date,
    current: Callable[[Tool, Tool], dict[str, Any]],
    seats: Seats | None = None,
    skipped: list[dict[str, str]] | None = None,
    due: Callable[[str], bool] = lambda key: True,
) -> list[Selected]:
    """New launches without a record, and tools whose inputs changed since their last review.

    An incomplete or partly failed pair is planned again only when one of its failed calls
    is ``due`` for a retry. Tools that would be reviewed but have no rival the panel may
    review go to ``skipped``.
    """
    chosen: list[Selected] = []
    reviews = store.reviews()
    for tool in sorted(catalog.tools.values(), key=_recency, reverse=True):
        history = reviews.get(tool.slug, [])
        if not history and not (tool.launched is not None and tool.launched >= since):
            continue
        if not history:
            rival = rival_for(tool, catalog, seats)
            if rival is None:
                if skipped is not None:
                    skipped.append({"tool": tool.slug, "reason": _no_rival(tool, catalog)})
            else:
                chosen.append(Selected(tool, rival, f"launched {tool.launched}, no record yet"))
            continue
        last = history[-1]
        # keep the pairing it was reviewed in (a rival gone from the catalog is replaced)
        rival = catalog.tools.get(last["tools"][1]) or rival_for(tool, catalog, seats)
        if rival is None:
            continue
        changed = _changed(last["provenance"], current(tool, rival))
        if changed:
            chosen.append(Selected(tool, rival, f"changed since last review: {changed}"))
        elif last["status"] == "incomplete" or last["provenance"].get("failed"):
            retry = [key for key in last["provenance"].get("failed", []) if due(key)]
            if retry or "failed" not in last["provenance"]:  # older index rows: no list kept
                what = "incomplete" if last["status"] == "incomplete" else "partly failed"
                calls = "failed call" if len(retry) == 1 else "failed calls"
                why = f"last review was {what}; {len(retry)} {calls} due"
                chosen.append(Selected(tool, rival, why))
    return chosen


def _no_rival(tool: Tool, catalog: Catalog) -> str:
    if rival_for(tool, catalog) is None:
        return "no other tool in the catalog to compare with"
    return (
        "no rival the panel may review: every candidate is made by the vendor of the "
        "panel's models (recused); add a provider from another vendor or a competitor"
    )


def _changed(before: dict[str, Any], now: dict[str, Any]) -> str:
    labels = {
        "catalog": "catalog entry",
        "personas": "persona",
        "templates": "prompt",
        "models": "model",
        "evidence": "evidence",  # a source's text changed (panel.evidence), or one was fetched
    }
    return ", ".join(label for key, label in labels.items() if before.get(key) != now.get(key))
