"""Exact summary statistics of a list of samples: count, min, max, mean, sum and percentiles.

Percentile definition: linear interpolation between closest ranks, the one numpy uses by default
(``method="linear"``, Hyndman and Fan type 7) and ``statistics.quantiles(..., method="inclusive")``
uses for its cut points. For sorted values ``x[0..n-1]`` and ``q`` in [0, 100]::

    h = (n - 1) * q / 100;  p = x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])

so p0 is the minimum, p100 the maximum, p50 the usual median, and one sample is every percentile.
Everything is computed from all samples in memory (no sketches), so results are exact; at the
volumes a flat-file platform holds per window (millions of floats at most) that is cheap.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["FFSampleStats", "percentile", "summarize", "PERCENTILE_METHOD"]

PERCENTILE_METHOD = "linear"
"""Name of the percentile definition above (numpy's default), reported in summaries."""


@dataclass(frozen=True, slots=True)
class FFSampleStats:
    """Statistics of a non-empty list of samples."""

    count: int
    total: float
    minimum: float
    maximum: float
    mean: float
    p50: float
    p95: float
    p99: float


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of already sorted values by linear interpolation.

    For whole-number ``q`` (p50, p95, p99) the interpolation is done the way
    ``statistics.quantiles(method="inclusive")`` does it, ``(x[j] * (100 - d) + x[j + 1] * d) / 100``
    with integer ``j`` and ``d``, so the two agree to the last bit; fractional ``q`` uses the same
    formula with a float weight. Raises ValueError for an empty sequence or ``q`` outside
    [0, 100]: both are programming errors of the caller, not user input.
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside [0, 100]")
    last = len(sorted_values) - 1
    if float(q).is_integer():
        lower, delta = divmod(last * int(q), 100)
        if delta == 0:
            return float(sorted_values[lower])
        low, high = sorted_values[lower], sorted_values[lower + 1]
        return _between(low, high, (low * (100 - delta) + high * delta) / 100)
    position = last * (q / 100)
    lower = math.floor(position)
    fraction = position - lower
    if fraction == 0 or lower >= last:
        return float(sorted_values[min(lower, last)])
    low, high = sorted_values[lower], sorted_values[lower + 1]
    return _between(low, high, low * (1 - fraction) + high * fraction)


def _between(low: float, high: float, value: float) -> float:
    """Clamp an interpolated value to its neighbours: float rounding of the weighted sum can
    otherwise land a last bit outside them (two equal samples giving a p50 below both)."""
    return float(min(max(value, low), high))


def summarize(values: Iterable[float]) -> FFSampleStats | None:
    """Exact statistics of ``values``, or None when there are none.

    The sum and mean use ``math.fsum`` so they do not drift with the number of samples.
    """
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return None
    total = math.fsum(ordered)
    return FFSampleStats(
        count=len(ordered),
        total=total,
        minimum=ordered[0],
        maximum=ordered[-1],
        mean=total / len(ordered),
        p50=percentile(ordered, 50),
        p95=percentile(ordered, 95),
        p99=percentile(ordered, 99),
    )
