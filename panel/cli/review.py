"""`panel review A B`: run the panel on two tools and write a comparison record."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from panel.cli._common import home, stderr, user_errors
from panel.jobs.review import exit_code, plan_review, review
from panel.pipeline.calls import Call
from panel.pipeline.session import RunSession
from panel.records.io import dump, records_folder
from panel.records.schema import CallResult
from panel.scoring.aggregate import tally_by_kind


def outcome(result: CallResult) -> str:
    """How one call ended, in a word or two: ship/skip, the head-to-head pick, or why not."""
    if result.outcome == "recused":
        return "recused (conflict of interest)"
    if result.flags:
        return f"withheld ({', '.join(result.flags)})"
    if result.failure is not None or result.status == "failed":
        return f"failed ({result.failure.reason.value})" if result.failure else "failed"
    if result.kind == "head_to_head":
        pick = result.fields.get("pick")
        return f"picks {pick}" if isinstance(pick, str) and pick else "no pick"
    return result.verdict or "no verdict"


def call_line(call: Call, result: CallResult) -> str:
    """``dx/a-vs-b on openai/gpt-4o-mini: picks a``: the call, its provider and how it ended."""
    return f"{call.persona.name}/{call.subject} on {call.provider.spec}: {outcome(result)}"


def review_command(
    tool_a: Annotated[str, typer.Argument(help="Slug of the first tool (see `panel tools list`).")],
    tool_b: Annotated[str, typer.Argument(help="Slug of the second tool.")],
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider", "-p", help="Provider address, repeatable (default: local/smollm2)."
        ),
    ] = None,
    persona: Annotated[
        list[str] | None,
        typer.Option("--persona", help="Persona name, repeatable (default: the default panel)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the record as JSON on stdout, nothing else.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for records (default: runs/). A record written elsewhere is not the "
            "project's: its id is out:..., and commands take its path.",
        ),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Ignore cached answers and call the providers again.")
    ] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            min=0.0,
            help="USD cap: refuse to start above it; stop sending calls once it is reached.",
        ),
    ] = None,
) -> None:
    """Review two tools with every persona on every provider; write a comparison record.

    Exit codes: 0 no call failed (recused answers are not failures); 1 some calls failed
    but every tool met quorum; 2 usage error (unknown tool, persona or provider, bad
    config); 3 quorum not met (the record is still written, marked incomplete).
    """
    with user_errors():
        where = home()
        bar = Progress(
            TextColumn("[bold]reviewing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
        )
        task = bar.add_task("", total=None)

        tty = stderr.is_terminal
        bar.disable = not tty
        done = [0]

        def advance(call: Call, result: CallResult) -> None:
            done[0] += 1
            line = call_line(call, result)
            if tty:
                bar.update(task, advance=1, description=line)
            else:  # piped, cron, CI: a plain line per finished call, as it finishes
                total = bar.tasks[0].total
                print(f"panel review: {done[0]}/{total or '?'} {line}", file=sys.stderr, flush=True)

        with RunSession(where, max_cost=max_cost, fresh=fresh, progress=advance) as session:
            plan = plan_review(
                where,
                tool_a,
                tool_b,
                provider or [],
                persona or [],
                clients=session.clients,
                config=session.config,
            )
            session.check_estimate(plan.calls)
            bar.update(task, total=len(plan.calls))
            with bar:
                folder, detached = records_folder(where.runs, out)
                record, path = review(session, plan, folder, detached=detached)
    if as_json:
        sys.stdout.buffer.write(dump(record))
        sys.stdout.flush()
    else:
        # imported here: the CLI imports a renderer only in the command that renders
        from panel.publish.render.terminal import pick_line, verdict_table
        from panel.publish.render.view import page_view

        console = Console()
        console.print(verdict_table(page_view(record)))
        console.print(pick_line(page_view(record)))
        print(f"record: {path}")  # plain print: a path must never be wrapped
    print(tally_by_kind(record.calls), file=sys.stderr)
    raise typer.Exit(exit_code(record))
