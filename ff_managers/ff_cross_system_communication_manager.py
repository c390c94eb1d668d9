"""FFCrossSystemCommunicationManager: messages to other FF systems over HTTP(S), WebSocket, TCP and UDP.

A coordinating manager (API.md "Communication manager"): it talks to running services only
through the service contract (paths, JSON-RPC methods, StatsD lines) and uses no domain manager
but the optional ``metrics=`` one, through its public ``record_metric``. The private package
:mod:`ff_managers._comm` holds one module per job:

* ``message`` (TTL, replies), ``compression``, ``cloudevents`` (the CloudEvents mapping),
  ``catalogue`` (each operation's route and retry rule, from the service's one registry);
* ``handlers/``: one class per protocol behind one interface (``http``, ``tcp``, ``ws``, ``udp``
  over ``rpc`` for JSON-RPC), and the ``registry`` users add their own to;
* ``endpoint_pool`` + ``balancing``/``outlier``/``breaker`` (who is available, who is next),
  ``retry_budget``, ``health_checker``; ``send_queue`` (priority order per endpoint),
  ``directory`` (endpoints, groups, handlers), ``router`` (attempts, failover, retries),
  ``metrics``, ``subscriptions`` (event streams that resume across a failover), ``sharding``
  (sharded mode: each user's requests to its owner only, from the shard routing table).

Background work (health checks, metric flushing) runs in one ``asyncio.TaskGroup`` while the
manager is open (``async with`` or ``start``/``close`` from one task); sending works without it.
Time is injected: ``clock`` (wall seconds, for TTLs) and ``monotonic`` (pools, latencies).
docs/COMMUNICATION.md describes the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO, FFEndpointStatusDTO
from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_managers._comm.catalogue import FFOperationCatalogue, ff_local_catalogue
from ff_managers._comm.cloudevents import from_cloudevent, to_cloudevent
from ff_managers._comm.directory import FFEndpointDirectory
from ff_managers._comm.endpoint_pool import FFEndpointPool
from ff_managers._comm.errors import (
    FFCommUnavailableError,
    FFMessageExpiredError,
    FFQueueFullError,
    FFShardUnavailableError,
    FFTransportError,
    FFUnsupportedOperationError,
)
from ff_managers._comm.handlers.base import FFHandlerContext, FFProtocolHandler, HandlerFactory
from ff_managers._comm.handlers.http import FFHttpHandler
from ff_managers._comm.handlers.registry import FFHandlerRegistry
from ff_managers._comm.health_checker import FFHealthChecker
from ff_managers._comm.sharding import FFShardRouting, Tokens
from ff_managers._comm.metrics import FFCommMetrics
from ff_managers._comm.retry_budget import FFRetryBudget
from ff_managers._comm.router import FFMessageRouter
from ff_managers._comm.subscriptions import FFEventStream
from ff_utils.ff_logging import get_logger

__all__ = [
    "FFCommUnavailableError",
    "FFCrossSystemCommunicationManager",
    "FFEventStream",
    "FFHandlerContext",
    "FFMessageExpiredError",
    "FFMessageRouter",
    "FFProtocolHandler",
    "FFQueueFullError",
    "FFShardRouting",
    "FFShardUnavailableError",
    "FFTransportError",
    "FFUnsupportedOperationError",
    "ff_endpoints_from_ready",
    "from_cloudevent",
    "to_cloudevent",
]

_log = get_logger("comm")
_FLUSH_EVERY_S = 1.0


class FFCrossSystemCommunicationManager:
    """Endpoints, groups and messages between FF systems (see the module doc and API.md)."""

    router_class: type[FFMessageRouter] = FFMessageRouter
    sharding_class: type[FFShardRouting] = FFShardRouting

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        metrics: Any = None,
        catalogue: FFOperationCatalogue | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        source_system: str = "ff-client",
        shard_tokens: Tokens = None,
    ) -> None:
        """``shard_tokens``: sharded mode (``comm.shard_routing``): the credentials for the shards'
        endpoints, one for all (a JWT every shard accepts) or one per shard id."""
        self.config = config
        self.comm_config = config.comm
        self.source_system = source_system
        self._clock, self._monotonic = clock, monotonic
        self._rng = rng if rng is not None else random.Random()
        self._metrics = FFCommMetrics(metrics)
        self._handlers = FFHandlerRegistry()
        context = FFHandlerContext(self.comm_config, catalogue if catalogue is not None else ff_local_catalogue(), clock)
        self._directory = FFEndpointDirectory(self.comm_config, context, self._handlers, now=monotonic, rng=self._rng,
                                              on_event=self._on_pool_event)  # fmt: skip
        self._directory.on_new_pool = self._on_new_pool
        self.sharding: FFShardRouting | None = None
        """sharded mode's routing (None when ``comm.shard_routing`` is unset; docs/COMMUNICATION.md)"""
        if self.comm_config.shard_routing is not None:
            self.sharding = self.sharding_class(self.comm_config, self._directory, add_endpoint=self.add_endpoint,
                                                remove_endpoint=self.remove_endpoint, tokens=shard_tokens, monotonic=monotonic)  # fmt: skip
        budget = FFRetryBudget(self.comm_config, now=monotonic)
        self._router = self.router_class(self._directory, self._metrics, budget, clock=clock, monotonic=monotonic, sleep=sleep,
                                         rng=self._rng)  # fmt: skip
        self._group: asyncio.TaskGroup | None = None
        self._checkers: dict[str, asyncio.Task[None]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.health_checkers: dict[str, FFHealthChecker] = {}
        """the active health checker of each group while the manager is open"""
        self._orphans: list[FFProtocolHandler] = []

    # ------------------------------------------------------------------ endpoints (sync)

    def register_handler(self, protocol: str, factory: HandlerFactory, *, replace: bool = False) -> None:
        """Speak ``protocol`` with ``factory(endpoint, context) -> FFProtocolHandler`` (FFConflictError when taken)."""
        self._handlers.register(protocol, factory, replace=replace)

    def add_endpoint(self, endpoint: FFEndpointDTO) -> None:
        """Add (or update) an endpoint; it joins its group's rotation at once (connections open on demand).

        Updating an endpoint's address or credentials (an instance restarted elsewhere) closes the
        old connections; what the pool knows of the endpoint (ejections, breaker) is kept.
        """
        replaced = self._directory.add(endpoint)
        if replaced is not None:
            self._close_later(replaced)

    def remove_endpoint(self, system_id: str) -> None:
        """Take an endpoint out (FFNotFoundError when unknown); its connections close in the background."""
        handler = self._directory.remove(system_id)
        if handler is not None:
            self._close_later(handler)

    def endpoints(self) -> list[FFEndpointDTO]:
        return list(self._directory.endpoints.values())

    @property
    def catalogue(self) -> FFOperationCatalogue:
        return self._directory.context.catalogue

    async def learn_operations(self, system_id: str) -> list[str]:
        """Add the operations a running service offers (its ``/openapi.json``) to the catalogue;
        their names. For a service with operations of its own beyond the built-in registry."""
        endpoint = self._directory.endpoint(system_id)
        if endpoint.protocol not in ("http", "https"):
            raise FFUnsupportedOperationError("operations are learnt from an http(s) endpoint's /openapi.json", field="protocol")
        handler = self._directory.handler(endpoint)
        assert isinstance(handler, FFHttpHandler)
        served = FFOperationCatalogue.from_openapi(await handler.fetch_openapi())
        context = self._directory.context
        context.catalogue = context.catalogue.merged(served)
        return sorted(route.name for route in served)

    # ------------------------------------------------------------------ connections

    async def connect_system(self, system_id: str) -> None:
        """Open the endpoint's connection now (and put it back in rotation after a disconnect).

        Raises FFTransportError when it cannot be reached.
        """
        endpoint = self._directory.endpoint(system_id)
        self._directory.disconnected.discard(system_id)
        await self._directory.handler(endpoint).connect()

    async def disconnect_system(self, system_id: str) -> None:
        """Close the endpoint's connections and keep it out of rotation until ``connect_system``."""
        self._directory.endpoint(system_id)
        self._directory.disconnected.add(system_id)
        handler = self._directory.drop_handler(system_id)
        if handler is not None:
            await handler.close()

    def handler(self, system_id: str) -> FFProtocolHandler:
        """The endpoint's handler (built on first use), e.g. for its ``receive``."""
        return self._directory.handler(self._directory.endpoint(system_id))

    # ------------------------------------------------------------------ messages

    async def send_message(self, message: FFCrossSystemMessageDTO) -> FFCrossSystemMessageDTO:
        """The reply (``response`` or ``error``); FFCommUnavailableError when no endpoint could answer.

        Sharded mode, target ``comm.shard_group``: the payload's user's owner only
        (FFShardUnavailableError when it cannot answer; see ``_comm/sharding.py``)."""
        if self.sharding is not None and message.target_system == self.comm_config.shard_group:
            return await self.sharding.send(message, self._router)
        return await self._router.send(message)

    async def broadcast_message(self, message: FFCrossSystemMessageDTO) -> list[FFCrossSystemMessageDTO]:
        """Send to every connected endpoint of the target group; one reply per endpoint, never raises for one."""
        return await self._router.broadcast(message)

    def subscribe_events(self, target: str, topics: Sequence[str], *, after: int | None = None, max_wait_s: float = 30.0) -> FFEventStream:
        """An event stream (``async with`` / ``async for``) over a WebSocket endpoint of ``target``
        that resumes after the last event it gave, also on another instance after a failover."""
        self._directory.resolve(target)
        return FFEventStream(self._directory, target, list(topics), after=after, max_wait_s=max_wait_s)

    def to_cloudevent(self, message: FFCrossSystemMessageDTO) -> dict[str, Any]:
        """The CloudEvents 1.0 (structured JSON) form, payload gzip-compressed past ``compress_above_bytes``."""
        return to_cloudevent(message, compress_above_bytes=self.comm_config.compress_above_bytes)

    def request(self, target: str, operation: str, payload: dict[str, Any] | None = None, **fields: Any) -> FFCrossSystemMessageDTO:
        """A request message from this manager's ``source_system`` (a convenience for callers)."""
        return FFCrossSystemMessageDTO(message_type="request", source_system=self.source_system, target_system=target,
                                       operation=operation, payload=payload or {}, **fields)  # fmt: skip

    # ------------------------------------------------------------------ status and metrics

    def get_system_status(self) -> list[FFEndpointStatusDTO]:
        """Every endpoint's state, group by group (in the order the groups were created)."""
        return [row for rows in self._directory.status().values() for row in rows]

    def get_system_status_by_group(self) -> dict[str, list[FFEndpointStatusDTO]]:
        return self._directory.status()

    def get_metrics(self) -> dict[str, Any]:
        """Per endpoint and per protocol: sent, received, failures, latency p50/p95/p99, pool use, ejections."""
        pool_use = {sid: {**h.pool_use(), **self._queue_use(sid)} for sid, h in self._directory.existing_handlers().items()}
        return {**self._metrics.snapshot(pool_use), **self._router.snapshot_extra()}

    def _queue_use(self, system_id: str) -> dict[str, int]:
        endpoint = self._directory.endpoints.get(system_id)
        if endpoint is None:
            return {}
        queue = self._directory.queue(endpoint)
        return {"slots_in_use": queue.in_use, "queued": queue.waiting, "queue_refused": queue.refused}

    async def flush_metrics(self) -> int:
        """Write the samples queued for the metrics manager now (also done every second while open)."""
        return await self._metrics.flush()

    def _on_pool_event(self, kind: str, system_id: str) -> None:
        endpoint = self._directory.endpoints.get(system_id)
        protocol = endpoint.protocol if endpoint is not None else "-"
        self._metrics.event(kind, system_id, protocol)
        _log.info("endpoint %s: %s", system_id, kind)

    # ------------------------------------------------------------------ background work

    async def _probe(self, endpoint: FFEndpointDTO) -> bool:
        if endpoint.system_id in self._directory.disconnected:
            return False
        return await self._directory.handler(endpoint).health()

    async def _check_pool(self, pool: FFEndpointPool) -> None:
        config = self.comm_config
        checker = FFHealthChecker(pool, self._probe, interval_s=config.health_interval_s, timeout_s=config.request_timeout_s)
        self.health_checkers[pool.group] = checker
        try:
            async with checker:
                await asyncio.Event().wait()  # until the manager closes (cancelled)
        finally:
            self.health_checkers.pop(pool.group, None)

    def _on_new_pool(self, pool: FFEndpointPool) -> None:
        if self._group is not None:
            self._checkers[pool.group] = self._group.create_task(self._check_pool(pool), name=f"ff-comm-health-{pool.group}")

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_EVERY_S)
            await self._metrics.flush()

    def _close_later(self, handler: FFProtocolHandler) -> None:
        if self._group is not None:
            self._group.create_task(handler.close())
        else:
            self._orphans.append(handler)  # closed by close()

    async def start(self) -> FFCrossSystemCommunicationManager:
        """Start health checks and metric flushing in a task group (close() from the same task)."""
        if self._group is not None:
            return self
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        for pool in self._directory.pools.values():
            self._on_new_pool(pool)
        self._flusher = self._group.create_task(self._flush_loop(), name="ff-comm-metrics")
        return self

    async def close(self) -> None:
        """Stop the background tasks, close every connection, write the last metrics."""
        group, self._group = self._group, None
        if group is not None:
            for task in [*self._checkers.values(), *([self._flusher] if self._flusher else [])]:
                task.cancel()
            self._checkers.clear()
            self._flusher = None
            with contextlib.suppress(asyncio.CancelledError):
                await group.__aexit__(None, None, None)
        handlers = [*self._directory.existing_handlers().items(), *(("removed", h) for h in self._orphans)]
        self._orphans.clear()
        for system_id, handler in handlers:
            self._directory.drop_handler(system_id)
            try:
                await handler.close()
            except Exception as exc:  # a broken connection is closed either way
                _log.debug("closing %s: %r", system_id, exc)
        await self._metrics.flush()

    async def __aenter__(self) -> FFCrossSystemCommunicationManager:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def ff_endpoints_from_ready(ready: Sequence[Any], *, group: str, token: str | None, protocol: str = "http") -> list[FFEndpointDTO]:
    """Endpoints of ``group`` from service ready files (their ``instance_id``, host and ports)."""
    port_of = {"http": "http_port", "https": "http_port", "websocket": "http_port", "tcp": "tcp_port", "udp": "udp_port"}
    result = []
    for item in ready:
        data = item if isinstance(item, dict) else item.model_dump()
        suffix = "" if protocol in ("http", "https") else f"-{protocol}"
        kind = "https" if protocol == "http" and data.get("tls") else protocol
        result.append(FFEndpointDTO(system_id=f"{data['instance_id']}{suffix}", group=group, protocol=kind, host=data["host"],
                                    port=data[port_of[protocol]], token=token, tls=bool(data.get("tls"))))  # fmt: skip
    return result
