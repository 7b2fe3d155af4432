"""Ending a batch other than by its results: the operator's cancel and close, the clock's expiry.

- ``cancel``: ask the provider (`panel batches cancel ID`); a provider that refuses or
  does not know the batch (a 404) is a one-line error that names ``close``.
- ``close``: close it here (`panel batches close ID`), whatever the provider says; its
  calls go back to planned. Results the provider sends later are not read.
- ``expire_overdue``: a batch still open ``MARGIN`` after its provider's completion window
  (a batch stuck ``in_progress``, a status panel does not know such as ``paused``, a
  status that cannot be read) is expired here, with a warning, and its calls re-planned.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from panel.errors import PanelError
from panel.providers.base import ProviderError
from panel.providers.batch import WINDOW, BatchApi
from panel.records.batch_journal import OPEN, Batch, BatchJournal

Log = Callable[[str], None]
MARGIN = 6 * 3600.0  # seconds past the completion window before a batch is expired here


def open_batch(journal: BatchJournal, ident: str, verb: str) -> Batch:
    """The open batch ``ident`` (panel's id or the provider's), or a one-line error."""
    batch = journal.find(ident)
    if batch is None:
        raise PanelError(f"no batch {ident!r} in the journal; see `panel batches list`")
    if batch.state not in OPEN:
        raise PanelError(f"batch {ident} is already {batch.state}; nothing to {verb}")
    return batch


async def cancel(
    journal: BatchJournal,
    ident: str,
    api_of: Callable[[str], BatchApi | None],
    retrying: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]],
) -> Batch:
    """Ask the provider to cancel a batch; one never created (or whose provider is gone)
    is closed here."""
    batch = open_batch(journal, ident, "cancel")
    api = api_of(batch.provider)
    remote = batch.batch_id
    if remote is None or api is None:
        why = "before it was created" if remote is None else "its provider is gone"
        journal.settle(batch.id, "cancelled", (), f"cancelled here: {why}")
        return batch
    try:
        await retrying(lambda: api.cancel(remote))
    except ProviderError as exc:
        raise PanelError(
            f"batch {batch.id}: {batch.provider} did not cancel it ({exc}); "
            f"`panel batches close {batch.id}` closes it here"
        ) from None
    return batch


def close(journal: BatchJournal, ident: str) -> tuple[Batch, int]:
    """Close a batch here; (the batch, its lines without a result, planned again)."""
    batch = open_batch(journal, ident, "close")
    lost = journal.settle(batch.id, "cancelled", (), "closed here by the operator")
    return batch, lost


async def expire_overdue(
    journal: BatchJournal, api: BatchApi | None, batch: Batch, log: Log
) -> bool:
    """Expire ``batch`` here if it is open past its completion window plus ``MARGIN``."""
    window = api.window if api is not None else WINDOW
    age = journal.clock() - batch.created_at
    if batch.state not in OPEN or age < window + MARGIN:
        return False
    if api is not None and batch.batch_id is not None:
        # best effort: the provider should have expired it already
        with contextlib.suppress(Exception):
            await api.cancel(batch.batch_id)
    hours = age / 3600
    lost = journal.settle(batch.id, "expired", (), f"expired here: still open after {hours:.0f}h")
    log(
        f"warning: batch {batch.id} on {batch.provider} still open after {hours:.0f}h "
        f"(window {window / 3600:.0f}h + {MARGIN / 3600:.0f}h): expired here, "
        f"{lost} lines go back to planned"
    )
    return True
