"""The judge: what one answer is worth, and what happens next.

The runner hands every completion here and does what the outcome says:

- ``Accept``: a valid answer, with the leak and quality flags it carries (a flagged
  answer is kept, never scored or published);
- ``Reask``: send this conversation next (the bad answer and what was wrong with it);
- ``Reject``: a typed failure (a refusal, or still invalid with no re-ask left).

The judge validates against the call's schema (the persona's verdict model, with
``evidence`` and ``citations`` for a tool with sources, or the head-to-head answer, or a
model claim check's answer) whatever the provider promised, runs the checks in
``panel.defences`` and, for a verdict on a tool with sources, the deterministic grounding
check (``grounded``: a claim its cited sources do not state withholds the quote), and
decides re-asks within its budget. It sends nothing, charges
nothing and keeps no state: the runner counts the re-asks made and passes them in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from panel.defences.leaks import CARD_ECHO, COPIED_CARD, ECHOED_PROMPT, PROMPT_ECHO, leak_flags
from panel.defences.quality import NOT_PROSE, REPETITIVE, quote_flags
from panel.evidence import claims as claim_check
from panel.evidence.pack import EvidencePack
from panel.pipeline import grounded as grounding
from panel.pipeline import headtohead
from panel.pipeline.calls import Call
from panel.pipeline.grounded import UNGROUNDED, Grounded
from panel.pipeline.validate import InvalidAnswerError, check, check_model
from panel.providers.base import Completion, FailureReason, Message
from panel.records.schema import CallResult, Claim, Failure, Sufficiency, Verdict

MAX_REASKS = 2

# Flags that a fresh answer can fix: re-asked (within the budget) with these instructions.
# A canary leak is not: it is the clearest sign that a payload took over the answer.
REASK_FOR = {CARD_ECHO: COPIED_CARD, PROMPT_ECHO: ECHOED_PROMPT, REPETITIVE: NOT_PROSE}

Fields = Mapping[str, str | list[str]]
# The grounding check: (quote, cited ids, pack, the persona's task) -> each claim's outcome.
Ground = Callable[[str, Sequence[str], EvidencePack, Sequence[str]], Grounded]


@dataclass(frozen=True)
class Answer:
    """A valid answer, as the record keeps it.

    A verdict has ``verdict`` set and the persona's own fields; a head-to-head answer
    has no verdict, its reason as ``quote`` and ``{"pick": <slug>, "position": ...}``.
    """

    confidence: int
    quote: str
    fields: Fields
    verdict: Verdict | None = None
    citations: tuple[str, ...] = ()  # the evidence ids the quote cites (a tool with sources)
    evidence: Sufficiency | None = None  # the reviewer's word on the pack; None: card only


@dataclass(frozen=True)
class Accept:
    answer: Answer
    flags: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()  # the grounding check's outcome per claim


@dataclass(frozen=True)
class Reask:
    messages: tuple[Message, ...]  # the whole conversation to send next
    why: str


@dataclass(frozen=True)
class Reject:
    failure: Failure


Judgement = Accept | Reask | Reject


def read_answer(call: Call, completion: Completion) -> Answer:
    """The validated answer in ``completion``, or ``InvalidAnswerError``."""
    if call.pair is not None:
        pick = check_model(headtohead.HeadToHeadAnswer, completion)
        chosen = call.pair[0] if pick.pick == "first" else call.pair[1]
        return Answer(
            confidence=pick.confidence,
            quote=pick.reason,
            fields={"pick": chosen.slug, "position": pick.pick},
        )
    pack = call.pack
    ids = () if pack is None else pack.ids()
    data = check(call.persona, completion, ids).model_dump()  # fields made per persona
    return Answer(
        confidence=data["confidence"],
        quote=data["quote"],
        fields={name: data[name] for name in call.persona.field_names},
        verdict=data["verdict"],
        citations=tuple(dict.fromkeys(data.get("citations", ()))),
        evidence=data.get("evidence"),
    )


def cached_answer(result: CallResult) -> Answer:
    """A cached call's answer, to be checked again (decision 4)."""
    return Answer(
        confidence=result.confidence or 0,
        quote=result.quote or "",
        fields=result.fields,
        verdict=result.verdict,
        citations=tuple(result.citations),
        evidence=result.evidence,
    )


def reask_messages(
    messages: tuple[Message, ...], answer: str | None, problem: str
) -> tuple[Message, ...]:
    """The conversation so far plus the bad answer and what was wrong with it."""
    return (
        *messages,
        Message("assistant", (answer or "")[:4_000]),
        Message(
            "user",
            "That answer was rejected: "
            f"{problem}. Reply again with one JSON object that fixes this and follows "
            "the required fields exactly, and nothing else.",
        ),
    )


