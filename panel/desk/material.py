"""The editor's material for one record: every call, what was withheld and recused, trust,
agreement, the head-to-head in both orders, and the diff against the pair's previous record.

Data only, like the page view: untrusted text (quotes, fields, failure details,
provider names) is cleaned of control and invisible characters here and escaped
by the template. The diff is ``panel rerun``'s (:func:`panel.jobs.rerun.compare`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from panel.defences.leaks import CANARY_LEAK, CARD_ECHO, ECHO_WORDS, PROMPT_ECHO
from panel.defences.quality import CLAIM_CHECK_FAILED, REPETITIVE, UNGROUNDED
from panel.desk.published import EditorView, PageView, safe
from panel.jobs.rerun import Change, compare
from panel.records.schema import CallResult, ComparisonRecord

# Why the checks withhold an answer, for editors (the flag names are in the record).
FLAG_REASONS = {
    CANARY_LEAK: "it contains the system prompt's secret canary: it leaked its instructions",
    PROMPT_ECHO: "it repeats the system prompt instead of reviewing the tool",
    CARD_ECHO: f"it copies {ECHO_WORDS} or more words of the vendor's card verbatim",
    REPETITIVE: "its quote is not prose (the same words over and over, or a link or a date)",
    UNGROUNDED: "its quote states a claim that the sources it cites do not state",
    CLAIM_CHECK_FAILED: "the model claim check found a claim its cited sources do not support",
}


@dataclass(frozen=True)
class CallRow:
    kind: str  # "verdict" or "head-to-head"
    persona: str  # the reviewer's title
    tool: str  # the tool's name; for head-to-head, which tool was shown first
    provider: str
    model: str  # the model, and the version the provider reported
    outcome: str  # answered | no answer | withheld | recused
    answer: str  # ship / skip, or the tool picked head-to-head, or ""
    confidence: str
    quote: str  # the quote or the head-to-head reason (for editors, even when withheld)
    fields: list[tuple[str, str]]  # the structured answer's other fields
    flags: str
    detail: str  # why there is no answer, or why it was withheld
    conflict: str
    cost: str
    cached: bool
    attempts: int
    reasks: int
    latency: str


@dataclass(frozen=True)
class Withheld:
    persona: str
    tool: str
    provider: str
    flags: str
    reason: str
    quote: str


@dataclass(frozen=True)
class Recusal:
    persona: str
    tool: str
    provider: str
    kind: str
    answer: str


@dataclass(frozen=True)
class AgreementRow:
    persona: str
    providers: int
    alpha: str
    pairwise: str
    units: int


@dataclass(frozen=True)
class Diff:
    previous: str | None  # the id of the pair's previous record, or None
    changes: list[Change] = field(default_factory=list)  # every answer, in rerun's order
    changed: int = 0
    models: list[Change] = field(default_factory=list)  # model versions that changed


@dataclass(frozen=True)
class Material:
    calls: list[CallRow]
    withheld: list[Withheld]
    recusals: list[Recusal]
    trust: str
    agreement: str  # the panel-wide agreement, in a line
    agreements: list[AgreementRow]
    conflicts: list[str]
    head_to_head: str
    diff: Diff
    cost: str
    editor: EditorView


def usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _names(record: ComparisonRecord) -> dict[str, str]:
    return {t.slug: safe(t.name) for t in record.tools}


def _outcome(call: CallResult) -> str:
    if call.status != "ok":
        return "no answer"
    if call.flags:
        return "withheld"
    if call.outcome == "abstained":
        return "abstained"
    return "recused" if call.recused else "answered"


def _detail(call: CallResult) -> str:
    if call.flags:
        why = "; ".join(FLAG_REASONS.get(f, f) for f in call.flags)
        failed = [c for c in call.claims if c.outcome != "supported"]
        claims = "; ".join(safe(f"{c.text}: {c.reason or c.outcome}") for c in failed)
        return f"{why} ({claims})" if claims else why
    if call.outcome == "abstained":
        return "the reviewer found the card and the sources insufficient for a verdict"
    if call.failure is not None:
        return f"{call.failure.reason.value}: {safe(call.failure.detail)}"
    return ""


def _shown_tool(call: CallResult, names: dict[str, str]) -> str:
    if call.kind != "head_to_head":
        return names.get(call.tool, call.tool)
    first = call.tool.split("-vs-")[0]
    return f"{names.get(first, first)} shown first"


def _answer(call: CallResult, names: dict[str, str]) -> str:
    if call.status != "ok":
        return ""
    if call.kind == "head_to_head":
        pick = call.fields.get("pick")
        return names.get(pick, pick) if isinstance(pick, str) else ""
    return call.verdict or ""


def _fields(call: CallResult) -> list[tuple[str, str]]:
    shown = []
    for key, value in call.fields.items():
        if key in ("pick", "reason", "quote"):
            continue
        text = ", ".join(value) if isinstance(value, list) else value
        shown.append((safe(key), safe(text)))
    return shown


def call_row(call: CallResult, titles: dict[str, str], names: dict[str, str]) -> CallRow:
    reason = call.fields.get("reason") if call.kind == "head_to_head" else call.quote
    model = safe(call.model) + (f" ({safe(call.model_version)})" if call.model_version else "")
    conflict = ""
    if call.conflict:
        conflict = "recused" if call.recused else "flagged, still counted"
    return CallRow(
        kind="head-to-head" if call.kind == "head_to_head" else "verdict",
        persona=titles.get(call.persona, call.persona),
        tool=_shown_tool(call, names),
        provider=safe(call.provider),
        model=model,
        outcome=_outcome(call),
        answer=_answer(call, names),
        confidence="" if call.confidence is None else f"{call.confidence}/5",
        quote=safe(reason if isinstance(reason, str) else ""),
        fields=_fields(call),
        flags=", ".join(safe(f) for f in call.flags),
        detail=_detail(call),
        conflict=conflict,
        cost=usd(call.cost_usd),
        cached=call.cached,
        attempts=call.attempts,
        reasks=call.reasks,
        latency=f"{call.latency_ms / 1000:.1f} s",
    )


def diff(previous: ComparisonRecord | None, record: ComparisonRecord) -> Diff:
    if previous is None:
        return Diff(None)
    changes = compare(previous, record)
    providers = list(dict.fromkeys(c.provider for c in changes))
    ordered = sorted(
        changes, key=lambda c: (providers.index(c.provider), c.kind != "verdict", c.persona)
    )
    return Diff(
        previous=previous.id,
        changes=ordered,
        changed=sum(1 for c in changes if c.changed),
        models=[c for c in changes if c.model_changed and c.model_before and c.model_after],
    )


def material(
    record: ComparisonRecord,
    view: PageView,
    editor: EditorView,
    previous: ComparisonRecord | None,
) -> Material:
    titles = {row.persona: row.title for row in view.rows}
    names = _names(record)
    rows = [call_row(c, titles, names) for c in record.calls]
    scores = record.scores
    overall = scores.agreement
    agreement = "not measured"
    if overall is not None:
        agreement = (
            f"Krippendorff's alpha {_share(overall.value)} over {overall.units} "
            f"(reviewer, tool) items, {overall.providers} models"
        )
    return Material(
        calls=rows,
        withheld=[
            Withheld(r.persona, r.tool, r.provider, r.flags, r.detail, r.quote)
            for r in rows
            if r.outcome == "withheld"
        ],
        recusals=[
            Recusal(r.persona, r.tool, r.provider, r.kind, r.answer)
            for r, c in zip(rows, record.calls, strict=True)
            if c.recused
        ],
        trust=view.trust,
        agreement=agreement,
        agreements=[
            AgreementRow(
                titles.get(a.persona, a.persona),
                a.providers,
                _share(a.alpha),
                _share(a.pairwise),
                a.units,
            )
            for a in (scores.trust.personas if scores.trust else [])
        ],
        conflicts=[safe(c) for c in (scores.trust.conflicts if scores.trust else [])],
        head_to_head=view.head_to_head,
        diff=diff(previous, record),
        cost=f"{usd(record.totals.cost_usd)} (this run paid {usd(record.totals.spent_usd)})",
        editor=editor,
    )
