"""The desk's actions, through the same library functions as the CLI.

Approve, reject and override go through :mod:`panel.records.editorial` (its lock, its
history with who and when, its atomic rewrite); "build the site" is
:func:`panel.publish.site.build` with ``panel site build``'s options. A record is
named only by its id, and an id is looked up in runs/ only: the desk never takes
a path from a form or a URL. Each action returns the one line the editor sees
after the redirect; a refusal is a :class:`PanelError` with the line saying why.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from panel.desk.settings import DeskSettings
from panel.errors import PanelError
from panel.publish.site import build
from panel.publish.siteconfig import configured, summary
from panel.records import editorial
from panel.records.ids import is_record_id
from panel.records.io import load_in_runs, resolve_in_runs
from panel.records.publication import shortfall, shortfall_fix, stand_in_note, stand_ins
from panel.records.schema import ComparisonRecord, Verdict


class NoSuchRecordError(PanelError):
    """The id is not a record id, or no record has it in runs/."""


def record_path(runs: Path, record_id: str) -> Path:
    """The file of the record ``record_id`` in runs/; never anything outside it."""
    if not is_record_id(record_id):
        raise NoSuchRecordError(f"{record_id[:80]!r} is not a record id")
    try:
        return resolve_in_runs(runs, record_id)
    except PanelError as exc:
        raise NoSuchRecordError(str(exc)) from None


def load(runs: Path, record_id: str) -> tuple[Path, ComparisonRecord]:
    path = record_path(runs, record_id)
    record, _ = load_in_runs(runs, path)
    return path, record


def form_version(value: str | None) -> int:
    """The record version a form was made on (its ``version`` field); required."""
    if value is None or not value.isdigit() or len(value) > 9:
        raise editorial.StaleRecordError(
            "the form does not say which version of the record it was made on; "
            "reload the record and decide again"
        )
    return int(value)


def approve(runs: Path, record_id: str, by: str, confirmed: bool, version: int) -> str:
    """Approve; an incomplete record only with ``confirmed`` (the form's checkbox).

    ``version`` is the record's editorial version the form was made on: if the record
    changed since (another editor acted), nothing is done and the editor asked again.
    """
    path, record = load(runs, record_id)
    short = shortfall(record)
    if short is not None and not confirmed:
        raise PanelError(
            f"record {record.id} is incomplete: {short.counts()}, quorum ({short.rule}) not met; "
            "tick “approve with a below-quorum notice” to publish it anyway, or "
            f"{shortfall_fix(record, short)}"
        )
    fake = stand_ins(record)
    if fake and not confirmed:
        raise PanelError(
            f"record {record.id} has answers that are not a real review ({stand_in_note(fake)}); "
            "tick “approve anyway” to publish it, or review the pair on real providers"
        )
    done = editorial.approve(runs, path, by, force=confirmed, expected=version)
    effect = editorial.page_effect(runs, path, done)
    notice = " with a below-quorum notice" if short is not None else ""
    return f"approved {done.id}{notice}; {effect.message}"


def reject(runs: Path, record_id: str, by: str, reason: str, version: int) -> str:
    path = record_path(runs, record_id)
    done = editorial.reject(runs, path, by, reason, expected=version)
    effect = editorial.page_effect(runs, path, done)
    return f"rejected {done.id}; {effect.message}"


def override(
    runs: Path,
    record_id: str,
    by: str,
    *,
    persona: str,
    tool: str,
    verdict: str,
    note: str,
    version: int,
) -> str:
    choices = get_args(Verdict)
    if verdict not in choices:
        raise PanelError(f"the verdict must be one of {', '.join(choices)}, not {verdict[:20]!r}")
    path = record_path(runs, record_id)
    done = editorial.override(
        runs,
        path,
        persona=persona,
        tool=tool,
        verdict=verdict,  # type: ignore[arg-type]  # checked against Verdict above
        note=note,
        by=by,
        expected=version,
    )
    return f"override recorded on {done.id}: {persona} / {tool} -> {verdict}"


def build_site(settings: DeskSettings) -> list[tuple[str, str]]:
    """``panel site build`` into the desk's site folder: (kind, line) for each line to show."""
    home = settings.home
    report = build(home, configured(home, settings.site_out, settings.base_url))
    lines = [("warning", f"skipped {line}") for line in report.skipped]
    lines += [("ok", f"published {record}") for record in report.published]
    lines += [("warning", f"published {line}: not a real review") for line in report.stand_ins]
    return [*lines, ("ok", summary(report))]
