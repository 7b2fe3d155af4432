"""`panel nightly`: review the day's launches and changed tools, unattended."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from panel import clock
from panel.atomic import append_line
from panel.cli._common import home, stderr, user_errors
from panel.cli.batches import parse_duration
from panel.errors import PanelError
from panel.jobs.nightly import NightlyOptions, dry_run_report, run_nightly
from panel.lock import exclusive
from panel.paths import Home
from panel.pipeline.calls import Call
from panel.pipeline.session import RunSession
from panel.records.schema import CallResult

Log = Callable[[str], None]


def _stamped(message: str) -> str:
    stamp = clock.now().isoformat(timespec="seconds")
    return f"{stamp} panel nightly: {message}"


def _log_line(message: str) -> None:
    print(_stamped(message), file=sys.stderr, flush=True)


def _log_to(path: Path) -> Log:
    """Timestamped lines appended to ``path`` (``--log``; its folder is created)."""
    return lambda message: append_line(path, _stamped(message))


def nightly_command(
    since: Annotated[
        str | None,
        typer.Option(help="Review tools launched on or after this date (YYYY-MM-DD)."),
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", "-p", help="Provider, repeatable; overrides panel.toml."),
    ] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", min=0.0, help="USD cap for the night.")
    ] = None,
    max_calls: Annotated[
        int | None, typer.Option("--max-calls", min=0, help="Cap on provider requests.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and estimated cost; call nothing.")
    ] = False,
    allow_embedded: Annotated[
        bool,
        typer.Option(
            "--allow-embedded",
            help="Run even with no panel configured, on the embedded default model.",
        ),
    ] = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Send through Batch APIs where a provider has one (half price, hours).",
        ),
    ] = False,
    wait: Annotated[
        str | None,
        typer.Option(
            "--wait",
            metavar="DURATION",
            help="Poll open batches until done or this long (90s, 30m, 2h); default: return.",
        ),
    ] = None,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log",
            metavar="FILE",
            help="Append the log lines to FILE (folder created) instead of stderr; "
            "the JSON summary is then only in runs/nightly/.",
        ),
    ] = None,
) -> None:
    """Review new launches and changed tools, within a budget; resumable after any crash.

    With --batch, calls go through Batch APIs: a run submits and returns, and every later
    run first collects finished batches (see `panel batches list`).

    Exit codes: 0 everything done (or waiting on batches); 1 some comparisons incomplete or
    deferred by the budget;
    2 usage or config error; 75 another nightly is running; 130 interrupted by Ctrl-C,
    143 stopped by SIGTERM (both clean and resumable).
    """
    with user_errors(), _errors_logged(log_file):
        where = home()
        try:
            start = date.fromisoformat(since) if since else None
        except ValueError:
            raise typer.BadParameter(
                f"{since!r} is not a date; use YYYY-MM-DD", param_hint="--since"
            ) from None
        options = NightlyOptions(
            since=start,
            providers=provider or [],
            dry_run=dry_run,
            allow_embedded=allow_embedded,
            batch=batch,
            wait=None if wait is None else parse_duration(wait),
        )
        with exclusive(where.runs / "nightly.lock", "panel nightly"):
            if dry_run:
                with RunSession(where) as session:
                    report = dry_run_report(session, options)
                json.dump(report, sys.stdout, indent=2)
                sys.stdout.write("\n")
                return
            code = _run(where, options, max_cost, max_calls, log_file)
    raise typer.Exit(code)


class _errors_logged:  # noqa: N801 (a context manager, used like a function)
    """A user error also goes to the ``--log`` file, so the log says why a night stopped."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if self.path is not None and isinstance(exc, PanelError):
            append_line(self.path, _stamped(f"error: {exc}"))


def _run(
    where: Home,
    options: NightlyOptions,
    max_cost: float | None,
    max_calls: int | None,
    log_file: Path | None = None,
) -> int:
    tty = sys.stderr.isatty() and log_file is None
    bar = Progress(
        TextColumn("[bold]nightly"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=stderr,
        disable=not tty,
    )
    task = bar.add_task("", total=None)
    state = {"cost": 0.0, "errors": 0}

    def advance(call: Call, result: CallResult) -> None:
        if not result.cached:
            state["cost"] += result.cost_usd or 0.0
        state["errors"] += 0 if result.ok else 1
        bar.update(task, advance=1, description=f"${state['cost']:.4f}  errors {state['errors']}")

    def log(message: str) -> None:
        if log_file is not None:
            _log_to(log_file)(message)
        elif tty:
            bar.console.print(message, markup=False, highlight=False)
        else:
            _log_line(message)

    session = RunSession(where, max_cost=max_cost, max_calls=max_calls, progress=advance)
    with session, bar:
        summary, path = run_nightly(
            session, options, log, lambda total: bar.update(task, total=total)
        )
    report = asdict(summary)
    line = (
        f"planned {summary.planned}: done {summary.done}, incomplete {summary.incomplete}, "
        f"deferred {summary.deferred}, failed {summary.failed}, waiting {summary.waiting}, "
        f"unchanged {summary.unchanged}, skipped {len(summary.skipped)}; calls made "
        f"{summary.calls_made}, cached {summary.calls_cached}, deferred {summary.calls_deferred}; "
        f"tokens {summary.prompt_tokens}+{summary.completion_tokens}; "
        f"spent ${summary.spent_usd:.4f} (synchronously ${summary.sync_usd:.4f}; answers cost "
        f"${summary.cost_usd:.4f}); batch lines sent {summary.batch_lines}, batches open "
        f"{summary.batches_open}{_not_batched(summary.not_batched)}; summary {path}"
    )
    for failure in report["failures"]:
        log(
            f"failed {failure['comparison']} {failure['persona']}/{failure['tool']} on "
            f"{failure['provider']}: {failure['reason']}"
        )
    for gone in summary.given_up:
        log(
            f"given up {gone['persona']}/{gone['tool']} on {gone['provider']} after "
            f"{gone['nights']} nights: {gone['reason']}: {gone['detail']}"
        )
    for warning in summary.seats:
        log(warning)
    if summary.deferred:
        log(f"{summary.calls_deferred} calls stay planned for the next run (budget reached)")
    log(line)  # last: the log's last line is the night's one-line summary
    if log_file is None:
        print(json.dumps(report, indent=2))
    return summary.exit_code


def _not_batched(refused: dict[str, str]) -> str:
    return f" (not batched: {', '.join(refused)}; see not_batched)" if refused else ""
