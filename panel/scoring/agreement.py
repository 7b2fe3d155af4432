"""Agreement between providers: Krippendorff's alpha for nominal data.

Alpha suits a panel better than Fleiss' kappa: it allows a different number of
valid verdicts per item (a failed call is missing data, not a disagreement).
Units are (persona, tool) pairs; the values are the providers' verdicts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def krippendorff_alpha(units: Sequence[Sequence[str]]) -> float | None:
    """Alpha over units of nominal values; None when undefined (no pairs or no variation)."""
    pairable = [u for u in units if len(u) >= 2]
    coincidence: dict[tuple[str, str], float] = {}
    for unit in pairable:
        m = len(unit)
        counts = Counter(unit)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                coincidence[(c, k)] = coincidence.get((c, k), 0.0) + pairs / (m - 1)
    totals: dict[str, float] = {}
    for (c, _), value in coincidence.items():
        totals[c] = totals.get(c, 0.0) + value
    n = sum(totals.values())
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if n <= 1 or expected == 0:
        return None
    return 1 - (n - 1) * observed / expected
