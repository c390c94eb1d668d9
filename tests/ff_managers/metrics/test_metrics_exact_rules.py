"""The metrics rules pinned exactly: every refusal's message, field and value, the limits at
their edges, and the small pure helpers (issue 20: what mutation testing of ``_metrics`` found
unpinned; a refusal that names the wrong field or loses the value sends a caller the wrong way)."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from ff_managers._metrics.analytics import (
    build_user_analytics,
    count_sessions,
    event_record,
)
from ff_managers._metrics.audit_seal import MIN_KEY_BYTES, _checked
from ff_managers._metrics.buckets import FFTimeWindow, day_span, resolve_window
from ff_managers._metrics.checks import validate_kind, validate_tags, validate_value
from ff_managers._metrics.stats import percentile
from ff_managers._metrics.system import busy_percent
from ff_utils.ff_errors import FFConfigError, FFValidationError

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def refusal(call, *args, **kwargs) -> tuple[str, object, object]:
    with pytest.raises(FFValidationError) as caught:
        call(*args, **kwargs)
    return str(caught.value), caught.value.field, caught.value.value


def tags(value: object, max_tags: int = 3, max_value_chars: int = 5) -> dict[str, str]:
    return validate_tags(value, max_tags=max_tags, max_value_chars=max_value_chars)


def test_tag_refusals_are_exact() -> None:
    assert refusal(tags, ["a"]) == ("tags must be a mapping, not list", "tags", ["a"])
    assert refusal(tags, {"a": "1", "b": "2", "c": "3", "d": "4"}) == ("4 tags exceed the limit of 3", "tags", None)
    assert refusal(tags, {"9x": "v"}) == ("invalid tag key '9x'", "tags", "9x")
    assert refusal(tags, {"a": 1.5}) == ("tag 'a' must be a string, int or bool, not float", "tags", 1.5)
    message, field, _ = refusal(tags, {"a": "toolong"})
    assert field == "tags" and "5" in message


def test_tags_at_their_limits_sorted_and_typed() -> None:
    assert tags({"c": "x", "a": True, "b": False}) == {"a": "true", "b": "false", "c": "x"}
    assert list(tags({"c": 1, "a": 2, "b": 3})) == ["a", "b", "c"]
    assert tags({"a": "12345", "b": ""}) == {"a": "12345", "b": ""}  # max_value_chars and empty both allowed
    assert refusal(tags, {"a": "y", 1: "x"})[1:] == ("tags", 1)  # a non-text key sorts by str() and is then refused


def test_kind_and_value_refusals_are_exact() -> None:
    assert refusal(validate_kind, "histogram") == ("invalid kind 'histogram': use one of timing, counter, gauge", "kind", "histogram")
    assert refusal(validate_value, -1, "timing") == ("value of a timing must be >= 0, not -1", "value", -1)
    assert refusal(validate_value, -0.5, "counter", "delta") == ("delta of a counter must be >= 0, not -0.5", "delta", -0.5)
    assert refusal(validate_value, "x", "gauge")[1:] == ("value", "x")
    assert validate_value(-3, "gauge") == -3 and validate_value(0, "timing") == 0


def test_window_ends_are_checked_as_window_and_kept_in_utc() -> None:
    naive = datetime(2026, 12, 5, 8, 0)
    _, field, value = refusal(resolve_window, (naive, NOW), NOW)
    assert (field, value) == ("window", naive)
    assert refusal(resolve_window, (NOW, NOW - timedelta(microseconds=1)), NOW) == (
        "window start is after its end", "window", (NOW, NOW - timedelta(microseconds=1)))
    plus_two = datetime(2026, 12, 5, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    window = resolve_window((plus_two, None), NOW)
    assert window.start == NOW and window.start.tzinfo == UTC and window.end is None


def test_day_spans_and_window_overlaps_at_their_edges() -> None:
    start = datetime(2026, 3, 4, tzinfo=UTC)
    assert day_span("2026-03-04") == (start, start + timedelta(days=1))
    window = FFTimeWindow(start, start + timedelta(hours=1), end_inclusive=False)
    assert not window.overlaps(start - timedelta(hours=1), start)  # a span ending where the window starts
    assert window.overlaps(start - timedelta(hours=1), start + timedelta(microseconds=1))
    assert not window.overlaps(start + timedelta(hours=1), start + timedelta(hours=2))  # exclusive end
    assert FFTimeWindow(start, start + timedelta(hours=1), end_inclusive=True).overlaps(start + timedelta(hours=1), start + timedelta(hours=2))


def test_audit_key_length_is_checked_at_its_edge() -> None:
    assert _checked(b"k" * MIN_KEY_BYTES, "metrics.audit_key") == b"k" * MIN_KEY_BYTES
    with pytest.raises(FFConfigError) as caught:
        _checked(b"k" * (MIN_KEY_BYTES - 1), "metrics.audit_key_file")
    assert (str(caught.value), caught.value.field) == (f"metrics.audit_key_file: the audit key must be at least {MIN_KEY_BYTES} bytes",
                                                       "metrics.audit_key_file")


@pytest.mark.parametrize("q", [12.5, 37.5, 99.0, 0.0, 100.0, 62.5, 95.0, 50.0, 1.5])
def test_percentiles_by_linear_interpolation_between_unequal_neighbours(q: float) -> None:
    # neighbours of unequal weight: a formula with the weights swapped or the wrong neighbour differs
    values = [1.0, 2.0, 4.0, 5.0, 6.0, 7.5, 8.0, 10.0, 13.0]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12)


def test_fractional_percentiles_use_the_upper_neighbour_and_the_right_weight() -> None:
    assert percentile([0.0, 10.0, 30.0], 12.5) == pytest.approx(2.5)  # h = 0.25 between 0 and 10
    assert percentile([0.0, 10.0, 30.0], 62.5) == pytest.approx(15.0)  # h = 1.25 between 10 and 30
    assert percentile([0.0, 10.0, 30.0], 75.0) == 20.0
    assert percentile([5.0, 7.0], 50.5) == pytest.approx(6.01)


Times = namedtuple("Times", "user nice system idle iowait guest guest_nice")
NoIowait = namedtuple("NoIowait", "user system idle")


def test_busy_percent_rounds_to_one_decimal_and_stays_in_0_100() -> None:
    assert busy_percent(Times(0, 0, 0, 0, 0, 0, 0), Times(1, 0, 0, 2, 0, 0, 0)) == 33.3
    assert busy_percent(Times(0, 0, 0, 0, 0, 0, 0), Times(2, 0, 0, 1, 0, 0, 0)) == 66.7
    assert busy_percent(Times(0, 0, 0, 0, 0, 0, 0), Times(3, 0, 0, 0, 0, 0, 0)) == 100.0
    assert busy_percent(Times(0, 0, 0, 0, 0, 0, 0), Times(0, 0, 0, 3, 0, 0, 0)) == 0.0
    assert busy_percent(Times(5, 0, 0, 0, 0, 0, 0), Times(2, 0, 0, 10, 0, 0, 0)) == 0.0  # counter went back: not negative
    assert busy_percent(NoIowait(0, 0, 0), NoIowait(1, 1, 2)) == 50.0  # platforms without iowait


def test_busy_percent_under_a_second_and_past_a_counter_reset() -> None:
    # samples taken less than a CPU-second apart still measure (the meter reads every few seconds)
    assert busy_percent(Times(0, 0, 0, 0, 0, 0, 0), Times(0.25, 0, 0, 0.25, 0, 0, 0)) == 50.0
    assert busy_percent(Times(0, 0, 0, 0, 0, 0, 0), Times(1, 0, 0, 0, 0, 0, 0)) == 100.0
    # an idle counter that went back (more busy time than elapsed time) is clamped to exactly 100
    assert busy_percent(Times(0, 0, 0, 5, 0, 0, 0), Times(10, 0, 0, 0, 0, 0, 0)) == 100.0


def test_analytics_records_and_sessions() -> None:
    assert event_record(NOW, "login", {"a": 1}) == {"v": 1, "t": NOW.isoformat(), "type": "login", "data": {"a": 1}}
    gap = timedelta(minutes=30)
    times = [NOW, NOW + timedelta(minutes=10), NOW + timedelta(minutes=50), NOW + timedelta(minutes=70), NOW + timedelta(hours=3)]
    assert count_sessions(times, gap) == 3
    assert count_sessions(list(reversed(times)), gap) == 3
    assert count_sessions([NOW, NOW + gap], gap) == 1  # a gap of exactly session_gap does not split


def test_analytics_skip_bad_records_but_count_everything_after_them() -> None:
    good = event_record(NOW, "login", {"session_id": "s1"})
    records = [{"type": 3}, good, {"type": "x", "t": "not a time"}, event_record(NOW + timedelta(days=1), "chat", {"session_id": "s2"})]
    result = build_user_analytics("alice", records, timedelta(minutes=30))
    assert (result.total_events, result.event_counts, result.chat_sessions, result.active_days) == (2, {"chat": 1, "login": 1}, 2, 2)
