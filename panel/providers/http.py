"""What HTTP chat providers share: settings plumbing, error typing and structured arguments.

Vendor specifics (the SDK, its exception types, its parameter names) stay in each
provider's own module; everything here is plain HTTP and the structured-output ladder.

At a local server (``compat.is_local``: loopback, private network) the defaults follow
what self-hosted servers do (issue 27): one request in flight, or the slots the server
reports (:meth:`HttpProvider.prepare` probes it once), a timeout long enough for its
queue, ``json_object`` with the schema, and the grammar-friendly schema for a grammar
engine (``grammar_schema.py``, as the embedded provider sends). panel.toml overrides each.

A server is not trusted with the key it is sent. Error text is redacted of the key in
every form ``redaction.py`` computes before it becomes a failure detail; an answer that
contains the key in any form is discarded as a failed call (``invalid_output``): it is
never stored, cached, scored or published, and the call is not retried.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from panel.providers.base import (
    Completion,
    CompletionRequest,
    FailureReason,
    ProviderError,
    ProviderSettings,
    StructuredMode,
    classify_status,
    parse_retry_after,
    redact,
)
from panel.providers.compat import (
    LOCAL_TIMEOUT,
    REMOTE_IN_FLIGHT,
    REMOTE_TIMEOUT,
    UNKNOWN,
    Health,
    ServerProfile,
    is_local,
    names_output_mode,
    probe,
)
from panel.providers.grammar_schema import grammar_schema_of
from panel.providers.keys import NO_KEY
from panel.providers.kind import ProviderKind
from panel.providers.ladder import Ladder, strict_schema_of, text_messages
from panel.providers.redaction import Redactor

LOCAL_RETRY_WAIT = 30.0  # seconds before a timed-out call is sent again to a local server
_NOT_ABOUT_THE_MODE = frozenset({401, 403, 404, 408, 429})  # whatever their text says


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (~17 ms here)."""
    return ssl.create_default_context()


