"""`panel rerun RECORD`: repeat a comparison with the same settings and show what changed."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Annotated

import typer

from panel.cli._common import home, stderr, user_errors
from panel.jobs.rerun import Change, compare, plan_rerun
from panel.jobs.review import review
from panel.pipeline.session import RunSession
from panel.publish.render.columns import aligned
from panel.records.io import read_record, resolve


def rerun_command(
    record: Annotated[str, typer.Argument(help="Record id or path to repeat.")],
    as_json: Annotated[bool, typer.Option("--json", help="The changes as JSON.")] = False,
) -> None:
    """Repeat a comparison (same tools, personas, providers, sampling); report every change."""
    with user_errors():
        where = home()
        old = read_record(resolve(where.runs, record))
        with RunSession(where, fresh=True) as session:  # repeating the calls is the point
            plan, warnings = plan_rerun(where, old, config=session.config, clients=session.clients)
            for warning in warnings:
                stderr.print(f"panel: warning: {warning}")
            new, path = review(session, plan, where.runs)
    changes = compare(old, new)
    changed = [c for c in changes if c.changed]
    models = [c for c in changes if c.model_changed and c.model_before and c.model_after]
    if as_json:
        data = {
            "before": old.id,
            "after": new.id,
            "path": str(path),
            "answers": len(changes),
            "changed": len(changed),
            "changes": [
                {**dataclasses.asdict(c), "changed": c.changed, "model_changed": c.model_changed}
                for c in changes
            ],
        }
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    for line in _table(changes):
        print(line)  # plain lines: tools and providers are never cut
    print(
        f"rerun of {old.id} -> {new.id}: {len(changed)} of {len(changes)} answers changed"
        + (" (marked *)" if changed else "")
    )
    for c in models:
        print(f"model version changed for {c.provider}: {c.model_before} -> {c.model_after}")
    print(f"record: {path}")


def _table(changes: list[Change]) -> list[str]:
    """Answers grouped by provider; "*" marks a changed one; "pick" is the head-to-head."""
    providers = list(dict.fromkeys(c.provider for c in changes))
    ordered = sorted(
        changes, key=lambda c: (providers.index(c.provider), c.kind != "verdict", c.persona)
    )

    def answer(kind: str, text: str) -> str:
        return text.removeprefix("picks ") if kind == "head_to_head" else text

    lines = aligned(
        ("", "persona", "kind", "before", "after", "tool"),
        [
            (
                "*" if c.changed else "",
                c.persona,
                "pick" if c.kind == "head_to_head" else c.kind,
                answer(c.kind, c.before),
                answer(c.kind, c.after),
                c.tool,
            )
            for c in ordered
        ],
    )
    out, current = [lines[0]], None
    for change, line in zip(ordered, lines[1:], strict=True):
        if change.provider != current:
            current = change.provider
            out.append(f"{current}:")
        out.append(line)
    return out
