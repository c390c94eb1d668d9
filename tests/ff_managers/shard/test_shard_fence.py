"""The per-user write fence: a freeze waits for the writes in flight, then every write sees it; the service honours it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ff_class_configs import FFConfigurationManagerConfigDTO
from ff_managers._shard.errors import FFUserFrozenError, FFUserMovedError
from ff_managers._shard.fence import FFUserFence
from tests._service_clients import running_service


async def _held_write_blocks_a_freeze(fence: FFUserFence) -> bool:
    """True when ``set`` waited for a write that held the guard (the only safe outcome)."""
    done = threading.Event()
    async with fence.write_guard("alice"):
        setter = threading.Thread(target=lambda: (fence.set("alice", "frozen"), done.set()))
        setter.start()
        await asyncio.sleep(0.3)  # ample time for a set() that does not wait to finish
        finished_early = done.is_set()
    await asyncio.to_thread(setter.join, 30)
    return not finished_early and done.is_set()


class _UnlockedFence(FFUserFence):
    """Planted defect: the guard checks the document but holds no lock, so a freeze cannot wait for it."""

    @contextlib.asynccontextmanager
    async def write_guard(self, user_id: str) -> AsyncIterator[None]:
        fence = self.state(user_id)
        if fence is not None:
            raise FFUserFrozenError("frozen")
        yield


async def test_a_freeze_waits_for_the_writes_in_flight_then_refuses_writes(tmp_path: Path) -> None:
    fence = FFUserFence(tmp_path)
    assert await _held_write_blocks_a_freeze(fence)
    with pytest.raises(FFUserFrozenError) as frozen:
        async with fence.write_guard("alice"):
            pass
    assert frozen.value.retry_after == 1
    fence.check_read("alice")  # a frozen user still reads: the data is complete
    async with fence.write_guard("bob"):  # another user, maybe in the same bucket, writes on
        pass
    fence.set("alice", "incoming")
    with pytest.raises(FFUserFrozenError):
        fence.check_read("alice")
    fence.set("alice", "moved", owner="s2")
    with pytest.raises(FFUserMovedError) as moved:
        fence.check_read("alice")
    assert moved.value.owner == "s2"
    fence.clear("alice")
    async with fence.write_guard("alice"):
        pass


async def test_the_planted_unlocked_guard_lets_a_freeze_pass_a_write_in_flight(tmp_path: Path) -> None:
    assert not await _held_write_blocks_a_freeze(_UnlockedFence(tmp_path))


async def test_the_service_answers_503_while_frozen_and_421_after_the_move(config: FFConfigurationManagerConfigDTO) -> None:
    async with running_service(config) as (service, ready):
        key = service.create_api_key("alice").key
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ready.http_port}", headers=headers, trust_env=False) as http:
            session = (await http.post("/v1/users/alice/sessions", json={"title": "t"})).json()["session_id"]
            messages = f"/v1/users/alice/sessions/{session}/messages"
            assert (await http.post(messages, json={"role": "user", "content": "before", "message_id": "m1"})).status_code == 201
            fence = FFUserFence(config.storage.base_path)
            await asyncio.to_thread(fence.set, "alice", "frozen")
            refused = await http.post(messages, json={"role": "user", "content": "during", "message_id": "m2"})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert refused.json()["error"] == "FFUserFrozenError"
            listed = await http.get(messages)
            assert listed.status_code == 200 and [m["content"] for m in listed.json()] == ["before"]
            await asyncio.to_thread(fence.set, "alice", "moved", owner="s2")
            gone = await http.get(messages)
            assert gone.status_code == 421 and gone.json()["error"] == "FFUserMovedError"
            await asyncio.to_thread(fence.clear, "alice")
            assert (await http.post(messages, json={"role": "user", "content": "after", "message_id": "m2"})).status_code == 201
