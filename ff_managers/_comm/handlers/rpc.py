"""JSON-RPC 2.0 over one long-lived connection, shared by the TCP and WebSocket handlers.

One connection per endpoint carries many requests at once, each matched to its answer by the
JSON-RPC ``id`` (the correlation id); at most ``rpc_max_in_flight`` are outstanding, the rest
wait for a slot. A reader task takes every incoming message: answers go to their waiting
request, notifications (``events.event``) to a bounded inbound queue for ``receive``. The
connection authenticates first (``auth`` with the endpoint's token) before any request is
written. When it breaks, every request in flight fails with ``FFTransportError(sent=True)``
(they may have arrived) and the next ``send`` opens a new one: reconnection is on demand.
An answer that arrives after its request timed out finds nobody waiting and is dropped. A
message with a TTL carries ``ff_expires_at`` (epoch seconds): the service answers 504 without
running a request that reaches it after that.
"""

from __future__ import annotations

import abc
import asyncio
import itertools
from collections import deque
from typing import Any

import orjson

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers._comm.errors import FFTransportError
from ff_managers._comm.handlers.base import FFProtocolHandler
from ff_managers._comm.message import ff_error_reply, ff_expires_at, ff_response_reply
from ff_utils.ff_errors import FFValidationError
from ff_utils.ff_logging import get_logger

__all__ = ["FFRpcHandler", "ff_rpc_problem"]

_log = get_logger("comm.rpc")


