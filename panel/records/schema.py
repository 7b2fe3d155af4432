"""The comparison record and its parts: plain pydantic data, versioned.

Field order is part of the contract (``schema_version`` first, then identity,
then content); new fields are appended and a version bump comes with a
migration in ``io.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from panel.inputs.catalog import Tool
from panel.providers.base import FailureReason, StructuredMode
from panel.scoring.rules import Quorum, Recusal

SCHEMA_VERSION: Final = 6
# The one version this code reads and writes; older records are migrated first (io.py).
SchemaVersion = Literal[6]
assert get_args(SchemaVersion) == (SCHEMA_VERSION,), "bump SchemaVersion with SCHEMA_VERSION"

Verdict = Literal["ship", "skip"]
Majority = Literal["ship", "skip", "tie", "none"]
# CallResult.outcome: the one definition
CallOutcome = Literal["valid", "failed", "recused", "abstained"]
Sufficiency = Literal["sufficient", "insufficient"]
ClaimOutcome = Literal["supported", "unsupported", "contradicted", "unknown_source"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Failure(_Model):
    reason: FailureReason
    detail: str


class Claim(_Model):
    """One checked claim of a quote (issue 26): what it says, what it cites, the outcome."""

    text: str = Field(description="the fact as the quote writes it (a price, number, ...)")
    kind: str = Field(description="price, percentage, version, date, number, or citation")
    cited: list[str] = Field(default_factory=list, description="the S ids its sentence cites")
    outcome: ClaimOutcome
    source: str | None = Field(None, description="the id of the source that supports it")
    reason: str = Field("", description="why, for editors")
    checker: str = Field(
        "deterministic", description="'deterministic', or the provider of the model claim check"
    )


class EvidenceRef(_Model):
    """One source a tool was reviewed with: what was fetched, not its text."""

    id: str = Field(description="S1, S2, ... as the prompt numbered it")
    url: str
    kind: str = Field(description="homepage, docs, pricing, changelog, repository, package, ...")
    title: str = ""
    fetched_at: datetime
    sha256: str = Field(description="of the snapshot's text (stored content-addressed)")


class FactCheck(_Model):
    """The model claim check of one verdict (``fact_check`` in ``[panel]``): by whom, how it
    went, what it cost. Its claims are in the verdict's ``claims`` (their ``checker``)."""

    key: str = Field(description="the claim check's own call key (cached like any call)")
    provider: str
    model: str
    status: Literal["ok", "failed"]
    publishable: bool = Field(description="every claim supported by a cited source")
    reason: str = ""
    cached: bool = False
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None


