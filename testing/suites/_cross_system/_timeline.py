"""Per-second slices, per-transport figures and failover windows, from the raw attempts (pure).

A failover window runs from a fault's injection to the first success routed to the recovered
instance (or to its clearing when it never recovered), plus a settling margin. An attempt that
overlaps any window is a failover sample: its latency is reported apart and kept out of the
steady-state percentiles, as the seed's "communication latency" is a steady-state figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ff_class_configs.ff_test_result_dtos import FFCrossSystemIntervalDTO, FFTransportStatsDTO
from testing._load import percentile
from testing.suites._cross_system._samples import FFAttempt, FFFaultRecord

__all__ = ["DEFAULT_SETTLE_SECONDS", "failover_windows", "in_windows", "split_steady", "timeline", "transport_stats"]

DEFAULT_SETTLE_SECONDS = 0.5

Window = tuple[float, float]


def failover_windows(faults: Iterable[FFFaultRecord], settle: float = DEFAULT_SETTLE_SECONDS) -> list[Window]:
    """The windows of the faults that can disturb latency, merged where they overlap, in order."""
    spans = sorted(f.window(settle) for f in faults if f.affects_latency)
    merged: list[Window] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def in_windows(attempt: FFAttempt, windows: Sequence[Window]) -> bool:
    """Whether the attempt (scheduled .. end) overlaps any window."""
    return any(attempt.scheduled <= end and attempt.end >= start for start, end in windows)


def split_steady(attempts: Iterable[FFAttempt], windows: Sequence[Window]) -> tuple[list[FFAttempt], list[FFAttempt]]:
    """(steady-state attempts, failover attempts)."""
    steady: list[FFAttempt] = []
    failover: list[FFAttempt] = []
    for attempt in attempts:
        (failover if in_windows(attempt, windows) else steady).append(attempt)
    return steady, failover


def _span(attempts: Sequence[FFAttempt]) -> float:
    if not attempts:
        return 0.0
    return max(a.end for a in attempts) - min(a.scheduled for a in attempts)


def transport_stats(attempts: Sequence[FFAttempt], windows: Sequence[Window]) -> list[FFTransportStatsDTO]:
    """One row per transport, in first-seen order: availability over every attempt, latency of
    the steady state, failover samples apart."""
    order: list[str] = []
    for attempt in attempts:
        if attempt.transport not in order:
            order.append(attempt.transport)
    rows = []
    for transport in order:
        mine = [a for a in attempts if a.transport == transport]
        ok = [a for a in mine if a.ok]
        steady, failover = split_steady(ok, windows)
        latencies = sorted(a.latency_ms for a in steady)
        failover_latencies = sorted(a.latency_ms for a in failover)
        span = _span(mine)
        rows.append(
            FFTransportStatsDTO(
                transport=transport,
                attempts=len(mine),
                ok=len(ok),
                errors=len(mine) - len(ok),
                availability_percent=100.0 * len(ok) / len(mine) if mine else None,
                throughput_ops=len(ok) / span if span > 0 else 0.0,
                steady_count=len(steady),
                p50_ms=percentile(latencies, 50) if latencies else None,
                p95_ms=percentile(latencies, 95) if latencies else None,
                p99_ms=percentile(latencies, 99) if latencies else None,
                max_ms=latencies[-1] if latencies else None,
                failover_count=sum(1 for a in mine if in_windows(a, windows)),
                failover_p95_ms=percentile(failover_latencies, 95) if failover_latencies else None,
            )
        )
    return rows


def timeline(attempts: Sequence[FFAttempt], slice_seconds: float = 1.0) -> list[FFCrossSystemIntervalDTO]:
    """Attempts, successes, errors and p95 per slice, by the time each attempt ended."""
    if not attempts:
        return []
    last = max(a.end for a in attempts)
    count = max(1, math.ceil(last / slice_seconds))
    buckets: list[list[FFAttempt]] = [[] for _ in range(count)]
    for attempt in attempts:
        index = min(count - 1, max(0, int(attempt.end // slice_seconds)))
        buckets[index].append(attempt)
    rows = []
    for index, bucket in enumerate(buckets):
        ok = sorted(a.latency_ms for a in bucket if a.ok)
        rows.append(
            FFCrossSystemIntervalDTO(
                start_seconds=index * slice_seconds,
                seconds=slice_seconds,
                attempts=len(bucket),
                ok=len(ok),
                errors=len(bucket) - len(ok),
                throughput_ops=len(ok) / slice_seconds,
                p95_ms=percentile(ok, 95) if ok else None,
            )
        )
    return rows
