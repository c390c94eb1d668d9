"""Helpers of the balancing tests: a hand-moved monotonic clock and pool builders."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_class_configs.ff_comm_dtos import FFEndpointDTO
from ff_managers._comm.endpoint_pool import FFEndpointPool


class Seconds:
    """A monotonic clock that moves only when told (``now=`` of every comm internal)."""

    def __init__(self, value: float = 1000.0) -> None:
        self.value = value

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> float:
        self.value += seconds
        return self.value


class Events:
    """An ``on_event`` sink that keeps ``(kind, system_id)`` in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, kind: str, system_id: str) -> None:
        self.seen.append((kind, system_id))


def endpoint(system_id: str, port: int = 9000, **fields: Any) -> FFEndpointDTO:
    return FFEndpointDTO(system_id=system_id, port=port, **fields)


def make_pool(
    policy: str,
    weights: dict[str, int] | list[str],
    *,
    clock: Seconds | None = None,
    seed: int = 7,
    events: Events | None = None,
    pool_class: type[FFEndpointPool] = FFEndpointPool,
    strict: bool = False,
    **settings: Any,
) -> FFEndpointPool:
    """A pool of ``policy`` with the endpoints named (in order) at the given weights."""
    config = FFCommConfigDTO(balance_policy=policy, **settings)
    pool = pool_class("g", config, now=clock or Seconds(), rng=random.Random(seed), on_event=events, strict=strict)
    items = weights.items() if isinstance(weights, dict) else ((name, 1) for name in weights)
    for port, (name, weight) in enumerate(items, start=9000):
        pool.add(endpoint(name, port, weight=weight))
    return pool


def picks(pool: FFEndpointPool, n: int, **choose: Any) -> list[str]:
    out = []
    for _ in range(n):
        chosen = pool.choose(**choose)
        out.append(chosen.system_id if chosen is not None else "-")
    return out


def counts(pool: FFEndpointPool, n: int, **choose: Any) -> Counter[str]:
    return Counter(picks(pool, n, **choose))
