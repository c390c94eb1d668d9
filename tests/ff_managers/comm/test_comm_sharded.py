"""Sharded mode: three services, each on its own data root; every user's requests go to its owner only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any


from ff_class_configs import load_config
from ff_class_configs.ff_comm_dtos import FFCrossSystemMessageDTO
from ff_managers import FFCrossSystemCommunicationManager, FFServiceManager, FFShardManager
from ff_managers.ff_cross_system_communication_manager import FFShardRouting, FFShardUnavailableError
from ff_managers.ff_shard_manager import FFShardTable, FFUserFence
from tests.ff_managers.comm._helpers import fast_comm

SHARDS = ("s1", "s2", "s3")


@contextlib.asynccontextmanager
async def three_shards(tmp_path: Path, *, table_url: bool = False) -> AsyncIterator[dict[str, Any]]:
    """Three services (free ports, own roots), a routing table naming them, their admin keys."""
    services: dict[str, Any] = {}
    try:
        for sid in SHARDS:
            # Readiness also reports event-loop lag; three services share this test's loop, and on a
            # loaded machine a lag past 500 ms took a healthy shard out of rotation (seen at load 16).
            # Routing is under test here, not lag, so the lag bound is out of reach.
            environ = {"FF_SERVICE__MAX_LOOP_LAG_MS": "60000"}
            service = FFServiceManager(load_config(base_path=tmp_path / sid, environ=environ), instance_id=f"ff-{sid}")
            services[sid] = (service, await asyncio.wait_for(service.start(host="127.0.0.1", http_port=0, tcp_port=None, udp_port=None), 30))
        routing = FFShardManager(tmp_path / "routing.json")
        routing.create_table({sid: {"url": f"http://127.0.0.1:{ready.http_port}", "data_root": str(tmp_path / sid)}
                              for sid, (_s, ready) in services.items()})  # fmt: skip
        yield {"services": services, "routing": routing, "roots": {sid: tmp_path / sid for sid in SHARDS},
               "tokens": {sid: service.create_api_key("ops", ["admin"]).key for sid, (service, _r) in services.items()}}  # fmt: skip
    finally:
        for service, _ready in services.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(service.stop(), 60)


def client(tmp_path: Path, shards: dict[str, Any], *, manager_class: type = FFCrossSystemCommunicationManager, **comm: Any) -> Any:
    config = fast_comm(load_config(base_path=tmp_path / "client", environ={}), eject_consecutive_failures=1)
    config.comm.shard_routing = comm.pop("shard_routing", str(shards["routing"].routing))
    for key, value in comm.items():
        setattr(config.comm, key, value)
    return manager_class(config, shard_tokens=shards["tokens"])


def request(operation: str, **payload: Any) -> FFCrossSystemMessageDTO:
    return FFCrossSystemMessageDTO(target_system="shards", operation=operation, payload=payload)


async def write_user(comm: Any, user: str, messages: int = 2) -> list[str]:
    """A session and ``messages`` messages for ``user``; the endpoints that answered."""
    created = await comm.send_message(request("memory.create_session", user_id=user, title="t"))
    assert created.message_type == "response", created.payload
    answered = [created.headers["endpoint"]]
    for n in range(messages):
        reply = await comm.send_message(request("memory.add_message", user_id=user, session_id=created.payload["session_id"],
                                                role="user", content=f"{user}-{n}", message_id=f"{user}-{n}"))  # fmt: skip
        assert reply.message_type == "response", reply.payload
        answered.append(reply.headers["endpoint"])
    return answered


def users_of(root: Path) -> dict[str, int]:
    users = root / "users"
    return {p.name: sum(1 for f in p.rglob("*") if f.is_file()) for p in users.iterdir()} if users.is_dir() else {}


async def test_every_request_of_a_user_goes_to_its_owner(tmp_path: Path) -> None:
    async with three_shards(tmp_path) as shards, client(tmp_path, shards) as comm:
        table: FFShardTable = shards["routing"].table()
        users = [f"user{n}" for n in range(24)]
        for user in users:
            assert set(await write_user(comm, user)) == {table.owner(user)}
        for sid, root in shards["roots"].items():
            assert set(users_of(root)) == {u for u in users if table.owner(u) == sid}
        assert {table.owner(u) for u in users} == set(SHARDS)  # the ring spreads them
        health = await comm.send_message(request("metrics.get_summary", name="nothing"))  # no user: any shard answers
        assert health.headers["endpoint"] in SHARDS


class _FallbackRouting(FFShardRouting):
    """Planted defect: when the owner is out, the next shard on the ring takes the request."""

    def choose_owner(self, table: FFShardTable, user_id: str) -> str:
        owner = table.owner(user_id)
        pool, _ = self.directory.resolve(owner)
        return owner if pool.available(owner) else next(s for s in table._ring.ring_order(user_id) if pool.available(s))


class _FallbackManager(FFCrossSystemCommunicationManager):
    sharding_class = _FallbackRouting


async def _owner_down_violations(tmp_path: Path, manager_class: type) -> list[str]:
    """Stop a user's owner and write to the user twice; what went wrong (nothing, when routing is right)."""
    problems: list[str] = []
    async with three_shards(tmp_path) as shards, client(tmp_path, shards, manager_class=manager_class) as comm:
        table: FFShardTable = shards["routing"].table()
        user = next(f"user{n}" for n in range(100) if table.owner(f"user{n}") == "s1")
        await write_user(comm, user, messages=1)
        before = {sid: users_of(shards["roots"][sid]) for sid in ("s2", "s3")}
        await shards["services"]["s1"][0].stop()
        for attempt in range(2):  # the first finds it down (transport), the second knows it is out (ejected)
            try:
                reply = await comm.send_message(request("memory.create_session", user_id=user, title=f"while down {attempt}"))
                problems.append(f"attempt {attempt} answered by {reply.headers.get('endpoint')}")
            except FFShardUnavailableError as exc:
                if exc.context.get("owner") != "s1":
                    problems.append(f"wrong owner in the error: {exc.context}")
        after = {sid: users_of(shards["roots"][sid]) for sid in ("s2", "s3")}
        if after != before:
            problems.append(f"another shard was written: {before} -> {after}")
        other = next(f"user{n}" for n in range(100) if table.owner(f"user{n}") == "s2")
        assert set(await write_user(comm, other, messages=1)) == {"s2"}  # the other shards serve their own users
    return problems


