"""_metrics/stats.py: exact percentiles (linear interpolation, numpy's default) and summaries."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ff_managers._metrics.stats import PERCENTILE_METHOD, percentile, summarize


def test_hand_computed_one_to_ten() -> None:
    # h = 9 * q / 100: p50 -> x[4.5] = 5.5, p95 -> x[8.55] = 9.55, p99 -> x[8.91] = 9.91
    stats = summarize([7, 3, 10, 1, 5, 2, 9, 4, 8, 6])  # order must not matter
    assert stats is not None
    assert (stats.count, stats.total, stats.minimum, stats.maximum, stats.mean) == (10, 55.0, 1.0, 10.0, 5.5)
    assert (stats.p50, stats.p95, stats.p99) == (5.5, 9.55, 9.91)


def test_hand_computed_two_values_and_duplicates() -> None:
    assert [percentile([10, 20], q) for q in (0, 50, 95, 99, 100)] == [10.0, 15.0, 19.5, 19.9, 20.0]
    assert [percentile([1, 1, 1, 2], q) for q in (50, 95)] == [1.0, pytest.approx(1.85)]


def test_one_sample_is_every_percentile() -> None:
    stats = summarize([42.5])
    assert stats is not None
    assert (stats.p50, stats.p95, stats.p99, stats.minimum, stats.maximum) == (42.5,) * 5


def test_fractional_percentile_interpolates() -> None:
    assert percentile([0, 10], 12.5) == 1.25
    assert percentile([0, 10, 20], 75.0) == 15.0


def test_no_samples() -> None:
    assert summarize([]) is None
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_sum_is_exact_for_many_small_values() -> None:
    stats = summarize([0.1] * 10)
    assert stats is not None and stats.total == 1.0 and stats.mean == 0.1  # naive summing gives 0.9999999999999999


def test_method_name() -> None:
    assert PERCENTILE_METHOD == "linear"


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=200))
def test_matches_statistics_quantiles_inclusive(values: list[float]) -> None:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    for q in range(1, 100):
        # statistics computes x*100/100 even at exact ranks, which may round in the last bit.
        assert math.isclose(percentile(ordered, q), cuts[q - 1], rel_tol=1e-12, abs_tol=1e-9)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=100))
def test_percentiles_are_ordered_and_bounded(values: list[float]) -> None:
    stats = summarize(values)
    assert stats is not None
    assert stats.minimum <= stats.p50 <= stats.p95 <= stats.p99 <= stats.maximum
