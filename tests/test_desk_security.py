"""The editor's desk refuses what it must: forged forms, strangers, hostile text.

CSRF tokens, the Origin and Host checks, the bind rule, the login and its session
cookie, the access log, and the site's XSS payloads in every field of a record.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from panel.cli import app
from panel.desk import auth
from panel.desk.settings import TOKEN_ENV, desk_settings, read_token
from panel.errors import PanelError
from panel.paths import Home
from panel.records.editorial import override, reject
from panel.records.io import read_record
from tests.support.desk import ORIGIN, A, B, client, csrf, flashes, post, save_rich
from tests.support.records import save_record
from tests.support.site import Page, runner, without_jsonld
from tests.test_site import XSS, _hostile_tool

TOKEN = "correct-horse-battery-staple-42"


def _rid(path: Path) -> str:
    return path.relative_to(path.parent.parent).with_suffix("").as_posix()


@pytest.fixture
def record(home: Home) -> Path:
    return save_record(home.runs, A, B)


# -- forged forms ------------------------------------------------------------------
def test_a_post_without_the_csrf_token_changes_nothing(home: Home, record: Path) -> None:
    desk = client(home)
    desk.get("/")  # a session, as a visitor's browser would have
    for data in ({}, {"csrf": ""}, {"csrf": "forged-token"}):
        response = desk.post(
            f"/records/{_rid(record)}/approve", data=data, headers={"origin": ORIGIN}
        )
        assert response.status_code == 403
        assert "CSRF token is missing or stale" in Page(response.text).classes["refusal"][0]
    assert read_record(record).editorial.status == "draft"


def test_the_csrf_token_of_another_session_does_not_work(home: Home, record: Path) -> None:
    theirs = csrf(client(home).get("/").text)
    desk = client(home)
    desk.get("/")
    response = desk.post(
        f"/records/{_rid(record)}/approve", data={"csrf": theirs}, headers={"origin": ORIGIN}
    )
    assert response.status_code == 403
    assert read_record(record).editorial.status == "draft"


@pytest.mark.parametrize(
    "origin",
    [None, "null", "https://evil.example", "http://127.0.0.1:9999", "http://localhost:8765"],
)
def test_a_post_from_another_origin_is_refused(
    home: Home, record: Path, origin: str | None
) -> None:
    desk = client(home)
    token = csrf(desk.get("/").text)
    headers = {"origin": origin} if origin else {}
    response = desk.post(f"/records/{_rid(record)}/approve", data={"csrf": token}, headers=headers)
    assert response.status_code == 403
    assert "cross-site form refused" in Page(response.text).classes["refusal"][0]
    assert read_record(record).editorial.status == "draft"


def test_a_post_without_a_session_or_not_a_plain_form_is_refused(home: Home, record: Path) -> None:
    desk = client(home)
    token = csrf(desk.get("/").text)
    stranger = client(home)
    url = f"/records/{_rid(record)}/approve"
    no_session = stranger.post(url, data={"csrf": token}, headers={"origin": ORIGIN})
    assert no_session.status_code == 403 and "no desk session" in no_session.text
    as_json = desk.post(url, json={"csrf": token}, headers={"origin": ORIGIN})
    assert as_json.status_code == 415
    huge = desk.post(url, data={"csrf": token, "x": "a" * 70_000}, headers={"origin": ORIGIN})
    assert huge.status_code == 413
    assert read_record(record).editorial.status == "draft"


def test_every_action_and_the_login_need_the_token_and_the_origin(home: Home, record: Path) -> None:
    desk = client(home)
    desk.get("/")
    rid = _rid(record)
    for path in (
        f"/records/{rid}/approve",
        f"/records/{rid}/reject",
        f"/records/{rid}/override",
        "/site/build",
        "/login",
        "/logout",
    ):
        assert desk.post(path, data={}, headers={"origin": ORIGIN}).status_code == 403, path
        assert desk.post(path, data={"csrf": csrf(desk.get("/").text)}).status_code == 403, path


# -- who may reach the desk ----------------------------------------------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "desk.example.org"])
def test_binding_beyond_loopback_needs_a_token(home: Home, host: str) -> None:
    with pytest.raises(PanelError, match=f"set \\${TOKEN_ENV} or pass --token-file"):
        desk_settings(home, host=host, site_out=home.root / "site", editor="a", token=None)
    desk_settings(home, host=host, site_out=home.root / "site", editor="a", token=TOKEN)
    for loopback in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        desk_settings(home, host=loopback, site_out=home.root / "site", editor="a", token=None)


def test_trusted_proxies_need_a_token_and_must_be_addresses(home: Home) -> None:
    where = {"host": "127.0.0.1", "site_out": home.root / "site", "editor": "a"}
    with pytest.raises(PanelError, match=r"trusted_proxies in panel\.toml puts the desk behind"):
        desk_settings(home, token=None, trusted_proxies=("127.0.0.1",), **where)  # type: ignore[arg-type]
    desk_settings(home, token=TOKEN, trusted_proxies=("127.0.0.1",), **where)  # type: ignore[arg-type]
    (home.root / "panel.toml").write_text('[desk]\ntrusted_proxies = ["nginx.local"]\n')
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "'nginx.local' is not an IP address or network" in result.stderr


def test_panel_serve_on_another_host_without_a_token_is_a_one_line_error(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("panel: error: --host 0.0.0.0 would let")
    proxied = runner.invoke(app, ["serve", "--public-url", "https://desk.example", "--port", "0"])
    assert proxied.exit_code == 2 and "--public-url puts the desk behind" in proxied.stderr
    monkeypatch.setenv(TOKEN_ENV, "short")
    weak = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert weak.exit_code == 2 and "use at least 16" in weak.stderr


def test_a_port_in_use_is_a_one_line_error(home: Home) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = runner.invoke(app, ["serve", "--port", port])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"panel: error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "pass another --port, or a --host address of this machine"
    )


def test_the_token_comes_from_the_file_first_then_the_environment(tmp_path: Path) -> None:
    assert read_token({}, None) is None
    assert read_token({TOKEN_ENV: f" {TOKEN}\n"}, None) == TOKEN
    path = tmp_path / "token"
    path.write_text(f"{TOKEN}-from-file\n")
    assert read_token({TOKEN_ENV: TOKEN}, path) == f"{TOKEN}-from-file"
    path.write_text(f"{TOKEN}\nsecond line\n")
    with pytest.raises(PanelError, match="more than one line"):
        read_token({}, path)
    with pytest.raises(PanelError, match="cannot read token file"):
        read_token({}, tmp_path / "missing")


def test_without_a_token_the_desk_answers_only_to_loopback_and_not_via_a_proxy(
    home: Home, record: Path
) -> None:
    rebound = TestClient(client(home).app, base_url="http://evil.example:8765")
    response = rebound.get("/")
    assert response.status_code == 421 and "answers only to 127.0.0.1" in response.text
    assert "panel_desk" not in response.cookies
    proxied = client(home).get("/", headers={"x-forwarded-for": "203.0.113.9"})
    assert proxied.status_code == 403 and "set PANEL_EDITOR_TOKEN" in proxied.text
    assert client(home).get("/").status_code == 200


# -- login ---------------------------------------------------------------------------
def _login(desk: TestClient, name: str, token: str) -> object:
    form = desk.get("/login?next=/records/x")
    return desk.post(
        "/login",
        data={"csrf": csrf(form.text), "name": name, "token": token, "next": "/?status=draft"},
        headers={"origin": ORIGIN},
        follow_redirects=False,
    )


def test_with_a_token_every_page_needs_a_login(home: Home, record: Path) -> None:
    desk = client(home, token=TOKEN)
    rid = _rid(record)
    for url in ("/", f"/records/{rid}", f"/preview/{rid}/compare/alpha-tool-vs-beta-chat.html"):
        response = desk.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=/"), url
    assert desk.get("/healthz").text == "ok\n"
    refused = post(desk, f"/records/{rid}/approve", {}, page="/login")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "log in first" in refused.text  # type: ignore[attr-defined]
    assert read_record(record).editorial.status == "draft"


def test_login_sets_a_fresh_httponly_samesite_strict_cookie(home: Home, record: Path) -> None:
    desk = client(home, token=TOKEN)
    desk.get("/login")
    assert "panel_desk" not in desk.cookies  # no session before a login
    planted = "planted-session-id-of-an-attacker-0123456789"
    desk.cookies.set("panel_desk", planted)
    response = _login(desk, "  Gina\u200b Editor ", TOKEN)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/?status=draft"  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    after = re.search(r"panel_desk=([^;]+)", cookie)
    assert after and after.group(1) != planted  # a new session id at login
    desk.cookies.set("panel_desk", after.group(1))
    assert Page(desk.get("/").text).classes["editor-name"] == ["Gina Editor"]
    rid = _rid(record)
    post(desk, f"/records/{rid}/reject", {"reason": "Stale pricing."})
    assert read_record(record).editorial.history[-1].by == "Gina Editor"
    old = TestClient(desk.app, base_url=ORIGIN, cookies={"panel_desk": planted})
    assert old.get("/", follow_redirects=False).status_code == 303  # a planted id is nothing
    post(desk, "/logout", {})
    assert desk.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_a_wrong_token_or_no_name_does_not_log_in_and_many_failures_lock_out(
    home: Home,
) -> None:
    desk = client(home, token=TOKEN)
    wrong = _login(desk, "gina", TOKEN + "x")
    where = wrong.headers["location"]  # type: ignore[attr-defined]
    assert where.startswith("/login?")
    assert flashes(desk.get(where).text) == ["that token is not the desk's editor token"]
    assert desk.get("/", follow_redirects=False).status_code == 303
    nameless = _login(desk, " \u200b ", TOKEN)
    where = nameless.headers["location"]  # type: ignore[attr-defined]
    assert where.startswith("/login?")
    assert "give your name" in flashes(desk.get(where).text)[0]
    for _ in range(9):
        _login(desk, "gina", "guess-guess-guess-guess")
    locked = _login(desk, "gina", TOKEN)  # even the right token: too many failures
    assert locked.status_code == 429  # type: ignore[attr-defined]
    assert desk.get("/", follow_redirects=False).status_code == 303


def test_the_public_url_is_the_origin_forms_must_come_from(home: Home, record: Path) -> None:
    app = client(home, token=TOKEN, public_url="https://desk.example.org/").app
    desk = TestClient(app, base_url="https://desk.example.org")  # as the proxy forwards it
    form = desk.get("/login")
    login = {"csrf": csrf(form.text), "name": "gina", "token": TOKEN}
    assert desk.post("/login", data=login, headers={"origin": ORIGIN}).status_code == 403
    ok = desk.post(
        "/login",
        data=login,
        headers={"origin": "https://desk.example.org"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and "Secure" in ok.headers["set-cookie"]


def test_anonymous_requests_store_no_session_and_cannot_log_editors_out(
    home: Home, record: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "MAX_SESSIONS", 3)
    desk = client(home, token=TOKEN)
    state = desk.app.state.desk  # type: ignore[attr-defined]
    _login(desk, "gina", TOKEN)
    stranger = TestClient(desk.app, base_url=ORIGIN)
    for n in range(20):  # cookie-less visitors: the login page, the queue, a record
        stranger.cookies.clear()
        for url in ("/login", "/", f"/records/{_rid(record)}", "/healthz"):
            stranger.get(url, follow_redirects=False)
        stranger.post("/login", data={"csrf": f"x{n}"}, headers={"origin": ORIGIN})
    assert desk.get("/", follow_redirects=False).status_code == 200  # still logged in
    assert len(state.sessions) == 1  # gina's only
    others = [TestClient(desk.app, base_url=ORIGIN) for _ in range(3)]
    for n, other in enumerate(others):
        _login(other, f"editor {n}", TOKEN)
        assert desk.get("/", follow_redirects=False).status_code == 200  # gina keeps using it
    assert len(state.sessions) == 3
    assert others[0].get("/", follow_redirects=False).status_code == 303  # the least recent
    assert others[2].get("/", follow_redirects=False).status_code == 200


# -- headers, escaping, the log ---------------------------------------------------------
def test_every_response_carries_the_sites_csp_and_no_framing(home: Home, record: Path) -> None:
    desk = client(home)
    for url in ("/", f"/records/{_rid(record)}", "/nowhere", "/static/desk.css", "/healthz"):
        response = desk.get(url)
        csp = response.headers["content-security-policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp, url
        assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp, url
        assert response.headers["x-frame-options"] == "DENY", url
        assert response.headers["x-content-type-options"] == "nosniff", url


def _hostile(home: Home) -> Path:
    bad_a, bad_b = _hostile_tool("evil-a", 0), _hostile_tool("evil-b", 3)
    save_rich(home.runs, bad_a, bad_b)  # type: ignore[arg-type]  # the previous record: a diff
    path = save_rich(
        home.runs,
        bad_a,  # type: ignore[arg-type]
        bad_b,  # type: ignore[arg-type]
        quote=lambda p, s, v: f"Quote {XSS[len(p) % len(XSS)]} javascript:alert(6)",
        titles={p: f"{p} {XSS[i]}" for i, p in enumerate(("dx", "competitive", "futurist"))},
        fail=lambda c: c.persona == "competitive",
        pick=lambda p, v, o: "evil-b",
    )
    override(home.runs, path, persona="dx", tool="evil-a", verdict="skip", note=XSS[1], by=XSS[0])
    reject(home.runs, path, XSS[6], XSS[2])
    return path


def test_hostile_text_in_every_field_cannot_break_a_desk_page(home: Home) -> None:
    path = _hostile(home)
    desk = client(home, editor=XSS[3])
    rid = _rid(path)
    pages = {
        "queue": desk.get("/").text,
        "queue filtered": desk.get("/", params={"tool": XSS[0], "since": XSS[3]}).text,
        "record": desk.get(f"/records/{rid}").text,
        "preview": desk.get(f"/preview/{rid}/compare/evil-a-vs-evil-b.html").text,
    }
    for name, text in pages.items():
        text = without_jsonld(text)
        assert "<script" not in text.lower(), name
        assert not any(c in text for c in ("\u202e", "\u200b", "alert(5)")), name
        tags = Page(text).tags
        assert not {t for t, _ in tags} & {"script", "img", "object", "embed"}, name
        attributes = [(attr, value or "") for _, attrs in tags for attr, value in attrs.items()]
        assert [a for a, _ in attributes if a.startswith("on")] == [], name
        links = [v.lower() for a, v in attributes if a in ("href", "src", "action")]
        assert [v for v in links if v.startswith(("javascript:", "data:"))] == [], name
    record = Page(pages["record"]).all_text()
    assert "Evil <script>alert(1)</script> vs Evil" in record  # shown as text, intact
    assert "{{ 7*7 }}" in record and "49" not in record
    assert "</p></blockquote><script>alert(2)</script>" in record  # the override's note
    assert "Quote {{ 7*7 }}{% raw %} javascript:alert(6)" in record  # dx's quote
    assert "Quote <script>alert(1)</script> javascript:alert(6)" in record  # futurist's


def test_the_access_log_names_the_editor_for_every_page_and_action(
    home: Home, record: Path
) -> None:
    (home.root / "panel.toml").write_text('[site]\nbase_url = "https://v.example/"\n')
    desk = client(home, token=TOKEN)
    _login(desk, "gina", "wrong-wrong-wrong-wrong")
    _login(desk, "gina", TOKEN)
    rid = _rid(record)
    post(desk, f"/records/{rid}/approve", {})
    post(desk, "/site/build", {})
    desk.get('/records/x/y%0a2026-01-01T00:00:00Z 1.2.3.4 admin "GET /" 200')
    log = (home.runs / "desk" / "access.log").read_text().splitlines()
    assert (home.runs / "desk" / "access.log").stat().st_mode & 0o777 == 0o600
    assert re.match(r'^\S+Z testclient - "GET /login\?next=/records/x" 200$', log[0])
    assert log[1].endswith("- \"POST /login\" 303 login refused for 'gina': wrong token")
    assert log[3].endswith('gina "POST /login" 303 logged in as gina')
    approved = next(line for line in log if "/approve" in line)
    assert f'gina "POST /records/{rid}/approve" 303 approved {rid}' in approved
    built = next(line for line in log if "/site/build" in line)
    assert f'gina "POST /site/build" 303 published {rid}; site ' in built
    assert sum(1 for line in log if "admin" in line) == 1  # a forged line stays in its line
    assert re.search(r' gina "GET /records/x/y\?2026-01-01T00:00:00Z 1.2.3.4 admin %22GET', log[-1])
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\S+Z \S+ \S+ \"", line) for line in log)


def test_the_desk_works_under_a_reverse_proxy_prefix(home: Home, record: Path) -> None:
    desk = TestClient(client(home).app, base_url=ORIGIN, root_path="/desk")
    page = desk.get("/desk/")
    assert page.status_code == 200
    assert f'href="/desk/records/{_rid(record)}"' in page.text
    assert 'action="/desk/site/build"' in page.text
    response = desk.post(
        f"/desk/records/{_rid(record)}/approve",
        data={"csrf": csrf(page.text)},
        headers={"origin": ORIGIN},
        follow_redirects=False,
    )
    assert response.headers["location"] == f"/desk/records/{_rid(record)}"
    assert "Path=/desk" in page.headers["set-cookie"]
    drafts = desk.get("/desk/?status=draft")
    assert '<input type="hidden" name="next" value="/?status=draft">' in drafts.text
    built = desk.post(
        "/desk/site/build",
        data={"csrf": csrf(page.text), "next": "/?status=draft"},
        headers={"origin": ORIGIN},
        follow_redirects=False,
    )
    assert built.headers["location"] == "/desk/?status=draft"
