"""The load engine: plans, mix, percentiles, regressions, thresholds (pure), and the open-loop runner."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from ff_class_configs.ff_test_result_dtos import FFOperationStatsDTO, FFPerformanceSummaryDTO
from testing._load import (
    DEFAULT_MIX,
    FFLatencyRecorder,
    FFLoadProfile,
    FFPlannedRequest,
    FFResourceSampler,
    FFWorkloadMix,
    arrival_offsets,
    find_regressions,
    operation_stats,
    percentile,
    plan_requests,
    run_load,
    threshold_failures,
    user_start_offsets,
)


def test_arrivals_without_ramp_are_evenly_spaced_at_the_rate() -> None:
    offsets = arrival_offsets(100.0, 2.0)
    assert len(offsets) == 200
    gaps = {round(b - a, 9) for a, b in zip(offsets, offsets[1:])}
    assert gaps == {0.01}
    assert 0 <= offsets[0] < offsets[-1] < 2.0


def test_linear_ramp_halves_the_requests_of_the_ramp_window() -> None:
    offsets = arrival_offsets(100.0, 4.0, ramp_up=2.0)
    # 100/s * 2 s / 2 during the ramp, then 100/s for 2 s.
    assert len(offsets) == 300
    in_ramp = [o for o in offsets if o < 2.0]
    assert len(in_ramp) == 100
    first_half = sum(1 for o in in_ramp if o < 1.0)
    assert first_half == 25  # N(1) = 100 * 1^2 / (2 * 2)
    assert offsets == sorted(offsets)


def test_user_start_offsets_spread_over_the_ramp() -> None:
    assert user_start_offsets(4, 2.0) == [0.0, 0.5, 1.0, 1.5]
    assert user_start_offsets(3, 0.0) == [0.0, 0.0, 0.0]


def test_plan_is_deterministic_and_spreads_over_present_users() -> None:
    profile = FFLoadProfile(users=4, rate=200.0, duration=2.0, ramp_up=1.0)
    mix = FFWorkloadMix(DEFAULT_MIX)
    plan = plan_requests(profile, mix, seed=7)
    assert plan == plan_requests(profile, mix, seed=7)
    assert plan != plan_requests(profile, mix, seed=8)
    starts = user_start_offsets(4, 1.0)
    assert all(starts[r.user] <= r.offset for r in plan)  # nobody acts before joining
    assert Counter(r.user for r in plan if r.offset >= 1.0) == {0: 50, 1: 50, 2: 50, 3: 50}


def test_mix_follows_its_weights() -> None:
    mix = FFWorkloadMix(DEFAULT_MIX)
    rng = random.Random(1)
    counts = Counter(mix.choose(rng) for _ in range(50_000))
    for op, weight in DEFAULT_MIX.items():
        assert abs(counts[op] / 50_000 - weight / 100) < 0.01, op
    assert mix.share("run_tool") == pytest.approx(0.02)


def test_mix_refuses_unknown_or_empty_weights() -> None:
    with pytest.raises(ValueError):
        FFWorkloadMix({"drop_tables": 1.0})
    with pytest.raises(ValueError):
        FFWorkloadMix({"append_turn": 0.0})


def test_percentile_matches_linear_interpolation() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0


def test_operation_stats_from_the_recorder() -> None:
    recorder = FFLatencyRecorder()
    for v in range(1, 11):
        recorder.success("read_history", float(v), float(v) / 2)
    recorder.error("read_history", "boom")
    recorder.error("run_tool", "boom")
    stats = {s.operation: s for s in operation_stats(recorder, elapsed_seconds=2.0)}
    history = stats["read_history"]
    assert (history.count, history.errors, history.max_ms, history.mean_ms) == (10, 1, 10.0, 5.5)
    assert history.throughput_ops == 5.0
    assert stats["run_tool"].count == 0 and stats["run_tool"].errors == 1


def _op(name: str, p95: float, *, count: int = 10, errors: int = 0) -> FFOperationStatsDTO:
    return FFOperationStatsDTO(
        operation=name, count=count, errors=errors, p50_ms=p95 / 2, p95_ms=p95, p99_ms=p95, mean_ms=p95 / 2,
        max_ms=p95, throughput_ops=1.0,
    )


def _summary(ops: list[FFOperationStatsDTO], **extra: float) -> FFPerformanceSummaryDTO:
    return FFPerformanceSummaryDTO(
        profile="quick", concurrent_users=2, duration_seconds=1.0, target_rps=10.0, achieved_rps=10.0,
        error_rate_percent=extra.get("error_rate", 0.0), operations=ops,
        peak_rss_mb=extra.get("rss", 100.0), peak_cpu_percent=extra.get("cpu", 50.0),
    )


def test_regressions_beyond_margin_and_floor_only() -> None:
    baseline = _summary([_op("append_turn", 10.0), _op("read_history", 0.2), _op("run_tool", 80.0)])
    current = [_op("append_turn", 16.0), _op("read_history", 0.9), _op("run_tool", 100.0)]
    found = find_regressions(current, baseline, margin_percent=50.0)
    # append_turn +60% and +6 ms: flagged; read_history +350% but only 0.7 ms: noise; run_tool +25%: within margin.
    assert len(found) == 1 and found[0].startswith("append_turn")
    assert find_regressions([_op("append_turn", 14.0)], baseline, 50.0) == []
    errors = find_regressions([_op("run_tool", 80.0, errors=3)], baseline, 50.0)
    assert errors == ["run_tool: 3 error(s), none in the baseline"]


def test_threshold_failures_name_every_ceiling_crossed() -> None:
    summary = _summary([_op("append_turn", 300.0), _op("read_history", 10.0)], error_rate=2.0, rss=900.0, cpu=250.0)
    failures = threshold_failures(summary, max_p95_ms=250, max_error_rate_percent=1, max_memory_mb=800, max_cpu_percent=200)
    assert len(failures) == 4
    assert failures[0].startswith("append_turn: p95 300.0 ms")
    assert threshold_failures(summary, max_p95_ms=1e6, max_error_rate_percent=5, max_memory_mb=1e6, max_cpu_percent=1e6) == []


async def test_run_load_counts_every_request_and_its_errors() -> None:
    plan = [FFPlannedRequest(offset=i * 0.005, user=i % 2, operation=("append_turn" if i % 4 else "run_tool")) for i in range(40)]
    seen: list[tuple[int, str]] = []

    async def execute(user: int, op: str) -> None:
        seen.append((user, op))
        if op == "run_tool":
            raise RuntimeError("tool broke")
        await asyncio.sleep(0)

    result = await run_load(plan, 2, execute)
    assert result.planned == 40 and result.unfinished == 0
    assert result.recorder.errors == {"run_tool": 10}
    assert len(result.recorder.latencies_ms["append_turn"]) == 30
    assert sorted(seen) == sorted((r.user, r.operation) for r in plan)


async def test_open_loop_latency_includes_queueing() -> None:
    """One worker, 20 requests 10 ms apart, each taking 30 ms: requests queue, and latency shows it.

    A closed-loop driver would report ~30 ms for every request (coordinated omission); the
    service time does, the latency from the intended start must not.
    """
    plan = [FFPlannedRequest(offset=i * 0.01, user=0, operation="read_history") for i in range(20)]

    async def execute(user: int, op: str) -> None:
        await asyncio.sleep(0.03)

    result = await run_load(plan, 1, execute)
    latencies = result.recorder.latencies_ms["read_history"]
    service = result.recorder.service_ms["read_history"]
    assert max(service) < 200
    assert latencies[-1] > 300  # the last waited for 19 others at 30 ms each, minus its 190 ms offset
    assert latencies[-1] > 5 * percentile(sorted(service), 50)


async def test_requests_past_the_drain_deadline_are_errors() -> None:
    plan = [FFPlannedRequest(offset=0.0, user=0, operation="run_tool"), FFPlannedRequest(offset=0.0, user=0, operation="append_turn")]

    async def execute(user: int, op: str) -> None:
        await asyncio.sleep(5 if op == "run_tool" else 0)

    result = await run_load(plan, 1, execute, drain_seconds=0.1)
    assert result.unfinished == 2
    assert result.recorder.errors == {"run_tool": 1, "append_turn": 1}


async def test_resource_sampler_samples_this_process() -> None:
    async with FFResourceSampler(0.05) as sampler:
        await asyncio.sleep(0.3)
    assert len(sampler.samples) >= 4
    assert all(s.rss_mb > 10 for s in sampler.samples)
    elapsed = [s.elapsed_seconds for s in sampler.samples]
    assert elapsed == sorted(elapsed)


def test_profile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        FFLoadProfile(users=0, rate=1.0, duration=1.0)
    with pytest.raises(ValueError):
        FFLoadProfile(users=1, rate=0.0, duration=1.0)
