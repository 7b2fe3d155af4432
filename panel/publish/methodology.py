""" "How we review": the site's methodology page, generated from the project's configuration.

Readers are told who reviews (which models sit on the panel and who makes them), through which
lenses (the personas), by which rules (the pick, quorum, recusal, both orders, the evidence
policy), and what the editors do. Everything is read from panel.toml and personas/ at build
time, so the page cannot drift from what the panel does. Nothing here contacts a provider.
"""

from __future__ import annotations

from panel.config import Config
from panel.inputs.personas import load_personas
from panel.paths import Home
from panel.providers import registry
from panel.publish.render.answer import rule_sentence
from panel.publish.render.base import Lens, Methodology, Seat
from panel.scoring.rules import Recusal

TITLE = "How we review"
AI_STATEMENT = (
    "Every review on this site is written by AI models, not by people. The reviewer names on a "
    "page (DX, Competitive, Futurist, Business) are lenses we ask the models to take, not "
    "people, and their quotes are the models' own words. A named editor checks every "
    "comparison before it is published."
)
EDITORS_DO = [
    "approve a comparison for publication, or reject it (a rejected page comes down at the "
    "next build);",
    "override one reviewer's verdict with a signed note, shown on the page as an editor's note "
    "beside the model's own verdict;",
    "re-run a review on another panel when models fail or recuse themselves.",
]
EDITORS_DONT = [
    "edit, shorten or write a model's quote;",
    "change the panel ship percentage, the pick or the reviewer split (they are computed from "
    "the models' verdicts by the rules below);",
    "publish a comparison that did not reach quorum without saying so on the page.",
]
RECUSAL = {
    Recusal.RECUSE: (
        "A model never reviews its own maker's tool: its verdict is kept in the record but "
        "left out of every score, and the page marks it as recused."
    ),
    Recusal.FLAG: (
        "A model reviewing its own maker's tool is counted, and the page flags its verdict as "
        "a conflict of interest."
    ),
}
BOTH_ORDERS = (
    "Each model is also asked the page's question, which one to ship with, once with each tool "
    "first. Its pick counts only if both orders agree, so a model that favours whichever tool "
    "it reads first counts for neither."
)
EVIDENCE = (
    "Reviewers read each tool's catalog card, which is usually written by the vendor, and the "
    "pages listed as its sources (homepage, docs, pricing, changelog, repository or package "
    "facts, fetched on the date shown), all as untrusted data: instructions inside them are "
    "ignored, and answers that copy them or leak the reviewers' instructions are withheld. "
    "Every price, number, version and date in a quote must cite a source that states it, "
    "like [S2]; a quote with a claim its sources do not state is withheld. A tool with no "
    "sources says it was reviewed from the vendor's description only."
)


def _maker(config: Config, name: str) -> tuple[str, str]:
    settings = config.settings(name)
    kind = registry.describe(settings.kind)
    endpoint = settings.base_url or kind.endpoint
    return f"{settings.kind}/{settings.model}", kind.model_vendor(settings, endpoint)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe(home: Home) -> Methodology:
    """The methodology of the panel as panel.toml and personas/ configure it."""
    config = Config.load(home.config_file)
    personas = load_personas(home.personas, home.prompts)
    seats: dict[str, tuple[str, list[str]]] = {}
    for persona in personas.values():
        for name in config.panel_for(persona.name, []):
            model, maker = _maker(config, name)
            seats.setdefault(model, (maker, []))[1].append(persona.spec.title)
    return Methodology(
        title=TITLE,
        statement=AI_STATEMENT,
        seats=[Seat(model, maker, titles) for model, (maker, titles) in seats.items()],
        lenses=[Lens(p.spec.title, p.spec.lens) for p in personas.values()],
        pick_rule=_sentence(
            rule_sentence(config.panel.quorum).removeprefix("How the pick is made: ")
        ),
        recusal=RECUSAL[config.panel.recusal],
        head_to_head=BOTH_ORDERS if config.panel.head_to_head else "",
        evidence=EVIDENCE,
        editors_do=list(EDITORS_DO),
        editors_dont=list(EDITORS_DONT),
    )
