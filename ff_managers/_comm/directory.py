"""The endpoints the manager knows, grouped, each with its pool, handler and send queue.

An endpoint belongs to its ``group`` (an endpoint without one is a group of its own, named by its
``system_id``). Every group has one :class:`FFEndpointPool` (balancing, health, ejection,
breaker); every endpoint has its handler (built on first use, so adding an endpoint opens
nothing) and its priority send queue. ``disconnect`` closes an endpoint's handler and takes it
out of rotation until ``connect``; a removed endpoint's requests in flight finish on their own.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_class_configs.ff_comm_dtos import FFEndpointDTO, FFEndpointStatusDTO
from ff_managers._comm.endpoint_pool import FFEndpointPool
from ff_managers._comm.errors import ff_unknown_target
from ff_managers._comm.handlers.base import FFHandlerContext, FFProtocolHandler
from ff_managers._comm.handlers.registry import FFHandlerRegistry
from ff_managers._comm.send_queue import FFPrioritySendQueue
from ff_utils.ff_errors import FFConflictError

__all__ = ["FFEndpointDirectory"]

PoolEvents = Callable[[str, str], None]


def group_of(endpoint: FFEndpointDTO) -> str:
    return endpoint.group or endpoint.system_id


class FFEndpointDirectory:
    queue_class: type[FFPrioritySendQueue] = FFPrioritySendQueue

    def __init__(self, config: FFCommConfigDTO, context: FFHandlerContext, handlers: FFHandlerRegistry, *,
                 now: Callable[[], float], rng: random.Random, on_event: PoolEvents) -> None:  # fmt: skip
        self.config = config
        self.context = context
        self.handlers = handlers
        self._now, self._rng, self._on_event = now, rng, on_event
        self.endpoints: dict[str, FFEndpointDTO] = {}
        self.pools: dict[str, FFEndpointPool] = {}
        self._handlers: dict[str, FFProtocolHandler] = {}
        self._queues: dict[str, FFPrioritySendQueue] = {}
        self.disconnected: set[str] = set()
        self.on_new_pool: Callable[[FFEndpointPool], None] | None = None

    def add(self, endpoint: FFEndpointDTO) -> FFProtocolHandler | None:
        """Add or update; the handler of the endpoint's old address when that changed (for the caller to close)."""
        group = group_of(endpoint)
        if group in self.endpoints and group not in self.pools:
            raise FFConflictError(f"group {group!r} has the name of an endpoint")
        if endpoint.system_id in self.pools and endpoint.system_id != group:
            raise FFConflictError(f"system_id {endpoint.system_id!r} is the name of a group")
        old = self.endpoints.get(endpoint.system_id)
        if old is not None and group_of(old) != group:
            raise FFConflictError(f"endpoint {endpoint.system_id!r} is already in group {group_of(old)!r}")
        pool = self.pools.get(group)
        if pool is None:
            pool = self.pools[group] = FFEndpointPool(group, self.config, now=self._now, rng=self._rng,
                                                      on_event=self._on_event)  # fmt: skip
            if self.on_new_pool is not None:
                self.on_new_pool(pool)
        pool.add(endpoint)
        self.endpoints[endpoint.system_id] = endpoint
        if old is not None and old != endpoint:
            if old.protocol != endpoint.protocol:  # the slots are the protocol's: a new queue (waiters finish on the old one)
                self._queues.pop(endpoint.system_id, None)
            return self._handlers.pop(endpoint.system_id, None)
        return None

    def remove(self, system_id: str) -> FFProtocolHandler | None:
        """Forget the endpoint; its handler is returned for the caller to close."""
        endpoint = self.endpoints.pop(system_id, None)
        if endpoint is None:
            raise ff_unknown_target(system_id)
        group = group_of(endpoint)
        pool = self.pools[group]
        pool.remove(system_id)
        if not pool.endpoints():
            del self.pools[group]
        self._queues.pop(system_id, None)
        self.disconnected.discard(system_id)
        return self._handlers.pop(system_id, None)

    def endpoint(self, system_id: str) -> FFEndpointDTO:
        try:
            return self.endpoints[system_id]
        except KeyError:
            raise ff_unknown_target(system_id) from None

    def resolve(self, target: str) -> tuple[FFEndpointPool, str | None]:
        """``(pool, pinned system_id or None)`` for a group name or an endpoint's system_id."""
        if target in self.pools:
            return self.pools[target], None
        endpoint = self.endpoints.get(target)
        if endpoint is None:
            raise ff_unknown_target(target)
        return self.pools[group_of(endpoint)], target

    def handler(self, endpoint: FFEndpointDTO) -> FFProtocolHandler:
        handler = self._handlers.get(endpoint.system_id)
        if handler is None:
            handler = self._handlers[endpoint.system_id] = self.handlers.build(endpoint, self.context)
        return handler

    def existing_handlers(self) -> dict[str, FFProtocolHandler]:
        return dict(self._handlers)

    def drop_handler(self, system_id: str) -> FFProtocolHandler | None:
        return self._handlers.pop(system_id, None)

    def queue(self, endpoint: FFEndpointDTO) -> FFPrioritySendQueue:
        queue = self._queues.get(endpoint.system_id)
        if queue is None:
            capacity = self.config.rpc_max_in_flight if endpoint.protocol in ("tcp", "websocket") else self.config.pool_max_connections
            queue = self._queues[endpoint.system_id] = self.queue_class(capacity, self.config.send_queue_size, name=endpoint.system_id)
        return queue

    def status(self) -> dict[str, list[FFEndpointStatusDTO]]:
        result = {}
        for group, pool in self.pools.items():
            rows = pool.status()
            result[group] = [row.model_copy(update={"state": "disconnected"}) if row.system_id in self.disconnected else row
                             for row in rows]  # fmt: skip
        return result
