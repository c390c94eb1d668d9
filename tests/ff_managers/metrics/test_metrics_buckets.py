"""_metrics/buckets.py: bucket file names, window resolution, which buckets a window reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ff_managers._metrics.buckets import FFTimeWindow, bucket_parts, day_span, file_span, resolve_window, to_utc
from ff_utils.ff_errors import FFValidationError

T = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_bucket_parts_hour_and_day() -> None:
    assert bucket_parts(T, "hour") == ("2026-03-04", "05.jsonl")
    assert bucket_parts(T, "day") == ("2026-03-04", "day.jsonl")


def test_bucket_parts_use_utc() -> None:
    plus_two = datetime(2026, 3, 4, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # 23:00 UTC the day before
    assert bucket_parts(plus_two, "hour") == ("2026-03-03", "23.jsonl")
    assert to_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)  # naive is taken as UTC


def test_resolve_none_is_unbounded() -> None:
    window = resolve_window(None, T)
    assert window.contains(datetime(1970, 1, 1, tzinfo=UTC)) and window.contains(datetime(2999, 1, 1, tzinfo=UTC))


def test_timedelta_window_is_inclusive_of_both_ends() -> None:
    window = resolve_window(timedelta(hours=1), T)
    assert window.contains(T) and window.contains(T - timedelta(hours=1))
    assert not window.contains(T - timedelta(hours=1, microseconds=1))
    assert not window.contains(T + timedelta(microseconds=1))


def test_tuple_window_is_half_open() -> None:
    start, end = T, T + timedelta(minutes=10)
    window = resolve_window((start, end), T)
    assert window.contains(start) and not window.contains(end)
    assert resolve_window((None, end), T).contains(datetime(2000, 1, 1, tzinfo=UTC))
    assert resolve_window((start, None), T).contains(datetime(2999, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "bad",
    [
        timedelta(0),
        timedelta(seconds=-5),
        (datetime(2026, 1, 1), datetime(2026, 1, 2)),  # naive
        (T, T - timedelta(seconds=1)),  # start after end
        (T,),
        "last hour",
        3600,
    ],
)
def test_bad_windows_raise(bad: object) -> None:
    with pytest.raises(FFValidationError):
        resolve_window(bad, T)


def test_file_span_recognises_only_bucket_files() -> None:
    assert file_span("2026-03-04", "05.jsonl") == (
        datetime(2026, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 3, 4, 6, tzinfo=UTC),
    )
    assert file_span("2026-03-04", "day.jsonl") == day_span("2026-03-04")
    for name in (".05.jsonl.lock", "24.jsonl", "5.jsonl", "metric.json", ".05.jsonl.tmp"):
        assert file_span("2026-03-04", name) is None
    assert day_span("2026-13-01") is None and day_span("notadate") is None


def test_overlap_selects_only_buckets_in_the_window() -> None:
    window = FFTimeWindow(datetime(2026, 3, 4, 5, 30, tzinfo=UTC), datetime(2026, 3, 4, 6, 0, tzinfo=UTC))
    chosen = [h for h in range(24) if window.overlaps(*file_span("2026-03-04", f"{h:02d}.jsonl"))]
    assert chosen == [5]  # exclusive end at 06:00 does not pull in the 06 bucket
    inclusive = FFTimeWindow(window.start, window.end, end_inclusive=True)
    assert [h for h in range(24) if inclusive.overlaps(*file_span("2026-03-04", f"{h:02d}.jsonl"))] == [5, 6]
