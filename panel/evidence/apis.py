"""Machine-readable sources (``apis``): a GitHub-style repository API, PyPI's and npm's JSON.

A ``repository`` source is a ``https://github.com/OWNER/REPO`` page; panel reads
``{repository_api}/repos/OWNER/REPO`` (stars, forks, licence, last push) and
``…/releases/latest``. A ``package`` source is ``https://pypi.org/project/NAME/`` (read as
``{pypi_api}/pypi/NAME/json``) or ``https://www.npmjs.com/package/NAME`` (``{npm_api}/NAME``).
Each answer becomes a few facts (plain JSON values, kept with the snapshot so a 304 needs
no body), and the facts become short factual text: what the reviewer is shown.
Everything read is untrusted: only expected fields of expected types are taken, as text
of bounded length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from panel.errors import PanelError
from panel.evidence.pack import SourceKind

Facts = dict[str, str | int | bool | None]
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_PYPI = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,200})$")
_NPM = re.compile(r"^(?:@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]{0,213}$")
_MAX_FIELD = 300


@dataclass(frozen=True)
class Apis:
    """Where the machine-readable sources are read (``[evidence]`` in panel.toml)."""

    repository: str = "https://api.github.com"
    pypi: str = "https://pypi.org"
    npm: str = "https://registry.npmjs.org"
    repository_token: str = field(default="", repr=False)  # from the environment, if set

    def auth(self, request: ApiRequest) -> dict[str, str]:
        """The Authorization header for a repository API request, if a token is set."""
        if not self.repository_token or request.reader not in ("repo", "release"):
            return {}
        return {"Authorization": f"Bearer {self.repository_token}"}


@dataclass(frozen=True)
class ApiRequest:
    """One request of a machine-readable source, and how its answer is read."""

    url: str
    reader: str  # "repo", "release", "pypi" or "npm"
    optional: bool = False  # a 404 is an answer ("no release yet"), not a failure


def requests_for(url: str, kind: SourceKind, apis: Apis) -> list[ApiRequest]:
    """The API requests that read a repository or package source (a PanelError if its
    URL is not one panel can read)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if kind is SourceKind.REPOSITORY:
        if host != "github.com" or len(segments) < 2:
            raise PanelError(
                f"{url}: a repository source is a GitHub repository page, "
                "https://github.com/OWNER/REPO; list other pages as kind homepage or docs"
            )
        owner, repo = segments[0], segments[1].removesuffix(".git")
        if not (_OWNER.match(owner) and _REPO.match(repo)):
            raise PanelError(f"{url}: {owner}/{repo} is not a GitHub OWNER/REPO name")
        base = f"{apis.repository.rstrip('/')}/repos/{owner}/{repo}"
        return [ApiRequest(base, "repo"), ApiRequest(f"{base}/releases/latest", "release", True)]
    if host == "pypi.org" and len(segments) >= 2 and segments[0] == "project":
        if not _PYPI.match(segments[1]):
            raise PanelError(f"{url}: {segments[1]!r} is not a PyPI project name")
        return [ApiRequest(f"{apis.pypi.rstrip('/')}/pypi/{segments[1]}/json", "pypi")]
    if host == "npmjs.com" and len(segments) >= 2 and segments[0] == "package":
        name = "/".join(segments[1:3]) if segments[1].startswith("@") else segments[1]
        if not _NPM.match(name):
            raise PanelError(f"{url}: {name!r} is not an npm package name")
        return [ApiRequest(f"{apis.npm.rstrip('/')}/{quote(name, safe='@')}", "npm")]
    raise PanelError(
        f"{url}: a package source is a PyPI or npm page, https://pypi.org/project/NAME/ "
        "or https://www.npmjs.com/package/NAME; list other pages as kind homepage or docs"
    )


def read_answer(request: ApiRequest, body: bytes | None) -> Facts:
    """The facts of one answer (``None``: the optional request answered 404)."""
    if body is None:
        return {"missing": True}
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise PanelError(f"{request.url}: not JSON; is the API address right?") from None
    if not isinstance(data, dict):
        raise PanelError(f"{request.url}: expected a JSON object")
    return _READERS[request.reader](data)


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.split())[:_MAX_FIELD]


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _day(value: object) -> str | None:
    text = _text(value)
    return text[:10] if text and re.match(r"^\d{4}-\d{2}-\d{2}", text) else None