@dataclass(frozen=True)
class Judge:
    """Decides on each answer; ``max_reasks`` is the re-ask budget per call; ``ground``
    checks a quote's claims against the tool's evidence pack (a tool with sources)."""

    max_reasks: int = MAX_REASKS
    ground: Ground = field(default=grounding.ground)

    def judge(
        self, call: Call, messages: tuple[Message, ...], completion: Completion, reasks: int
    ) -> Judgement:
        """The outcome of ``completion``, the answer to ``messages``, after ``reasks`` re-asks."""
        try:
            if call.check is not None:  # a model claim check: its own strict answer
                return Accept(*_checked(call, completion))
            answer = read_answer(call, completion)
        except claim_check.ClaimCheckError as bad:
            invalid = InvalidAnswerError(bad.reason, bad.detail)
            return self._invalid(invalid, messages, completion, reasks)
        except InvalidAnswerError as exc:
            return self._invalid(exc, messages, completion, reasks)
        flags, grounded = self.checks(call, answer)
        fixes = [REASK_FOR[flag] for flag in flags if flag in REASK_FOR]
        if grounded is not None and UNGROUNDED in flags:
            fixes.append(grounded.reask())
        fixable = "; ".join(fixes)
        if fixable and reasks < self.max_reasks:
            # Vendor copy, our own rules, a repeated word or a claim no source states is no
            # review: ask again. Out of re-asks, it is kept flagged, unpublished.
            return Reask(reask_messages(messages, completion.text, fixable), fixable)
        return Accept(answer, flags, () if grounded is None else grounded.claims)

    def _invalid(
        self,
        exc: InvalidAnswerError,
        messages: tuple[Message, ...],
        completion: Completion,
        reasks: int,
    ) -> Reask | Reject:
        if exc.reason is FailureReason.REFUSED or reasks >= self.max_reasks:
            detail = exc.detail
            if reasks:
                detail = f"{detail} (still invalid after {reasks} re-asks)"
            return Reject(Failure(reason=exc.reason, detail=detail))
        return Reask(reask_messages(messages, completion.text, exc.detail), exc.detail)

    def checks(self, call: Call, answer: Answer) -> tuple[tuple[str, ...], Grounded | None]:
        """The answer's flags, and the grounding check's findings when its tool has sources.

        Run on fresh answers and again on cached ones (``recheck``). An abstention is not
        checked: it is never published.
        """
        flags = self.flags(call, answer.quote, answer.fields)
        pack = call.pack
        if pack is None or answer.evidence != "sufficient":
            return flags, None
        task = tuple(m.content for m in call.rendered.messages if m.role == "user")
        grounded = self.ground(answer.quote, answer.citations, pack, task)
        return ((*flags, UNGROUNDED) if not grounded.publishable else flags), grounded

    def recheck(self, call: Call, cached: CallResult) -> CallResult:
        """A cached answer with its checks run again: a stricter check also covers answers
        already paid for (decision 4). A cached failure stays as it was."""
        if cached.failure or call.check is not None:  # a claim check is final as it is
            return cached.model_copy(update={"cached": True, "flags": []})
        flags, grounded = self.checks(call, cached_answer(cached))
        claims = [] if grounded is None else list(grounded.claims)
        return cached.model_copy(update={"cached": True, "flags": list(flags), "claims": claims})

    @staticmethod
    def flags(call: Call, quote: str | None, fields: Fields) -> tuple[str, ...]:
        """The leak flags of an answer's texts, and the quality flags of a verdict's quote.

        Run on fresh answers and again on cached ones: a stricter check applies to
        answers already paid for.
        """
        texts = [quote or ""]
        for value in fields.values():
            texts.extend(value if isinstance(value, list) else [str(value)])
        rendered = call.rendered
        leaks = leak_flags(rendered.system, rendered.canary, texts, rendered.exempt, rendered.card)
        if call.pair is not None:  # a head-to-head reason is never published
            return tuple(leaks)
        return (*leaks, *quote_flags(quote or ""))


def _checked(
    call: Call, completion: Completion
) -> tuple[Answer, tuple[str, ...], tuple[Claim, ...]]:
    """A model claim check's answer (``evidence/claims.parse``, strict) as an accepted answer:
    its reason as the quote, each labelled claim as a ``Claim`` by this checker."""
    pack, check = call.pack, call.check
    assert pack is not None and check is not None, "a claim check of a verdict with sources"
    checked = claim_check.parse(completion, pack, checker=call.provider.spec, cited=check.cited)
    found = tuple(
        Claim(
            text=c.claim,
            kind="claim",
            cited=list(c.sources),
            outcome="supported" if c.label is claim_check.Label.SUPPORTED else "unsupported",
            checker=call.provider.spec,
        )
        for c in checked.claims
    )
    return Answer(confidence=0, quote=checked.reason, fields={}), (), found
