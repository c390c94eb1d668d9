"""Percentiles at fractional ranks and the window's refusals, exactly (issue 20: what mutation
testing found unpinned in ``_metrics``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ff_managers._metrics.buckets import resolve_window
from ff_managers._metrics.stats import percentile
from ff_utils.ff_errors import FFValidationError

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("q", [0.5, 12.5, 33.3, 66.6, 87.5, 99.9])
def test_fractional_percentiles_interpolate_linearly_like_numpy(q):
    values = sorted([3.0, 17.5, 4.25, 99.0, 42.0, 8.0, 61.5])
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12)


def test_the_last_rank_and_a_single_value_need_no_neighbour():
    assert percentile([1.0, 2.0, 5.0], 100) == 5.0
    assert percentile([1.0, 2.0, 5.0], 99.99999) == pytest.approx(float(np.percentile([1.0, 2.0, 5.0], 99.99999)))
    assert percentile([7.0], 37.5) == 7.0


def test_percentile_refuses_no_values_and_ranks_outside_0_100_with_a_message():
    with pytest.raises(ValueError, match=r"^percentile of no values$"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"^percentile 100.5 outside \[0, 100\]$"):
        percentile([1.0], 100.5)


@pytest.mark.parametrize(
    "window, message",
    [
        (timedelta(0), "window must be a positive duration, not 0:00:00"),
        ((NOW, NOW - timedelta(seconds=1)), "window start is after its end"),
        ("1h", "window must be None, a timedelta or a (start, end) tuple of aware datetimes"),
    ],
)
def test_window_refusals_are_exact(window, message):
    with pytest.raises(FFValidationError) as caught:
        resolve_window(window, NOW)
    assert (str(caught.value), caught.value.field, caught.value.value) == (message, "window", window)


def test_an_empty_window_is_allowed_and_ends_exclusive():
    window = resolve_window((NOW, NOW), NOW)
    assert (window.start, window.end, window.end_inclusive) == (NOW, NOW, False)
    recent = resolve_window(timedelta(minutes=5), NOW)
    assert (recent.start, recent.end, recent.end_inclusive) == (NOW - timedelta(minutes=5), NOW, True)
