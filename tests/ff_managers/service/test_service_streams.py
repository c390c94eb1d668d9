"""Event subscriptions over WebSocket (offsets, resume, isolation), StatsD over UDP, idempotent retries."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import orjson
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from tests._service_clients import HttpClient, WsClient, running_service


async def _events(client: WsClient, count: int) -> list[dict[str, Any]]:
    received = []
    while len(received) < count:
        message = await client.receive()
        if message.get("method") == "events.event":
            received.append(message["params"])
    return received


async def _subscribe(url: str, token: str, topics: list[str], after: int | None = None) -> tuple[WsClient, dict[str, Any]]:
    client = WsClient(url)
    await client._open()
    assert "result" in await client.request("auth", {"token": token})
    params: dict[str, Any] = {"topics": topics}
    if after is not None:
        params["after"] = after
    answer = await client.request("events.subscribe", params)
    return client, answer


async def test_a_subscriber_resumes_after_a_reconnect_without_loss_or_repeat(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        alice, bob = service.create_api_key("alice").key, service.create_api_key("bob").key
        admin = service.create_api_key("ops", ["admin"]).key
        url = f"ws://127.0.0.1:{ready.http_port}/v1/ws"
        http = HttpClient(f"http://127.0.0.1:{ready.http_port}")
        first, answer = await _subscribe(url, alice, ["memory.message_added"])
        watcher, _ = await _subscribe(url, admin, ["memory.*"])
        try:
            assert "result" in answer
            sid = (await http.call("memory.create_session", {"user_id": "alice"}, alice)).result["session_id"]
            bob_sid = (await http.call("memory.create_session", {"user_id": "bob"}, bob)).result["session_id"]
            for n in range(3):
                await http.call("memory.add_message", {"user_id": "alice", "session_id": sid, "role": "user", "content": f"m{n}"}, alice)
                await http.call("memory.add_message", {"user_id": "bob", "session_id": bob_sid, "role": "user", "content": f"b{n}"}, bob)
            seen = await _events(first, 3)
            assert [e["user_id"] for e in seen] == ["alice"] * 3  # never bob's
            assert all(e["topic"] == "memory.message_added" for e in seen)
            offsets = [e["offset"] for e in seen]
            assert offsets == sorted(offsets) and len(set(offsets)) == 3
            await first.close()  # the client goes away after the first event it processed...
            for n in range(3, 5):
                await http.call("memory.add_message", {"user_id": "alice", "session_id": sid, "role": "user", "content": f"m{n}"}, alice)
            resumed, answer = await _subscribe(url, alice, ["memory.message_added"], after=offsets[0])
            assert "result" in answer, answer
            again = await _events(resumed, 4)  # ...and resumes after it: m1, m2 (missed by nobody) and m3, m4
            assert [e["offset"] for e in again][:2] == offsets[1:]
            assert len({e["offset"] for e in again}) == 4 and min(e["offset"] for e in again) > offsets[0]
            await resumed.close()
            everyone = await _events(watcher, 2 + 6 + 2)  # admin: both users' sessions and messages
            assert {e["user_id"] for e in everyone} == {"alice", "bob"}
        finally:
            await watcher.close()
            await http.close()


async def test_a_resume_older_than_the_retention_bound_is_refused_not_silent(config: FFConfigurationManagerConfigDTO) -> None:
    config.service.event_retention = 2
    async with running_service(config) as (service, ready):
        alice = service.create_api_key("alice").key
        http = HttpClient(f"http://127.0.0.1:{ready.http_port}")
        try:
            for _ in range(4):
                await http.call("memory.create_session", {"user_id": "alice"}, alice)
            url = f"ws://127.0.0.1:{ready.http_port}/v1/ws"
            client, answer = await _subscribe(url, alice, ["*"], after=0)
            await client.close()
            assert answer["error"]["data"] == {"error": "FFConflictError", "status": 409, "detail": answer["error"]["data"]["detail"]}
            assert "no longer retained" in answer["error"]["message"]
        finally:
            await http.close()


async def test_statsd_datagrams_are_recorded_and_lost_ones_counted(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config, udp=True) as (service, ready):
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for seq in (1, 2, 5, 6):  # 3 and 4 "lost"
                sender.sendto(f"udp.latency:{seq * 10}|ms|#route:chat,seq:{seq}".encode(), ("127.0.0.1", ready.udp_port))
            sender.sendto(b"udp.hits:1|c\nudp.depth:7|g\nnot a statsd line", ("127.0.0.1", ready.udp_port))
            key = service.create_api_key("alice").key
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers={"Authorization": f"Bearer {key}"}) as http:
                for _ in range(200):
                    info = (await http.get("/v1/info")).json()
                    if info["udp"]["recorded"] >= 6:
                        break
                    await asyncio.sleep(0.02)
                assert info["udp"] == {"received": 5, "recorded": 6, "bad": 1, "lost": 2, "dropped": 0, "senders": 1}
                summary = (await http.get("/v1/metrics/udp.latency/summary")).json()
                assert (summary["count"], summary["max"]) == (4, 60)
                assert (await http.get("/v1/metrics/udp.depth/summary")).json()["count"] == 1
        finally:
            sender.close()


async def test_an_idempotency_key_replays_the_first_answer(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers={"Authorization": f"Bearer {key}"}) as http:
            sid = (await http.post("/v1/users/alice/sessions", json={})).json()["session_id"]
            path = f"/v1/users/alice/sessions/{sid}/messages"
            retry = {"Idempotency-Key": "k-1"}
            first, second = await asyncio.gather(
                http.post(path, json={"role": "user", "content": "once"}, headers=retry),
                http.post(path, json={"role": "user", "content": "once"}, headers=retry),
            )
            third = await http.post(path, json={"role": "user", "content": "once"}, headers=retry)
            assert first.status_code == second.status_code == third.status_code == 201
            assert first.json() == second.json() == third.json()
            assert third.headers["idempotent-replayed"] == "true"
            other = await http.post(path, json={"role": "user", "content": "different"}, headers=retry)
            assert (other.status_code, other.json()["error"]) == (422, "FFValidationError")
            messages = (await http.get(path, params={"limit": 10})).json()
            assert [m["content"] for m in messages] == ["once"]


async def test_a_retried_message_id_is_stored_once(config: FFConfigurationManagerConfigDTO) -> None:
    """Needs the Hardening issue's idempotent add_message (same id and content: the stored message)."""
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers={"Authorization": f"Bearer {key}"}) as http:
            sid = (await http.post("/v1/users/alice/sessions", json={})).json()["session_id"]
            path = f"/v1/users/alice/sessions/{sid}/messages"
            body = {"role": "user", "content": "hi", "message_id": "client-1"}
            first = await http.post(path, json=body)
            again = await http.post(path, json=body)
            assert (first.status_code, again.status_code) == (201, 200)
            assert first.json() == again.json()
            clash = await http.post(path, json={**body, "content": "other"})
            assert (clash.status_code, clash.json()["error"]) == (409, "FFConflictError")
            assert len((await http.get(path)).json()) == 1


