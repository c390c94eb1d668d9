"""JSON-RPC 2.0 over one connection, shared by the WebSocket and TCP transports.

A connection authenticates with its ``Authorization`` header (WebSocket) or a first ``auth``
request (both). Each request is one operation of the registry (the method is the operation's
name, the params its request fields) run through the same dispatcher as HTTP, so errors carry
the same class name and status in ``data``. Requests run concurrently up to
``max_in_flight_per_connection``: past that the connection stops reading until one finishes
(backpressure), so one client cannot queue unbounded work. The ``id`` is the correlation id;
requests without one are notifications and get no answer. Until the connection is
authenticated (and for every ``auth``), messages are handled one at a time in order, so a
client may pipeline ``auth`` and its first requests. Batches (arrays) are answered with
an array. Connection-specific methods (``events.subscribe``) are given by the transport. A request
whose ``ff_expires_at`` member (epoch seconds) has passed is answered 504 and not run (``deadline``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ff_managers._service.auth import FFPrincipal
from ff_managers._service.deadline import MEMBER as DEADLINE_MEMBER
from ff_managers._service.deadline import check_deadline
from ff_managers._service.dispatch import FFDispatcher
from ff_managers._service.errors import FFAuthenticationError, FFMethodNotFoundError, describe, jsonrpc_error
from ff_utils.ff_errors import FFError, FFValidationError
from ff_utils.ff_logging import get_logger

__all__ = ["FFRpcConnection", "rpc_error", "Send"]

_log = get_logger("service.jsonrpc")
Send = Callable[[Any], Awaitable[None]]
Extra = Callable[["FFRpcConnection", dict[str, Any], asyncio.Event], Awaitable[Any]]


def rpc_error(request_id: Any, code: int, message: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class FFRpcConnection:
    def __init__(
        self,
        dispatcher: FFDispatcher,
        send: Send,
        *,
        transport: str,
        address: str,
        max_in_flight: int,
        principal: FFPrincipal | None = None,
        extra_methods: dict[str, Extra] | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.transport = transport
        self.address = address
        self.principal = principal
        self._send = send
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._extra = extra_methods or {}
        self._replied: dict[int, asyncio.Event] = {}  # id(message) -> set once its answer is sent

    async def receive(self, raw: str | bytes) -> None:
        """Take one message off the wire: parse it and start it (waits while the connection is at its cap)."""
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self._send(rpc_error(None, -32700, "parse error: not JSON"))
            return
        await self._slots.acquire()
        if self.principal is None or (isinstance(message, dict) and message.get("method") == "auth"):
            await self._run(message)  # in order: a pipelined request must not overtake the auth before it
            return
        task = asyncio.get_running_loop().create_task(self._run(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, message: Any) -> None:
        try:
            if isinstance(message, list):
                answers = [a for a in [await self.answer(item) for item in message] if a is not None]
                reply: Any = answers or None
                if not message:
                    reply = rpc_error(None, -32600, "invalid request: empty batch")
            else:
                reply = await self.answer(message)
            if reply is not None:
                await self._send(reply)
            for item in message if isinstance(message, list) else [message]:
                replied = self._replied.pop(id(item), None)
                if replied is not None:
                    replied.set()
        except (ConnectionError, RuntimeError) as exc:  # the peer went away meanwhile
            _log.debug("answer not sent: %s", exc)
        finally:
            self._slots.release()

    async def answer(self, message: Any) -> dict[str, Any] | None:
        """The response object for one request (None for a notification)."""
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
            return rpc_error(message.get("id") if isinstance(message, dict) else None, -32600, "invalid request")
        request_id = message.get("id")
        params = message.get("params", {})
        try:
            if not isinstance(params, dict):
                raise FFValidationError("params must be a JSON object", field="params")
            check_deadline(message.get(DEADLINE_MEMBER))  # an expired request is answered, never run
            result = await self._call(message, params)
        except Exception as exc:  # FFError mapped by the table; anything else is a bug: 500, connection kept
            if not isinstance(exc, FFError):
                _log.exception("operation %s failed", message["method"])
            return None if "id" not in message else {"jsonrpc": "2.0", "id": request_id, "error": jsonrpc_error(describe(exc))}
        return None if "id" not in message else {"jsonrpc": "2.0", "id": request_id, "result": result}

    async def _call(self, message: dict[str, Any], params: dict[str, Any]) -> Any:
        method = message["method"]
        if method == "auth":
            token = params.get("token")
            self.principal = await self.dispatcher.authenticate(
                token if isinstance(token, str) else None, address=self.address, transport=self.transport
            )
            return {"user_id": self.principal.user_id, "roles": sorted(self.principal.roles)}
        if self.principal is None:
            error = FFAuthenticationError("authenticate first: send the 'auth' method with a token")
            await self.dispatcher.audit_refusal(None, method[:100] or "unknown", error, transport=self.transport, address=self.address)
            raise error
        if method in self._extra:
            replied = self._replied[id(message)] = asyncio.Event()
            return await self._extra[method](self, params, replied)
        if method not in self.dispatcher.registry:
            raise FFMethodNotFoundError(f"no method {method!r}")
        _status, value = await self.dispatcher.call(self.principal, method, params, transport=self.transport)
        return value

    async def close(self, grace_s: float) -> None:
        """Wait up to ``grace_s`` for the requests in flight, then cancel what is left."""
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

