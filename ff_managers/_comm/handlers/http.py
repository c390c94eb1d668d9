"""HTTP/HTTPS on one pooled ``httpx.AsyncClient`` per endpoint.

The pool's size comes from the config (``pool_max_connections``, ``pool_max_keepalive`` as
``httpx.Limits``), the timeouts per attempt (the smaller of ``request_timeout_s`` and what is left
of the message's TTL; connecting is bounded by ``connect_timeout_s``). The operation's route
gives the method and path: GET sends the remaining fields as the query, POST as a JSON body,
gzip-compressed with ``Content-Encoding: gzip`` past ``compress_above_bytes``. A POST carries
``Idempotency-Key: <message id>``, so a retry that reaches the same instance is answered from its
replay cache. A message with a TTL carries ``X-FF-Expires-At`` (epoch seconds): the service
answers 504 without running a request that arrives after it (the receiving end of the TTL). The health check is ``GET /health/ready`` (200: ready). Proxy variables of the
environment are ignored (``trust_env=False``): an endpoint is an explicit instance address.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import orjson

from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers._comm.compression import ff_maybe_gzip
from ff_managers._comm.errors import FFTransportError
from ff_managers._comm.handlers.base import FFProtocolHandler
from ff_managers._comm.message import ff_error_reply, ff_expires_at, ff_response_reply
from ff_utils.ff_errors import FFValidationError

__all__ = ["FFHttpHandler"]


def _verify(setting: bool | str) -> bool | ssl.SSLContext:
    if isinstance(setting, str):
        return ssl.create_default_context(cafile=setting)
    return setting


class FFHttpHandler(FFProtocolHandler):
    protocol = "http"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: httpx.AsyncClient | None = None
        scheme = "https" if self.endpoint.protocol == "https" else "http"
        self.base_url = f"{scheme}://{self.endpoint.host}:{self.endpoint.port}"

    async def connect(self) -> None:
        if self._client is None:
            config = self.config
            limits = httpx.Limits(max_connections=config.pool_max_connections, max_keepalive_connections=config.pool_max_keepalive)
            timeout = httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s)
            headers = {"Authorization": f"Bearer {self.endpoint.token}"} if self.endpoint.token else {}
            self._client = httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=timeout, headers=headers, trust_env=False,
                                             verify=_verify(self.endpoint.tls_verify))  # fmt: skip

    async def _request(self, method: str, path: str, *, timeout_s: float, **kwargs: Any) -> httpx.Response:
        await self.connect()
        assert self._client is not None
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, self.config.connect_timeout_s))
        try:
            return await self._client.request(method, path, timeout=timeout, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise FFTransportError(f"{self.endpoint.system_id}: cannot connect: {exc!r}", sent=False) from exc
        except httpx.TransportError as exc:  # read/write timeout, reset, remote protocol error: it may have arrived
            raise FFTransportError(f"{self.endpoint.system_id}: {type(exc).__name__}: {exc}", sent=True) from exc

    async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
        route, params = self.route_and_params(message)
        path, fields = route.split(params)
        expires = ff_expires_at(message)
        deadline = {"x-ff-expires-at": repr(expires)} if expires is not None else {}
        if route.http_method == "GET":
            response = await self._request("GET", path, timeout_s=timeout_s, params=fields, headers=deadline)
        else:
            try:
                raw = orjson.dumps(fields)
            except TypeError as exc:  # the caller's payload, not the connection
                raise FFValidationError(f"{route.name}: the payload is not JSON-encodable: {exc}", field="payload") from exc
            body, encoding = ff_maybe_gzip(raw, self.config.compress_above_bytes)
            headers = {"content-type": "application/json", "idempotency-key": message.message_id, **deadline}
            if encoding:
                headers["content-encoding"] = encoding
            response = await self._request("POST", path, timeout_s=timeout_s, content=body, headers=headers)
        now = self.context.clock()
        try:
            data = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            data = {"detail": response.text[:500]}
        if response.status_code >= 400:
            problem = data if isinstance(data, dict) else {"detail": data}
            problem = {**problem, "status": response.status_code, "error": problem.get("error", "HTTPError")}
            return ff_error_reply(message, problem, now=now, endpoint=self.endpoint)
        return ff_response_reply(message, data, endpoint=self.endpoint, status=response.status_code, now=now)

    async def health(self) -> bool:
        response = await self._request("GET", "/health/ready", timeout_s=self.config.request_timeout_s)
        return response.status_code == 200

    async def fetch_openapi(self) -> dict[str, Any]:
        """The server's OpenAPI document (for a catalogue of its own operations)."""
        response = await self._request("GET", "/openapi.json", timeout_s=self.config.request_timeout_s)
        response.raise_for_status()
        return orjson.loads(response.content)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def pool_use(self) -> dict[str, int]:
        pool = getattr(getattr(self._client, "_transport", None), "_pool", None)
        connections = getattr(pool, "connections", None)
        if connections is None:
            return {"connections": 0}
        return {"connections": len(connections), "idle": sum(1 for c in connections if c.is_idle())}
