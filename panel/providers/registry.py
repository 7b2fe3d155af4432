"""Provider addresses -> provider instances, through each kind's descriptor.

An address is ``kind/model`` (``local/smollm2``, ``openai/gpt-4o-mini``) or
``kind:argument`` (``local:/models/x.gguf``). Each kind lives in its own module,
which declares ``KIND = ProviderKind(...)`` (see ``kind.py``). Adding a kind is that
module plus one line in ``KINDS``; hints, key variables, vendors and prices all come
from the descriptor. Modules are imported only when used, so a missing optional SDK
is a clear install hint rather than an import error.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from panel.errors import PanelError, UnknownNameError
from panel.providers.base import Provider, ProviderSettings
from panel.providers.batch import BatchApi, BatchSource
from panel.providers.kind import ProviderKind

DEFAULT_PROVIDER = "local/smollm2"

# kind -> module declaring it. Adding a provider kind: its own module + one line here.
KINDS: dict[str, str] = {
    "local": "panel.providers.local",
    "openai": "panel.providers.openai",
    "mistral": "panel.providers.mistral",
    "mock": "panel.providers.mock",
}

# What every provider must have (the ``Provider`` protocol), checked once per provider built.
MEMBERS = (*Provider.__annotations__, "complete", "aclose")


def parse_spec(spec: str) -> tuple[str, str]:
    """(kind, model) from ``kind/model`` or ``kind:argument``."""
    text = spec.strip()
    cut = [i for i in (text.find("/"), text.find(":")) if i > 0]
    if not cut:
        raise PanelError(
            f"provider {spec!r} is not an address; use kind/model such as "
            f"{DEFAULT_PROVIDER} or local:/path/model.gguf"
        )
    at = min(cut)
    kind, model = text[:at], text[at + 1 :]
    if not model:
        raise PanelError(f"provider {spec!r} names no model; use e.g. {kind}/MODEL")
    return kind, model


def module_for(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise UnknownNameError("provider kind", kind, sorted(KINDS), "see `panel providers list`")
    try:
        return importlib.import_module(KINDS[kind])
    except ImportError as exc:
        raise PanelError(
            f"provider kind {kind!r} needs a package that is not installed ({exc.name}); "
            "run `make install`"
        ) from None


def describe(kind: str) -> ProviderKind:
    """The descriptor of ``kind``: its module's ``KIND``."""
    declared = getattr(module_for(kind), "KIND", None)
    if not isinstance(declared, ProviderKind):
        raise PanelError(
            f"provider kind {kind!r}: module {KINDS[kind]} declares no KIND = ProviderKind(...)"
        )
    if declared.name != kind:
        raise PanelError(
            f"provider kind {kind!r}: module {KINDS[kind]} declares kind {declared.name!r}; "
            "make the KINDS line and the descriptor's name agree"
        )
    return declared


def installed() -> dict[str, ProviderKind | PanelError]:
    """Every registered kind's descriptor, or why it cannot be loaded (a missing SDK)."""
    found: dict[str, ProviderKind | PanelError] = {}
    for name in sorted(KINDS):
        try:
            found[name] = describe(name)
        except PanelError as exc:
            found[name] = exc
    return found


def hints() -> list[str]:
    """A sample address per registered kind, for errors about unknown providers."""
    return [
        entry.address if isinstance(entry, ProviderKind) else f"{name}/<model>"
        for name, entry in installed().items()
    ]


def create(settings: ProviderSettings) -> Provider:
    """A provider for ``settings``; a missing key or an unsupported setting is a one-line error."""
    described = describe(settings.kind)
    described.check(settings)
    provider = described.create(settings)
    missing = [name for name in MEMBERS if not hasattr(provider, name)]
    if missing:
        raise PanelError(
            f"provider kind {settings.kind!r} built a provider without {', '.join(missing)}; "
            "see the Provider protocol in panel/providers/base.py"
        )
    return provider


def create_spec(spec: str) -> Provider:
    """A provider from a bare address with default settings."""
    kind, model = parse_spec(spec)
    return create(ProviderSettings(name=spec, kind=kind, model=model))


def model_vendor(settings: ProviderSettings, provider: Provider) -> str:
    """Who made the model behind ``provider``, for conflict-of-interest checks (see ``kind.py``)."""
    return describe(settings.kind).model_vendor(settings, provider.endpoint)


def batch_api(provider: Provider) -> BatchApi | None:
    """The Batch API client of ``provider`` when its kind has one and its settings want it
    (``ProviderKind.batch_refusal`` is None); else None. Built from the provider's SDK client
    and codec."""
    if not isinstance(provider, BatchSource):
        return None
    kind = describe(provider.settings.kind)
    if kind.batch is None or kind.batch_refusal(provider.settings) is not None:
        return None  # the one rule, with its reason for the nightly's summary
    return kind.batch.build(provider)


def stand_in(provider: str, model: str, model_version: str | None) -> str | None:
    """Why answers from ``provider`` (a record's provider name) with this model are not fit
    to publish (a mock, the embedded test model), or None. Named providers are recognised by
    the model version their answers report, addresses also by kind and model."""
    cut = [i for i in (provider.find("/"), provider.find(":")) if i > 0]
    kind = provider[: min(cut)] if cut else ""
    model = model or (provider[min(cut) + 1 :] if cut else "")
    for name, entry in installed().items():
        if not isinstance(entry, ProviderKind):
            continue
        if entry.stand_in and kind == name:
            return entry.stand_in
        for key in (model_version, model if kind == name else None):
            if key is not None and key in entry.stand_in_models:
                return entry.stand_in_models[key]
    return None
