"""What the communication manager counts, per endpoint and per protocol.

Counters (sent, received, failures, expired, refused, retries) and the latency of every attempt
that got an answer, kept as the last ``window`` samples (percentiles p50/p95/p99 by nearest
rank), plus the pool's state changes (ejections, breaker openings, health flips). ``get_metrics``
reads them; when an ``FFMetricsCollectionManager`` is given, each sample is also queued for it
(``comm.latency_ms``, ``comm.sent``, ``comm.failures``, ``comm.ejections`` ... tagged with
endpoint and protocol) and written by :meth:`FFCommMetrics.flush`, which the manager's
background task calls every second and once more on close, so recording never sits on the
send path.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from ff_utils.ff_logging import get_logger

__all__ = ["FFCommMetrics", "ff_percentile"]

_log = get_logger("comm.metrics")
_MAX_PENDING = 50_000  # samples waiting for the metrics manager; past it the oldest are dropped


def ff_percentile(samples: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(slots=True)
class _Stats:
    sent: int = 0
    received: int = 0
    failures: int = 0
    errors: int = 0
    expired: int = 0
    refused: int = 0
    retries: int = 0
    events: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=4096))

    def view(self) -> dict[str, Any]:
        samples = list(self.latencies_ms)
        return {
            "sent": self.sent, "received": self.received, "failures": self.failures, "error_replies": self.errors,
            "expired": self.expired, "refused": self.refused, "retries": self.retries,
            "ejections": self.events.get("ejected", 0), "events": dict(self.events),
            "latency_ms": {"count": len(samples), "p50": ff_percentile(samples, 50), "p95": ff_percentile(samples, 95),
                           "p99": ff_percentile(samples, 99)},
        }  # fmt: skip


class FFCommMetrics:
    def __init__(self, sink: Any = None) -> None:
        self._sink = sink
        self._by_endpoint: dict[str, _Stats] = defaultdict(_Stats)
        self._by_protocol: dict[str, _Stats] = defaultdict(_Stats)
        self._pending: deque[tuple[str, float, dict[str, str]]] = deque(maxlen=_MAX_PENDING)

    def _both(self, system_id: str, protocol: str) -> tuple[_Stats, _Stats]:
        return self._by_endpoint[system_id], self._by_protocol[protocol]

    def _queue(self, name: str, value: float, system_id: str, protocol: str) -> None:
        if self._sink is not None:
            self._pending.append((name, value, {"endpoint": system_id, "protocol": protocol}))

    def count(self, what: str, system_id: str, protocol: str, n: int = 1) -> None:
        """``what``: sent, received, failures, errors, expired, refused or retries."""
        for stats in self._both(system_id, protocol):
            setattr(stats, what, getattr(stats, what) + n)
        self._queue(f"comm.{what}", n, system_id, protocol)

    def latency(self, system_id: str, protocol: str, seconds: float) -> None:
        ms = seconds * 1000
        for stats in self._both(system_id, protocol):
            stats.latencies_ms.append(ms)
        self._queue("comm.latency_ms", ms, system_id, protocol)

    def event(self, kind: str, system_id: str, protocol: str) -> None:
        """A pool state change: ejected, returned, breaker_open, breaker_closed, unhealthy, healthy."""
        for stats in self._both(system_id, protocol):
            stats.events[kind] += 1
        self._queue("comm.ejections" if kind == "ejected" else f"comm.{kind}", 1, system_id, protocol)

    def snapshot(self, pool_use: dict[str, dict[str, Any]]) -> dict[str, Any]:
        endpoints = {sid: {**stats.view(), "pool": pool_use.get(sid, {})} for sid, stats in self._by_endpoint.items()}
        for sid, use in pool_use.items():
            endpoints.setdefault(sid, {**_Stats().view(), "pool": use})
        return {"endpoints": endpoints, "protocols": {p: s.view() for p, s in self._by_protocol.items()}}

    async def flush(self) -> int:
        """Write the queued samples to the metrics manager; how many were written."""
        written = 0
        while self._sink is not None and self._pending:
            name, value, tags = self._pending.popleft()
            kind = "timing" if name == "comm.latency_ms" else "counter"
            try:
                await self._sink.record_metric(name, value, tags=tags, kind=kind)
                written += 1
            except Exception as exc:  # a failing metrics store must not stop communication
                _log.warning("comm metric %s not recorded: %r", name, exc)
        return written
