"""Fetch one source into a snapshot: robots.txt, a conditional GET, extraction, the cap.

Pages (every kind but ``repository`` and ``package``) are read when robots.txt allows,
with ``If-None-Match`` / ``If-Modified-Since`` from the last answer; a 304 confirms the
stored snapshot. Repository and package sources are documented APIs for programs,
read without robots.txt (``panel.evidence.facts``). A failure of any kind keeps the
last snapshot and records the error beside it; it never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from panel.errors import PanelError
from panel.evidence.apis import ApiRequest, Apis, Facts, describe, read_answer, requests_for
from panel.evidence.extract import cap, page_text
from panel.evidence.pack import SourceKind
from panel.evidence.polite import Pacer, Robots
from panel.evidence.snapshots import Snapshot, Validators, has_text, read_snapshot, store_text
from panel.evidence.snapshots import write_snapshot as _write
from panel.inputs.fetch import Answer, FetchPolicy, get
from panel.inputs.toolsources import SourceRef
from panel.paths import Home

API_KINDS = frozenset({SourceKind.REPOSITORY, SourceKind.PACKAGE})
PAGE_ACCEPT = "text/html, application/xhtml+xml, text/plain;q=0.9, text/markdown;q=0.9, */*;q=0.1"
API_ACCEPT = "application/vnd.github+json, application/json;q=0.9"


@dataclass(frozen=True)
class Context:
    """What every source of a run is fetched with."""

    home: Home
    policy: FetchPolicy
    agent: str
    pacer: Pacer
    robots: Robots
    apis: Apis
    max_source_tokens: int
    now: Callable[[], datetime]


@dataclass(frozen=True)
class Outcome:
    """What fetching one source did: new, changed, unchanged or failed, and its bytes."""

    status: str
    detail: str = ""
    bytes: int = 0


class _FailedError(Exception):
    def __init__(self, detail: str, fetched: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fetched = fetched


def _conditional(previous: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    return headers


def _validators(answer: Answer, facts: Facts | None = None) -> Validators:
    return Validators(
        etag=answer.headers.get("etag", "")[:500],
        last_modified=answer.headers.get("last-modified", "")[:100],
        facts=facts,
    )


class _Fetch:
    """One source's requests: the bytes they read, the validators they leave."""

    def __init__(self, ctx: Context, ref: SourceRef, previous: Snapshot | None) -> None:
        self.ctx = ctx
        self.ref = ref
        self.previous = previous
        self.fetched = 0
        self.requests: dict[str, Validators] = {}

    def _get(
        self, url: str, accept: str, before: Validators | None, auth: dict[str, str] | None = None
    ) -> Answer:
        headers = {"User-Agent": self.ctx.agent, "Accept": accept, **_conditional(before)}
        headers.update(auth or {})
        try:
            answer = get(url, self.ctx.policy, headers, self.ctx.pacer.wait)
        except PanelError as exc:
            raise _FailedError(str(exc), self.fetched) from None
        self.fetched += len(answer.body)
        return answer

    def _old(self, url: str) -> Validators | None:
        return self.previous.requests.get(url) if self.previous is not None else None

    def page(self) -> tuple[str, str] | None:
        """(title, text), or None if the server confirmed the stored snapshot (304)."""
        refused = self.ctx.robots.check(self.ref.url)
        if refused:
            raise _FailedError(refused, self.fetched)
        usable = self.previous is not None and self.previous.usable
        before = self._old(self.ref.url) if usable else None
        answer = self._get(self.ref.url, PAGE_ACCEPT, before)
        if answer.status == 304 and before is not None:
            self.requests[self.ref.url] = before
            return None
        if not 200 <= answer.status < 300:
            raise _FailedError(f"{self.ref.url}: HTTP {answer.status}", self.fetched)
        try:
            title, text = page_text(self.ref.url, answer.body, answer.headers)
        except PanelError as exc:
            raise _FailedError(str(exc), self.fetched) from None
        except (ValueError, TypeError, RecursionError, MemoryError) as exc:  # the parser gave up
            detail = f"{self.ref.url}: no text could be extracted ({type(exc).__name__})"
            raise _FailedError(detail, self.fetched) from None
        self.requests[self.ref.url] = _validators(answer)
        return title, text

    def api(self) -> tuple[str, str] | None:
        """(title, text) from the API's facts; None if every answer was a 304."""
        try:
            calls = requests_for(self.ref.url, self.ref.kind, self.ctx.apis)
        except PanelError as exc:
            raise _FailedError(str(exc), 0) from None
        usable = self.previous is not None and self.previous.usable
        parts: list[Facts] = []
        changed = False
        for call in calls:
            before = self._old(call.url) if usable else None
            facts = self._answer(call, before)
            changed = changed or facts is not None
            parts.append(facts if facts is not None else (before.facts or {}) if before else {})
        return describe(self.ref.kind, parts) if changed else None

    def _answer(self, call: ApiRequest, before: Validators | None) -> Facts | None:
        """The facts of one API answer; None for a 304 on facts already stored."""
        usable = before is not None and before.facts is not None
        answer = self._get(
            call.url, API_ACCEPT, before if usable else None, self.ctx.apis.auth(call)
        )
        if answer.status == 304 and before is not None and usable:
            self.requests[call.url] = before
            return None
        if answer.status == 404 and call.optional:
            facts = read_answer(call, None)
        elif 200 <= answer.status < 300:
            try:
                facts = read_answer(call, answer.body)
            except PanelError as exc:
                raise _FailedError(str(exc), self.fetched) from None
        else:
            raise _FailedError(f"{call.url}: HTTP {answer.status}", self.fetched)
        self.requests[call.url] = _validators(answer, facts)
        return facts


def fetch_source(ctx: Context, ref: SourceRef) -> Outcome:
    """Fetch ``ref`` and store its snapshot; a failure keeps the last one and says so."""
    previous = read_snapshot(ctx.home, ref)
    if previous is not None and previous.usable and not has_text(ctx.home, previous.sha256):
        previous = previous.model_copy(update={"sha256": "", "requests": {}})  # fetch it whole
    job = _Fetch(ctx, ref, previous)
    now = ctx.now()
    base = previous or Snapshot(url=ref.url, kind=ref.kind)
    try:
        got = job.api() if ref.kind in API_KINDS else job.page()
    except _FailedError as failed:
        _write(ctx.home, base.model_copy(update={"checked_at": now, "error": failed.detail}))
        kept = " (the last snapshot is kept)" if base.usable else ""
        return Outcome("failed", failed.detail + kept, failed.fetched)
    if got is None:  # 304: the stored snapshot is confirmed as it is
        update = {"fetched_at": now, "checked_at": now, "error": "", "requests": job.requests}
        _write(ctx.home, base.model_copy(update=update))
        return Outcome("unchanged", "not modified (304)", job.fetched)
    title, text = got
    text = cap(text, ctx.max_source_tokens)
    if not text:
        detail = f"{ref.url}: no text found on the page"
        _write(ctx.home, base.model_copy(update={"checked_at": now, "error": detail}))
        return Outcome("failed", detail, job.fetched)
    sha256 = store_text(ctx.home, text)
    status = "new" if not base.usable else "unchanged" if sha256 == base.sha256 else "changed"
    snapshot = base.model_copy(
        update={
            "title": " ".join(title.split())[:200],
            "sha256": sha256,
            "fetched_at": now,
            "changed_at": base.changed_at if status == "unchanged" else now,
            "checked_at": now,
            "error": "",
            "requests": job.requests,
        }
    )
    _write(ctx.home, snapshot)
    return Outcome(status, "", job.fetched)
