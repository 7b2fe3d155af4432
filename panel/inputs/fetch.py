"""Bounded HTTP(S) downloads for intake: one overall deadline, a size cap, checked hops.

- Only ``http`` and ``https``, for the address given and for every redirect (at most
  ``max_redirects``); a redirect to ``ftp://``, ``file://`` or anything else is refused.
- One deadline for the whole download: name lookup, connect, TLS, headers, body and every
  redirect. A server that drips a byte every few seconds is cut off when the deadline
  passes, however often it sends. (A per-read timeout never fires on such a server.)
- With ``deny_private``, every address a host name resolves to is checked before
  connecting, on every hop, and the connection goes to the address that was checked,
  so the name cannot resolve to something else in between. Loopback, private,
  link-local, shared, reserved and multicast addresses are refused unless the operator
  allows them (``allow``: addresses or networks, optionally with a port).
- The body is capped (the ``Content-Length`` is checked first, the bytes as they come).
- No proxies from the environment (the address check must know where it connects),
  no cookies, no compression, no credentials in URLs.

``fetch`` is intake's download (the body of a 2xx answer, anything else an error);
``get`` is the same download for callers that send their own headers (a conditional GET,
a User-Agent), want non-2xx answers back (304 Not Modified, a robots.txt 404) and pace
every hop (``before``: called with each hop's host before it connects): the evidence fetcher.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from panel.errors import PanelError

MAX_BYTES = 10_000_000
USER_AGENT = "panel-intake/1"
ACCEPT = "application/rss+xml, application/atom+xml, text/csv, */*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SAFE_PATH = "/%:@!$&'()*+,;=?~-._"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(PanelError):
    """A download that was refused or did not complete."""


@dataclass(frozen=True)
class Allowed:
    """An address or network the operator allows despite ``deny_private``."""

    network: Network
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Allowed:
        """``10.0.0.0/8``, ``127.0.0.1:8080``, ``[::1]:8080`` or ``::1``."""
        host, port = text.strip(), None
        if host.startswith("["):
            host, _, rest = host[1:].partition("]")
            if rest:
                port = _port(rest.removeprefix(":"), text)
        elif host.count(":") == 1:
            host, _, rest = host.partition(":")
            port = _port(rest, text)
        try:
            return cls(ipaddress.ip_network(host, strict=False), port)
        except ValueError:
            raise PanelError(
                f"{text!r} is not an address or network; use e.g. 10.0.0.0/8 or 127.0.0.1:8080"
            ) from None

    def covers(self, address: Address, port: int) -> bool:
        return address in self.network and self.port in (None, port)


def _port(text: str, where: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise PanelError(f"{where!r}: port {text!r} is not a port number (1-65535)")
    return int(text)


@dataclass(frozen=True)
class FetchPolicy:
    deadline: float = 60.0  # seconds for the whole download, redirects included
    max_bytes: int = MAX_BYTES
    max_redirects: int = 5
    deny_private: bool = False
    allow: Sequence[Allowed] = field(default_factory=tuple)
    timeout_setting: str = "[intake] timeout"  # named in the error when the deadline passes


def public(address: Address) -> bool:
    """A globally routable unicast address (IPv4-mapped IPv6 judged as the IPv4 inside)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class _Deadline:
    """The download's clock, and a watchdog that shuts the open socket when time is up.

    Shutting the socket down makes a read that is blocked (or being fed one byte at a
    time) return at once, whatever the per-operation timeout says.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
        if self.fired:
            self._fire()

    def left(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.fired or self.left() <= 0

    def cancel(self) -> None:
        self._timer.cancel()


@dataclass(frozen=True)
class _Target:
    url: str
    tls: bool
    host: str  # ASCII (IDNA) host name or address literal
    port: int
    path: str


def _target(url: str, origin: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError(f"{origin}: {url!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if url == origin:
            raise FetchError(f"{url}: only http(s) URLs can be imported")
        raise FetchError(
            f"{origin}: redirected to {url}; only http(s) redirects are followed, "
            "so nothing was downloaded"
        )
    if parts.username is not None or parts.password is not None:
        raise FetchError(f"{origin}: user names and passwords in URLs are not supported")
    if not parts.hostname:
        raise FetchError(f"{origin}: {url!r} has no host name")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchError(f"{origin}: {parts.hostname!r} is not a valid host name") from None
    path = quote(parts.path or "/", safe=_SAFE_PATH)
    if parts.query:
        path += "?" + quote(parts.query, safe=_SAFE_PATH)
    return _Target(url, scheme == "https", host, port or (443 if scheme == "https" else 80), path)


def _resolve(target: _Target, clock: _Deadline, origin: str) -> list[str]:
    """The target's addresses, looked up in a thread so the deadline also bounds DNS."""
    try:
        return [str(ipaddress.ip_address(target.host))]
    except ValueError:
        pass
    found: list[list[str]] = []
    failed: list[OSError] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
            found.append(list(dict.fromkeys(str(info[4][0]) for info in infos)))
        except OSError as exc:
            failed.append(exc)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(max(clock.left(), 0))
    if failed:
        raise FetchError(f"{origin}: cannot resolve {target.host}; check the address")
    if not found:
        raise _too_slow(origin, clock)
    return found[0]


