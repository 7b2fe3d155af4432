"""Plain aligned columns for listings: values are never wrapped, cut or ellipsised.

Rich tables shrink columns to fit the terminal, which folds ids mid-slug and cuts
provider names (``local/smol…``). A listing of things to copy (record ids,
provider addresses, URLs) uses these instead: every value is printed whole, and
the longest, most variable value goes in the last column, so a line too long for
the terminal only runs on at its end.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len

from panel.publish.render.view import safe

GAP = "  "


def _clean(value: object) -> str:
    return " ".join(safe(str(value)).split())


def aligned(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Lines of left-aligned columns; the last column is not padded."""
    table = [[_clean(v) for v in row] for row in [header, *rows]]
    widths = [max(cell_len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = []
    for row in table:
        cells = [
            cell + " " * (width - cell_len(cell))
            for cell, width in zip(row[:-1], widths, strict=True)
        ]
        lines.append(GAP.join([*cells, row[-1]]).rstrip())
    return lines
