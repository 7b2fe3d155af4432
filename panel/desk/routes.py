"""The desk's routes: the queue, a record, its published page, the actions, the login.

====================================  ===================================================
``GET /``                             the queue (filters: status, tool, since, until,
                                      flag; page, per)
``GET /records/<day>/<name>``         a record: the page as it will publish, and the
                                      editor's material beside it
``GET /preview/<day>/<name>/…``       the published page, its JSON and stylesheet, exactly
                                      as the site build writes them (framed by the record)
``POST /records/<day>/<name>/approve``  approve (``confirm=yes`` for an incomplete record)
``POST /records/<day>/<name>/reject``   reject with a ``reason``
``POST /records/<day>/<name>/override`` ``persona``, ``tool``, ``verdict``, ``note``
``POST /site/build``                  ``panel site build`` into the desk's site folder
``GET /seats``                        `panel seats` and its cost-against-editors plot
``GET|POST /login``, ``POST /logout``  with an editor token
``GET /static/…``, ``/healthz``       no session needed
====================================  ===================================================

Every POST answers with a redirect (303) to a page that shows what happened.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from panel import clock
from panel.desk import actions
from panel.desk.app import (
    TEMPLATES,
    Desk,
    FormHandler,
    RefusedError,
    action,
    check_origin,
    checked,
    create_app,
    note,
    page,
    read_form,
)
from panel.desk.auth import (
    COOKIE,
    KNOWN_COOKIE,
    KNOWN_DAYS,
    LOGIN_COOKIE,
    Session,
    safe_next,
    same_secret,
)
from panel.desk.index import FLAGS, PAGE_SIZES, STATES, age, parse_filters
from panel.desk.material import material, usd
from panel.desk.published import (
    STATIC,
    page_csp,
    page_file,
    published_data,
    published_page,
    views,
    when,
)
from panel.desk.seats import seats_page
from panel.desk.settings import DeskSettings
from panel.errors import PanelError
from panel.inputs.votes import stored_votes
from panel.publish.siteconfig import configured
from panel.records import editorial
from panel.records.publication import shown_state, stand_in_note, stand_ins
from panel.records.schema import ComparisonRecord

MEDIA = {".html": "text/html; charset=utf-8", ".json": "application/json", ".css": "text/css"}


def _record_id(request: Request) -> str:
    return f"{request.path_params['day']}/{request.path_params['name']}"


def _load(desk: Desk, record_id: str) -> ComparisonRecord:
    """The record, or a 404 refusal saying why (no such id, or an unreadable file)."""
    try:
        return actions.load(desk.settings.home.runs, record_id)[1]
    except PanelError as exc:
        raise RefusedError(404, str(exc)) from None


# -- pages -------------------------------------------------------------------
async def queue(desk: Desk, request: Request, session: Session) -> Response:
    filters, notices = parse_filters(request.query_params)
    found = await run_in_threadpool(desk.index.page, filters)

    def link(**changes: object) -> str:
        return "?" + urlencode(filters.query(**changes))

    return desk.render(
        request,
        session,
        "queue.html.j2",
        found=found,
        filters=filters,
        notices=notices,
        now=clock.now(),
        age=age,
        usd=usd,
        states=STATES,
        flags=FLAGS,
        sizes=PAGE_SIZES,
        link=link,
    )


def _record_context(desk: Desk, record_id: str) -> dict[str, Any]:
    runs = desk.settings.home.runs
    record = _load(desk, record_id)
    effect = editorial.page_effect(runs, runs / f"{record.id}.json", record)
    state = shown_state(record.editorial.status, effect.live == record.id)
    view, editor = views(record, stored_votes(runs), state)
    previous_id = desk.index.previous(record)
    previous = None
    if previous_id is not None:
        try:
            previous = actions.load(runs, previous_id)[1]
        except PanelError:
            previous = None
    return {
        "record": record,
        "view": view,
        "editor": editor,
        "material": material(record, view, editor, previous),
        "effect": effect.message,
        "live": effect.live == record.id,
        "stand_in": stand_in_note(stand_ins(record)),
        "page": page_file(record),
        "created": when(record.created_at),
        "version": editorial.version(record),
    }


async def record_page(desk: Desk, request: Request, session: Session) -> Response:
    context = await run_in_threadpool(_record_context, desk, _record_id(request))
    return desk.render(request, session, "record.html.j2", **context)


def _preview(desk: Desk, record_id: str, rest: str) -> tuple[bytes, str, str | None]:
    """(bytes, media type, the page's own CSP) for one file of the published page."""
    runs = desk.settings.home.runs
    record = _load(desk, record_id)
    name = page_file(record)
    if rest in STATIC:
        return STATIC[rest].read_bytes(), MEDIA.get(STATIC[rest].suffix, "image/svg+xml"), None
    options = configured(desk.settings.home, desk.settings.site_out, desk.settings.base_url, True)
    if rest == f"compare/{name}.html":
        body = published_page(record, stored_votes(runs), options, runs)
        return body, MEDIA[".html"], page_csp(options)
    if rest == f"compare/{name}.json":
        return published_data(record, stored_votes(runs)), MEDIA[".json"], None
    raise RefusedError(
        404,
        "the preview holds this record's page only; tool pages and the index come from the "
        "site build",
    )


async def preview(desk: Desk, request: Request, session: Session) -> Response:
    record_id, rest = _record_id(request), request.path_params["rest"]
    try:
        body, media, csp = await run_in_threadpool(_preview, desk, record_id, rest)
    except PanelError as exc:  # panel.toml that does not load
        raise RefusedError(500, str(exc)) from None
    headers = {"X-Frame-Options": "SAMEORIGIN"}
    if csp:
        headers["Content-Security-Policy"] = csp
    return Response(body, media_type=media, headers=headers)


LOGIN_FAILURES = {  # ?failed=… on the login page: fixed text, never from the request
    "token": "that token is not the desk's editor token",
    "name": "give your name: it goes into the records' history",
    "stale": "the login form was stale; log in again",
}


async def login_page(desk: Desk, request: Request) -> Response:
    """The login form: no session is stored for it, only a nonce cookie for its CSRF check."""
    back = safe_next(request.query_params.get("next"))
    session = desk.sessions.get(request.cookies.get(COOKIE))
    if not desk.settings.needs_login or (session is not None and session.editor is not None):
        return desk.redirect(request, back)
    nonce = desk.login_forms.nonce(request.cookies.get(LOGIN_COOKIE))
    failed = LOGIN_FAILURES.get(request.query_params.get("failed", ""))
    response = desk.render(
        request,
        None,
        "login.html.j2",
        next=back,
        csrf=desk.login_forms.token(nonce),
        flashes=[("error", failed)] if failed else [],
    )
    if request.cookies.get(LOGIN_COOKIE) != nonce:
        desk.remember(request, response, nonce, LOGIN_COOKIE)
    return response


# -- actions -----------------------------------------------------------------
async def _act(
    desk: Desk,
    request: Request,
    session: Session,
    work: Callable[[], str | list[tuple[str, str]]],
    back: str,
) -> Response:
    """Run an action; flash its lines (or its refusal), log them; redirect to ``back``."""
    try:
        done = await run_in_threadpool(work)
    except actions.NoSuchRecordError as exc:
        raise RefusedError(404, str(exc)) from None
    except PanelError as exc:
        session.flash("error", str(exc))
        note(request, action=f"refused: {exc}")
    else:
        lines = [("ok", done)] if isinstance(done, str) else done
        for kind, line in lines:
            session.flash(kind, line)
        note(request, action="; ".join(line for _, line in lines))
    return desk.redirect(request, back)


RecordWork = Callable[[Path, str, str, dict[str, str]], str]  # runs, id, editor, form


def _on_record(work: RecordWork) -> FormHandler:
    """A form handler that runs ``work`` on the URL's record and goes back to its page."""

    async def handler(
        desk: Desk, request: Request, session: Session, form: dict[str, str]
    ) -> Response:
        record_id, runs, editor = _record_id(request), desk.settings.home.runs, session.editor
        assert editor is not None  # action() refuses a session without one

        def run() -> str:
            return work(runs, record_id, editor, form)

        return await _act(desk, request, session, run, f"/records/{record_id}")

    return handler


def _approve(runs: Path, record_id: str, by: str, form: dict[str, str]) -> str:
    version = actions.form_version(form.get("version"))
    return actions.approve(runs, record_id, by, form.get("confirm") == "yes", version)


def _reject(runs: Path, record_id: str, by: str, form: dict[str, str]) -> str:
    version = actions.form_version(form.get("version"))
    return actions.reject(runs, record_id, by, form.get("reason", ""), version)


def _override(runs: Path, record_id: str, by: str, form: dict[str, str]) -> str:
    fields = {k: form.get(k, "") for k in ("persona", "tool", "verdict", "note")}
    version = actions.form_version(form.get("version"))
    return actions.override(runs, record_id, by, **fields, version=version)


async def build_site(
    desk: Desk, request: Request, session: Session, form: dict[str, str]
) -> Response:
    work = functools.partial(actions.build_site, desk.settings)
    return await _act(desk, request, session, work, safe_next(form.get("next")))


async def login(desk: Desk, request: Request) -> Response:
    """The login POST: the Origin, the login form's CSRF check, the limiter, the token."""
    check_origin(desk, request)
    form = await read_form(request)
    back = safe_next(form.get("next"))

    def again(why: str) -> Response:
        return desk.redirect(request, f"/login?{urlencode({'next': back, 'failed': why})}")

    if not desk.login_forms.valid(request.cookies.get(LOGIN_COOKIE), form.get("csrf", "")):
        raise RefusedError(
            403, "the form's CSRF token is missing or stale; reload the page and submit again"
        )
    token = desk.settings.token
    if token is None:  # nothing to log in to (and no form to post: the page redirects)
        return desk.redirect(request, back)
    client = request.client.host if request.client else "-"
    known = desk.known.check(request.cookies.get(KNOWN_COOKIE))
    blocked = desk.limiter.blocked(client, known)
    if blocked:
        note(request, action=f"login refused: {blocked}")
        raise RefusedError(429, blocked)
    name = form.get("name", "")
    if not same_secret(form.get("token", ""), token):
        desk.limiter.failed(client, known)
        note(request, action=f"login refused for {name[:80]!r}: wrong token")
        return again("token")
    try:
        editor = editorial.editor(name)
    except PanelError:
        return again("name")
    desk.limiter.succeeded(known)
    fresh = desk.sessions.replace(desk.sessions.get(request.cookies.get(COOKIE)), editor)
    note(request, editor=editor, action=f"logged in as {editor}")
    response = desk.redirect(request, back)
    desk.remember(request, response, fresh.sid)
    days = KNOWN_DAYS * 24 * 3600
    desk.remember(request, response, desk.known.issue(known), KNOWN_COOKIE, days)
    response.delete_cookie(LOGIN_COOKIE, path=desk.base(request) or "/")
    return response


async def logout(desk: Desk, request: Request, session: Session, form: dict[str, str]) -> Response:
    desk.sessions.drop(session)
    note(request, action="logged out")
    response = desk.redirect(request, "/login" if desk.settings.needs_login else "/")
    response.delete_cookie(COOKIE, path=desk.base(request) or "/")
    return response


# -- no session --------------------------------------------------------------
async def stylesheet(request: Request) -> Response:
    return FileResponse(TEMPLATES / "desk.css", media_type=MEDIA[".css"])


async def favicon(request: Request) -> Response:
    return FileResponse(STATIC["favicon.svg"], media_type="image/svg+xml")  # the site's own


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


ROUTES = [
    Route("/", page(queue), methods=["GET"]),
    Route("/records/{day}/{name}", page(record_page), methods=["GET"]),
    Route("/preview/{day}/{name}/{rest:path}", page(preview), methods=["GET"]),
    Route("/records/{day}/{name}/approve", action(_on_record(_approve)), methods=["POST"]),
    Route("/records/{day}/{name}/reject", action(_on_record(_reject)), methods=["POST"]),
    Route("/records/{day}/{name}/override", action(_on_record(_override)), methods=["POST"]),
    Route("/site/build", action(build_site), methods=["POST"]),
    Route("/seats", page(seats_page), methods=["GET"]),
    Route("/login", checked(login_page), methods=["GET"]),
    Route("/login", checked(login), methods=["POST"]),
    Route("/logout", action(logout, login=False), methods=["POST"]),
    Route("/static/desk.css", stylesheet, methods=["GET"]),
    Route("/static/favicon.svg", favicon, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]


def desk_app(
    settings: DeskSettings,
    log_stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The desk for ``settings``: the ASGI app `panel serve` runs."""
    return create_app(settings, list(ROUTES), log_stream, clock)
