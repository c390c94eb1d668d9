"""Which handler class speaks which protocol: the built-in ones and those a user registers.

``register`` takes any factory ``(endpoint, context) -> FFProtocolHandler``; a name already taken
is refused (FFConflictError) unless ``replace=True``, so a typo cannot silently swap out HTTP.
"""

from __future__ import annotations

import re

from ff_class_configs.ff_comm_dtos import FFEndpointDTO
from ff_managers._comm.handlers.base import FFHandlerContext, FFProtocolHandler, HandlerFactory
from ff_managers._comm.handlers.http import FFHttpHandler
from ff_managers._comm.handlers.tcp import FFTcpHandler
from ff_managers._comm.handlers.tls import ff_client_ssl_context
from ff_managers._comm.handlers.udp import FFUdpHandler
from ff_managers._comm.handlers.ws import FFWebSocketHandler
from ff_utils.ff_errors import FFConflictError, FFNotFoundError, FFValidationError

__all__ = ["FFHandlerRegistry", "ff_client_ssl_context"]


def _tcp(endpoint: FFEndpointDTO, context: FFHandlerContext) -> FFProtocolHandler:
    return FFTcpHandler(endpoint, context, ssl_context=ff_client_ssl_context(endpoint))


def _builtin() -> dict[str, HandlerFactory]:
    return {"http": FFHttpHandler, "https": FFHttpHandler, "tcp": _tcp, "websocket": FFWebSocketHandler, "udp": FFUdpHandler}


class FFHandlerRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, HandlerFactory] = _builtin()

    def register(self, protocol: str, factory: HandlerFactory, *, replace: bool = False) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_+.-]{0,31}", protocol):
            raise FFValidationError(f"invalid protocol name {protocol!r}", field="protocol", value=protocol)
        if protocol in self._factories and not replace:
            raise FFConflictError(f"a handler for {protocol!r} is already registered (replace=True to swap it)")
        if not callable(factory):
            raise FFValidationError("a handler factory must be callable", field="factory")
        self._factories[protocol] = factory

    def protocols(self) -> list[str]:
        return sorted(self._factories)

    def build(self, endpoint: FFEndpointDTO, context: FFHandlerContext) -> FFProtocolHandler:
        factory = self._factories.get(endpoint.protocol)
        if factory is None:
            raise FFNotFoundError(f"no handler for protocol {endpoint.protocol!r} (register_handler adds one)", kind="protocol",
                                  key=endpoint.protocol)  # fmt: skip
        return factory(endpoint, context)
