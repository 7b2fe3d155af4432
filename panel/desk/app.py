"""The desk's ASGI app: its state, the checks every request goes through, the headers.

:func:`create_app` builds a Starlette app from :class:`DeskSettings`. Every
response carries the desk's Content-Security-Policy (the site's policy, with forms
allowed to post to the desk itself and frames only from it), and every request is
written to the access log with the editor's name. Pages go through :func:`page`
and forms through :func:`action`, which check the Host, the session, the login,
and for a form its Origin and CSRF token; a refusal is a short page with its reason.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from panel.desk.accesslog import AccessLog
from panel.desk.auth import (
    COOKIE,
    KnownBrowsers,
    LoginForms,
    LoginLimiter,
    Session,
    Sessions,
    host_problem,
    origin_problem,
    same_secret,
)
from panel.desk.index import QueueIndex
from panel.desk.published import DESK_CSP, site_environment
from panel.desk.settings import DeskSettings

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_FORM = 64 * 1024
NOTE = "panel.desk"  # the scope key the access log reads the editor and the action from
HEADERS = {
    "Content-Security-Policy": DESK_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class RefusedError(Exception):
    """A request the desk will not serve: its status and the one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@functools.cache
def environment() -> jinja2.Environment:
    """The site's template settings (autoescape, strict), with the desk's templates."""
    return site_environment(TEMPLATES)


