"""API keys: read only from environment variables, never stored or printed."""

from __future__ import annotations

import os

from panel.errors import PanelError
from panel.providers.base import ProviderSettings
from panel.providers.compat import is_local

NO_KEY = "not-needed"  # sent to keyless OpenAI-compatible servers (Ollama, llama.cpp)


def _local_server(settings: ProviderSettings, base_url_env: str | None) -> bool:
    """A self-hosted server (``compat.is_local``), with no key variable named in panel.toml."""
    from_env = os.environ.get(base_url_env, "") if base_url_env else ""
    return settings.api_key_env is None and is_local(settings.base_url or from_env)


def api_key(settings: ProviderSettings, default_env: str, base_url_env: str | None = None) -> str:
    """The key from the variable the settings name (default ``default_env``).

    A local server (``base_url`` or ``base_url_env`` at a loopback or private address)
    needs none: without the variable, ``NO_KEY`` is sent, as llama.cpp and Ollama expect.
    """
    env = default_env if settings.api_key_env is None else settings.api_key_env
    if env == "":
        return NO_KEY
    value = os.environ.get(env, "").strip()
    if not value and _local_server(settings, base_url_env):
        return NO_KEY
    if not value:
        raise PanelError(
            f"provider {settings.name} needs an API key in ${env}; export {env}=... "
            "(or set api_key_env in panel.toml)"
        )
    return value


def key_present(
    settings: ProviderSettings, default_env: str | None, base_url_env: str | None = None
) -> str:
    """'yes', 'no' or 'not needed', for `panel providers list`."""
    if default_env is None:
        return "not needed"
    env = default_env if settings.api_key_env is None else settings.api_key_env
    if env == "":
        return "not needed"
    if os.environ.get(env, "").strip():
        return f"yes (${env})"
    return "not needed (local)" if _local_server(settings, base_url_env) else f"no (${env})"