class HttpProvider:
    """Base for SDK-backed chat providers: key, server and ladder from the kind's descriptor.

    A kind implements ``request_body``, ``completion`` and ``map_error`` (and ``parse`` when
    its SDK reads JSON into its own types); ``body``, ``answer`` and ``error`` are the
    public codec a Batch API client is built with (``providers/batch.py``'s ``ChatCodec``),
    at the ladder's current rung.
    """

    decoding = ""  # everything that shapes the answer is in ``sampling``
    client: Any  # the SDK client

    def __init__(self, settings: ProviderSettings, kind: ProviderKind) -> None:
        self.settings = settings
        self.spec = settings.name
        self.model = settings.model
        self.sampling = settings.sampling
        self.ladder = Ladder(settings.structured, kind.capabilities.structured)
        self._key = kind.api_key(settings)
        self._redactor = Redactor([] if self._key == NO_KEY else [self._key])
        from_env = os.environ.get(kind.base_url_env) if kind.base_url_env else None
        self.base_url = settings.base_url or from_env or None
        # The server answering (the SDK's own when none is configured): part of the cache key.
        self.endpoint = (self.base_url or kind.endpoint).rstrip("/")
        self.local = is_local(self.base_url)
        self.timeout = settings.timeout or (LOCAL_TIMEOUT if self.local else REMOTE_TIMEOUT)
        in_flight = settings.limits.max_in_flight or (1 if self.local else REMOTE_IN_FLIGHT)
        self.limits = replace(settings.limits, max_in_flight=in_flight)
        # ``prompt_cache_key`` goes to the kind's own server; elsewhere only when configured
        # (an OpenAI-compatible server may refuse a field it does not know)
        wanted = settings.prompt_cache_key
        self.sends_cache_key = wanted if wanted is not None else not self.base_url
        self.profile: ServerProfile = UNKNOWN
        self.health = Health()
        self._probed = False

    async def get_json(self, url: str) -> tuple[int, Any]:
        """(status, JSON or None) of a GET at the server, for the probe (subclasses send it)."""
        raise NotImplementedError

    async def prepare(self) -> None:
        """Probe a local server once (``compat.probe``): its engine and its slots."""
        if self._probed or not self.local or self.base_url is None:
            return
        self._probed = True
        self.profile = await probe(self.base_url, self.get_json)
        if self.settings.limits.max_in_flight is None and self.profile.slots:
            self.limits = replace(self.limits, max_in_flight=self.profile.slots)

    @property
    def sends_schema_with_json_object(self) -> bool:
        configured = self.settings.json_object_schema
        return self.local if configured is None else configured

    def structured(
        self, request: CompletionRequest, rung: StructuredMode
    ) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
        """(response_format or None, messages) for ``rung`` of the ladder."""
        messages = [m.as_dict() for m in request.messages]
        if rung is StructuredMode.JSON_SCHEMA:
            if self.profile.grammar:  # strict's unbounded strings let a small model ramble
                schema = grammar_schema_of(request.schema)
            else:
                schema = strict_schema_of(request.schema)
            return {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": schema, "strict": True},
            }, messages
        if rung is StructuredMode.JSON_OBJECT:
            fmt: dict[str, Any] = {"type": "json_object"}
            if self.sends_schema_with_json_object:  # a grammar engine takes it: bounded
                fmt["schema"] = grammar_schema_of(request.schema)
            return fmt, messages
        return None, text_messages(request.messages, request.schema)

    # -- what each kind implements ------------------------------------------------
    def request_body(self, request: CompletionRequest, rung: StructuredMode) -> dict[str, Any]:
        """The chat request as plain JSON, at ``rung``."""
        raise NotImplementedError

    def completion(self, response: Any, rung: StructuredMode) -> Completion:
        """The ``Completion`` in a chat response (as ``parse`` gives it)."""
        raise NotImplementedError

    def map_error(self, exc: Exception, rung: StructuredMode) -> ProviderError:
        """The kind's SDK exception as a typed, redacted error."""
        raise NotImplementedError

    def parse(self, body: Any) -> Any:
        """A chat response's JSON as ``completion`` reads it (as is, unless overridden)."""
        return body

    # -- the codec (``ChatCodec``) ---------------------------------------------------
    def body(self, request: CompletionRequest) -> dict[str, Any]:
        return self.request_body(request, self.ladder.rung)

    def answer(self, body: Any) -> Completion:
        return self.completion(self.parse(body), self.ladder.rung)

    def error(self, exc: Exception) -> ProviderError:
        return self.map_error(exc, self.ladder.rung)

    def detail(self, exc: Exception) -> str:
        """The server's error text, redacted (before it is cut, so no cut exposes a key)."""
        return redact(str(exc), self._key)[:500]

    def checked(self, completion: Completion) -> Completion:
        """``completion``, unless the server put our key in it (then a failed call)."""
        self.health.answered()
        parts = (completion.text, completion.refusal, completion.model_version)
        if any(self._redactor.found(part) for part in parts):
            raise ProviderError(
                FailureReason.INVALID_OUTPUT,
                f"{self.spec}: the answer contained this provider's API key (in some form); "
                "it was discarded, never stored or cached: check that server",
            )
        return completion

    def timed_out(self) -> ProviderError:
        """A timeout. At a local server the request may still be decoding there: the retry
        waits (``LOCAL_RETRY_WAIT``) rather than queue behind it at once."""
        wait = min(LOCAL_RETRY_WAIT, self.timeout) if self.local else None
        return ProviderError(
            FailureReason.TIMEOUT,
            f"{self.spec}: timed out after {self.timeout:g}s",
            retryable=True,
            retry_after=wait,
        )

    def disconnected(self) -> ProviderError:
        """No answer from the server: retried, until it looks down (``compat.Health``)."""
        self.health.failed()
        if self.health.down:
            return ProviderError(
                FailureReason.SERVER_ERROR, self.health.message(self.spec, self.endpoint)
            )
        return ProviderError(
            FailureReason.SERVER_ERROR,
            f"{self.spec}: connection failed ({self.endpoint})",
            retryable=True,
        )

    def status_error(
        self, status: int, headers: Mapping[str, str], detail: str, rung: StructuredMode
    ) -> ProviderError:
        self.health.answered()
        refused = status == 400 or (
            status >= 400 and status not in _NOT_ABOUT_THE_MODE and names_output_mode(detail)
        )
        if refused and (status == 400 or self.ladder.can_step(rung)):
            return self.ladder.rejected(rung, self.spec, detail, status)
        reason, retryable = classify_status(status)
        return ProviderError(
            reason,
            f"{self.spec}: HTTP {status}: {detail}",
            status=status,
            retryable=retryable,
            retry_after=parse_retry_after(headers),
        )

    def no_choices(self) -> ProviderError:
        return ProviderError(FailureReason.INVALID_OUTPUT, f"{self.spec}: no choices returned")

    def unreadable(self, why: str) -> ProviderError:
        """A chat response whose fields are not what the API documents."""
        return ProviderError(FailureReason.INVALID_OUTPUT, f"{self.spec}: unreadable answer: {why}")
