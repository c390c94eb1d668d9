"""TTL at both ends and priority-ordered send queues, each with its planted defect shown red."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers import FFCrossSystemCommunicationManager
from ff_managers._comm.errors import FFQueueFullError
from ff_managers._comm.handlers.http import FFHttpHandler
from ff_managers._comm.router import FFMessageRouter
from ff_managers._comm.send_queue import FFPrioritySendQueue
from tests.ff_managers.comm._helpers import endpoint, fast_comm, running_service


class Wall:
    """A wall clock a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class _IgnoresTtl(FFMessageRouter):
    """Planted defect: the TTL is never checked."""

    def is_expired(self, message: FFCrossSystemMessageDTO) -> bool:
        return False


class _IgnoresTtlManager(FFCrossSystemCommunicationManager):
    router_class = _IgnoresTtl


def _add(sid: str, content: str, **fields: Any) -> FFCrossSystemMessageDTO:
    return FFCrossSystemMessageDTO(target_system="ff", operation="memory.add_message",
                                   payload={"user_id": "alice", "session_id": sid, "role": "user", "content": content}, **fields)  # fmt: skip


async def _stored(comm: FFCrossSystemCommunicationManager, sid: str) -> list[str]:
    reply = await comm.send_message(FFCrossSystemMessageDTO(target_system="ff", operation="memory.get_messages",
                                                            payload={"user_id": "alice", "session_id": sid}))  # fmt: skip
    return [m["content"] for m in reply.payload]


async def _stale_message(config: FFConfigurationManagerConfigDTO, manager: type[FFCrossSystemCommunicationManager]) -> tuple[int, bool, FFCrossSystemMessageDTO]:
    """Send a message whose TTL ran out 9 s ago: ``(attempts put on the wire for it, stored?, reply)``."""
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with manager(fast_comm(config)) as comm:
            comm.add_endpoint(endpoint(ready, "http", token))
            sid = (await comm.send_message(FFCrossSystemMessageDTO(target_system="ff", operation="memory.create_session",
                                                                   payload={"user_id": "alice"}))).payload["session_id"]  # fmt: skip
            before = comm.get_metrics()["protocols"]["http"]["sent"]
            reply = await comm.send_message(_add(sid, "stale", ttl_s=1, timestamp=datetime.now(UTC) - timedelta(seconds=10)))
            sent = comm.get_metrics()["protocols"]["http"]["sent"] - before
            assert comm.get_metrics()["expired_before_send"] == (1 - sent)
            return sent, "stale" in await _stored(comm, sid), reply


async def test_an_expired_message_is_never_sent_and_answered_with_an_error(config: FFConfigurationManagerConfigDTO) -> None:
    sent, stored, reply = await _stale_message(config, FFCrossSystemCommunicationManager)
    assert sent == 0 and not stored
    assert reply.message_type == "error" and reply.payload["error"] == "FFMessageExpiredError" and reply.payload["status"] == 504


async def test_planted_defect_a_sender_that_ignores_the_ttl_puts_the_stale_message_on_the_wire(config: FFConfigurationManagerConfigDTO) -> None:
    sent, stored, reply = await _stale_message(config, _IgnoresTtlManager)
    assert sent == 1  # the check above is red for this manager...
    assert not stored and reply.payload["error"] == "FFMessageExpiredError"  # ...and the receiving end still refuses to run it


async def test_a_reply_that_arrives_after_the_ttl_is_dropped(config: FFConfigurationManagerConfigDTO) -> None:
    wall = Wall()

    class SlowHttp(FFHttpHandler):
        async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
            reply = await super().send(message, timeout_s=timeout_s)
            wall.offset += 60  # the reply "took" a minute
            return reply

    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config), clock=wall) as comm:
            comm.register_handler("slowhttp", SlowHttp)
            comm.add_endpoint(endpoint(ready, "http", token).model_copy(update={"protocol": "slowhttp"}))
            message = FFCrossSystemMessageDTO(target_system="ff", operation="memory.list_sessions", payload={"user_id": "alice"},
                                              ttl_s=5, timestamp=datetime.fromtimestamp(wall(), UTC))  # fmt: skip
            reply = await comm.send_message(message)
            assert reply.message_type == "error" and reply.payload["error"] == "FFMessageExpiredError"
            assert reply.correlation_id == message.message_id
            assert comm.get_metrics()["protocols"]["slowhttp"]["expired"] == 1
            fresh = message.model_copy(update={"message_id": "fresh", "ttl_s": None})
            assert (await comm.send_message(fresh)).message_type == "response"  # without a TTL the same reply is kept


# ---------------------------------------------------------------- priority


class _Fifo(FFPrioritySendQueue):
    """Planted defect: the priority is ignored (first come, first served)."""

    async def acquire(self, priority: str) -> None:
        await super().acquire("normal")


