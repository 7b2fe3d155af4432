"""Provider addresses -> provider instances.

An address is ``kind/model`` (``local/smollm2``, ``openai/gpt-4o-mini``) or
``kind:argument`` (``local:/models/x.gguf``). Each kind lives in its own module
exposing ``create(settings)``; modules are imported only when used, so a
missing optional SDK is a clear install hint rather than an import error.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Protocol

from panel.errors import PanelError, UnknownNameError
from panel.providers.base import Provider, ProviderSettings

DEFAULT_PROVIDER = "local/smollm2"

# kind -> module implementing it. Adding a provider: its own module + one line here.
KINDS: dict[str, str] = {
    "local": "panel.providers.local",
    "openai": "panel.providers.openai",
    "mistral": "panel.providers.mistral",
}


class _Factory(Protocol):
    def __call__(self, settings: ProviderSettings) -> Provider: ...


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


def create(settings: ProviderSettings) -> Provider:
    factory: _Factory = module_for(settings.kind).create
    return factory(settings)


def create_spec(spec: str) -> Provider:
    """A provider from a bare address with default settings."""
    kind, model = parse_spec(spec)
    return create(ProviderSettings(name=spec, kind=kind, model=model))
