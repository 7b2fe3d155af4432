"""A throwaway provider kind: the whole of what adding a kind takes, besides one registry line.

``tests/test_provider_kinds.py`` registers it as ``throwaway`` (one ``KINDS`` entry) and
shows that it is listed, priced, asked for its key by name, used in reviews and given
its vendor for recusal, with no other file changed. It answers in-process, pretending
to be a hosted API at ``ENDPOINT``.
"""

from __future__ import annotations

import json

from panel.providers.base import (
    Completion,
    CompletionRequest,
    Limits,
    ProviderSettings,
    StructuredMode,
)
from panel.providers.kind import Capabilities, ProviderKind
from tests.support.scripted import valid_answer

ENDPOINT = "https://api.throwaway.example/v1"


class ThrowawayProvider:
    decoding = ""

    def __init__(self, settings: ProviderSettings) -> None:
        self.spec = settings.name
        self.model = settings.model
        self.sampling = settings.sampling
        self.limits = Limits(max_in_flight=4)
        self.endpoint = (settings.base_url or ENDPOINT).rstrip("/")
        self.settings = settings

    async def complete(self, request: CompletionRequest) -> Completion:
        # Read per request, as a real kind might: the registry has already refused to build
        # this provider without it.
        assert KIND.api_key(self.settings) == "tw-test-key"
        return Completion(
            text=json.dumps(valid_answer(request.schema, "ship", 4)),
            finish_reason="stop",
            prompt_tokens=1_000,
            completion_tokens=500,
            model_version=f"{self.model}-2025",
            mode=StructuredMode.JSON_OBJECT,
        )

    async def aclose(self) -> None:
        return None


KIND = ProviderKind(
    name="throwaway",
    create=ThrowawayProvider,
    summary="a kind made up by a test",
    capabilities=Capabilities(structured=(StructuredMode.JSON_OBJECT,)),
    key_env="THROWAWAY_API_KEY",
    endpoint=ENDPOINT,
    vendor="Alpha Inc",  # makes alpha-tool in the test catalog: its seats are recused there
    prices={"tiny": (1.0, 2.0)},
    prices_date="2026-01",
)
