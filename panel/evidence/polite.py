"""Polite fetching: who panel says it is, at most one request a second per host, and
robots.txt.

- The User-Agent names panel, its version and a contact (``[evidence] contact``, else
  ``[site] base_url``), so a site owner can see who fetched and how to reach them.
- ``Pacer`` spaces requests to one host by ``[evidence] host_interval`` (at least 1 s),
  every hop of a redirect included. It reserves each request's time under a lock, so
  threads fetching other hosts never wait for it; the clock and the sleep are injected.
- ``Robots`` reads each origin's robots.txt once a run (through the same fetcher, pacer
  and address checks) and asks protego whether a page may be fetched. As RFC 9309 says:
  a robots.txt that is missing (4xx) allows everything; one that cannot be read (5xx,
  a network error, too large) forbids everything until a later run reads it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from protego import Protego

from panel import __version__
from panel.config import Config
from panel.inputs.fetch import FetchError, FetchPolicy, get

AGENT_TOKEN = "panel"  # noqa: S105 (not a secret) the product token robots.txt groups are matched against
MAX_ROBOTS_BYTES = 512_000  # RFC 9309: parse at least 500 KiB
Clock = Callable[[], float]
Sleep = Callable[[float], None]


def user_agent(config: Config) -> str:
    contact = config.evidence.contact or config.site.base_url
    about = f"evidence fetcher; +{contact}" if contact else "evidence fetcher"
    return f"{AGENT_TOKEN}/{__version__} ({about})"


class Pacer:
    """At most one request per ``interval`` seconds to each host."""

    def __init__(
        self, interval: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def ready_at(self, host: str) -> float:
        """When the next request to ``host`` may start (the clock's time)."""
        with self._lock:
            return self._next.get(host.lower(), float("-inf"))

    def wait(self, host: str) -> None:
        """Reserve the next slot for ``host`` and sleep until it comes."""
        with self._lock:
            now = self.clock()
            slot = max(now, self._next.get(host.lower(), now))
            self._next[host.lower()] = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class Robots:
    """robots.txt of each origin, read once a run."""

    def __init__(self, policy: FetchPolicy, agent: str, pacer: Pacer) -> None:
        self.policy = replace(policy, max_bytes=MAX_ROBOTS_BYTES)
        self.agent = agent
        self.pacer = pacer
        self.fetched = 0  # bytes read, for the run's size budget
        self._rules: dict[str, Protego | str] = {}  # origin -> rules, or why none
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> str:
        """ "" if ``url`` may be fetched; else why not (one line)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            if origin not in self._rules:
                self._rules[origin] = self._read(origin)
        rules = self._rules[origin]
        if isinstance(rules, str):
            return rules
        if rules.can_fetch(url, AGENT_TOKEN):
            return ""
        return f"{url}: {origin}/robots.txt does not allow {AGENT_TOKEN} to fetch it; skipped"

    def _read(self, origin: str) -> Protego | str:
        url = f"{origin}/robots.txt"
        try:
            answer = get(url, self.policy, {"User-Agent": self.agent}, self.pacer.wait)
        except FetchError as exc:
            return f"{url} could not be read, so nothing there is fetched ({exc})"
        with self._lock:
            self.fetched += len(answer.body)
        if 400 <= answer.status < 500:
            return Protego.parse("")  # no robots.txt: everything is allowed
        if not 200 <= answer.status < 300:
            return f"{url} answered HTTP {answer.status}, so nothing there is fetched"
        return Protego.parse(answer.body.decode("utf-8", errors="replace"))
