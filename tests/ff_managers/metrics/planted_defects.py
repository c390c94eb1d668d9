"""Planted defects inside ``ff_managers._metrics`` (collected by ``tests/planted_defects``).

They replace one function of the private package for the length of a suite run; the component
suite's metrics contract test must turn red on each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ff_managers._metrics import stats
from tests._planted import PlantedDefect

__all__ = ["DEFECTS"]


def nearest_rank_percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (no interpolation): a common method the README rules out."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def exclusive_percentile(sorted_values: Sequence[float], q: float) -> float:
    """Interpolation over n + 1 positions (statistics' "exclusive", Excel's PERCENTILE.EXC)."""
    n = len(sorted_values)
    position = min(max((n + 1) * q / 100, 1), n) - 1
    lower = math.floor(position)
    fraction = position - lower
    upper = min(lower + 1, n - 1)
    return float(sorted_values[lower] + fraction * (sorted_values[upper] - sorted_values[lower]))


def _defect(name: str, function: Callable[..., Any], attribute: str = "percentile", *, origin: str = "README") -> PlantedDefect:
    return PlantedDefect(name=name, what=function.__doc__ or "", origin=origin, suite="component", test="metrics_contracts",
                         patches=((stats, attribute, function),))


DEFECTS: tuple[PlantedDefect, ...] = (
    _defect("percentile_nearest_rank", nearest_rank_percentile),
    _defect("percentile_exclusive", exclusive_percentile),
)
