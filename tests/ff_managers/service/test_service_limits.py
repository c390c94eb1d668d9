"""The service's moving-window rate limiter, on an injected clock (no thread, no sleeping)."""

from __future__ import annotations

import threading

import pytest

from ff_managers._service.errors import FFRateLimitError
from ff_managers._service.limits import FFMovingWindow, FFRateLimiter


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_moves_rather_than_resetting_on_a_boundary() -> None:
    clock = _Clock()
    limiter = FFRateLimiter("3/minute", "1/minute", clock=clock)
    limiter.spend("a")  # t=0
    clock.now += 40
    limiter.spend("a", 2)  # t=40: the window is full
    clock.now += 10
    with pytest.raises(FFRateLimitError) as refused:
        limiter.spend("a")  # t=50
    assert refused.value.retry_after == 10  # the t=0 unit leaves the window at t=60
    clock.now += 10.5
    limiter.spend("a")  # t=60.5: one unit has left
    with pytest.raises(FFRateLimitError) as refused:
        limiter.spend("a", 2)
    assert refused.value.retry_after == 40  # both t=40 units must leave (t=100)
    limiter.spend("b", 3)  # keys are independent


def test_a_refusal_spends_nothing_in_any_of_the_limits() -> None:
    clock = _Clock()
    limiter = FFRateLimiter("2/second;3/minute", "1/minute", clock=clock)
    limiter.spend("a", 2)
    with pytest.raises(FFRateLimitError):
        limiter.spend("a")  # refused by the per-second limit: the per-minute one must not count it
    clock.now += 1.5
    limiter.spend("a")  # third unit of the minute
    clock.now += 1.5
    with pytest.raises(FFRateLimitError) as refused:
        limiter.spend("a")
    assert refused.value.retry_after == 57  # the minute limit, from the first units at t=0


def test_a_cost_beyond_the_limit_never_fits() -> None:
    limiter = FFRateLimiter("2/second", "1/minute", clock=_Clock())
    with pytest.raises(FFRateLimitError) as refused:
        limiter.spend("a", 3)
    assert refused.value.retry_after == 1
    limiter.spend("a", 2)  # nothing was spent by the refusal


def test_failed_authentications_are_counted_per_address_and_stop_at_the_budget() -> None:
    clock = _Clock()
    limiter = FFRateLimiter("100/second", "2/minute", clock=clock)
    limiter.failed_auth("10.0.0.1")
    limiter.check_address("10.0.0.1")
    limiter.failed_auth("10.0.0.1")
    with pytest.raises(FFRateLimitError) as refused:
        limiter.check_address("10.0.0.1")
    assert refused.value.retry_after == 60
    limiter.failed_auth("10.0.0.1")  # a full window stays full: it does not push the end further
    clock.now += 60
    limiter.check_address("10.0.0.1")
    limiter.check_address("10.0.0.2")


def test_idle_keys_are_forgotten_so_memory_follows_active_keys() -> None:
    clock = _Clock()
    window = FFMovingWindow(5, 1.0, clock)
    for n in range(1000):
        window.spend(f"k{n}", 1, clock.now)
    assert window.keys() == 1000
    clock.now += 2
    window.spend("fresh", 1, clock.now)  # the sweep runs at most once per window length
    assert window.keys() == 1


def test_the_limiter_starts_no_thread() -> None:
    """The library's MemoryStorage started a Timer thread per 10 ms of traffic, blocking the loop."""
    before = threading.active_count()
    limiter = FFRateLimiter("1000/second", "10/minute")
    for n in range(200):
        limiter.spend(f"user:{n % 3}")
        limiter.check_address("127.0.0.1")
    assert threading.active_count() == before
