"""Rate limits per principal (the ``limits`` library, moving window) shared by every transport.

One limiter serves HTTP, WebSocket and TCP, so a principal's budget is the same whichever way
it calls; an operation spends its registry ``rate_cost``. Failed authentications are limited
per client address with their own budget, so guessing keys is slow too.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ff_managers._service.errors import FFRateLimitError
from ff_utils.ff_errors import FFConfigError

__all__ = ["FFRateLimiter"]


def _parse(text: str, setting: str) -> list[RateLimitItem]:
    try:
        items = parse_many(text)
    except ValueError as exc:
        raise FFConfigError(f"service.{setting} is not a rate limit such as '100/second': {text!r}") from exc
    if not items:
        raise FFConfigError(f"service.{setting} names no limit: {text!r}")
    return items


class FFRateLimiter:
    """``spend(key, cost)`` or FFRateLimitError with the seconds until the window has room."""

    def __init__(self, requests: str, auth_failures: str) -> None:
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._requests = _parse(requests, "rate_limit")
        self._failures = _parse(auth_failures, "auth_failure_rate_limit")

    def spend(self, key: str, cost: int = 1) -> None:
        self._take(self._requests, key, cost)

    def check_address(self, address: str) -> None:
        """Refuse an address that has used its failed-authentication budget (without spending)."""
        for item in self._failures:
            if not self._limiter.test(item, "auth", address):
                raise FFRateLimitError("too many failed authentications", retry_after=self._retry_after(item, "auth", address))

    def failed_auth(self, address: str) -> None:
        for item in self._failures:
            self._limiter.hit(item, "auth", address)

    def _take(self, items: list[RateLimitItem], key: str, cost: int) -> None:
        for item in items:
            if not self._limiter.hit(item, "req", key, cost=cost):
                raise FFRateLimitError("rate limit exceeded", retry_after=self._retry_after(item, "req", key))

    def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = self._limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))
