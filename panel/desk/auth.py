"""Sessions, login, CSRF tokens and the request checks every POST goes through.

Sessions live in memory, on the server: the cookie holds only a random id
(HttpOnly, SameSite=Strict, Secure when configured), so a restart logs everyone
out and nothing about the editor is stored in the browser. With a token, a
session is stored only when an editor logs in: a visitor who has not logged in
costs the desk no memory, so no flood of anonymous requests can push an editor's
session out. The login form is protected without a session (:class:`LoginForms`:
a random nonce in a cookie, its keyed hash in the form). Without a token every
visitor is the local editor and gets a session on the first page. Using a session
makes it the most recent, so the cap drops the least recently used first.

Every POST must come from the desk's own origin (the ``Origin`` header, which
browsers send with every form POST) and carry the session's CSRF token. Without a
token the desk answers only to loopback host names (a DNS-rebinding page cannot
use it) and refuses every request that looks forwarded (:func:`proxy_sign`):
behind a proxy, editors must log in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from panel.desk.settings import is_loopback

COOKIE = "panel_desk"
MAX_SESSIONS = 10_000  # the least recently used are dropped first
LOGIN_COOKIE = "panel_desk_login"  # the login form's nonce, before any session exists
LOGIN_FAILURES = 10  # per client address (or known browser) and window; then 429
GLOBAL_FAILURES = 100  # from all browsers the desk does not know, together, per window
LOGIN_WINDOW = 15 * 60.0
KNOWN_COOKIE = "panel_desk_known"  # a browser that has logged in before (KnownBrowsers)
KNOWN_DAYS = 180
# Headers a reverse proxy adds; any one of them means "forwarded" to a desk without a token.
PROXY_HEADERS = (
    "forwarded",
    "via",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-server",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
)

Clock = Callable[[], float]


@dataclass
class Session:
    sid: str
    csrf: str
    editor: str | None  # None until the editor logs in (token mode)
    started: float
    flashes: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)

    def flash(self, kind: str, message: str) -> None:
        self.flashes = [*self.flashes[-4:], (kind, message)]

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        return taken


class Sessions:
    """Server-side sessions by random id, with an age limit and a size cap."""

    def __init__(self, max_age: float, clock: Clock = time.monotonic) -> None:
        self.max_age = max_age
        self.clock = clock
        self._by_id: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._by_id.get(sid)
            if session is None:
                return None
            if self.clock() - session.started > self.max_age:
                del self._by_id[sid]
                return None
            self._by_id.move_to_end(sid)  # used: the cap drops it last
            return session

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)

    def new(self, editor: str | None) -> Session:
        session = Session(
            sid=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            editor=editor,
            started=self.clock(),
        )
        with self._lock:
            self._by_id[session.sid] = session
            while len(self._by_id) > MAX_SESSIONS:
                self._by_id.popitem(last=False)
        return session

    def replace(self, old: Session | None, editor: str | None) -> Session:
        """A fresh session (new id, new CSRF token) for ``editor``; the old one ends."""
        fresh = self.new(editor)
        if old is not None:
            self.drop(old)
            fresh.flashes = list(old.flashes)
        return fresh

    def drop(self, session: Session) -> None:
        with self._lock:
            self._by_id.pop(session.sid, None)


class LoginForms:
    """CSRF for the login form with no session stored: a nonce cookie and its keyed hash.

    The login page sets a random nonce in a cookie (HttpOnly, SameSite=Strict) and puts
    HMAC(key, nonce) in the form; the POST must bring both. The key lives in this
    process only, so a form from before a restart is stale.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    @staticmethod
    def nonce(cookie: str | None) -> str:
        """The browser's nonce if it is one of ours in shape, else a new one."""
        plain = (cookie or "").replace("-", "").replace("_", "")
        if cookie and 20 <= len(cookie) <= 64 and plain.isascii() and plain.isalnum():
            return cookie
        return secrets.token_urlsafe(24)

    def token(self, nonce: str) -> str:
        return hmac.new(self._key, b"login:" + nonce.encode("ascii"), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, given: str) -> bool:
        return bool(cookie) and same_secret(given, self.token(self.nonce(cookie)))


