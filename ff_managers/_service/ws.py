"""WebSocket ``/v1/ws``: JSON-RPC 2.0 plus live event subscriptions.

Credentials come from the handshake's ``Authorization`` header (a bad one is refused at the
handshake with a 401 problem+json) or from a first ``auth`` request. Requests are handled by
:class:`~ff_managers._service.jsonrpc.FFRpcConnection` like TCP's. ``events.subscribe
{"topics": [...], "after": offset?}`` answers ``{"subscription", "oldest_offset",
"last_offset"}`` and then sends ``events.event`` notifications (offset, topic, user_id, data),
the backlog after ``after`` first, each after the subscribe answer. A subscriber that falls too
far behind gets ``events.overflow`` with the last offset it was sent and resumes from there.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import orjson
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from ff_managers._service.auth import bearer_token
from ff_managers._service.errors import describe, jsonrpc_error, problem
from ff_managers._service.events import FFEventLog, FFSubscription
from ff_managers._service.jsonrpc import FFRpcConnection
from ff_utils.ff_errors import FFError, FFNotFoundError

__all__ = ["websocket_endpoint"]

_ids = itertools.count(1)


class _Subscriptions:
    """The subscriptions of one WebSocket connection and the tasks that pump them."""

    def __init__(self, events: FFEventLog, send: Any) -> None:
        self._events = events
        self._send = send
        self._active: dict[int, tuple[FFSubscription, asyncio.Task[None]]] = {}

    async def subscribe(self, connection: FFRpcConnection, params: dict[str, Any], replied: asyncio.Event) -> Any:
        assert connection.principal is not None  # the connection authenticated before any extra method
        subscription = self._events.subscribe(connection.principal, params.get("topics"), params.get("after"))
        number = next(_ids)
        task = asyncio.get_running_loop().create_task(self._pump(number, subscription, replied))
        self._active[number] = (subscription, task)
        return {"subscription": number, "oldest_offset": self._events.oldest_offset, "last_offset": self._events.last_offset}

    async def unsubscribe(self, connection: FFRpcConnection, params: dict[str, Any], replied: asyncio.Event) -> Any:
        entry = self._active.pop(params.get("subscription"), None)  # type: ignore[arg-type]
        if entry is None:
            raise FFNotFoundError("no such subscription", kind="subscription")
        await self._stop(*entry)
        return {"unsubscribed": True}

    async def _pump(self, number: int, subscription: FFSubscription, replied: asyncio.Event) -> None:
        await replied.wait()
        while True:
            if subscription.overflowed and subscription.queue.empty():
                params = {"subscription": number, "last_offset": subscription.last_offset}
                await self._send({"jsonrpc": "2.0", "method": "events.overflow", "params": params})
                self._events.unsubscribe(subscription)
                self._active.pop(number, None)
                return
            record = await subscription.queue.get()
            subscription.last_offset = record["offset"]
            await self._send({"jsonrpc": "2.0", "method": "events.event", "params": {"subscription": number, **record}})

    async def _stop(self, subscription: FFSubscription, task: asyncio.Task[None]) -> None:
        self._events.unsubscribe(subscription)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        for entry in list(self._active.values()):
            await self._stop(*entry)
        self._active.clear()


async def websocket_endpoint(websocket: WebSocket) -> None:
    runtime = websocket.app.state.runtime
    dispatcher, settings = runtime.dispatcher, runtime.settings
    address = websocket.client.host if websocket.client else "unknown"
    principal = None
    token = bearer_token(websocket.headers.get("authorization"))
    if token is not None:
        try:
            principal = await dispatcher.authenticate(token, address=address, transport="websocket")
        except FFError as exc:
            wire = describe(exc)
            await websocket.send_denial_response(
                Response(orjson.dumps(problem(wire)), wire.status, media_type="application/problem+json")
            )
            return
    await websocket.accept()
    lock = asyncio.Lock()

    async def send(message: Any) -> None:
        async with lock:
            await websocket.send_text(orjson.dumps(message).decode("utf-8"))

    subscriptions = _Subscriptions(runtime.events, send)
    connection = FFRpcConnection(
        dispatcher, send, transport="websocket", address=address, max_in_flight=settings.max_in_flight_per_connection,
        principal=principal, extra_methods={"events.subscribe": subscriptions.subscribe, "events.unsubscribe": subscriptions.unsubscribe},
    )  # fmt: skip
    runtime.connections.add(connection)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text") if message.get("text") is not None else message.get("bytes") or b""
            size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
            if size > settings.max_line_bytes:
                error = await dispatcher.refuse_oversized(connection.principal, "message", settings.max_line_bytes,
                                                          transport="websocket", address=address)  # fmt: skip
                await send({"jsonrpc": "2.0", "id": None, "error": jsonrpc_error(describe(error))})
                continue
            await connection.receive(raw)
    except WebSocketDisconnect:
        pass
    finally:
        runtime.connections.discard(connection)
        await subscriptions.close()
        await connection.close(settings.shutdown_grace_seconds)
