"""TCP: newline-delimited JSON-RPC 2.0 on asyncio streams (optionally TLS), one connection per endpoint.

Authentication is the first request (``auth``); requests are matched by id and bounded in flight
(:mod:`.rpc`). Payloads go uncompressed: the TCP server reads plain JSON lines. The health check
is a round trip on the connection: any JSON-RPC answer (``rpc.ping`` is answered "method not
found") proves the process reads and answers, which a frozen one does not.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import orjson

from ff_managers._comm.errors import FFTransportError
from ff_managers._comm.handlers.rpc import FFRpcHandler

__all__ = ["FFTcpHandler"]

_MAX_LINE = 2**24


class FFTcpHandler(FFRpcHandler):
    protocol = "tcp"

    def __init__(self, *args: Any, ssl_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ssl = ssl_context
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._write_lock = asyncio.Lock()

    async def _open(self) -> None:
        try:
            self._stream = await asyncio.open_connection(self.endpoint.host, self.endpoint.port, ssl=self._ssl, limit=_MAX_LINE)
        except OSError as exc:
            raise FFTransportError(f"{self.endpoint.system_id}: cannot connect: {exc!r}", sent=False) from exc

    async def _write(self, data: bytes) -> None:
        if self._stream is None:
            raise ConnectionError("not connected")
        writer = self._stream[1]
        async with self._write_lock:
            writer.write(data + b"\n")
            await writer.drain()

    async def _read(self) -> dict[str, Any] | None:
        if self._stream is None:
            return None
        line = await self._stream[0].readline()
        if not line:
            return None
        return orjson.loads(line)

    async def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream[1].close()
            try:
                await stream[1].wait_closed()
            except (ConnectionError, OSError):
                pass

    async def health(self) -> bool:
        answer = await self.request("rpc.ping", {}, timeout_s=self.config.request_timeout_s)
        return "result" in answer or answer.get("error", {}).get("code") == -32601
