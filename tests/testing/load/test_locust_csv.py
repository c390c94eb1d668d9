"""Locust's CSV files (as Locust 2.47 writes them) read into our performance DTOs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_utils.ff_errors import FFCorruptionError, FFNotFoundError
from testing.load import parse_failures, parse_history, parse_stats, read_locust_summary

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
POST,append_turn,45,2,14,24.09250588886304,3.142067000226234,241.67504199976975,261.2,9.061524458221516,0.4,14,22,23,26,27,44,240,240,240,240,240
POST,create_session,4,0,100,106.12432174957576,95.65297500012093,126.38024799889536,253.0,0.8054688407308015,0.0,100,100,130,130,130,130,130,130,130,130,130
GET,read_history,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,49,2,11,28.23723227083974,3.142067000226234,241.67504199976975,805.0104166666666,9.8,0.4,11,19,24,26,97,150,210,240,240,240,240
"""

HISTORY = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size
1796469731,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0
1796469733,4,,Aggregated,0.000000,0.000000,11,15,17,19,22,26,46,46,46,46,46,42,1,11,12.6,2.55,45.5,361.1
1796469733,4,POST,append_turn,0.000000,0.000000,11,15,17,19,22,26,46,46,46,46,46,20,1,11,12.6,2.55,45.5,361.1
1796469734,2,,Aggregated,18.000000,0.000000,10,13,16,17,20,25,45,46,46,46,46,62,2,10,11.7,2.55,45.5,620.8
"""

FAILURES = """Method,Name,Error,Occurrences,First Seen,Last Seen
POST,create_session,CatchResponseError('HTTP 401'),18,2026-12-05T11:22:33Z,2026-12-05T11:22:34Z
"""


def test_stats_rows_become_operations_and_the_aggregated_row_the_overall() -> None:
    operations, overall = parse_stats(STATS)
    assert [op.operation for op in operations] == ["append_turn", "create_session", "read_history"]
    append = operations[0]
    assert (append.count, append.errors) == (43, 2)  # our count is successes; Locust's Request Count includes failures
    assert (append.p50_ms, append.p90_ms, append.p95_ms, append.p99_ms) == (14, 27, 44, 240)
    assert append.min_ms == pytest.approx(3.142, abs=1e-3) and append.max_ms == pytest.approx(241.675, abs=1e-3)
    assert append.throughput_ops == pytest.approx(9.0615 - 0.4, rel=1e-3)
    assert operations[2].count == 0 and operations[2].p95_ms == 0.0  # N/A reads as 0
    assert overall.operation == "*" and (overall.count, overall.errors) == (47, 2)


def test_history_gives_one_interval_per_second_from_the_running_totals() -> None:
    intervals = parse_history(HISTORY)
    assert [(i.start_seconds, i.seconds, i.ok, i.errors) for i in intervals] == [(0.0, 2.0, 41, 1), (2.0, 1.0, 19, 1)]
    assert intervals[0].throughput_ops == 20.5 and intervals[1].p95_ms == 25 and intervals[1].max_ms == 46


def test_failures_are_read() -> None:
    [failure] = parse_failures(FAILURES)
    assert (failure.method, failure.name, failure.occurrences) == ("POST", "create_session", 18)
    assert "401" in failure.error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Type,Name\nPOST,x\n", "missing columns"),
        (STATS.replace(",Aggregated,", ",Total,"), "expected one Aggregated row"),
        (STATS.replace("45,2,14", "45,two,14"), "not a number"),
    ],
)
def test_a_file_that_is_not_locusts_is_refused(text: str, message: str) -> None:
    with pytest.raises(FFCorruptionError, match=message):
        parse_stats(text)


def test_read_locust_summary_from_files(tmp_path: Path) -> None:
    prefix = tmp_path / "run"
    (tmp_path / "run_stats.csv").write_text(STATS)
    (tmp_path / "run_stats_history.csv").write_text(HISTORY)
    (tmp_path / "run_failures.csv").write_text(FAILURES)
    summary, failures = read_locust_summary(prefix, users=4, rate=20.0, duration_seconds=5)
    assert summary.overall is not None and summary.overall.errors == 2 and len(summary.operations) == 3
    assert summary.duration_seconds == 3.0 and summary.achieved_rps == pytest.approx(9.4)
    assert summary.error_rate_percent == pytest.approx(100 * 2 / 49)
    assert summary.concurrent_users == 4 and summary.target_rps == 20.0 and len(failures) == 1


def test_no_stats_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FFNotFoundError):
        read_locust_summary(tmp_path / "never", users=1, rate=1.0, duration_seconds=1)
