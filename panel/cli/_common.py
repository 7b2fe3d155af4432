"""What every command shares: finding the project and turning user errors into one line."""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import typer
import typer.core
from rich.console import Console
from typer.core import TyperGroup

from panel.errors import PanelError
from panel.paths import Home

stderr = Console(stderr=True, highlight=False)


INTERRUPTED = 130  # Ctrl-C (SIGINT)
TERMINATED = 143  # SIGTERM (128 + 15, as a shell reports a process killed by it)
_terminated: list[int] = []  # set once SIGTERM arrived


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM does what Ctrl-C does: the SIGINT handler in force (asyncio's cancels the
    running work cleanly; Python's raises KeyboardInterrupt)."""
    _terminated.append(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)  # type: ignore[arg-type]
        return
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """Treat SIGTERM (systemd's stop, ``kill``) like Ctrl-C, if no one else handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def tolerant_output() -> None:
    """Print what the terminal's encoding can show, and a "?" for the rest, never a crash.

    Under a non-UTF-8 locale (``LC_ALL=en_US.ISO-8859-1``, ``PYTHONIOENCODING=latin-1``)
    panel's own "—" and "…", and vendor or model text, would raise UnicodeEncodeError.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = str(getattr(stream, "encoding", "") or "").lower().replace("-", "")
        if callable(reconfigure) and encoding not in ("utf8", "utf_8"):
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """A PanelError becomes ``panel: error: ...`` on stderr and its exit code; no traceback.

    Ctrl-C exits 130 and SIGTERM 143, each with one line: work stops cleanly either way.
    """
    try:
        yield
    except PanelError as exc:
        print(f"panel: error: {exc}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        if _terminated:
            print("panel: stopped by SIGTERM; nothing partial was written", file=sys.stderr)
            raise typer.Exit(TERMINATED) from None
        print("panel: interrupted; nothing partial was written", file=sys.stderr)
        raise typer.Exit(INTERRUPTED) from None


def home() -> Home:
    return Home.discover()


def _click() -> Any:
    """The click that typer runs on: its own copy (newer typer) or the click package."""
    vendored = getattr(typer.core, "_click", None)
    return vendored if vendored is not None else importlib.import_module("click")


ClickException: type[Exception] = _click().ClickException


class OneLineErrors(TyperGroup):
    """The root command: a usage error from typer/click is one line with its fix, exit 2.

    Typer would print a usage line, a help hint and a boxed message; scripts and
    editors get ``panel: error: panel reject: missing option '--reason'; add
    --reason VALUE (...)`` instead, like every other panel error.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        stop_on_sigterm()
        tolerant_output()
        if not standalone_mode:
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            # Not standalone: exceptions come back here; typer returns an Exit's code.
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.Abort:
            _fail("panel: aborted", 1)
        except ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help is the message
                message = str(getattr(exc, "message", "")).strip()
                if message:  # typer's rich help is printed already; plain click's is not
                    print(message, file=sys.stderr)
                sys.exit(int(getattr(exc, "exit_code", 2)))
            _fail(usage_error(exc), int(getattr(exc, "exit_code", 2)))
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    print(message, file=sys.stderr)
    sys.exit(code)


def usage_error(exc: Exception) -> str:
    """``panel: error: <command>: <what>; <how to fix>`` on one line."""
    ctx = getattr(exc, "ctx", None)
    where = str(getattr(ctx, "command_path", "")) or "panel"
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    message = " ".join(str(message).replace("Value error, ", "").split()).rstrip(".")
    message = lower_first(message)
    joint = " " if message.endswith("?") else "; "  # "did you mean 'list'? see ..."
    return f"panel: error: {where}: {message}{joint}{_fix(exc, where)}"


def lower_first(text: str) -> str:
    """``Missing option`` -> ``missing option``; an acronym stays: ``ISO week``, ``USD cap``."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _fix(exc: Exception, where: str) -> str:
    see = f"see `{where} --help`"
    param = getattr(exc, "param", None)
    if type(exc).__name__ != "MissingParameter" or param is None:
        return see
    described = " ".join(str(getattr(param, "help", None) or "").split()).rstrip(".")
    about = f" ({lower_first(described)})" if described else ""
    flags = [o for o in getattr(param, "opts", []) if str(o).startswith("--")]
    if getattr(param, "param_type_name", "") == "option" and flags:
        return f"add {flags[-1]} VALUE{about}"
    name = str(getattr(param, "name", "") or "the argument").upper()
    return f"add {name}{about}; {see}"
