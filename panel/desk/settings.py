"""What the desk serves and who may use it: the bind rule, the editor token, the public URL.

The desk binds 127.0.0.1 by default and then needs no login: only this machine's
users can reach it, and the editor is ``--by`` or ``$USER``. Any other bind address,
and any public URL (a reverse proxy in front), needs an editor token: from
``$PANEL_EDITOR_TOKEN`` or ``--token-file``. Then every editor logs in with their
name and the token, and the name goes into the records' history and the access log.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from panel.errors import PanelError
from panel.paths import Home
from panel.safeio import read_regular

TOKEN_ENV = "PANEL_EDITOR_TOKEN"  # noqa: S105  (the variable's name, not a secret)
MIN_TOKEN = 16
MAX_TOKEN_FILE = 4096
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """True for a bind address only this machine can reach."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _check_token(token: str, where: str) -> str:
    if len(token) < MIN_TOKEN:
        raise PanelError(
            f"the editor token from {where} is {len(token)} characters; use at least {MIN_TOKEN} "
            '(for example `python3 -c "import secrets; print(secrets.token_urlsafe(32))"`)'
        )
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise PanelError(
            f"the editor token from {where} contains spaces or control characters; "
            "use one line of printable characters"
        )
    return token


def read_token(env: dict[str, str] | os._Environ[str], token_file: Path | None) -> str | None:
    """The editor token: ``--token-file`` first, else ``$PANEL_EDITOR_TOKEN``; None without."""
    if token_file is not None:
        raw = read_regular(token_file, MAX_TOKEN_FILE, "token file")
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise PanelError(f"token file {token_file} is not UTF-8 text") from None
        if "\n" in text:
            raise PanelError(f"token file {token_file} has more than one line; keep only the token")
        return _check_token(text, f"token file {token_file}")
    value = env.get(TOKEN_ENV, "").strip()
    return _check_token(value, f"${TOKEN_ENV}") if value else None


def token_file_warning(token_file: Path | None) -> str | None:
    """A warning when the token file is readable by other users."""
    if token_file is None:
        return None
    try:
        mode = token_file.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"token file {token_file} is readable by other users (mode {stat.S_IMODE(mode):04o}); "
            f"`chmod 600 {token_file}`"
        )
    return None


def public_origin(url: str | None) -> str | None:
    """scheme://host[:port] of ``--public-url``; a one-line error for anything else."""
    if url is None:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise PanelError(
            f"--public-url {url!r} is not an http(s) URL such as https://desk.example.org; "
            "give the address editors open, as the reverse proxy serves it"
        )
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


@dataclass(frozen=True)
class DeskSettings:
    """Everything the app needs; built and checked by :func:`desk_settings`."""

    home: Home
    site_out: Path  # where "build the site" writes (like `panel site build --out`)
    editor: str  # the editor when no token is set (loopback only)
    token: str | None = None  # with a token, every editor logs in
    base_url: str | None = None  # overrides [site] base_url for the build
    public_origin: str | None = None  # the origin editors use, behind a reverse proxy
    secure_cookies: bool = False  # the session cookie is sent over https only
    access_log: Path | None = None  # None: stderr only
    session_hours: float = 12.0
    trusted_proxies: tuple[str, ...] = ()  # [desk] trusted_proxies: whose X-Forwarded-For counts

    @property
    def needs_login(self) -> bool:
        return self.token is not None


def check_bind(
    host: str, token: str | None, public: str | None, proxies: tuple[str, ...] = ()
) -> None:
    """Refuse to expose the desk without a token: one line saying how to fix it."""
    if token is not None:
        return
    if proxies:
        raise PanelError(
            "[desk] trusted_proxies in panel.toml puts the desk behind a reverse proxy; set "
            f"${TOKEN_ENV} or pass --token-file FILE so editors log in"
        )
    if not is_loopback(host):
        raise PanelError(
            f"--host {host} would let other machines reach the desk; set ${TOKEN_ENV} or pass "
            "--token-file FILE (editors then log in), or keep the default --host 127.0.0.1"
        )
    if public is not None:
        raise PanelError(
            f"--public-url puts the desk behind a reverse proxy for others; set ${TOKEN_ENV} or "
            "pass --token-file FILE so editors log in"
        )


def desk_settings(
    home: Home,
    *,
    host: str,
    site_out: Path,
    editor: str,
    token: str | None,
    base_url: str | None = None,
    public_url: str | None = None,
    secure_cookies: bool | None = None,
    access_log: Path | None = None,
    trusted_proxies: tuple[str, ...] = (),
) -> DeskSettings:
    """Checked settings: the bind rule, the public URL; secure cookies default to https."""
    origin = public_origin(public_url)
    check_bind(host, token, origin, trusted_proxies)
    secure = (
        secure_cookies if secure_cookies is not None else bool(origin and origin[:6] == "https:")
    )
    return DeskSettings(
        home=home,
        site_out=site_out.expanduser().resolve(),
        editor=editor,
        token=token,
        base_url=base_url,
        public_origin=origin,
        secure_cookies=secure,
        access_log=access_log,
        trusted_proxies=trusted_proxies,
    )
