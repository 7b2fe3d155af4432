"""API keys: read only from environment variables, never stored or printed."""

from __future__ import annotations

import os

from panel.errors import PanelError
from panel.providers.base import ProviderSettings

NO_KEY = "not-needed"  # sent to keyless OpenAI-compatible servers (Ollama, llama.cpp)


def api_key(settings: ProviderSettings, default_env: str) -> str:
    """The key from the variable the settings name (default ``default_env``)."""
    env = default_env if settings.api_key_env is None else settings.api_key_env
    if env == "":
        return NO_KEY
    value = os.environ.get(env, "").strip()
    if not value:
        raise PanelError(
            f"provider {settings.name} needs an API key in ${env}; export {env}=... "
            "(or set api_key_env in panel.toml)"
        )
    return value


def key_present(settings: ProviderSettings, default_env: str | None) -> str:
    """'yes', 'no' or 'not needed', for `panel providers list`."""
    if default_env is None:
        return "not needed"
    env = default_env if settings.api_key_env is None else settings.api_key_env
    if env == "":
        return "not needed"
    return f"yes (${env})" if os.environ.get(env, "").strip() else f"no (${env})"
