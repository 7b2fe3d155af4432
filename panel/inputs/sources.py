"""Intake sources: the ones configured in panel.toml, and files or URLs typed by hand.

A configured source (``[intake.sources.<name>]``) is recorded in the entries it adds
under its name, may update them if ``may_update = true``, and is fetched with
``[intake] deny_private`` (on by default): the nightly imports every configured
source unattended, so a feed cannot point it at loopback or the private network.
A URL typed by hand is fetched as the operator asked (``--deny-private`` turns the
check on); if it is a configured source's address, it counts as that source.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from panel.config import Config, IntakeSource
from panel.controls import for_terminal
from panel.errors import PanelError, UnknownNameError
from panel.inputs.catalog import Catalog
from panel.inputs.intake import ImportReport, Source, hand_typed, import_source
from panel.paths import Home


def _location(home: Home, entry: IntakeSource) -> str:
    if entry.url:
        return entry.url
    path = Path(entry.path or "").expanduser()
    return str(path if path.is_absolute() else home.root / path)


def configured(config: Config, home: Home, name: str) -> Source:
    """The configured source ``name``, fetched under the config's deny_private setting."""
    entry = config.intake.sources.get(name)
    if entry is None:
        known = sorted(config.intake.sources)
        raise UnknownNameError("intake source", name, known, "see [intake.sources] in panel.toml")
    deny = config.intake.deny_private if entry.deny_private is None else entry.deny_private
    return Source(name, _location(home, entry), entry.may_update, config.intake.policy(deny))


def typed(config: Config, home: Home, location: str, deny_private: bool) -> Source:
    """A file or URL from the command line; a configured source's address is that source."""
    policy = config.intake.policy(deny_private)
    for name, entry in config.intake.sources.items():
        known = _location(home, entry)
        same = known == location if entry.url else Path(known).resolve() == _resolved(location)
        if same:
            return Source(name, location, entry.may_update, policy)
    plain = hand_typed(location)
    return Source(plain.label, plain.location, False, policy)


def _resolved(location: str) -> Path | None:
    return None if "://" in location else Path(location).expanduser().resolve()


def import_configured(
    home: Home, config: Config, names: list[str] | None = None
) -> list[tuple[str, ImportReport | PanelError]]:
    """Import each configured source (all of them by default); one failing source stops none."""
    chosen = [configured(config, home, name) for name in names or sorted(config.intake.sources)]
    catalog = Catalog.load(home.catalog)
    results: list[tuple[str, ImportReport | PanelError]] = []
    for source in chosen:  # every name was checked above: a typo is a usage error
        try:
            results.append((source.label, import_source(catalog, source)))
        except PanelError as exc:
            results.append((source.label, exc))
    return results


def report_lines(name: str, outcome: ImportReport | PanelError) -> list[str]:
    """Log lines for one source's import, safe to print to a terminal."""
    if isinstance(outcome, PanelError):
        return [for_terminal(f"intake {name}: error: {outcome}")]
    lines = [f"intake {name}: {outcome.summary()}"]
    lines += [f"intake {name}: added {slug}" for slug in outcome.added]
    lines += [f"intake {name}: updated {slug}" for slug in outcome.updated]
    lines += [f"intake {name}: conflict {c}" for c in outcome.conflicts]
    lines += [f"intake {name}: skipped {s}" for s in outcome.skipped]
    return [for_terminal(line) for line in lines]


def refresh(home: Home, log: Callable[[str], None]) -> None:
    """The nightly's intake: every configured source, each outcome logged."""
    config = Config.load(home.config_file)
    if not config.intake.sources:
        return
    for name, outcome in import_configured(home, config):
        for line in report_lines(name, outcome):
            log(line)