def _check(addresses: list[str], target: _Target, policy: FetchPolicy, origin: str) -> None:
    if not policy.deny_private:
        return
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if public(address) or any(a.covers(address, target.port) for a in policy.allow):
            continue
        via = "" if target.url == origin else f" (redirected to {target.url})"
        raise FetchError(
            f"{origin}: {target.host}{via} is {address}, a private, loopback or reserved "
            "address, and [intake] deny_private refuses those; use a public address, or "
            "allow it in panel.toml ([intake] allow)"
        )


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address, watched by the deadline."""

    def __init__(self, target: _Target, address: str, clock: _Deadline) -> None:
        super().__init__(target.host, target.port, timeout=max(clock.left(), 0.001))
        self._address = address
        self._clock = clock
        self._tls = ssl.create_default_context() if target.tls else None

    def connect(self) -> None:
        family = socket.AF_INET6 if ":" in self._address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        self._clock.watch(sock)
        sock.settimeout(max(self._clock.left(), 0.001))
        sock.connect((self._address.split("%")[0], self.port))
        if self._tls is not None:
            wrapped = self._tls.wrap_socket(
                sock, server_hostname=self.host, do_handshake_on_connect=False
            )
            self._clock.watch(wrapped)
            wrapped.do_handshake()
            sock = wrapped
        self.sock = sock


def _too_slow(origin: str, clock: _Deadline, setting: str = "[intake] timeout") -> FetchError:
    return FetchError(
        f"{origin}: no complete answer within {clock.seconds:g} s (the overall download "
        f"deadline); try again later, or raise {setting} in panel.toml"
    )


def _body(response: http.client.HTTPResponse, policy: FetchPolicy, origin: str) -> bytes:
    declared = response.getheader("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(f"{origin}: larger than {policy.max_bytes} bytes; refusing it")
    chunks: list[bytes] = []
    total = 0
    while chunk := response.read1(65536):
        total += len(chunk)
        if total > policy.max_bytes:
            raise FetchError(f"{origin}: larger than {policy.max_bytes} bytes; refusing it")
        chunks.append(chunk)
    return b"".join(chunks)


def _connect(target: _Target, addresses: list[str], clock: _Deadline) -> _Connection:
    """A connection to the first of ``addresses`` that answers (all of them were checked)."""
    for number, address in enumerate(addresses, start=1):
        connection = _Connection(target, address, clock)
        try:
            connection.connect()
        except OSError:
            connection.close()
            if number == len(addresses) or clock.expired():
                raise
            continue
        return connection
    raise OSError("no address to connect to")


@dataclass(frozen=True)
class Answer:
    """The final (non-redirect) answer of a download: its status, address, headers, body."""

    status: int
    url: str  # the address that answered, after redirects
    headers: Mapping[str, str]  # lower-case names
    body: bytes  # read for 2xx answers only


def _hop(
    target: _Target,
    policy: FetchPolicy,
    clock: _Deadline,
    origin: str,
    headers: Mapping[str, str],
) -> Answer:
    """One request; the body is read for 2xx answers only."""
    addresses = _resolve(target, clock, origin)
    _check(addresses, target, policy, origin)
    connection = _connect(target, addresses, clock)
    try:
        sent = {"User-Agent": USER_AGENT, "Accept": ACCEPT, **headers}
        sent.update({"Accept-Encoding": "identity", "Connection": "close"})
        connection.request("GET", target.path, headers=sent)
        response = connection.getresponse()
        got = {key.lower(): value for key, value in response.getheaders()}
        body = _body(response, policy, origin) if 200 <= response.status < 300 else b""
        return Answer(response.status, target.url, got, body)
    finally:
        connection.close()


def get(
    url: str,
    policy: FetchPolicy | None = None,
    headers: Mapping[str, str] | None = None,
    before: Callable[[str], None] | None = None,
) -> Answer:
    """GET ``url`` within ``policy``, following redirects: the final answer, whatever its
    status (a FetchError for a refused, failed or too slow download, or too many redirects).

    ``headers`` are sent on every hop (the transport's own are fixed), except an
    ``Authorization`` header, which goes only to the first URL's origin (scheme, host, port):
    a redirect elsewhere never carries a credential. ``before(host)`` is called before each
    hop connects, so a caller can pace requests per host.
    """
    policy = policy or FetchPolicy()
    target = _target(url, url)
    clock = _Deadline(policy.deadline)
    setting = policy.timeout_setting
    origin = (target.tls, target.host, target.port)
    sent = dict(headers or {})
    elsewhere = {k: v for k, v in sent.items() if k.lower() != "authorization"}
    try:
        for _ in range(policy.max_redirects + 1):
            if before is not None:
                before(target.host)
            same = (target.tls, target.host, target.port) == origin
            answer = _hop(target, policy, clock, url, sent if same else elsewhere)
            if clock.expired():
                raise _too_slow(url, clock, setting)  # the socket was shut: the body may be cut
            if answer.status not in _REDIRECTS:
                return answer
            location = answer.headers.get("location", "")
            if not location:
                raise FetchError(f"{url}: HTTP {answer.status} redirect without a Location")
            target = _target(urljoin(target.url, location.strip()), url)
        raise FetchError(
            f"{url}: more than {policy.max_redirects} redirects; use the final address"
        )
    except FetchError:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise FetchError(f"{url}: TLS certificate not valid ({exc.verify_message})") from None
    except (OSError, http.client.HTTPException) as exc:
        if clock.expired():
            raise _too_slow(url, clock, setting) from None
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise FetchError(f"{url}: cannot fetch ({reason}); check the address") from None
    finally:
        clock.cancel()


def fetch(url: str, policy: FetchPolicy | None = None) -> bytes:
    """GET ``url`` within ``policy``: the body of the final 2xx answer, or a FetchError."""
    answer = get(url, policy)
    if not 200 <= answer.status < 300:
        raise FetchError(f"{url}: HTTP {answer.status}; check the feed address")
    return answer.body
