"""The one percentile definition of every benchmark: nearest rank, so p95 is a value that was measured."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values: the smallest value with at least
    ``fraction`` of the values at or below it."""
    if not sorted_values:
        raise ValueError("no values to take a percentile of")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]
