"""`panel list`, `approve`, `reject`, `override`: the editorial queue and its transitions."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.publish.render.columns import aligned
from panel.records import editorial
from panel.records.io import resolve_in_runs
from panel.records.publication import stand_in_note, stand_ins
from panel.records.schema import ComparisonRecord

RecordArg = Annotated[
    str, typer.Argument(help="Record id (as `panel list` shows it) or path.", show_default=False)
]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who is acting; defaults to $USER.", show_default=False)
]


class Status(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class VerdictChoice(StrEnum):
    SHIP = "ship"
    SKIP = "skip"


def _row(record: ComparisonRecord, state: str) -> dict[str, object]:
    return {
        "id": record.id,
        "editorial": record.editorial.status,
        "state": state,  # the one rule: published = live on the site (see publication.py)
        "status": record.status,
        "tools": [t.slug for t in record.tools],
        "created_at": record.created_at.isoformat(),
        "overrides": len(record.editorial.overrides),
        "pick": record.scores.pick.tool,
        "calls": record.totals.calls,  # valid + failed + recused + abstained
        "valid": record.totals.valid,
        "failed": record.totals.failed,
        "recused": record.totals.recused,
        "abstained": record.totals.abstained,
        "providers": list(record.panel.providers),
        "stand_in": stand_in_note(stand_ins(record)),  # not a real review: why; "" if it is
    }


def _cells(row: dict[str, object]) -> tuple[object, ...]:
    providers = row["providers"]
    assert isinstance(providers, list)
    review = "STAND-IN" if row["stand_in"] else "real"  # mock or embedded-model answers
    status = row["status"]
    if row["abstained"]:  # one word, like every column but the last (issue 26)
        status = f"{status},{row['abstained']}-abstained"
    return (row["state"], status, review, row["overrides"], ",".join(providers), row["id"])


def list_command(
    status: Annotated[
        Status | None,
        typer.Option(
            "--status",
            help="Only records in this state (published: live on the site; superseded: "
            "approved or published, but no longer the pair's page).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """The editorial queue: records newest first, with their ids."""
    with user_errors():
        found = editorial.queue(home().runs, status.value if status else None)
    rows = [_row(record, state) for _, record, state in found]
    if as_json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if not rows:
        print("no records" + (f" in state {status.value}" if status else ""))
        return
    header = ("state", "record", "review", "overrides", "providers", "id")
    lines = aligned(header, [_cells(r) for r in rows])
    print("\n".join(lines))  # plain lines: an id is never wrapped or cut


def approve_command(
    record: RecordArg,
    by: ByOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Approve an incomplete record (quorum not met; its page says so plainly), "
            "or one with mock or embedded-model answers.",
        ),
    ] = False,
) -> None:
    """Approve a record: it becomes its pair's page at the next site build.

    Approving an older record that a newer approval superseded puts it back.
    """
    with user_errors():
        runs = home().runs
        path = resolve_in_runs(runs, record)
        done = editorial.approve(runs, path, editorial.editor(by), force=force)
        effect = editorial.page_effect(runs, path, done)
    forced = " with --force (the page will say the panel did not reach quorum)"
    print(f"approved {done.id}{forced if done.status == 'incomplete' else ''}; {effect.message}")


def reject_command(
    record: RecordArg,
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the record's history.")],
    by: ByOption = None,
) -> None:
    """Reject a record. Rejecting the pair's page takes it down at the next site build."""
    with user_errors():
        runs = home().runs
        path = resolve_in_runs(runs, record)
        done = editorial.reject(runs, path, editorial.editor(by), reason)
        effect = editorial.page_effect(runs, path, done)
    print(f"rejected {done.id}; {effect.message}")


def override_command(
    record: RecordArg,
    persona: Annotated[str, typer.Option("--persona", help="Persona name, e.g. dx.")],
    tool: Annotated[str, typer.Option("--tool", help="Tool slug in the record.")],
    verdict: Annotated[VerdictChoice, typer.Option("--verdict", help="The editor's verdict.")],
    note: Annotated[str, typer.Option("--note", help="The editor's note, shown on the page.")],
    by: ByOption = None,
) -> None:
    """Record an editor's verdict for one persona and tool, shown beside the panel's."""
    with user_errors():
        runs = home().runs
        done = editorial.override(
            runs,
            resolve_in_runs(runs, record),
            persona=persona,
            tool=tool,
            verdict=verdict.value,
            note=note,
            by=editorial.editor(by),
        )
    print(f"override recorded on {done.id}: {persona} / {tool} -> {verdict.value}")
