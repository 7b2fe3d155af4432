"""Provider addresses -> provider instances.

An address is ``kind/model`` (``local/smollm2``, ``openai/gpt-4o-mini``) or
``kind:argument`` (``local:/models/x.gguf``). Each kind lives in its own module
exposing ``create(model, sampling)``; modules are imported only when used, so a
missing optional SDK is a clear install hint rather than an import error.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from panel.errors import PanelError, UnknownNameError
from panel.providers.base import Provider, Sampling

DEFAULT_PROVIDER = "local/smollm2"

# kind -> module implementing it. Adding a provider: its own module + one line here.
KINDS: dict[str, str] = {
    "local": "panel.providers.local",
}


class _Factory(Protocol):
    def __call__(self, model: str, sampling: Sampling) -> Provider: ...


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


def create(spec: str, sampling: Sampling | None = None) -> Provider:
    kind, model = parse_spec(spec)
    if kind not in KINDS:
        raise UnknownNameError("provider kind", kind, sorted(KINDS), f"in {spec!r}")
    module = importlib.import_module(KINDS[kind])
    factory: _Factory = module.create
    return factory(model, sampling or Sampling())
