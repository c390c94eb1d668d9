"""The one interface every protocol handler implements: connect, send, receive, close, health.

A handler speaks for ONE endpoint. ``send`` carries a request (or a notification) and returns
the reply message: a ``response`` for a result, an ``error`` for any answer the server gave as a
failure (its problem or JSON-RPC error, with ``error`` = the FFError class name and ``status``).
It raises :class:`~ff_managers._comm.errors.FFTransportError` only when no answer came (refused,
reset, timed out, closed), saying whether the request may have left. Routing, retries, TTL,
queues and metrics are the manager's, so a handler stays a small class with one job, and a
user's own protocol (``comm.register_handler("myproto", factory)``) plugs into all of them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ff_class_configs.ff_comm_config import FFCommConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_managers._comm.catalogue import FFOperationCatalogue, FFRoute
from ff_managers._comm.errors import FFUnsupportedOperationError
from ff_managers._comm.message import Clock, ff_call_params

__all__ = ["FFHandlerContext", "FFProtocolHandler", "HandlerFactory"]


@dataclass(slots=True)
class FFHandlerContext:
    """What every handler is given besides its endpoint (shared: a catalogue learnt later reaches all)."""

    config: FFCommConfigDTO
    catalogue: FFOperationCatalogue
    clock: Clock
    extras: dict[str, Any] = field(default_factory=dict)


class FFProtocolHandler(abc.ABC):
    """One endpoint over one protocol (see the module doc)."""

    protocol: str = ""

    def __init__(self, endpoint: FFEndpointDTO, context: FFHandlerContext) -> None:
        self.endpoint = endpoint
        self.context = context
        self.config = context.config

    def route_and_params(self, message: FFCrossSystemMessageDTO) -> tuple[FFRoute, dict[str, Any]]:
        """The operation's route and params (a keyed write gets its key); FFValidationError/FFNotFoundError."""
        if not message.operation:
            raise FFUnsupportedOperationError("a message sent to a service names its operation", field="operation")
        route = self.context.catalogue.get(message.operation)
        return route, ff_call_params(message, route)

    @abc.abstractmethod
    async def connect(self) -> None:
        """Open what the protocol needs (idempotent; ``send`` connects on demand too)."""

    @abc.abstractmethod
    async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
        """Carry one message and return its reply (see the module doc)."""

    async def receive(self) -> FFCrossSystemMessageDTO:
        """The next message the endpoint sent unasked (events); protocols without any refuse."""
        raise FFUnsupportedOperationError(f"{self.protocol} carries no unsolicited messages", field="protocol")

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and tasks (idempotent)."""

    @abc.abstractmethod
    async def health(self) -> bool:
        """One active check: True when the endpoint answers as ready."""

    def pool_use(self) -> dict[str, int]:
        """Connections or requests in use, for metrics (``{}`` when the protocol has no pool)."""
        return {}


HandlerFactory = Callable[[FFEndpointDTO, FFHandlerContext], FFProtocolHandler]
