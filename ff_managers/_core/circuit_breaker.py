"""One circuit breaker state machine, shared by the tool runs and the communication endpoints.

Why it is written here rather than taken from a library: ``pybreaker`` counts *exceptions* of
synchronous calls (its async support goes through Tornado); ``aiobreaker`` has had no release
since 2021; ``purgatory`` reads the wall clock itself. Our failures are *results* (a tool run's
status, an endpoint's 5xx or reset) and the tests drive the cool-down with an injected clock, so a
small state machine is smaller than any adapter.

closed --(threshold failures in a row)--> open --(cool-down)--> half_open
half_open --(the one trial succeeds)--> closed;  half_open --(it fails)--> open (a full cool-down)
"""

from __future__ import annotations

from collections.abc import Callable

from ff_class_configs.ff_tool_dtos import FFBreakerState

__all__ = ["FFBreakerState", "FFCircuitBreaker"]

Seconds = Callable[[], float]


class FFCircuitBreaker:
    """Opens after ``threshold`` consecutive failures; after ``cooldown`` seconds lets one trial through.

    ``now`` returns seconds on any monotonic scale (the owner passes its injected clock).
    """

    def __init__(self, *, threshold: int, cooldown: float, now: Seconds) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._now = now
        self._state = FFBreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False

    @property
    def state(self) -> FFBreakerState:
        if self._state == FFBreakerState.OPEN and self._now() - self._opened_at >= self.cooldown:
            self._state = FFBreakerState.HALF_OPEN
            self._trial_running = False
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def would_allow(self) -> bool:
        """What :meth:`allow` would answer, without taking the half-open trial slot.

        A balancer asks this of every candidate and calls :meth:`allow` only on the one it picks.
        """
        state = self.state
        return state == FFBreakerState.CLOSED or (state == FFBreakerState.HALF_OPEN and not self._trial_running)

    def allow(self) -> bool:
        """True if a call may start now; in half-open state only the first caller gets True."""
        state = self.state
        if state == FFBreakerState.CLOSED:
            return True
        if state == FFBreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self._state = FFBreakerState.CLOSED
        self._failures = 0
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state == FFBreakerState.HALF_OPEN or self._failures >= self.threshold:
            self._state = FFBreakerState.OPEN
            self._opened_at = self._now()
        self._trial_running = False

    def release_trial(self) -> None:
        """A trial that ended without a verdict (e.g. refused later) frees the half-open slot."""
        self._trial_running = False
