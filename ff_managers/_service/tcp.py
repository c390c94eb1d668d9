"""TCP: newline-delimited JSON-RPC 2.0, one request or response per line.

A line longer than ``service.max_line_bytes`` is answered with a 413 error (``-32013``) and the
connection is closed, since the stream cannot be resynchronised safely inside a line. Each
connection runs up to ``max_in_flight_per_connection`` requests at once and stops reading past
that (see :mod:`ff_managers._service.jsonrpc`). On shutdown the listener stops accepting first;
the requests in flight get ``shutdown_grace_seconds`` to finish.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import orjson

from ff_managers._service.errors import describe, jsonrpc_error
from ff_managers._service.jsonrpc import FFRpcConnection
from ff_utils.ff_logging import get_logger

__all__ = ["FFTcpListener"]

_log = get_logger("service.tcp")


class FFTcpListener:
    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._server: asyncio.Server | None = None
        self._handlers: dict[asyncio.Task[None], FFRpcConnection] = {}

    async def start(self, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None) -> int:
        settings = self._runtime.settings
        # The reader's limit bounds a line; the extra room lets an overlong line be detected, not buffered whole.
        self._server = await asyncio.start_server(self._serve, host, port, limit=settings.max_line_bytes + 1, ssl=ssl_context)
        return self._server.sockets[0].getsockname()[1]

    async def stop_accepting(self) -> None:
        if self._server is not None:
            self._server.close()

    async def close(self, grace_s: float) -> None:
        """Stop accepting; let every connection's requests in flight finish (bounded), then close them.

        A connection idle in a read is closed at once rather than waited for: no new line is
        started once the server is stopping (``runtime.stopping``).
        """
        await self.stop_accepting()
        handlers = dict(self._handlers)
        await asyncio.gather(*(connection.close(grace_s) for connection in handlers.values()))
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        runtime, settings = self._runtime, self._runtime.settings
        peer = writer.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else "unknown"
        lock = asyncio.Lock()

        async def send(message: Any) -> None:
            async with lock:
                writer.write(orjson.dumps(message) + b"\n")
                await writer.drain()

        connection = FFRpcConnection(runtime.dispatcher, send, transport="tcp", address=address,
                                     max_in_flight=settings.max_in_flight_per_connection)  # fmt: skip
        runtime.connections.add(connection)
        if task is not None:
            self._handlers[task] = connection
        try:
            while not runtime.stopping:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    break  # the client closed (a partial last line is dropped: it was never a request)
                except asyncio.LimitOverrunError:
                    error = await runtime.dispatcher.refuse_oversized(connection.principal, "line", settings.max_line_bytes,
                                                                      transport="tcp", address=address)  # fmt: skip
                    await send({"jsonrpc": "2.0", "id": None, "error": jsonrpc_error(describe(error))})
                    break
                if len(line) - 1 > settings.max_line_bytes:
                    error = await runtime.dispatcher.refuse_oversized(connection.principal, "line", settings.max_line_bytes,
                                                                      transport="tcp", address=address)  # fmt: skip
                    await send({"jsonrpc": "2.0", "id": None, "error": jsonrpc_error(describe(error))})
                    break
                if runtime.stopping:
                    break  # read while stopping: not started, so not acknowledged
                if line.strip():
                    await connection.receive(line)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            runtime.connections.discard(connection)
            await connection.close(settings.shutdown_grace_seconds)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError) as exc:
                _log.debug("TCP close: %s", exc)
            if task is not None:
                self._handlers.pop(task, None)