class CallResult(_Model):
    """One persona x tool x provider call, successful or not."""

    key: str = Field(description="sha256 of everything that decides the answer")
    persona: str
    tool: str
    provider: str
    model: str
    status: Literal["ok", "failed"]
    verdict: Verdict | None = None
    confidence: int | None = None
    quote: str | None = None
    fields: dict[str, str | list[str]] = Field(default_factory=dict)
    failure: Failure | None = None
    model_version: str | None = None
    mode: StructuredMode | None = None
    attempts: int = Field(0, description="requests sent, including retries and re-asks")
    reasks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = None
    truncated_input: list[str] = Field(default_factory=list)
    cost_usd: float | None = Field(
        None, description="USD at the price table's rates; null if unknown"
    )
    cached: bool = Field(False, description="served from the response cache: no call this run")
    defences: list[str] = Field(
        default_factory=list, description="prompt-injection defences applied to the input"
    )
    flags: list[str] = Field(
        default_factory=list,
        description=(
            "leak-check and quote-quality findings; a flagged verdict is kept but never "
            "scored or published"
        ),
    )
    kind: Literal["verdict", "head_to_head", "claim_check"] = Field(
        "verdict",
        description=(
            "head_to_head: 'which one should you ship with?', tool = '<first>-vs-<second>'; "
            "claim_check: a model claim check (kept in the store, summarised in fact_check)"
        ),
    )
    conflict: bool = Field(
        False, description="the model's vendor is the vendor of a tool under review"
    )
    recused: bool = Field(False, description="left out of scores for a conflict of interest")
    cached_tokens: int = Field(
        0,
        description=(
            "the part of prompt_tokens the provider served from its prompt cache, priced at "
            "the cached rate; left out of the file when 0"
        ),
    )
    citations: list[str] = Field(
        default_factory=list, description="the evidence ids (S1, ...) the quote cites"
    )
    evidence: Sufficiency | None = Field(
        None,
        description=(
            "the reviewer's word on the tool's evidence pack; 'insufficient' is an abstention; "
            "null: reviewed from the card alone"
        ),
    )
    claims: list[Claim] = Field(
        default_factory=list, description="the grounding check's outcome for each claim"
    )
    fact_check: FactCheck | None = Field(
        None, description="the model claim check, when [panel] fact_check names a checker"
    )

    @property
    def outcome(self) -> CallOutcome:
        """What the call counts as; every call is exactly one of the four.

        ``failed``: no usable answer (the call failed, or its answer was withheld by the
        leak, quote and grounding checks). ``abstained``: the reviewer found the evidence
        insufficient for a verdict. ``recused``: a usable answer set aside for a conflict
        of interest. ``valid``: any other answer, the only kind scores count.
        """
        if self.status == "failed" or self.flags:
            return "failed"
        if self.evidence == "insufficient":
            return "abstained"
        return "recused" if self.recused else "valid"

    @property
    def ok(self) -> bool:
        """A valid answer, past the leak check and not recused: the only kind that counts."""
        return self.outcome == "valid"


class ToolScore(_Model):
    tool: str
    ship_pct: float | None = Field(description="ships / valid verdicts x 100; null if none")
    ships: int
    skips: int
    valid: int
    failed: int
    mean_confidence: float | None
    quorum_met: bool = True
    recused: int = Field(0, description="valid verdicts set aside for a conflict of interest")
    rule: str = Field(
        description=(
            "how ship_pct and quorum_met were computed: the ship % formula and the quorum "
            "rule by id (rules.tool_rule)"
        )
    )
    abstained: int = Field(
        0, description="verdicts whose reviewer found the evidence insufficient (not counted)"
    )


class PersonaSplit(_Model):
    """One persona's majority verdict per tool across the providers it ran on."""

    persona: str
    majority: dict[str, Majority]
    ships: dict[str, int]
    skips: dict[str, int]
    failed: dict[str, int]
    published: dict[str, str | None] = Field(
        default_factory=dict, description="tool -> provider whose quote is published"
    )


class Pick(_Model):
    tool: str | None
    rule: str
    reason: str


class PricingRead(_Model):
    tool: str
    entry_price: str | None
    pricing_notes: str


class Agreement(_Model):
    statistic: Literal["krippendorff_alpha_nominal"] = "krippendorff_alpha_nominal"
    value: float | None = Field(description="null when undefined: < 2 providers or no variation")
    units: int = Field(description="(persona, tool) items with >= 2 valid verdicts")
    providers: int


class Seat(_Model):
    """One persona x provider asked head-to-head in both orders."""

    persona: str
    provider: str
    first_order: str | None = Field(description="tool picked with the record's first tool first")
    second_order: str | None = Field(description="tool picked with the second tool first")
    pick: str | None = Field(description="the tool, only when both orders agree")
    consistent: bool | None = Field(description="null when an order has no valid answer")
    conflict: bool = False
    recused: bool = False


class HeadToHead(_Model):
    rule: str
    seats: list[Seat]
    pick: str | None
    picks: dict[str, int] = Field(description="tool -> seats picking it in both orders")
    pairs: int = Field(description="seats with a valid answer in both orders")
    consistent: int
    consistency: float | None = Field(description="consistent / pairs; null with no pairs")


class PersonaAgreement(_Model):
    persona: str
    providers: int
    alpha: float | None = Field(description="Krippendorff's alpha (nominal) across providers")
    pairwise: float | None = Field(description="share of provider pairs giving the same verdict")
    units: int = Field(description="tools with >= 2 valid verdicts")
    ratings: int


