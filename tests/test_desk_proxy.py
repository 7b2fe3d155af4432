"""The desk behind a real nginx: what a reverse proxy can and cannot reach (issue 31).

Each test starts the real `panel serve` in a child process and a real nginx in
front of it on loopback (tests/support/nginx.py); clients connect from different
loopback addresses (127.0.0.2, 127.0.0.3) to stand for different machines.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from panel.paths import Home
from panel.records.io import read_record
from tests.support.desk import A, B, start_desk
from tests.support.nginx import free_port, need_nginx, nginx, request
from tests.support.records import save_record

pytestmark = pytest.mark.usefixtures("nginx_binary")


@pytest.fixture
def nginx_binary() -> str:
    return need_nginx()


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def _rid(path: Path) -> str:
    return path.relative_to(path.parent.parent).with_suffix("").as_posix()


# nginx's plain proxy_pass (Host rewritten to the upstream, no X-Forwarded-*, HTTP/1.0,
# Connection: close), then the settings people add to it one by one.
PROXIES = {
    "plain proxy_pass": "",
    "HTTP/1.1 upstream": "proxy_http_version 1.1;",
    "HTTP/1.1, no Connection header": 'proxy_http_version 1.1;\nproxy_set_header Connection "";',
    "X-Forwarded-For": "proxy_set_header X-Forwarded-For $remote_addr;",
    "X-Real-IP": "proxy_set_header X-Real-IP $remote_addr;",
}


def test_a_default_nginx_proxy_cannot_reach_a_desk_without_a_token(
    home: Home, tmp_path: Path
) -> None:
    record = save_record(home.runs, A, B)
    rid = _rid(record)
    with start_desk(home, env={"PANEL_EDITOR_TOKEN": ""}) as (url, _):
        direct, _, page = request(_port(url), "GET", "/")
        assert direct == 200 and "Editor:" in page  # a browser on this machine
        refused = []
        for n, (name, extra) in enumerate(PROXIES.items()):
            if 'Connection ""' in extra:
                continue  # indistinguishable from a browser: SECURITY.md says so
            with nginx(tmp_path / f"nginx-{n}", url, extra) as port:
                status, headers, text = request(port, "GET", "/", source="127.0.0.2")
                assert status == 403, (name, status)
                assert "set PANEL_EDITOR_TOKEN and [desk] trusted_proxies" in text, name
                assert "panel_desk" not in headers.get("set-cookie", ""), name
                posted, _, _ = request(
                    port,
                    "POST",
                    f"/records/{rid}/reject",
                    headers={"origin": f"http://127.0.0.1:{port}"},
                    body=urlencode({"reason": "by the proxy"}),
                    source="127.0.0.2",
                )
                assert posted == 403, name
                refused.append(name)
        assert len(refused) == len(PROXIES) - 1
    assert read_record(record).editorial.status == "draft"


TOKEN = "correct-horse-battery-staple-42"


class Browser:
    """A client at one loopback address with its own cookie jar, over real HTTP."""

    def __init__(self, port: int, source: str, origin: str) -> None:
        self.port, self.source, self.origin = port, source, origin
        self.jar: dict[str, str] = {}
        self.forged: dict[str, str] = {}  # headers a hostile client adds itself

    def _send(self, method: str, path: str, body: str | None = None) -> tuple[int, str, str]:
        headers = {**self.forged, "origin": self.origin} if body is not None else {**self.forged}
        if self.jar:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        status, got, text = request(
            self.port, method, path, headers=headers, body=body, source=self.source
        )
        for line in got.get("set-cookie", "").splitlines():
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0].strip('"')
            if value and "max-age=0" not in line.lower():
                self.jar[name.strip()] = value
            else:
                self.jar.pop(name.strip(), None)
        return status, got.get("location", ""), text

    def login(self, name: str, token: str) -> int:
        status, _, page = self._send("GET", "/login?next=/")
        assert status == 200, page
        found = re.search(r'name="csrf" value="([^"]*)"', page)
        assert found
        form = urlencode({"csrf": found.group(1), "name": name, "token": token, "next": "/"})
        status, location, _ = self._send("POST", "/login", form)
        if status == 303 and "failed=" in location:
            return 401  # the desk sent them back to the form: a wrong token
        return status

    def queue(self) -> int:
        return self._send("GET", "/")[0]


def _token_desk(home: Home, proxy_port: int, proxies: str = "") -> object:
    config = home.root / "panel.toml"
    config.write_text(config.read_text() + f"\n[desk]\ntrusted_proxies = [{proxies}]\n")
    public = f"http://127.0.0.1:{proxy_port}"
    return start_desk(home, "--public-url", public, env={"PANEL_EDITOR_TOKEN": TOKEN})


def test_a_forged_x_forwarded_for_does_not_dodge_the_login_limit(home: Home) -> None:
    """Straight to the desk from loopback, a new X-Forwarded-For on each try: still 429."""
    with start_desk(home, env={"PANEL_EDITOR_TOKEN": TOKEN}) as (url, _):
        attacker = Browser(_port(url), "127.0.0.1", url.rstrip("/"))
        results = []
        for n in range(12):
            attacker.forged = {"x-forwarded-for": f"198.51.100.{n}"}
            results.append(attacker.login("mallory", f"guess-guess-guess-{n:04}"))
        assert results[:10] == [401] * 10
        assert results[10:] == [429, 429]
    log = (home.runs / "desk" / "access.log").read_text()  # complete once the desk stopped
    assert "198.51.100." not in log  # the address is the one that connected


def test_behind_nginx_the_limit_is_per_real_client_and_cannot_lock_editors_out(
    home: Home, tmp_path: Path
) -> None:
    proxy_port = free_port()
    forwarding = "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"
    with (
        _token_desk(home, proxy_port, '"127.0.0.1"') as (url, _),  # type: ignore[attr-defined]
        nginx(tmp_path / "nginx", url, forwarding, port=proxy_port) as port,
    ):
        origin = f"http://127.0.0.1:{port}"
        attacker = Browser(port, "127.0.0.2", origin)
        attacker.forged = {"x-forwarded-for": "203.0.113.7"}  # believed from nginx only
        results = [attacker.login("mallory", f"guess-guess-guess-{n:04}") for n in range(11)]
        assert results == [401] * 10 + [429]
        editor = Browser(port, "127.0.0.3", origin)  # another machine, a new browser
        assert editor.login("gina", TOKEN) == 303 and editor.queue() == 200
    log = (home.runs / "desk" / "access.log").read_text()  # complete once the desk stopped
    assert ' 127.0.0.2 - "POST /login" 429' in log
    assert ' 127.0.0.3 gina "GET /" 200' in log and "203.0.113.7" not in log


def test_behind_a_proxy_that_forwards_no_address_an_attacker_cannot_lock_out_editors(
    home: Home, tmp_path: Path
) -> None:
    """nginx sends no X-Forwarded-For: every client is 127.0.0.1 to the desk."""
    proxy_port = free_port()
    with (
        _token_desk(home, proxy_port) as (url, _),  # type: ignore[attr-defined]
        nginx(tmp_path / "nginx", url, port=proxy_port) as port,
    ):
        origin = f"http://127.0.0.1:{port}"
        editor = Browser(port, "127.0.0.3", origin)
        assert editor.login("gina", TOKEN) == 303  # she has logged in from this browser before
        editor.jar.pop("panel_desk")  # her session ended (logged out, or the desk restarted)
        attacker = Browser(port, "127.0.0.2", origin)
        results = [attacker.login("mallory", f"guess-guess-guess-{n:04}") for n in range(12)]
        assert results == [401] * 10 + [429, 429]
        assert editor.login("gina", TOKEN) == 303 and editor.queue() == 200
        newcomer = Browser(port, "127.0.0.4", origin)  # shares the proxy's address: locked
        assert newcomer.login("hugo", TOKEN) == 429
