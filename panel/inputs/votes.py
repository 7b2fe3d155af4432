"""Community votes: a CSV of (tool slug, ship votes, skip votes) into the store.

Import is all or nothing: any bad row stops it with ``file:line: problem`` and
nothing is stored. A tool's imported counts replace its earlier ones (the CSV is
a snapshot of the vote totals, not a delta).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from panel.errors import PanelError
from panel.inputs.catalog import Catalog
from panel.records.store import DB_NAME, Store
from panel.safeio import read_regular
from panel.slugs import is_slug

MAX_BYTES = 20 * 1024 * 1024
MAX_VOTES = 10**12
_HEADERS = {
    "tool": ("tool", "slug", "tool_slug"),
    "ship": ("ship", "ship_votes", "ships"),
    "skip": ("skip", "skip_votes", "skips"),
}


@dataclass(frozen=True)
class Votes:
    ship: int
    skip: int

    @property
    def total(self) -> int:
        return self.ship + self.skip

    @property
    def ship_pct(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.ship / self.total

    @property
    def label(self) -> str:
        """As on the page: "N% ship (M votes)", or an em dash with no votes."""
        pct = self.ship_pct
        if pct is None:
            return "\u2014"
        noun = "vote" if self.total == 1 else "votes"
        return f"{pct:.0f}% ship ({self.total:,} {noun})"


NO_VOTES = Votes(0, 0)


def stored_votes(runs: Path) -> dict[str, Votes]:
    """The imported vote totals by tool slug; empty when no store exists (nothing is created)."""
    if not (runs / DB_NAME).is_file():
        return {}
    with Store.open(runs, readonly=True) as store:  # show and digest only read
        return {slug: Votes(ship, skip) for slug, (ship, skip) in store.votes().items()}


def _columns(header: list[str], where: str) -> tuple[int, int, int] | None:
    """Column indexes from a header row, or None when the first row is data."""
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    if not any(names):
        raise PanelError(f"{where}:1: the first row is empty; expected a header tool,ship,skip")
    if is_slug(names[0]) and len(names) == 3 and names[1:] and names[1].isdigit():
        return None
    found = []
    for field, accepted in _HEADERS.items():
        match = next((i for i, name in enumerate(names) if name in accepted), None)
        if match is None:
            raise PanelError(
                f"{where}:1: no {field!r} column in the header {header!r}; expected: tool,ship,skip"
            )
        found.append(match)
    return found[0], found[1], found[2]


def _count(text: str, field: str, where: str) -> int:
    text = text.strip().replace("_", "")
    if not text.isascii() or not text.isdigit():
        raise PanelError(f"{where}: {field} votes {text!r} is not a whole number >= 0")
    value = int(text)
    if value > MAX_VOTES:
        raise PanelError(f"{where}: {field} votes {value} is implausibly large")
    return value


def parse(path: Path, catalog: Catalog) -> dict[str, Votes]:
    """Validate the whole file; return tool slug -> votes."""
    raw = read_regular(path, MAX_BYTES, "vote file")  # never a FIFO or /dev/zero
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PanelError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    if "\x00" in text:
        raise PanelError(f"{path}: contains NUL bytes; is this a CSV file?")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise PanelError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    if not rows:
        raise PanelError(f"{path}: empty; expected a header tool,ship,skip and one row per tool")
    columns = _columns(rows[0], str(path))
    body = rows[1:] if columns is not None else rows
    first_line = 2 if columns is not None else 1
    tool_col, ship_col, skip_col = columns or (0, 1, 2)
    width = max(tool_col, ship_col, skip_col) + 1
    votes: dict[str, Votes] = {}
    for number, row in enumerate(body, start=first_line):
        where = f"{path}:{number}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            raise PanelError(f"{where}: {len(row)} columns, expected tool,ship,skip")
        slug = row[tool_col].strip()
        if not is_slug(slug):
            raise PanelError(f"{where}: {slug[:60]!r} is not a tool slug (lowercase-with-dashes)")
        if slug not in catalog.tools:
            raise PanelError(
                f"{where}: no tool {slug!r} in the catalog; add it with `panel tools import` first"
            )
        if slug in votes:
            raise PanelError(f"{where}: {slug} appears twice; keep one row per tool")
        votes[slug] = Votes(
            _count(row[ship_col], "ship", where), _count(row[skip_col], "skip", where)
        )
    if not votes:
        raise PanelError(f"{path}: no vote rows; expected one row per tool: tool,ship,skip")
    return votes