class Trust(_Model):
    """How solid the verdict is: agreement, the split in words, conflicts."""

    summary: str = Field(description="one sentence for editors and readers")
    ship_reviewers: dict[str, int] = Field(description="tool -> personas whose majority ships")
    reviewers: int
    personas: list[PersonaAgreement]
    recusal: Recusal = Recusal.RECUSE
    conflicts: list[str] = Field(
        default_factory=list, description="'provider reviewing tool' for each conflicted seat"
    )


class Scores(_Model):
    tools: list[ToolScore]
    split: list[PersonaSplit]
    pick: Pick
    pricing: list[PricingRead]
    quorum: Quorum = Quorum.EVERY_PERSONA
    publish_rule: str = ""
    agreement: Agreement | None = None
    head_to_head: HeadToHead | None = None
    trust: Trust | None = None


class Totals(_Model):
    """Every call is exactly one of valid, failed, recused or abstained: they add up to
    ``calls``."""

    calls: int
    valid: int
    failed: int = Field(description="no usable answer: the call failed or was withheld")
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(
        None,
        description=(
            "USD the answers cost at the price table's rates, cached ones included; "
            "null if a price is unknown"
        ),
    )
    cached: int = Field(0, description="calls served from the response cache")
    recused: int = Field(0, description="valid answers set aside for a conflict of interest")
    spent_usd: float | None = Field(
        None,
        description=(
            "USD this run paid: the calls not served from the cache; null if a price is unknown"
        ),
    )
    cached_tokens: int = Field(
        0, description="prompt tokens served from providers' prompt caches; left out when 0"
    )
    abstained: int = Field(
        0, description="answers that found the evidence insufficient for a verdict"
    )


class PanelInfo(_Model):
    providers: list[str]
    personas: list[str]
    persona_titles: dict[str, str] = Field(default_factory=dict)


class Provenance(_Model):
    panel_version: str
    templates: dict[str, str] = Field(description="template name -> sha256")
    personas: dict[str, str] = Field(description="persona name -> sha256 of its file")
    catalog: dict[str, str] = Field(description="tool slug -> sha256 of its entry")
    started_at: datetime
    finished_at: datetime


EditorialStatus = Literal["draft", "approved", "rejected", "published"]
EditorialAction = Literal["approved", "rejected", "override", "published"]


class Override(_Model):
    """An editor's verdict for one persona and tool; the panel's own stays in ``calls``."""

    persona: str
    tool: str
    verdict: Verdict
    note: str = Field(min_length=1, max_length=2_000)
    by: str
    at: datetime


class EditorialEvent(_Model):
    action: EditorialAction
    by: str
    at: datetime
    reason: str | None = None
    override: Override | None = None


class Editorial(_Model):
    """The editor between the panel and the public: state, overrides, history."""

    status: EditorialStatus = "draft"
    overrides: list[Override] = Field(
        default_factory=list, description="current overrides, one per (persona, tool)"
    )
    history: list[EditorialEvent] = Field(default_factory=list)
    published_at: datetime | None = Field(
        None, description="when a site build first published the record"
    )

    def override_for(self, persona: str, tool: str) -> Override | None:
        return next((o for o in self.overrides if o.persona == persona and o.tool == tool), None)


class ComparisonRecord(_Model):
    schema_version: SchemaVersion = Field(
        SCHEMA_VERSION, description="pinned: older records are migrated on read, never relabelled"
    )
    id: str
    kind: Literal["comparison"] = "comparison"
    created_at: datetime
    status: Literal["complete", "incomplete"]
    tools: list[Tool] = Field(min_length=2, max_length=2)
    panel: PanelInfo
    calls: list[CallResult]
    scores: Scores
    totals: Totals
    provenance: Provenance
    editorial: Editorial = Field(default_factory=Editorial)
    evidence: dict[str, list[EvidenceRef]] = Field(
        default_factory=dict,
        description=(
            "tool slug -> the sources its reviewers were shown; a tool not here was reviewed "
            "from its card alone"
        ),
    )
