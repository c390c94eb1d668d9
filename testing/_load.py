"""The load engine of the performance suite: workload mix, open-loop scheduler, recorder, stats.

Why open loop: a closed-loop driver (each user waits for its answer before sending the next
request) slows down exactly when the system does, so it sends fewer requests during a stall
and never measures the requests that *would* have waited; its percentiles look better than
what users see ("coordinated omission", Gil Tene). Here every request has an intended start
time fixed in advance by the target rate. At most ``users`` requests run at once (the simulated
users are the workers; like k6's constant-arrival-rate executor, but a request that finds every
worker busy waits instead of being dropped), so when the system falls behind, requests queue,
and the recorded latency runs from the *intended* start to the end: queueing is included. The service time (from the actual start) is recorded beside it, so the report can
show how much of the latency was waiting.

Everything here except :func:`run_load` and :class:`FFResourceSampler` is pure (plans, stats,
thresholds, regressions), so it is tested without disk, managers or sleeping.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import psutil

from ff_class_configs.ff_test_result_dtos import (
    FFLoadIntervalDTO,
    FFOperationStatsDTO,
    FFPerformanceSummaryDTO,
    FFResourceSampleDTO,
)

__all__ = [
    "OPERATIONS",
    "DEFAULT_MIX",
    "REGRESSION_FLOOR_MS",
    "FFLoadProfile",
    "FFPlannedRequest",
    "FFWorkloadMix",
    "FFLatencyRecorder",
    "FFLoadResult",
    "FFResourceSampler",
    "arrival_offsets",
    "user_start_offsets",
    "plan_requests",
    "percentile",
    "operation_stats",
    "overall_stats",
    "timeline",
    "find_regressions",
    "threshold_failures",
    "run_load",
]

OPERATIONS = ("append_turn", "read_history", "search_memory", "search_knowledge", "run_tool", "record_metric")

# Shares of the mix, in percent. A tool run spawns a sandboxed process (50-100 ms of process
# start alone), so it stays a small share and is reported as its own operation: mixed into
# another figure it would dominate every percentile.
DEFAULT_MIX: Mapping[str, float] = {
    "append_turn": 30.0,
    "read_history": 25.0,
    "search_memory": 15.0,
    "search_knowledge": 15.0,
    "record_metric": 13.0,
    "run_tool": 2.0,
}

REGRESSION_FLOOR_MS = 2.0
"""A p95 must also be slower by at least this much to count as a regression: sub-millisecond
operations jitter by more than any sensible margin from one run to the next."""


@dataclass(frozen=True, slots=True)
class FFLoadProfile:
    """The shape of one load run."""

    users: int
    rate: float
    """Target requests per second over all users, reached at the end of the ramp-up."""
    duration: float
    """Seconds during which requests are issued (ramp-up included)."""
    ramp_up: float = 0.0
    drain_seconds: float = 10.0
    """After the last arrival, how long queued requests may take to finish before they are counted as errors."""

    def __post_init__(self) -> None:
        if self.users < 1 or self.rate <= 0 or self.duration <= 0 or self.ramp_up < 0 or self.drain_seconds < 0:
            raise ValueError(f"bad load profile {self!r}")


@dataclass(frozen=True, slots=True)
class FFPlannedRequest:
    """One request of the plan: when it should start, which user sends it, what it does."""

    offset: float
    user: int
    operation: str


class FFWorkloadMix:
    """Weighted choice of operations, reproducible from a seeded ``random.Random``."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        unknown = sorted(set(weights) - set(OPERATIONS))
        if unknown:
            raise ValueError(f"unknown operations in the mix: {', '.join(unknown)}")
        if any(w < 0 or not math.isfinite(w) for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("mix weights must be finite, >= 0, and not all zero")
        self.operations = tuple(op for op in OPERATIONS if weights.get(op, 0) > 0)
        total = sum(weights[op] for op in self.operations)
        running = 0.0
        self._cumulative: list[float] = []
        for op in self.operations:
            running += weights[op] / total
            self._cumulative.append(running)
        self._cumulative[-1] = 1.0

    def share(self, operation: str) -> float:
        """The fraction of requests that are ``operation`` (0 when it is not in the mix)."""
        if operation not in self.operations:
            return 0.0
        i = self.operations.index(operation)
        return self._cumulative[i] - (self._cumulative[i - 1] if i else 0.0)

    def choose(self, rng: random.Random) -> str:
        return self.operations[bisect.bisect_right(self._cumulative, rng.random())]


def arrival_offsets(rate: float, duration: float, ramp_up: float = 0.0) -> list[float]:
    """Intended start times (seconds from the start) at ``rate``/s, ramping linearly from 0.

    The instantaneous rate is ``rate * t / ramp_up`` during the ramp-up and ``rate`` after it,
    so the expected count by time t is its integral ``N(t)``; the k-th request is placed where
    ``N(t) = k + 0.5`` (evenly spaced in N, so the plan is deterministic and exactly as dense
    as the target). Returns offsets in ``[0, duration)``.
    """
    ramp = min(max(ramp_up, 0.0), duration)
    at_ramp_end = rate * ramp / 2.0
    total = at_ramp_end + rate * (duration - ramp)
    offsets: list[float] = []
    k = 0
    while (n := k + 0.5) < total:
        offsets.append(math.sqrt(2.0 * n * ramp / rate) if n < at_ramp_end else ramp + (n - at_ramp_end) / rate)
        k += 1
    return offsets


def user_start_offsets(users: int, ramp_up: float) -> list[float]:
    """When each simulated user joins: evenly over the ramp-up, the first at once."""
    return [ramp_up * i / users for i in range(users)]


def plan_requests(profile: FFLoadProfile, mix: FFWorkloadMix, seed: int) -> list[FFPlannedRequest]:
    """The whole run's requests, decided before it starts (same seed, same plan).

    Each arrival goes to the users that have joined by then, in turn, so load spreads evenly
    over the users present.
    """
    rng = random.Random(seed)
    starts = user_start_offsets(profile.users, profile.ramp_up)
    plan = []
    for k, offset in enumerate(arrival_offsets(profile.rate, profile.duration, profile.ramp_up)):
        present = max(1, bisect.bisect_right(starts, offset))
        plan.append(FFPlannedRequest(offset=offset, user=k % present, operation=mix.choose(rng)))
    return plan


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, interpolated linearly between ranks.

    The same definition as numpy's default ("linear"); 0.0 for no values.
    """
    if not sorted_values:
        return 0.0
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    position = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)
    return min(max(value, sorted_values[low]), sorted_values[high])


@dataclass
class FFLatencyRecorder:
    """Latencies (intended start -> end) and service times (actual start -> end) per operation."""

    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    service_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    max_error_samples: int = 10
    completions: list[tuple[float, float | None]] = field(default_factory=list)
    """(seconds since the load started, latency in ms or None for an error), for the timeline."""

    def success(self, operation: str, latency_ms: float, service_ms: float, at: float | None = None) -> None:
        self.latencies_ms.setdefault(operation, []).append(latency_ms)
        self.service_ms.setdefault(operation, []).append(service_ms)
        if at is not None:
            self.completions.append((at, latency_ms))

    def error(self, operation: str, reason: str, at: float | None = None) -> None:
        if at is not None:
            self.completions.append((at, None))
        self.errors[operation] = self.errors.get(operation, 0) + 1
        if len(self.error_samples) < self.max_error_samples:
            self.error_samples.append(f"{operation}: {reason}")

    @property
    def operations(self) -> list[str]:
        seen = set(self.latencies_ms) | set(self.errors)
        return [op for op in OPERATIONS if op in seen] + sorted(seen - set(OPERATIONS))

    @property
    def total_ok(self) -> int:
        return sum(len(v) for v in self.latencies_ms.values())

    @property
    def total_errors(self) -> int:
        return sum(self.errors.values())


def _stats(operation: str, values: list[float], errors: int, elapsed_seconds: float) -> FFOperationStatsDTO:
    return FFOperationStatsDTO(
        operation=operation,
        count=len(values),
        errors=errors,
        min_ms=values[0] if values else 0.0,
        p50_ms=percentile(values, 50),
        p90_ms=percentile(values, 90),
        p95_ms=percentile(values, 95),
        p99_ms=percentile(values, 99),
        mean_ms=sum(values) / len(values) if values else 0.0,
        max_ms=values[-1] if values else 0.0,
        throughput_ops=len(values) / elapsed_seconds if elapsed_seconds > 0 else 0.0,
    )


def overall_stats(recorder: FFLatencyRecorder, elapsed_seconds: float) -> FFOperationStatsDTO:
    """Every request of the load together (operation ``*``): k6's and Locust's headline line."""
    values = sorted(v for op in recorder.latencies_ms.values() for v in op)
    return _stats("*", values, recorder.total_errors, elapsed_seconds)


def operation_stats(recorder: FFLatencyRecorder, elapsed_seconds: float) -> list[FFOperationStatsDTO]:
    """Per-operation percentiles of the latencies and throughput of successes over the run."""
    return [
        _stats(op, sorted(recorder.latencies_ms.get(op, [])), recorder.errors.get(op, 0), elapsed_seconds)
        for op in recorder.operations
    ]


def timeline(recorder: FFLatencyRecorder, elapsed_seconds: float, slices: int = 40) -> list[FFLoadIntervalDTO]:
    """Throughput and latency percentiles per time slice (k6's and Locust's "over time" charts).

    The run is divided into at most ``slices`` equal slices of at least one second; each holds the
    requests that *completed* in it (all operations together). Empty slices are kept (zero
    throughput is a finding). Needs ``recorder.completions`` (filled by :func:`run_load`).
    """
    if not recorder.completions or elapsed_seconds <= 0:
        return []
    # Equal slices of at least a second: a short last slice would show a few requests as a
    # huge rate, so the run is divided evenly instead of cut every ``width`` seconds.
    count = max(1, min(slices, math.floor(elapsed_seconds)))
    width = elapsed_seconds / count
    latencies: list[list[float]] = [[] for _ in range(count)]
    errors = [0] * count
    for at, latency in recorder.completions:
        index = min(max(int(at // width), 0), count - 1)
        if latency is None:
            errors[index] += 1
        else:
            latencies[index].append(latency)
    intervals = []
    for index in range(count):
        values = sorted(latencies[index])
        length = width
        intervals.append(
            FFLoadIntervalDTO(
                start_seconds=index * width,
                seconds=length,
                ok=len(values),
                errors=errors[index],
                throughput_ops=len(values) / length,
                min_ms=values[0] if values else 0.0,
                p50_ms=percentile(values, 50),
                p90_ms=percentile(values, 90),
                p95_ms=percentile(values, 95),
                p99_ms=percentile(values, 99),
                max_ms=values[-1] if values else 0.0,
            )
        )
    return intervals


def find_regressions(
    current: Sequence[FFOperationStatsDTO],
    baseline: FFPerformanceSummaryDTO,
    margin_percent: float,
    *,
    floor_ms: float = REGRESSION_FLOOR_MS,
) -> list[str]:
    """Operations whose p95 grew beyond ``margin_percent`` (and ``floor_ms``) over the baseline's,
    and operations whose error count appeared where the baseline had none."""
    before = {op.operation: op for op in baseline.operations}
    found = []
    for op in current:
        old = before.get(op.operation)
        if old is None:
            continue
        limit = old.p95_ms * (1 + margin_percent / 100.0)
        if op.count and old.count and op.p95_ms > limit and op.p95_ms - old.p95_ms >= floor_ms:
            found.append(
                f"{op.operation}: p95 {op.p95_ms:.2f} ms vs {old.p95_ms:.2f} ms in the baseline "
                f"(+{(op.p95_ms / old.p95_ms - 1) * 100 if old.p95_ms > 0 else math.inf:.0f}%, margin {margin_percent:g}%)"
            )
        if op.errors and not old.errors:
            found.append(f"{op.operation}: {op.errors} error(s), none in the baseline")
    return found


def threshold_failures(
    summary: FFPerformanceSummaryDTO,
    *,
    max_p95_ms: float,
    max_error_rate_percent: float,
    max_memory_mb: float,
    max_cpu_percent: float,
    operation_p95_ms: Mapping[str, float] | None = None,
) -> list[str]:
    """Every configured ceiling the run went over, one line each.

    ``operation_p95_ms`` gives single operations their own p95 ceiling; the rest use ``max_p95_ms``.
    """
    ceilings = operation_p95_ms or {}
    failures = [
        f"{op.operation}: p95 {op.p95_ms:.1f} ms > {ceilings.get(op.operation, max_p95_ms):g} ms"
        for op in summary.operations
        if op.p95_ms > ceilings.get(op.operation, max_p95_ms)
    ]
    if summary.error_rate_percent > max_error_rate_percent:
        failures.append(f"error rate {summary.error_rate_percent:.2f}% > {max_error_rate_percent:g}%")
    if summary.peak_rss_mb > max_memory_mb:
        failures.append(f"peak RSS {summary.peak_rss_mb:.1f} MB > {max_memory_mb:g} MB")
    if summary.peak_cpu_percent > max_cpu_percent:
        failures.append(f"peak CPU {summary.peak_cpu_percent:.0f}% > {max_cpu_percent:g}%")
    return failures


# ---------------------------------------------------------------------------------- I/O edge


class FFResourceSampler:
    """Samples this process's CPU (100 = one core) and RSS with psutil while the load runs."""

    def __init__(self, interval: float = 0.5, *, process: psutil.Process | None = None) -> None:
        self.interval = interval
        self.process = process or psutil.Process()
        self.samples: list[FFResourceSampleDTO] = []
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0

    def _sample(self) -> None:
        self.samples.append(
            FFResourceSampleDTO(
                elapsed_seconds=round(time.perf_counter() - self._started, 3),
                cpu_percent=self.process.cpu_percent(interval=None),
                rss_mb=self.process.memory_info().rss / (1024 * 1024),
            )
        )

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._sample()

    async def __aenter__(self) -> FFResourceSampler:
        self._started = time.perf_counter()
        self.process.cpu_percent(interval=None)  # starts psutil's interval; the first read covers a real span
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._sample()  # the last stretch, so a short run still has its end covered


@dataclass
class FFLoadResult:
    """What one load run measured."""

    recorder: FFLatencyRecorder
    planned: int
    elapsed_seconds: float
    """From the first intended start to the last completion."""
    unfinished: int
    """Requests still queued or running at the drain deadline (counted as errors)."""
    max_dispatch_lag_ms: float
    """How late the scheduler itself put a request on its user's queue (event-loop stalls)."""


Executor = Callable[[int, str], Awaitable[None]]


async def run_load(
    plan: Sequence[FFPlannedRequest],
    users: int,
    execute: Executor,
    *,
    drain_seconds: float = 10.0,
    ramp_up: float = 0.0,
) -> FFLoadResult:
    """Issue ``plan`` open loop to ``users`` concurrent workers; record every outcome.

    Requests wait in one queue for a free worker (at most ``users`` run at once; worker i joins
    at ``user_start_offsets(users, ramp_up)[i]``), so a slow request, such as a tool run, holds
    one worker, not everyone behind it. ``execute(user, operation)`` performs one request for the
    request's user and raises if it failed; any exception other than cancellation is an error of
    that operation (the load test's job is to count them, not to stop at the first). Requests
    not finished ``drain_seconds`` after the last arrival are cancelled and counted as errors.
    """
    recorder = FFLatencyRecorder()
    queue: asyncio.Queue[tuple[float, FFPlannedRequest] | None] = asyncio.Queue()
    clock = time.perf_counter
    t0 = clock() + 0.01  # a moment to start the workers before the first arrival
    finished = 0
    last_end = t0

    async def worker(join_at: float) -> None:
        nonlocal finished, last_end
        delay = t0 + join_at - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        while (item := await queue.get()) is not None:
            intended, request = item
            started = clock()
            try:
                await execute(request.user, request.operation)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # isolation is the point: one failed request is one error, the load goes on
                recorder.error(request.operation, f"{type(exc).__name__}: {exc}", at=clock() - t0)
            else:
                end = clock()
                recorder.success(request.operation, (end - intended) * 1000, (end - started) * 1000, at=end - t0)
            finished += 1
            last_end = clock()

    workers = [asyncio.create_task(worker(join_at)) for join_at in user_start_offsets(users, ramp_up)]
    max_lag = 0.0
    try:
        for request in plan:
            intended = t0 + request.offset
            delay = intended - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            max_lag = max(max_lag, clock() - intended)
            queue.put_nowait((intended, request))
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.wait(workers, timeout=drain_seconds)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    unfinished = len(plan) - finished
    if unfinished:
        counted = {op: len(recorder.latencies_ms.get(op, [])) + recorder.errors.get(op, 0) for op in OPERATIONS}
        wanted: dict[str, int] = {}
        for request in plan:
            wanted[request.operation] = wanted.get(request.operation, 0) + 1
        for op, n in wanted.items():
            for _ in range(n - counted.get(op, 0)):
                recorder.error(op, f"not finished {drain_seconds:g}s after the last arrival")
    return FFLoadResult(
        recorder=recorder,
        planned=len(plan),
        elapsed_seconds=max(last_end - t0, 1e-9),
        unfinished=unfinished,
        max_dispatch_lag_ms=max_lag * 1000,
    )