class LoginLimiter:
    """Failed logins, counted so that no one can lock every editor out.

    A browser that has logged in before carries a *known-browser* cookie
    (:class:`KnownBrowsers`); its failures count against that browser only, never
    against an address, so neither an attacker nor a proxy that makes every editor
    one address can lock it out. Any other login counts against its client address
    (``LOGIN_FAILURES`` in ``LOGIN_WINDOW``) and against one limit for all unknown
    browsers together (``GLOBAL_FAILURES``), which bounds guessing from many
    addresses. A success does not clear an address's count: an attacker sharing an
    editor's address gains no new guesses from the editor's login.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= self.clock() - LOGIN_WINDOW:
            failures.popleft()
        return failures

    def blocked(self, client: str, known: str | None = None) -> str | None:
        """Why this login is not even tried, or None."""
        with self._lock:
            if known is not None:
                if len(self._recent(f"browser {known}")) >= LOGIN_FAILURES:
                    return "too many failed logins from this browser; try again later"
                return None
            if len(self._recent(f"address {client}")) >= LOGIN_FAILURES:
                return (
                    "too many failed logins from this address; try again later (a browser "
                    "that logged in to this desk before is not locked out)"
                )
            if len(self._recent("unknown browsers")) >= GLOBAL_FAILURES:
                return (
                    "too many failed logins to this desk from browsers it does not know; "
                    "try again later (a browser that logged in here before still can)"
                )
            return None

    def failed(self, client: str, known: str | None = None) -> None:
        with self._lock:
            keys = [f"browser {known}"] if known else [f"address {client}", "unknown browsers"]
            for key in keys:
                self._recent(key).append(self.clock())
            if len(self._failures) > MAX_SESSIONS:  # forget the quietest keys
                for key in [k for k, v in self._failures.items() if not v][:1000]:
                    del self._failures[key]

    def succeeded(self, known: str | None) -> None:
        if known is not None:
            with self._lock:
                self._failures.pop(f"browser {known}", None)


class KnownBrowsers:
    """The known-browser cookie: ``nonce.mac``, set at each successful login.

    The MAC is keyed by the editor token itself, so the cookie outlives a restart and
    dies with the token: rotating the token forgets every browser. It grants nothing
    but its own login limit; a login still needs the token.
    """

    def __init__(self, token: str | None) -> None:
        secret = (token or secrets.token_urlsafe(32)).encode("utf-8")
        self._key = hmac.new(secret, b"panel desk: known browser", hashlib.sha256).digest()

    def _mac(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode("ascii"), hashlib.sha256).hexdigest()[:32]

    def issue(self, known: str | None) -> str:
        nonce = known or secrets.token_urlsafe(18)
        return f"{nonce}.{self._mac(nonce)}"

    def check(self, cookie: str | None) -> str | None:
        """The browser's id if ``cookie`` is one this desk issued, else None."""
        if not cookie or len(cookie) > 100 or cookie.count(".") != 1 or not cookie.isascii():
            return None
        nonce, mac = cookie.split(".")
        return nonce if nonce and same_secret(mac, self._mac(nonce)) else None


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of a submitted secret."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def origin_problem(headers: Mapping[str, str], own_origin: str) -> str | None:
    """Why a POST's ``Origin`` is not the desk's own, or None when it is."""
    origin = headers.get("origin")
    if not origin or origin == "null":
        return "the request has no Origin header; post the desk's forms from the desk itself"
    if origin.lower().rstrip("/") != own_origin.lower():
        return f"a form from {origin[:100]!r} may not post to the desk at {own_origin}"
    return None


def host_name(host: str) -> str:
    """The name in a Host header: without the port, IPv6 without brackets."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def proxy_sign(headers: Mapping[str, str], http_version: str) -> str | None:
    """What shows that a request came through a reverse proxy, or None when nothing does.

    nginx's plain ``proxy_pass`` rewrites Host to the upstream (127.0.0.1:8765) and adds
    no X-Forwarded-* header, but it speaks HTTP/1.0 to the upstream and sends
    ``Connection: close`` (also with ``proxy_http_version 1.1``). No browser does either.
    """
    named = next((name for name in PROXY_HEADERS if name in headers), None)
    if named is not None:
        return f"it carries a {named} header"
    if http_version == "1.0":
        return "it is HTTP/1.0, as nginx's proxy_pass sends"
    if "close" in headers.get("connection", "").lower():
        return "it asks for Connection: close, as nginx's proxy_pass sends"
    return None


def host_problem(
    host_header: str, needs_login: bool, headers: Mapping[str, str], http_version: str = "1.1"
) -> str | None:
    """Without a token the desk answers only to loopback names and to direct requests."""
    if needs_login:
        return None
    sign = proxy_sign(headers, http_version)
    if sign is not None:
        return (
            f"this desk runs without an editor token and the request looks forwarded ({sign}); "
            "a desk without a token serves only a browser on this machine: behind a reverse "
            "proxy set PANEL_EDITOR_TOKEN and [desk] trusted_proxies so editors log in"
        )
    if not is_loopback(host_name(host_header)):
        return (
            f"the desk without an editor token answers only to 127.0.0.1 and localhost, "
            f"not {host_header[:100]!r}"
        )
    return None


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after a form; never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    return target
