"""The ASGI front answers the operation routes itself and hands everything else to FastAPI."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ff_managers._service.fast_routes import FFOperationFront


def _app(seen: list[str]) -> FastAPI:
    app = FastAPI()
    app.state.marker = "state"

    @app.middleware("http")
    async def through_fastapi(request: Request, call_next):  # type: ignore[no-untyped-def]
        seen.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    async def write(request: Request) -> Response:
        body = await request.body()
        return JSONResponse({"id": request.path_params["item_id"], "body": body.decode(), "state": request.app.state.marker,
                             "q": request.query_params.get("q")}, 201)  # fmt: skip

    async def read(request: Request) -> Response:
        return JSONResponse({"read": request.path_params["item_id"]})

    app.add_api_route("/v1/items/{item_id}", write, methods=["POST"], name="items.write")
    app.add_api_route("/v1/items/{item_id}", read, methods=["GET"], name="items.read")
    async def other(limit: int) -> dict[str, int]:  # FastAPI's own parameter handling
        return {"limit": limit}

    app.add_api_route("/v1/other", other, methods=["GET"], name="not.an.operation")
    return app


async def test_operation_routes_skip_fastapi_and_the_rest_goes_through_it() -> None:
    seen: list[str] = []
    front = FFOperationFront(_app(seen), {"items.write", "items.read"})
    assert front.routes() == 2
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=front), base_url="http://t") as http:
        answer = await http.post("/v1/items/a%20b?q=1", content=b"hello")
        assert (answer.status_code, answer.json()) == (201, {"id": "a b", "body": "hello", "state": "state", "q": "1"})
        assert (await http.get("/v1/items/x")).json() == {"read": "x"}
        assert seen == []  # both answered by the front
        assert (await http.delete("/v1/items/x")).status_code == 405  # FastAPI's answers
        assert (await http.get("/v1/items/x/deeper")).status_code == 404
        assert (await http.get("/v1/other")).status_code == 422  # not an operation: FastAPI validates it
        assert (await http.get("/v1/other?limit=3")).json() == {"limit": 3}
        assert (await http.get("/openapi.json")).status_code == 200
    assert seen == ["DELETE /v1/items/x", "GET /v1/items/x/deeper", "GET /v1/other", "GET /v1/other", "GET /openapi.json"]
