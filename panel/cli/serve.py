"""`panel serve`: the editor's desk, a local web app over runs/ (see panel.desk)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from panel.cli._common import home, user_errors
from panel.records.editorial import editor


def serve_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; anything but loopback needs a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any).")] = 8765,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file", help="File holding the editor token (else $PANEL_EDITOR_TOKEN)."
        ),
    ] = None,
    site_out: Annotated[
        Path,
        typer.Option("--site-out", help="Where “Build the site” writes, as `site build --out`."),
    ] = Path("site"),
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Public URL of the site; default \\[site] base_url."),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option("--public-url", help="The desk's URL behind a reverse proxy (needs a token)."),
    ] = None,
    root_path: Annotated[
        str, typer.Option("--root-path", help="URL prefix the reverse proxy serves the desk at.")
    ] = "",
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Send the session cookie over https only (default: when --public-url is https).",
        ),
    ] = None,
    access_log: Annotated[
        Path | None,
        typer.Option("--access-log", help="Access log file; default runs/desk/access.log."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="The editor's name without a token; default $USER."),
    ] = None,
) -> None:
    """The editor's desk in a browser: the queue, each record as it will publish, the actions.

    Binds 127.0.0.1 by default, where no login is needed. Any other --host, or a
    --public-url, needs an editor token; editors then log in with their name.
    """
    from panel.config import Config
    from panel.desk import server  # imported here: `panel` starts without it
    from panel.desk.routes import desk_app
    from panel.desk.settings import desk_settings, read_token, token_file_warning

    with user_errors():
        where = home()
        token = read_token(os.environ, token_file)
        settings = desk_settings(
            where,
            host=host,
            site_out=site_out,
            editor=editor(by) if token is None else "",
            token=token,
            base_url=base_url,
            public_url=public_url,
            secure_cookies=secure_cookies,
            access_log=access_log,
            trusted_proxies=tuple(Config.load(where.config_file).desk.trusted_proxies),
        )
        prefix = server.root_path(root_path)
        app = desk_app(settings, log_stream=sys.stderr)
        sock = server.listen(host, port)
    warning = token_file_warning(token_file)
    if warning:
        print(f"panel: warning: {warning}", file=sys.stderr)
    who = "editors log in with the token" if token else f"editor {settings.editor}, no login"
    log = settings.access_log or where.runs / "desk" / "access.log"
    behind = f"; the proxy serves it under {prefix}/" if prefix else ""
    print(f"panel desk: {server.address(sock)}/ ({who}{behind}); access log {log}", flush=True)
    server.run(app, sock, prefix)