@pytest.mark.parametrize("cap", [1, 3])
async def test_tcp_runs_at_most_the_in_flight_cap_per_connection(config: FFConfigurationManagerConfigDTO, cap: int) -> None:
    from ff_managers._service.operations import build_registry
    from ff_managers._service.registry import FFOperation
    from pydantic import BaseModel

    running = {"now": 0, "max": 0}

    class _Nap(BaseModel):
        pass

    async def nap(_managers: Any, _request: _Nap) -> dict[str, int]:
        running["now"] += 1
        running["max"] = max(running["max"], running["now"])
        await asyncio.sleep(0.02)
        running["now"] -= 1
        return {"ok": 1}

    registry = build_registry()
    registry.add(FFOperation("test.nap", http_method="POST", path="/v1/test/nap", request=_Nap, response=dict, handler=nap, summary="nap"))
    config.service.max_in_flight_per_connection = cap
    async with running_service(config, registry=registry) as (service, ready):
        key = service.create_api_key("alice").key
        reader, writer = await asyncio.open_connection("127.0.0.1", ready.tcp_port)
        try:
            lines = [b'{"jsonrpc":"2.0","id":0,"method":"auth","params":{"token":"%s"}}\n' % key.encode()]
            lines += [b'{"jsonrpc":"2.0","id":%d,"method":"test.nap","params":{}}\n' % n for n in range(1, 9)]
            writer.write(b"".join(lines))  # all at once: the server must not run more than the cap
            await writer.drain()
            answers = [await asyncio.wait_for(reader.readline(), 10) for _ in range(9)]
            assert sum(b'"result"' in a for a in answers) == 9
            assert running["max"] == cap
        finally:
            writer.close()


