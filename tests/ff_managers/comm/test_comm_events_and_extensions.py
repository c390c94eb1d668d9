"""Event streams across a failover, a user's own protocol handler, metrics through FFMetricsCollectionManager, status."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO, FFEndpointDTO
from ff_managers import FFCrossSystemCommunicationManager, FFMetricsCollectionManager
from ff_managers.ff_cross_system_communication_manager import FFHandlerContext, FFProtocolHandler
from ff_utils.ff_errors import FFConflictError
from tests._service_clients import HttpClient
from tests.ff_managers.comm._helpers import endpoint, fast_comm, running_service, two_services


async def _write(ready: Any, token: str, sid: str | None, content: str, user: str = "alice") -> str:
    client = HttpClient(f"http://127.0.0.1:{ready.http_port}")
    try:
        if sid is None:
            sid = (await client.call("memory.create_session", {"user_id": user}, token)).result["session_id"]
        outcome = await client.call("memory.add_message", {"user_id": user, "session_id": sid, "role": "user", "content": content}, token)
        assert outcome.ok, outcome
        return sid
    finally:
        await client.close()


async def _next_message_event(stream: Any) -> FFCrossSystemMessageDTO:
    async with asyncio.timeout(20):
        while True:
            event = await stream.next()
            if event.operation in ("memory.message_added", "events.gap"):
                return event


async def test_an_event_stream_fails_over_and_resumes_on_the_other_instance(config: FFConfigurationManagerConfigDTO) -> None:
    async with two_services(config) as ((service_a, ready_a), (service_b, ready_b)):
        token = service_a.create_api_key("alice").key
        other = service_a.create_api_key("bob").key
        ready = {ready_a.instance_id: (service_a, ready_a), ready_b.instance_id: (service_b, ready_b)}
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready_a, "websocket", token, group="ws"))
            comm.add_endpoint(endpoint(ready_b, "websocket", token, group="ws"))
            async with comm.subscribe_events("ws", ["memory.*"]) as stream:
                first_id = stream.endpoint.system_id.removesuffix("-websocket")
                service, first = ready[first_id]
                (_, second) = next(v for k, v in ready.items() if k != first_id)
                sid = await _write(first, token, None, "before")
                await _write(first, other, None, "bob's, never seen", user="bob")
                seen = await _next_message_event(stream)
                assert seen.headers["user_id"] == "alice"  # only the token's own user's events
                offset_before = stream.last_offset
                await service.stop()  # the instance the stream is on goes away
                await _write(second, token, sid, "after")
                events = [await _next_message_event(stream)]
                if events[0].operation == "events.gap":  # the other instance cannot resume from the first one's offset:
                    assert events[0].headers["after"] == str(offset_before)  # the consumer is told, and sees what follows
                    await _write(second, token, sid, "after the gap")
                    events.append(await _next_message_event(stream))
                assert events[-1].operation == "memory.message_added" and events[-1].headers["user_id"] == "alice"
                assert stream.failovers == 1
                assert stream.endpoint.system_id == f"{second.instance_id}-websocket"


async def test_a_stream_resumes_after_the_last_offset_it_gave(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "websocket", token, group="ws"))
            async with comm.subscribe_events("ws", ["memory.message_added"]) as stream:
                sid = await _write(ready, token, None, "m0")
                for n in (1, 2):
                    await _write(ready, token, sid, f"m{n}")
                got = [await _next_message_event(stream) for _ in range(3)]
            offsets = [int(e.headers["offset"]) for e in got]
            await _write(ready, token, sid, "m3")
            async with comm.subscribe_events("ws", ["memory.message_added"], after=offsets[0]) as again:
                resumed = [await _next_message_event(again) for _ in range(3)]
            assert [int(e.headers["offset"]) for e in resumed][:2] == offsets[1:]  # nothing lost, nothing repeated
            assert len({e.headers["offset"] for e in resumed}) == 3


class _Loopback(FFProtocolHandler):
    """A user's protocol: answers every request with its own payload (no network)."""

    protocol = "loop"

    async def connect(self) -> None:
        return None

    async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
        from ff_managers._comm.message import ff_response_reply

        return ff_response_reply(message, {"echo": message.payload}, endpoint=self.endpoint, status=200, now=self.context.clock())

    async def close(self) -> None:
        return None

    async def health(self) -> bool:
        return True


