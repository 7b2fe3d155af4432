"""What every command shares: finding the project and turning user errors into one line."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import typer
from rich.console import Console

from panel.errors import PanelError
from panel.paths import Home

stderr = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """A PanelError becomes ``panel: error: ...`` on stderr and its exit code; no traceback."""
    try:
        yield
    except PanelError as exc:
        print(f"panel: error: {exc}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("panel: interrupted; nothing partial was written", file=sys.stderr)
        raise typer.Exit(130) from None


def home() -> Home:
    return Home.discover()