def ff_rpc_problem(error: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC error object with ``error`` (class name) and ``status`` lifted to the top."""
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    return {**error, "error": data.get("error", "JSONRPCError"), "status": data.get("status", 500), "detail": error.get("message")}


class FFRpcHandler(FFProtocolHandler):
    """The JSON-RPC machinery; subclasses open, write, read and close the byte stream."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._slots = asyncio.Semaphore(self.config.rpc_max_in_flight)
        self._open_lock = asyncio.Lock()
        self._connected = False
        self._reader: asyncio.Task[None] | None = None
        self._inbound: deque[dict[str, Any]] = deque()
        self._inbound_ready = asyncio.Event()
        self.inbound_dropped = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.connects = 0

    # -- the byte stream (subclasses) -----------------------------------------------------------

    @abc.abstractmethod
    async def _open(self) -> None:
        """Open the connection (raise FFTransportError(sent=False) when it cannot be opened)."""

    @abc.abstractmethod
    async def _write(self, data: bytes) -> None:
        """Write one encoded JSON-RPC message."""

    @abc.abstractmethod
    async def _read(self) -> dict[str, Any] | None:
        """The next message, None at the end of the stream."""

    @abc.abstractmethod
    async def _close_stream(self) -> None: ...

    def _authenticated_by_handshake(self) -> bool:
        return False

    # -- connection -------------------------------------------------------------------------------

    async def connect(self) -> None:
        await self._ensure()

    async def _ensure(self) -> dict[str, Any] | None:
        """Open and authenticate if needed; the ``auth`` error object when the token is refused."""
        if self._connected:
            return None
        async with self._open_lock:
            if self._connected:
                return None
            try:
                async with asyncio.timeout(self.config.connect_timeout_s):
                    await self._open()
            except TimeoutError as exc:
                raise FFTransportError(f"{self.endpoint.system_id}: connect timed out", sent=False) from exc
            self._connected = True
            self.connects += 1
            self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name=f"ff-comm-read-{self.endpoint.system_id}")
            if self.endpoint.token and not self._authenticated_by_handshake():
                try:
                    answer = await self._call("auth", {"token": self.endpoint.token}, timeout_s=self.config.connect_timeout_s, sent=False)
                except FFTransportError:
                    await self._teardown()
                    raise
                if "error" in answer:
                    await self._teardown()
                    return answer["error"]
            await self._after_connect()
        return None

    async def _after_connect(self) -> None:
        """A hook run once a new connection is authenticated (resubscribing, for WebSocket)."""

    async def _read_loop(self) -> None:
        try:
            while True:
                message = await self._read()
                if message is None:
                    break
                self._dispatch(message)
        except (ConnectionError, OSError, ValueError) as exc:
            _log.debug("%s: connection lost: %r", self.endpoint.system_id, exc)
        except Exception as exc:  # websockets' ConnectionClosed and the like: the stream is over
            _log.debug("%s: stream ended: %r", self.endpoint.system_id, exc)
        finally:
            self._connected = False
            self._fail_pending(f"{self.endpoint.system_id}: connection closed")
            self._inbound_ready.set()  # wake a receive() waiting on a connection that is gone

    def _dispatch(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        if isinstance(request_id, int) and request_id in self._pending:
            future = self._pending.pop(request_id)
            if not future.done():
                future.set_result(message)
        elif "method" in message and "id" not in message:
            self._on_notification(message)
        elif request_id is None and "error" in message:  # a connection-level refusal (an oversized line): the stream ends
            _log.warning("%s refused the connection: %s", self.endpoint.system_id, message["error"])

    def _on_notification(self, message: dict[str, Any]) -> None:
        if len(self._inbound) >= self.config.inbound_queue_size:
            self._inbound.popleft()
            self.inbound_dropped += 1
        self._inbound.append(message)
        self._inbound_ready.set()

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(FFTransportError(reason, sent=True))
                future.exception()  # retrieved here, so an abandoned one does not log

    async def _teardown(self) -> None:
        self._connected = False
        reader, self._reader = self._reader, None
        try:
            await self._close_stream()
        except Exception as exc:  # closing a broken stream may itself fail; it is gone either way
            _log.debug("%s: close: %r", self.endpoint.system_id, exc)
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        self._fail_pending(f"{self.endpoint.system_id}: connection closed")

    # -- requests ---------------------------------------------------------------------------------

    async def _call(self, method: str, params: dict[str, Any], *, timeout_s: float, sent: bool = True,
                    expires_at: float | None = None) -> dict[str, Any]:  # fmt: skip
        """One request on the open connection; its answer (result or error object)."""
        request_id = next(self._ids)
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        if expires_at is not None:
            request["ff_expires_at"] = expires_at  # the service answers 504 without running it past this
        try:
            data = orjson.dumps(request)
        except TypeError as exc:  # the caller's payload, not the connection: never a transport failure
            raise FFValidationError(f"{method}: the params are not JSON-encodable: {exc}", field="payload") from exc
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            try:
                await self._write(data)
            except Exception as exc:
                raise FFTransportError(f"{self.endpoint.system_id}: write failed: {exc!r}", sent=sent) from exc
            try:
                async with asyncio.timeout(timeout_s):
                    return await future
            except TimeoutError as exc:
                raise FFTransportError(f"{self.endpoint.system_id}: no answer within {timeout_s:.3f}s", sent=sent) from exc
        finally:
            self._pending.pop(request_id, None)

    async def request(self, method: str, params: dict[str, Any], *, timeout_s: float, expires_at: float | None = None) -> dict[str, Any]:
        """Connect if needed, then one request (connection-level methods such as ``events.subscribe``)."""
        async with self._slots:
            refused = await self._ensure()
            if refused is not None:
                return {"error": refused}
            return await self._call(method, params, timeout_s=timeout_s, expires_at=expires_at)

    async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
        route, params = self.route_and_params(message)
        answer = await self.request(route.name, params, timeout_s=timeout_s, expires_at=ff_expires_at(message))
        now = self.context.clock()
        if "error" in answer:
            return ff_error_reply(message, ff_rpc_problem(answer["error"]), now=now, endpoint=self.endpoint)
        return ff_response_reply(message, answer.get("result"), endpoint=self.endpoint, status=None, now=now)

    async def next_notification(self) -> dict[str, Any]:
        """The next notification the server sent (waits for one); FFTransportError once the connection is gone."""
        while not self._inbound:
            if not self._connected:
                raise FFTransportError(f"{self.endpoint.system_id}: the connection is closed", sent=True)
            self._inbound_ready.clear()
            await self._inbound_ready.wait()
        return self._inbound.popleft()

    def _spawn(self, coroutine: Any) -> None:
        """A short task owned by this handler (cancelled and awaited by ``close``)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._teardown()

    def pool_use(self) -> dict[str, int]:
        return {"connections": int(self._connected), "in_flight": len(self._pending), "connects": self.connects}
