"""HTTP: the FastAPI application generated from the operation registry, plus health and info.

Every operation becomes one route at its method and path. The route reads the body itself
(refusing it with 413 past ``service.max_request_bytes``, also when the client sends no
Content-Length), merges query, body and path fields into the params, and hands them to the
dispatcher, the same call WebSocket and TCP make. The OpenAPI document (``/openapi.json``)
describes each route from the same request and response DTOs. Errors are
``application/problem+json``; a 429 carries ``Retry-After``. ``Idempotency-Key`` on a POST
replays the first answer of a retried write (see ``idempotency``), marked ``Idempotent-Replayed: true``.
A request past its ``X-FF-Expires-At`` (see ``deadline``) is answered 504 without running.
A body sent with ``Content-Encoding: gzip`` is inflated first, bounded by the same limit (413 past it).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from ff_managers._service.auth import bearer_token
from ff_managers._service.deadline import HEADER as DEADLINE_HEADER
from ff_managers._service.deadline import check_deadline
from ff_managers._service.dispatch import to_json
from ff_managers._service.errors import describe, problem
from ff_managers._service.registry import FFOperation
from ff_managers._service.ws import websocket_endpoint
from ff_utils.ff_errors import FFError, FFNotFoundError, FFValidationError
from ff_utils.ff_gzip import FFInflatedTooLargeError, ff_gunzip_bounded
from ff_utils.ff_logging import get_logger

__all__ = ["build_http_app", "error_response"]

_log = get_logger("service.http")
_JSON = "application/json"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type=_JSON)


def error_response(exc: BaseException) -> Response:
    if not isinstance(exc, FFError):
        _log.error("request failed", exc_info=exc)
    wire = describe(exc)
    headers = {"Retry-After": str(wire.retry_after)} if wire.retry_after is not None else None
    return Response(orjson.dumps(problem(wire)), wire.status, headers=headers, media_type="application/problem+json")


async def _read_body(request: Request, runtime: Any, principal: Any, address: str) -> bytes:
    limit = runtime.settings.max_request_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise await runtime.dispatcher.refuse_oversized(principal, "body", limit, transport="http", address=address)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise await runtime.dispatcher.refuse_oversized(principal, "body", limit, transport="http", address=address)
        chunks.append(chunk)
    return _decoded(request, b"".join(chunks), limit) if chunks else b""


def _decoded(request: Request, raw: bytes, limit: int) -> bytes:
    """The body after its ``Content-Encoding``: gzip is inflated to at most the body limit (a zip
    bomb is refused with 413 as soon as it passes the bound, never inflated whole)."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise FFValidationError(f"unsupported Content-Encoding {encoding[:40]!r} (gzip or identity)", field="content-encoding")
    return ff_gunzip_bounded(raw, limit)


def _params(operation: FFOperation, request: Request, raw: bytes) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if operation.http_method == "POST" and raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise FFValidationError(f"the body is not JSON: {exc}", field="body") from exc
        if not isinstance(body, dict):
            raise FFValidationError("the body must be a JSON object", field="body")
        params.update(body)
    params.update(request.path_params)
    return params


def _route(operation: FFOperation) -> Any:
    async def endpoint(request: Request) -> Response:
        runtime = request.app.state.runtime
        dispatcher = runtime.dispatcher
        address = request.client.host if request.client else "unknown"
        try:
            token = bearer_token(request.headers.get("authorization"))
            principal = await dispatcher.authenticate(token, address=address, transport="http")
            try:
                raw = await _read_body(request, runtime, principal, address)
            except FFInflatedTooLargeError:
                raise await runtime.dispatcher.refuse_oversized(principal, "body", runtime.settings.max_request_bytes,
                                                                transport="http", address=address) from None  # fmt: skip
            params = _params(operation, request, raw)
            check_deadline(request.headers.get(DEADLINE_HEADER))  # an expired request is answered, never run
            key = request.headers.get("idempotency-key")
            if key is None or operation.http_method != "POST":
                status, data = await dispatcher.call(principal, operation.name, params, transport="http")
                return _json(data, status)
            fingerprint = runtime.idempotency.fingerprint(operation.name, dict(request.path_params), raw)

            async def first() -> tuple[int, Any]:
                return await dispatcher.call(principal, operation.name, params, transport="http")

            (status, data), replayed = await runtime.idempotency.run(principal.rate_key, key[:200], fingerprint, first)
            return _json(data, status, {"Idempotent-Replayed": "true"} if replayed else None)
        except Exception as exc:
            return error_response(exc)

    endpoint.__name__ = operation.name.replace(".", "_")
    return endpoint


