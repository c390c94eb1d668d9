"""The circuit breaker of one endpoint: the shared state machine, with the pool's settings.

The state machine itself is :class:`ff_managers._core.circuit_breaker.FFCircuitBreaker` (the tool
runs use the same one); this module only builds it from the comm settings, so the pool has one
place that says which settings a breaker takes.
"""

from __future__ import annotations

from collections.abc import Callable

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_managers._core.circuit_breaker import FFBreakerState, FFCircuitBreaker

__all__ = ["FFBreakerState", "FFCircuitBreaker", "ff_endpoint_breaker"]


def ff_endpoint_breaker(config: FFCommConfigDTO, *, now: Callable[[], float]) -> FFCircuitBreaker:
    """A closed breaker that opens after ``breaker_failure_threshold`` failures in a row."""
    return FFCircuitBreaker(threshold=config.breaker_failure_threshold, cooldown=config.breaker_cooldown_s, now=now)
