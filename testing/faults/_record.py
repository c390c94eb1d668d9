"""The fault log: every fault application, with when, what and on which connection.

The proxies and the process faults write to one :class:`FFFaultRecorder`, so a suite can put
every fault of a run on its timeline (seconds on the recorder's clock, and wall time for the
report). The clock is injected: tests and the suite pass the clock their samples use, so a fault
and the requests it hit share one axis.

A run under load applies a latency toxic to every chunk; the log keeps the first ``max_events``
and counts the rest in :attr:`FFFaultRecorder.dropped` rather than grow without bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["FFFaultEvent", "FFFaultRecorder"]


@dataclass(frozen=True, slots=True)
class FFFaultEvent:
    """One application of a fault."""

    at: float
    """Seconds on the recorder's clock (``time.monotonic`` unless one was injected)."""
    wall: datetime
    """Wall time of the same moment, for reports."""
    source: str
    """Which proxy (its name) or ``process`` applied it."""
    fault: str
    """The toxic or fault kind: latency, bandwidth, timeout, reset_peer, slicer, drop, freeze, ..."""
    connection_id: int | None = None
    """The proxy's connection number (UDP: the client's flow number); None for process faults."""
    direction: str | None = None
    """``upstream`` (client to server) or ``downstream`` (server to client); None for process faults."""
    detail: dict[str, Any] = field(default_factory=dict)
    """What exactly was done: the delay in ms, the bytes dropped, the pid group signalled, ..."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["wall"] = self.wall.isoformat()
        return data


class FFFaultRecorder:
    """A bounded, thread-safe list of :class:`FFFaultEvent` (thread-safe because a process fault
    may be applied from a worker thread while the proxies record on the event loop)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_events: int = 100_000,
    ) -> None:
        self._clock = clock
        self._wall = wall_clock
        self._max = max_events
        self._events: list[FFFaultEvent] = []
        self._lock = threading.Lock()
        self.dropped = 0
        """Events not kept because the log was full."""

    def now(self) -> float:
        return self._clock()

    def record(
        self,
        source: str,
        fault: str,
        *,
        connection_id: int | None = None,
        direction: str | None = None,
        **detail: Any,
    ) -> FFFaultEvent:
        event = FFFaultEvent(self._clock(), self._wall(), source, fault, connection_id, direction, detail)
        with self._lock:
            if len(self._events) < self._max:
                self._events.append(event)
            else:
                self.dropped += 1
        return event

    @property
    def events(self) -> list[FFFaultEvent]:
        """A copy, oldest first."""
        with self._lock:
            return list(self._events)

    def of(self, fault: str | None = None, *, source: str | None = None) -> list[FFFaultEvent]:
        """The events of one fault kind and/or one source."""
        return [e for e in self.events if (fault is None or e.fault == fault) and (source is None or e.source == source)]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
            self.dropped = 0
