"""Resilience of tool runs: a circuit breaker per tool, a rate limit per user, retries with backoff.

Why these are written here rather than taken from a library:

* Circuit breaker. The state machine is shared with the communication endpoints and lives in
  :mod:`ff_managers._core.circuit_breaker` (why it is not a library is said there); this
  module keeps one breaker per tool name.
* Rate limit. ``aiolimiter`` is a leaky bucket whose ``acquire()`` *waits* for capacity, timed by
  the event loop's clock; we must *refuse* at once (and audit the refusal) and test the refill
  exactly, so a token bucket with an injected clock does the job in 30 lines.
* Retries use ``tenacity`` (pinned): retry-on-result, exponential backoff and an injectable
  ``sleep``, so backoff is tested without waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt, wait_exponential

from ff_class_configs.ff_tool_dtos import FFBreakerState
from ff_managers._core.circuit_breaker import FFCircuitBreaker

__all__ = ["FFBreakerState", "FFCircuitBreaker", "FFToolBreakers", "FFTokenBucket", "FFUserRateLimiter", "ff_retry"]

T = TypeVar("T")
Seconds = Callable[[], float]


class FFToolBreakers:
    """One breaker per tool name, made on first use with the same threshold and cool-down.

    A tool registered again (``replace=True``) or unregistered starts over: :meth:`forget`.
    """

    def __init__(self, *, threshold: int, cooldown: float, now: Seconds) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._now = now
        self._breakers: dict[str, FFCircuitBreaker] = {}

    def get(self, name: str) -> FFCircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = self._breakers[name] = FFCircuitBreaker(threshold=self.threshold, cooldown=self.cooldown, now=self._now)
        return breaker

    def forget(self, name: str) -> None:
        self._breakers.pop(name, None)

    def not_closed(self) -> list[str]:
        """Names of the tools whose breaker is open or half-open, sorted."""
        return sorted(name for name, breaker in self._breakers.items() if breaker.state != FFBreakerState.CLOSED)


@dataclass(slots=True)
class FFTokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate`` per second."""

    capacity: float
    rate: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class FFUserRateLimiter:
    """A token bucket per user: ``per_minute`` runs a minute, bursts up to ``per_minute``."""

    def __init__(self, per_minute: int, *, now: Seconds) -> None:
        self.per_minute = per_minute
        self._now = now
        self._buckets: dict[str, FFTokenBucket] = {}

    def try_acquire(self, user_id: str) -> bool:
        now = self._now()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = FFTokenBucket(self.per_minute, self.per_minute / 60.0, self.per_minute, now)
        return bucket.take(now)


async def ff_retry(
    attempt: Callable[[], Awaitable[T]],
    *,
    is_transient: Callable[[T], bool],
    max_attempts: int,
    backoff: float,
    backoff_max: float,
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Call ``attempt`` until its result is not transient or ``max_attempts`` ran; return the last result.

    Waits ``backoff``, ``2*backoff``, ``4*backoff``... (capped at ``backoff_max``) between attempts.
    """

    def last_result(state: RetryCallState) -> T:
        assert state.outcome is not None
        return state.outcome.result()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_attempts),
        wait=wait_exponential(multiplier=backoff, min=backoff, max=backoff_max),
        retry=retry_if_result(is_transient),
        sleep=sleep,
        retry_error_callback=last_result,
        reraise=True,
    )
    return await retrying(attempt)
