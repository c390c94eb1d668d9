"""When a failed attempt may be retried: a retry budget (Finagle, Envoy) and the idempotency rule.

A per-request retry count alone multiplies load exactly when a system is failing: with 3 retries
every request becomes 4 and a struggling instance is pushed over. A *budget* caps retries as a
share of traffic instead: over a sliding window of ``window_s`` seconds,

    retries <= retry_budget_ratio · requests + retry_budget_min_per_s · window_s

(Finagle's ``RetryBudget(ttl, minRetriesPerSec, percentCanRetry)``). The floor lets a quiet client
still retry; the ratio keeps retries at, by default, 20 % extra load at most, however bad things
get. Counts are kept in ``buckets`` slices of the window, so memory does not grow with traffic and
a slice leaves the window whole (the window slides in steps of ``window_s / buckets``).

Only some operations may be retried at all (:func:`ff_retry_allowed`): those the registry marks
idempotent, and writes that carry an idempotency key (the server then answers a repeat with the
first result instead of writing twice). A non-idempotent write without a key is never retried,
because a timeout does not say whether the first attempt was applied.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable

from ff_class_configs.ff_comm_config import FFCommConfigDTO

__all__ = ["FFRetryBudget", "ff_retry_allowed", "ff_retry_backoff_s"]

Seconds = Callable[[], float]


def ff_retry_allowed(*, idempotent: bool, idempotency_key: str | None) -> bool:
    """True if a failed attempt of this operation may be sent again (budget permitting)."""
    if idempotent:
        return True
    return idempotency_key is not None and idempotency_key.strip() != ""


def ff_retry_backoff_s(retry: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """The wait before the ``retry``-th retry (1, 2, ...): "full jitter", uniform in [0, min(cap, base·2^(retry-1))].

    Full jitter (rather than a fixed doubling) spreads the retries of many clients that failed at
    the same moment, so a recovering instance is not hit by them all at once.
    """
    if retry < 1:
        raise ValueError("retry counts from 1")
    return rng.uniform(0.0, min(cap_s, base_s * 2.0 ** (retry - 1)))


class FFRetryBudget:
    """Retries allowed as a share of requests over a sliding window, plus a floor per second."""

    def __init__(self, config: FFCommConfigDTO, *, now: Seconds = time.monotonic, window_s: float = 10.0, buckets: int = 10) -> None:
        if window_s <= 0 or buckets < 1:
            raise ValueError("window_s must be > 0 and buckets >= 1")
        self.ratio = config.retry_budget_ratio
        self.min_per_s = config.retry_budget_min_per_s
        self.window_s = window_s
        self._slice = window_s / buckets
        self._buckets = buckets
        self._now = now
        # (slice index, requests, retries), oldest first
        self._slices: deque[list[int]] = deque()

    def _current(self) -> list[int]:
        index = math.floor(self._now() / self._slice)
        while self._slices and self._slices[0][0] <= index - self._buckets:
            self._slices.popleft()
        if not self._slices or self._slices[-1][0] != index:
            self._slices.append([index, 0, 0])
        return self._slices[-1]

    @property
    def requests(self) -> int:
        """First attempts counted in the window now."""
        self._current()
        return sum(s[1] for s in self._slices)

    @property
    def retries(self) -> int:
        """Retries spent in the window now."""
        self._current()
        return sum(s[2] for s in self._slices)

    def allowance(self) -> float:
        """How many retries the window allows in all (spent ones included)."""
        return self.ratio * self.requests + self.min_per_s * self.window_s

    def on_request(self) -> None:
        """Count one first attempt (not a retry)."""
        self._current()[1] += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) when it is spent."""
        current = self._current()
        if self.retries + 1 > self.allowance():
            return False
        current[2] += 1
        return True
