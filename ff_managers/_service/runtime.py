"""What one running service holds, shared by its transports: dispatcher, caches, health, events.

The HTTP routes, the WebSocket endpoint and the TCP listener all read this object (the ASGI
app keeps it in ``app.state.runtime``), so a setting, a rate budget or an event offset exists
once per server, whatever the transport.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from ff_class_configs.ff_service_config import FFServiceConfigDTO
from ff_class_configs.ff_service_dtos import FFInstanceDTO, FFReadyFileDTO, FFServiceInfoDTO
from ff_managers._service.auth import FFApiKeyStore, FFAuthenticator
from ff_managers._service.dispatch import FFDispatcher
from ff_managers._service.events import FFEventLog
from ff_managers._service.health import FFHealth
from ff_managers._service.idempotency import FFIdempotencyCache
from ff_managers._service.instances import FFInstanceRegistry
from ff_managers._service.limits import FFRateLimiter
from ff_managers._service.operations import FFManagers
from ff_managers._service.registry import FFOperationRegistry
from ff_managers._service.udp import FFStatsdListener
from ff_managers._shard.fence import FFUserFence
from ff_utils.ff_store import FFStore

__all__ = ["FFServiceRuntime", "package_version"]


def package_version() -> str:
    try:
        return metadata.version("ff-platform")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+source"


class FFServiceRuntime:
    def __init__(
        self, settings: FFServiceConfigDTO, managers: FFManagers, store: FFStore, instance_id: str, registry: FFOperationRegistry
    ) -> None:
        self.settings = settings
        self.instance_id = instance_id
        self.version = package_version()
        self.keys = FFApiKeyStore(store)
        limiter = FFRateLimiter(settings.rate_limit, settings.auth_failure_rate_limit)
        fence = FFUserFence(store.root)  # honoured by every write: `shard move` freezes a user through it
        self.dispatcher = FFDispatcher(settings, registry, managers, FFAuthenticator(settings, self.keys), limiter, fence)
        self.idempotency = FFIdempotencyCache(settings.idempotency_keys_per_principal)
        self.events = FFEventLog(settings.event_retention, settings.subscriber_queue)
        self.health = FFHealth(store, settings.max_loop_lag_ms)
        self.instances = FFInstanceRegistry(store, settings.lease_seconds, settings.heartbeat_seconds)
        self.udp: FFStatsdListener | None = None
        self.connections: set[Any] = set()
        self.stopping = False
        self.started_at = datetime.now(UTC)
        self._started = time.monotonic()
        self.ready: FFReadyFileDTO | None = None

    def info(self) -> FFServiceInfoDTO:
        ready = self.ready
        transports = {"http": ready.http_port if ready else None, "tcp": ready.tcp_port if ready else None,
                      "udp": ready.udp_port if ready else None}  # fmt: skip
        return FFServiceInfoDTO(
            instance_id=self.instance_id, version=self.version, uptime_s=round(time.monotonic() - self._started, 3),
            pid=os.getpid(), started_at=self.started_at, transports=transports,
            udp=self.udp.stats.snapshot() if self.udp else {}, instances=self.instances.list_live(),
        )  # fmt: skip

    def instance(self, ready: FFReadyFileDTO) -> FFInstanceDTO:
        return FFInstanceDTO(
            instance_id=ready.instance_id, pid=ready.pid, host=ready.host, http_port=ready.http_port,
            tcp_port=ready.tcp_port, udp_port=ready.udp_port, tls=ready.tls, started_at=self.started_at,
            lease_expires_at=self.started_at,
        )  # fmt: skip