class Desk:
    """What the app keeps between requests: the queue index, sessions, the log."""

    def __init__(
        self,
        settings: DeskSettings,
        log_stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.index = QueueIndex(settings.home.runs)
        self.sessions = Sessions(settings.session_hours * 3600, clock)
        self.limiter = LoginLimiter(clock)
        self.login_forms = LoginForms()
        self.known = KnownBrowsers(settings.token)
        access = settings.access_log or settings.home.runs / "desk" / "access.log"
        self.log = AccessLog(access, log_stream)

    # -- request checks ------------------------------------------------------
    def own_origin(self, request: Request) -> str:
        return self.settings.public_origin or f"{request.url.scheme}://{request.url.netloc}"

    def check_host(self, request: Request) -> None:
        problem = host_problem(
            request.headers.get("host", ""),
            self.settings.needs_login,
            request.headers,
            str(request.scope.get("http_version", "1.1")),
        )
        if problem:
            raise RefusedError(421 if "answers only" in problem else 403, problem)

    def session_for(self, request: Request) -> tuple[Session | None, bool]:
        """The request's session; without a token a new one (True) for the local editor.

        With a token, a visitor without a session gets none: only a login stores one.
        """
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is not None or self.settings.needs_login:
            return session, False
        return self.sessions.new(self.settings.editor), True

    # -- responses -----------------------------------------------------------
    def base(self, request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def render(
        self,
        request: Request,
        session: Session | None,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        context.setdefault("csrf", session.csrf if session else "")
        context.setdefault("flashes", session.take_flashes() if session else [])
        html = (
            environment()
            .get_template(template)
            .render(
                base=self.base(request),
                me=session.editor if session else None,
                login=self.settings.needs_login,
                here=self.local_path(request, query=True),
                **context,
            )
        )
        return HTMLResponse(html, status)

    def local_path(self, request: Request, query: bool = False) -> str:
        """The request's path inside the desk (without the proxy's prefix), for links back."""
        path = request.url.path.removeprefix(self.base(request)) or "/"
        return path + (f"?{request.url.query}" if query and request.url.query else "")

    def redirect(self, request: Request, path: str) -> RedirectResponse:
        """Post-redirect-get: 303 to a local path."""
        return RedirectResponse(self.base(request) + path, status_code=303)

    def remember(
        self,
        request: Request,
        response: Response,
        value: str,
        name: str = COOKIE,
        max_age: int | None = None,
    ) -> None:
        """Set a desk cookie (the session id by default): HttpOnly, SameSite=Strict."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="strict",
            secure=self.settings.secure_cookies,
            path=self.base(request) or "/",
        )

    def refusal(self, request: Request, refused: RefusedError) -> HTMLResponse:
        note(request, action=f"refused: {refused.message}")
        return self.render(request, None, "refused.html.j2", refused.status, reason=refused.message)


def note(request: Request, **values: str | None) -> None:
    """What the access log line of this request says: the editor, the action."""
    request.scope.setdefault(NOTE, {}).update(values)


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form (the desk's forms are plain), at most ``MAX_FORM`` bytes."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise RefusedError(413, f"the form is over {MAX_FORM // 1024} KB")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and kind != "application/x-www-form-urlencoded":
        raise RefusedError(415, "the desk takes plain form posts only")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise RefusedError(400, "the form is not UTF-8 text in a plain form post") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)  # the first of a repeated field counts
    return form


Handler = Callable[[Desk, Request], Awaitable[Response]]
PageHandler = Callable[[Desk, Request, Session], Awaitable[Response]]
FormHandler = Callable[[Desk, Request, Session, dict[str, str]], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def desk_of(request: Request) -> Desk:
    desk = request.app.state.desk
    assert isinstance(desk, Desk)
    return desk


def checked(run: Handler) -> Endpoint:
    """An endpoint: the Host check, then ``run``; a refusal becomes its short page."""

    async def endpoint(request: Request) -> Response:
        desk = desk_of(request)
        try:
            desk.check_host(request)
            return await run(desk, request)
        except RefusedError as refused:
            return desk.refusal(request, refused)

    return endpoint


def page(handler: PageHandler) -> Endpoint:
    """A GET page for an editor: a session (made on the first visit without a token), or a
    redirect to the login."""

    async def run(desk: Desk, request: Request) -> Response:
        session, new = desk.session_for(request)
        note(request, editor=session.editor if session else None)
        if session is None or session.editor is None:
            target = quote(desk.local_path(request))
            return desk.redirect(request, f"/login?next={target}")
        response = await handler(desk, request, session)
        if new:
            desk.remember(request, response, session.sid)
        return response

    return checked(run)


def check_origin(desk: Desk, request: Request) -> None:
    problem = origin_problem(request.headers, desk.own_origin(request))
    if problem:
        raise RefusedError(403, f"cross-site form refused: {problem}")


def action(handler: FormHandler, login: bool = True) -> Endpoint:
    """A form POST: the Origin, an existing session, its CSRF token, a login."""

    async def run(desk: Desk, request: Request) -> Response:
        check_origin(desk, request)
        session = desk.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            if desk.settings.needs_login:
                raise RefusedError(403, "log in first")
            raise RefusedError(
                403, "no desk session (expired, or the desk restarted); open the page again"
            )
        note(request, editor=session.editor)
        form = await read_form(request)
        if not same_secret(form.get("csrf", ""), session.csrf):
            raise RefusedError(
                403, "the form's CSRF token is missing or stale; reload the page and submit again"
            )
        if login and session.editor is None:
            raise RefusedError(403, "log in first")
        return await handler(desk, request, session, form)

    return checked(run)


class Guard:
    """Security headers on every response; an access-log line for every request."""

    def __init__(self, app: ASGIApp, desk: Desk) -> None:
        self.app = app
        self.desk = desk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[NOTE] = {}
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            client = scope.get("client")
            noted = scope.get(NOTE, {})
            if "editor" not in noted:  # a route without a page: the session still names them
                session = self.desk.sessions.get(Request(scope).cookies.get(COOKIE))
                noted["editor"] = session.editor if session else None
            self.desk.log.write(
                client[0] if client else "-",
                noted.get("editor"),
                scope.get("method", "-"),
                scope.get("path", "") + (f"?{query}" if query else ""),
                status,
                noted.get("action") or "",
            )


def create_app(
    settings: DeskSettings,
    routes: list[BaseRoute],
    log_stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    desk = Desk(settings, log_stream, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Read every record once in the background, so the first queue page is quick.
        threading.Thread(target=desk.index.refresh, name="desk-index", daemon=True).start()
        yield
        desk.log.close()

    middleware = [Middleware(Guard, desk=desk)]
    if settings.trusted_proxies:  # outermost: the log and the limiter see the real client
        trusted = list(settings.trusted_proxies)
        middleware.insert(0, Middleware(ProxyHeadersMiddleware, trusted_hosts=trusted))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.desk = desk
    return app
