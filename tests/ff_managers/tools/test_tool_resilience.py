"""The breaker state machine, the token bucket and the retry helper, on injected clocks and sleeps."""

from __future__ import annotations

import pytest

from ff_managers._core import circuit_breaker
from ff_managers._tools.resilience import FFBreakerState, FFCircuitBreaker, FFUserRateLimiter, ff_retry


class Seconds:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_tools_use_the_one_shared_breaker() -> None:
    assert FFCircuitBreaker is circuit_breaker.FFCircuitBreaker  # the comm endpoints use it too


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    now = Seconds()
    breaker = FFCircuitBreaker(threshold=3, cooldown=10, now=now)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # a success resets the count
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == FFBreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state == FFBreakerState.OPEN and not breaker.allow()


def test_breaker_half_open_lets_exactly_one_trial_through() -> None:
    now = Seconds()
    breaker = FFCircuitBreaker(threshold=1, cooldown=10, now=now)
    breaker.record_failure()
    now.value += 9.99
    assert not breaker.allow()
    now.value += 0.01
    assert breaker.state == FFBreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.release_trial()
    assert breaker.allow()
    breaker.record_failure()  # failed trial: open again for a full cool-down
    assert breaker.state == FFBreakerState.OPEN
    now.value += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == FFBreakerState.CLOSED and breaker.consecutive_failures == 0


def test_rate_limiter_bursts_then_refills_per_user() -> None:
    now = Seconds()
    limiter = FFUserRateLimiter(6, now=now)  # 6 a minute: one token every 10 s
    assert [limiter.try_acquire("a") for _ in range(7)] == [True] * 6 + [False]
    assert limiter.try_acquire("b")
    now.value += 9.9
    assert not limiter.try_acquire("a")
    now.value += 0.1
    assert limiter.try_acquire("a") and not limiter.try_acquire("a")
    now.value += 3600  # refill is capped at the burst size
    assert [limiter.try_acquire("a") for _ in range(7)] == [True] * 6 + [False]


async def test_retry_returns_the_first_non_transient_result_with_exponential_waits() -> None:
    results = iter(["busy", "busy", "busy", "done"])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def attempt() -> str:
        return next(results)

    value = await ff_retry(attempt, is_transient=lambda r: r == "busy", max_attempts=5, backoff=0.5, backoff_max=1.5, sleep=sleep)
    assert value == "done" and waits == [0.5, 1.0, 1.5]


async def test_retry_gives_back_the_last_result_when_attempts_run_out() -> None:
    calls = 0

    async def attempt() -> int:
        nonlocal calls
        calls += 1
        return calls

    async def sleep(seconds: float) -> None:
        return None

    assert await ff_retry(attempt, is_transient=lambda r: True, max_attempts=3, backoff=0, backoff_max=0, sleep=sleep) == 3


async def test_retry_does_not_swallow_exceptions() -> None:
    async def attempt() -> int:
        raise RuntimeError("boom")

    async def sleep(seconds: float) -> None:
        return None

    with pytest.raises(RuntimeError):
        await ff_retry(attempt, is_transient=lambda r: True, max_attempts=3, backoff=0, backoff_max=0, sleep=sleep)
