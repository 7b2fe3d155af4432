"""The judge decides on each answer and returns a typed outcome; the runner does what it says.

Issue 17 item 2: validation, the leak and quality flags and the re-ask decision are the
judge's (panel/pipeline/judge.py), the runner only sends, and it takes keyword arguments.
"""

from __future__ import annotations

import json

import pytest

from panel.defences.leaks import CANARY_LEAK, ECHOED_PROMPT, PROMPT_ECHO
from panel.defences.quality import NOT_PROSE, REPETITIVE
from panel.inputs.catalog import Tool
from panel.inputs.personas import Persona, load_personas
from panel.pipeline.calls import Call
from panel.pipeline.judge import Accept, Judge, Judgement, Reask, Reject
from panel.pipeline.prompts import PromptBuilder
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.runner import Runner
from panel.providers import registry
from panel.providers.base import Completion, FailureReason, Message
from panel.records.schema import Failure
from tests.support import project as fixture
from tests.support import scripted

ALPHA = Tool(slug="alpha", name="Alpha", description="An API for text generation.")
BETA = Tool(slug="beta", name="Beta", description="A library for vector search.")
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)


@pytest.fixture
def dx() -> Persona:
    return load_personas(fixture.PERSONAS, fixture.PROMPTS)["dx"]


@pytest.fixture
def call(dx: Persona, scripted_kind: dict[str, scripted.Script]) -> Call:
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render(dx, ALPHA)
    return Call(dx, ALPHA, registry.create_spec("scripted/m"), rendered)


@pytest.fixture
def pair(dx: Persona, scripted_kind: dict[str, scripted.Script]) -> Call:
    rendered = PromptBuilder(fixture.PROMPTS, b"k" * 32).render_pair(dx, ALPHA, BETA)
    provider = registry.create_spec("scripted/m")
    return Call(dx, ALPHA, provider, rendered, pair=(ALPHA, BETA))


def answer(persona: Persona, **overrides: object) -> Completion:
    data = scripted.valid_answer(persona.json_schema())
    data.update(overrides)
    return scripted.text(json.dumps(data))


def judge(call: Call, completion: Completion, reasks: int = 0, budget: int = 2) -> Judgement:
    return Judge(max_reasks=budget).judge(call, call.rendered.messages, completion, reasks)


def test_a_valid_verdict_is_accepted_as_typed_fields(call: Call, dx: Persona) -> None:
    outcome = judge(call, answer(dx, verdict="skip", confidence=2))
    assert isinstance(outcome, Accept)
    assert outcome.flags == ()
    assert (outcome.answer.verdict, outcome.answer.confidence) == ("skip", 2)
    assert outcome.answer.quote.startswith("A ship verdict")
    assert list(outcome.answer.fields) == dx.field_names


def test_an_invalid_answer_is_reasked_with_what_was_wrong(call: Call, dx: Persona) -> None:
    bad = answer(dx, confidence=9)
    outcome = judge(call, bad)
    assert isinstance(outcome, Reask)
    assert "confidence" in outcome.why
    sent = call.rendered.messages
    assert outcome.messages[: len(sent)] == sent
    assert outcome.messages[len(sent)] == Message("assistant", bad.text or "")
    assert outcome.messages[-1].role == "user" and outcome.why in outcome.messages[-1].content


def test_out_of_reasks_an_invalid_answer_is_rejected_with_the_count(
    call: Call, dx: Persona
) -> None:
    outcome = judge(call, answer(dx, confidence=9), reasks=2)
    assert isinstance(outcome, Reject)
    assert outcome.failure.reason is FailureReason.INVALID_OUTPUT
    assert outcome.failure.detail.endswith("(still invalid after 2 re-asks)")
    first = judge(call, scripted.text("no json"), budget=0)  # no re-ask budget at all
    assert isinstance(first, Reject) and first.failure.detail == "the answer is not a JSON object"


def test_a_refusal_is_rejected_at_once(call: Call) -> None:
    outcome = judge(call, scripted.text(None, refusal="I will not"))
    assert isinstance(outcome, Reject) and outcome.failure.reason is FailureReason.REFUSED


def test_a_fixable_flag_is_reasked_and_kept_flagged_when_out_of_reasks(
    call: Call, dx: Persona
) -> None:
    repeated = answer(dx, quote=" ".join(["great"] * 30))
    outcome = judge(call, repeated)
    assert isinstance(outcome, Reask) and outcome.why == NOT_PROSE
    last = judge(call, repeated, reasks=2)
    assert isinstance(last, Accept) and last.flags == (REPETITIVE,)
    echo = " ".join(call.rendered.system.split()[:14])  # the rules, restated verbatim
    outcome = judge(call, answer(dx, quote=f"{echo} and then some words of my own here"))
    assert isinstance(outcome, Reask) and ECHOED_PROMPT in outcome.why


def test_a_canary_leak_is_never_reasked(call: Call, dx: Persona) -> None:
    """A payload took over the answer: asking again would only launder it."""
    quote = f"My review, as told: {call.rendered.canary}, and a few more words of text."
    outcome = judge(call, answer(dx, quote=quote))
    assert isinstance(outcome, Accept) and CANARY_LEAK in outcome.flags
    assert PROMPT_ECHO not in outcome.flags


def test_a_head_to_head_answer_names_the_tool_it_picked(pair: Call) -> None:
    reason = "The second card fits a team that ships search features every week."
    text = json.dumps({"reason": reason, "pick": "second", "confidence": 4})
    outcome = judge(pair, scripted.text(text))
    assert isinstance(outcome, Accept)
    assert outcome.answer.verdict is None and outcome.answer.quote == reason
    assert dict(outcome.answer.fields) == {"pick": "beta", "position": "second"}


class _Scripted(Judge):
    """Re-asks once with its own words, then rejects: the runner must follow it."""

    def judge(
        self, call: Call, messages: tuple[Message, ...], completion: Completion, reasks: int
    ) -> Judgement:
        if reasks == 0:
            return Reask((*messages, Message("user", "judge says again")), "again")
        return Reject(Failure(reason=FailureReason.INVALID_OUTPUT, detail="judge says no"))


async def test_the_runner_does_what_the_judge_says(
    call: Call, scripted_kind: dict[str, scripted.Script]
) -> None:
    result = await Runner(policy=FAST, judge=_Scripted()).execute(call)
    assert result.status == "failed" and result.failure is not None
    assert (result.failure.reason, result.failure.detail) == (
        FailureReason.INVALID_OUTPUT,
        "judge says no",
    )
    assert (result.attempts, result.reasks) == (2, 1)
    second = scripted_kind["m"].requests[1].messages
    assert second[-1] == Message("user", "judge says again")


async def test_an_accepted_answer_becomes_the_call_result(
    call: Call, dx: Persona, scripted_kind: dict[str, scripted.Script]
) -> None:
    scripted_kind["m"].queue = [answer(dx, verdict="skip", confidence=5)]
    result = await Runner(policy=FAST).execute(call)
    assert (result.status, result.verdict, result.confidence) == ("ok", "skip", 5)
    assert list(result.fields) == dx.field_names and result.failure is None
    assert (result.attempts, result.reasks, result.flags) == (1, 0, [])
    assert (result.prompt_tokens, result.completion_tokens) == (10, 5)


def test_the_runner_takes_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        Runner(FAST)  # type: ignore[misc]
    assert Runner(policy=FAST).policy is FAST
