"""FFServiceManager: the managers over the wire (HTTP/HTTPS, WebSocket, TCP, UDP), ``main.py serve``.

A coordinating manager, like FFMigrationManager: it drives the five domain managers only
through their public methods, as any library user would, and owns only what no domain manager
owns (API keys, the instance registry, the ready file). The private package
:mod:`ff_managers._service` holds one module per job:

* ``registry`` + ``operations``: the ONE list of operations (name, request DTO, response DTO,
  handler, idempotent?, required role, rate cost) from which the HTTP routes, the OpenAPI
  document and the JSON-RPC methods of WebSocket and TCP are generated;
* ``dispatch``: the one pipeline every call goes through (rate limit, role, validation,
  ownership, handler), ``errors``: FFError -> problem+json / JSON-RPC error, mapped once;
* ``auth`` (API keys stored hashed, JWT with the configured algorithm), ``limits`` (per
  principal, the ``limits`` library), ``idempotency`` (``Idempotency-Key``);
* ``http_app`` (FastAPI), ``ws`` (WebSocket + event subscriptions), ``jsonrpc``, ``tcp``, ``udp``
  (StatsD), ``events`` (offsets for resumable subscriptions), ``health``, ``instances``,
  ``runtime`` and ``server`` (start, ready file, graceful stop).

The contract a client relies on (paths, methods, errors, ready file, CLI) is the "Service"
section of API.md; docs/SERVICE.md shows how to call it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ff_class_configs.ff_configuration_manager_config import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_service_dtos import FFApiKeyCreatedDTO, FFApiKeyDTO, FFReadyFileDTO
from ff_managers._service.auth import FFApiKeyStore
from ff_managers._service.errors import FFAuthenticationError, FFPayloadTooLargeError, FFRateLimitError
from ff_managers._service.operations import FFManagers, build_registry
from ff_managers._service.registry import FFOperation, FFOperationRegistry, FFReply
from ff_managers._service.runtime import FFServiceRuntime
from ff_managers._service.server import FFListeners, check_tls
from ff_managers.ff_event_bus import FFEventBus
from ff_managers.ff_knowledge_base_manager import FFKnowledgeBaseManager
from ff_managers.ff_memory_layer_manager import FFMemoryLayerManager
from ff_managers.ff_metrics_collection_manager import FFMetricsCollectionManager
from ff_managers.ff_panel_session_manager import FFPanelSessionManager
from ff_managers.ff_tool_execution_manager import FFToolExecutionManager
from ff_utils.ff_errors import FFConflictError
from ff_utils.ff_ids import ff_new_id, ff_validate_id
from ff_utils.ff_store import FFStore

__all__ = [
    "FFAuthenticationError",
    "FFOperation",
    "FFOperationRegistry",
    "FFReply",
    "build_registry",
    "FFPayloadTooLargeError",
    "FFRateLimitError",
    "FFServiceManager",
]

_FROM_CONFIG: Any = object()
_MANAGER_CLASSES: dict[str, type[Any]] = {
    "memory": FFMemoryLayerManager,
    "panel": FFPanelSessionManager,
    "knowledge": FFKnowledgeBaseManager,
    "tools": FFToolExecutionManager,
    "metrics": FFMetricsCollectionManager,
}


class FFServiceManager:
    """One service instance over one data root.

    ``managers`` lets a caller (a test, an application embedding the service) hand in the five
    domain managers it already runs, as keyword ``memory=``, ``panel=``, ``knowledge=``,
    ``tools=``, ``metrics=``; the others are built from ``config`` on the bus of the first one
    given (else a new one) and shut down (batchers drained) by :meth:`stop`; the caller's own
    managers are left running. ``instance_id`` names this instance in the
    ready file, ``/v1/info`` and the instance registry. ``registry`` replaces the operations
    (default: :func:`build_registry`, API.md's list); an application adds its own operations
    to it and gets them on every transport.
    """

    def __init__(
        self,
        config: FFConfigurationManagerConfigDTO,
        *,
        instance_id: str | None = None,
        store: FFStore | None = None,
        registry: FFOperationRegistry | None = None,
        **managers: Any,
    ) -> None:
        self.config = config
        self.store = store if store is not None else FFStore.from_config(config)
        self.instance_id = ff_validate_id(instance_id, "instance_id") if instance_id else ff_new_id("ff-")
        unknown = set(managers) - set(_MANAGER_CLASSES)
        if unknown:
            raise TypeError(f"unknown managers: {sorted(unknown)}")
        given = [m for m in managers.values() if m is not None]
        bus = given[0].bus if given else FFEventBus()  # the ones built here join the caller's bus
        built = {name: cls(config, bus=bus, store=self.store) for name, cls in _MANAGER_CLASSES.items() if managers.get(name) is None}
        self.managers = FFManagers(**{**built, **{k: v for k, v in managers.items() if v is not None}})
        self._owned = list(built.values())  # stop() shuts down (drains) only what it built
        self._registry = registry if registry is not None else build_registry()
        self._keys = FFApiKeyStore(self.store)
        self._runtime: FFServiceRuntime | None = None
        self._listeners: FFListeners | None = None
        self._unsubscribe: list[Any] = []

    # ------------------------------------------------------------------ API keys (sync)

    def create_api_key(self, user_id: str, roles: Sequence[str] = ()) -> FFApiKeyCreatedDTO:
        """A new key for ``user_id``; ``.key`` is shown this once (only its hash is stored)."""
        return self._keys.create(user_id, list(roles))

    def list_api_keys(self) -> list[FFApiKeyDTO]:
        return self._keys.list_keys()

    def revoke_api_key(self, key_id: str) -> FFApiKeyDTO:
        """Revoke a key (FFNotFoundError when unknown); a running server refuses it from its next request."""
        return self._keys.revoke(key_id)

    # ------------------------------------------------------------------ lifecycle

    @property
    def registry(self) -> FFOperationRegistry:
        """The operations this service offers (the same on every transport)."""
        return self._registry

    @property
    def ready(self) -> FFReadyFileDTO | None:
        """The bound host and ports once started (what the ready file says), else None."""
        return self._runtime.ready if self._runtime is not None else None

    async def start(
        self,
        *,
        host: str | None = None,
        http_port: int | None = None,
        tcp_port: int | None = _FROM_CONFIG,
        udp_port: int | None = _FROM_CONFIG,
        ssl_keyfile: Path | str | None = None,
        ssl_certfile: Path | str | None = None,
        ready_file: Path | str | None = None,
    ) -> FFReadyFileDTO:
        """Bind every listener (None for TCP/UDP: off; 0: a free port), then write the ready file.

        Arguments left out come from ``config.service``. Raises FFConflictError when already
        started, FFValidationError for a bad TLS pair, FFStorageError when a port cannot be bound.
        """
        if self._runtime is not None:
            raise FFConflictError("the service is already started")
        settings = self.config.service
        tls = check_tls(Path(ssl_keyfile) if ssl_keyfile else None, Path(ssl_certfile) if ssl_certfile else None)
        for manager in self.managers.all():
            await manager.initialize()
        runtime = FFServiceRuntime(settings, self.managers, self.store, self.instance_id, self._registry)
        for bus in {id(m.bus): m.bus for m in self.managers.all()}.values():
            self._unsubscribe.append(bus.subscribe("*", runtime.events.on_event))
        listeners = FFListeners(runtime)
        self._runtime, self._listeners = runtime, listeners
        try:
            return await listeners.start(
                host or settings.host,
                settings.http_port if http_port is None else http_port,
                settings.tcp_port if tcp_port is _FROM_CONFIG else tcp_port,
                settings.udp_port if udp_port is _FROM_CONFIG else udp_port,
                tls=tls,
                ready_file=Path(ready_file) if ready_file is not None else None,
            )
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests (bounded), drain the managers' batchers.

        Every request answered before this returns is on disk (with the default durability).
        """
        if self._listeners is not None:
            await self._listeners.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for manager in self._owned:
            await manager.shutdown()
        self._runtime, self._listeners = None, None

    async def serve(self, **start_arguments: Any) -> int:
        """Start, serve until SIGTERM or SIGINT, stop gracefully; return the exit code (0)."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start(**start_arguments)
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self.stop()
        return 0

    async def __aenter__(self) -> FFServiceManager:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
