"""Error types shared across panel. User errors become one line and exit code 2."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class PanelError(Exception):
    """A problem the user can fix: bad input, unknown name, missing file.

    The CLI prints ``str(error)`` as a single line and exits with ``exit_code``;
    no traceback is shown.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class UnknownNameError(PanelError):
    """An unknown tool, persona or provider name, with close matches."""

    def __init__(self, kind: str, name: str, known: list[str], hint: str) -> None:
        import difflib

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        if not close:
            lowered = name.lower()
            close = [k for k in known if lowered in k or k in lowered][:3]
        suggestion = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}{suggestion} ({hint})")
        self.name = name
        self.suggestions = close


def describe_error(exc: ValidationError) -> str:
    """The first pydantic error as 'field: message', for every loader's one-line error."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(record)"
    return f"field {where!r}: {first['msg']}"
