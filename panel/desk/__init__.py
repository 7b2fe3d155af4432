"""The editor's desk: `panel serve`, a local web app over runs/ and the store.

Modules, each with one job:

- :mod:`panel.desk.settings`: what the desk serves and who may use it (bind rules, token);
- :mod:`panel.desk.auth`: sessions, login, CSRF tokens, the Origin and Host checks;
- :mod:`panel.desk.index`: the queue, from an in-memory summary cache keyed by file stat;
- :mod:`panel.desk.published`: the only coupling to the site's renderers (page, views, CSP);
- :mod:`panel.desk.material`: the editor's material for one record (calls, seats, diff);
- :mod:`panel.desk.actions`: approve, reject, override, build the site, through the library;
- :mod:`panel.desk.routes` and :mod:`panel.desk.app`: the Starlette routes and the app;
- :mod:`panel.desk.accesslog`: one line per request, with the editor's name;
- :mod:`panel.desk.server`: binding the socket and running uvicorn.
"""

from __future__ import annotations