def _openapi_extra(operation: FFOperation) -> dict[str, Any]:
    schema = operation.request.model_json_schema()
    path_fields = set(operation.path_fields)
    properties = schema.get("properties", {})
    parameters = [{"name": name, "in": "path", "required": True, "schema": properties.get(name, {"type": "string"})}
                  for name in operation.path_fields]  # fmt: skip
    extra: dict[str, Any] = {"parameters": parameters, "operationId": operation.name,
                             "x-ff-idempotent": operation.idempotent, "x-ff-rate-cost": operation.rate_cost}  # fmt: skip
    if operation.idempotency_field:
        extra["x-ff-idempotency-field"] = operation.idempotency_field
    if operation.role:
        extra["x-ff-role"] = operation.role
    remaining = {k: v for k, v in properties.items() if k not in path_fields}
    required = [k for k in schema.get("required", []) if k not in path_fields]
    if operation.http_method == "GET":
        parameters += [{"name": k, "in": "query", "required": k in required, "schema": v} for k, v in remaining.items()]
    else:
        body = {"type": "object", "properties": remaining, "required": required, "additionalProperties": False}
        if "$defs" in schema:
            body["$defs"] = schema["$defs"]
        extra["requestBody"] = {"required": True, "content": {_JSON: {"schema": body}}}
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}})
    return extra


def build_http_app(runtime: Any, *, version: str) -> FastAPI:
    """The ASGI application of one running service (``runtime`` is its FFServiceRuntime)."""
    app = FastAPI(title="FF Platform service", version=version, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    problem_response = {"description": "problem+json", "content": {"application/problem+json": {}}}
    for operation in runtime.dispatcher.registry:
        app.add_api_route(
            operation.path, _route(operation), methods=[operation.http_method], status_code=operation.status,
            summary=operation.summary, name=operation.name, response_model=None, openapi_extra=_openapi_extra(operation),
            responses={operation.status: {"model": operation.response}, "4XX": problem_response, "5XX": problem_response},
        )  # fmt: skip

    async def live() -> Response:
        return _json({"status": "live", "instance_id": runtime.instance_id})

    async def ready() -> Response:
        ok, checks = await runtime.health.ready()
        return _json({"ready": ok, "checks": checks}, 200 if ok else 503)

    async def info(request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        try:
            token = bearer_token(request.headers.get("authorization"))
            await runtime.dispatcher.authenticate(token, address=address, transport="http")
            return _json(to_json(await asyncio.to_thread(runtime.info)))  # it reads the instance leases
        except Exception as exc:
            return error_response(exc)

    async def http_error(_request: Request, exc: Exception) -> Response:
        """Starlette's own refusals (no such path, wrong method) as problem+json too."""
        status = getattr(exc, "status_code", 500)
        if status == 404:
            return error_response(FFNotFoundError("no such path", kind="path"))
        body = {"type": "about:blank", "title": str(getattr(exc, "detail", "")), "status": status,
                "detail": str(getattr(exc, "detail", "")), "error": "HTTPError"}  # fmt: skip
        return Response(orjson.dumps(body), status, headers=getattr(exc, "headers", None), media_type="application/problem+json")

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_api_route("/health/live", live, methods=["GET"], summary="200 while the process serves (no auth)")
    app.add_api_route("/health/ready", ready, methods=["GET"], summary="200 ready / 503 not, with each check (no auth)")
    app.add_api_route("/v1/info", info, methods=["GET"], summary="instance_id, version, uptime_s, transports, UDP loss")
    app.add_api_websocket_route("/v1/ws", websocket_endpoint)
    return app
