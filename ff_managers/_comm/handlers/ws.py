"""WebSocket ``/v1/ws``: JSON-RPC 2.0 on ``websockets``, with keepalive pings and event subscriptions.

Requests are matched to answers by the JSON-RPC id (:mod:`.rpc`); the connection is opened on
demand and again after it breaks (reconnect), authenticated by the first ``auth`` request.
``websockets`` pings every ``ws_ping_interval_s`` and closes a connection whose pong does not
come back in time, which fails the requests in flight so they can fail over; the health check
is one ping/pong round trip. permessage-deflate (RFC 7692) is negotiated, so large payloads are
compressed by the transport itself.

``subscribe(topics, after)`` sends ``events.subscribe``. Every ``events.event`` notification
records its offset, so after a reconnect the subscriptions are renewed with ``after`` = the last
offset seen: no event is lost or repeated across a reconnect to the same instance (the
manager's event stream resumes across a failover to another instance the same way). An
``events.overflow`` notice is answered the same way. ``receive`` returns the events as
``event`` messages (operation = topic, payload = data, headers: offset, user_id).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers._comm.errors import FFTransportError
from ff_managers._comm.handlers.rpc import FFRpcHandler
from ff_managers._comm.handlers.tls import ff_client_ssl_context
from ff_utils.ff_logging import get_logger

__all__ = ["FFWebSocketHandler", "ff_event_message"]

_log = get_logger("comm.ws")
_MAX_MESSAGE = 2**24


def ff_event_message(params: dict[str, Any], *, source: str, target: str) -> FFCrossSystemMessageDTO:
    """An ``events.event`` notification as an ``event`` message."""
    headers = {"offset": str(params.get("offset")), "user_id": str(params.get("user_id"))}
    if "subscription" in params:
        headers["subscription"] = str(params["subscription"])
    return FFCrossSystemMessageDTO(message_type="event", source_system=source, target_system=target, operation=params.get("topic"),
                                   payload=params.get("data"), headers=headers, timestamp=datetime.now(UTC))  # fmt: skip


class FFWebSocketHandler(FFRpcHandler):
    protocol = "websocket"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scheme = "wss" if self.endpoint.tls else "ws"
        self.url = f"{scheme}://{self.endpoint.host}:{self.endpoint.port}/v1/ws"
        self._ws: ClientConnection | None = None
        self._topics: list[list[str]] = []
        self.last_offset: int | None = None

    async def _open(self) -> None:
        try:
            self._ws = await connect(self.url, open_timeout=self.config.connect_timeout_s, ping_interval=self.config.ws_ping_interval_s,
                                     ping_timeout=self.config.ws_ping_interval_s, max_size=_MAX_MESSAGE, proxy=None,
                                     compression="deflate", ssl=ff_client_ssl_context(self.endpoint), close_timeout=1)  # fmt: skip
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise FFTransportError(f"{self.endpoint.system_id}: cannot open {self.url}: {exc!r}", sent=False) from exc

    async def _write(self, data: bytes) -> None:
        if self._ws is None:
            raise ConnectionError("not connected")
        await self._ws.send(data.decode("utf-8"))

    async def _read(self) -> dict[str, Any] | None:
        if self._ws is None:
            return None
        try:
            raw = await self._ws.recv()
        except WebSocketException:
            return None
        return orjson.loads(raw)

    async def _close_stream(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    # -- events -----------------------------------------------------------------------------------

    def _on_notification(self, message: dict[str, Any]) -> None:
        params = message.get("params") or {}
        if message.get("method") == "events.event" and isinstance(params.get("offset"), int):
            self.last_offset = params["offset"]
        elif message.get("method") == "events.overflow":  # we fell behind: renew from the last offset we got
            self._spawn(self._resubscribe())
            return
        super()._on_notification(message)

    async def subscribe(self, topics: list[str], after: int | None = None) -> dict[str, Any]:
        """``events.subscribe``; the answer (``result`` or ``error``). Renewed after every reconnect."""
        if after is not None:
            self.last_offset = after
        params: dict[str, Any] = {"topics": topics}
        if self.last_offset is not None:
            params["after"] = self.last_offset
        answer = await self.request("events.subscribe", params, timeout_s=self.config.request_timeout_s)
        if "result" in answer:
            self._topics.append(list(topics))
        return answer

    async def _after_connect(self) -> None:
        if self._topics:
            self._spawn(self._resubscribe())

    async def _resubscribe(self) -> None:
        topics, self._topics = self._topics, []
        for group in topics:
            try:
                await self.subscribe(group)
            except FFTransportError as exc:
                _log.debug("%s: resubscribe failed: %r", self.endpoint.system_id, exc)
                self._topics.append(group)

    async def receive(self) -> FFCrossSystemMessageDTO:
        """The next event; FFTransportError when the connection ended with nothing left to read."""
        while True:
            note = await self.next_notification()
            if note.get("method") == "events.event":
                return ff_event_message(note.get("params") or {}, source=self.endpoint.system_id, target="ff-client")

    async def health(self) -> bool:
        await self.connect()
        if self._ws is None:
            return False
        pong = await self._ws.ping()
        await asyncio.wait_for(pong, self.config.request_timeout_s)
        return True
