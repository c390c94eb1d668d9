"""Clients that speak the service contract (API.md "Service") over HTTP, WebSocket and TCP.

Each client turns one call ``(operation, params, token)`` into an :class:`Outcome` with the same
shape whatever the transport, so one test case runs unchanged over the three: the HTTP client
builds the path from the operation's path fields (GET: the rest in the query; POST: in the
body), the JSON-RPC clients send ``auth`` first and then the operation as the method. Only the
contract is used (paths and method names from the registry the server publishes in OpenAPI
would do as well); nothing here imports the service's private package.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import websockets

__all__ = ["Outcome", "HttpClient", "WsClient", "TcpClient", "ROUTES", "make_client", "running_service"]

# operation -> (HTTP method, path) as API.md lists them
ROUTES: dict[str, tuple[str, str]] = {
    "memory.create_session": ("POST", "/v1/users/{user_id}/sessions"),
    "memory.list_sessions": ("GET", "/v1/users/{user_id}/sessions"),
    "memory.add_message": ("POST", "/v1/users/{user_id}/sessions/{session_id}/messages"),
    "memory.get_messages": ("GET", "/v1/users/{user_id}/sessions/{session_id}/messages"),
    "memory.store_memory": ("POST", "/v1/users/{user_id}/memories"),
    "memory.search_memories": ("GET", "/v1/users/{user_id}/memories/search"),
    "panel.create_panel": ("POST", "/v1/users/{user_id}/panels"),
    "panel.add_message": ("POST", "/v1/users/{user_id}/panels/{panel_id}/messages"),
    "panel.get_messages": ("GET", "/v1/users/{user_id}/panels/{panel_id}/messages"),
    "knowledge.create_knowledge_base": ("POST", "/v1/users/{user_id}/knowledge"),
    "knowledge.add_document": ("POST", "/v1/users/{user_id}/knowledge/{kb_id}/documents"),
    "knowledge.search": ("GET", "/v1/users/{user_id}/knowledge/{kb_id}/search"),
    "tools.execute_tool": ("POST", "/v1/users/{user_id}/tools/{tool_name}/runs"),
    "tools.assign_role": ("POST", "/v1/users/{user_id}/roles"),
    "metrics.record_metric": ("POST", "/v1/metrics"),
    "metrics.get_summary": ("GET", "/v1/metrics/{name}/summary"),
    "metrics.get_audit_records": ("GET", "/v1/audit"),
    "test.raise": ("POST", "/v1/test/raise"),
}
_ids = itertools.count(1)


@dataclass
class Outcome:
    """A call's result: ``status`` (HTTP status, or data.status of a JSON-RPC error; None for a
    JSON-RPC success), ``error`` (the FFError class name) and ``result`` (the answer's JSON)."""

    ok: bool
    status: int | None
    error: str | None = None
    result: Any = None
    code: int | None = None
    headers: dict[str, str] | None = None


class HttpClient:
    transport = "http"

    def __init__(self, base: str, *, verify: Any = True) -> None:
        self._client = httpx.AsyncClient(base_url=base, timeout=30, verify=verify)

    async def call(self, operation: str, params: dict[str, Any], token: str | None, *, headers: dict[str, str] | None = None) -> Outcome:
        method, template = ROUTES[operation]
        fields = dict(params)
        path = re.sub(r"{(\w+)}", lambda m: str(fields.pop(m.group(1))), template)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if method == "GET":
            response = await self._client.get(path, params=fields, headers=sent)
        else:
            response = await self._client.post(path, content=orjson.dumps(fields), headers={**sent, "content-type": "application/json"})
        body = response.json() if response.content else None
        if response.status_code >= 400:
            return Outcome(False, response.status_code, body.get("error"), body, headers=dict(response.headers))
        return Outcome(True, response.status_code, None, body, headers=dict(response.headers))

    async def raw_post(self, path: str, content: bytes, token: str) -> httpx.Response:
        return await self._client.post(path, content=content, headers={"Authorization": f"Bearer {token}"})

    async def close(self) -> None:
        await self._client.aclose()


def _outcome(answer: dict[str, Any]) -> Outcome:
    if "error" in answer:
        data = answer["error"].get("data", {})
        return Outcome(False, data.get("status"), data.get("error"), answer["error"], code=answer["error"]["code"])
    return Outcome(True, None, None, answer["result"])


class _RpcClient:
    async def call(self, operation: str, params: dict[str, Any], token: str | None) -> Outcome:
        await self._open()
        try:
            if token is not None:
                auth = await self.request("auth", {"token": token})
                if "error" in auth:
                    return _outcome(auth)
            return _outcome(await self.request(operation, params))
        finally:
            await self.close()

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = next(_ids)
        await self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        while True:
            message = await self.receive()
            if message.get("id") == request_id or (message.get("id") is None and "error" in message):
                return message

    async def _open(self) -> None:
        raise NotImplementedError

    async def send(self, message: Any) -> None:
        raise NotImplementedError

    async def receive(self) -> dict[str, Any]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class WsClient(_RpcClient):
    transport = "ws"

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None) -> None:
        self._url, self._ssl, self._headers = url, ssl_context, headers
        self._ws: Any = None

    async def _open(self) -> None:
        self._ws = await websockets.connect(self._url, ssl=self._ssl, additional_headers=self._headers, max_size=2**24,
                                            open_timeout=10)  # fmt: skip

    async def send(self, message: Any) -> None:
        await self._ws.send(orjson.dumps(message).decode())

    async def send_raw(self, text: str) -> None:
        await self._ws.send(text)

    async def receive(self) -> dict[str, Any]:
        return orjson.loads(await asyncio.wait_for(self._ws.recv(), 30))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None


class TcpClient(_RpcClient):
    transport = "tcp"

    def __init__(self, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._host, self._port, self._ssl = host, port, ssl_context
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port, ssl=self._ssl, limit=2**24)

    async def send(self, message: Any) -> None:
        await self.send_raw(orjson.dumps(message) + b"\n")

    async def send_raw(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def receive(self) -> dict[str, Any]:
        assert self._reader is not None
        line = await asyncio.wait_for(self._reader.readline(), 30)
        if not line:
            raise ConnectionError("closed by the server")
        return orjson.loads(line)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
            self._writer = None


def make_client(transport: str, ready: Any, *, tls: ssl.SSLContext | None = None) -> HttpClient | WsClient | TcpClient:
    host = ready.host
    if transport == "http":
        return HttpClient(f"{'https' if tls else 'http'}://{host}:{ready.http_port}", verify=tls or True)
    if transport == "ws":
        return WsClient(f"{'wss' if tls else 'ws'}://{host}:{ready.http_port}/v1/ws", ssl_context=tls)
    return TcpClient(host, ready.tcp_port, ssl_context=tls)


@contextlib.asynccontextmanager
async def running_service(config: Any, *, udp: bool = False, tls: tuple[Any, Any] | None = None, **service_kwargs: Any) -> AsyncIterator[tuple[Any, Any]]:
    """An FFServiceManager on 127.0.0.1 with free ports (TCP on, UDP when asked), stopped in ``finally``."""
    from ff_managers import FFServiceManager

    service = FFServiceManager(config, **service_kwargs)
    tls_files = {"ssl_keyfile": tls[0], "ssl_certfile": tls[1]} if tls else {}
    ready = await asyncio.wait_for(
        service.start(host="127.0.0.1", http_port=0, tcp_port=0, udp_port=0 if udp else None, **tls_files), 30
    )
    try:
        yield service, ready
    finally:
        await asyncio.wait_for(service.stop(), 60)
