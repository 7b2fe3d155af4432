"""Downloads for intake: http(s) redirects only, a redirect limit, and private addresses denied.

Every server is on loopback; the deny-private checks are exercised by allowing exactly
one loopback address and port (``[intake] allow``) and redirecting somewhere else.
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panel.cli import app
from panel.errors import PanelError
from panel.inputs.fetch import Allowed, FetchPolicy, fetch, public
from panel.paths import Home
from tests.conftest import NO_HEAD_TO_HEAD

runner = CliRunner()
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>
<item><title>Gamma Agent</title><link>https://gamma.example/</link>
<description>Gamma writes code.</description></item></channel></rss>"""


@dataclass
class Server:
    url: str
    port: int
    hits: list[str] = field(default_factory=list)


@contextlib.contextmanager
def serve(routes: dict[str, tuple[int, dict[str, str], bytes]]) -> Iterator[Server]:
    """path -> (status, headers, body); every request path is recorded in ``hits``."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            if "Content-Length" not in headers:  # "": leave it out (read to the close)
                headers = {**headers, "Content-Length": str(len(body))}
            for key, value in headers.items():
                if value:
                    self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", port, hits)
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A bare TCP port (say, an FTP server) that records every connection it gets."""
    sock = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                seen.append(b"connected")
                with contextlib.suppress(OSError):
                    conn.sendall(b"220 ftp ready\r\n")

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield sock.getsockname()[1], seen
    finally:
        sock.close()


def redirect(to: str, status: int = 302) -> tuple[int, dict[str, str], bytes]:
    return status, {"Location": to}, b""


def test_redirects_are_followed_at_most_five_times() -> None:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    with serve(routes) as chain:  # /0 -> /1 -> ... -> /5, which answers
        routes.update({f"/{n}": redirect(f"{chain.url}/{n + 1}") for n in range(5)})
        routes["/5"] = (200, {}, FEED)
        assert fetch(f"{chain.url}/0") == FEED
        with pytest.raises(PanelError, match="more than 4 redirects"):
            fetch(f"{chain.url}/0", FetchPolicy(max_redirects=4))
    relative = {"/a": redirect("/b", 301), "/b": redirect("c", 308), "/c": (200, {}, FEED)}
    with serve(relative) as server:
        assert fetch(f"{server.url}/a") == FEED


@pytest.mark.parametrize(
    "target",
    ["ftp://127.0.0.1:{port}/feed.xml", "file:///etc/passwd", "gopher://127.0.0.1:{port}/"],
)
def test_a_redirect_to_another_scheme_is_always_refused(home: Home, target: str) -> None:
    with listener() as (port, seen), serve({"/feed.xml": redirect(target.format(port=port))}) as s:
        result = runner.invoke(app, ["tools", "import", f"{s.url}/feed.xml"])
        assert result.exit_code == 2, result.output
        assert "only http(s) redirects are followed" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert seen == []  # no FTP (or any other) connection was ever opened


def configure(home: Home, url: str, allow: list[str], deny: bool | None = None) -> None:
    lines = [NO_HEAD_TO_HEAD, "[intake]", f"allow = {allow!r}".replace("'", '"')]
    lines += ["[intake.sources.launches]", f'url = "{url}"']
    if deny is not None:
        lines.append(f"deny_private = {str(deny).lower()}")
    home.config_file.write_text("\n".join(lines) + "\n")


def test_a_redirect_to_another_port_on_the_same_host_is_refused_when_denied(home: Home) -> None:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    with serve({"/feed.xml": (200, {}, FEED)}) as other, serve(routes) as first:
        routes["/feed.xml"] = redirect(f"{other.url}/feed.xml")
        # the operator allows exactly the first server; the redirect goes elsewhere
        configure(home, f"{first.url}/feed.xml", [f"127.0.0.1:{first.port}"])
        result = runner.invoke(app, ["tools", "import", "--source", "launches"])
        assert result.exit_code == 1, result.output
        assert f"redirected to {other.url}/feed.xml" in result.stderr
        assert "127.0.0.1, a private, loopback or reserved address" in result.stderr
        assert first.hits == ["/feed.xml"] and other.hits == []
        assert not (home.catalog / "gamma-agent.toml").exists()

        # typed by hand, the URL is fetched as asked (the check is off by default) ...
        result = runner.invoke(app, ["tools", "import", f"{first.url}/feed.xml"])
        assert result.exit_code == 0 and "added   gamma-agent" in result.stdout
        assert other.hits == ["/feed.xml"]
        # ... unless the operator turns it on
        result = runner.invoke(app, ["tools", "import", "--deny-private", f"{first.url}/feed.xml"])
        assert result.exit_code == 2 and "private, loopback" in result.stderr
        assert other.hits == ["/feed.xml"]


def test_the_check_is_on_the_resolved_address_of_every_hop(home: Home) -> None:
    with serve({"/feed.xml": (200, {}, FEED)}) as server:
        port = server.port
        # "localhost" is a name, not an address: it is refused for what it resolves to
        configure(home, f"http://localhost:{port}/feed.xml", [])
        result = runner.invoke(app, ["tools", "import", "-s", "launches"])
        assert result.exit_code == 1 and "localhost is 127.0.0.1" in result.stderr
        assert server.hits == []
        # allowing the address (not the name) lets the same URL through
        configure(home, f"http://localhost:{port}/feed.xml", [f"127.0.0.1:{port}"])
        result = runner.invoke(app, ["tools", "import", "-s", "launches"])
        assert result.exit_code == 0 and "added   gamma-agent" in result.stdout
        # and a source can opt out of the check explicitly
        configure(home, f"http://127.0.0.1:{port}/feed.xml", [], deny=False)
        assert runner.invoke(app, ["tools", "import", "-s", "launches"]).exit_code == 0


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ],
)
def test_which_addresses_are_public(address: str, ok: bool) -> None:
    assert public(ipaddress.ip_address(address)) is ok


def test_allow_entries_parse_and_match() -> None:
    entry = Allowed.parse("127.0.0.1:8080")
    assert entry.covers(ipaddress.ip_address("127.0.0.1"), 8080)
    assert not entry.covers(ipaddress.ip_address("127.0.0.1"), 8081)
    assert Allowed.parse("10.0.0.0/8").covers(ipaddress.ip_address("10.9.9.9"), 1)
    assert Allowed.parse("[::1]:80").covers(ipaddress.ip_address("::1"), 80)
    with pytest.raises(PanelError, match="not an address or network"):
        Allowed.parse("intranet.example")


def test_bad_allow_entry_in_panel_toml_is_a_one_line_error(home: Home, tmp_path: Path) -> None:
    home.config_file.write_text('[intake]\nallow = ["intranet.example"]\n')
    result = runner.invoke(app, ["tools", "import", str(tmp_path / "x.csv")])
    assert result.exit_code == 2 and "panel.toml" in result.stderr
    assert "not an address or network" in result.stderr


def test_size_cap_by_header_and_by_bytes() -> None:
    routes = {
        "/big": (200, {}, b"x" * 5000),
        "/unsized": (200, {"Content-Length": ""}, b"y" * 5000),
    }
    with serve(routes) as server:
        for path in routes:
            with pytest.raises(PanelError, match="larger than 1000 bytes"):
                fetch(f"{server.url}{path}", FetchPolicy(max_bytes=1000))
            assert len(fetch(f"{server.url}{path}", FetchPolicy(max_bytes=5000))) == 5000


def test_credentials_in_urls_are_refused() -> None:
    with pytest.raises(PanelError, match="user names and passwords"):
        fetch("http://user:secret@127.0.0.1:9/feed.xml")
