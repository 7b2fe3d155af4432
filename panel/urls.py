"""Which URLs panel emits or posts to: http(s) only, well-formed, nothing to smuggle.

Used wherever a URL from outside reaches output or settings: links on pages
(vendor URLs), the newsletter form's action in panel.toml and the CSP built from it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def http_url(url: str | None) -> str:
    """``url`` if it is a well-formed http(s) URL, else "" (never a javascript: link)."""
    if not url or any(ch.isspace() or ord(ch) < 32 or ch in "<>\"'`\\" for ch in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.hostname else ""


_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def form_origin(action: str) -> str:
    """scheme://host[:port] of a form endpoint, or "" unless it is a plain http(s) URL.

    The origin goes into the pages' Content-Security-Policy (form-action), so the
    host must be a bare host name: no user:password@, no CSP punctuation.
    """
    if not http_url(action):
        return ""
    try:
        parts = urlsplit(action)
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None or not _HOST.match(host):
        return ""
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