def _sub(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _repo(data: Mapping[str, Any]) -> Facts:
    licence = _sub(data, "license")
    return {
        "name": _text(data.get("full_name")),
        "description": _text(data.get("description")),
        "stars": _count(data.get("stargazers_count")),
        "forks": _count(data.get("forks_count")),
        "open_issues": _count(data.get("open_issues_count")),
        "licence": _text(licence.get("spdx_id")) or _text(licence.get("name")),
        "pushed": _day(data.get("pushed_at")),
        "archived": data.get("archived") if isinstance(data.get("archived"), bool) else None,
    }


def _release(data: Mapping[str, Any]) -> Facts:
    return {"tag": _text(data.get("tag_name")), "published": _day(data.get("published_at"))}


def _pypi(data: Mapping[str, Any]) -> Facts:
    info = _sub(data, "info")
    files = data.get("urls")
    uploaded = None
    if isinstance(files, list) and files and isinstance(files[0], dict):
        uploaded = _day(files[0].get("upload_time_iso_8601") or files[0].get("upload_time"))
    licence = _text(info.get("license_expression")) or _text(info.get("license"))
    return {
        "registry": "PyPI",
        "name": _text(info.get("name")),
        "summary": _text(info.get("summary")),
        "version": _text(info.get("version")),
        "released": uploaded,
        "licence": licence[:100] if licence else None,
    }


def _npm(data: Mapping[str, Any]) -> Facts:
    latest = _text(_sub(data, "dist-tags").get("latest"))
    times = _sub(data, "time")
    manifest = _sub(_sub(data, "versions"), latest or "")
    licence = manifest.get("license", data.get("license"))
    if isinstance(licence, dict):
        licence = licence.get("type")
    return {
        "registry": "npm",
        "name": _text(data.get("name")),
        "summary": _text(data.get("description")),
        "version": latest,
        "released": _day(times.get(latest or "")),
        "licence": _text(licence),
    }


_READERS = {"repo": _repo, "release": _release, "pypi": _pypi, "npm": _npm}


def _number(value: str | int | bool | None) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "unknown"


def describe(kind: SourceKind, parts: list[Facts]) -> tuple[str, str]:
    """(title, text) of a machine-readable source from its answers' facts."""
    if kind is SourceKind.REPOSITORY:
        repo, release = parts[0], parts[1] if len(parts) > 1 else {"missing": True}
        name = repo.get("name") or "repository"
        lines = [f"Repository {name} on GitHub."]
        if repo.get("description"):
            lines.append(f"Description: {repo['description']}")
        lines.append(
            f"Stars: {_number(repo.get('stars'))}. Forks: {_number(repo.get('forks'))}. "
            f"Open issues: {_number(repo.get('open_issues'))}."
        )
        lines.append(f"Licence: {repo.get('licence') or 'none stated'}.")
        if repo.get("pushed"):
            lines.append(f"Last push: {repo['pushed']}.")
        if repo.get("archived"):
            lines.append("The repository is archived (read-only).")
        if release.get("missing") or not release.get("tag"):
            lines.append("Latest release: none published.")
        else:
            when = f", published {release['published']}" if release.get("published") else ""
            lines.append(f"Latest release: {release['tag']}{when}.")
        return f"{name} on GitHub", "\n".join(lines)
    facts = parts[0]
    registry, name = facts.get("registry") or "registry", facts.get("name") or "package"
    lines = [f"Package {name} on {registry}."]
    if facts.get("summary"):
        lines.append(f"Summary: {facts['summary']}")
    if facts.get("version"):
        when = f", released {facts['released']}" if facts.get("released") else ""
        lines.append(f"Latest version: {facts['version']}{when}.")
    lines.append(f"Licence: {facts.get('licence') or 'none stated'}.")
    return f"{name} on {registry}", "\n".join(lines)
