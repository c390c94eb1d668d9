"""The fault proxies in front of a real service: byte-level, so HTTP keep-alive, WebSocket, TCP
JSON-RPC and StatsD over UDP pass unchanged, and a fault reaches each client as it would on a network."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from testing.faults import FFDrop, FFFaultProxy, FFFaultRecorder, FFLatency, FFResetPeer, FFSlicer, FFUdpFaultProxy
from tests._service_clients import TcpClient, WsClient, running_service

pytestmark = pytest.mark.timeout(120)


async def test_http_keep_alive_websocket_and_tcp_rpc_through_the_proxy(config: FFConfigurationManagerConfigDTO) -> None:
    recorder = FFFaultRecorder()
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        async with (
            FFFaultProxy("127.0.0.1", ready.http_port, seed=1, recorder=recorder, name="http") as http_proxy,
            FFFaultProxy("127.0.0.1", ready.tcp_port, seed=1, recorder=recorder, name="tcp") as tcp_proxy,
        ):
            http_proxy.add_toxic(FFSlicer(average_size=7, size_variation=3), direction="downstream")  # every response in pieces
            http_proxy.add_toxic(FFLatency(5), direction="upstream")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_proxy.port}", headers={"Authorization": f"Bearer {key}"},
                                         timeout=30) as http:  # fmt: skip
                sid = (await http.post("/v1/users/alice/sessions", json={"title": "via proxy"})).json()["session_id"]
                for n in range(5):
                    answer = await http.post(f"/v1/users/alice/sessions/{sid}/messages", json={"role": "user", "content": f"m{n}"})
                    assert answer.status_code == 201
                messages = (await http.get(f"/v1/users/alice/sessions/{sid}/messages", params={"limit": 10})).json()
                assert [m["content"] for m in messages] == [f"m{n}" for n in range(5)]
            assert http_proxy.accepted == 1  # one kept-alive connection carried all seven requests

            ws = WsClient(f"ws://127.0.0.1:{http_proxy.port}/v1/ws")
            try:
                outcome = await ws.call("memory.get_messages", {"user_id": "alice", "session_id": sid, "limit": 2}, key)
                assert outcome.ok and [m["content"] for m in outcome.result] == ["m3", "m4"]
            finally:
                await ws.close()

            tcp = TcpClient("127.0.0.1", tcp_proxy.port)
            try:
                tcp_proxy.add_toxic(FFSlicer(average_size=5), direction="upstream")  # requests arrive in pieces too
                outcome = await tcp.call("memory.add_message", {"user_id": "alice", "session_id": sid, "role": "user", "content": "t"}, key)
                assert outcome.ok and outcome.result["content"] == "t"
            finally:
                await tcp.close()
    assert {e.source for e in recorder.of("slicer")} == {"http", "tcp"}


async def test_reset_peer_breaks_a_kept_alive_http_connection(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        async with FFFaultProxy("127.0.0.1", ready.http_port, seed=2) as proxy:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{proxy.port}", headers={"Authorization": f"Bearer {key}"},
                                         timeout=10) as http:  # fmt: skip
                assert (await http.get("/v1/users/alice/sessions")).status_code == 200
                with proxy.toxic(FFResetPeer()):
                    with pytest.raises(httpx.TransportError):
                        await http.get("/v1/users/alice/sessions")
                assert (await http.get("/v1/users/alice/sessions")).status_code == 200  # a new connection works
            assert len(proxy.recorder.of("reset_peer")) >= 1


async def test_statsd_through_the_udp_proxy_loses_what_was_dropped(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config, udp=True) as (service, ready):
        key = service.create_api_key("alice").key
        async with FFUdpFaultProxy("127.0.0.1", ready.udp_port, seed=5) as proxy:
            proxy.add_fault(FFDrop(0.3))
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                for seq in range(1, 201):
                    sender.sendto(f"via.proxy:{seq}|ms|#seq:{seq}".encode(), ("127.0.0.1", proxy.port))
                    if seq % 20 == 0:
                        await asyncio.sleep(0.005)
                proxy.clear_faults()  # the last one arrives, so every drop is a gap the server can see
                sender.sendto(b"via.proxy:201|ms|#seq:201", ("127.0.0.1", proxy.port))
            finally:
                sender.close()
            delivered = 201 - proxy.stats["drop"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers={"Authorization": f"Bearer {key}"}) as http:
                for _ in range(250):
                    info = (await http.get("/v1/info")).json()
                    if info["udp"]["received"] >= delivered:
                        break
                    await asyncio.sleep(0.02)
                assert info["udp"]["received"] == delivered
                assert info["udp"]["lost"] == proxy.stats["drop"]  # the server counts the gaps in seq
                assert 40 <= proxy.stats["drop"] <= 80

