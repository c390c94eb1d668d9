"""The open-loop load of the cross-system suite: arrivals on a seeded schedule, not on replies.

A closed loop (send, wait, send) slows down when the system does and so hides exactly the stalls
a failover causes (coordinated omission). Here every arrival time is drawn up front from a
seeded Poisson process (or a fixed interval) and each request is started at its time whatever
the earlier ones are doing; its latency is measured from the *scheduled* time, so time spent
waiting in the generator counts against the system, as a user would feel it.

Every attempt is recorded (:class:`FFAttempt`): when it was due, sent and finished, over which
transport, which endpoint answered, the outcome and the error kind. The generator bounds itself:
at most ``max_in_flight`` requests at once; an arrival beyond that is recorded as ``shed`` (and
marks the generator saturated, which makes the latency gates inconclusive, see ``_gates``).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from testing.suites._cross_system._samples import FFAttempt

__all__ = ["FFArrival", "FFOpenLoopGenerator", "FFSendResult", "arrival_schedule"]

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class FFArrival:
    """One scheduled request: when (seconds after the start), over which transport, what."""

    at: float
    index: int
    transport: str
    operation: str


@dataclass(frozen=True, slots=True)
class FFSendResult:
    """What the sender reports back about one attempt."""

    outcome: str
    endpoint: str = ""
    error_kind: str = ""
    message_id: str = ""


Sender = Callable[[FFArrival], Awaitable[FFSendResult]]


def arrival_schedule(
    rate: float,
    seed: int,
    transports: Sequence[str],
    mix: Sequence[tuple[str, float]],
    *,
    poisson: bool = True,
) -> Iterator[FFArrival]:
    """An endless, seeded sequence of arrivals at ``rate`` per second.

    Transports take turns (so each gets the same share); operations are drawn from ``mix``
    (``(operation, weight)``). The same seed gives the same schedule.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    rng = random.Random(seed)
    names = [name for name, _ in mix]
    weights = [weight for _, weight in mix]
    at = 0.0
    for index in itertools.count():
        at += rng.expovariate(rate) if poisson else 1.0 / rate
        yield FFArrival(at=at, index=index, transport=transports[index % len(transports)],
                        operation=rng.choices(names, weights)[0])


@dataclass
class FFOpenLoopGenerator:
    """Starts each arrival at its time through ``send``; records every attempt.

    ``start()`` begins at once; ``stop()`` ends the schedule and waits (bounded by
    ``drain_seconds``) for what is in flight; unfinished requests are cancelled and recorded as
    timeouts. ``clock`` is injectable; times in the records are seconds since ``origin``.
    """

    schedule: Iterator[FFArrival]
    send: Sender
    origin: float
    clock: Clock = time.perf_counter
    max_in_flight: int = 256
    attempt_timeout: float = 10.0
    drain_seconds: float = 10.0
    attempts: list[FFAttempt] = field(default_factory=list)
    max_dispatch_lag_ms: float = 0.0
    shed: int = 0
    _task: asyncio.Task[None] | None = None
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    _started_at: float = 0.0
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def now(self) -> float:
        return self.clock() - self.origin

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the generator is already running")
        self._started_at = self.now()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ff-cross-load")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        for arrival in self.schedule:
            due = self._started_at + arrival.at
            delay = due - self.now()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                except TimeoutError:
                    pass
            if self._stopping.is_set():
                return
            self.max_dispatch_lag_ms = max(self.max_dispatch_lag_ms, (self.now() - due) * 1000.0)
            if len(self._in_flight) >= self.max_in_flight:
                self.shed += 1
                self.attempts.append(FFAttempt(scheduled=due, sent=due, end=self.now(), transport=arrival.transport,
                                               operation=arrival.operation, outcome="shed", error_kind="generator saturated"))
                continue
            task = asyncio.get_running_loop().create_task(self._one(arrival, due))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _one(self, arrival: FFArrival, due: float) -> None:
        sent = self.now()
        try:
            result = await asyncio.wait_for(self.send(arrival), timeout=self.attempt_timeout)
        except TimeoutError:
            result = FFSendResult("timeout", error_kind="TimeoutError")
        except asyncio.CancelledError:
            self.attempts.append(FFAttempt(scheduled=due, sent=sent, end=self.now(), transport=arrival.transport,
                                           operation=arrival.operation, outcome="timeout", error_kind="cancelled at drain"))
            raise
        except Exception as exc:  # a sender bug is an attempt that failed, recorded with its type
            result = FFSendResult("exception", error_kind=type(exc).__name__)
        self.attempts.append(FFAttempt(scheduled=due, sent=sent, end=self.now(), transport=arrival.transport,
                                       operation=arrival.operation, outcome=result.outcome,  # type: ignore[arg-type]
                                       endpoint=result.endpoint, error_kind=result.error_kind, message_id=result.message_id))

    async def stop(self) -> None:
        """End the schedule, wait for the requests in flight (bounded), cancel the rest."""
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        pending = set(self._in_flight)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=self.drain_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def since(self, start: float) -> list[FFAttempt]:
        """Attempts that ended at or after ``start`` (seconds since the origin)."""
        return [a for a in self.attempts if a.end >= start]

    def snapshot(self) -> list[FFAttempt]:
        return list(self.attempts)


def describe(attempts: Sequence[FFAttempt]) -> dict[str, Any]:
    """Counts by outcome, for a step's message."""
    counts: dict[str, int] = {}
    for attempt in attempts:
        counts[attempt.outcome] = counts.get(attempt.outcome, 0) + 1
    return counts
