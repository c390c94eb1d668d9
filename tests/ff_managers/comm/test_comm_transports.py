"""WebSocket, UDP, HTTPS and TLS TCP through the communication manager, against real services."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers import FFCrossSystemCommunicationManager
from tests._service_clients import HttpClient
from tests.ff_managers.comm._helpers import endpoint, fast_comm, running_service


def _req(target: str, operation: str, **payload: object) -> FFCrossSystemMessageDTO:
    return FFCrossSystemMessageDTO(target_system=target, operation=operation, payload=payload)


async def test_websocket_requests_are_matched_by_id_when_many_are_in_flight(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "websocket", token))
            sids = []
            for n in range(3):
                reply = await comm.send_message(_req("ff", "memory.create_session", user_id="alice", title=f"s{n}"))
                sids.append(reply.payload["session_id"])
            writes = [_req("ff", "memory.add_message", user_id="alice", session_id=sids[n % 3], role="user", content=f"m{n}")
                      for n in range(30)]  # fmt: skip
            replies = await asyncio.gather(*(comm.send_message(m) for m in writes))
            for message, reply in zip(writes, replies, strict=True):  # each answer is its own request's
                assert reply.correlation_id == message.message_id
                assert reply.payload["content"] == message.payload["content"]
                assert reply.payload["session_id"] == message.payload["session_id"]
            handler = comm.handler(f"{ready.instance_id}-websocket")
            assert handler.pool_use()["connects"] == 1  # one multiplexed connection
            assert await handler.health()  # one ping/pong round trip


async def test_websocket_reconnects_after_the_connection_drops(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "websocket", token))
            assert (await comm.send_message(_req("ff", "memory.list_sessions", user_id="alice"))).message_type == "response"
            handler = comm.handler(f"{ready.instance_id}-websocket")
            await handler._ws.close()  # the connection goes away under the manager
            for _ in range(50):
                if not handler._connected:
                    break
                await asyncio.sleep(0.02)
            reply = await comm.send_message(_req("ff", "memory.list_sessions", user_id="alice"))
            assert reply.message_type == "response"
            assert handler.pool_use()["connects"] == 2


async def test_udp_statsd_lines_arrive_with_their_sequence(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config, udp=True) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "udp", None, group="stats"))
            comm.add_endpoint(endpoint(ready, "http", token))
            for n in range(20):
                msg = FFCrossSystemMessageDTO(message_type="notification", target_system="stats", operation="metrics.record_metric",
                                              payload={"name": "comm_test_ms", "value": n, "tags": {"op": "x"}})  # fmt: skip
                reply = await comm.send_message(msg)
                assert reply.message_type == "response" and reply.payload == {"sent": True, "seq": n + 1}
            request = _req("stats", "metrics.record_metric", name="comm_test_ms", value=1)
            refused = await comm.send_message(request)  # a request wants an answer: not over UDP
            assert refused.message_type == "error" and refused.payload["error"] == "FFUnsupportedOperationError"
            summary: Any = None
            for _ in range(100):  # datagrams are recorded asynchronously by the server
                summary = await comm.send_message(_req("ff", "metrics.get_summary", name="comm_test_ms"))
                if summary.message_type == "response" and summary.payload.get("count") == 20:
                    break
                await asyncio.sleep(0.05)
            assert summary.payload["count"] == 20 and summary.payload["max"] == 19
            info = await HttpClient(f"http://127.0.0.1:{ready.http_port}").call("metrics.get_summary", {"name": "comm_test_ms"}, token)
            assert info.ok


async def test_udp_health_tells_a_closed_port(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config, udp=True) as (_service, ready):
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "udp", None, group="stats"))
            handler = comm.handler(f"{ready.instance_id}-udp")
            assert await handler.health()
    assert not await handler.health()  # the service stopped: ICMP port unreachable
    await handler.close()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    key, chain, ca_file = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "ca.pem"
    cert.private_key_pem.write_to_path(key)
    cert.cert_chain_pems[0].write_to_path(chain)
    ca.cert_pem.write_to_path(ca_file)
    return key, chain, ca_file


@pytest.mark.parametrize("protocol", ["https", "websocket", "tcp"])
async def test_tls_transports_verify_the_server_against_the_given_ca(config: FFConfigurationManagerConfigDTO, tls_files: tuple[Path, Path, Path],
                                                                     protocol: str) -> None:  # fmt: skip
    key, chain, ca_file = tls_files
    async with running_service(config, tls=(key, chain)) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, protocol, token, tls=True, tls_verify=str(ca_file)))
            comm.add_endpoint(endpoint(ready, protocol, token, group="untrusted", system_id="no-ca", tls=True))
            reply = await comm.send_message(_req("ff", "memory.create_session", user_id="alice"))
            assert reply.message_type == "response", reply.payload
            with pytest.raises(Exception) as refused:  # the system CAs do not know the test CA
                await comm.send_message(_req("untrusted", "memory.list_sessions", user_id="alice"))
            assert type(refused.value).__name__ == "FFCommUnavailableError"
