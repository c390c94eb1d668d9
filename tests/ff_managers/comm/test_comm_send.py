"""send_message over HTTP and TCP against real services: replies, errors, isolation, failover."""

from __future__ import annotations

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers import FFCrossSystemCommunicationManager
from ff_managers.ff_cross_system_communication_manager import FFCommUnavailableError
from tests.ff_managers.comm._helpers import endpoint, fast_comm, running_service, two_services


def _req(target: str, operation: str, **payload: object) -> FFCrossSystemMessageDTO:
    return FFCrossSystemMessageDTO(target_system=target, operation=operation, payload=payload)


@pytest.mark.parametrize("protocol", ["http", "tcp"])
async def test_a_session_and_its_messages_round_trip(config: FFConfigurationManagerConfigDTO, protocol: str) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, protocol, token))
            created = await comm.send_message(_req("ff", "memory.create_session", user_id="alice", title="t"))
            assert created.message_type == "response", created.payload
            assert created.correlation_id is not None
            sid = created.payload["session_id"]
            for n in range(3):
                reply = await comm.send_message(_req("ff", "memory.add_message", user_id="alice", session_id=sid, role="user", content=f"m{n}"))
                assert reply.message_type == "response", reply.payload
            listed = await comm.send_message(_req("ff", "memory.get_messages", user_id="alice", session_id=sid, limit=10))
            assert [m["content"] for m in listed.payload] == ["m0", "m1", "m2"]
            metrics = comm.get_metrics()
            assert metrics["protocols"][protocol]["sent"] == 5
            assert metrics["protocols"][protocol]["latency_ms"]["p50"] is not None


@pytest.mark.parametrize("protocol", ["http", "tcp"])
async def test_errors_come_back_as_error_replies_with_the_class_name(config: FFConfigurationManagerConfigDTO, protocol: str) -> None:
    async with running_service(config) as (service, ready):
        alice, bob = service.create_api_key("alice").key, service.create_api_key("bob").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, protocol, alice, group="as-alice"))
            comm.add_endpoint(endpoint(ready, protocol, bob, group="as-bob", system_id="bob-endpoint"))
            bob_sid = (await comm.send_message(_req("as-bob", "memory.create_session", user_id="bob"))).payload["session_id"]
            await comm.send_message(_req("as-bob", "memory.add_message", user_id="bob", session_id=bob_sid, role="user", content="secret"))
            # alice's token never reads bob's data, whatever the path says
            stolen = await comm.send_message(_req("as-alice", "memory.get_messages", user_id="bob", session_id=bob_sid))
            assert stolen.message_type == "error"
            assert stolen.payload["error"] == "FFNotFoundError" and stolen.payload["status"] == 404
            assert "secret" not in str(stolen.payload)
            bad = await comm.send_message(_req("as-alice", "memory.create_session", user_id="alice", title=5))
            assert bad.message_type == "error" and bad.payload["status"] == 422 and bad.payload["error"] == "FFValidationError"
            # a 4xx is the caller's problem: answered once, the endpoint stays healthy
            assert all(row.state == "healthy" and row.consecutive_failures == 0 for row in comm.get_system_status())


async def test_a_wrong_token_is_an_error_reply_not_a_transport_failure(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (_service, ready):
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "tcp", "not-a-key"))
            reply = await comm.send_message(_req("ff", "memory.list_sessions", user_id="alice"))
            assert reply.message_type == "error" and reply.payload["status"] == 401


@pytest.mark.parametrize("protocol", ["http", "tcp"])
async def test_a_read_fails_over_to_the_second_instance_when_the_first_is_stopped(config: FFConfigurationManagerConfigDTO, protocol: str) -> None:
    async with two_services(config) as ((service_a, ready_a), (_service_b, ready_b)):
        token = service_a.create_api_key("alice").key  # one data root: the key works on both
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready_a, protocol, token))
            comm.add_endpoint(endpoint(ready_b, protocol, token))
            sid = (await comm.send_message(_req("ff", "memory.create_session", user_id="alice"))).payload["session_id"]
            await service_a.stop()
            answered_by = set()
            for _ in range(6):
                reply = await comm.send_message(_req("ff", "memory.get_messages", user_id="alice", session_id=sid))
                assert reply.message_type == "response", reply.payload
                answered_by.add(reply.source_system)
            assert answered_by == {f"ff-b-{protocol}"}


async def test_no_endpoint_that_answers_raises_a_typed_error(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
    # the service is stopped: nothing listens on its ports any more
    async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
        comm.add_endpoint(endpoint(ready, "http", token))
        with pytest.raises(FFCommUnavailableError):
            await comm.send_message(_req("ff", "memory.list_sessions", user_id="alice"))


async def test_endpoints_from_ready_files_reach_every_transport(config: FFConfigurationManagerConfigDTO) -> None:
    from ff_managers.ff_cross_system_communication_manager import ff_endpoints_from_ready

    async with two_services(config) as ((service_a, ready_a), (_b, ready_b)):
        token = service_a.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            for protocol in ("http", "tcp", "websocket"):
                for item in ff_endpoints_from_ready([ready_a, ready_b.model_dump()], group=f"ff-{protocol}", token=token, protocol=protocol):
                    comm.add_endpoint(item)
            assert len(comm.endpoints()) == 6
            for protocol in ("http", "tcp", "websocket"):
                replies = await comm.broadcast_message(_req(f"ff-{protocol}", "memory.list_sessions", user_id="alice"))
                assert len(replies) == 2 and all(r.message_type == "response" for r in replies), [r.payload for r in replies]


async def test_updating_an_endpoints_address_moves_its_connections(config: FFConfigurationManagerConfigDTO) -> None:
    async with two_services(config) as ((service_a, ready_a), (_b, ready_b)):
        token = service_a.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready_a, "tcp", token, system_id="moving"))
            assert (await comm.send_message(_req("moving", "memory.list_sessions", user_id="alice"))).message_type == "response"
            await service_a.stop()
            comm.add_endpoint(endpoint(ready_b, "tcp", token, system_id="moving"))  # "restarted" at B's address
            reply = await comm.send_message(_req("moving", "memory.list_sessions", user_id="alice"))
            assert reply.message_type == "response", reply.payload


async def test_a_heartbeat_is_a_health_check_of_the_target(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        comm = FFCrossSystemCommunicationManager(fast_comm(config))  # not opened: no background checks
        comm.add_endpoint(endpoint(ready, "tcp", token))
        beat = FFCrossSystemMessageDTO(message_type="heartbeat", target_system="ff")
        reply = await comm.send_message(beat)
        assert reply.message_type == "response" and reply.payload == {"healthy": True} and reply.correlation_id == beat.message_id
        await service.stop()
        assert (await comm.send_message(beat)).payload == {"healthy": False}
        await comm.close()


@pytest.mark.parametrize("protocol", ["http", "tcp", "websocket"])
async def test_a_payload_json_cannot_hold_is_the_callers_error_not_the_endpoints(config: FFConfigurationManagerConfigDTO, protocol: str) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, protocol, token))
            reply = await comm.send_message(_req("ff", "memory.create_session", user_id="alice", title=2**70))
            assert reply.message_type == "error" and reply.payload["status"] == 422 and reply.payload["error"] == "FFValidationError"
            metrics = comm.get_metrics()["protocols"].get(protocol, {})
            assert metrics.get("failures", 0) == 0 and metrics.get("retries", 0) == 0
            assert [row.consecutive_failures for row in comm.get_system_status()] == [0]