async def _send_order(config: FFConfigurationManagerConfigDTO, queue_class: type[FFPrioritySendQueue]) -> list[str]:
    """Occupy the one send slot, queue five messages of rising then mixed priority, release: the order they were sent."""
    gate, order = asyncio.Event(), []

    class GatedHttp(FFHttpHandler):
        async def send(self, message: FFCrossSystemMessageDTO, *, timeout_s: float) -> FFCrossSystemMessageDTO:
            order.append(message.payload.get("content", "-"))
            await gate.wait()
            return await super().send(message, timeout_s=timeout_s)

    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config, pool_max_connections=1)) as comm:
            comm._directory.queue_class = queue_class
            comm.register_handler("gated", GatedHttp)
            comm.add_endpoint(endpoint(ready, "http", token).model_copy(update={"protocol": "gated"}))
            gate.set()
            sid = (await comm.send_message(FFCrossSystemMessageDTO(target_system="ff", operation="memory.create_session",
                                                                   payload={"user_id": "alice"}))).payload["session_id"]  # fmt: skip
            gate.clear()
            order.clear()
            first = asyncio.create_task(comm.send_message(_add(sid, "blocker")))
            while not order:
                await asyncio.sleep(0.005)
            tasks = [first]
            for priority in ("low", "normal", "emergency", "high", "critical"):
                tasks.append(asyncio.create_task(comm.send_message(_add(sid, priority, priority=priority))))
                await asyncio.sleep(0)
            queue = comm._directory.queue(comm.endpoints()[0])
            while queue.waiting < 5:
                await asyncio.sleep(0.005)
            gate.set()
            replies = await asyncio.gather(*tasks)
            assert all(r.message_type == "response" for r in replies)
            return order


async def test_queued_messages_go_out_emergency_first(config: FFConfigurationManagerConfigDTO) -> None:
    assert await _send_order(config, FFPrioritySendQueue) == ["blocker", "emergency", "critical", "high", "normal", "low"]


async def test_planted_defect_an_ignored_priority_sends_in_arrival_order(config: FFConfigurationManagerConfigDTO) -> None:
    assert await _send_order(config, _Fifo) == ["blocker", "low", "normal", "emergency", "high", "critical"]


async def test_a_full_queue_refuses_the_lowest_priority_with_a_typed_error() -> None:
    queue = FFPrioritySendQueue(capacity=1, max_waiting=2, name="e")
    await queue.acquire("normal")  # the slot is taken
    low = asyncio.create_task(queue.acquire("low"))
    normal = asyncio.create_task(queue.acquire("normal"))
    await asyncio.sleep(0)
    with pytest.raises(FFQueueFullError):  # not more urgent than the least urgent waiting
        await queue.acquire("low")
    urgent = asyncio.create_task(queue.acquire("emergency"))  # takes the place of "low"
    await asyncio.sleep(0)
    with pytest.raises(FFQueueFullError):
        await low
    queue.release()
    await urgent
    assert not normal.done()
    queue.release()
    await normal
    queue.release()
    assert queue.in_use == 0 and queue.refused == 2


async def test_a_message_whose_ttl_runs_out_in_the_queue_is_never_sent() -> None:
    queue = FFPrioritySendQueue(capacity=1, max_waiting=10)
    await queue.acquire("normal")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await queue.acquire("high")
    assert queue.waiting == 0
    queue.release()
    assert queue.in_use == 0  # the slot went back to the pool, not to the waiter that left


@pytest.mark.parametrize("seed", range(20))
async def test_the_queue_keeps_its_counts_under_random_arrivals_cancellations_and_releases(seed: int) -> None:
    import random

    rng = random.Random(seed)
    queue = FFPrioritySendQueue(capacity=3, max_waiting=5)
    holders: list[asyncio.Task[None]] = []
    granted = 0
    for _ in range(200):
        action = rng.random()
        if action < 0.5:
            holders.append(asyncio.create_task(queue.acquire(rng.choice(["low", "normal", "high", "critical", "emergency"]))))
        elif action < 0.7 and holders:
            rng.choice(holders).cancel()
        elif granted > 0:
            queue.release()
            granted -= 1
        for _ in range(4):  # let every task whose turn came run to its next wait
            await asyncio.sleep(0)
        done = [t for t in holders if t.done()]
        for task in done:
            holders.remove(task)
            if not task.cancelled() and task.exception() is None:
                granted += 1
        live = sum(1 for t in holders if not t.done())
        assert queue.waiting == live
        assert queue.in_use == granted <= queue.capacity
    for task in holders:
        task.cancel()
    await asyncio.gather(*holders, return_exceptions=True)


@pytest.mark.parametrize("protocol", ["http", "tcp", "websocket"])
async def test_the_receiving_service_refuses_a_message_that_expired_on_the_way(config: FFConfigurationManagerConfigDTO, protocol: str) -> None:
    """The receiving end of the TTL: the client's clock lags (it sends), the service's says expired (it does not run it)."""
    lagging = Wall()
    lagging.offset = -100.0
    async with running_service(config) as (service, ready):
        token = service.create_api_key("alice").key
        async with FFCrossSystemCommunicationManager(fast_comm(config), clock=lagging) as comm:
            comm.add_endpoint(endpoint(ready, protocol, token))
            sid = (await comm.send_message(FFCrossSystemMessageDTO(target_system="ff", operation="memory.create_session",
                                                                   payload={"user_id": "alice"}))).payload["session_id"]  # fmt: skip
            stale = _add(sid, "late", ttl_s=10, timestamp=datetime.now(UTC) - timedelta(seconds=50))  # expired 40 s ago, real time
            reply = await comm.send_message(stale)
            assert reply.message_type == "error" and reply.payload["error"] == "FFMessageExpiredError", reply.payload
            assert "late" not in await _stored(comm, sid)
            assert comm.get_metrics()["protocols"][protocol]["sent"] >= 2  # it did go on the wire: the service refused it
            assert comm.get_metrics()["protocols"][protocol]["retries"] == 0
            assert [row.consecutive_failures for row in comm.get_system_status()] == [0]
