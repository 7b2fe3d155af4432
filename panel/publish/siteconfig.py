"""The site build as its callers run it (`panel site build`, the editor's desk).

Its options from panel.toml's [site] (``--base-url`` over ``base_url``), and what a
build did, in one line.
"""

from __future__ import annotations

from pathlib import Path

from panel.config import Config
from panel.errors import PanelError
from panel.paths import Home
from panel.publish.site import BuildReport, SiteOptions

NO_BASE_URL = (
    "the site needs its public URL for feeds and the sitemap; "
    "set [site] base_url in panel.toml or pass --base-url https://..."
)


def configured(home: Home, out: Path, url: str | None = None, preview: bool = False) -> SiteOptions:
    """The build's options: panel.toml's [site], with ``url`` (--base-url) over its base_url.

    ``preview``: options for rendering a page before the site has a public URL (the
    editor's desk); the page's canonical link is then relative.
    """
    site = Config.load(home.config_file).site
    chosen = url or site.base_url
    if not chosen and not preview:
        raise PanelError(NO_BASE_URL)
    return SiteOptions.of(site, out, chosen or "")


def summary(report: BuildReport) -> str:
    """What the build did, in one line."""
    return (
        f"site {report.out}: {_n(report.comparisons, 'comparison')}, "
        f"{_n(report.tools, 'tool page')}; {_n(len(report.written), 'file')} written, "
        f"{report.unchanged} unchanged, {len(report.removed)} removed"
        + (f"; {report.modes_fixed} file modes fixed" if report.modes_fixed else "")
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
