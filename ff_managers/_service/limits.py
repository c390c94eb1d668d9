"""Rate limits per principal (moving window) shared by every transport.

One limiter serves HTTP, WebSocket and TCP, so a principal's budget is the same whichever way
it calls; an operation spends its registry ``rate_cost``. Failed authentications are limited
per client address with their own budget, so guessing keys is slow too.

The limits are written in the ``limits`` library's notation (``100/second;5000/minute``) and
parsed by it, but counted here: its ``MemoryStorage`` starts a ``threading.Timer`` thread to expire
entries every 10 ms of traffic, and ``Thread.start`` blocks the event loop until that thread has run
(the service's profile showed 11% of the loop's time there, more at p95 on a busy machine). This
window is a per-key log of ``(moment, cost)`` pruned on use, with no thread: it runs on the event
loop only, and idle keys are swept at most once per window length, so memory follows active keys.
Every limit of a setting is checked before any is spent, so a refusal spends nothing.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, parse_many

from ff_managers._service.errors import FFRateLimitError
from ff_utils.ff_errors import FFConfigError

__all__ = ["FFMovingWindow", "FFRateLimiter"]

Clock = Callable[[], float]


def _parse(text: str, setting: str) -> list[RateLimitItem]:
    try:
        items = parse_many(text)
    except ValueError as exc:
        raise FFConfigError(f"service.{setting} is not a rate limit such as '100/second': {text!r}") from exc
    if not items:
        raise FFConfigError(f"service.{setting} names no limit: {text!r}")
    return items


class FFMovingWindow:
    """At most ``amount`` units per key in any ``period`` seconds (a moving, not a fixed, window)."""

    def __init__(self, amount: int, period: float, clock: Clock) -> None:
        self.amount, self.period = amount, period
        self._clock = clock
        self._logs: dict[str, deque[tuple[float, int]]] = {}
        self._used: dict[str, int] = {}
        self._next_sweep = clock() + period

    def _current(self, key: str, now: float) -> deque[tuple[float, int]] | None:
        """The key's log with the entries older than the window dropped (None when it has none)."""
        log = self._logs.get(key)
        if log is None:
            return None
        horizon = now - self.period
        while log and log[0][0] <= horizon:
            self._used[key] -= log.popleft()[1]
        if not log:
            del self._logs[key], self._used[key]
            return None
        return log

    def room(self, key: str, cost: int, now: float) -> bool:
        used = 0 if self._current(key, now) is None else self._used[key]
        return used + cost <= self.amount

    def spend(self, key: str, cost: int, now: float) -> None:
        """Record ``cost`` units now (the caller checked :meth:`room` first)."""
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = deque()
            self._used[key] = 0
        log.append((now, cost))
        self._used[key] += cost
        if now >= self._next_sweep:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Forget every key with nothing in the window (bounded: once per window length)."""
        horizon = now - self.period
        for key in [k for k, log in self._logs.items() if log[-1][0] <= horizon]:
            del self._logs[key], self._used[key]
        self._next_sweep = now + self.period

    def retry_after(self, key: str, cost: int, now: float) -> float:
        """Seconds until ``cost`` more units fit (the window's whole length when they never fit)."""
        log = self._current(key, now)
        if cost > self.amount or log is None:
            return self.period if cost > self.amount else 0.0
        excess = self._used[key] + cost - self.amount
        for moment, spent in log:
            excess -= spent
            if excess <= 0:
                return moment + self.period - now
        return self.period

    def keys(self) -> int:
        return len(self._logs)


class FFRateLimiter:
    """``spend(key, cost)`` or FFRateLimitError with the seconds until the window has room."""

    def __init__(self, requests: str, auth_failures: str, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._requests = [FFMovingWindow(i.amount, i.get_expiry(), clock) for i in _parse(requests, "rate_limit")]
        self._failures = [FFMovingWindow(i.amount, i.get_expiry(), clock) for i in _parse(auth_failures, "auth_failure_rate_limit")]

    def spend(self, key: str, cost: int = 1) -> None:
        now = self._clock()
        for window in self._requests:
            if not window.room(key, cost, now):
                raise FFRateLimitError("rate limit exceeded", retry_after=_seconds(window.retry_after(key, cost, now)))
        for window in self._requests:
            window.spend(key, cost, now)

    def check_address(self, address: str) -> None:
        """Refuse an address that has used its failed-authentication budget (without spending)."""
        now = self._clock()
        for window in self._failures:
            if not window.room(address, 1, now):
                raise FFRateLimitError("too many failed authentications", retry_after=_seconds(window.retry_after(address, 1, now)))

    def failed_auth(self, address: str) -> None:
        now = self._clock()
        for window in self._failures:
            if window.room(address, 1, now):  # a full window stays full: refused guesses add nothing
                window.spend(address, 1, now)


def _seconds(delay: float) -> int:
    return max(1, math.ceil(delay))
