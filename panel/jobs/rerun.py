"""`panel rerun RECORD`: the same comparison again, with the same settings; what changed.

The rerun uses the record's own tool entries (not today's catalog), its personas
and providers, and the temperature, seed and max_tokens recorded on its calls.
The response cache is bypassed: repeating the calls is the point. The new record
is written as usual, and every answer is compared with the old one: verdict (or
head-to-head pick), status, and the model version the provider reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.config import Config
from panel.errors import PanelError
from panel.inputs.personas import load_personas
from panel.jobs.review import Plan, plan_tools
from panel.paths import Home
from panel.providers.base import Provider, Sampling
from panel.records.schema import CallResult, ComparisonRecord


@dataclass(frozen=True)
class Change:
    kind: str
    persona: str
    tool: str
    provider: str
    before: str
    after: str
    model_before: str | None
    model_after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def model_changed(self) -> bool:
        return self.model_before != self.model_after


def plan_rerun(
    home: Home, record: ComparisonRecord, *, config: Config, clients: dict[str, Provider]
) -> tuple[Plan, list[str]]:
    """The plan for repeating ``record``, and warnings (persona files changed since).

    ``config`` is the project's; the record's own panel (personas, providers, head-to-head)
    is laid over it. Provider clients go to ``clients`` (see ``plan_review``).
    """
    available = load_personas(home.personas, home.prompts)
    missing = [p for p in record.panel.personas if p not in available]
    if missing:
        raise PanelError(
            f"record {record.id} used persona(s) {', '.join(missing)}, which no longer exist in "
            f"{home.personas}; restore them to rerun"
        )
    warnings = [
        f"persona {name} changed since the record (its file differs)"
        for name in record.panel.personas
        if record.provenance.personas.get(name) not in (None, available[name].digest)
    ]
    sampling: dict[str, Sampling] = {}
    for call in record.calls:
        if call.temperature is not None and call.max_tokens is not None:
            sampling.setdefault(
                call.provider, Sampling(call.temperature, call.max_tokens, call.seed)
            )
    head_to_head = any(c.kind == "head_to_head" for c in record.calls)
    config = config.model_copy(
        update={"panel": config.panel.model_copy(update={"head_to_head": head_to_head})}
    )
    tools = (record.tools[0], record.tools[1])
    # Each persona keeps exactly the providers it had.
    assign = {
        p: sorted({c.provider for c in record.calls if c.persona == p})
        for p in record.panel.personas
    }
    config = config.model_copy(
        update={"panel": config.panel.model_copy(update={"assign": {**assign}})}
    )
    plan = plan_tools(
        home, tools, [], record.panel.personas, clients=clients, config=config, sampling=sampling
    )
    return plan, warnings


def _answer(call: CallResult | None) -> str:
    if call is None:
        return "not asked"
    if call.status != "ok":
        return f"failed ({call.failure.reason.value if call.failure else 'unknown'})"
    if call.flags:
        return "withheld (leak check)"
    if call.kind == "head_to_head":
        return f"picks {call.fields.get('pick')}"
    return str(call.verdict)


def compare(old: ComparisonRecord, new: ComparisonRecord) -> list[Change]:
    def index(record: ComparisonRecord) -> dict[tuple[str, str, str, str], CallResult]:
        return {(c.kind, c.persona, c.tool, c.provider): c for c in record.calls}

    before, after = index(old), index(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        changes.append(
            Change(
                kind=key[0],
                persona=key[1],
                tool=key[2],
                provider=key[3],
                before=_answer(a),
                after=_answer(b),
                model_before=a.model_version if a else None,
                model_after=b.model_version if b else None,
            )
        )
    return changes
