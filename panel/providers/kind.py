"""A provider kind's descriptor: what panel knows about a kind, declared in the kind's module.

Every kind module (``local.py``, ``openai.py``, ``mistral.py``, ``mock.py``) ends with
``KIND = ProviderKind(...)``, and ``registry.KINDS`` maps the address prefix to the module.
Nothing about a kind is written anywhere else; what used to be is derived from the
descriptors:

- the API key's variable: read before a provider is built, named in the missing-key error
  and in ``panel providers list``;
- the vendor, for conflict-of-interest recusal (:meth:`ProviderKind.model_vendor`);
- default list prices (``panel/pipeline/pricing.py`` reads them; panel.toml overrides);
- the address hints in errors about unknown providers;
- capabilities: the structured-output rungs a provider of the kind may use (panel.toml's
  ``structured`` must name one of them) and whether the API has a batch endpoint (derived
  from ``batch``, the kind's ``BatchSpec``: its client class and batch price);
- ``endpoint``: the server a provider talks to when none is configured ("" in-process).
  Each provider reports the server it really uses as ``Provider.endpoint``, which is part
  of the cache key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from panel.errors import PanelError
from panel.providers.base import Provider, ProviderSettings, StructuredMode
from panel.providers.batch import BatchSpec
from panel.providers.keys import NO_KEY, api_key, key_present

Factory = Callable[[ProviderSettings], Provider]


@dataclass(frozen=True)
class Capabilities:
    """What a kind can do beyond answering one request.

    ``batch`` is not declared: ``ProviderKind`` derives it from its ``batch`` spec.
    """

    structured: tuple[StructuredMode, ...]  # the structured-output rungs it can use, best first
    batch: bool = field(default=False, init=False)  # the kind has a Batch API (``BatchSpec``)

    def __post_init__(self) -> None:
        if not self.structured or len(set(self.structured)) != len(self.structured):
            raise ValueError("capabilities need one or more distinct structured-output rungs")


@dataclass(frozen=True)
class ProviderKind:
    """One kind of provider: the prefix of its addresses and everything panel derives from it."""

    name: str  # the address prefix: "openai" in openai/gpt-4o-mini
    create: Factory  # builds a provider from settings (the key, if any, is known to be set)
    summary: str  # one line for `panel providers list` and the README
    capabilities: Capabilities
    example: str = "<model>"  # what follows "name/" in a sample address
    key_env: str | None = None  # the API key's default variable; None: no key, ever
    base_url_env: str | None = None  # a variable that may name the server instead of base_url
    endpoint: str = ""  # the server used when none is configured; "" in-process
    vendor: str = ""  # who makes the models served at ``endpoint``; "" unknown
    model_vendors: Mapping[str, str] = field(default_factory=dict)  # per-model exceptions
    # model -> USD per 1M tokens: (input, output) or (input, output, cached input)
    prices: Mapping[str, tuple[float, float] | tuple[float, float, float]] = field(
        default_factory=dict
    )
    prices_date: str = ""  # when ``prices`` were read off the vendor's list
    free: bool = False  # in-process: every call costs nothing, whatever panel.toml says
    # Answers not fit to publish: every model of the kind (``stand_in``: why), or the models
    # (by model name or reported model_version) in ``stand_in_models``. Approving a record
    # with such answers takes --force; list, queue and desk mark it.
    stand_in: str = ""
    stand_in_models: Mapping[str, str] = field(default_factory=dict)
    batch: BatchSpec | None = None  # its Batch API: the client class and the batch price

    def __post_init__(self) -> None:
        derived = Capabilities(self.capabilities.structured)
        object.__setattr__(derived, "batch", self.batch is not None)  # frozen: set once, here
        object.__setattr__(self, "capabilities", derived)

    @property
    def address(self) -> str:
        """A sample address, for hints: ``openai/<model>``, ``local/smollm2``."""
        return f"{self.name}/{self.example}"

    def api_key(self, settings: ProviderSettings) -> str:
        """The key for ``settings`` from the environment, or a one-line error naming its variable.

        Kinds that never take a key get ``keys.NO_KEY``, as do settings with ``api_key_env = ""``.
        """
        if self.key_env is None:
            return NO_KEY
        return api_key(settings, self.key_env, self.base_url_env)

    def key_status(self, settings: ProviderSettings) -> str:
        """'yes ($VAR)', 'no ($VAR)' or 'not needed', for `panel providers list`."""
        return key_present(settings, self.key_env, self.base_url_env)

    def check(self, settings: ProviderSettings) -> None:
        """Refuse settings the kind cannot serve, before anything is built or sent."""
        rungs = self.capabilities.structured
        if settings.structured is not None and settings.structured not in rungs:
            raise PanelError(
                f"provider {settings.name}: structured = {settings.structured.value!r} is not "
                f"an output mode of kind {self.name}; use one of "
                f"{', '.join(r.value for r in rungs)} (or leave it out)"
            )
        self.api_key(settings)

    def batch_refusal(self, settings: ProviderSettings) -> str | None:
        """Why a provider with ``settings`` does not go through a Batch API, with the fix;
        None when it does; ``registry.batch_api`` builds a client only then. The kind needs a
        batch endpoint, ``batch = false`` keeps it synchronous, and a server other than the
        kind's own (``base_url`` or the kind's base-URL variable) batches only with
        ``batch = true``, because panel cannot know that server has a Batch API."""
        if self.batch is None:
            return f"kind {self.name} has no Batch API; its calls run synchronously"
        if settings.batch is False:
            return f"batch = false on [providers.{settings.name}]; remove it to batch"
        from_env = os.environ.get(self.base_url_env, "") if self.base_url_env else ""
        if (settings.base_url or from_env.strip()) and not settings.batch:
            where = "base_url in panel.toml" if settings.base_url else f"${self.base_url_env}"
            return (
                f"it talks to the server named by {where}, not {self.name}'s own API, and "
                f"panel cannot know that server has a Batch API; if it has one, set "
                f"batch = true on [providers.{settings.name}]"
            )
        return None

    def model_vendor(self, settings: ProviderSettings, endpoint: str) -> str:
        """Who made the model ``settings`` name, for conflict-of-interest checks.

        The configured ``vendor`` wins. A provider talking to a server other than the
        kind's own (``base_url`` in panel.toml or the kind's base-URL variable) can serve
        anyone's model, so its vendor is unknown (""). Otherwise the descriptor says.
        """
        if settings.vendor is not None:
            return settings.vendor
        if endpoint.rstrip("/") != self.endpoint.rstrip("/"):
            return ""
        return self.model_vendors.get(settings.model, self.vendor)