async def test_a_users_own_handler_gets_routing_metrics_and_status(config: FFConfigurationManagerConfigDTO) -> None:
    metrics = FFMetricsCollectionManager(config)
    await metrics.initialize()
    try:
        async with FFCrossSystemCommunicationManager(fast_comm(config), metrics=metrics) as comm:
            comm.register_handler("loop", lambda endpoint, context: _Loopback(endpoint, context))
            with pytest.raises(FFConflictError):
                comm.register_handler("http", lambda endpoint, context: _Loopback(endpoint, context))
            for n in range(2):
                comm.add_endpoint(FFEndpointDTO(system_id=f"loop-{n}", group="loops", protocol="loop", port=1))
            replies = [await comm.send_message(FFCrossSystemMessageDTO(target_system="loops", operation="memory.list_sessions",
                                                                       payload={"user_id": "alice", "n": n})) for n in range(10)]  # fmt: skip
            assert [r.payload["echo"]["n"] for r in replies] == list(range(10))
            assert {r.source_system for r in replies} == {"loop-0", "loop-1"}  # balanced over both
            status = comm.get_system_status()
            assert [(s.system_id, s.group, s.state) for s in status] == [("loop-0", "loops", "healthy"), ("loop-1", "loops", "healthy")]
            snapshot = comm.get_metrics()
            assert snapshot["protocols"]["loop"]["sent"] == 10 and snapshot["protocols"]["loop"]["received"] == 10
            assert sum(snapshot["endpoints"][f"loop-{n}"]["sent"] for n in range(2)) == 10
            await comm.disconnect_system("loop-0")
            assert {s.system_id: s.state for s in comm.get_system_status()}["loop-0"] == "disconnected"
            reply = await comm.send_message(FFCrossSystemMessageDTO(target_system="loops", operation="memory.list_sessions", payload={}))
            assert reply.source_system == "loop-1"
            await comm.connect_system("loop-0")
            comm.remove_endpoint("loop-1")
            assert [s.system_id for s in comm.get_system_status()] == ["loop-0"]
        summary = await metrics.get_summary("comm.latency_ms")  # flushed on close
        assert summary.count == 11
    finally:
        await metrics.shutdown()


def test_a_handler_context_is_what_a_factory_gets() -> None:
    assert {"config", "catalogue", "clock"} <= set(FFHandlerContext.__dataclass_fields__)


async def test_consistent_hash_keeps_a_user_on_one_endpoint_and_broadcast_reaches_all(config: FFConfigurationManagerConfigDTO) -> None:
    async with FFCrossSystemCommunicationManager(fast_comm(config, balance_policy="consistent_hash")) as comm:
        comm.register_handler("loop", lambda endpoint, context: _Loopback(endpoint, context))
        for n in range(3):
            comm.add_endpoint(FFEndpointDTO(system_id=f"loop-{n}", group="loops", protocol="loop", port=1))
        owners: dict[str, set[str]] = {}
        for user in [f"user{n}" for n in range(12)] * 3:
            reply = await comm.send_message(FFCrossSystemMessageDTO(target_system="loops", operation="memory.list_sessions",
                                                                    payload={"user_id": user}))  # fmt: skip
            owners.setdefault(user, set()).add(reply.source_system)
        assert all(len(endpoints) == 1 for endpoints in owners.values())  # a user always lands on the same endpoint
        assert len(set().union(*owners.values())) > 1  # and users are spread
        replies = await comm.broadcast_message(FFCrossSystemMessageDTO(target_system="loops", operation="memory.list_sessions",
                                                                       payload={"user_id": "x"}))  # fmt: skip
        assert sorted(r.source_system for r in replies) == ["loop-0", "loop-1", "loop-2"]