async def test_stop_finishes_the_requests_in_flight_and_then_refuses_new_ones(config: FFConfigurationManagerConfigDTO) -> None:
    from ff_managers import FFServiceManager
    from ff_managers._service.operations import build_registry
    from ff_managers._service.registry import FFOperation
    from pydantic import BaseModel

    class _Nap(BaseModel):
        pass

    started = asyncio.Event()

    async def nap(_managers: Any, _request: _Nap) -> dict[str, str]:
        started.set()
        await asyncio.sleep(0.3)
        return {"slept": "yes"}

    registry = build_registry()
    registry.add(FFOperation("test.nap", http_method="POST", path="/v1/test/nap", request=_Nap, response=dict, handler=nap, summary="nap"))
    service = FFServiceManager(config, registry=registry)
    ready = await service.start(host="127.0.0.1", http_port=0, tcp_port=0, udp_port=None)
    try:
        key = service.create_api_key("alice").key
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", ready.tcp_port)  # never sends: must not hold up stop
        reader, writer = await asyncio.open_connection("127.0.0.1", ready.tcp_port)
        writer.write(b'{"jsonrpc":"2.0","id":1,"method":"auth","params":{"token":"%s"}}\n' % key.encode())
        writer.write(b'{"jsonrpc":"2.0","id":2,"method":"test.nap","params":{}}\n')
        await writer.drain()
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers={"Authorization": f"Bearer {key}"})
        in_flight = asyncio.create_task(http.post("/v1/test/nap", json={}))
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(0.05)  # both naps are running
        await asyncio.wait_for(service.stop(), 30)
        answers = [orjson.loads(await asyncio.wait_for(reader.readline(), 5)) for _ in range(2)]
        assert answers[1] == {"jsonrpc": "2.0", "id": 2, "result": {"slept": "yes"}}
        assert (await in_flight).json() == {"slept": "yes"}
        with pytest.raises(httpx.ConnectError):
            await http.get("/health/live")
        assert await asyncio.wait_for(idle_reader.read(), 5) == b""  # closed by the server
        writer.close()
        idle_writer.close()
        await http.aclose()
    finally:
        await service.stop()


async def test_a_body_over_the_limit_is_refused_also_without_content_length(config: FFConfigurationManagerConfigDTO) -> None:
    config.service.max_request_bytes = 2048
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers={"Authorization": f"Bearer {key}"}) as http:

            async def chunks() -> Any:
                for _ in range(10):
                    yield b'{"title": "' + b"x" * 500 if _ == 0 else b"x" * 500

            answer = await http.post("/v1/users/alice/sessions", content=chunks(), headers={"content-type": "application/json"})
            assert "content-length" not in answer.request.headers  # sent chunked
            assert (answer.status_code, answer.json()["error"]) == (413, "FFPayloadTooLargeError")
            assert (await http.get("/v1/users/alice/sessions")).json() == []


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        reader, writer = await asyncio.open_connection("127.0.0.1", ready.http_port)
        try:
            head = (f"POST /v1/users/alice/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n")  # fmt: skip
            writer.write(head.encode())  # and never the 100 MiB
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 10)
            assert status_line.split()[1] == b"413"
        finally:
            writer.close()
