"""A finished batch's output and error files: downloaded to disk, read a line at a time.

A provider's file is untrusted and may be of any size. It is streamed into a temporary
file (``BatchApi.download``: nothing but one chunk in memory, ``FileTooLargeError`` past the
cap, ``[panel] batch_max_file_mb``), then read back one line at a time, a line over
``MAX_LINE`` bytes being unreadable (its call is lost and planned again). Each line's
answer or typed error goes straight into the journal's settling transaction
(``BatchJournal.settle``), so memory does not grow with the file.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict
from typing import IO, Any

from panel.pipeline.pricing import Rate
from panel.providers.batch import BatchApi

MAX_LINE = 4_000_000  # bytes: an answer is at most a few hundred KB (max_tokens 32,768)
Row = tuple[str, str, dict[str, Any], float | None]  # custom_id, state, result, cost


def spooled() -> IO[bytes]:
    """A private temporary file (mode 0600, deleted when closed)."""
    return tempfile.TemporaryFile(prefix="panel-batch-")


async def fetch(
    api: BatchApi,
    file_id: str,
    into: IO[bytes],
    cap: int,
    retrying: Callable[[Callable[[], Awaitable[None]]], Awaitable[Any]],
) -> None:
    """Download ``file_id`` into ``into`` under the retry policy (each attempt from the start)."""

    async def attempt() -> None:
        into.seek(0)
        into.truncate()
        await api.download(file_id, into, cap)

    await retrying(attempt)
    into.seek(0)


def lines(file: IO[bytes], cap: int = MAX_LINE) -> Iterator[bytes]:
    """The file's lines, one at a time; a line longer than ``cap`` comes out as b"" (unreadable)."""
    while True:
        line = file.readline(cap + 1)
        if not line:
            return
        if len(line) > cap and not line.endswith(b"\n"):
            while (rest := file.readline(cap + 1)) and not rest.endswith(b"\n"):
                pass  # skip the rest of an overlong line
            yield b""
            continue
        yield line


def results(
    api: BatchApi, raw: Iterable[bytes], rate: Rate | None, completed: bool
) -> Iterator[Row]:
    """Each output or error line as (custom_id, state, result, cost).

    A blank or unreadable line is skipped (its call is lost and planned again). In an
    expired, failed or cancelled batch an error line is skipped too: its call was not
    answered, which is no failure of the call.
    """
    for text in raw:
        line = _json_object(text)
        if line is None:
            continue
        parsed = api.result(line)
        if parsed.completion is not None:
            c = parsed.completion
            cost = None if rate is None else rate.cost(*c.tokens)
            yield parsed.custom_id, "answered", asdict(c), cost
        elif parsed.error is not None and completed:
            error = {"reason": parsed.error.reason.value, "detail": str(parsed.error)}
            yield parsed.custom_id, "errored", error, None


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """One line of an output or error file as a JSON object, or None."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
