"""The `panel` command line. Thin: parse arguments, call the library, print."""

from __future__ import annotations

import typer

from panel import __version__
from panel.cli import batches, editorial, evidence, personas, providers, site, tools, votes
from panel.cli._common import OneLineErrors
from panel.cli.calibrate import calibrate_command
from panel.cli.digest import digest_command
from panel.cli.nightly import nightly_command
from panel.cli.rerun import rerun_command
from panel.cli.review import review_command
from panel.cli.schema import schema_command
from panel.cli.seats import seats_command
from panel.cli.serve import serve_command
from panel.cli.show import show_command

app = typer.Typer(
    name="panel",
    help="An LLM review panel for newly launched AI tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    cls=OneLineErrors,
)
app.command("review")(review_command)
app.command("show")(show_command)
app.command("nightly")(nightly_command)
app.command("list")(editorial.list_command)
app.command("approve")(editorial.approve_command)
app.command("reject")(editorial.reject_command)
app.command("override")(editorial.override_command)
app.command("digest")(digest_command)
app.command("schema")(schema_command)
app.command("calibrate")(calibrate_command)
app.command("seats")(seats_command)
app.command("rerun")(rerun_command)
app.command("serve")(serve_command)
app.add_typer(site.app, name="site")
app.add_typer(votes.app, name="votes")
app.add_typer(tools.app, name="tools")
app.add_typer(personas.app, name="personas")
app.add_typer(providers.app, name="providers")
app.add_typer(batches.app, name="batches")
app.add_typer(evidence.app, name="evidence")


def _version(value: bool) -> None:
    if value:
        print(f"panel {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """An LLM review panel for newly launched AI tools."""


__all__ = ["app"]
