"""The desk behind a real nginx: what a reverse proxy can and cannot reach (issue 31).

Each test starts the real `panel serve` in a child process and a real nginx in
front of it on loopback (tests/support/nginx.py); clients connect from different
loopback addresses (127.0.0.2, 127.0.0.3) to stand for different machines.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from panel.paths import Home
from panel.records.io import read_record
from tests.support.desk import A, B, start_desk
from tests.support.nginx import need_nginx, nginx, request
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