async def test_owner_down_is_a_typed_error_and_no_other_shard_is_touched(tmp_path: Path) -> None:
    assert await _owner_down_violations(tmp_path / "right", FFCrossSystemCommunicationManager) == []


async def test_the_planted_fallback_to_another_shard_is_caught(tmp_path: Path) -> None:
    problems = await _owner_down_violations(tmp_path / "planted", _FallbackManager)
    assert any("another shard was written" in p for p in problems), problems


async def test_a_frozen_user_gets_a_retryable_503_and_the_shard_stays_in(tmp_path: Path) -> None:
    async with three_shards(tmp_path) as shards, client(tmp_path, shards) as comm:
        table: FFShardTable = shards["routing"].table()
        await write_user(comm, "alice", messages=0)
        owner = table.owner("alice")
        await asyncio.to_thread(FFUserFence(shards["roots"][owner]).set, "alice", "frozen")
        for _ in range(3):
            reply = await comm.send_message(request("memory.create_session", user_id="alice", title="frozen"))
            assert reply.payload["error"] == "FFUserFrozenError" and reply.payload["status"] == 503 and reply.payload["retry_after"] == 1
        row = next(r for r in comm.get_system_status() if r.system_id == owner)
        assert row.state == "healthy" and row.ejections == 0 and row.breaker == "closed"
        await asyncio.to_thread(FFUserFence(shards["roots"][owner]).clear, "alice")
        assert (await comm.send_message(request("memory.create_session", user_id="alice", title="thawed"))).message_type == "response"


async def _serve_file(path: Path) -> Any:
    """A loopback HTTP server answering every GET with the file (the routing table by URL)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = path.read_bytes()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_a_stale_table_meets_the_tombstone_and_follows_the_user(tmp_path: Path) -> None:
    async with three_shards(tmp_path) as shards:
        server = await _serve_file(shards["routing"].routing)
        try:
            url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/routing.json"
            async with client(tmp_path, shards, shard_routing=url, shard_reload_s=600) as comm:
                table: FFShardTable = shards["routing"].table()
                user = next(f"user{n}" for n in range(100) if table.owner(f"user{n}") == "s1")
                await write_user(comm, user, messages=1)
                await asyncio.to_thread(shards["routing"].move_user, user, str(shards["roots"]["s1"]), str(shards["roots"]["s3"]))
                assert comm.sharding.table.owner(user) == "s1"  # the client has not re-read the table (600 s)
                reply = await comm.send_message(request("memory.list_sessions", user_id=user))
                assert reply.message_type == "response" and reply.headers["endpoint"] == "s3" and len(reply.payload) == 1
                assert comm.sharding.table.owner(user) == "s3"
        finally:
            server.close()
            await server.wait_closed()
