"""The load test's figures over time (slices of completions) and its min/p90 per operation."""

from __future__ import annotations

import pytest

from testing._load import FFLatencyRecorder, FFPlannedRequest, operation_stats, overall_stats, run_load, timeline


def _recorder() -> FFLatencyRecorder:
    recorder = FFLatencyRecorder()
    for k in range(10):  # second 0: ten requests at 1..10 ms
        recorder.success("append_turn", float(k + 1), 1.0, at=0.05 * k)
    recorder.error("append_turn", "boom", at=1.5)  # second 1: one error, nothing completed
    for k in range(4):  # second 2: four slow requests
        recorder.success("read_history", 100.0 + k, 1.0, at=2.1 + 0.1 * k)
    return recorder


def test_slices_hold_the_requests_completed_in_them() -> None:
    slices = timeline(_recorder(), elapsed_seconds=3.0, slices=40)
    assert [(s.start_seconds, s.ok, s.errors) for s in slices] == [(0.0, 10, 0), (1.0, 0, 1), (2.0, 4, 0)]
    first, empty, last = slices
    assert (first.min_ms, first.max_ms, first.throughput_ops) == (1.0, 10.0, 10.0)
    assert first.p50_ms == pytest.approx(5.5) and first.p90_ms == pytest.approx(9.1)
    assert (empty.throughput_ops, empty.p95_ms) == (0.0, 0.0)  # an idle second is shown, not skipped
    assert last.min_ms == 100.0 and last.p99_ms == pytest.approx(102.97)


def test_long_runs_get_wider_slices_and_no_completions_no_timeline() -> None:
    recorder = FFLatencyRecorder()
    recorder.success("append_turn", 1.0, 1.0, at=299.0)
    slices = timeline(recorder, elapsed_seconds=300.0, slices=30)
    assert len(slices) == 30 and slices[0].seconds == 10.0 and slices[-1].ok == 1
    assert timeline(FFLatencyRecorder(), 10.0) == []


def test_operation_stats_report_min_and_p90() -> None:
    (append, history) = operation_stats(_recorder(), 3.0)
    assert (append.min_ms, append.p90_ms, append.errors) == (1.0, pytest.approx(9.1), 1)
    assert history.min_ms == 100.0


async def test_run_load_records_when_each_request_completed() -> None:
    plan = [FFPlannedRequest(offset=0.01 * k, user=0, operation="append_turn") for k in range(5)]

    async def execute(user: int, operation: str) -> None:
        return None

    result = await run_load(plan, 1, execute, drain_seconds=5)
    assert len(result.recorder.completions) == 5
    assert all(0 <= at <= result.elapsed_seconds + 0.05 for at, _ in result.recorder.completions)
    assert sum(s.ok for s in timeline(result.recorder, result.elapsed_seconds)) == 5


def test_overall_stats_pool_every_operation() -> None:
    overall = overall_stats(_recorder(), 3.0)
    assert (overall.operation, overall.count, overall.errors) == ("*", 14, 1)
    assert (overall.min_ms, overall.max_ms) == (1.0, 103.0)
    assert overall.throughput_ops == pytest.approx(14 / 3.0)


def test_no_short_last_slice_turns_a_few_requests_into_a_huge_rate() -> None:
    recorder = FFLatencyRecorder()
    for k in range(100):
        recorder.success("append_turn", 2.0, 1.0, at=k * 0.04)  # 25/s for 4 s
    for _ in range(5):
        recorder.success("append_turn", 2.0, 1.0, at=4.005)  # the drain's last few
    slices = timeline(recorder, elapsed_seconds=4.01)
    assert len(slices) == 4 and all(s.seconds == pytest.approx(1.0025) for s in slices)
    assert max(s.throughput_ops for s in slices) < 40
