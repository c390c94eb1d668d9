"""Passive outlier ejection of one endpoint, and the slow-start ramp after it returns.

Envoy's consecutive-5xx detector, on an injected clock:

* ``consecutive`` failures in a row (connect error, reset, timeout, 5xx; never a 4xx, which is the
  caller's fault) eject the endpoint. Failures reported while it is ejected (requests that were
  already in flight) neither extend nor repeat the ejection.
* The n-th ejection in a row lasts ``base_s · 2^(n-1)``, at most ``max_s``: an endpoint that keeps
  failing right after each return stays out longer each time instead of flapping. The level
  decays by one for every ``max_s`` the endpoint spends back without being ejected, so one bad
  morning does not punish it forever.
* The ejection ends by itself when its time is up (there is no probe: the next real request is
  the probe, and ``consecutive`` more failures send it back out for twice as long).

Slow start (:func:`ff_slow_start_ramp`): an endpoint that returns, from ejection or from a failed
active health check, starts at :data:`SLOW_START_MIN` of its weight and ramps linearly to its full
weight over ``slow_start_s``, so a cold instance (empty caches, JIT, pools) is not handed its full
share at once. The floor keeps a trickle of traffic flowing so the endpoint can prove itself.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["FFOutlierDetector", "SLOW_START_MIN", "ff_slow_start_ramp"]

Seconds = Callable[[], float]

SLOW_START_MIN = 0.1
"""the share of its weight a returning endpoint starts with (Envoy's min_weight_percent is 10 %)"""


def ff_slow_start_ramp(returned_at: float | None, now: float, slow_start_s: float) -> float:
    """The fraction of its weight an endpoint gets ``now``: linear from SLOW_START_MIN to 1."""
    if returned_at is None or slow_start_s <= 0:
        return 1.0
    elapsed = now - returned_at
    if elapsed >= slow_start_s:
        return 1.0
    return SLOW_START_MIN + (1.0 - SLOW_START_MIN) * max(0.0, elapsed) / slow_start_s


class FFOutlierDetector:
    """Consecutive-failure ejection with an exponentially growing ejection time (one per endpoint)."""

    def __init__(self, *, consecutive: int, base_s: float, max_s: float, now: Seconds) -> None:
        self.consecutive = consecutive
        self.base_s = base_s
        self.max_s = max(max_s, base_s)
        self._now = now
        self.consecutive_failures = 0
        self.ejections = 0
        """ejections since the endpoint was added (a metric; never decays)"""
        self._level = 0
        self._ejected_until: float | None = None
        self._returned_at: float | None = None

    @property
    def ejected_until(self) -> float | None:
        """When the current ejection ends (None: not ejected)."""
        return self._ejected_until

    @property
    def returned_at(self) -> float | None:
        """When the last ejection ended (None: never ejected)."""
        return self._returned_at

    @property
    def level(self) -> int:
        """Ejections in a row that count towards the next ejection's length."""
        return self._level

    def poll(self) -> bool:
        """End the ejection if its time is up; True exactly once, when it ends."""
        if self._ejected_until is not None and self._now() >= self._ejected_until:
            self._returned_at = self._ejected_until
            self._ejected_until = None
            self.consecutive_failures = 0
            return True
        return False

    @property
    def is_ejected(self) -> bool:
        self.poll()
        return self._ejected_until is not None

    def end_ejection(self) -> bool:
        """End the ejection now (the endpoint proved itself back); True if it was ejected."""
        if not self.is_ejected:
            return False
        self._returned_at = self._now()
        self._ejected_until = None
        self.consecutive_failures = 0
        return True

    def record_success(self) -> None:
        self.consecutive_failures = 0

    def record_failure(self) -> bool:
        """Count one failure; True when this one ejects the endpoint."""
        if self.is_ejected:
            return False
        self.consecutive_failures += 1
        if self.consecutive_failures < self.consecutive:
            return False
        now = self._now()
        if self._returned_at is not None and self.max_s > 0:
            calm = int((now - self._returned_at) // self.max_s)
            self._level = max(0, self._level - calm)
        duration = min(self.base_s * 2.0**self._level, self.max_s)
        self._level += 1
        self.ejections += 1
        self._ejected_until = now + duration
        self.consecutive_failures = 0
        return True
